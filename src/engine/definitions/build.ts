// Turns the live definitions exported by job files into the JSON snapshot, and keeps the table
// (job → step → op function) that a run worker needs to execute steps. Runs wherever user code is
// loaded: the code-location process, a run worker, a step worker, or `executeInProcess`.
import type {
  AssetDefinition,
  AssetJobDefinition,
  ComposedGraph,
  GraphAssetDefinition,
  JobDefinition,
  OpCore,
  OutputHandle,
} from "../../sdk/definitions";
import { assetNodeName, UPSTREAM_ASSET_NODE } from "../../sdk/definitions";
import type { ExecutorDefinition } from "../../sdk/executors";
import { DefinitionError, kindOf, type SourcePosition } from "../../sdk/markers";
import type { RetryPolicy } from "../../sdk/retry";
import { resolveAssetSelection, SelectionError, type SelectableNode } from "../selection";
import {
  IMPLICIT_ASSET_JOB,
  type AssetSnapshot,
  type JobSnapshot,
  type LoadError,
  type StepSnapshot,
} from "./snapshot";

/** What a step needs at run time besides its snapshot. */
export interface RuntimeStep {
  op: OpCore;
  retryPolicy?: RetryPolicy;
}

export interface RuntimeJob {
  snapshot: JobSnapshot;
  steps: Map<string, RuntimeStep>;
  executor?: ExecutorDefinition;
}

export interface BuiltDefinitions {
  jobs: Map<string, RuntimeJob>;
  assets: AssetSnapshot[];
  errors: LoadError[];
}

type AnyAsset = AssetDefinition | GraphAssetDefinition;
type ToJsonSchema = (schema: unknown) => Record<string, unknown>;

interface Found {
  name: string;
  kind: "job" | "assetJob" | "asset";
  source: SourcePosition;
  def: JobDefinition | AssetJobDefinition | AnyAsset;
}

function errorAt(kind: LoadError["kind"], source: SourcePosition, message: string, name?: string): LoadError {
  return { kind, file: source.file, line: source.line, column: source.column, message, name };
}

function samePlace(a: SourcePosition, b: SourcePosition): boolean {
  return a.file === b.file && a.line === b.line && a.column === b.column;
}

/**
 * Collects the definitions exported by loaded modules. The same definition reached twice (a file
 * bundled into another, or re-exported) is one definition: identity is its source position.
 */
export function collectDefinitions(modules: { file: string; exports: Record<string, unknown> }[]): { found: Found[]; errors: LoadError[] } {
  const byName = new Map<string, Found[]>();
  for (const m of modules) {
    for (const value of Object.values(m.exports ?? {})) {
      const kind = kindOf(value);
      if (kind !== "job" && kind !== "assetJob" && kind !== "asset" && kind !== "graphAsset") continue;
      const def = value as Found["def"];
      const entry: Found = { name: def.name, kind: kind === "graphAsset" ? "asset" : kind, source: def.source, def };
      const namespace = entry.kind === "asset" ? `asset:${entry.name}` : `job:${entry.name}`;
      const list = byName.get(namespace) ?? [];
      if (!list.some((f) => samePlace(f.source, entry.source))) list.push(entry);
      byName.set(namespace, list);
    }
  }
  const found: Found[] = [];
  const errors: LoadError[] = [];
  for (const list of byName.values()) {
    if (list.length === 1) {
      found.push(list[0]);
      continue;
    }
    for (const f of list) {
      const others = list.filter((o) => o !== f).map((o) => `${o.source.file}:${o.source.line}`).join(", ");
      errors.push(errorAt("duplicate", f.source, `Duplicate ${f.kind === "asset" ? "asset" : "job"} name "${f.name}" (also defined at ${others}).`, f.name));
    }
  }
  return { found, errors };
}

/**
 * `onlyJob`: build just that job (and the asset graph only if it is an asset job) — what a step
 * worker needs, which rebuilds the job for every step it is started for.
 */
