// Event and run vocabulary shared by the store, the executors, the daemons and every front end.
// Names are Dagster's (see shared/reference/dagster-semantics.md §4.1 and §8) so that users can
// read Dagster's docs and recognise what they see.

export const RUN_STATUSES = [
  "QUEUED",
  "NOT_STARTED",
  "MANAGED",
  "STARTING",
  "STARTED",
  "SUCCESS",
  "FAILURE",
  "CANCELING",
  "CANCELED",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const IN_PROGRESS_STATUSES: readonly RunStatus[] = ["STARTING", "STARTED", "CANCELING"];
export const FINISHED_STATUSES: readonly RunStatus[] = ["SUCCESS", "FAILURE", "CANCELED"];
export const NOT_FINISHED_STATUSES: readonly RunStatus[] = [...IN_PROGRESS_STATUSES, "QUEUED", "NOT_STARTED"];
export const CANCELABLE_STATUSES: readonly RunStatus[] = ["STARTED", "QUEUED"];

export const EVENT_TYPES = [
  // run lifecycle
  "RUN_ENQUEUED",
  "RUN_DEQUEUED",
  "RUN_STARTING",
  "RUN_START",
  "RUN_SUCCESS",
  "RUN_FAILURE",
  "RUN_CANCELING",
  "RUN_CANCELED",
  // steps
  "STEP_START",
  "STEP_SUCCESS",
  "STEP_FAILURE",
  "STEP_SKIPPED",
  "STEP_UP_FOR_RETRY",
  "STEP_RESTARTED",
  "STEP_INPUT",
  "STEP_OUTPUT",
  "STEP_WORKER_STARTING",
  "STEP_WORKER_STARTED",
  "LOADED_INPUT",
  "HANDLED_OUTPUT",
  "ASSET_MATERIALIZATION",
  "ASSET_MATERIALIZATION_PLANNED",
  "ASSET_FAILED_TO_MATERIALIZE",
  "ASSET_OBSERVATION",
  "LOGS_CAPTURED",
  // everything else
  "ENGINE_EVENT",
  "LOG_MESSAGE",
  "ALERT_START",
  "ALERT_SUCCESS",
  "ALERT_FAILURE",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Event types whose storage changes the run's status (reference §4.1 `handle_run_event`). */
export const RUN_STATUS_BY_EVENT: Partial<Record<EventType, RunStatus>> = {
  RUN_ENQUEUED: "QUEUED",
  RUN_STARTING: "STARTING",
  RUN_START: "STARTED",
  RUN_SUCCESS: "SUCCESS",
  RUN_FAILURE: "FAILURE",
  RUN_CANCELING: "CANCELING",
  RUN_CANCELED: "CANCELED",
};

export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR";

export type RunFailureReason =
  | "UNEXPECTED_TERMINATION"
  | "RUN_EXCEPTION"
  | "STEP_FAILURE"
  | "JOB_INITIALIZATION_FAILURE"
  | "START_TIMEOUT"
  | "UNKNOWN";

export type ErrorSource = "USER_CODE_ERROR" | "FRAMEWORK_ERROR" | "INTERRUPT" | "UNEXPECTED_ERROR";

/** A serialisable error as it travels in events. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  cause?: SerializedError;
  source?: ErrorSource;
}

/** An event as produced by an executor or daemon, before storage gives it an id. */
export interface SluiceEvent {
  runId: string;
  type: EventType;
  stepKey?: string | null;
  /** Milliseconds since the epoch (fractional allowed). */
  timestamp: number;
  level: LogLevel;
  message: string;
  /** Type-specific payload: error, output name, metadata, failure reason, pid, ... (JSON). */
  data?: Record<string, unknown>;
}

/** An event as stored: `id` is the storage id, strictly increasing in insertion order. */
export interface StoredEvent extends SluiceEvent {
  id: number;
}

export interface RunRecord {
  runId: string;
  jobName: string;
  status: RunStatus;
  tags: Record<string, string>;
  runConfig: Record<string, unknown>;
  /** Op selection clauses the run was created with (null = whole job). */
  opSelection: string[] | null;
  /** Step keys the run executes (resolved from the selection when the run was created). */
  stepKeysToExecute: string[] | null;
  assetSelection: string[] | null;
  parentRunId: string | null;
  rootRunId: string | null;
  /** Storage order (creation order); the queue's FIFO key. */
  storageId: number;
  /** All times in milliseconds since the epoch. */
  createTime: number;
  updateTime: number;
  startTime: number | null;
  endTime: number | null;
  /** Free-form run facts owned by the engine (e.g. `{ queueReason, workerPid, launchTime }`). */
  meta: Record<string, unknown>;
}

export interface NewRun {
  runId: string;
  jobName: string;
  tags?: Record<string, string>;
  runConfig?: Record<string, unknown>;
  opSelection?: string[] | null;
  stepKeysToExecute?: string[] | null;
  assetSelection?: string[] | null;
  parentRunId?: string | null;
  rootRunId?: string | null;
  /** Defaults to Date.now(). */
  createTime?: number;
}

/** Dagster's RunsFilter (reference §8): every given field must match. */
export interface RunsFilter {
  runIds?: string[];
  jobName?: string;
  statuses?: RunStatus[];
  /** key → value, or key → any of several values. */
  tags?: Record<string, string | string[]>;
  createdAfter?: number;
  createdBefore?: number;
  updatedAfter?: number;
  updatedBefore?: number;
}

export interface RunRecordsOptions {
  limit?: number;
  /** Default false: newest first, like Dagster. */
  ascending?: boolean;
  /** A storageId: return records after (ascending) or before (descending) it. */
  cursor?: number;
}

export interface EventsQuery {
  /** Return events with id > afterId. */
  afterId?: number;
  limit?: number;
  types?: EventType[];
  stepKey?: string;
}

export const SYSTEM_TAG_PREFIX = "sluice/";
export const DAGSTER_TAG_PREFIX = "dagster/";

/** Reads a system tag by its `sluice/` name, accepting the `dagster/` alias. */
export function systemTag(tags: Record<string, string> | undefined, name: string): string | undefined {
  if (!tags) return undefined;
  return tags[SYSTEM_TAG_PREFIX + name] ?? tags[DAGSTER_TAG_PREFIX + name];
}
