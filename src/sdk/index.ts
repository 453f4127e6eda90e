// The authoring API: what job files import as "sluice".
import { z } from "zod";
import type { SluiceEvent } from "../engine/events";
import { buildDefinitions } from "../engine/definitions/build";
import { IMPLICIT_ASSET_JOB } from "../engine/definitions/snapshot";
import { mergeRunConfig, validateOpConfigs } from "../engine/execution/opConfig";
import { MemoryOutputStore } from "../engine/execution/outputs";
import { buildPlan } from "../engine/execution/plan";
import { executeRun } from "../engine/execution/run";
import type { AssetDefinition, AssetJobDefinition, GraphAssetDefinition, JobDefinition } from "./definitions";
import { DefinitionError, kindOf } from "./markers";

export { z };
export {
  op,
  job,
  asset,
  graphAsset,
  defineAssetJob,
  buildOpContext,
  assetNodeName,
} from "./definitions";
export type {
  OpDefinition,
  OpOptions,
  JobDefinition,
  JobOptions,
  AssetDefinition,
  AssetOptions,
  GraphAssetDefinition,
  GraphAssetOptions,
  AssetJobDefinition,
  AssetJobOptions,
  OutputHandle,
  OutputSpec,
  Tags,
} from "./definitions";
export type { OpContext, OpLogger, InstanceView } from "./context";
export { RetryPolicy, Backoff, Jitter, RetryRequested, Failure, retryDelaySeconds } from "./retry";
export type { RetryPolicyOptions } from "./retry";
export { executor, inProcessExecutor, multiprocessExecutor, multiOrInProcessExecutor } from "./executors";
export type { Executor, ExecutorDefinition, ExecutorOptions, ExecutorRequirement, ExecutorResult, ExecutorRun } from "./executors";
/** Dagster's ActiveExecution, for custom executors: which steps may start, with priorities, tag limits, retries, skips. */
export { ActiveExecution } from "../engine/execution/active";
export type { ExecutionPlan, PlanStep } from "../engine/execution/plan";
export type { StepOutcome } from "../engine/execution/step";
export { DefinitionError } from "./markers";
export type { SourcePosition } from "./markers";
export type { RunRecord, RunsFilter, RunStatus, SluiceEvent } from "../engine/events";

/** Run tag: fail the run (via run monitoring) when it runs longer than this many seconds. */
export const MAX_RUNTIME_SECONDS_TAG = "sluice/max_runtime";
/** Run or op tag: integer priority, higher first. */
export const PRIORITY_TAG = "sluice/priority";

export interface ExecuteInProcessOptions {
  runConfig?: Record<string, unknown>;
  /** Op selection clauses (Dagster syntax), a list or one comma-separated string. */
  opSelection?: string[] | string;
  tags?: Record<string, string>;
  /** For asset jobs: the assets the job can see (the job file's or workspace's assets). */
  assets?: (AssetDefinition | GraphAssetDefinition)[];
  /** Throw when the run fails (default false: inspect `success`). */
  raiseOnError?: boolean;
}

export interface ExecuteInProcessResult {
  runId: string;
  success: boolean;
  status: "SUCCESS" | "FAILURE";
  events: SluiceEvent[];
  /** Output values by step key, then output name. */
  outputs: Record<string, Record<string, unknown>>;
  /** The value of a step's output (default "result"). */
  outputFor(stepKey: string, outputName?: string): unknown;
  /** Terminal event type of each step that ran (STEP_SUCCESS, STEP_FAILURE, STEP_SKIPPED). */
  stepStatus: Record<string, string>;
}

let ephemeralRuns = 0;

/**
 * Runs a job in this process with an ephemeral instance (nothing stored), like Dagster's
 * execute_in_process: the in-process executor, retries enabled, executor config ignored.
 */
