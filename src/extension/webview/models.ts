// Engine data → the webview's view models (src/protocol/webview.ts). Pure functions plus one small
// incremental index (RunStepIndex); nothing here imports `vscode`.
import { stringify as toYaml } from "yaml";
import type { ConfigIssue } from "../../engine/config/yamlPositions";
import type { ResolvedInstanceConfig } from "../../engine/config/instanceSchema";
import type { DefinitionsSnapshot, JobSnapshot, StepSnapshot } from "../../engine/definitions/snapshot";
import { FINISHED_STATUSES, IN_PROGRESS_STATUSES, type RunRecord, type StoredEvent } from "../../engine/events";
import type { PoolInfo } from "../../engine/pools/poolStore";
import type { RetryPolicyData } from "../../sdk/retry";
import type {
  AssetView,
  ConcurrencyView,
  ConfigIssueView,
  DefinitionsView,
  GraphNodeView,
  JobView,
  RetryPolicyView,
  RunView,
  StepState,
  StepView,
  TagLimitView,
} from "../../protocol/webview";

function retry(p: RetryPolicyData | null | undefined): RetryPolicyView | null {
  return p ? { maxRetries: p.maxRetries, delay: p.delay, backoff: p.backoff ?? null, jitter: p.jitter ?? null } : null;
}

function stepView(s: StepSnapshot): StepView {
  const upstream = [...new Set(s.inputs.flatMap((i) => i.sources.map((src) => src.step)))];
  return {
    key: s.key,
    node: s.node,
    opName: s.opName,
    description: s.description,
    upstream,
    inputs: s.inputs.map((i) => i.name),
    outputs: s.outputs.map((o) => o.name),
    tags: s.tags,
    pool: s.pool,
    retryPolicy: retry(s.retryPolicy),
    configSchema: s.configSchema,
    source: s.source,
    assetKey: s.assetKey,
  };
}

function nodeView(n: { name: string; upstream: string[]; children?: unknown[] }): GraphNodeView {
  const children = n.children as { name: string; upstream: string[]; children?: unknown[] }[] | undefined;
  return children ? { name: n.name, upstream: n.upstream, children: children.map(nodeView) } : { name: n.name, upstream: n.upstream };
}

function jobView(j: JobSnapshot): JobView {
  let defaultRunConfigYaml: string | undefined;
  if (j.defaultRunConfig && Object.keys(j.defaultRunConfig).length > 0) {
    try {
      defaultRunConfigYaml = toYaml(j.defaultRunConfig);
    } catch {
      defaultRunConfigYaml = undefined;
    }
  }
  return {
    name: j.name,
    kind: j.kind,
    description: j.description,
    tags: j.tags,
    source: j.source,
    executor: j.executor.name,
    executorBuiltin: j.executor.builtin,
    opRetryPolicy: retry(j.opRetryPolicy),
    steps: j.steps.map(stepView),
    nodes: j.nodes.map(nodeView),
    assetKeys: j.assetKeys,
    defaultRunConfigYaml,
  };
}

/** The definitions as the webview sees them: user jobs, assets (with their step's config schema), errors. */
export function definitionsView(d: DefinitionsSnapshot): DefinitionsView {
  const implicit = d.jobs.find((j) => j.implicit);
  const stepOf = new Map((implicit?.steps ?? []).map((s) => [s.key, s]));
  const assets: AssetView[] = d.assets.map((a) => {
    const step = stepOf.get(a.outputStep);
    return {
      key: a.key,
      node: a.node,
      kind: a.kind,
      deps: a.deps,
      group: a.group,
      description: a.description,
      tags: a.tags,
      pool: a.pool,
      source: a.source,
      outputStep: a.outputStep,
      opName: step?.opName,
      retryPolicy: retry(step?.retryPolicy ?? implicit?.opRetryPolicy),
      configSchema: step?.configSchema ?? null,
    };
  });
  return {
    workspace: d.workspace,
    loadedAt: d.loadedAt,
    jobs: d.jobs.filter((j) => !j.implicit).map(jobView),
    assets,
    errors: d.errors.map((e) => ({ kind: e.kind, file: e.file, line: e.line, column: e.column, message: e.message, name: e.name })),
    assetJobName: implicit?.name ?? null,
  };
}

