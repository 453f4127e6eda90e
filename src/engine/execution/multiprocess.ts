// The multiprocess executor (reference §2.4): every step runs in a step worker, a child process of
// the run worker; the run worker only schedules. At most `max_concurrent` steps run at once,
// `tag_concurrency_limits` hold steps back without blocking the ones behind them, priorities order
// the starts, and retries are re-queued here (step workers run with retry mode "deferred").
//
// Start methods:
// - `spawn` (default): a fresh process per step. Full isolation: nothing a step does to its process
//   (module-level state, monkey patches, leaked timers, a corrupted heap) can reach another step.
//   Costs a Node.js start-up per step (about 40–80 ms of CPU here).
// - `forkserver`: Node cannot fork a warm process, so this keeps a pool of pre-started step workers
//   that have already loaded the job's bundles (and `preload_modules`) and hands them steps one at a
//   time over IPC, reusing them. A step starts for the price of an IPC round trip. The trade-off is
//   isolation: steps that run in the same worker share module-level state (caches, singletons,
//   globals, anything left running after an op returned), and only JavaScript writes to
//   process.stdout/stderr are captured per step (output of child processes and native code goes to
//   the run worker's output). A worker is replaced after a step that crashed it, after a step that
//   left its heap close to its `sluice/max_memory_mb` limit, after a timed-out step, and after
//   `max_steps_per_worker` steps.
import { fork, type ChildProcess } from "node:child_process";
import { appendFileSync, closeSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseStepWorkerMessage, type StepWorkerCommand, type StepWorkerInit, type StepWorkerMessage, type WireEvent } from "../../protocol/worker";
import { codeCacheDir, packageRoot } from "../paths";
import { ActiveExecution } from "./active";
import { computeLogPaths, logsCapturedData, openLogFiles, readTail, type ComputeLogPaths } from "./computeLogs";
import { reportSkipsAndAbandons } from "./inProcess";
import type { PlanStep } from "./plan";
import type { ExecutorResult, ExecutorRun } from "./run";
import { fromWireEvent, type RunEvents } from "./emit";
import { formatDuration, type StepOutcome } from "./step";
import { memoryMessage, stepLimits, stepLimitsOrFail, timeoutMessage, type StepLimits } from "./stepWorkerLimits";

/** The script every step worker runs. */
export function stepWorkerEntry(): string {
  return join(packageRoot(), "dist", "stepWorker.js");
}

/** How often steps waiting for a pool slot are asked again (Dagster's default claim interval is 1 s). */
const POOL_RETRY_MS = 1000;
/** Grace period between SIGTERM and SIGKILL when interrupting step workers. */
const INTERRUPT_GRACE_MS = 3000;
/** Longest wait, after a worker's exit, for its IPC channel to deliver what is left and close. */
const CHANNEL_DRAIN_MS = 2000;
/** Time a step worker may take to start a timed step, on top of the step's own limit. */
const STARTUP_GRACE_SECONDS = 10;
/** A forkserver worker whose heap is above this share of its limit after a step is replaced. */
const HEAP_RECYCLE_SHARE = 0.8;
/**
 * A busy forkserver worker is handed steps ahead of time only behind steps whose ops took less
 * than this the last time they ran in this run (see MultiprocessExecution.handAhead).
 */
const HAND_AHEAD_MAX_OP_MS = 2;
/**
 * At most this many steps wait in a forkserver worker behind the one it runs: enough that it
 * goes on with its next step while the run worker takes in its report (one was not, measured).
 */
const HAND_AHEAD_STEPS = 3;

/** Extra Node.js flags for step workers, for debugging and profiling (e.g. "--cpu-prof --inspect"). */
const EXTRA_EXEC_ARGV = (process.env.SLUICE_STEP_WORKER_EXEC_ARGV ?? "").split(/\s+/).filter(Boolean);

type KillReason = { kind: "timeout"; seconds: number } | { kind: "interrupt" };

interface Assignment {
  step: PlanStep;
  limits: StepLimits;
  timer?: NodeJS.Timeout;
  startedAt: number;
  /** The worker reported the step's start (STEP_START / STEP_RESTARTED). */
  started?: boolean;
  onTimeout: () => void;
}

interface WorkerHandlers {
  onMessage(worker: StepWorker, message: StepWorkerMessage): void;
  onExit(worker: StepWorker, code: number | null, signal: NodeJS.Signals | null): void;
  onInvalid(worker: StepWorker, error: string): void;
}

/** One step worker process, as the run worker sees it. */
class StepWorker {
  readonly child: ChildProcess;
  readonly pid: number;
  current: Assignment | undefined;
  /** Forkserver: steps handed over ahead of time, in the order the worker starts them after `current`. */
  readonly queued: Assignment[] = [];
  killReason: KillReason | undefined;
  stepsRun = 0;
  retiring = false;
  exited = false;
  ready = false;
  /** Resolves once the worker has exited and its exit was handled. */
  readonly gone: Promise<void>;
  /** Last bytes the worker wrote to stderr (forkserver: piped; spawn: read from its .err file). */
  private stderrBuffer = "";

