// The execution plan: which steps a run executes, in what order, and where every input comes from.
// Pure data computed from the job snapshot, so `sluice job plan` can show it without running code.
import type { OutputDef, Tags } from "../../sdk/definitions";
import type { RetryPolicyData } from "../../sdk/retry";
import type { JobSnapshot, StepSnapshot } from "../definitions/snapshot";
import { systemTag } from "../events";
import { resolveOpSelection, SelectionError } from "../selection";

export type InputSource =
  /** Produced by a step of this run. */
  | { kind: "step"; step: string; output: string }
  /** Given in run config `ops.<step>.inputs.<input>`. */
  | { kind: "config"; value: unknown }
  /** Produced by a step of an earlier run (the step is not part of this run). */
  | { kind: "run"; runId: string; step: string; output: string; assetKey?: string };

export interface PlanInput {
  name: string;
  fanIn: boolean;
  sources: InputSource[];
  /** For asset steps: the upstream asset key this input carries. */
  asset?: string;
}

export interface PlanStep {
  key: string;
  node: string;
  opName: string;
  /** Steps of this run that must finish first. */
  upstream: string[];
  inputs: PlanInput[];
  outputs: OutputDef[];
  tags: Tags;
  pool: string | null;
  priority: number;
  retryPolicy: RetryPolicyData | null;
  assetKey?: string;
}

export interface ExecutionPlan {
  jobName: string;
  /** In the order an in-process run executes them when every step succeeds. */
  steps: PlanStep[];
}

export type PlanErrorCode = "INVALID_SELECTION" | "MISSING_INPUT" | "INVALID_PRIORITY" | "EMPTY_PLAN";

export class PlanError extends Error {
  constructor(readonly code: PlanErrorCode, message: string, readonly details: string[] = []) {
    super(message);
    this.name = "PlanError";
  }
}

export interface PlanOptions {
  /** Op selection clauses (already split); undefined = the whole job. */
  selection?: string[];
  /** Explicit step keys (re-execution); takes precedence over `selection`. */
  stepKeys?: string[];
  runConfig?: Record<string, unknown>;
  /** Finds an earlier run's stored output for a step that is not part of this run. */
  findEarlierOutput?: (step: string, output: string, assetKey?: string) => { runId: string } | undefined;
}

const INTEGER = /^[+-]?\d+$/;

/** `sluice/priority` (or `dagster/priority`) as an integer; a non-integer is an error at plan time. */
export function stepPriority(step: { key: string; tags: Tags }): number {
  const raw = systemTag(step.tags, "priority");
  if (raw === undefined) return 0;
  if (!INTEGER.test(raw.trim())) {
    throw new PlanError("INVALID_PRIORITY", `Op tag sluice/priority of step "${step.key}" must be an integer, got "${raw}".`);
  }
  return Number.parseInt(raw, 10);
}

export function selectStepKeys(job: JobSnapshot, selection: string[] | undefined): Set<string> {
  if (selection === undefined) return new Set(job.steps.map((s) => s.key));
  let nodes: string[];
  try {
    nodes = resolveOpSelection({ nodes: job.nodes }, selection);
  } catch (e) {
    if (e instanceof SelectionError) throw new PlanError("INVALID_SELECTION", e.message);
    throw e;
  }
  const picked = new Set(nodes);
  return new Set(job.steps.filter((s) => picked.has(s.node) || picked.has(s.key)).map((s) => s.key));
}

function configInput(runConfig: Record<string, unknown> | undefined, step: StepSnapshot, input: string): { found: boolean; value?: unknown } {
  const ops = runConfig?.ops as Record<string, unknown> | undefined;
  const opConfig = (ops?.[step.key] ?? ops?.[step.node]) as Record<string, unknown> | undefined;
  const inputs = opConfig?.inputs as Record<string, unknown> | undefined;
  if (!inputs || !(input in inputs)) return { found: false };
  const raw = inputs[input];
  // Dagster accepts both `num: 5` and `num: {value: 5}`.
  const value = raw !== null && typeof raw === "object" && !Array.isArray(raw) && Object.keys(raw).length === 1 && "value" in raw
    ? (raw as { value: unknown }).value
    : raw;
  return { found: true, value };
}

/**
 * Where one input of a planned step comes from: steps of this run, else run config, else an
 * earlier run's stored output; otherwise the problem is added to `missing`.
 */
