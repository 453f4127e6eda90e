// The durable store: runs, run tags and the event log in sql.js, kept durable by a journal.
//
// sql.js is an in-memory SQLite. Exporting the whole database per write would cost O(database)
// per event, so (DESIGN.md, process model rule 5):
//  - every change runs through `write()`, which applies it to the in-memory database (inside one
//    long-lived transaction) and appends the statements it executed to the journal as one record;
//  - the journal is written and fdatasync'ed in batches, at most `flushIntervalMs` after a change;
//    at that moment the transaction is committed too;
//  - from time to time (journal size, close) the database is exported to a snapshot file
//    atomically (temp + fsync + rename) that remembers the last journal record it contains, and a
//    fresh journal starts;
//  - opening loads the snapshot and replays the journal records after it, stopping cleanly at a
//    torn last record.
// The journal holds physical statements rather than logical operations, so replay needs no code
// beyond SQLite: a module that adds tables (pools, schedules, ...) only appends a migration and
// calls `store.write(...)`; nothing has to be registered for replay, and read-only openers need
// not know about it.
import * as fs from "node:fs";
import * as path from "node:path";
import type {
  EventsQuery,
  EventType,
  NewRun,
  RunRecord,
  RunRecordsOptions,
  RunsFilter,
  SluiceEvent,
  StoredEvent,
} from "../events";
import { StoreError } from "./errors";
import * as eventLog from "./event-log";
import {
  fromJournalParams,
  JournalWriter,
  listJournalFiles,
  replayJournals,
  toJournalParams,
  type JournalOp,
  type JournalRecord,
  type ReplayOutcome,
  type ReplayProblemKind,
} from "./journal";
import { migrate, MIGRATIONS, schemaVersion } from "./migrations";
import * as runs from "./runs";
import { readSnapshot, SNAPSHOT_FILE, temporaryPathFor, writeFileAtomically } from "./snapshot";
import { SqlConnection, type Row, type SqlParam, type SqlReader, type SqlWriter } from "./sql";
import { loadSqlJs } from "./sqljs";

export interface StoreOptions {
  /** The instance home (`.sluice`); the database files live in `home/db/`. */
  home: string;
  /** Load snapshot + journal and never write anything (another process owns the home). */
  readOnly?: boolean;
  /** Longest time a change waits before its journal record is on disk. Default 50 ms. */
  flushIntervalMs?: number;
  /** Take a snapshot once the journal holds this many records. Default 100,000. */
  snapshotEveryRecords?: number;
  /** Where problems that cannot be thrown go (background flush failures, corruption found on open). Default console.error. */
  log?: (message: string) => void;
}

/** What opening found. */
export interface OpenReport {
  /** The last journal record the loaded snapshot contains (0 without a snapshot). */
  snapshotSeq: number;
  replayedRecords: number;
  /** The last journal record now in the database. */
  lastSeq: number;
  migrationsApplied: number;
  /** Partial last records left by a crash; ignored (and, when opening for writing, discarded). */
  tornTails: { file: string; bytes: number }[];
  /** Replay stopped before the end: everything before `file:line` was kept, the rest was not applied. */
  corruption?: { kind: ReplayProblemKind; file: string; line: number; reason: string; quarantined: string[] };
}

const DEFAULT_FLUSH_INTERVAL_MS = 50;
// Replaying 100k records takes about a second; snapshots cost time proportional to the database,
// so they should be rare. 100k records (roughly 30 MB of journal) balances the two.
const DEFAULT_SNAPSHOT_EVERY_RECORDS = 100_000;
// A reader racing a writer's snapshot can see the new journal with the old snapshot (a gap); it
// simply reads again.
const READ_ONLY_OPEN_ATTEMPTS = 5;

type Mode = "writer" | "readOnly" | "memory";

interface StoreInit {
  mode: Mode;
  sql: SqlConnection;
  dbDir: string | null;
  seq: number;
  report: OpenReport;
  flushIntervalMs: number;
  snapshotEveryRecords: number;
  log: (message: string) => void;
}

export class Store implements SqlReader {
  readonly openReport: OpenReport;

  private readonly mode: Mode;
  private readonly sql: SqlConnection;
  private readonly dbDir: string | null;
  private readonly flushIntervalMs: number;
  private readonly snapshotEveryRecords: number;
  private readonly log: (message: string) => void;

