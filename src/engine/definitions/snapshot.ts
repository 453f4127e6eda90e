// The definitions snapshot: everything the host, the CLI and the editor know about a workspace's
// jobs and assets, as plain JSON. It is produced in the code-location process (the only place that
// runs user code) and consumed everywhere else.
import type { OutputDef, Tags } from "../../sdk/definitions";
import type { SourcePosition } from "../../sdk/markers";
import type { RetryPolicyData } from "../../sdk/retry";
import type { SelectableNode } from "../selection";

export interface StepInputSnapshot {
  name: string;
  /** Upstream outputs wired in the graph; empty when the input is not wired. */
  sources: { step: string; output: string }[];
  fanIn: boolean;
  /** For asset steps: the upstream asset this input reads (used when that asset is not in the run). */
  upstreamAsset?: string;
}

export interface StepSnapshot {
  key: string;
  /** Top-level node the step belongs to (the step itself, or its graph asset). */
  node: string;
  opName: string;
  description?: string;
  inputs: StepInputSnapshot[];
  outputs: OutputDef[];
  tags: Tags;
  pool: string | null;
  retryPolicy: RetryPolicyData | null;
  /** JSON Schema of `ops.<op>.config`, or null when the op takes no config. */
  configSchema: Record<string, unknown> | null;
  source: SourcePosition;
  /** Set on the step whose output is an asset's value. */
  assetKey?: string;
}

export interface JobSnapshot {
  name: string;
  kind: "job" | "assetJob";
  /** True for the implicit `__ASSET_JOB` that can materialise any asset. */
  implicit?: boolean;
  description?: string;
  tags: Tags;
  source: SourcePosition;
  /** `builtin` names the built-in executor a (possibly renamed) `.configured()` copy stands for; absent = custom. */
  executor: { name: string; pinnedConfig?: Record<string, unknown>; builtin?: "multi_or_in_process" | "in_process" | "multiprocess" };
  defaultRunConfig?: Record<string, unknown>;
  opRetryPolicy: RetryPolicyData | null;
  /** Every step, in definition order. */
  steps: StepSnapshot[];
  /** Top-level nodes for selection (ops, or assets with graph assets as graphs). */
  nodes: SelectableNode[];
  /** Asset jobs: the asset keys the job materialises. */
  assetKeys?: string[];
}

export interface AssetSnapshot {
  key: string;
  node: string;
  kind: "asset" | "graphAsset";
  deps: string[];
  group?: string;
  description?: string;
  tags: Tags;
  pool: string | null;
  source: SourcePosition;
  /** Step (in `__ASSET_JOB`) whose output is the asset's value. */
  outputStep: string;
}

export type LoadErrorKind = "syntax" | "import" | "timeout" | "duplicate" | "cycle" | "definition" | "selection" | "internal";

export interface LoadError {
  kind: LoadErrorKind;
  file: string;
  line: number;
  column: number;
  message: string;
  /** The definition the error is about, when there is one. */
  name?: string;
}

export interface LoadedFile {
  path: string;
  ok: boolean;
  bundle?: string;
}

export interface DefinitionsSnapshot {
  workspace: string;
  loadedAt: number;
  files: LoadedFile[];
  jobs: JobSnapshot[];
  assets: AssetSnapshot[];
  errors: LoadError[];
}

export const IMPLICIT_ASSET_JOB = "__ASSET_JOB";

export function formatLoadError(e: LoadError, relativeTo?: string): string {
  const file = relativeTo && e.file.startsWith(relativeTo + "/") ? e.file.slice(relativeTo.length + 1) : e.file;
  return `${file}:${e.line}:${e.column}: ${e.message}`;
}
