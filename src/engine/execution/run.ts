// One run from RUN_START to its terminal event, with whichever executor the run config selects.
import type { Tags } from "../../sdk/definitions";
import type { InstanceView } from "../../sdk/context";
import type { RuntimeJob } from "../definitions/build";
import type { RunFailureReason } from "../events";
import type { RetryMode } from "./active";
import { RunEvents, serializeError, type EventSink } from "./emit";
import { executeInProcess } from "./inProcess";
import type { OutputStore } from "./outputs";
import type { ExecutionPlan, PlanStep } from "./plan";
import type { StepEnvironment } from "./step";
import type { ResolvedExecutorConfig } from "../config/runConfigSchema";

/** Executor settings after run config and the job's executor definition are resolved. */
export type ResolvedExecutor = ResolvedExecutorConfig;

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
}

export interface ExecutorResult {
  failed: string[];
  interrupted: boolean;
  unfinished: string[];
}

export type ExecutorImplementation = (run: ExecutorRun) => Promise<ExecutorResult>;

const implementations = new Map<ResolvedExecutor["kind"], ExecutorImplementation>([["in_process", executeInProcess]]);

/** Lets the multiprocess executor (which needs process spawning) plug in without a cycle of imports. */
export function registerExecutor(kind: ResolvedExecutor["kind"], impl: ExecutorImplementation): void {
  implementations.set(kind, impl);
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
    let impl = implementations.get(req.executor.kind);
    if (!impl) {
      events.engine(`The ${req.executor.kind} executor is not available in this process; running steps in process.`, { level: "WARNING" });
      impl = executeInProcess;
    }
    result = await impl({
      runId: req.runId,
      plan: req.plan,
      job: req.job,
      events,
      env,
      executor: req.executor,
      signal: req.signal,
      wait: (ms) => new Promise((r) => setTimeout(r, ms)),
      claim: req.claim,
      release: req.release,
      onBlocked: req.onBlocked,
    });
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
