// The host ↔ webview protocol of the Sluice panel (graph, runs, run detail, launchpad, concurrency).
//
// Rules (GitLens' webview architecture, DESIGN.md "Models to learn from"):
// - The webview speaks first: `ready`. Only then does the host send anything, starting with `init`
//   and a full snapshot. Nothing is ever embedded in the HTML.
// - The host sends full snapshots of "parts" (definitions, runs, concurrency, runDetail); a part is
//   always replaced whole, never patched. A part too big for one message is split into chunks
//   whose array fields the webview concatenates (chunking keeps each host task short). While the
//   panel is hidden nothing is sent; when it becomes visible again every part is sent.
// - Every message from the webview is validated with zod on the host (`parseWebviewMessage`).
// - Only UI state (page, viewport, selection, filters) is persisted, by the webview with setState.
//
// This file is imported by the extension host and, for types and the pure helpers only, by the
// webview bundle; it must not import anything Node- or VS Code-specific at runtime except zod.
import { z } from "zod";
import type { EventType, LogLevel, RunRecord } from "../engine/events";

export const WEBVIEW_PROTOCOL_VERSION = 1;
/** The WebviewPanel's viewType (also the serializer's key). */
export const PANEL_VIEW_TYPE = "sluice.panel";

// ---------------------------------------------------------------------------------------------
// routes (what the panel shows); persisted by the webview as UI state

export type Page = "graph" | "runs" | "run" | "launchpad" | "concurrency";
export const PAGES: readonly Page[] = ["graph", "runs", "run", "launchpad", "concurrency"];

export interface Route {
  page: Page;
  /** graph: the job whose op graph is shown; absent = the workspace asset graph. launchpad: the job. */
  job?: string;
  /** graph: the node to select. */
  node?: string;
  /** graph / launchpad: an op selection query to preselect. */
  selection?: string;
  /** run: the run to show. */
  runId?: string;
  /** run: the step whose stdout/stderr is shown. */
  step?: string;
}

export const routeSchema = z.object({
  page: z.enum(["graph", "runs", "run", "launchpad", "concurrency"]),
  job: z.string().max(1000).optional(),
  node: z.string().max(1000).optional(),
  selection: z.string().max(10000).optional(),
  runId: z.string().max(200).optional(),
  step: z.string().max(1000).optional(),
});

// ---------------------------------------------------------------------------------------------
// models the host sends

export interface SourceRef {
  file: string;
  /** 1-based */
  line: number;
  column: number;
}

export interface RetryPolicyView {
  maxRetries: number;
  delay: number | null;
  backoff: string | null;
  jitter: string | null;
}

export interface StepView {
  key: string;
  node: string;
  opName: string;
  description?: string;
  /** Step keys this step reads from (wired inputs). */
  upstream: string[];
  inputs: string[];
  outputs: string[];
  tags: Record<string, string>;
  pool: string | null;
  retryPolicy: RetryPolicyView | null;
  configSchema: Record<string, unknown> | null;
  source: SourceRef;
  assetKey?: string;
}

/** A top-level node of a job graph (an op, or a graph asset with its children); Dagster's selection works on these. */
export interface GraphNodeView {
  name: string;
  upstream: string[];
  children?: GraphNodeView[];
}

export interface JobView {
  name: string;
  kind: "job" | "assetJob";
  description?: string;
  tags: Record<string, string>;
  source: SourceRef;
  executor: string;
  /** The name of the built-in executor the job uses, if any (for run config validation). */
  executorBuiltin?: string;
  opRetryPolicy: RetryPolicyView | null;
  steps: StepView[];
  nodes: GraphNodeView[];
  assetKeys?: string[];
  /** The job's default run config, as YAML (launchpad scaffold). */
  defaultRunConfigYaml?: string;
}

