// Schema migrations. To add tables or columns, APPEND a migration with the next version; never edit,
// reorder or remove one that has shipped: existing databases have already run it.
//
// Migrations are not journaled. They run when a store opens, after the snapshot and journal have
// been loaded (journal statements were recorded against the snapshot's schema), and a writer then
// takes a snapshot at once, so the journal never mixes schema versions. A migration must therefore
// be deterministic (no random(), no clock).
import type { SqlConnection } from "./sql";
import { StoreError } from "./errors";

export interface Migration {
  version: number;
  name: string;
  up: string | ((db: SqlConnection) => void);
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "runs, run tags and the event log",
    up: `
      CREATE TABLE runs (
        storage_id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- creation order: the queue's FIFO key
        run_id                TEXT NOT NULL UNIQUE,
        job_name              TEXT NOT NULL,
        status                TEXT NOT NULL,
        tags                  TEXT NOT NULL,  -- JSON object; mirrored row by row in run_tags for filtering
        run_config            TEXT NOT NULL,  -- JSON
        op_selection          TEXT,           -- JSON array or NULL (whole job)
        step_keys_to_execute  TEXT,           -- JSON array or NULL
        asset_selection       TEXT,           -- JSON array or NULL
        meta                  TEXT NOT NULL,  -- JSON object of engine facts (queue reason, worker pid, ...)
        parent_run_id         TEXT,
        root_run_id           TEXT,
        create_time           REAL NOT NULL,  -- milliseconds since the epoch, like every time below
        update_time           REAL NOT NULL,
        start_time            REAL,
        end_time              REAL
      );
      CREATE INDEX runs_by_job ON runs (job_name, storage_id);
      CREATE INDEX runs_by_status ON runs (status, storage_id);
      CREATE INDEX runs_by_create_time ON runs (create_time);
      CREATE INDEX runs_by_update_time ON runs (update_time);

      CREATE TABLE run_tags (
        run_id  TEXT NOT NULL,
        key     TEXT NOT NULL,
        value   TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      );
      CREATE INDEX run_tags_by_key_value ON run_tags (key, value, run_id);

      CREATE TABLE events (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids are never reused, so cursors stay valid after deletes
        run_id     TEXT NOT NULL,
        type       TEXT NOT NULL,
        step_key   TEXT,
        timestamp  REAL NOT NULL,
        level      TEXT NOT NULL,
        message    TEXT NOT NULL,
        data       TEXT,            -- JSON object or NULL
        asset_key  TEXT             -- copied from data.assetKey so asset queries can use an index
      );
      CREATE INDEX events_by_run ON events (run_id, id);
      CREATE INDEX events_by_type ON events (type, id);
      CREATE INDEX events_by_step ON events (step_key, type) WHERE step_key IS NOT NULL;
      CREATE INDEX events_by_timestamp ON events (timestamp);
      CREATE INDEX events_by_asset ON events (asset_key, type) WHERE asset_key IS NOT NULL;
    `,
  },
  {
    version: 2,
    name: "concurrency pools (limits, slots, pending steps) and launch specs of queued runs",
    // Owned by src/engine/pools and src/engine/daemons (reference §5.3). Times in ms since the epoch.
    up: `
      CREATE TABLE concurrency_limits (
        pool           TEXT PRIMARY KEY,
        slot_limit     INTEGER NOT NULL,
        using_default  INTEGER NOT NULL DEFAULT 0,  -- 1: materialized from concurrency.pools.default_limit
        update_time    REAL NOT NULL
      );
      -- Exactly slot_limit non-deleted rows per pool; a row with run_id set is a claimed slot.
      CREATE TABLE concurrency_slots (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        pool      TEXT NOT NULL,
        run_id    TEXT,
        step_key  TEXT,
        deleted   INTEGER NOT NULL DEFAULT 0  -- surplus after a limit was lowered; removed when freed
      );
      CREATE INDEX concurrency_slots_by_pool ON concurrency_slots (pool, deleted, run_id);
      CREATE INDEX concurrency_slots_by_run ON concurrency_slots (run_id, step_key) WHERE run_id IS NOT NULL;
      -- The wait queue: one row per (run, step, pool) that asked for a slot; assigned_time set = holds a slot.
      CREATE TABLE pending_steps (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        pool           TEXT NOT NULL,
        run_id         TEXT NOT NULL,
        step_key       TEXT NOT NULL,
        priority       INTEGER NOT NULL,
        create_time    REAL NOT NULL,
        assigned_time  REAL,
        UNIQUE (run_id, step_key, pool)
      );
      CREATE INDEX pending_steps_by_pool ON pending_steps (pool, assigned_time, priority, create_time);
      -- What a run worker needs to run a queued run later: plan, executor, definitions files.
      CREATE TABLE run_launch_specs (
        run_id  TEXT PRIMARY KEY,
        spec    TEXT NOT NULL
      );
    `,
  },
];

/** The tables the migration mechanism itself needs. */
const BOOKKEEPING = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL);";

export function schemaVersion(db: SqlConnection): number {
  db.exec(BOOKKEEPING);
  return db.get<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_version")?.v ?? 0;
}

/** Brings the database to the newest schema; returns how many migrations ran. */
export function migrate(db: SqlConnection, migrations: readonly Migration[] = MIGRATIONS): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration "${m.name}" has version ${m.version}, expected ${i + 1}`);
  });
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw new StoreError(
      "SCHEMA_TOO_NEW",
      `the database has schema version ${current}, newer than this Sluice understands (${migrations.length}); upgrade Sluice`,
    );
  }
  for (const m of migrations.slice(current)) {
    db.exec("BEGIN");
    try {
      if (typeof m.up === "string") db.exec(m.up);
      else m.up(db);
      db.run("INSERT INTO schema_version (version, name) VALUES (?, ?)", [m.version, m.name]);
      db.exec("COMMIT");
    } catch (err) {
      db.exec("ROLLBACK");
      throw new StoreError("MIGRATION_FAILED", `migration ${m.version} (${m.name}) failed: ${(err as Error).message}`);
    }
  }
  return migrations.length - current;
}