export async function executeInProcess(
  jobDef: JobDefinition | AssetJobDefinition,
  options: ExecuteInProcessOptions = {},
): Promise<ExecuteInProcessResult> {
  const kind = kindOf(jobDef);
  if (kind !== "job" && kind !== "assetJob") throw new DefinitionError("executeInProcess() takes a job or an asset job.");
  const exports: Record<string, unknown> = { job: jobDef };
  (options.assets ?? []).forEach((a, i) => (exports[`asset${i}`] = a));
  const built = buildDefinitions([{ file: "<executeInProcess>", exports }], (s) => z.toJSONSchema(s as z.ZodType) as Record<string, unknown>);
  if (built.errors.length > 0) throw new DefinitionError(built.errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join("\n"));
  const job = built.jobs.get(jobDef.name) ?? built.jobs.get(IMPLICIT_ASSET_JOB);
  if (!job) throw new DefinitionError(`Job "${jobDef.name}" could not be built.`);
  if (job.executor?.requirements.includes("NON_EPHEMERAL_INSTANCE")) {
    throw new DefinitionError(
      `Job "${jobDef.name}" uses the ${job.executor.name} executor, which runs steps in separate processes that share outputs through a persistent instance; ` +
        "executeInProcess uses an ephemeral instance with nothing to share between processes. Remove the executor for this call, " +
        "or run the job with `sluice job execute` to use it.",
    );
  }
  const runConfig = mergeRunConfig(job.snapshot.defaultRunConfig, options.runConfig);
  const selection = typeof options.opSelection === "string" ? options.opSelection.split(",").map((s) => s.trim()) : options.opSelection;
  const plan = buildPlan(job.snapshot, { selection, runConfig });
  const issues = validateOpConfigs(job, runConfig, plan);
  if (issues.length > 0) throw new DefinitionError(`Invalid run config:\n${issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`);

  const runId = `ephemeral-${process.pid}-${++ephemeralRuns}`;
  const events: SluiceEvent[] = [];
  const outputs = new MemoryOutputStore();
  const outcome = await executeRun({
    runId,
    jobName: jobDef.name,
    plan,
    job,
    runTags: { ...job.snapshot.tags, ...options.tags },
    runConfig,
    outputs,
    instance: { getRunRecords: async () => [] },
    sink: (e) => events.push(e),
    executor: { kind: "in_process", retries: "enabled", maxConcurrent: 1, tagConcurrencyLimits: [], startMethod: { kind: "spawn" } },
    retryMode: "enabled",
  });
  const byStep: Record<string, Record<string, unknown>> = {};
  const stepStatus: Record<string, string> = {};
  for (const e of events) {
    if (!e.stepKey) continue;
    if (e.type === "STEP_OUTPUT") {
      const name = e.data!.outputName as string;
      (byStep[e.stepKey] ??= {})[name] = outputs.read(runId, e.stepKey, name);
    }
    if (e.type === "STEP_SUCCESS" || e.type === "STEP_FAILURE" || e.type === "STEP_SKIPPED") stepStatus[e.stepKey] = e.type;
  }
  const success = outcome.status === "SUCCESS";
  if (!success && options.raiseOnError) {
    const failure = events.find((e) => e.type === "STEP_FAILURE" || e.type === "RUN_FAILURE");
    throw new Error(failure?.message ?? `Run of "${jobDef.name}" failed.`);
  }
  return {
    runId,
    success,
    status: success ? "SUCCESS" : "FAILURE",
    events,
    outputs: byStep,
    outputFor: (stepKey, outputName = "result") => byStep[stepKey]?.[outputName],
    stepStatus,
  };
}

/** Materialises assets in this process (Dagster's `materialize`), optionally a selection of them. */
export function materialize(
  assets: (AssetDefinition | GraphAssetDefinition)[],
  options: Omit<ExecuteInProcessOptions, "assets" | "opSelection"> & { selection?: string | string[] } = {},
): Promise<ExecuteInProcessResult> {
  const implicit = {
    [Symbol.for("sluice.kind")]: "assetJob",
    name: IMPLICIT_ASSET_JOB,
    selection: options.selection === undefined ? ["*"] : typeof options.selection === "string" ? [options.selection] : options.selection,
    tags: {},
    source: { file: "<materialize>", line: 1, column: 1 },
  } as unknown as AssetJobDefinition;
  return executeInProcess(implicit, { ...options, assets });
}
