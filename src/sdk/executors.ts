import { KIND } from "./markers";

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
  /** Custom executors: called with the resolved config; returns the object that runs the plan. */
  readonly init?: (init: { executorConfig: Record<string, unknown> }) => unknown;
  configured(config: Record<string, unknown>, name?: string): ExecutorDefinition;
}

export interface ExecutorOptions {
  name: string;
  description?: string;
  configSchema?: unknown;
  requirements?: ExecutorRequirement[];
}

function makeExecutor(
  options: ExecutorOptions & { pinnedConfig?: Record<string, unknown> },
  init?: ExecutorDefinition["init"],
): ExecutorDefinition {
  const def: ExecutorDefinition = {
    [KIND]: "executor",
    name: options.name,
    description: options.description,
    configSchema: options.configSchema,
    requirements: Object.freeze([...(options.requirements ?? [])]),
    pinnedConfig: options.pinnedConfig,
    init,
    configured(config, name) {
      return makeExecutor({ ...options, name: name ?? options.name, pinnedConfig: { ...options.pinnedConfig, ...config } }, init);
    },
  };
  return Object.freeze(def);
}

/** Defines an executor. `init` receives the resolved `execution.config` and returns the executor. */
export function executor(options: ExecutorOptions, init: NonNullable<ExecutorDefinition["init"]>): ExecutorDefinition {
  return makeExecutor(options, init);
}

/** Runs every step inside the run worker, one at a time, in priority order. */
export const inProcessExecutor = makeExecutor({
  name: "in_process",
  description: "Runs all steps in the run worker process, one at a time.",
});

/** Runs each step in its own child process, `max_concurrent` at a time. */
export const multiprocessExecutor = makeExecutor({
  name: "multiprocess",
  description: "Runs each step in its own child process.",
  requirements: ["RECONSTRUCTABLE_JOB", "NON_EPHEMERAL_INSTANCE", "PERSISTENT_OUTPUTS"],
});

/** The default: multiprocess unless run config selects `execution.config.in_process`. */
export const multiOrInProcessExecutor = makeExecutor({
  name: "multi_or_in_process",
  description: "Multiprocess by default; in-process when run config says `execution: {config: {in_process: {}}}`.",
});
