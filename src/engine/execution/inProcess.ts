// The in-process executor: every step inside the run worker, one at a time, in priority order.
import { ActiveExecution } from "./active";
import type { ExecutorRun, ExecutorResult } from "./run";
import { runStep } from "./step";

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
    const outcome = await runStep(step, run.job.steps.get(step.key)!, active.attemptsOf(step.key), run.env);
    run.release?.(step);
    if (outcome.kind === "success") {
      for (const o of outcome.outputs) active.markOutput(step.key, o);
      active.markSuccess(step.key);
    } else if (outcome.kind === "failure") active.markFailed(step.key);
    else active.markUpForRetry(step.key, outcome.seconds);
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