  constructor(
    readonly init: StepWorkerInit,
    readonly memoryMb: number | undefined,
    readonly single: boolean,
    private readonly logFiles: ComputeLogPaths | undefined,
    handlers: WorkerHandlers,
  ) {
    let fds: { out: number; err: number } | undefined;
    if (single && logFiles) fds = openLogFiles(logFiles);
    try {
      const args = [`--code-cache=${codeCacheDir(init.home)}`, ...(single ? ["--single"] : [])];
      this.child = fork(stepWorkerEntry(), args, {
        stdio: fds ? ["ignore", fds.out, fds.err, "ipc"] : ["ignore", "inherit", "pipe", "ipc"],
        execArgv: [...(memoryMb ? [`--max-old-space-size=${memoryMb}`] : []), ...EXTRA_EXEC_ARGV],
        serialization: "json",
      });
    } finally {
      if (fds) {
        closeSync(fds.out);
        closeSync(fds.err);
      }
    }
    this.pid = this.child.pid ?? -1;
    this.child.stderr?.on("data", (d: Buffer) => {
      const text = d.toString();
      this.stderrBuffer = (this.stderrBuffer + text).slice(-8192);
      process.stderr.write(text);
    });
    this.child.on("message", (raw: unknown) => {
      const parsed = parseStepWorkerMessage(raw);
      if (parsed.success) handlers.onMessage(this, parsed.data);
      else handlers.onInvalid(this, parsed.error);
    });
    // A worker's last messages (its stepDone) may still be in the IPC pipe when its exit is
    // reported: the exit is handled once the channel has closed too (it drains the pipe first).
    let exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let reported = false;
    let gone!: () => void;
    this.gone = new Promise<void>((resolve) => (gone = resolve));
    const report = () => {
      if (reported || !exitStatus) return;
      reported = true;
      this.exited = true;
      try {
        handlers.onExit(this, exitStatus.code, exitStatus.signal);
      } finally {
        gone();
      }
    };
    this.child.on("exit", (code, signal) => {
      exitStatus = { code, signal };
      if (!this.child.connected) report();
      else setTimeout(report, CHANNEL_DRAIN_MS).unref();
    });
    this.child.on("disconnect", () => setImmediate(report));
    // A worker that cannot be reached any more is reported by its exit.
    this.child.on("error", () => undefined);
    this.post({ t: "init", init });
  }

  post(command: StepWorkerCommand): void {
    if (this.child.connected) this.child.send(command);
  }

  assign(step: PlanStep, previousAttempts: number, limits: StepLimits, onTimeout: () => void): void {
    const assignment: Assignment = { step, limits, startedAt: performance.now(), onTimeout };
    if (this.current) {
      // Handed ahead (never with a time limit): it starts when the steps before it end.
      this.queued.push(assignment);
    } else {
      this.current = assignment;
      this.stderrBuffer = "";
      this.armTimeout(assignment);
    }
    if (this.init.steps) this.post({ t: "step", step: step.key, previousAttempts, ...(limits.timeoutSeconds !== undefined ? { eager: true } : {}) });
    else this.post({ t: "step", step, previousAttempts });
  }

  /**
   * The time limit counts from the step's start (its STEP_START / STEP_RESTARTED, which a timed
   * step's worker sends before running the op): a worker's start-up is not the step's time. Until
   * then the limit plus STARTUP_GRACE_SECONDS applies, so a worker stuck starting is stopped too.
   */
  armTimeout(assignment: Assignment): void {
    const limit = assignment.limits.timeoutSeconds;
    if (limit === undefined) return;
    const seconds = assignment.started ? limit : limit + STARTUP_GRACE_SECONDS;
    if (assignment.timer) clearTimeout(assignment.timer);
    assignment.timer = setTimeout(() => {
      if (this.current !== assignment) return;
      this.killReason = { kind: "timeout", seconds: limit };
      this.child.kill("SIGKILL");
      assignment.onTimeout();
    }, seconds * 1000);
  }

  /**
   * Passes on events the worker sent for its current step. While the step runs (`live`), its start
   * re-arms the time limit.
   */
  forwardEvents(events: WireEvent[], to: RunEvents, live: boolean): void {
    const a = this.current;
    if (!a) return; // nothing was handed to this worker: there is no step to report on
    for (const w of events) {
      const e = fromWireEvent(w, to.runId, a.step.key);
      if (live && !a.started && (e.type === "STEP_START" || e.type === "STEP_RESTARTED")) {
        a.started = true;
        this.armTimeout(a);
      }
      to.forward(e);
    }
  }

  finishAssignment(): Assignment | undefined {
    const a = this.current;
    if (a?.timer) clearTimeout(a.timer);
    this.current = undefined;
    return a;
  }

