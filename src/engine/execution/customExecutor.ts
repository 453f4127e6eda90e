// Custom executors: `executor({ name, configSchema, requirements }, init)` in a job file.
//
// The contract: `init({ executorConfig })` (sync or async) returns an object with
// `execute(run: ExecutorRun): Promise<ExecutorResult>`, the interface the built-in executors
// implement. `run` carries the plan, the run's events, `run.runStep(step, previousAttempts)` (one
// attempt in the run worker, with compute logs) and everything else the built-ins use; the SDK
// exports `ActiveExecution` to schedule with Dagster's semantics. `executorConfig` is the run
// config's `execution.config` over the definition's `.configured()` config, parsed by
// `configSchema` when there is one (defaults applied).
import type { ExecutorDefinition, ExecutorRequirement } from "../../sdk/executors";
import type { CustomExecutorConfig, ExecutorImplementation, ExecutorResult, ExecutorRun } from "./run";

export class ExecutorRequirementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExecutorRequirementError";
  }
}

export interface ExecutionSetting {
  /** Step code can be loaded by a fresh process (job files always can; `executeInProcess` jobs cannot). */
  reconstructable: boolean;
  /** The instance persists runs, events and outputs (false for `executeInProcess`). */
  persistentInstance: boolean;
}

const WHY: Record<ExecutorRequirement, string> = {
  RECONSTRUCTABLE_JOB: "it runs steps in other processes, which must be able to load the job from its job file",
  NON_EPHEMERAL_INSTANCE: "its steps run in separate processes that share outputs through a persistent instance",
  PERSISTENT_OUTPUTS: "its steps read their inputs from outputs stored by other processes",
};

/** Throws an ExecutorRequirementError that says which requirement fails, why it matters and what to do. */
export function checkExecutorRequirements(def: Pick<ExecutorDefinition, "name" | "requirements">, setting: ExecutionSetting, where: string): void {
  const unmet = def.requirements.filter((r) => (r === "RECONSTRUCTABLE_JOB" ? !setting.reconstructable : !setting.persistentInstance));
  if (unmet.length === 0) return;
  throw new ExecutorRequirementError(
    `The ${def.name} executor cannot run in ${where}: ${unmet.map((r) => `${r} (${WHY[r]})`).join("; ")}. ` +
      "Run the job with `sluice job execute` (or launch it), or use the in-process executor here.",
  );
}

interface ZodLike {
  safeParse(v: unknown): { success: true; data: unknown } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
}

function isZodLike(v: unknown): v is ZodLike {
  return typeof v === "object" && v !== null && typeof (v as { safeParse?: unknown }).safeParse === "function";
}

/** Issues of a custom executor's config against its schema, with paths from the run config root. */
export function validateExecutorConfig(def: ExecutorDefinition, config: unknown): { path: (string | number)[]; message: string }[] {
  if (!isZodLike(def.configSchema)) return [];
  const parsed = def.configSchema.safeParse(config ?? {});
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => ({
    path: ["execution", "config", ...i.path.filter((p): p is string | number => typeof p === "string" || typeof p === "number")],
    message: i.message,
  }));
}

function parseConfig(def: ExecutorDefinition, config: Record<string, unknown>): Record<string, unknown> {
  if (!isZodLike(def.configSchema)) return config;
  const parsed = def.configSchema.safeParse(config);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${["execution", "config", ...i.path.map(String)].join(".")}: ${i.message}`);
    throw new Error(`Invalid config for executor "${def.name}":\n  ${issues.join("\n  ")}`);
  }
  return (parsed.data ?? {}) as Record<string, unknown>;
}

function checkResult(name: string, r: unknown): ExecutorResult {
  const ok =
    typeof r === "object" && r !== null &&
    Array.isArray((r as ExecutorResult).failed) &&
    typeof (r as ExecutorResult).interrupted === "boolean" &&
    Array.isArray((r as ExecutorResult).unfinished);
  if (!ok) throw new Error(`Executor "${name}": execute(run) must resolve to { failed: string[], interrupted: boolean, unfinished: string[] }.`);
  return r as ExecutorResult;
}

/** Instantiates a job's custom executor for a run (in the run worker). Throws with a clear message. */
export async function customExecutorImplementation(
  def: ExecutorDefinition | undefined,
  resolved: CustomExecutorConfig,
  setting: { reconstructable: boolean },
): Promise<ExecutorImplementation> {
  if (!def || def.name !== resolved.name) {
    throw new Error(`The job's executor "${resolved.name}" is not defined in the job as the run worker loaded it.`);
  }
  if (typeof def.init !== "function") throw new Error(`Executor "${def.name}" has no init function.`);
  checkExecutorRequirements(def, { reconstructable: setting.reconstructable, persistentInstance: setting.reconstructable }, "this run");
  const executorConfig = parseConfig(def, resolved.config);
  let instance: unknown;
  try {
    instance = await def.init({ executorConfig });
  } catch (e) {
    throw new Error(`Executor "${def.name}": init failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const execute = (instance as { execute?: unknown } | null)?.execute;
  if (typeof execute !== "function") {
    throw new Error(`Executor "${def.name}": init must return an object with an execute(run) method (got ${instance === null ? "null" : typeof instance}).`);
  }
  return async (run: ExecutorRun) => checkResult(def.name, await (execute as (run: ExecutorRun) => unknown).call(instance, run));
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
  return out;
}

/**
 * `execution.config` of a run: the run config's over the executor's `.configured()` config. For
 * the default executor's selector ({multiprocess} | {in_process}), choosing the other branch in
 * run config replaces the pinned branch instead of merging into a selector with two keys.
 */
export function effectiveExecutionConfig(
  executor: { builtin?: string; pinnedConfig?: Record<string, unknown> },
  runConfig: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const given = (runConfig?.execution as { config?: unknown } | undefined)?.config;
  const pinned = executor.pinnedConfig;
  if (!pinned || Object.keys(pinned).length === 0) return isMap(given) ? given : {};
  if (!isMap(given)) return pinned;
  if (executor.builtin === "multi_or_in_process") {
    const gKey = Object.keys(given)[0];
    const pKey = Object.keys(pinned)[0];
    if (gKey !== undefined && pKey !== undefined && gKey !== pKey) return given;
  }
  return deepMerge(pinned, given) as Record<string, unknown>;
}

/** Retry mode from a custom executor's config, when it follows the built-ins' `retries` selector. */
export function retriesOf(config: Record<string, unknown>): "enabled" | "disabled" {
  const r = config.retries;
  return isMap(r) && "disabled" in r ? "disabled" : "enabled";
}