export interface AssetView {
  key: string;
  node: string;
  kind: "asset" | "graphAsset";
  deps: string[];
  group?: string;
  description?: string;
  tags: Record<string, string>;
  pool: string | null;
  source: SourceRef;
  /** Step (in the implicit asset job) whose output is the asset's value. */
  outputStep: string;
  opName?: string;
  retryPolicy: RetryPolicyView | null;
  configSchema: Record<string, unknown> | null;
}

export interface LoadErrorView {
  kind: string;
  file: string;
  line: number;
  column: number;
  message: string;
  name?: string;
}

export interface DefinitionsView {
  workspace: string;
  loadedAt: number;
  /** Jobs the user defined (the implicit asset job is not listed: its graph is `assets`). */
  jobs: JobView[];
  assets: AssetView[];
  errors: LoadErrorView[];
  /** The name of the job that materialises any asset selection (launching from the asset graph). */
  assetJobName: string | null;
}

export type StepState = "waiting" | "running" | "retrying" | "succeeded" | "failed" | "skipped" | "canceled";

/** A run as the panel shows it: the stored record without its run config and engine meta. */
export interface RunView
  extends Pick<
    RunRecord,
    | "runId" | "jobName" | "status" | "tags" | "opSelection" | "stepKeysToExecute" | "assetSelection"
    | "parentRunId" | "rootRunId" | "createTime" | "updateTime" | "startTime" | "endTime"
  > {
  /** Why a queued run waits (RunRecord.meta.queueReason). */
  queueReason?: string;
  /** Per step: the state the step is in (recent runs only; folded from the run's events). */
  steps?: Record<string, StepState>;
  /** Asset keys materialised / failed to materialise by this run (recent runs only). */
  materialized?: string[];
  failedAssets?: string[];
}

export interface EventView {
  id: number;
  type: EventType;
  stepKey?: string | null;
  timestamp: number;
  level: LogLevel;
  message: string;
  data?: Record<string, unknown>;
}

export interface ComputeLogsView {
  stepKey: string;
  stdout: string;
  stderr: string;
  /** True when only the tail of a long log is included. */
  truncated: boolean;
}

export interface RunDetailView {
  run: RunView;
  events: EventView[];
  /** True when only the newest events are included. */
  eventsTruncated: boolean;
  /** Every step key the run knows about (planned or seen in events). */
  stepKeys: string[];
  logs: ComputeLogsView | null;
}

export interface PoolView {
  pool: string;
  /** null: unlimited. */
  limit: number | null;
  usingDefault: boolean;
  /** Slots in use: which run's which step holds each. */
  claimed: { runId: string; stepKey: string }[];
  /** Steps waiting for a slot, in the order they will get one. */
  pending: { runId: string; stepKey: string; priority: number; createTime: number }[];
}

export interface TagLimitView {
  key: string;
  /** A value: key=value limit; absent: key limit; {applyLimitPerUniqueValue}: per-value limit. */
  value?: string | { applyLimitPerUniqueValue: boolean };
  limit: number;
  /** In-progress runs counted against the limit (per value for per-value limits). */
  current: { value?: string; count: number }[];
}

export interface ConcurrencyView {
  pools: PoolView[];
  defaultPoolLimit: number | null;
  granularity: "op" | "run";
  runs: {
    /** -1: unlimited. */
    maxConcurrentRuns: number;
    inProgress: number;
    queued: number;
    tagLimits: TagLimitView[];
  };
}

/** What the host knows about the engine's availability (shown as a banner when not ready). */
export interface HostStatusView {
  engine: "starting" | "ready" | "unavailable" | "untrusted";
  message?: string;
}

export interface SnapshotParts {
  status: HostStatusView;
  definitions: DefinitionsView;
  runs: RunView[];
  concurrency: ConcurrencyView;
  runDetail: RunDetailView | null;
}
export type PartName = keyof SnapshotParts;
export const PART_NAMES: readonly PartName[] = ["status", "definitions", "runs", "concurrency", "runDetail"];