  private journal: JournalWriter | null = null;
  /** seq of the last journal record (written or pending). */
  private seq: number;
  /** Whether the snapshot file holds exactly the database as it is now (nothing journaled since). */
  private snapshotIsCurrent = false;
  private lastEventId: number;
  private inTransaction = false;
  /** Records applied since the last COMMIT: re-applied after a rollback undoes a failed write. */
  private uncommitted: JournalRecord[] = [];
  private activeWriter: RecordingWriter | undefined;
  /** runId → newest event time not yet written to runs.update_time (see runs.touchRuns). */
  private readonly pendingTouches = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private oldestUnflushedAt = 0;
  private closed = false;
  private broken: StoreError | undefined;

  private constructor(init: StoreInit) {
    this.mode = init.mode;
    this.sql = init.sql;
    this.dbDir = init.dbDir;
    this.seq = init.seq;
    this.openReport = init.report;
    this.flushIntervalMs = init.flushIntervalMs;
    this.snapshotEveryRecords = init.snapshotEveryRecords;
    this.log = init.log;
    this.lastEventId = eventLog.lastAssignedEventId(this.sql);
  }

  // -------------------------------------------------------------------------------------------
  // Opening and closing

  static async open(opts: StoreOptions): Promise<Store> {
    const SQL = await loadSqlJs();
    const dbDir = path.join(opts.home, "db");
    const log = opts.log ?? ((m: string) => console.error(m));
    const settings = {
      dbDir,
      log,
      flushIntervalMs: opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS,
      snapshotEveryRecords: opts.snapshotEveryRecords ?? DEFAULT_SNAPSHOT_EVERY_RECORDS,
    };

    if (opts.readOnly) {
      let loaded = loadDatabase(SQL, dbDir);
      for (let attempt = 1; loaded.outcome.problem?.kind === "gap" && attempt < READ_ONLY_OPEN_ATTEMPTS; attempt++) {
        loaded.sql.close();
        loaded = loadDatabase(SQL, dbDir);
      }
      const migrationsApplied = migrate(loaded.sql); // in memory only, so old homes stay readable
      const report = openReport(loaded, migrationsApplied, []);
      if (report.corruption) log(describeCorruption(report.corruption));
      return new Store({ ...settings, mode: "readOnly", sql: loaded.sql, seq: loaded.outcome.lastSeq, report });
    }

    fs.mkdirSync(dbDir, { recursive: true });
    fs.rmSync(temporaryPathFor(path.join(dbDir, SNAPSHOT_FILE)), { force: true }); // a snapshot a crash cut short
    const loaded = loadDatabase(SQL, dbDir);
    const migrationsApplied = migrate(loaded.sql);
    const quarantined = loaded.outcome.problem ? quarantineFrom(loaded.journalFiles, loaded.outcome.problem.file) : [];
    const report = openReport(loaded, migrationsApplied, quarantined);
    if (report.corruption) log(describeCorruption(report.corruption));

    const store = new Store({ ...settings, mode: "writer", sql: loaded.sql, seq: loaded.outcome.lastSeq, report });
    // Whatever was replayed or migrated goes into a snapshot now, so the journal always starts
    // empty on the current schema and torn or quarantined leftovers are no longer needed.
    store.snapshotIsCurrent = loaded.snapshotFound && loaded.outcome.replayed === 0 && migrationsApplied === 0;
    if (store.snapshotIsCurrent) store.startNewJournal();
    else store.snapshot();
    Store.registerExitFlush(store);
    return store;
  }

  /** A store without files, for ephemeral use and tests. */
  static async openInMemory(): Promise<Store> {
    const SQL = await loadSqlJs();
    const sql = new SqlConnection(new SQL.Database());
    const migrationsApplied = migrate(sql);
    return new Store({
      mode: "memory",
      sql,
      dbDir: null,
      seq: 0,
      report: { snapshotSeq: 0, replayedRecords: 0, lastSeq: 0, migrationsApplied, tornTails: [] },
      flushIntervalMs: DEFAULT_FLUSH_INTERVAL_MS,
      snapshotEveryRecords: DEFAULT_SNAPSHOT_EVERY_RECORDS,
      log: (m) => console.error(m),
    });
  }