  /** The assignment a stepDone reports on, with the step's last events passed on; undefined for another step. */
  takeDone(m: Extract<StepWorkerMessage, { t: "stepDone" }>, to: RunEvents): Assignment | undefined {
    if (this.current?.step.key !== m.stepKey) return undefined;
    this.forwardEvents(m.events, to, false);
    return this.finishAssignment();
  }

  /** Answers a step's `ctx.instance` question from the run's instance view. */
  answerQuery(m: Extract<StepWorkerMessage, { t: "query" }>, instance: ExecutorRun["env"]["instance"]): void {
    const [filter, options] = m.args as Parameters<ExecutorRun["env"]["instance"]["getRunRecords"]>;
    instance.getRunRecords(filter, options).then(
      (result) => this.post({ t: "queryResult", id: m.id, result }),
      (e: unknown) => this.post({ t: "queryResult", id: m.id, error: e instanceof Error ? e.message : String(e) }),
    );
  }

  /** After a stepDone: the first queued step, which the worker starts next, becomes current. */
  startQueued(): boolean {
    const q = this.queued.shift();
    if (!q) return false;
    q.startedAt = performance.now();
    this.current = q;
    this.stderrBuffer = "";
    return true;
  }

  /** The queued steps, which will not run here (the worker died or failed to load first). */
  takeQueued(): Assignment[] {
    return this.queued.splice(0);
  }

  stderrTail(): string {
    if (this.single && this.logFiles) return readTail(this.logFiles.stderr, 8192);
    return this.stderrBuffer;
  }

  /**
   * A pooled worker that died in a step: what it wrote to stderr outside JavaScript (a V8 fatal
   * error, for one) is added to the step's .err log, where a spawn worker's would be.
   */
  keepStderrIn(logsDir: string | undefined, runId: string, stepKey: string): void {
    if (this.single || !logsDir || this.stderrBuffer.length === 0) return;
    try {
      appendFileSync(computeLogPaths(logsDir, runId, stepKey).stderr, this.stderrBuffer);
    } catch {
      // the log is best effort
    }
  }

  retire(): void {
    this.retiring = true;
    if (this.child.connected) {
      this.post({ t: "shutdown" });
      this.child.disconnect();
    } else if (!this.exited) this.child.kill("SIGTERM");
  }

  interrupt(): void {
    this.killReason ??= { kind: "interrupt" };
    if (this.exited) return;
    this.child.kill("SIGTERM");
    const t = setTimeout(() => {
      if (!this.exited) this.child.kill("SIGKILL");
    }, INTERRUPT_GRACE_MS);
    t.unref();
  }
}

/** The step's own duration from its STEP_SUCCESS (worker time, free of IPC and scheduling delays). */
function reportedDurationMs(events: WireEvent[]): number | undefined {
  for (const w of events) {
    const ms = w[0] === "STEP_SUCCESS" ? w[3]?.durationMs : undefined;
    if (typeof ms === "number") return ms;
  }
  return undefined;
}

function loadFailureMessage(run: ExecutorRun, worker: StepWorker, text: string): string {
  return `Step worker (pid ${worker.pid}) could not load job "${run.plan.jobName}": ${text}`;
}

function emitLoadFailure(run: ExecutorRun, stepKey: string, message: string): void {
  run.events.emit("STEP_FAILURE", message, { stepKey, data: { error: { name: "StepWorkerLoadError", message, source: "FRAMEWORK_ERROR" } } });
}

/** Records how a worker died in the middle of a step: an ENGINE_EVENT and the step's STEP_FAILURE. */
function reportDeath(run: ExecutorRun, worker: StepWorker, assignment: Assignment, code: number | null, signal: NodeJS.Signals | null): ReturnType<typeof describeDeath> {
  const death = describeDeath(worker, assignment, code, signal);
  const stepKey = assignment.step.key;
  run.events.engine(death.engine, { stepKey, level: "ERROR", data: { pid: worker.pid, exitCode: code, signal, reason: death.reason } });
  run.events.emit("STEP_FAILURE", death.message, { stepKey, data: { error: death.error, pid: worker.pid, exitCode: code, signal, reason: death.reason } });
  return death;
}

const OOM_TEXT = /heap out of memory|Reached heap limit|Allocation failed/i;

