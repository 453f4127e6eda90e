// The runs and run_tags tables: row mapping, filters, and the statements that change runs.
import {
  RUN_STATUS_BY_EVENT,
  SYSTEM_TAG_PREFIX,
  type NewRun,
  type RunRecord,
  type RunRecordsOptions,
  type RunsFilter,
  type RunStatus,
  type SluiceEvent,
} from "../events";
import { StoreError } from "./errors";
import type { SqlParam, SqlReader, SqlWriter } from "./sql";

export const FAILURE_REASON_TAG = `${SYSTEM_TAG_PREFIX}failure_reason`;

interface RunRow {
  storage_id: number;
  run_id: string;
  job_name: string;
  status: string;
  tags: string;
  run_config: string;
  op_selection: string | null;
  step_keys_to_execute: string | null;
  asset_selection: string | null;
  meta: string;
  parent_run_id: string | null;
  root_run_id: string | null;
  create_time: number;
  update_time: number;
  start_time: number | null;
  end_time: number | null;
}

const RUN_COLUMNS =
  "storage_id, run_id, job_name, status, tags, run_config, op_selection, step_keys_to_execute, asset_selection, " +
  "meta, parent_run_id, root_run_id, create_time, update_time, start_time, end_time";

function toRunRecord(row: RunRow): RunRecord {
  return {
    runId: row.run_id,
    jobName: row.job_name,
    status: row.status as RunStatus,
    tags: JSON.parse(row.tags) as Record<string, string>,
    runConfig: JSON.parse(row.run_config) as Record<string, unknown>,
    opSelection: parseNullable<string[]>(row.op_selection),
    stepKeysToExecute: parseNullable<string[]>(row.step_keys_to_execute),
    assetSelection: parseNullable<string[]>(row.asset_selection),
    parentRunId: row.parent_run_id,
    rootRunId: row.root_run_id,
    storageId: row.storage_id,
    createTime: row.create_time,
    updateTime: row.update_time,
    startTime: row.start_time,
    endTime: row.end_time,
    meta: JSON.parse(row.meta) as Record<string, unknown>,
  };
}

function parseNullable<T>(json: string | null): T | null {
  return json === null ? null : (JSON.parse(json) as T);
}

function jsonOrNull(value: unknown[] | null | undefined): string | null {
  return value == null ? null : JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// Queries

export function getRun(db: SqlReader, runId: string): RunRecord | undefined {
  const row = db.get<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = ?`, [runId]);
  return row && toRunRecord(row);
}

/**
 * SQL condition for a RunsFilter; every given field must match (Dagster's semantics). Lists are
 * passed as one JSON parameter so the SQL text, and so the cached statement, does not depend on
 * their length.
 */
function runsWhere(filter: RunsFilter): { where: string; params: SqlParam[] } {
  const clauses: string[] = [];
  const params: SqlParam[] = [];
  if (filter.runIds !== undefined) {
    if (filter.runIds.length === 0) {
      // Dagster's invariant: an empty list is almost always a caller bug, not "match nothing".
      throw new StoreError("INVALID_ARGUMENT", "RunsFilter.runIds must be a non-empty list when given");
    }
    clauses.push("run_id IN (SELECT value FROM json_each(?))");
    params.push(JSON.stringify(filter.runIds));
  }
  if (filter.jobName !== undefined) {
    clauses.push("job_name = ?");
    params.push(filter.jobName);
  }
  if (filter.statuses && filter.statuses.length > 0) {
    clauses.push("status IN (SELECT value FROM json_each(?))");
    params.push(JSON.stringify(filter.statuses));
  }
  for (const [key, value] of Object.entries(filter.tags ?? {})) {
    clauses.push("run_id IN (SELECT run_id FROM run_tags WHERE key = ? AND value IN (SELECT value FROM json_each(?)))");
    params.push(key, JSON.stringify(Array.isArray(value) ? value : [value]));
  }
  const ranges: [number | undefined, string][] = [
    [filter.createdAfter, "create_time > ?"],
    [filter.createdBefore, "create_time < ?"],
    [filter.updatedAfter, "update_time > ?"],
    [filter.updatedBefore, "update_time < ?"],
  ];
  for (const [bound, clause] of ranges) {
    if (bound !== undefined) {
      clauses.push(clause);
      params.push(bound);
    }
  }
  return { where: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", params };
}

export function getRunRecords(db: SqlReader, filter: RunsFilter = {}, opts: RunRecordsOptions = {}): RunRecord[] {
  const { where, params } = runsWhere(filter);
  const ascending = opts.ascending ?? false;
  let sql = `SELECT ${RUN_COLUMNS} FROM runs ${where}`;
  if (opts.cursor !== undefined) {
    sql += `${where ? " AND" : " WHERE"} storage_id ${ascending ? ">" : "<"} ?`;
    params.push(opts.cursor);
  }
  sql += ` ORDER BY storage_id ${ascending ? "ASC" : "DESC"} LIMIT ?`;
  params.push(opts.limit ?? -1); // -1: no limit
  return db.all<RunRow>(sql, params).map(toRunRecord);
}

export function countRuns(db: SqlReader, filter: RunsFilter = {}): number {
  const { where, params } = runsWhere(filter);
  return db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM runs ${where}`, params)!.n;
}

