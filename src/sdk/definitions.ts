import type { z } from "zod";
import type { OpContext } from "./context";
import type { ExecutorDefinition } from "./executors";
import { DefinitionError, KIND, type SourcePosition } from "./markers";
import { parameterNames } from "./params";
import { RetryPolicy } from "./retry";
import { captureSource } from "./source";

export type Tags = Record<string, string>;

export interface OutputSpec {
  /** An optional output may be left out of the returned value; steps that need it are then skipped. */
  isRequired?: boolean;
  description?: string;
}

export interface OutputDef {
  name: string;
  isRequired: boolean;
  description?: string;
}

/** The part of an op that does not depend on how it is invoked. */
export interface OpCore {
  readonly name: string;
  readonly description?: string;
  readonly inputNames: readonly string[];
  readonly outputs: readonly OutputDef[];
  /** zod schema of `ops.<op>.config`. */
  readonly configSchema?: z.ZodType;
  readonly tags: Readonly<Tags>;
  readonly pool?: string;
  readonly retryPolicy?: RetryPolicy;
  /** Positional: fn(ctx, ...inputs). Named (assets): fn(ctx, { upstream: value }). */
  readonly inputStyle: "positional" | "named";
  readonly fn: (ctx: OpContext, ...args: any[]) => unknown;
  readonly source: SourcePosition;
  readonly assetKey?: string;
}

export interface OutputHandle {
  readonly [KIND]: "output";
  readonly node: string;
  readonly output: string;
}

/** How an op is placed in a graph: its node name and per-invocation overrides. */
interface Invocation {
  alias?: string;
  tags?: Tags;
  retryPolicy?: RetryPolicy;
}

export interface InputBinding {
  handles: OutputHandle[];
  /** The input was given a list of outputs (fan-in): its value is the list of their values. */
  fanIn: boolean;
}

export interface ComposedNode {
  name: string;
  op: OpCore;
  /** Indexed like op.inputNames; undefined = not wired in the graph (comes from config or an earlier run). */
  inputs: (InputBinding | undefined)[];
  tags: Tags;
  retryPolicy?: RetryPolicy;
  source: SourcePosition;
}

export interface ComposedGraph {
  nodes: ComposedNode[];
  /** For graph assets: the handle the body returned. */
  output?: OutputHandle;
}

/** An op: call it inside a job body to add it to the graph. */
export interface OpDefinition {
  (...inputs: any[]): any;
  readonly [KIND]: "op";
  readonly definition: OpCore;
  readonly invocation: Readonly<Invocation>;
  /** The same op under another node name. */
  alias(name: string): OpDefinition;
  /** The same op with extra tags on this invocation. */
  tag(tags: Tags): OpDefinition;
  withRetryPolicy(policy: RetryPolicy): OpDefinition;
}

export interface OpOptions<S extends z.ZodType = z.ZodType> {
  name?: string;
  description?: string;
  /** Input names; by default the function's parameter names after `ctx`. */
  ins?: string[];
  /** Output names (default one output named "result"), or specs by name. */
  outs?: string[] | Record<string, OutputSpec>;
  config?: S;
  tags?: Tags;
  /** Concurrency pool: steps of this op claim a slot of the pool before running. */
  pool?: string;
  retryPolicy?: RetryPolicy;
}

type OpFn<S extends z.ZodType> = (ctx: OpContext<z.output<S>>, ...inputs: any[]) => unknown;

// ---------------------------------------------------------------------------------------------
// Composition: job and graph-asset bodies run with a current graph that op invocations append to.

interface Composition {
  nodes: ComposedNode[];
  names: Set<string>;
  /** Next automatic alias suffix per op name (return_one, return_one_2, ...). */
  nextSuffix: Map<string, number>;
}
let composing: Composition | null = null;

function compose(body: () => unknown, owner: SourcePosition): { graph: ComposedGraph; returned: unknown } {
  const outer = composing;
  const current: Composition = { nodes: [], names: new Set(), nextSuffix: new Map() };
  composing = current;
  try {
    const returned = body();
    if (returned instanceof Promise) {
      throw new DefinitionError("A job or graph body must be synchronous: it only wires ops together; do the work inside ops.", owner);
    }
    return { graph: { nodes: current.nodes }, returned };
  } finally {
    composing = outer;
  }
}

