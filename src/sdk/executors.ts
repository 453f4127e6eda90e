import type { ExecutorResult, ExecutorRun } from "../engine/execution/run";
import { DefinitionError, KIND } from "./markers";

/** What `init` returns: runs a plan, like the built-in executors (see docs/executors.md). */
export interface Executor {
  execute(run: ExecutorRun): Promise<ExecutorResult>;
}
export type { ExecutorRun, ExecutorResult };

/** What an executor needs from the run to work (Dagster's ExecutorRequirement). */
export type ExecutorRequirement =
  /** Steps run in other processes: the job must be loadable by a fresh process (always true for job files). */
  | "RECONSTRUCTABLE_JOB"
  /** Steps in other processes share outputs through storage: an ephemeral instance cannot serve. */
  | "NON_EPHEMERAL_INSTANCE"
  | "PERSISTENT_OUTPUTS";

export const BUILTIN_EXECUTORS = ["multi_or_in_process", "in_process", "multiprocess"] as const;
export type BuiltinExecutorName = (typeof BUILTIN_EXECUTORS)[number];

export interface ExecutorDefinition {
  readonly [KIND]: "executor";
  readonly name: string;
  readonly description?: string;
  /** zod schema of `execution.config` for this executor (built-ins are validated by the engine). */
  readonly configSchema?: unknown;
  readonly requirements: readonly ExecutorRequirement[];
  /** Config pinned with `.configured()`, merged under the run's `execution.config`. */
  readonly pinnedConfig?: Record<string, unknown>;
  /** For a built-in executor (or a `.configured()` copy of one, whatever its name): which one. */
  readonly builtin?: BuiltinExecutorName;
  /** Custom executors: called with the resolved config; returns the object that runs the plan. */
  readonly init?: (init: { executorConfig: Record<string, any> }) => Executor | Promise<Executor>;
  /** A copy with `config` pinned (merged under the run's `execution.config`), optionally renamed. */
  configured(config: Record<string, unknown>, name?: string): ExecutorDefinition;
}

export interface ExecutorOptions {
  name: string;
  description?: string;
  configSchema?: unknown;
  requirements?: ExecutorRequirement[];
}

const REQUIREMENTS: readonly ExecutorRequirement[] = ["RECONSTRUCTABLE_JOB", "NON_EPHEMERAL_INSTANCE", "PERSISTENT_OUTPUTS"];
const EXECUTOR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function makeExecutor(
  options: ExecutorOptions & { pinnedConfig?: Record<string, unknown>; builtin?: BuiltinExecutorName },
  init?: ExecutorDefinition["init"],
): ExecutorDefinition {
  const def: ExecutorDefinition = {
    [KIND]: "executor",
    name: options.name,
    description: options.description,
    configSchema: options.configSchema,
    requirements: Object.freeze([...(options.requirements ?? [])]),
    pinnedConfig: options.pinnedConfig,
    builtin: options.builtin,
    init,
    configured(config, name) {
      if (typeof config !== "object" || config === null || Array.isArray(config)) {
        throw new DefinitionError(`${options.name}.configured() takes a config object, e.g. { max_concurrent: 2 }.`);
      }
      if (name !== undefined && !EXECUTOR_NAME.test(name)) throw new DefinitionError(`Executor name "${name}" is not valid: use letters, digits and underscores.`);
      return makeExecutor({ ...options, name: name ?? options.name, pinnedConfig: { ...options.pinnedConfig, ...config } }, init);
    },
  };
  return Object.freeze(def);
}

/**
 * Defines an executor. `init({ executorConfig })` receives `execution.config` (parsed by
 * `configSchema`, a zod schema, when given) and returns `{ execute(run) }` — see docs/executors.md.
 */
export function executor(options: ExecutorOptions, init: NonNullable<ExecutorDefinition["init"]>): ExecutorDefinition {
  if (typeof options !== "object" || options === null || typeof options.name !== "string" || !EXECUTOR_NAME.test(options.name)) {
    throw new DefinitionError("executor() needs a valid `name` (letters, digits and underscores): executor({ name: \"my_executor\" }, init).");
  }
  if ((BUILTIN_EXECUTORS as readonly string[]).includes(options.name)) {
    throw new DefinitionError(`"${options.name}" is the name of a built-in executor; give the custom executor another name.`);
  }
  if (typeof init !== "function") throw new DefinitionError(`executor "${options.name}" needs an init function: executor({ name }, ({ executorConfig }) => ({ execute: async (run) => ... })).`);
  const unknown = (options.requirements ?? []).filter((r) => !REQUIREMENTS.includes(r));
  if (unknown.length > 0) throw new DefinitionError(`Unknown executor requirement ${unknown.map((u) => `"${u}"`).join(", ")}; use ${REQUIREMENTS.join(", ")}.`);
  if (options.configSchema !== undefined && typeof (options.configSchema as { safeParse?: unknown })?.safeParse !== "function") {
    throw new DefinitionError(`executor "${options.name}": configSchema must be a zod schema, e.g. z.object({ ... }).`);
  }
  return makeExecutor(options, init);
}

/** Runs every step inside the run worker, one at a time, in priority order. */
export const inProcessExecutor = makeExecutor({
  name: "in_process",
  builtin: "in_process",
  description: "Runs all steps in the run worker process, one at a time.",
});

/** Runs each step in its own child process, `max_concurrent` at a time. */
export const multiprocessExecutor = makeExecutor({
  name: "multiprocess",
  builtin: "multiprocess",
  description: "Runs each step in its own child process.",
  requirements: ["RECONSTRUCTABLE_JOB", "NON_EPHEMERAL_INSTANCE", "PERSISTENT_OUTPUTS"],
});

/** The default: multiprocess unless run config selects `execution.config.in_process`. */
export const multiOrInProcessExecutor = makeExecutor({
  name: "multi_or_in_process",
  builtin: "multi_or_in_process",
  description: "Multiprocess by default; in-process when run config says `execution: {config: {in_process: {}}}`.",
});