/** Why a worker died in the middle of a step: a message for STEP_FAILURE and the error to attach. */
function describeDeath(worker: StepWorker, assignment: Assignment, code: number | null, signal: NodeJS.Signals | null): {
  message: string;
  engine: string;
  error: { name: string; message: string; source: "INTERRUPT" | "UNEXPECTED_ERROR" | "USER_CODE_ERROR" };
  reason: string;
} {
  const key = assignment.step.key;
  const how = signal ? `was killed by signal ${signal}` : `exited with code ${code}`;
  const tail = worker.stderrTail();
  const lastLines = tail.trim().split("\n").slice(-5).join("\n");
  if (worker.killReason?.kind === "timeout") {
    const message = timeoutMessage(key, worker.killReason.seconds);
    return { message, engine: `Step worker (pid ${worker.pid}) for step "${key}" was stopped: time limit of ${worker.killReason.seconds} seconds reached.`, error: { name: "StepTimeoutError", message, source: "USER_CODE_ERROR" }, reason: "timeout" };
  }
  if (worker.killReason?.kind === "interrupt" || signal === "SIGINT") {
    const message = `Execution of step "${key}" was interrupted.`;
    return { message, engine: `Step worker (pid ${worker.pid}) for step "${key}" ${how} after the run was interrupted.`, error: { name: "InterruptedError", message, source: "INTERRUPT" }, reason: "interrupt" };
  }
  const oom = OOM_TEXT.test(tail) || (worker.memoryMb !== undefined && (signal === "SIGABRT" || code === 134));
  if (oom && worker.memoryMb !== undefined) {
    const message = memoryMessage(key, worker.memoryMb);
    return { message, engine: `Step worker (pid ${worker.pid}) for step "${key}" ${how}: it ran out of memory (limit ${worker.memoryMb} MB).`, error: { name: "StepMemoryLimitError", message, source: "USER_CODE_ERROR" }, reason: "memory" };
  }
  const detail = oom
    ? "it ran out of JavaScript heap"
    : signal === "SIGKILL"
      ? "it was killed (SIGKILL), for example by the out-of-memory killer or `kill -9`"
      : signal
        ? `it was terminated by signal ${signal}`
        : `it exited with code ${code}`;
  const message = `Step worker (pid ${worker.pid}) for step "${key}" died before the step finished: ${detail}.${lastLines ? `\nLast output on stderr:\n${lastLines}` : ""}`;
  return { message, engine: `Step worker (pid ${worker.pid}) for step "${key}" ${how} before the step finished.`, error: { name: "StepWorkerCrashError", message, source: "UNEXPECTED_ERROR" }, reason: "crash" };
}

function initFor(run: ExecutorRun, capture: StepWorkerInit["capture"], preloadModules: string[], eagerStart: boolean, withSteps = false): StepWorkerInit {
  const r = run.reconstructable!;
  return {
    runId: run.runId,
    jobName: run.plan.jobName,
    workspace: r.workspace,
    home: r.home,
    files: r.files,
    runTags: run.env.runTags,
    opsConfig: run.env.opsConfig,
    retryMode: run.env.retryMode === "disabled" ? "disabled" : "deferred",
    preloadModules,
    capture: run.logsDir ? capture : "none",
    logsDir: run.logsDir,
    eagerStart,
    ...(withSteps ? { steps: run.plan.steps } : {}),
  };
}

function requireReconstructable(run: ExecutorRun, what: string): void {
  if (!run.reconstructable) {
    throw new Error(
      `${what} runs steps in separate processes, which rebuild the job from its bundles and share outputs through the instance's storage; ` +
        "this run has neither (an ephemeral run such as executeInProcess). Use the in-process executor for it.",
    );
  }
}

class MultiprocessExecution {
  private readonly active: ActiveExecution;
  private readonly workers = new Set<StepWorker>();
  /** Forkserver: idle workers by memory limit ("" = none). */
  private readonly idle = new Map<string, StepWorker[]>();
  private readonly forkserver: boolean;
  private readonly maxConcurrent: number;
  private readonly preloadModules: string[];
  private readonly maxStepsPerWorker: number | undefined;
  private readonly runMemoryMb: number | undefined;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private launchedStepWorkers = 0;
  /** An error of a launch outside the scheduling loop (in a message handler), rethrown by the loop. */
  private fatal: Error | undefined;
  private interruptedSteps = 0;
  private poolInit: StepWorkerInit | undefined;
  /** Whether busy workers may be handed their next step ahead of time (see handAhead). */
  private readonly handAheadAllowed: boolean;
  /** How long each op's last step took in this run (its STEP_SUCCESS duration, else hand-off to report), ms. */
  private readonly lastOpMs = new Map<string, number>();

  constructor(private readonly run: ExecutorRun) {
    const ex = run.executor;
    this.maxConcurrent = Math.max(1, ex.kind === "multiprocess" ? ex.maxConcurrent : 1);
    this.forkserver = ex.kind === "multiprocess" && ex.startMethod.kind === "forkserver";
    this.preloadModules = ex.kind === "multiprocess" && ex.startMethod.kind === "forkserver" ? ex.startMethod.preloadModules : [];
    this.maxStepsPerWorker = ex.kind === "multiprocess" && ex.startMethod.kind === "forkserver" ? ex.startMethod.maxStepsPerWorker : undefined;
    const tagConcurrencyLimits = ex.kind === "multiprocess" ? ex.tagConcurrencyLimits : [];
    // No maxConcurrent here: the executor bounds starts by its busy workers (launchReady), and
    // steps handed ahead to a busy worker are in flight without running yet.
    this.active = new ActiveExecution(run.plan, {
      retryMode: run.env.retryMode === "disabled" ? "disabled" : "enabled",
      tagConcurrencyLimits,
      claim: run.claim,
    });
    const priorities = new Set(run.plan.steps.map((st) => st.priority));
    const pools = run.plan.steps.some((st) => st.pool);
    this.handAheadAllowed = this.forkserver && tagConcurrencyLimits.length === 0 && !pools && priorities.size <= 1;
    try {
      // The run-wide limit: the run tags alone, as if for a step without tags of its own.
      this.runMemoryMb = stepLimits({ key: "", tags: {} }, run.env.runTags).maxMemoryMb;
    } catch {
      this.runMemoryMb = undefined; // reported per step
    }
  }