  get isReadOnly(): boolean {
    return this.mode === "readOnly";
  }

  /** Flushes, snapshots and releases the database. Further calls are errors; closing twice is not. */
  close(): void {
    if (this.closed) return;
    if (this.mode === "writer") {
      this.snapshot(); // flushes first
      this.journal?.close();
      this.journal = null;
    }
    this.cancelFlushTimer();
    this.sql.close();
    this.closed = true;
    Store.openWriters.delete(this);
  }

  // -------------------------------------------------------------------------------------------
  // The one way to change the database

  /**
   * Runs `change` against the database and journals the statements it executed as one record.
   * `change` must be synchronous and should only use `db` (not the store's other methods). If it
   * throws, everything it did is undone. `label` names the record in the journal (for humans).
   * Avoid SQL functions whose result differs between runs (random(), datetime('now')): replay
   * re-executes the statements.
   */
  write<R>(label: string, change: (db: SqlWriter) => R): R {
    this.assertWritable();
    if (!this.activeWriter) this.settleRunTouches();
    return this.record(label, change);
  }

  /** Rows of a query, for modules that own tables of their own. */
  all<T = Row>(sql: string, params?: readonly SqlParam[]): T[] {
    return this.reader().all<T>(sql, params);
  }

  get<T = Row>(sql: string, params?: readonly SqlParam[]): T | undefined {
    return this.reader().get<T>(sql, params);
  }

  // -------------------------------------------------------------------------------------------
  // Runs

  createRun(run: NewRun): RunRecord {
    this.assertWritable();
    runs.validateNewRun(run);
    if (this.getRun(run.runId)) throw new StoreError("RUN_EXISTS", `run ${run.runId} already exists`);
    const createTime = run.createTime ?? Date.now();
    this.write("createRun", (db) => runs.insertRun(db, run, createTime));
    return this.getRun(run.runId)!;
  }

  addRunTags(runId: string, tags: Record<string, string>): void {
    runs.validateTags(tags);
    const at = Date.now();
    if (!this.write("addRunTags", (db) => runs.mergeRunTags(db, runId, tags, at))) throw noSuchRun(runId);
  }

  /** Shallow-merges `patch` into the run's meta; a key set to undefined is removed. */
  setRunMeta(runId: string, patch: Record<string, unknown>): void {
    const at = Date.now();
    if (!this.write("setRunMeta", (db) => runs.mergeRunMeta(db, runId, patch, at))) throw noSuchRun(runId);
  }

  /** Deletes the run, its tags and its events. False when there was no such run. */
  deleteRun(runId: string): boolean {
    return this.write("deleteRun", (db) => runs.deleteRun(db, runId));
  }

  getRun(runId: string): RunRecord | undefined {
    return runs.getRun(this.reader(), runId);
  }

  /** Runs matching every field of `filter`, newest first unless `opts.ascending`. */
  getRunRecords(filter?: RunsFilter, opts?: RunRecordsOptions): RunRecord[] {
    return runs.getRunRecords(this.reader(), filter, opts);
  }

  countRuns(filter?: RunsFilter): number {
    return runs.countRuns(this.reader(), filter);
  }

  // -------------------------------------------------------------------------------------------
  // Events

  appendEvent(event: SluiceEvent): StoredEvent {
    return this.appendEvents([event])[0];
  }

  /**
   * Stores events in order, as one journal record. A run event also sets the run's status (last
   * event wins); every event makes the run's updateTime at least the time it was stored.
   */
  appendEvents(events: readonly SluiceEvent[]): StoredEvent[] {
    this.assertWritable();
    const normalized = events.map(eventLog.normalizeEvent); // reject bad input before anything is written
    if (normalized.length === 0) return [];
    const at = Date.now();
    // No settleRunTouches here: event inserts do not read runs.update_time.
    const stored = this.record("appendEvents", (db) =>
      normalized.map((event) => {
        const storedEvent: StoredEvent = { ...event, id: this.lastEventId + 1 };
        eventLog.insertEvent(db, storedEvent);
        this.lastEventId = storedEvent.id;
        runs.applyRunEvent(db, storedEvent, at);
        return storedEvent;
      }),
    );
    for (const event of stored) this.pendingTouches.set(event.runId, Math.max(at, this.pendingTouches.get(event.runId) ?? at));
    return stored;
  }

