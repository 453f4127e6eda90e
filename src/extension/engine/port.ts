// What the extension needs from the engine, in the extension's own terms. The views, the status
// bar and the commands are written against this port; wiring the engine means implementing
// `SluiceEngine` over the Instance API (an adapter in this folder) and passing its factory to
// `EngineHost`. Nothing here imports the engine at runtime.
import type { RunStatus } from "../../engine/events";
import type { WebviewDataSource } from "../webview/dataSource";

export type { RunStatus };

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

export interface Listenable<T> {
  (listener: (e: T) => unknown): { dispose(): unknown };
}

/** The engine as seen from the extension host. */
export interface SluiceEngine {
  readonly onDidChangeRuns: Listenable<void>;
  readonly onDidChangeDefinitions: Listenable<void>;
  getRuns(): readonly RunSummary[];
  getDefinitions(): DefinitionsModel;
  launchRun(request: LaunchRequest): Promise<{ runId: string }>;
  cancelRun(runId: string): Promise<void>;
  reexecuteRun(runId: string, strategy: ReexecuteStrategy): Promise<{ runId: string }>;
  /** Reloads definitions (job files, sluice.yaml). */
  reload(): Promise<void>;
  /** What the Sluice panel (graph, runs, run detail, launchpad, concurrency) reads; see webview/dataSource.ts. */
  readonly webview?: WebviewDataSource;
  dispose(): void | Promise<void>;
}

/** Creates the engine for a workspace root; called once the workspace is trusted. */
export type EngineFactory = (workspaceRoot: string) => Promise<SluiceEngine>;
