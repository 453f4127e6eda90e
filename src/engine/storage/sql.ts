// A thin layer over one sql.js Database: cached prepared statements and typed rows.
import type { Database, SqlValue, Statement } from "sql.js";

/** A value that can be bound to a statement parameter. */
export type SqlParam = SqlValue;
export type Row = Record<string, SqlValue>;

/** Read access, as handed to code that queries the store's tables. */
export interface SqlReader {
  all<T = Row>(sql: string, params?: readonly SqlParam[]): T[];
  get<T = Row>(sql: string, params?: readonly SqlParam[]): T | undefined;
}

/** Write access, only ever handed out inside `Store.write` (which journals every statement). */
export interface SqlWriter extends SqlReader {
  /** Runs one statement; returns the number of rows it inserted, updated or deleted. */
  run(sql: string, params?: readonly SqlParam[]): number;
}

// Statements are compiled once and reused; the bound keeps ad-hoc SQL from other modules from
// growing the cache without limit.
const MAX_CACHED_STATEMENTS = 256;

// The database lives in sql.js' in-memory file system, so SQLite's own rollback journal is pure
// overhead (MEMORY keeps it in RAM; ROLLBACK still works), and a larger page cache avoids
// re-reading pages through the emulated file layer. Re-applied after every export(), which
// reopens the connection.
const CONNECTION_PRAGMAS = "PRAGMA journal_mode=MEMORY; PRAGMA cache_size=-65536;";

export class SqlConnection implements SqlReader {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Database) {
    db.exec(CONNECTION_PRAGMAS);
  }

  /** Runs a script of one or more statements without parameters (DDL, BEGIN/COMMIT). */
  exec(script: string): void {
    this.db.exec(script);
  }

  run(sql: string, params: readonly SqlParam[] = []): number {
    const stmt = this.statement(sql);
    try {
      stmt.bind(params as SqlValue[]);
      stmt.step();
    } finally {
      stmt.reset();
    }
    return this.db.getRowsModified();
  }

  all<T = Row>(sql: string, params: readonly SqlParam[] = []): T[] {
    const stmt = this.statement(sql);
    const rows: T[] = [];
    try {
      stmt.bind(params as SqlValue[]);
      while (stmt.step()) rows.push(stmt.getAsObject() as T);
    } finally {
      stmt.reset();
    }
    return rows;
  }

  get<T = Row>(sql: string, params: readonly SqlParam[] = []): T | undefined {
    const stmt = this.statement(sql);
    try {
      stmt.bind(params as SqlValue[]);
      return stmt.step() ? (stmt.getAsObject() as T) : undefined;
    } finally {
      stmt.reset();
    }
  }

  /** The whole database file. Must not be called inside a transaction (sql.js closes the connection). */
  export(): Uint8Array {
    // export() frees every prepared statement and reopens the connection.
    this.statements.clear();
    const bytes = this.db.export();
    this.db.exec(CONNECTION_PRAGMAS);
    return bytes;
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }

  private statement(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (stmt) return stmt;
    stmt = this.db.prepare(sql);
    this.statements.set(sql, stmt);
    if (this.statements.size > MAX_CACHED_STATEMENTS) {
      // Evict the oldest: hot statements that go are simply prepared again.
      const [oldestSql, oldest] = this.statements.entries().next().value as [string, Statement];
      this.statements.delete(oldestSql);
      oldest.free();
    }
    return stmt;
  }
}