  /** A run's events in id order; `afterId` makes it a cursor. */
  getEvents(runId: string, q?: EventsQuery): StoredEvent[] {
    this.assertOpen();
    return eventLog.getEvents(this.sql, runId, q);
  }

  /** Events of all runs after a cursor, in id order (for daemons). */
  getEventsAfter(afterId: number, limit: number, types?: EventType[]): StoredEvent[] {
    this.assertOpen();
    return eventLog.getEventsAfter(this.sql, afterId, limit, types);
  }

  /** The id of the newest stored event, 0 when there is none. */
  latestEventId(): number {
    this.assertOpen();
    return eventLog.latestEventId(this.sql);
  }

  /** The newest ASSET_MATERIALIZATION event per asset key (all keys, or the given ones). */
  latestMaterializations(assetKeys?: readonly string[]): Map<string, StoredEvent> {
    this.assertOpen();
    return eventLog.latestMaterializations(this.sql, assetKeys);
  }

  /** The newest STEP_OUTPUT of a step (and output) in any run of the job: where to load an unselected upstream's value from. */
  latestStepOutput(jobName: string, stepKey: string, outputName: string): { runId: string; eventId: number } | undefined {
    return eventLog.latestStepOutput(this.reader(), jobName, stepKey, outputName);
  }

  // -------------------------------------------------------------------------------------------
  // Durability

  /** Commits and makes every change so far durable: writes the journal and waits for fdatasync. */
  flush(): void {
    this.flushJournal(true);
  }

