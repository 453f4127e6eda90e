// The append-only journal: every change to the database, as the SQL statements that made it.
//
// Format: UTF-8 NDJSON, one JSON object per line, two kinds of line:
//   {"def":3,"sql":"INSERT INTO events ..."}                 names a statement text once per file
//   {"seq":42,"label":"appendEvents","ops":[[3,[...params]]]} one record = one Store.write, atomically
// `seq` increases by exactly one per record across files; a snapshot remembers the last seq it
// contains, so replay applies only records after it. Journal files are named after the first seq
// they may hold: `journal-000000000043.ndjson`.
import * as fs from "node:fs";
import * as path from "node:path";
import type { SqlParam } from "./sql";
import { fsyncDirectory } from "./snapshot";

/** A parameter as written to the journal: JSON cannot hold bytes, so blobs travel as base64. */
export type JournalParam = string | number | null | { base64: string };
/** One executed statement: its SQL text and its parameters in journal form. */
export type JournalOp = readonly [sql: string, params: readonly JournalParam[]];

export interface JournalRecord {
  seq: number;
  label: string;
  ops: readonly JournalOp[];
}

const JOURNAL_FILE = /^journal-(\d+)\.ndjson$/;

export function journalFileName(startSeq: number): string {
  return `journal-${String(startSeq).padStart(12, "0")}.ndjson`;
}

/** Journal files of a directory, oldest first. Quarantined (`.corrupt-*`) files are not listed. */
export function listJournalFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return names
    .filter((n) => JOURNAL_FILE.test(n))
    .sort((a, b) => Number(JOURNAL_FILE.exec(a)![1]) - Number(JOURNAL_FILE.exec(b)![1]))
    .map((n) => path.join(dir, n));
}

/** Converts statement parameters to journal form, rejecting values JSON would silently change. */
export function toJournalParams(params: readonly SqlParam[]): JournalParam[] {
  const out: JournalParam[] = new Array(params.length);
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (typeof p === "string" || p === null) out[i] = p;
    else if (typeof p === "number") {
      // NaN and ±Infinity would come back from JSON as null: replay would differ from memory.
      if (!Number.isFinite(p)) throw new TypeError(`cannot store non-finite number ${p} (parameter ${i + 1})`);
      out[i] = p;
    } else if (p instanceof Uint8Array) out[i] = { base64: Buffer.from(p).toString("base64") };
    else throw new TypeError(`cannot store a parameter of type ${typeof p} (parameter ${i + 1})`);
  }
  return out;
}

export function fromJournalParams(params: readonly JournalParam[]): SqlParam[] {
  return params.map((p) => (p !== null && typeof p === "object" ? new Uint8Array(Buffer.from(p.base64, "base64")) : p));
}

/**
 * Appends records to one journal file. `flush` hands them to the OS (from then on they survive the
 * process being killed) and then makes them durable on disk (fdatasync), either waiting for it or
 * letting it run on libuv's thread pool so the event loop does not stall for the disk.
 */
export class JournalWriter {
  private readonly sqlIds = new Map<string, number>();
  private pending: string[] = [];
  private pendingRecords = 0;
  private writtenBytes = 0;
  private writtenRecords = 0;
  /** How much of the file a finished fdatasync covers. */
  private syncedBytes = 0;
  private backgroundSync: "idle" | "running" | "running, again after" = "idle";
  private closeWhenSynced = false;

  private constructor(
    readonly file: string,
    private readonly fd: number,
    private readonly onBackgroundSyncError: (err: Error) => void,
  ) {}

  /** Starts an empty journal file (replacing a same-named leftover) and makes its name durable. */
  static create(dir: string, startSeq: number, onBackgroundSyncError: (err: Error) => void): JournalWriter {
    const file = path.join(dir, journalFileName(startSeq));
    const fd = fs.openSync(file, "w");
    fs.fsyncSync(fd);
    fsyncDirectory(dir);
    // Append mode from here on: after a failed write is truncated away, writes continue at the end.
    fs.closeSync(fd);
    return new JournalWriter(file, fs.openSync(file, "a"), onBackgroundSyncError);
  }

  /** Records written to this file, flushed or not. */
  get recordCount(): number {
    return this.writtenRecords + this.pendingRecords;
  }

  append(record: JournalRecord): void {
    const ops: [number, readonly JournalParam[]][] = new Array(record.ops.length);
    for (let i = 0; i < record.ops.length; i++) {
      const [sql, params] = record.ops[i];
      let id = this.sqlIds.get(sql);
      if (id === undefined) {
        id = this.sqlIds.size + 1;
        this.sqlIds.set(sql, id);
        this.pending.push(JSON.stringify({ def: id, sql }) + "\n");
      }
      ops[i] = [id, params];
    }
    this.pending.push(JSON.stringify({ seq: record.seq, label: record.label, ops }) + "\n");
    this.pendingRecords++;
  }

