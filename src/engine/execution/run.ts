// One run from RUN_START to its terminal event, with whichever executor the run config selects.
import type { Tags } from "../../sdk/definitions";
import type { InstanceView } from "../../sdk/context";
import type { RuntimeJob } from "../definitions/build";
import type { RunFailureReason } from "../events";
import type { RetryMode } from "./active";
import { RunEvents, serializeError, type EventSink } from "./emit";
import { customExecutorImplementation } from "./customExecutor";
import { executeInProcess, runStepInProcess } from "./inProcess";
import type { OutputStore } from "./outputs";
import type { ExecutionPlan, PlanStep } from "./plan";
import type { StepEnvironment, StepOutcome } from "./step";
import type { StepLimits } from "./stepWorkerLimits";
import type { ResolvedExecutorConfig } from "../config/runConfigSchema";

/** A custom executor (`executor({...}, init)`): its config is validated by its own schema in the run worker. */
export interface CustomExecutorConfig {
  kind: "custom";
  /** The executor definition's name. */
  name: string;
  /** `execution.config` merged over the definition's pinned config (before its schema's defaults). */
  config: Record<string, unknown>;
  retries: "enabled" | "disabled";
}

/** Executor settings after run config and the job's executor definition are resolved. */
export type ResolvedExecutor = ResolvedExecutorConfig | CustomExecutorConfig;

/** What step workers need to rebuild the job in another process (absent for ephemeral runs). */
export interface ReconstructableRun {
  workspace: string;
  home: string;
  /** The bundles of the definitions snapshot the run was planned against. */
  files: { path: string; ok: boolean; bundle?: string }[];
}

/** What an executor gets to run a plan. */
export interface ExecutorRun {
  runId: string;
  plan: ExecutionPlan;
  job: RuntimeJob;
  events: RunEvents;
  env: StepEnvironment;
  executor: ResolvedExecutor;
  signal?: AbortSignal;
  wait(ms: number): Promise<void>;
  /** Pool claim before a step starts (op granularity); absent = no pools. */
  claim?: (step: PlanStep) => boolean;
  /** Frees what `claim` took once the step is done with this attempt. */
  release?: (step: PlanStep) => void;
  onBlocked?: (step: PlanStep, reason: string) => void;
  /**
   * Registers a callback for when a pool claim is answered or a waiting step is granted a slot
   * (claims go to the instance owner asynchronously): an executor waiting on claims should ask
   * `claim` again at once instead of at its next poll.
   */
  onClaimChange?: (wake: () => void) => void;
  /** How other processes can rebuild this run's job; absent for ephemeral runs (executeInProcess). */
  reconstructable?: ReconstructableRun;
  /** Root of compute logs (`.sluice/logs`); absent = stdout/stderr are not captured. */
  logsDir?: string;
  /**
   * Runs one attempt of a step the way the in-process executor does (compute logs captured; a step
   * with a time or memory limit goes to a step worker when the run is reconstructable). For custom
   * executors. Never throws; the outcome is also reported as events.
   */
  runStep(step: PlanStep, previousAttempts: number): Promise<StepOutcome>;
}

export interface ExecutorResult {
  failed: string[];
  interrupted: boolean;
  unfinished: string[];
}

export type ExecutorImplementation = (run: ExecutorRun) => Promise<ExecutorResult>;

const implementations = new Map<ResolvedExecutorConfig["kind"], ExecutorImplementation>([["in_process", executeInProcess]]);

/** Lets the multiprocess executor (which needs process spawning) plug in without a cycle of imports. */
export function registerExecutor(kind: ResolvedExecutorConfig["kind"], impl: ExecutorImplementation): void {
  implementations.set(kind, impl);
}

export type IsolatedStepRunner = (run: ExecutorRun, step: PlanStep, previousAttempts: number, limits: StepLimits) => Promise<StepOutcome>;
let isolatedStepRunner: IsolatedStepRunner | undefined;

/** Lets the run worker give the in-process executor a way to run a limited step in a step worker. */
export function registerIsolatedStepRunner(runner: IsolatedStepRunner): void {
  isolatedStepRunner = runner;
}