  /** Writes the whole database to the snapshot file atomically and starts a new, empty journal. */
  snapshot(): void {
    this.assertWritable();
    if (this.mode !== "writer") return;
    this.commitAndWriteJournal(true);
    if (this.snapshotIsCurrent && (this.journal?.recordCount ?? 0) === 0) return;
    // The snapshot must say which journal records it contains. This row is the only unjournaled
    // change: it is only meaningful inside a snapshot file.
    this.sql.run("INSERT OR REPLACE INTO store_meta (key, value) VALUES ('snapshot_seq', ?)", [this.seq]);
    writeFileAtomically(path.join(this.dbDir!, SNAPSHOT_FILE), this.sql.export());
    this.snapshotIsCurrent = true;
    this.startNewJournal();
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  /** Applies a change and journals it; nested calls join the enclosing record. */
  private record<R>(label: string, change: (db: SqlWriter) => R): R {
    if (this.activeWriter) return change(this.activeWriter);
    this.assertOpen();
    if (!this.inTransaction) {
      this.sql.exec("BEGIN");
      this.inTransaction = true;
    }
    const writer = new RecordingWriter(this.sql);
    this.activeWriter = writer;
    let result: R;
    try {
      result = change(writer);
      if (result instanceof Promise) throw new TypeError(`store.write("${label}"): the change must be synchronous`);
    } catch (err) {
      if (writer.touchedDatabase) this.undoFailedChange(label, err);
      throw err;
    } finally {
      this.activeWriter = undefined;
      writer.finished = true;
    }
    if (writer.ops.length > 0) {
      const rec: JournalRecord = { seq: ++this.seq, label, ops: writer.ops };
      this.uncommitted.push(rec);
      this.journal?.append(rec);
      this.snapshotIsCurrent = false;
      this.scheduleFlush();
    }
    return result;
  }

  /**
   * A change failed after executing statements. SQLite has no way to undo just those inside our
   * long transaction without a savepoint per write (which would double the cost of every event),
   * so roll the whole transaction back to the last commit and re-apply the records since then:
   * they are exactly what the journal says they are.
   */
  private undoFailedChange(label: string, cause: unknown): void {
    try {
      this.sql.exec("ROLLBACK");
    } catch {
      // SQLite already rolled back on its own (it does for some errors, e.g. out of memory).
    }
    this.inTransaction = false;
    try {
      this.sql.exec("BEGIN");
      this.inTransaction = true;
      for (const rec of this.uncommitted) applyRecord(this.sql, rec);
      this.lastEventId = eventLog.lastAssignedEventId(this.sql);
    } catch (err) {
      this.broken = new StoreError(
        "BROKEN",
        `could not undo the failed write "${label}" (${(cause as Error)?.message}): ${(err as Error).message}; ` +
          "reopen the store (the journal is intact up to the last flush)",
      );
      throw this.broken;
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer === undefined) {
      this.oldestUnflushedAt = Date.now();
      this.flushTimer = setTimeout(() => this.flushInBackground(), this.flushIntervalMs);
      this.flushTimer.unref(); // never keep a CLI process alive just to flush
    } else if (Date.now() - this.oldestUnflushedAt >= this.flushIntervalMs) {
      // A caller that never yields starves the timer; flush inline so the loss window stays bounded.
      this.flushInBackground();
    }
  }

  private flushJournal(waitForDisk: boolean): void {
    this.assertOpen();
    if (this.mode === "readOnly") return;
    this.commitAndWriteJournal(waitForDisk);
    if (this.journal && this.journal.recordCount >= this.snapshotEveryRecords) this.snapshot();
  }

  /** The periodic flush: records reach the OS now (safe from a process crash), the disk shortly after. */
  private flushInBackground(): void {
    if (this.closed) return;
    try {
      this.flushJournal(false);
    } catch (err) {
      this.log(`sluice store: flushing the journal failed, retrying: ${(err as Error).message}`);
      // Retry later even if nothing new is written.
      this.cancelFlushTimer();
      this.flushTimer = setTimeout(() => this.flushInBackground(), Math.max(this.flushIntervalMs, 200));
      this.flushTimer.unref();
    }
  }

  private commitAndWriteJournal(waitForDisk: boolean): void {
    if (this.activeWriter) {
      // Committing half a change would make it survive a rollback of its other half.
      throw new StoreError("INVALID_ARGUMENT", "flush, snapshot and close cannot be called inside store.write");
    }
    this.settleRunTouches();
    this.cancelFlushTimer();
    if (this.inTransaction) {
      this.sql.exec("COMMIT");
      this.inTransaction = false;
      this.uncommitted = [];
    }
    this.journal?.flush(waitForDisk);
  }

  private cancelFlushTimer(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /** Writes the batched update_time bumps (see runs.touchRuns); must run before anything reads runs. */
  private settleRunTouches(): void {
    if (this.pendingTouches.size === 0 || this.mode === "readOnly") return;
    const touches = [...this.pendingTouches];
    this.pendingTouches.clear();
    this.record("touchRuns", (db) => runs.touchRuns(db, touches));
  }

  private reader(): SqlReader {
    this.assertOpen();
    this.settleRunTouches();
    return this.sql;
  }

  /** Starts an empty journal after the current seq and deletes the ones the snapshot supersedes. */
  private startNewJournal(): void {
    const dir = this.dbDir!;
    const previous = this.journal;
    previous?.close();
    this.journal = JournalWriter.create(dir, this.seq + 1, (err) =>
      this.log(`sluice store: fdatasync of the journal failed (changes are written but may not survive a power loss): ${err.message}`),
    );
    // Only now may older journals go: until the new snapshot was renamed into place they were
    // needed, and a crash before this line leaves files whose records the snapshot already has.
    for (const file of listJournalFiles(dir)) {
      if (file !== this.journal.file) fs.rmSync(file, { force: true });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError("CLOSED", "the store is closed");
    if (this.broken) throw this.broken;
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.mode === "readOnly") throw new StoreError("READ_ONLY", "the store was opened read-only");
  }

  // A program that exits without close() still gets its last changes written.
  private static readonly openWriters = new Set<Store>();
  private static exitHookInstalled = false;

  private static registerExitFlush(store: Store): void {
    Store.openWriters.add(store);
    if (Store.exitHookInstalled) return;
    Store.exitHookInstalled = true;
    process.on("exit", () => {
      for (const s of Store.openWriters) {
        if (s.closed || s.broken) continue;
        try {
          s.commitAndWriteJournal(true);
        } catch (err) {
          s.log(`sluice store: could not flush the journal at exit: ${(err as Error).message}`);
        }
      }
    });
  }
}

/** The SqlWriter handed to a change: executes statements and records them for the journal. */
class RecordingWriter implements SqlWriter {
  readonly ops: JournalOp[] = [];
  /** A statement ran or failed, so the database may differ from before the change. */
  touchedDatabase = false;
  /** Set when the change returned: statements after that (e.g. after an await) would escape the journal. */
  finished = false;

  constructor(private readonly sql: SqlConnection) {}

  run(sql: string, params: readonly SqlParam[] = []): number {
    if (this.finished) throw new StoreError("INVALID_ARGUMENT", "a store.write change used its db after it returned");
    const journalParams = toJournalParams(params); // throws on unstorable values before executing
    this.touchedDatabase = true;
    const changed = this.sql.run(sql, params);
    this.ops.push([sql, journalParams]);
    return changed;
  }

  all<T = Row>(sql: string, params?: readonly SqlParam[]): T[] {
    return this.sql.all<T>(sql, params);
  }

  get<T = Row>(sql: string, params?: readonly SqlParam[]): T | undefined {
    return this.sql.get<T>(sql, params);
  }
}

function applyRecord(sql: SqlConnection, rec: JournalRecord): void {
  for (const [statement, params] of rec.ops) sql.run(statement, fromJournalParams(params));
}

interface LoadedDatabase {
  sql: SqlConnection;
  snapshotFound: boolean;
  snapshotSeq: number;
  journalFiles: string[];
  outcome: ReplayOutcome;
}

/** Snapshot + journal replay, in memory; touches no file. */
function loadDatabase(SQL: Awaited<ReturnType<typeof loadSqlJs>>, dbDir: string): LoadedDatabase {
  const bytes = readSnapshot(path.join(dbDir, SNAPSHOT_FILE));
  const db = new SQL.Database(bytes);
  try {
    const sql = new SqlConnection(db); // its first statement is where a damaged file shows
    sql.exec("CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value)");
    const snapshotSeq = sql.get<{ value: number }>("SELECT value FROM store_meta WHERE key = 'snapshot_seq'")?.value ?? 0;
    // Journal statements were recorded against the snapshot's schema; refuse to guess about a newer one.
    const version = schemaVersion(sql);
    if (version > MIGRATIONS.length) {
      throw new StoreError("SCHEMA_TOO_NEW", `${dbDir} has schema version ${version}; this Sluice knows up to ${MIGRATIONS.length}: upgrade Sluice`);
    }
    const journalFiles = listJournalFiles(dbDir);
    // One transaction for the whole replay (much faster than one per record).
    sql.exec("BEGIN");
    const apply = (rec: JournalRecord) => applyRecord(sql, rec);
    const outcome = replayJournals(journalFiles, snapshotSeq, apply);
    if (outcome.problem?.kind === "replay-failed") {
      // The failing record may have been applied in part: start over and stop just before it.
      sql.exec("ROLLBACK");
      sql.exec("BEGIN");
      replayJournals(journalFiles, snapshotSeq, apply, outcome.lastSeq);
    }
    sql.exec("COMMIT");
    return { sql, snapshotFound: bytes !== undefined, snapshotSeq, journalFiles, outcome };
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError("UNREADABLE", `cannot load the database in ${dbDir}: ${(err as Error).message}`);
  }
}

function openReport(loaded: LoadedDatabase, migrationsApplied: number, quarantined: string[]): OpenReport {
  const { outcome } = loaded;
  return {
    snapshotSeq: loaded.snapshotSeq,
    replayedRecords: outcome.replayed,
    lastSeq: outcome.lastSeq,
    migrationsApplied,
    tornTails: outcome.tornTails,
    corruption: outcome.problem && { ...outcome.problem, quarantined },
  };
}

/** Moves the corrupt journal and the ones after it aside (never deleted: they are evidence). */
function quarantineFrom(files: readonly string[], firstBad: string): string[] {
  const moved: string[] = [];
  const stamp = Date.now();
  for (const file of files.slice(files.indexOf(firstBad))) {
    const target = `${file}.corrupt-${stamp}`;
    fs.renameSync(file, target);
    moved.push(target);
  }
  return moved;
}

function describeCorruption(c: NonNullable<OpenReport["corruption"]>): string {
  const moved = c.quarantined.length ? `; moved aside: ${c.quarantined.join(", ")}` : "";
  return `sluice store: journal ${c.file} line ${c.line} is damaged (${c.kind}: ${c.reason}); ` + `kept everything before it, lost what follows${moved}`;
}

function noSuchRun(runId: string): StoreError {
  return new StoreError("NO_SUCH_RUN", `no run ${runId}`);
}
