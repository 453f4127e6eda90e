// What the Sluice panel needs from the engine. The panel host is written against this interface
// only; wiring it means implementing it over the engine's Instance (see `README` notes in
// panelHost.ts). Every method may be sync or async. Nothing here imports `vscode`.
import type { DefinitionsSnapshot } from "../../engine/definitions/snapshot";
import type { RunRecord, StoredEvent } from "../../engine/events";
import type { ConcurrencyView, ConfigIssueView, HostStatusView } from "../../protocol/webview";

type MaybePromise<T> = T | Promise<T>;

export interface WebviewLaunchRequest {
  jobName: string;
  /** Op selection clauses (Dagster syntax, already split on commas); undefined = the whole job. */
  selection?: string[];
  /** The launchpad's run config, parsed (the host validated the YAML with positions first). */
  runConfig?: Record<string, unknown>;
  /** The same run config as the user typed it (for positioned errors, if the engine wants to re-check). */
  runConfigYaml?: string;
  tags?: Record<string, string>;
}

/** What changed; the host re-reads only those parts (and only while the panel is visible). */
export interface DataChange {
  status?: boolean;
  definitions?: boolean;
  runs?: boolean;
  concurrency?: boolean;
  /** Runs whose events (or compute logs) grew. */
  events?: string[];
}

export interface WebviewDataSource {
  /** Engine availability; the panel shows a banner unless "ready". Default: ready. */
  status?(): HostStatusView;
  definitions(): MaybePromise<DefinitionsSnapshot>;
  /** Newest first, at most `limit` (Instance.runs({}, { limit })). */
  runs(limit: number): MaybePromise<RunRecord[]>;
  /** One run (for a run detail outside the newest `limit`); undefined when unknown. */
  run?(runId: string): MaybePromise<RunRecord | undefined>;
  /** Events of a run with id > afterId, ascending (Instance.events(runId, { afterId, limit })). */
  events(runId: string, afterId?: number, limit?: number): MaybePromise<StoredEvent[]>;
  /** The tail (at most maxBytes each) of a step's captured stdout/stderr. */
  computeLogs(runId: string, stepKey: string, maxBytes: number): MaybePromise<{ stdout: string; stderr: string; truncated: boolean }>;
  /** Pools, run-level limits and counts (see `concurrencyView()` in models.ts for a ready-made builder). */
  concurrency(): MaybePromise<ConcurrencyView>;
  /** Launches through the queue; throws on bad input (an error with `issues` gets them shown positioned). */
  launch(request: WebviewLaunchRequest): MaybePromise<{ runId: string }>;
  cancel(runId: string): MaybePromise<unknown>;
  reexecute(runId: string, strategy: "all" | "fromFailure"): MaybePromise<{ runId: string }>;
  /** Same effect as `sluice instance concurrency set POOL LIMIT`. */
  setPoolLimit(pool: string, limit: number): MaybePromise<unknown>;
  /**
   * Optional: the engine's own check of the launchpad's run config, op config included (the op
   * schemas are zod in user code, so only the code location can apply them exactly). Without it
   * the launchpad still checks the run config's shape and the op config against its JSON Schema.
   */
  validateRunConfig?(jobName: string, yaml: string, selection?: string[]): MaybePromise<ConfigIssueView[]>;
  /** Subscribes to changes. */
  onChange(listener: (change: DataChange) => void): { dispose(): unknown };
}