export function runView(r: RunRecord, fold?: RunFold): RunView {
  const queueReason = typeof r.meta?.queueReason === "string" ? (r.meta.queueReason as string) : undefined;
  const v: RunView = {
    runId: r.runId,
    jobName: r.jobName,
    status: r.status,
    tags: r.tags,
    opSelection: r.opSelection,
    stepKeysToExecute: r.stepKeysToExecute,
    assetSelection: r.assetSelection,
    parentRunId: r.parentRunId,
    rootRunId: r.rootRunId,
    createTime: r.createTime,
    updateTime: r.updateTime,
    startTime: r.startTime,
    endTime: r.endTime,
  };
  if (queueReason && r.status === "QUEUED") v.queueReason = queueReason;
  if (fold) {
    const finished = FINISHED_STATUSES.includes(r.status);
    const steps: Record<string, StepState> = {};
    for (const [k, s] of fold.steps) steps[k] = finished && (s === "running" || s === "waiting" || s === "retrying") ? "canceled" : s;
    v.steps = steps;
    v.materialized = [...fold.materialized];
    v.failedAssets = [...fold.failedAssets];
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// step states folded from events

export interface RunFold {
  lastEventId: number;
  steps: Map<string, StepState>;
  materialized: Set<string>;
  failedAssets: Set<string>;
}

export function newFold(): RunFold {
  return { lastEventId: 0, steps: new Map(), materialized: new Set(), failedAssets: new Set() };
}

/** True for the ENGINE_EVENT the engine stores when a step waits for a pool slot or a tag limit. */
export function isBlockedEvent(e: { type: string; message: string; data?: Record<string, unknown> }): boolean {
  return e.type === "ENGINE_EVENT" && (e.data?.blocked === true || /\bblocked by\b.*\blimit\b/i.test(e.message));
}

export function foldEvents(fold: RunFold, events: readonly StoredEvent[]): RunFold {
  for (const e of events) {
    if (e.id > fold.lastEventId) fold.lastEventId = e.id;
    const k = e.stepKey;
    switch (e.type) {
      case "STEP_START":
      case "STEP_RESTARTED":
        if (k) fold.steps.set(k, "running");
        break;
      case "STEP_UP_FOR_RETRY":
        if (k) fold.steps.set(k, "retrying");
        break;
      case "STEP_SUCCESS":
        if (k) fold.steps.set(k, "succeeded");
        break;
      case "STEP_FAILURE":
        if (k) fold.steps.set(k, "failed");
        break;
      case "STEP_SKIPPED":
        if (k) fold.steps.set(k, "skipped");
        break;
      case "ASSET_MATERIALIZATION": {
        const key = e.data?.assetKey;
        if (typeof key === "string") {
          fold.materialized.add(key);
          fold.failedAssets.delete(key);
        }
        break;
      }
      case "ASSET_FAILED_TO_MATERIALIZE": {
        const key = e.data?.assetKey;
        if (typeof key === "string") fold.failedAssets.add(key);
        break;
      }
      case "ENGINE_EVENT":
        if (k && isBlockedEvent(e) && (fold.steps.get(k) ?? "waiting") === "waiting") fold.steps.set(k, "waiting");
        break;
      default:
        break;
    }
  }
  return fold;
}

// ---------------------------------------------------------------------------------------------
// concurrency

/** Builds the concurrency page's model from the engine's pool info, the resolved instance config and the runs. */
export function concurrencyView(pools: readonly PoolInfo[], config: ResolvedInstanceConfig, runs: readonly Pick<RunRecord, "status" | "tags">[]): ConcurrencyView {
  const inProgress = runs.filter((r) => IN_PROGRESS_STATUSES.includes(r.status));
  const tagLimits: TagLimitView[] = config.concurrency.runs.tag_concurrency_limits.map((l) => {
    const current: { value?: string; count: number }[] = [];
    if (typeof l.value === "string") {
      current.push({ value: l.value, count: inProgress.filter((r) => r.tags[l.key] === l.value).length });
    } else if (l.value && typeof l.value === "object" && l.value.applyLimitPerUniqueValue) {
      const counts = new Map<string, number>();
      for (const r of inProgress) if (l.key in r.tags) counts.set(r.tags[l.key], (counts.get(r.tags[l.key]) ?? 0) + 1);
      for (const [value, count] of [...counts].sort()) current.push({ value, count });
    } else {
      current.push({ count: inProgress.filter((r) => l.key in r.tags).length });
    }
    return { key: l.key, value: l.value, limit: l.limit, current };
  });
  return {
    pools: pools.map((p) => ({
      pool: p.pool,
      limit: p.limit,
      usingDefault: p.usingDefault,
      claimed: p.claimed.map((c) => ({ runId: c.runId, stepKey: c.stepKey })),
      pending: p.pending.filter((x) => !x.assigned).map((x) => ({ runId: x.runId, stepKey: x.stepKey, priority: x.priority, createTime: x.createTime })),
    })),
    defaultPoolLimit: config.concurrency.pools.default_limit,
    granularity: config.concurrency.pools.granularity,
    runs: {
      maxConcurrentRuns: config.concurrency.runs.max_concurrent_runs,
      inProgress: inProgress.length,
      queued: runs.filter((r) => r.status === "QUEUED").length,
      tagLimits,
    },
  };
}

export function issueView(i: ConfigIssue): ConfigIssueView {
  return { line: i.line, column: i.column, endLine: i.endLine, endColumn: i.endColumn, keyPath: i.keyPath, message: i.message, code: i.code };
}