function isOutputHandle(value: unknown): value is OutputHandle {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[KIND] === "output";
}

function handle(node: string, output: string): OutputHandle {
  return Object.freeze({ [KIND]: "output" as const, node, output });
}

function invoke(core: OpCore, invocation: Invocation, args: unknown[]): unknown {
  const graph = composing!;
  const callSite = captureSource();
  let name = invocation.alias ?? core.name;
  if (graph.names.has(name)) {
    if (invocation.alias) {
      throw new DefinitionError(`Two nodes in this graph are named "${name}": give one a different alias.`, callSite);
    }
    let n = graph.nextSuffix.get(core.name) ?? 2;
    while (graph.names.has(`${core.name}_${n}`)) n++;
    graph.nextSuffix.set(core.name, n + 1);
    name = `${core.name}_${n}`;
  }
  if (args.length > core.inputNames.length) {
    throw new DefinitionError(
      `Op "${core.name}" takes ${core.inputNames.length} input(s) (${core.inputNames.join(", ") || "none"}) but was given ${args.length}.`,
      callSite,
    );
  }
  const inputs = core.inputNames.map((inputName, i): InputBinding | undefined => {
    const arg = args[i];
    if (arg === undefined) return undefined;
    if (isOutputHandle(arg)) return { handles: [arg], fanIn: false };
    if (Array.isArray(arg) && arg.every(isOutputHandle)) return { handles: arg, fanIn: true };
    if (isMultiOutput(arg)) {
      throw new DefinitionError(
        `Input "${inputName}" of "${name}" was given all outputs of an op with several outputs; pick one, e.g. \`const { ${Object.keys(arg).join(", ")} } = ...\`.`,
        callSite,
      );
    }
    throw new DefinitionError(
      `Input "${inputName}" of "${name}" got a plain value; inside a job, inputs come from other ops' outputs, or from run config \`ops.${name}.inputs.${inputName}\`.`,
      callSite,
    );
  });
  graph.names.add(name);
  graph.nodes.push({
    name,
    op: core,
    inputs,
    tags: { ...core.tags, ...invocation.tags },
    retryPolicy: invocation.retryPolicy ?? core.retryPolicy,
    source: callSite,
  });
  if (core.outputs.length === 1) return handle(name, core.outputs[0].name);
  const outs: Record<string, OutputHandle> = {};
  for (const o of core.outputs) outs[o.name] = handle(name, o.name);
  Object.defineProperty(outs, MULTI, { value: true });
  Object.defineProperty(outs, Symbol.iterator, { value: () => Object.values(outs)[Symbol.iterator]() });
  return Object.freeze(outs);
}

const MULTI = Symbol("sluice.multiOutput");
function isMultiOutput(value: unknown): value is Record<string, OutputHandle> {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MULTI] === true;
}

// ---------------------------------------------------------------------------------------------
// Direct invocation (outside a job): run the function, as Dagster allows for unit tests.

const CONTEXT_MARK = Symbol.for("sluice.context");

/** A context for calling an op directly in a unit test: `my_op(buildOpContext({ config }), 1)`. */
export function buildOpContext<C = any>(overrides: Partial<OpContext<C>> = {}): OpContext<C> {
  const noop = () => undefined;
  const ctx = {
    runId: "direct-invocation",
    jobName: "",
    stepKey: "",
    opName: "",
    config: {} as C,
    tags: {},
    runTags: {},
    log: { debug: noop, info: noop, warning: noop, error: noop },
    retryNumber: 0,
    instance: { getRunRecords: async () => [] },
    ...overrides,
  };
  Object.defineProperty(ctx, CONTEXT_MARK, { value: true });
  return ctx;
}

function invokeDirectly(core: OpCore, args: unknown[]): unknown {
  const first = args[0];
  const hasCtx = typeof first === "object" && first !== null && (first as Record<symbol, unknown>)[CONTEXT_MARK] === true;
  const ctx = hasCtx ? (first as OpContext) : buildOpContext({ opName: core.name });
  const rest = hasCtx ? args.slice(1) : args;
  const config = core.configSchema ? core.configSchema.parse(ctx.config ?? {}) : ctx.config;
  return core.fn({ ...ctx, opName: core.name, config } as OpContext, ...rest);
}