  /**
   * Writes all pending records in one batch, then fdatasyncs: synchronously when `waitForDisk`,
   * else in the background (what is written is already safe from a process crash; the sync only
   * guards against losing the machine).
   */
  flush(waitForDisk: boolean): void {
    if (this.pending.length > 0) {
      const batch = Buffer.from(this.pending.join(""), "utf8");
      try {
        let written = 0;
        while (written < batch.length) written += fs.writeSync(this.fd, batch, written, batch.length - written);
      } catch (err) {
        // Cut a partly written batch off again: retrying after it would leave a torn record in the
        // middle of the file, which replay must treat as corruption.
        try {
          fs.ftruncateSync(this.fd, this.writtenBytes);
        } catch {
          /* the original error is the one worth reporting */
        }
        throw err;
      }
      this.writtenBytes += batch.length;
      this.writtenRecords += this.pendingRecords;
      this.pending = [];
      this.pendingRecords = 0;
      if (!waitForDisk) this.syncInBackground();
    }
    if (waitForDisk && this.syncedBytes < this.writtenBytes) {
      fs.fdatasyncSync(this.fd);
      this.syncedBytes = this.writtenBytes;
    }
  }

  private syncInBackground(): void {
    if (this.backgroundSync !== "idle") {
      this.backgroundSync = "running, again after"; // one more sync covers everything written meanwhile
      return;
    }
    this.backgroundSync = "running";
    const covers = this.writtenBytes;
    fs.fdatasync(this.fd, (err) => {
      const again = this.backgroundSync === "running, again after";
      this.backgroundSync = "idle";
      if (err) this.onBackgroundSyncError(err);
      else this.syncedBytes = Math.max(this.syncedBytes, covers);
      if (this.closeWhenSynced) fs.close(this.fd, () => {});
      else if (again) this.syncInBackground();
    });
  }

  /** Closes the file; pending records must have been flushed. */
  close(): void {
    // Closing under a running fdatasync could let the number be reused and synced by mistake.
    if (this.backgroundSync !== "idle") this.closeWhenSynced = true;
    else fs.closeSync(this.fd);
  }
}

export type ReplayProblemKind =
  /** A line that is not a valid record, with more records after it. */
  | "unreadable"
  /** Records are missing: seq jumps (or a file named after a later seq comes first). */
  | "gap"
  /** A record that could not be applied to the database. */
  | "replay-failed";

export interface ReplayOutcome {
  /** The seq of the last record applied (or `afterSeq` when none was). */
  lastSeq: number;
  replayed: number;
  /** A partial or unparsable last line (of the newest file, or of an older one superseded by a snapshot). */
  tornTails: { file: string; bytes: number }[];
  /** Replay stopped here; everything before it was applied. */
  problem?: { kind: ReplayProblemKind; file: string; line: number; reason: string };
}

/**
 * Applies every record with afterSeq < seq <= untilSeq from the journal files, in order. Stops
 * cleanly at a torn last line; stops at anything worse too, reporting where and why.
 */
export function replayJournals(
  files: readonly string[],
  afterSeq: number,
  apply: (record: JournalRecord) => void,
  untilSeq = Number.MAX_SAFE_INTEGER,
): ReplayOutcome {
  const outcome: ReplayOutcome = { lastSeq: afterSeq, replayed: 0, tornTails: [] };
  for (const file of files) {
    const text = readIfExists(file);
    if (text === undefined) continue; // deleted by a writer's snapshot since we listed it
    const lines = text.split("\n");
    let lastContentLine = lines.length - 1;
    while (lastContentLine >= 0 && lines[lastContentLine] === "") lastContentLine--;
    const defs = new Map<number, string>();

    for (let i = 0; i <= lastContentLine; i++) {
      const line = lines[i];
      if (line === "") continue;
      const where = { file, line: i + 1 };
      const parsed = parseLine(line, defs);
      if (typeof parsed === "string") {
        if (i === lastContentLine) {
          outcome.tornTails.push({ file, bytes: Buffer.byteLength(line, "utf8") });
          break;
        }
        outcome.problem = { kind: "unreadable", ...where, reason: parsed };
        return outcome;
      }
      if (parsed === null) continue; // a statement definition
      if (parsed.seq <= afterSeq) continue; // already in the snapshot
      if (parsed.seq > untilSeq) return outcome;
      if (parsed.seq !== outcome.lastSeq + 1) {
        outcome.problem = { kind: "gap", ...where, reason: `expected record ${outcome.lastSeq + 1}, found ${parsed.seq}` };
        return outcome;
      }
      try {
        apply(parsed);
      } catch (err) {
        outcome.problem = { kind: "replay-failed", ...where, reason: `record ${parsed.seq} (${parsed.label}): ${(err as Error).message}` };
        return outcome;
      }
      outcome.lastSeq = parsed.seq;
      outcome.replayed++;
    }
  }
  return outcome;
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** A record, null for a statement definition (remembered in `defs`), or why the line is invalid. */
function parseLine(line: string, defs: Map<number, string>): JournalRecord | null | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof value !== "object" || value === null) return "not a JSON object";
  const obj = value as Record<string, unknown>;
  if (typeof obj.def === "number" && typeof obj.sql === "string") {
    defs.set(obj.def, obj.sql);
    return null;
  }
  if (!Number.isSafeInteger(obj.seq) || typeof obj.label !== "string" || !Array.isArray(obj.ops)) {
    return "neither a record nor a statement definition";
  }
  const ops: JournalOp[] = [];
  for (const op of obj.ops as unknown[]) {
    if (!Array.isArray(op) || op.length !== 2 || !Array.isArray(op[1])) return "malformed statement in record";
    const sql = defs.get(op[0] as number);
    if (sql === undefined) return `record uses undefined statement ${String(op[0])}`;
    ops.push([sql, op[1] as JournalParam[]]);
  }
  return { seq: obj.seq as number, label: obj.label, ops };
}