function resolveInput(step: StepSnapshot, input: StepSnapshot["inputs"][number], selected: Set<string>, options: PlanOptions, missing: string[]): PlanInput {
  const base = { name: input.name, fanIn: input.fanIn, ...(input.upstreamAsset ? { asset: input.upstreamAsset } : {}) };
  const inRun = input.sources.filter((src) => selected.has(src.step));
  if (inRun.length > 0) {
    // Fan-in keeps only the selected sources, as Dagster's subsetting does.
    return { ...base, sources: inRun.map((src) => ({ kind: "step" as const, ...src })) };
  }
  const fromConfig = configInput(options.runConfig, step, input.name);
  if (fromConfig.found) return { ...base, sources: [{ kind: "config" as const, value: fromConfig.value }] };
  if (input.sources.length > 0 && options.findEarlierOutput) {
    const earlier = input.sources.map((src) => {
      const found = options.findEarlierOutput!(src.step, src.output, input.upstreamAsset);
      return found ? { kind: "run" as const, runId: found.runId, step: src.step, output: src.output, assetKey: input.upstreamAsset } : undefined;
    });
    if (earlier.every((e) => e !== undefined)) return { ...base, sources: earlier as InputSource[] };
  }
  const upstream = input.sources.map((src) => src.step);
  missing.push(
    upstream.length > 0
      ? `input "${input.name}" of step "${step.key}": its upstream step ${upstream.map((u) => `"${u}"`).join(", ")} is not selected and has no stored output from an earlier run; select it, or give the value in run config ops.${step.key}.inputs.${input.name}`
      : `input "${input.name}" of step "${step.key}" is not wired to any op; give it in run config ops.${step.key}.inputs.${input.name}`,
  );
  return { ...base, sources: [] };
}

export function buildPlan(job: JobSnapshot, options: PlanOptions = {}): ExecutionPlan {
  const selected = options.stepKeys ? new Set(options.stepKeys) : selectStepKeys(job, options.selection);
  const unknown = options.stepKeys?.filter((k) => !job.steps.some((s) => s.key === k)) ?? [];
  if (unknown.length > 0) throw new PlanError("INVALID_SELECTION", `Unknown step${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`);
  const steps: PlanStep[] = [];
  const missing: string[] = [];
  for (const s of job.steps) {
    if (!selected.has(s.key)) continue;
    const inputs = s.inputs.map((input) => resolveInput(s, input, selected, options, missing));
    const upstream = [...new Set(inputs.flatMap((i) => i.sources.flatMap((src) => (src.kind === "step" ? [src.step] : []))))];
    steps.push({
      key: s.key,
      node: s.node,
      opName: s.opName,
      upstream,
      inputs,
      outputs: s.outputs,
      tags: s.tags,
      pool: s.pool,
      priority: stepPriority(s),
      retryPolicy: s.retryPolicy,
      assetKey: s.assetKey,
    });
  }
  if (missing.length > 0) {
    throw new PlanError("MISSING_INPUT", `Missing input${missing.length > 1 ? "s" : ""} for job "${job.name}":\n  ${missing.join("\n  ")}`, missing);
  }
  if (steps.length === 0) throw new PlanError("EMPTY_PLAN", `Job "${job.name}" has no steps to execute.`);
  return { jobName: job.name, steps: executionOrder(steps) };
}

/**
 * Orders steps the way the in-process executor runs them when all succeed: among ready steps,
 * highest priority first, then the order they became ready (definition order for ties).
 */
export function executionOrder(steps: PlanStep[]): PlanStep[] {
  const byKey = new Map(steps.map((s) => [s.key, s]));
  const remaining = new Map(steps.map((s) => [s.key, s.upstream.length]));
  const downstream = new Map<string, string[]>();
  for (const s of steps) for (const u of s.upstream) downstream.set(u, [...(downstream.get(u) ?? []), s.key]);
  const ready = new ReadyQueue<PlanStep>();
  let seq = 0;
  for (const s of steps) if (s.upstream.length === 0) ready.push(s, s.priority, seq++);
  const ordered: PlanStep[] = [];
  while (ready.size > 0) {
    const s = ready.pop()!;
    ordered.push(s);
    for (const d of downstream.get(s.key) ?? []) {
      const left = remaining.get(d)! - 1;
      remaining.set(d, left);
      if (left === 0) ready.push(byKey.get(d)!, byKey.get(d)!.priority, seq++);
    }
  }
  return ordered;
}

/** A binary heap: highest priority first, then lowest sequence number (stable). */
export class ReadyQueue<T> {
  private heap: { item: T; priority: number; seq: number }[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(item: T, priority: number, seq: number): void {
    const h = this.heap;
    h.push({ item, priority, seq });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  pop(): T | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l], h[m])) m = l;
        if (r < h.length && this.before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top.item;
  }

  /** The item `pop()` returns next. */
  peek(): T | undefined {
    return this.heap[0]?.item;
  }

  /** Sequence number of the item `pop()` returns next. */
  peekSeq(): number {
    return this.heap[0]?.seq ?? -1;
  }

  private before(a: { priority: number; seq: number }, b: { priority: number; seq: number }): boolean {
    return a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq;
  }
}