export function getIsolatedStepRunner(): IsolatedStepRunner | undefined {
  return isolatedStepRunner;
}

export interface RunRequest {
  runId: string;
  jobName: string;
  plan: ExecutionPlan;
  job: RuntimeJob;
  runTags: Tags;
  runConfig: Record<string, unknown>;
  outputs: OutputStore;
  instance: InstanceView;
  sink: EventSink;
  executor: ResolvedExecutor;
  signal?: AbortSignal;
  /** Retry mode override (executeInProcess always retries in process). */
  retryMode?: RetryMode;
  claim?: ExecutorRun["claim"];
  release?: ExecutorRun["release"];
  onBlocked?: ExecutorRun["onBlocked"];
  onClaimChange?: ExecutorRun["onClaimChange"];
  reconstructable?: ReconstructableRun;
  logsDir?: string;
}

export type RunOutcome =
  | { status: "SUCCESS" }
  | { status: "FAILURE"; reason: RunFailureReason; failedSteps: string[] }
  | { status: "INTERRUPTED"; unfinished: string[] };

export async function executeRun(req: RunRequest): Promise<RunOutcome> {
  const events = new RunEvents(req.runId, req.sink);
  events.emit("RUN_START", `Started execution of run for "${req.jobName}".`);
  const env: StepEnvironment = {
    runId: req.runId,
    jobName: req.jobName,
    runTags: req.runTags,
    events,
    outputs: req.outputs,
    opsConfig: req.runConfig.ops as Record<string, unknown> | undefined,
    instance: req.instance,
    retryMode: req.retryMode ?? req.executor.retries,
  };
  let result: ExecutorResult;
  try {
    let impl: ExecutorImplementation | undefined;
    if (req.executor.kind === "custom") impl = await customExecutorImplementation(req.job.executor, req.executor, { reconstructable: req.reconstructable !== undefined });
    else {
      impl = implementations.get(req.executor.kind);
      if (!impl) {
        if (req.executor.kind === "multiprocess" && !req.reconstructable) {
          throw new Error(
            "The multiprocess executor runs steps in separate processes that rebuild the job and share outputs through a persistent instance; " +
              "this run has neither. Use the in-process executor for it.",
          );
        }
        events.engine(`The ${req.executor.kind} executor is not available in this process; running steps in process.`, { level: "WARNING" });
        impl = executeInProcess;
      }
    }
    const run: ExecutorRun = {
      runId: req.runId,
      plan: req.plan,
      job: req.job,
      events,
      env,
      executor: req.executor,
      signal: req.signal,
      wait: (ms) => abortableWait(ms, req.signal),
      claim: req.claim,
      release: req.release,
      onBlocked: req.onBlocked,
      onClaimChange: req.onClaimChange,
      reconstructable: req.reconstructable,
      logsDir: req.logsDir,
      runStep: (step, previousAttempts) => runStepInProcess(run, step, previousAttempts),
    };
    result = await impl(run);
  } catch (e) {
    events.emit("RUN_FAILURE", `Execution of run for "${req.jobName}" failed. An exception was thrown during execution: ${e instanceof Error ? e.message : String(e)}`, {
      data: { failureReason: "RUN_EXCEPTION", error: serializeError(e, "FRAMEWORK_ERROR") },
    });
    return { status: "FAILURE", reason: "RUN_EXCEPTION", failedSteps: [] };
  }
  if (result.interrupted) return { status: "INTERRUPTED", unfinished: result.unfinished };
  if (result.failed.length > 0 || result.unfinished.length > 0) {
    const failed = result.failed.length > 0 ? result.failed : result.unfinished;
    events.emit("RUN_FAILURE", `Execution of run for "${req.jobName}" failed. Steps failed: [${failed.join(", ")}].`, {
      data: { failureReason: "STEP_FAILURE", failedSteps: failed },
    });
    return { status: "FAILURE", reason: "STEP_FAILURE", failedSteps: failed };
  }
  events.emit("RUN_SUCCESS", `Finished execution of run for "${req.jobName}".`);
  return { status: "SUCCESS" };
}

/** Resolves after `ms`, or at once when the run is interrupted. */
function abortableWait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}