  async execute(): Promise<ExecutorResult> {
    const { run, active } = this;
    const started = performance.now();
    run.events.engine(`Executing steps using multiprocess executor: parent process (pid: ${process.pid})`, {
      data: { pid: process.pid, maxConcurrent: this.maxConcurrent, startMethod: this.forkserver ? "forkserver" : "spawn" },
    });
    if (run.logsDir) mkdirSync(join(run.logsDir, run.runId), { recursive: true });
    const onAbort = () => this.wake();
    run.signal?.addEventListener("abort", onAbort);
    run.onClaimChange?.(() => this.wake()); // a pool slot was granted: schedule at once
    try {
      if (this.forkserver) {
        const n = Math.min(this.maxConcurrent, run.plan.steps.length);
        for (let i = 0; i < n; i++) this.startPoolWorker(this.runMemoryMb);
      }
      for (;;) {
        if (run.signal?.aborted && !this.stopping) this.stop();
        if (this.fatal) throw this.fatal;
        const launched = this.launchReady();
        const busy = this.busyCount();
        if (busy === 0 && (this.stopping || active.isComplete)) break;
        if (busy === 0 && launched === 0 && !active.hasWaitingRetries && active.readyCount > 0 && !run.claim && this.loadingIdleCount() === 0) {
          throw new Error(
            `Steps can never start: ${active.readyCount} step(s) are ready but held back by tag_concurrency_limits while nothing is running (a limit of 0?).`,
          );
        }
        let timeout: number | undefined;
        if (active.hasWaitingRetries) timeout = Math.max(1, active.sleepInterval());
        if (active.readyCount > 0 && run.claim) timeout = Math.min(timeout ?? POOL_RETRY_MS, POOL_RETRY_MS);
        await this.sleep(timeout);
      }
    } finally {
      run.signal?.removeEventListener("abort", onAbort);
      await this.shutdownAll();
    }
    reportSkipsAndAbandons(active, run);
    if (this.stopping) run.events.engine("Multiprocess executor: interrupted all active child processes", { level: "WARNING" });
    run.events.engine(`Multiprocess executor: parent process exiting after ${formatDuration(performance.now() - started)} (pid: ${process.pid})`, {
      data: { pid: process.pid, stepWorkers: this.launchedStepWorkers },
    });
    const unfinished = active.unfinished();
    return { failed: [...active.failed], interrupted: this.stopping && (unfinished.length > 0 || this.interruptedSteps > 0), unfinished };
  }

  // ---- scheduling ------------------------------------------------------------------------

  /**
   * Reports steps that will not run and starts as many ready steps as there is room for. Called by
   * the scheduling loop, and straight from a worker's stepDone so that its next step is on its way
   * without waiting for the loop's turn.
   */
  private launchReady(): number {
    const { active, run } = this;
    reportSkipsAndAbandons(active, run);
    if (this.stopping) return 0;
    // Forkserver: an idle worker still loading the job gets no step; the step goes to the first
    // worker ready for it (handed to a loading worker, it would wait for that load even with another
    // worker free). Its "ready" calls this again.
    const loading = this.forkserver ? this.loadingIdleCount() : 0;
    const room = this.maxConcurrent - this.busyCount() - loading;
    let launched = 0;
    if (room > 0) {
      for (const step of active.getStepsToExecute(room, run.onBlocked)) {
        this.launch(step);
        launched++;
      }
    }
    // No worker ready and free: a busy one may take the next quick step (handAhead).
    if (this.handAheadAllowed && active.readyCount > 0 && this.busyCount() + loading >= this.maxConcurrent) launched += this.handAhead();
    reportSkipsAndAbandons(active, run);
    return launched;
  }

  /** launchReady from a worker's message: an error (a worker that cannot be started) goes to the loop, which rethrows it. */
  private launchReadyFromHandler(): number {
    try {
      return this.launchReady();
    } catch (e) {
      this.fatal ??= e instanceof Error ? e : new Error(String(e));
      return 0;
    }
  }