/** A positioned run config problem (the launchpad's squiggles). Lines/columns 1-based; 0 = no position. */
export interface ConfigIssueView {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  keyPath: string;
  message: string;
  code: string;
}

// ---------------------------------------------------------------------------------------------
// host → webview

export type HostMessage =
  | { type: "init"; protocol: number; route?: Route }
  /**
   * One part of snapshot `seq`. A chunked part arrives as `count` messages (`index` 0..count-1)
   * whose array fields are concatenated; `last` marks the final message of the flush, after which
   * the webview renders.
   */
  | { type: "part"; seq: number; name: PartName; index: number; count: number; value: unknown; last: boolean }
  | { type: "navigate"; route: Route }
  | { type: "response"; id: number; ok: true; result?: unknown }
  | { type: "response"; id: number; ok: false; error: string; issues?: ConfigIssueView[] };

// ---------------------------------------------------------------------------------------------
// webview → host (validated)

const name = z.string().min(1).max(1000);
const tagsSchema = z.record(z.string().min(1).max(1000), z.string().max(10000)).refine((t) => Object.keys(t).length <= 200, "too many tags");

export const webviewRequestSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("launch"),
    jobName: name,
    /** Op selection clauses (already split on commas); absent = the whole job. */
    selection: z.array(z.string().max(1000)).max(5000).optional(),
    /** Run config YAML from the launchpad editor. */
    runConfigYaml: z.string().max(1_000_000).optional(),
    tags: tagsSchema.optional(),
  }),
  z.object({ kind: z.literal("cancel"), runId: name }),
  z.object({ kind: z.literal("reexecute"), runId: name, strategy: z.enum(["all", "fromFailure"]) }),
  z.object({ kind: z.literal("setPoolLimit"), pool: name, limit: z.number().int().min(0).max(1000) }),
  z.object({
    kind: z.literal("validateRunConfig"),
    jobName: name,
    yaml: z.string().max(1_000_000),
    /** The op selection the run would use: op config is only required of the ops that run. */
    selection: z.array(z.string().max(1000)).max(5000).optional(),
  }),
  z.object({
    kind: z.literal("openSource"),
    file: z.string().min(1).max(4096),
    line: z.number().int().min(0).max(10_000_000),
    column: z.number().int().min(0).max(10_000_000),
  }),
]);
export type WebviewRequest = z.infer<typeof webviewRequestSchema>;

export const webviewMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready"), protocol: z.number().int() }),
  /** What the webview looks at: the run whose detail it needs and the step whose logs it shows. */
  z.object({ type: z.literal("focus"), runId: z.string().max(200).nullable(), logStep: z.string().max(1000).nullable() }),
  /** The page shown (for the panel title). */
  z.object({ type: z.literal("route"), route: routeSchema }),
  z.object({ type: z.literal("request"), id: z.number().int().nonnegative(), request: webviewRequestSchema }),
  z.object({ type: z.literal("log"), level: z.enum(["info", "warn", "error"]), message: z.string().max(20000) }),
]);
export type WebviewMessage = z.infer<typeof webviewMessageSchema>;

/** Validates a message from the webview; `undefined` (and the reason) when it does not conform. */
export function parseWebviewMessage(raw: unknown): { ok: true; message: WebviewMessage } | { ok: false; error: string } {
  const r = webviewMessageSchema.safeParse(raw);
  if (r.success) return { ok: true, message: r.data };
  const first = r.error.issues[0];
  return { ok: false, error: first ? `${first.path.join(".") || "(message)"}: ${first.message}` : "invalid message" };
}

/** Results of requests, by kind. */
export interface RequestResults {
  launch: { runId: string };
  cancel: { runId: string };
  reexecute: { runId: string };
  setPoolLimit: { pool: string; limit: number };
  validateRunConfig: { issues: ConfigIssueView[] };
  openSource: Record<string, never>;
}

export { chunkPart, mergeChunks } from "./webviewShared";