export function buildDefinitions(
  modules: { file: string; exports: Record<string, unknown> }[],
  toJsonSchema: ToJsonSchema,
  options: { onlyJob?: string } = {},
): BuiltDefinitions {
  const { found, errors } = collectDefinitions(modules);
  const jobs = new Map<string, RuntimeJob>();
  const assetDefs = new Map<string, AnyAsset>();
  const only = options.onlyJob;
  const needAssets = only === undefined || only === IMPLICIT_ASSET_JOB || found.some((f) => f.name === only && f.kind === "assetJob");
  if (needAssets) for (const f of found) if (f.kind === "asset") assetDefs.set(f.name, f.def as AnyAsset);
  for (const node of assetNodeClashes(assetDefs)) errors.push(node);

  const assetGraph = buildAssetGraph(assetDefs, errors, toJsonSchema);
  for (const f of found) {
    if (only !== undefined && f.name !== only) continue;
    try {
      if (f.kind === "job") jobs.set(f.name, buildOpJob(f.def as JobDefinition, toJsonSchema));
      else if (f.kind === "assetJob") {
        const def = f.def as AssetJobDefinition;
        jobs.set(f.name, buildAssetJob(def.name, def, assetGraph, def.selection, errors));
      }
    } catch (e) {
      errors.push(definitionError(e, f.source, f.name));
    }
  }
  if (assetGraph.assets.length > 0 && !jobs.has(IMPLICIT_ASSET_JOB)) {
    const implicit = buildAssetJob(IMPLICIT_ASSET_JOB, undefined, assetGraph, ["*"], errors);
    implicit.snapshot.implicit = true;
    jobs.set(IMPLICIT_ASSET_JOB, implicit);
  }
  return { jobs, assets: assetGraph.assets, errors };
}

function definitionError(e: unknown, fallback: SourcePosition, name?: string): LoadError {
  if (e instanceof DefinitionError || (e instanceof Error && e.name === "DefinitionError")) {
    return errorAt("definition", (e as DefinitionError).source ?? fallback, e.message, name);
  }
  const message = e instanceof Error ? e.message : String(e);
  return errorAt("definition", fallback, `Error while building "${name}": ${message}`, name);
}