// ---------------------------------------------------------------------------------------------
// op

function makeOp(core: OpCore, invocation: Invocation): OpDefinition {
  const callable = function (this: unknown, ...args: unknown[]) {
    return composing ? invoke(core, invocation, args) : invokeDirectly(core, args);
  } as unknown as OpDefinition;
  Object.defineProperty(callable, "name", { value: invocation.alias ?? core.name });
  Object.defineProperties(callable, {
    [KIND]: { value: "op" },
    definition: { value: core },
    invocation: { value: Object.freeze({ ...invocation }) },
    alias: { value: (alias: string) => makeOp(core, { ...invocation, alias }) },
    tag: { value: (tags: Tags) => makeOp(core, { ...invocation, tags: { ...invocation.tags, ...tags } }) },
    withRetryPolicy: { value: (retryPolicy: RetryPolicy) => makeOp(core, { ...invocation, retryPolicy }) },
  });
  return callable;
}

function normalizeOuts(outs: OpOptions["outs"], source: SourcePosition): OutputDef[] {
  if (outs === undefined) return [{ name: "result", isRequired: true }];
  const list: OutputDef[] = Array.isArray(outs)
    ? outs.map((name) => ({ name, isRequired: true }))
    : Object.entries(outs).map(([name, spec]) => ({ name, isRequired: spec.isRequired ?? true, description: spec.description }));
  if (list.length === 0) throw new DefinitionError("`outs` must name at least one output.", source);
  return list;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkName(kind: string, name: string | undefined, source: SourcePosition, pattern = NAME): string {
  if (!name) throw new DefinitionError(`This ${kind} has no name: pass \`name\` or use a named function.`, source);
  if (!pattern.test(name)) {
    throw new DefinitionError(`${kind} name "${name}" is not valid: use letters, digits and underscores, not starting with a digit.`, source);
  }
  return name;
}

function checkTags(tags: unknown, source: SourcePosition): Tags {
  if (tags === undefined) return {};
  if (typeof tags !== "object" || tags === null || Array.isArray(tags)) throw new DefinitionError("`tags` must be an object of strings.", source);
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v !== "string") throw new DefinitionError(`Tag "${k}" must be a string, got ${typeof v}.`, source);
  }
  return { ...(tags as Tags) };
}

function checkPolicy(policy: unknown, source: SourcePosition): RetryPolicy | undefined {
  if (policy === undefined) return undefined;
  if (!(policy instanceof RetryPolicy) && !(typeof policy === "object" && policy !== null && "maxRetries" in policy)) {
    throw new DefinitionError("`retryPolicy` must be a RetryPolicy, e.g. `new RetryPolicy({ maxRetries: 3 })`.", source);
  }
  return policy as RetryPolicy;
}

/**
 * Defines an op: `op(fn)` or `op(options, fn)`. `fn(ctx, ...inputs)`; the name defaults to the
 * function's name, input names to its parameter names after `ctx`.
 */
export function op<S extends z.ZodType = z.ZodType<any>>(fn: OpFn<S>): OpDefinition;
export function op<S extends z.ZodType = z.ZodType<any>>(options: OpOptions<S>, fn: OpFn<S>): OpDefinition;
export function op(a: OpOptions | OpFn<z.ZodType>, b?: OpFn<z.ZodType>): OpDefinition {
  const source = captureSource();
  const options: OpOptions = typeof a === "function" ? {} : a;
  const fn = typeof a === "function" ? a : b;
  if (typeof fn !== "function") throw new DefinitionError("op() needs a function: op(fn) or op(options, fn).", source);
  const name = checkName("op", options.name ?? fn.name, source);
  const inputNames = options.ins ?? parameterNames(fn).slice(1);
  const core: OpCore = Object.freeze({
    name,
    description: options.description,
    inputNames: Object.freeze([...inputNames]),
    outputs: Object.freeze(normalizeOuts(options.outs, source)),
    configSchema: options.config,
    tags: Object.freeze(checkTags(options.tags, source)),
    pool: options.pool,
    retryPolicy: checkPolicy(options.retryPolicy, source),
    inputStyle: "positional",
    fn,
    source,
  });
  return makeOp(core, {});
}

