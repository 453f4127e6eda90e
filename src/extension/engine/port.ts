// What the extension needs from the engine, in the extension's own terms. The views, the status
// bar and the commands are written against this port; wiring the engine means implementing
// `SluiceEngine` over the Instance API (an adapter in this folder) and passing its factory to
// `EngineHost`. Nothing here imports the engine at runtime.
import type { DefinitionsSnapshot } from "../../engine/definitions/snapshot";
import type { RunRecord, RunStatus, StoredEvent } from "../../engine/events";
import type { ConfigState, RunConfigFile } from "../../protocol/engineWorker";
import type { WebviewDataSource } from "../webview/dataSource";

export type { RunStatus, ConfigState, RunConfigFile };

/** Where the engine stands, mirrored into the `sluice.engineState` context key. */
export type EngineState = "starting" | "ready" | "unavailable" | "untrusted";

/** Lines and columns are 1-based, as in the SDK's SourcePosition. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** A run as the Runs view shows it: a subset of the engine's RunRecord. */
export interface RunSummary {
  runId: string;
  jobName: string;
  status: RunStatus;
  /** Milliseconds since the epoch. */
  createTime: number;
  startTime: number | null;
  endTime: number | null;
  tags?: Record<string, string>;
  /** Why a queued run waits, e.g. "blocked: pool `database` 1/1 in use by run 7f3a…". */
  queueReason?: string;
}

export interface JobInfo {
  name: string;
  kind: "job" | "assetJob";
  description?: string;
  opCount?: number;
  source?: SourceLocation;
  /** `<job>.run.yaml` files of this job (absolute paths): CodeLens offers "Run with <file>". */
  runConfigFiles?: string[];
}

export interface AssetInfo {
  key: string;
  kind: "asset" | "graphAsset";
  group?: string;
  description?: string;
  source?: SourceLocation;
}

export interface PoolInfo {
  name: string;
  /** null: no limit configured. */
  limit: number | null;
  used?: number;
}

export interface ScheduleInfo {
  name: string;
  cron?: string;
  jobName?: string;
  running?: boolean;
  source?: SourceLocation;
}

export interface SensorInfo {
  name: string;
  jobName?: string;
  running?: boolean;
  source?: SourceLocation;
}

export interface DefinitionProblem extends SourceLocation {
  message: string;
}

export interface DefinitionsModel {
  jobs: JobInfo[];
  assets: AssetInfo[];
  pools: PoolInfo[];
  schedules: ScheduleInfo[];
  sensors: SensorInfo[];
  problems: DefinitionProblem[];
}

export const EMPTY_DEFINITIONS: DefinitionsModel = Object.freeze({
  jobs: [],
  assets: [],
  pools: [],
  schedules: [],
  sensors: [],
  problems: [],
}) as DefinitionsModel;

export type LaunchRequest =
  | {
      kind: "job";
      jobName: string;
      /** Op selection clauses (Dagster syntax); undefined = the whole job. */
      opSelection?: string[];
      runConfigFile?: string;
      tags?: Record<string, string>;
    }
  | {
      kind: "assets";
      assetKeys: string[];
      /** Materialise every upstream asset too. */
      withUpstream?: boolean;
      tags?: Record<string, string>;
    };

export type ReexecuteStrategy = "all" | "fromFailure";
/** A strategy, or a new op selection of the parent's job. */
export type ReexecuteRequest = ReexecuteStrategy | { selection: string[] };

/**
 * One definitions load as the engine saw it: the snapshot (load errors with positions), the run
 * config files per job, and sluice.yaml's state. The diagnostics controller's feed (`onDefinitions`).
 */
export interface DefinitionsUpdate {
  snapshot: DefinitionsSnapshot;
  runConfigFiles: RunConfigFile[];
  config: ConfigState | null;
  /** Files whose change caused this load (empty for the first load and explicit reloads). */
  changed: string[];
}

/** What a run's log document reads, incrementally (events after an id, captured output from offsets). */
/** A step's captured output read from an offset (`next`: where to read from next; `skipped`: bytes left out). */
export interface RunLogStep {
  stepKey: string;
  stdout: { path: string; text: string; next: number; skipped: number };
  stderr: { path: string; text: string; next: number; skipped: number };
}

export interface RunLogChunk {
  run: RunRecord | null;
  events: StoredEvent[];
  steps: RunLogStep[];
}

export interface Listenable<T> {
  (listener: (e: T) => unknown): { dispose(): unknown };
}

/** The engine as seen from the extension host. */
export interface SluiceEngine {
  readonly onDidChangeRuns: Listenable<void>;
  readonly onDidChangeDefinitions: Listenable<void>;
  getRuns(): readonly RunSummary[];
  getDefinitions(): DefinitionsModel;
  /** Submits a run; `status` is QUEUED (through the queue) or STARTING (run at once, `sluice/run_immediately`). */
  launchRun(request: LaunchRequest): Promise<{ runId: string; status?: RunStatus }>;
  cancelRun(runId: string): Promise<void>;
  reexecuteRun(runId: string, strategy: ReexecuteStrategy): Promise<{ runId: string }>;
  /** Reloads definitions (job files, sluice.yaml). */
  reload(): Promise<void>;
  /** The latest definitions snapshot (for op selection previews); undefined until loaded. */
  readonly snapshot?: DefinitionsSnapshot;
  /** Hook for the diagnostics: every definitions load with run config files and sluice.yaml state. */
  readonly onDefinitions?: Listenable<DefinitionsUpdate>;
  /** Runs whose events (or captured output) grew; log documents read again. */
  readonly onRunActivity?: Listenable<string[]>;
  /** The engine stopped working after it started (its thread died); the host reports it unavailable. */
  readonly onDidFail?: Listenable<string>;
  /** Incremental reads for a run's log document. */
  runLog?(runId: string, afterId: number, offsets: Record<string, number>): Promise<RunLogChunk>;
  /** What the Sluice panel (graph, runs, run detail, launchpad, concurrency) reads; see webview/dataSource.ts. */
  readonly webview?: WebviewDataSource;
  dispose(): void | Promise<void>;
}

/** Creates the engine for a workspace root; called once the workspace is trusted. */
export type EngineFactory = (workspaceRoot: string) => Promise<SluiceEngine>;