function assetNodeClashes(assets: Map<string, AnyAsset>): LoadError[] {
  const byNode = new Map<string, AnyAsset>();
  const errors: LoadError[] = [];
  for (const a of assets.values()) {
    const node = assetNodeName(a.key);
    const other = byNode.get(node);
    if (other) errors.push(errorAt("duplicate", a.source, `Assets "${a.key}" and "${other.key}" map to the same node name "${node}".`, a.key));
    byNode.set(node, a);
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Graph → steps

function configSchemaOf(op: OpCore, toJsonSchema: ToJsonSchema): Record<string, unknown> | null {
  if (!op.configSchema) return null;
  try {
    return toJsonSchema(op.configSchema);
  } catch {
    return { description: "config schema cannot be shown as JSON Schema" };
  }
}

function graphSteps(
  graph: ComposedGraph,
  prefix: string,
  topNode: (nodeName: string) => string,
  sourceOf: (h: OutputHandle) => { step: string; output: string },
  opRetryPolicy: RetryPolicy | undefined,
  toJsonSchema: ToJsonSchema,
): { steps: StepSnapshot[]; runtime: [string, RuntimeStep][] } {
  const steps: StepSnapshot[] = [];
  const runtime: [string, RuntimeStep][] = [];
  for (const node of graph.nodes) {
    const key = prefix + node.name;
    const retryPolicy = node.retryPolicy ?? opRetryPolicy;
    steps.push({
      key,
      node: topNode(node.name),
      opName: node.op.name,
      description: node.op.description,
      inputs: node.op.inputNames.map((name, i) => {
        const binding = node.inputs[i];
        return { name, sources: binding ? binding.handles.map(sourceOf) : [], fanIn: binding?.fanIn ?? false };
      }),
      outputs: [...node.op.outputs],
      tags: node.tags,
      pool: node.op.pool ?? node.tags["sluice/concurrency_key"] ?? node.tags["dagster/concurrency_key"] ?? null,
      retryPolicy: retryPolicy ? retryPolicy.toData() : null,
      configSchema: configSchemaOf(node.op, toJsonSchema),
      source: node.op.source,
    });
    runtime.push([key, { op: node.op, retryPolicy }]);
  }
  return { steps, runtime };
}

function executorSnapshot(executor: ExecutorDefinition | undefined): JobSnapshot["executor"] {
  return executor
    ? { name: executor.name, pinnedConfig: executor.pinnedConfig, ...(executor.builtin ? { builtin: executor.builtin } : {}) }
    : { name: "multi_or_in_process", builtin: "multi_or_in_process" };
}

function buildOpJob(def: JobDefinition, toJsonSchema: ToJsonSchema): RuntimeJob {
  const graph = def.graph();
  const { steps, runtime } = graphSteps(graph, "", (n) => n, (h) => ({ step: h.node, output: h.output }), def.opRetryPolicy, toJsonSchema);
  const nodes: SelectableNode[] = steps.map((s) => ({ name: s.key, upstream: uniqueUpstream(s) }));
  return {
    snapshot: {
      name: def.name,
      kind: "job",
      description: def.description,
      tags: { ...def.tags },
      source: def.source,
      executor: executorSnapshot(def.executor),
      defaultRunConfig: def.config,
      opRetryPolicy: def.opRetryPolicy ? def.opRetryPolicy.toData() : null,
      steps,
      nodes,
    },
    steps: new Map(runtime),
    executor: def.executor,
  };
}

function uniqueUpstream(step: StepSnapshot): string[] {
  return [...new Set(step.inputs.flatMap((i) => i.sources.map((s) => s.step)))];
}

// ---------------------------------------------------------------------------------------------
// Assets

interface AssetGraph {
  assets: AssetSnapshot[];
  /** Per asset key: its steps (one for a plain asset, the inner steps of a graph asset). */
  steps: Map<string, { steps: StepSnapshot[]; runtime: [string, RuntimeStep][]; children?: SelectableNode[] }>;
}

function outputOf(a: AnyAsset): { step: string; output: string } {
  const node = assetNodeName(a.key);
  if (kindOf(a) === "asset") return { step: node, output: "result" };
  const out = (a as GraphAssetDefinition).graph().output!;
  return { step: `${node}.${out.node}`, output: out.output };
}

function buildAssetGraph(assets: Map<string, AnyAsset>, errors: LoadError[], toJsonSchema: ToJsonSchema): AssetGraph {
  const valid = new Map<string, AnyAsset>();
  for (const a of assets.values()) {
    const missing = a.deps.filter((d) => !assets.has(d));
    if (missing.length > 0) {
      errors.push(errorAt("definition", a.source, `Asset "${a.key}" depends on unknown asset${missing.length > 1 ? "s" : ""} ${missing.map((m) => `"${m}"`).join(", ")}.`, a.key));
      continue;
    }
    valid.set(a.key, a);
  }
  for (const key of assetsInCycles(valid)) {
    const a = valid.get(key)!;
    errors.push(errorAt("cycle", a.source, `Asset "${key}" is part of a dependency cycle: ${describeCycle(valid, key)}.`, key));
  }
  for (const key of assetsInCycles(valid)) valid.delete(key);
  // Drop assets whose upstream was dropped (transitively), so every kept asset is fully defined.
  let changed = true;
  while (changed) {
    changed = false;
    for (const [key, a] of valid) {
      if (a.deps.some((d) => !valid.has(d))) {
        valid.delete(key);
        changed = true;
      }
    }
  }

  const result: AssetGraph = { assets: [], steps: new Map() };
  for (const a of [...valid.values()]) {
    try {
      const node = assetNodeName(a.key);
      if (kindOf(a) === "asset") {
        const def = a as AssetDefinition;
        const step: StepSnapshot = {
          key: node,
          node,
          opName: def.op.name,
          description: def.op.description,
          inputs: def.deps.map((d) => ({ name: assetNodeName(d), sources: [outputOf(valid.get(d)!)], fanIn: false, upstreamAsset: d })),
          outputs: [...def.op.outputs],
          tags: { ...def.op.tags },
          pool: def.op.pool ?? def.op.tags["sluice/concurrency_key"] ?? def.op.tags["dagster/concurrency_key"] ?? null,
          retryPolicy: def.op.retryPolicy ? def.op.retryPolicy.toData() : null,
          configSchema: configSchemaOf(def.op, toJsonSchema),
          source: def.source,
          assetKey: def.key,
        };
        result.steps.set(a.key, { steps: [step], runtime: [[node, { op: def.op, retryPolicy: def.op.retryPolicy }]] });
        result.assets.push(assetSnapshot(def.key, node, "asset", def.deps, def.group, def.op.description, def.op.tags, step.pool, def.source, node));
      } else {
        const def = a as GraphAssetDefinition;
        const graph = def.graph();
        const sourceOf = (h: OutputHandle) => {
          if (h.node.startsWith(UPSTREAM_ASSET_NODE + ":")) return outputOf(valid.get(h.node.slice(UPSTREAM_ASSET_NODE.length + 1))!);
          return { step: `${node}.${h.node}`, output: h.output };
        };
        const built = graphSteps(graph, `${node}.`, () => node, sourceOf, undefined, toJsonSchema);
        for (const s of built.steps) {
          s.tags = { ...def.tags, ...s.tags };
          for (const input of s.inputs) {
            const up = input.sources.find((src) => !src.step.startsWith(`${node}.`));
            if (up) input.upstreamAsset = def.deps.find((d) => outputOf(valid.get(d)!).step === up.step);
          }
        }
        const out = outputOf(def);
        const outStep = built.steps.find((s) => s.key === out.step);
        if (outStep) outStep.assetKey = def.key;
        const children: SelectableNode[] = graph.nodes.map((n) => ({
          name: n.name,
          upstream: [...new Set(n.inputs.flatMap((b) => b?.handles ?? []).filter((h) => !h.node.startsWith(UPSTREAM_ASSET_NODE)).map((h) => h.node))],
        }));
        result.steps.set(a.key, { ...built, children });
        result.assets.push(assetSnapshot(def.key, node, "graphAsset", def.deps, def.group, def.description, def.tags, null, def.source, out.step));
      }
    } catch (e) {
      errors.push(definitionError(e, a.source, a.key));
    }
  }
  return result;
}

function assetSnapshot(
  key: string, node: string, kind: AssetSnapshot["kind"], deps: readonly string[], group: string | undefined,
  description: string | undefined, tags: Readonly<Record<string, string>>, pool: string | null, source: SourcePosition, outputStep: string,
): AssetSnapshot {
  return { key, node, kind, deps: [...deps], group, description, tags: { ...tags }, pool, source, outputStep };
}

function assetsInCycles(assets: Map<string, AnyAsset>): Set<string> {
  // Tarjan's strongly connected components; a component of size > 1 (or a self-loop) is a cycle.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const inCycle = new Set<string>();
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of assets.get(v)!.deps) {
      if (!assets.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || assets.get(v)!.deps.includes(v)) component.forEach((c) => inCycle.add(c));
    }
  };
  for (const k of assets.keys()) if (!idx.has(k)) visit(k);
  return inCycle;
}