  /**
   * Forkserver with every worker busy or loading: hands ready steps to busy workers (up to
   * HAND_AHEAD_STEPS each), which start them as soon as the steps before them end. A worker then
   * goes on without waiting for the run worker between steps, and a hand-off reaches a process that
   * is running rather than asleep: waking a process is most of the cost of a step of a few
   * microseconds. Only where it cannot change which step starts next, or much when:
   * - all steps of the plan have one priority, and there are no tag limits and no pools (the step
   *   at the head of the ready queue is the one the next free worker would take);
   * - the steps before it in that worker are of ops whose last step in this run took under
   *   HAND_AHEAD_MAX_OP_MS (a step does not wait behind a long one while another worker frees up);
   * - the worker has loaded the job (a step does not wait behind another for a worker still starting);
   * - the step has no time or memory limit, the worker no heap limit, and the worker's
   *   max_steps_per_worker leaves room for all its steps.
   * Queued steps whose worker dies before starting them are ready again, in their old places (requeue).
   */
  private handAhead(): number {
    const { active } = this;
    let handed = 0;
    const quick = (a: Assignment) => (this.lastOpMs.get(a.step.opName) ?? Infinity) < HAND_AHEAD_MAX_OP_MS;
    // Breadth first: every worker gets one step ahead before any gets a second.
    for (let depth = 0; depth < HAND_AHEAD_STEPS; depth++) {
      for (const worker of this.workers) {
        const next = active.peekReady();
        if (!next) return handed;
        const current = worker.current;
        if (!current || !worker.ready || worker.queued.length !== depth || worker.retiring || worker.exited || worker.memoryMb !== undefined) continue;
        if (this.maxStepsPerWorker !== undefined && worker.stepsRun + 2 + depth > this.maxStepsPerWorker) continue;
        if (!quick(current) || !worker.queued.every(quick)) continue;
        let limits: StepLimits;
        try {
          limits = stepLimits(next, this.run.env.runTags);
        } catch {
          return handed; // launch() reports the bad tag when a worker is free
        }
        if (limits.maxMemoryMb !== undefined || limits.timeoutSeconds !== undefined) return handed;
        const behind = depth > 0 ? worker.queued[depth - 1] : current;
        const [step] = active.getStepsToExecute(1);
        this.handTo(worker, step, limits, behind.step.key);
        handed++;
      }
    }
    return handed;
  }

  private busyCount(): number {
    // spawn: a process counts until it has exited; forkserver: a worker counts while it has a step.
    let n = 0;
    for (const w of this.workers) if (this.forkserver ? w.current !== undefined : !w.exited) n++;
    return n;
  }

  private stop(): void {
    this.stopping = true;
    this.active.stop();
    this.run.events.engine("Multiprocess executor: received termination signal - forwarding to active child processes", { level: "WARNING" });
    for (const w of this.workers) {
      if (w.current) w.interrupt();
      else w.retire();
    }
    this.idle.clear();
  }

  private launch(step: PlanStep): void {
    const { run } = this;
    const limits = stepLimitsOrFail(step, run.env.runTags, run.events);
    if (!limits) {
      run.release?.(step);
      this.active.markFailed(step.key);
      return;
    }
    if (this.forkserver) {
      this.handTo(this.takeIdle(limits.maxMemoryMb) ?? this.startPoolWorker(limits.maxMemoryMb, true), step, limits);
      return;
    }
    const logs = run.logsDir ? computeLogPaths(run.logsDir, run.runId, step.key) : undefined;
    run.events.emit("STEP_WORKER_STARTING", `Launching subprocess for "${step.key}".`, { stepKey: step.key });
    const worker = this.newWorker(limits.maxMemoryMb, true, logs);
    this.announceLogs(worker, step, logs);
    worker.assign(step, this.active.attemptsOf(step.key), limits, () => this.wake());
  }

  /** Forkserver: gives a step to a pool worker, idle or (`behind` its current step) busy. */
  private handTo(worker: StepWorker, step: PlanStep, limits: StepLimits, behind?: string): void {
    const { run } = this;
    const message = behind
      ? `Handing step "${step.key}" to step worker (pid ${worker.pid}); it starts when step "${behind}" ends there.`
      : `Handing step "${step.key}" to step worker (pid ${worker.pid}).`;
    run.events.emit("STEP_WORKER_STARTING", message, {
      stepKey: step.key,
      data: { pid: worker.pid, reused: worker.stepsRun > 0 || behind !== undefined, ...(behind ? { queuedBehind: behind } : {}) },
    });
    this.announceLogs(worker, step, run.logsDir ? computeLogPaths(run.logsDir, run.runId, step.key) : undefined);
    worker.assign(step, this.active.attemptsOf(step.key), limits, () => this.wake());
  }

  private announceLogs(worker: StepWorker, step: PlanStep, logs: ComputeLogPaths | undefined): void {
    if (!logs) return;
    const { run } = this;
    run.events.emit("LOGS_CAPTURED", `Started capturing logs for step "${step.key}" (pid: ${worker.pid}).`, {
      stepKey: step.key,
      data: logsCapturedData(logs, step.key, run.runId),
    });
  }

