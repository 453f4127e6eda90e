// The events table: validation, row mapping, the insert, and the event queries.
import { EVENT_TYPES, type EventsQuery, type EventType, type LogLevel, type SluiceEvent, type StoredEvent } from "../events";
import { StoreError } from "./errors";
import type { SqlParam, SqlReader, SqlWriter } from "./sql";

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);
const KNOWN_LEVELS: ReadonlySet<string> = new Set<LogLevel>(["DEBUG", "INFO", "WARNING", "ERROR"]);

interface EventRow {
  id: number;
  run_id: string;
  type: string;
  step_key: string | null;
  timestamp: number;
  level: string;
  message: string;
  data: string | null;
}

const EVENT_COLUMNS = "id, run_id, type, step_key, timestamp, level, message, data";

function toStoredEvent(row: EventRow): StoredEvent {
  const event: StoredEvent = {
    id: row.id,
    runId: row.run_id,
    type: row.type as EventType,
    stepKey: row.step_key,
    timestamp: row.timestamp,
    level: row.level as LogLevel,
    message: row.message,
  };
  if (row.data !== null) event.data = JSON.parse(row.data) as Record<string, unknown>;
  return event;
}

/** A validated copy of the event (so a caller mutating its object later cannot change what was stored). */
export function normalizeEvent(e: SluiceEvent): SluiceEvent {
  const problem = eventProblem(e);
  if (problem) throw new StoreError("INVALID_ARGUMENT", `invalid ${String(e?.type)} event for run ${String(e?.runId)}: ${problem}`);
  const event: SluiceEvent = {
    runId: e.runId,
    type: e.type,
    stepKey: e.stepKey ?? null,
    timestamp: e.timestamp,
    level: e.level,
    message: e.message,
  };
  if (e.data !== undefined) event.data = e.data;
  return event;
}

function eventProblem(e: SluiceEvent): string | undefined {
  if (typeof e.runId !== "string" || e.runId === "") return "runId must be a non-empty string";
  if (!KNOWN_TYPES.has(e.type)) return "unknown event type";
  if (typeof e.timestamp !== "number" || !Number.isFinite(e.timestamp)) return "timestamp must be a finite number";
  if (!KNOWN_LEVELS.has(e.level)) return `unknown level ${String(e.level)}`;
  if (typeof e.message !== "string") return "message must be a string";
  if (e.stepKey != null && typeof e.stepKey !== "string") return "stepKey must be a string or null";
  if (e.data !== undefined && (typeof e.data !== "object" || e.data === null || Array.isArray(e.data))) return "data must be an object";
  return undefined;
}

export function insertEvent(db: SqlWriter, event: StoredEvent): void {
  const assetKey = event.data?.assetKey;
  // The id is given explicitly (not left to AUTOINCREMENT) so the journal says exactly which id
  // each event got and the store knows it without a query.
  db.run(
    "INSERT INTO events (id, run_id, type, step_key, timestamp, level, message, data, asset_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [
      event.id,
      event.runId,
      event.type,
      event.stepKey ?? null,
      event.timestamp,
      event.level,
      event.message,
      event.data === undefined ? null : JSON.stringify(event.data),
      typeof assetKey === "string" ? assetKey : null,
    ],
  );
}

/** The highest event id ever assigned (AUTOINCREMENT remembers it even after the events are deleted). */
export function lastAssignedEventId(db: SqlReader): number {
  return db.get<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'")?.seq ?? 0;
}

/** Conditions shared by the event queries; lists travel as one JSON parameter (stable SQL text). */
function eventConditions(q: EventsQuery, clauses: string[], params: SqlParam[]): void {
  clauses.push("id > ?");
  params.push(q.afterId ?? 0);
  if (q.types && q.types.length > 0) {
    clauses.push("type IN (SELECT value FROM json_each(?))");
    params.push(JSON.stringify(q.types));
  }
  if (q.stepKey !== undefined) {
    clauses.push("step_key = ?");
    params.push(q.stepKey);
  }
}

export function getEvents(db: SqlReader, runId: string, q: EventsQuery = {}): StoredEvent[] {
  const clauses = ["run_id = ?"];
  const params: SqlParam[] = [runId];
  eventConditions(q, clauses, params);
  params.push(q.limit ?? -1);
  return db.all<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE ${clauses.join(" AND ")} ORDER BY id LIMIT ?`, params).map(toStoredEvent);
}

export function getEventsAfter(db: SqlReader, afterId: number, limit: number, types?: EventType[]): StoredEvent[] {
  const clauses: string[] = [];
  const params: SqlParam[] = [];
  eventConditions({ afterId, types }, clauses, params);
  params.push(limit);
  return db.all<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE ${clauses.join(" AND ")} ORDER BY id LIMIT ?`, params).map(toStoredEvent);
}

export function latestEventId(db: SqlReader): number {
  return db.get<{ id: number | null }>("SELECT MAX(id) AS id FROM events")?.id ?? 0;
}

export function latestMaterializations(db: SqlReader, assetKeys?: readonly string[]): Map<string, StoredEvent> {
  const params: SqlParam[] = [];
  let keyFilter = "";
  if (assetKeys !== undefined) {
    if (assetKeys.length === 0) return new Map();
    keyFilter = "AND asset_key IN (SELECT value FROM json_each(?))";
    params.push(JSON.stringify(assetKeys));
  }
  const rows = db.all<EventRow & { asset_key: string }>(
    `SELECT ${EVENT_COLUMNS}, asset_key FROM events WHERE id IN (
       SELECT MAX(id) FROM events
       WHERE type = 'ASSET_MATERIALIZATION' AND asset_key IS NOT NULL ${keyFilter}
       GROUP BY asset_key)`,
    params,
  );
  return new Map(rows.map((row) => [row.asset_key, toStoredEvent(row)]));
}

export function latestStepOutput(
  db: SqlReader,
  jobName: string,
  stepKey: string,
  outputName: string,
): { runId: string; eventId: number } | undefined {
  // Walk the step's outputs newest first (events_by_step index) and stop at the first one of this job.
  return db.get<{ runId: string; eventId: number }>(
    `SELECT e.run_id AS runId, e.id AS eventId
       FROM events e JOIN runs r ON r.run_id = e.run_id
      WHERE e.step_key = ? AND e.type = 'STEP_OUTPUT' AND r.job_name = ?
        AND json_extract(e.data, '$.outputName') = ?
      ORDER BY e.id DESC LIMIT 1`,
    [stepKey, jobName, outputName],
  );
}
