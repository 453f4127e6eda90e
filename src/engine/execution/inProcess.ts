// The in-process executor: every step inside the run worker, one at a time, in priority order.
import { ActiveExecution } from "./active";
import { computeLogPaths, logsCapturedData, stepLogCapture } from "./computeLogs";
import type { PlanStep } from "./plan";
import { getIsolatedStepRunner, type ExecutorRun, type ExecutorResult } from "./run";
import { runStep, type StepOutcome } from "./step";
import { stepLimitsOrFail, timeoutMessage } from "./stepWorkerLimits";

export async function executeInProcess(run: ExecutorRun): Promise<ExecutorResult> {
  const { plan, events, signal } = run;
  const started = performance.now();
  events.engine(`Executing steps in process (pid: ${process.pid})`);
  const active = new ActiveExecution(plan, { retryMode: run.env.retryMode, claim: run.claim });
  let lastYield = performance.now();
  while (!active.isComplete) {
    // Steps that never wait on I/O would starve the event loop: no signals, IPC or timers.
    if (performance.now() - lastYield > 10) {
      await new Promise((r) => setImmediate(r));
      lastYield = performance.now();
    }
    reportSkipsAndAbandons(active, run);
    if (signal?.aborted && !active.isStopped) active.stop();
    if (active.isStopped) break;
    const [step] = active.getStepsToExecute(1, run.onBlocked);
    if (!step) {
      if (active.isComplete) break;
      await run.wait(active.sleepInterval() || 50);
      continue;
    }
    const outcome = await runStepInProcess(run, step, active.attemptsOf(step.key));
    run.release?.(step);
    active.settle(step.key, outcome);
  }
  reportSkipsAndAbandons(active, run);
  events.engine(`Finished steps in process (pid: ${process.pid}) in ${Math.round(performance.now() - started)}ms`);
  return { failed: [...active.failed], interrupted: active.isStopped && !active.isComplete, unfinished: active.unfinished() };
}

export function reportSkipsAndAbandons(active: ActiveExecution, run: Pick<ExecutorRun, "events">): void {
  for (;;) {
    const skipped = active.takeSkips();
    for (const s of skipped) {
      run.events.emit("STEP_SKIPPED", `Skipping step ${s.key} due to skipped dependencies: [${s.upstream.filter((u) => active.skipped.has(u)).join(", ")}].`, { stepKey: s.key });
    }
    const abandoned = active.takeAbandons();
    for (const s of abandoned) {
      const failed = s.upstream.filter((u) => active.failed.has(u));
      const notRun = s.upstream.filter((u) => active.abandoned.has(u));
      const message = failed.length > 0
        ? `Dependencies for step ${s.key} failed: [${failed.join(", ")}]. Not executing.`
        : `Dependencies for step ${s.key} were not executed: [${notRun.join(", ")}]. Not executing.`;
      run.events.engine(message, { stepKey: s.key, level: "ERROR", data: { abandoned: true } });
    }
    if (skipped.length === 0 && abandoned.length === 0) return;
  }
}

/**
 * One attempt of one step, in this process, with its stdout/stderr captured to its compute log
 * files (steps run one at a time here, so redirecting process.stdout/stderr is safe).
 *
 * A step with `sluice/step_timeout_seconds` or `sluice/max_memory_mb` cannot be stopped or limited
 * inside the run worker, so it runs in a step worker of its own when the run is reconstructable.
 * Otherwise (executeInProcess) the memory limit is not applied and a timed-out step is failed
 * while its function keeps running in the background: the run moves on without it, and whatever
 * it does later is ignored.
 */
export async function runStepInProcess(run: ExecutorRun, step: PlanStep, previousAttempts: number): Promise<StepOutcome> {
  const limits = stepLimitsOrFail(step, run.env.runTags, run.events);
  if (!limits) return { kind: "failure" };
  const limited = limits.timeoutSeconds !== undefined || limits.maxMemoryMb !== undefined;
  const isolated = getIsolatedStepRunner();
  if (limited && isolated && run.reconstructable) return isolated(run, step, previousAttempts, limits);

  const runtime = run.job.steps.get(step.key)!;
  if (run.logsDir) {
    const paths = computeLogPaths(run.logsDir, run.runId, step.key);
    stepLogCapture.begin(paths);
    run.events.emit("LOGS_CAPTURED", `Started capturing logs in process (pid: ${process.pid}).`, { stepKey: step.key, data: logsCapturedData(paths, step.key, run.runId) });
  }
  try {
    if (limits.maxMemoryMb !== undefined) {
      run.events.engine(`The memory limit of step "${step.key}" (${limits.maxMemoryMb} MB) cannot be applied to a step running in this process; it runs without it.`, { stepKey: step.key, level: "WARNING" });
    }
    if (limits.timeoutSeconds === undefined) return await runStep(step, runtime, previousAttempts, run.env);
    return await runWithTimeout(run, step, previousAttempts, limits.timeoutSeconds);
  } finally {
    if (run.logsDir) stepLogCapture.end();
  }
}

async function runWithTimeout(run: ExecutorRun, step: PlanStep, previousAttempts: number, seconds: number): Promise<StepOutcome> {
  let timedOut = false;
  // Events the abandoned attempt produces after its time is up must not reach the run.
  const events = Object.create(run.env.events) as typeof run.env.events;
  events.emit = (...args: Parameters<typeof run.env.events.emit>) => (timedOut ? ({} as ReturnType<typeof run.env.events.emit>) : run.env.events.emit(...args));
  const attempt = runStep(step, run.job.steps.get(step.key)!, previousAttempts, { ...run.env, events });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), seconds * 1000)));
  const winner = await Promise.race([attempt, timeout]);
  clearTimeout(timer);
  if (winner !== "timeout") return winner;
  timedOut = true;
  const message = timeoutMessage(step.key, seconds);
  run.events.emit("STEP_FAILURE", `${message} It keeps running in the background of the run worker; its results are ignored.`, {
    stepKey: step.key,
    data: { error: { name: "StepTimeoutError", message, source: "USER_CODE_ERROR" }, reason: "timeout" },
  });
  return { kind: "failure" };
}