  private newWorker(memoryMb: number | undefined, single: boolean, logs?: ComputeLogPaths): StepWorker {
    // spawn: the step goes with its worker, which reports STEP_START before the op runs (a crash
    // still shows it). forkserver: the worker keeps the plan and is handed keys; STEP_START travels
    // with the step's other events unless the step has a time limit (one IPC message per step).
    const init = single ? initFor(this.run, "fd", [], true) : (this.poolInit ??= initFor(this.run, "js", this.preloadModules, false, true));
    const worker = new StepWorker(init, memoryMb, single, logs, {
      onMessage: (w, m) => this.onMessage(w, m),
      onExit: (w, code, signal) => this.onExit(w, code, signal),
      onInvalid: (w, error) => this.onInvalid(w, error),
    });
    this.launchedStepWorkers++;
    this.workers.add(worker);
    return worker;
  }

  private startPoolWorker(memoryMb: number | undefined, forImmediateUse = false): StepWorker {
    // Room for a new worker: retire an idle one (of another memory size) if the pool is full.
    const alive = [...this.workers].filter((w) => !w.retiring && !w.exited).length;
    if (alive >= this.maxConcurrent) {
      for (const [key, list] of this.idle) {
        const victim = list.shift();
        if (list.length === 0) this.idle.delete(key);
        if (victim) {
          victim.retire();
          break;
        }
      }
    }
    const worker = this.newWorker(memoryMb, false);
    if (!forImmediateUse) this.putIdle(worker);
    return worker;
  }

  private memoryKey(mb: number | undefined): string {
    return mb === undefined ? "" : String(mb);
  }

  /** An idle worker of that memory size, one that has loaded the job if there is one. */
  private takeIdle(memoryMb: number | undefined): StepWorker | undefined {
    const list = this.idle.get(this.memoryKey(memoryMb));
    if (!list) return undefined;
    const i = list.findIndex((w) => w.ready);
    const [w] = list.splice(i >= 0 ? i : 0, 1);
    if (list.length === 0) this.idle.delete(this.memoryKey(memoryMb));
    return w;
  }

  /** Idle forkserver workers still loading the job: steps wait for a loaded worker rather than queue behind a load. */
  private loadingIdleCount(): number {
    let n = 0;
    for (const list of this.idle.values()) for (const w of list) if (!w.ready) n++;
    return n;
  }

  private putIdle(worker: StepWorker): void {
    const key = this.memoryKey(worker.memoryMb);
    const list = this.idle.get(key);
    if (list) list.push(worker);
    else this.idle.set(key, [worker]);
  }

  private removeIdle(worker: StepWorker): void {
    const key = this.memoryKey(worker.memoryMb);
    const list = this.idle.get(key);
    if (!list) return;
    const i = list.indexOf(worker);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.idle.delete(key);
  }

  // ---- worker events ---------------------------------------------------------------------

  private onMessage(worker: StepWorker, m: StepWorkerMessage): void {
    const { run, active } = this;
    switch (m.t) {
      case "events":
        worker.forwardEvents(m.events, run.events, true);
        return;
      case "stepDone": {
        const a = worker.takeDone(m, run.events);
        if (!a) return;
        worker.stepsRun++;
        if (this.handAheadAllowed) this.lastOpMs.set(a.step.opName, reportedDurationMs(m.events) ?? performance.now() - a.startedAt);
        this.settle(a.step, m.outcome);
        if (this.forkserver && worker.startQueued()) {
          // it went on with its queued step
        } else if (this.forkserver && !worker.retiring && !this.stopping) {
          const nearLimit = worker.memoryMb !== undefined && m.heapUsed > worker.memoryMb * 1024 * 1024 * HEAP_RECYCLE_SHARE;
          const worn = this.maxStepsPerWorker !== undefined && worker.stepsRun >= this.maxStepsPerWorker;
          if (nearLimit || worn) {
            worker.retire();
            if (nearLimit) {
              run.events.engine(`Step worker (pid ${worker.pid}) is replaced: its heap is close to its limit of ${worker.memoryMb} MB after step "${m.stepKey}".`);
            }
          } else this.putIdle(worker);
        }
        const launched = this.launchReadyFromHandler();
        // The loop need not run after a success that made room for the next step: it would only
        // find what launchReady just did. A retry (its wait), a pool wait (its poll) or an idle
        // executor (the run may be over) need it.
        if (launched === 0 || m.outcome.kind !== "success" || this.fatal || (run.claim && active.readyCount > 0)) this.wake();
        return;
      }
      case "ready":
        worker.ready = true;
        this.launchReadyFromHandler();
        this.wake();
        return;
      case "loadFailed": {
        const a = worker.finishAssignment();
        const message = loadFailureMessage(run, worker, m.message);
        if (a) {
          emitLoadFailure(run, a.step.key, message);
          this.settle(a.step, { kind: "failure" });
        } else run.events.engine(message, { level: "ERROR" });
        this.requeue(worker);
        worker.retiring = true;
        this.removeIdle(worker);
        this.wake();
        return;
      }
      case "query":
        worker.answerQuery(m, run.env.instance);
        return;
    }
  }