// ---------------------------------------------------------------------------------------------
// job

export interface JobOptions {
  name?: string;
  description?: string;
  tags?: Tags;
  /** Default run config (Dagster's `config=`): merged under the run config a launch provides. */
  config?: Record<string, unknown>;
  executor?: ExecutorDefinition;
  /** Retry policy for every op of the job that has none of its own. */
  opRetryPolicy?: RetryPolicy;
}

export interface JobDefinition {
  readonly [KIND]: "job";
  readonly name: string;
  readonly description?: string;
  readonly tags: Readonly<Tags>;
  readonly config?: Record<string, unknown>;
  readonly executor?: ExecutorDefinition;
  readonly opRetryPolicy?: RetryPolicy;
  readonly source: SourcePosition;
  /** Runs the body once (then cached) and returns the graph it wired. */
  graph(): ComposedGraph;
}

/** Defines a job: `job(options, body)`; the body wires ops by invoking them. */
export function job(body: () => void): JobDefinition;
export function job(options: JobOptions, body: () => void): JobDefinition;
export function job(a: JobOptions | (() => void), b?: () => void): JobDefinition {
  const source = captureSource();
  const options: JobOptions = typeof a === "function" ? {} : a;
  const body = typeof a === "function" ? a : b;
  if (typeof body !== "function") throw new DefinitionError("job() needs a body function: job(options, () => { ... }).", source);
  const name = checkName("job", options.name ?? body.name, source);
  let cached: ComposedGraph | undefined;
  return Object.freeze({
    [KIND]: "job" as const,
    name,
    description: options.description,
    tags: Object.freeze(checkTags(options.tags, source)),
    config: options.config,
    executor: options.executor,
    opRetryPolicy: checkPolicy(options.opRetryPolicy, source),
    source,
    graph() {
      cached ??= compose(body, source).graph;
      return cached;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// assets

type AssetRef = AssetDefinition | GraphAssetDefinition | string;
const ASSET_KEY = /^[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*$/;

export interface AssetOptions<S extends z.ZodType = z.ZodType> {
  name?: string;
  description?: string;
  /** Upstream assets; their values arrive in the second argument by name. */
  deps?: AssetRef[];
  group?: string;
  config?: S;
  tags?: Tags;
  pool?: string;
  retryPolicy?: RetryPolicy;
}

export interface AssetDefinition {
  readonly [KIND]: "asset";
  readonly key: string;
  readonly name: string;
  readonly deps: readonly string[];
  readonly group?: string;
  readonly op: OpCore;
  readonly source: SourcePosition;
}

function depKeys(deps: AssetRef[] | undefined, source: SourcePosition): string[] {
  return (deps ?? []).map((d) => {
    if (typeof d === "string") return d;
    if (d && (d[KIND] === "asset" || d[KIND] === "graphAsset")) return d.key;
    throw new DefinitionError("`deps` entries must be assets or asset keys (strings).", source);
  });
}

/** Node name of an asset in asset jobs: Dagster joins key parts with "__". */
export function assetNodeName(key: string): string {
  return key.split("/").join("__");
}

/** Defines an asset: `asset(options, async (ctx, { upstream }) => value)`. */
export function asset<S extends z.ZodType = z.ZodType<any>>(
  options: AssetOptions<S>,
  fn: (ctx: OpContext<z.output<S>>, upstream: Record<string, any>) => unknown,
): AssetDefinition;
export function asset(fn: (ctx: OpContext, upstream: Record<string, any>) => unknown): AssetDefinition;
export function asset(a: AssetOptions | ((ctx: OpContext, up: Record<string, any>) => unknown), b?: (ctx: OpContext, up: Record<string, any>) => unknown): AssetDefinition {
  const source = captureSource();
  const options: AssetOptions = typeof a === "function" ? {} : a;
  const fn = typeof a === "function" ? a : b;
  if (typeof fn !== "function") throw new DefinitionError("asset() needs a function: asset(options, fn).", source);
  const key = checkName("asset", options.name ?? fn.name, source, ASSET_KEY);
  const deps = depKeys(options.deps, source);
  const core: OpCore = Object.freeze({
    name: assetNodeName(key),
    description: options.description,
    inputNames: Object.freeze(deps.map(assetNodeName)),
    outputs: Object.freeze([{ name: "result", isRequired: true }]),
    configSchema: options.config,
    tags: Object.freeze(checkTags(options.tags, source)),
    pool: options.pool,
    retryPolicy: checkPolicy(options.retryPolicy, source),
    inputStyle: "named" as const,
    fn,
    source,
    assetKey: key,
  });
  return Object.freeze({ [KIND]: "asset" as const, key, name: key, deps: Object.freeze(deps), group: options.group, op: core, source });
}

export interface GraphAssetOptions {
  name?: string;
  description?: string;
  deps?: AssetRef[];
  group?: string;
  tags?: Tags;
}

export interface GraphAssetDefinition {
  readonly [KIND]: "graphAsset";
  readonly key: string;
  readonly name: string;
  readonly description?: string;
  readonly deps: readonly string[];
  readonly group?: string;
  readonly tags: Readonly<Tags>;
  readonly source: SourcePosition;
  /** The wired ops; upstream asset values enter through handles on node `upstreamNode(key)`. */
  graph(): ComposedGraph;
}

/** Pseudo node through which a graph asset's body receives an upstream asset's value. */
export const UPSTREAM_ASSET_NODE = "__upstream_asset__";
export function upstreamAssetHandle(key: string): OutputHandle {
  return handle(`${UPSTREAM_ASSET_NODE}:${key}`, "result");
}

/** Defines an asset computed by a graph of ops; the body returns the output that is the asset's value. */
export function graphAsset(options: GraphAssetOptions, body: (upstream: Record<string, OutputHandle>) => unknown): GraphAssetDefinition {
  const source = captureSource();
  if (typeof body !== "function") throw new DefinitionError("graphAsset() needs a body function.", source);
  const key = checkName("asset", options.name ?? body.name, source, ASSET_KEY);
  const deps = depKeys(options.deps, source);
  let cached: ComposedGraph | undefined;
  return Object.freeze({
    [KIND]: "graphAsset" as const,
    key,
    name: key,
    description: options.description,
    deps: Object.freeze(deps),
    group: options.group,
    tags: Object.freeze(checkTags(options.tags, source)),
    source,
    graph() {
      if (!cached) {
        const upstream = Object.fromEntries(deps.map((d) => [d, upstreamAssetHandle(d)]));
        const { graph, returned } = compose(() => body(upstream), source);
        if (!isOutputHandle(returned)) {
          throw new DefinitionError(`graphAsset "${key}" must return the output of its last op, e.g. \`return my_op(...)\`.`, source);
        }
        cached = { ...graph, output: returned };
      }
      return cached;
    },
  });
}

export interface AssetJobOptions {
  name: string;
  description?: string;
  /** Assets to materialise: Dagster's clause syntax ("*", "orders+", "*summary", ...), a string or a list. Default "*". */
  selection?: string | string[];
  tags?: Tags;
  config?: Record<string, unknown>;
  executor?: ExecutorDefinition;
  opRetryPolicy?: RetryPolicy;
}

export interface AssetJobDefinition {
  readonly [KIND]: "assetJob";
  readonly name: string;
  readonly description?: string;
  readonly selection: readonly string[];
  readonly tags: Readonly<Tags>;
  readonly config?: Record<string, unknown>;
  readonly executor?: ExecutorDefinition;
  readonly opRetryPolicy?: RetryPolicy;
  readonly source: SourcePosition;
}

/** Defines a job that materialises a selection of the workspace's assets. */
export function defineAssetJob(options: AssetJobOptions): AssetJobDefinition {
  const source = captureSource();
  const name = checkName("job", options.name, source);
  const sel = options.selection ?? "*";
  const selection = typeof sel === "string" ? [sel] : [...sel];
  if (!selection.every((s) => typeof s === "string")) throw new DefinitionError("`selection` must be a string or a list of strings.", source);
  return Object.freeze({
    [KIND]: "assetJob" as const,
    name,
    description: options.description,
    selection: Object.freeze(selection),
    tags: Object.freeze(checkTags(options.tags, source)),
    config: options.config,
    executor: options.executor,
    opRetryPolicy: checkPolicy(options.opRetryPolicy, source),
    source,
  });
}