function describeCycle(assets: Map<string, AnyAsset>, start: string): string {
  // Walks deps staying inside the cycle until it returns to the start.
  const path = [start];
  const seen = new Set([start]);
  let current = start;
  for (;;) {
    const next = assets.get(current)!.deps.find((d) => d === start || (assets.has(d) && !seen.has(d) && reaches(assets, d, start)));
    if (!next || next === start) break;
    path.push(next);
    seen.add(next);
    current = next;
  }
  return [...path, start].join(" → ");
}

function reaches(assets: Map<string, AnyAsset>, from: string, to: string): boolean {
  const seen = new Set<string>();
  const todo = [from];
  while (todo.length) {
    const v = todo.pop()!;
    if (v === to) return true;
    if (seen.has(v) || !assets.has(v)) continue;
    seen.add(v);
    todo.push(...assets.get(v)!.deps);
  }
  return false;
}

function buildAssetJob(
  name: string,
  def: AssetJobDefinition | undefined,
  graph: AssetGraph,
  selection: readonly string[],
  errors: LoadError[],
): RuntimeJob {
  const all = graph.assets.map((a) => ({ key: a.key, upstream: a.deps }));
  let keys: string[];
  try {
    keys = resolveAssetSelection(all, [...selection]);
  } catch (e) {
    if (e instanceof SelectionError && def) {
      errors.push(errorAt("selection", def.source, `Asset job "${name}": ${e.message}`, name));
      keys = [];
    } else throw e;
  }
  const selected = new Set(keys);
  const steps: StepSnapshot[] = [];
  const runtime: [string, RuntimeStep][] = [];
  const nodes: SelectableNode[] = [];
  for (const a of graph.assets) {
    if (!selected.has(a.key)) continue;
    const s = graph.steps.get(a.key)!;
    const policy = def?.opRetryPolicy;
    for (const step of s.steps) {
      steps.push(policy && !step.retryPolicy ? { ...step, retryPolicy: policy.toData() } : step);
    }
    for (const [k, r] of s.runtime) runtime.push([k, policy && !r.retryPolicy ? { ...r, retryPolicy: policy } : r]);
    nodes.push({ name: a.node, upstream: a.deps.filter((d) => selected.has(d)).map(assetNodeName), children: s.children });
  }
  return {
    snapshot: {
      name,
      kind: "assetJob",
      description: def?.description ?? (def ? undefined : "Materialize any selection of the workspace's assets."),
      tags: { ...(def?.tags ?? {}) },
      source: def?.source ?? graph.assets[0]?.source ?? { file: "<none>", line: 1, column: 1 },
      executor: executorSnapshot(def?.executor),
      defaultRunConfig: def?.config,
      opRetryPolicy: def?.opRetryPolicy ? def.opRetryPolicy.toData() : null,
      steps,
      nodes,
      assetKeys: graph.assets.filter((a) => selected.has(a.key)).map((a) => a.key),
    },
    steps: new Map(runtime),
    executor: def?.executor,
  };
}
