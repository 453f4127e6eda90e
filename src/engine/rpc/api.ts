// What a `sluice` command asks of the owner of its home: implemented by the Instance itself (when
// this process is the owner) and by RemoteOwner (requests over the owner socket).
import type { ResolvedInstanceConfig } from "../config/instanceSchema";
import type { RunRecord, StoredEvent } from "../events";
import type { ReexecuteRequest } from "../execution/reexecution";
import type { LaunchRequest } from "../instance";
import type { CancelResult, FreeResult } from "../launcher/owner";
import type { PoolInfo } from "../pools/poolStore";

export interface OwnerHello {
  pid: number;
  role: string;
  /** The owner runs the daemons (queued runs get launched). */
  daemons: boolean;
  workspace: string;
  home: string;
}

export interface LaunchResult {
  run: RunRecord;
  /** False: nothing will launch the run until a daemon runs (`sluice dev`, VS Code, `launch --wait`). */
  daemonRunning: boolean;
  owner: { pid: number; role: string };
}

export interface ExecuteOptions {
  onEvents?: (events: StoredEvent[]) => void;
  signal?: AbortSignal;
  onOutput?: (text: string, stream: "stdout" | "stderr") => void;
}

export interface WatchOptions {
  onEvents?: (events: StoredEvent[]) => void;
  afterId?: number;
  signal?: AbortSignal;
}

export interface InstanceInfo {
  workspace: string;
  home: string;
  owner: { pid: number; role: string; startedAt: number; socket: string | null; daemons: boolean | null } | null;
  config: {
    file: string;
    exists: boolean;
    valid: boolean;
    usingLastValid: boolean;
    issues: { file: string; line: number; column: number; keyPath: string; message: string }[];
    errorText: string | null;
    values: ResolvedInstanceConfig;
    /** Leaf key path → "default" or "<file>:LINE". */
    sources: Record<string, string>;
  };
  runs: { queued: number; inProgress: number };
  pools: { pool: string; limit: number | null; claimed: number; pending: number }[];
}

export interface OwnerApi {
  /** True when requests travel over the owner socket. */
  readonly remote: boolean;
  hello(): Promise<OwnerHello>;
  launch(request: LaunchRequest): Promise<LaunchResult>;
  /** `sluice run reexecute`: a child run of a finished run (all steps, from failure, or a new selection). */
  reexecute(runId: string, request: ReexecuteRequest): Promise<LaunchResult>;
  execute(request: LaunchRequest, options?: ExecuteOptions): Promise<RunRecord>;
  watchRun(runId: string, options?: WatchOptions): Promise<RunRecord>;
  cancel(runId: string): Promise<CancelResult>;
  setConcurrencyLimit(pool: string, limit: number): Promise<string>;
  concurrencyInfo(pool?: string): Promise<PoolInfo[]>;
  freeConcurrencySlots(runId: string): Promise<FreeResult>;
  info(): Promise<InstanceInfo>;
}