  private onInvalid(worker: StepWorker, error: string): void {
    this.run.events.engine(`Ignored an invalid message from step worker (pid ${worker.pid}): ${error}`, { level: "WARNING", stepKey: worker.current?.step.key });
  }

  private onExit(worker: StepWorker, code: number | null, signal: NodeJS.Signals | null): void {
    this.removeIdle(worker);
    this.workers.delete(worker);
    const a = worker.finishAssignment();
    if (a) {
      const { run } = this;
      worker.keepStderrIn(run.logsDir, run.runId, a.step.key);
      if (reportDeath(run, worker, a, code, signal).reason === "interrupt") this.interruptedSteps++;
      this.settle(a.step, { kind: "failure" });
    } else if (this.forkserver && !worker.retiring && !this.stopping && code !== 0) {
      this.run.events.engine(`Idle step worker (pid ${worker.pid}) ${signal ? `was killed by signal ${signal}` : `exited with code ${code}`}; it will be replaced when needed.`, { level: "WARNING" });
    }
    this.requeue(worker);
    this.wake();
  }

  /** A step handed ahead to a worker that is gone before starting it goes back to the ready queue. */
  private requeue(worker: StepWorker): void {
    for (const q of worker.takeQueued()) {
      this.active.requeue(q.step.key);
      if (this.stopping) continue; // the run is interrupted: the step is reported as not run
      this.run.events.engine(`Step "${q.step.key}" did not start on step worker (pid ${worker.pid}), which is gone; it goes to another worker.`, {
        stepKey: q.step.key,
      });
    }
  }

  private settle(step: PlanStep, outcome: StepOutcome): void {
    const { active, run } = this;
    run.release?.(step);
    active.settle(step.key, outcome);
  }

  // ---- waiting ---------------------------------------------------------------------------

  private wake(): void {
    this.woken = true;
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private sleep(timeoutMs: number | undefined): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.wakeUp = () => {
        if (timer) clearTimeout(timer);
        this.woken = false;
        resolve();
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.wakeUp = undefined;
          resolve();
        }, timeoutMs);
      }
    });
  }

  private async shutdownAll(): Promise<void> {
    const alive = [...this.workers].filter((w) => !w.exited);
    this.idle.clear();
    for (const w of alive) {
      if (w.current) w.interrupt();
      else w.retire();
    }
    await Promise.all(alive.map((w) => w.gone));
  }
}

/** The multiprocess executor's entry point (registered with executeRun by the run worker). */
export async function executeMultiprocess(run: ExecutorRun): Promise<ExecutorResult> {
  requireReconstructable(run, "The multiprocess executor");
  return new MultiprocessExecution(run).execute();
}

/**
 * Runs one attempt of one step in a fresh step worker and waits for it: how the in-process
 * executor enforces `sluice/step_timeout_seconds` and `sluice/max_memory_mb` (a step in the run
 * worker itself could be neither stopped nor limited).
 */
export function runStepInWorker(run: ExecutorRun, step: PlanStep, previousAttempts: number, limits: StepLimits): Promise<StepOutcome> {
  requireReconstructable(run, "Running a step with a time or memory limit");
  const logs = run.logsDir ? computeLogPaths(run.logsDir, run.runId, step.key) : undefined;
  return new Promise<StepOutcome>((resolve) => {
    let outcome: StepOutcome | undefined;
    run.events.emit("STEP_WORKER_STARTING", `Launching subprocess for "${step.key}" (it has a time or memory limit).`, { stepKey: step.key });
    const worker = new StepWorker(initFor(run, "fd", [], true), limits.maxMemoryMb, true, logs, {
      onMessage: (w, m) => {
        if (m.t === "events") {
          w.forwardEvents(m.events, run.events, true);
        } else if (m.t === "stepDone") {
          if (w.takeDone(m, run.events)) outcome = m.outcome;
        } else if (m.t === "loadFailed") {
          if (w.finishAssignment()) emitLoadFailure(run, step.key, loadFailureMessage(run, w, m.message));
          outcome = { kind: "failure" };
        } else if (m.t === "query") {
          w.answerQuery(m, run.env.instance);
        }
      },
      onInvalid: (w, error) => run.events.engine(`Ignored an invalid message from step worker (pid ${w.pid}): ${error}`, { level: "WARNING", stepKey: step.key }),
      onExit: (w, code, signal) => {
        run.signal?.removeEventListener("abort", onAbort);
        const a = w.finishAssignment();
        if (a) {
          reportDeath(run, w, a, code, signal);
          outcome = { kind: "failure" };
        }
        resolve(outcome ?? { kind: "failure" });
      },
    });
    const onAbort = () => worker.interrupt();
    run.signal?.addEventListener("abort", onAbort);
    if (logs) {
      run.events.emit("LOGS_CAPTURED", `Started capturing logs for step "${step.key}" (pid: ${worker.pid}).`, { stepKey: step.key, data: logsCapturedData(logs, step.key, run.runId) });
    }
    worker.assign(step, previousAttempts, limits, () => undefined);
  });
}