// ---------------------------------------------------------------------------------------------
// Changes (only ever called inside Store.write, which journals them)

export function insertRun(db: SqlWriter, run: NewRun, createTime: number): void {
  const tags = run.tags ?? {};
  db.run(
    `INSERT INTO runs (run_id, job_name, status, tags, run_config, op_selection, step_keys_to_execute, asset_selection,
       meta, parent_run_id, root_run_id, create_time, update_time, start_time, end_time)
     VALUES (?, ?, 'NOT_STARTED', ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?, NULL, NULL)`,
    [
      run.runId,
      run.jobName,
      JSON.stringify(tags),
      JSON.stringify(run.runConfig ?? {}),
      jsonOrNull(run.opSelection),
      jsonOrNull(run.stepKeysToExecute),
      jsonOrNull(run.assetSelection),
      run.parentRunId ?? null,
      run.rootRunId ?? null,
      createTime,
      createTime,
    ],
  );
  for (const [key, value] of Object.entries(tags)) {
    db.run("INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)", [run.runId, key, value]);
  }
}

/** Adds or overwrites tags; false when the run does not exist. */
export function mergeRunTags(db: SqlWriter, runId: string, tags: Record<string, string>, at: number): boolean {
  const row = db.get<{ tags: string }>("SELECT tags FROM runs WHERE run_id = ?", [runId]);
  if (!row) return false;
  const merged = { ...(JSON.parse(row.tags) as Record<string, string>), ...tags };
  db.run("UPDATE runs SET tags = ?, update_time = MAX(update_time, ?) WHERE run_id = ?", [JSON.stringify(merged), at, runId]);
  for (const [key, value] of Object.entries(tags)) {
    db.run("INSERT OR REPLACE INTO run_tags (run_id, key, value) VALUES (?, ?, ?)", [runId, key, value]);
  }
  return true;
}

/** Shallow-merges into the run's meta; a key whose value is undefined is removed. False when the run does not exist. */
export function mergeRunMeta(db: SqlWriter, runId: string, patch: Record<string, unknown>, at: number): boolean {
  const row = db.get<{ meta: string }>("SELECT meta FROM runs WHERE run_id = ?", [runId]);
  if (!row) return false;
  const meta = JSON.parse(row.meta) as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete meta[key];
    else meta[key] = value;
  }
  db.run("UPDATE runs SET meta = ?, update_time = MAX(update_time, ?) WHERE run_id = ?", [JSON.stringify(meta), at, runId]);
  return true;
}

/**
 * The run-status consequence of storing a run event (reference §4.1 `handle_run_event`). Storage
 * does not police transitions: the last event wins. Events of unknown runs change nothing.
 */
export function applyRunEvent(db: SqlWriter, event: SluiceEvent, at: number): void {
  const status = RUN_STATUS_BY_EVENT[event.type];
  if (status === undefined) return;
  if (event.type === "RUN_START") {
    db.run("UPDATE runs SET status = ?, start_time = ? WHERE run_id = ?", [status, event.timestamp, event.runId]);
  } else if (status === "SUCCESS" || status === "FAILURE" || status === "CANCELED") {
    db.run("UPDATE runs SET status = ?, end_time = ? WHERE run_id = ?", [status, event.timestamp, event.runId]);
  } else {
    db.run("UPDATE runs SET status = ? WHERE run_id = ?", [status, event.runId]);
  }
  const reason = event.data?.failureReason;
  if (event.type === "RUN_FAILURE" && typeof reason === "string") {
    mergeRunTags(db, event.runId, { [FAILURE_REASON_TAG]: reason }, at);
  }
}

/**
 * Raises update_time of many runs at once. Bumping a run row per event would rewrite it (run config
 * and all) for every step event; the store batches the bumps and applies them before anything
 * reads runs.
 */
export function touchRuns(db: SqlWriter, touches: Iterable<[runId: string, at: number]>): void {
  for (const [runId, at] of touches) {
    db.run("UPDATE runs SET update_time = MAX(update_time, ?) WHERE run_id = ?", [at, runId]);
  }
}

/** Removes a run with its tags and events; false when there was no such run. */
export function deleteRun(db: SqlWriter, runId: string): boolean {
  db.run("DELETE FROM events WHERE run_id = ?", [runId]);
  db.run("DELETE FROM run_tags WHERE run_id = ?", [runId]);
  return db.run("DELETE FROM runs WHERE run_id = ?", [runId]) > 0;
}

export function validateNewRun(run: NewRun): void {
  if (typeof run.runId !== "string" || run.runId === "") throw new StoreError("INVALID_ARGUMENT", "a run needs a non-empty runId");
  if (typeof run.jobName !== "string" || run.jobName === "") throw new StoreError("INVALID_ARGUMENT", `run ${run.runId} needs a jobName`);
  validateTags(run.tags ?? {});
}

export function validateTags(tags: Record<string, string>): void {
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value !== "string") throw new StoreError("INVALID_ARGUMENT", `tag ${key} must be a string, got ${typeof value}`);
  }
}
