// A step worker: the child process in which the multiprocess executor runs steps (`node
// dist/stepWorker.js`, which loads this file, dist/stepWorkerMain.js, through a V8 code cache). It
// rebuilds the run's job from the run's bundles, then runs the steps it is handed one at a time
// with retry mode "deferred": a retry request is reported as STEP_UP_FOR_RETRY and the run worker
// re-queues the step. Inputs and outputs go through the FileOutputStore; events go to the run
// worker over IPC, batched.
//
// `spawn`: one step, then exit. `forkserver`: stays, and is handed further steps.
//
// Start-up is the cost of `spawn`, so this file avoids zod (the run worker validates messages)
// and loads the SDK through a V8 code cache kept in `.sluice/cache/v8`.
import { PendingQueries } from "../../protocol/pendingQueries";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { StepWorkerCommand, StepWorkerInit, StepWorkerMessage, WireEvent } from "../../protocol/worker";
import { buildDefinitions, type RuntimeJob } from "../definitions/build";
import type { RunRecord, RunsFilter } from "../events";
import { codeCacheDir, sdkEntry } from "../paths";
import { requireWithCodeCache, saveCodeCaches } from "./codeCache";
import { computeLogPaths, stepLogCapture } from "./computeLogs";
import { RunEvents, toWireEvent } from "./emit";
import { FileOutputStore } from "./outputs";
import type { PlanStep } from "./plan";
import { runStep, type StepEnvironment } from "./step";

const spawned = process.argv.includes("--single");
/**
 * SLUICE_STEP_WORKER_PROFILE=1: start-up phases, per-step times and, from the first step on, the
 * CPU of the main thread and of V8's background threads (JIT compiles, GC) on stderr (for the bench).
 */
const PROFILE = process.env.SLUICE_STEP_WORKER_PROFILE === "1";
const heapLimited = process.execArgv.some((a) => a.startsWith("--max-old-space-size"));
/** How long a step's events may wait to be sent while it runs (they go with its stepDone if it ends first). */
const LIVE_EVENTS_MS = 20;

const profile = {
  sends: 0,
  sendMs: 0,
  stepMs: 0,
  stepStartedAt: 0,
  threadsAtFirstStep: undefined as Map<number, number> | undefined,
  cpuAtFirstStep: undefined as NodeJS.CpuUsage | undefined,
};

/** CPU milliseconds of each thread of this process (Linux; empty elsewhere). */
function threadCpuMs(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const t of readdirSync("/proc/self/task")) {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(t), (Number(fields[11]) + Number(fields[12])) * 10); // utime + stime, 100 Hz ticks
    }
  } catch {
    // not Linux
  }
  return out;
}

function send(message: StepWorkerMessage, then?: () => void): void {
  if (!process.connected) {
    then?.();
    return;
  }
  const t = PROFILE ? performance.now() : 0;
  if (PROFILE && message.t === "stepDone") profile.stepMs += t - profile.stepStartedAt;
  process.send!(message, undefined, {}, then ? () => then() : undefined);
  if (PROFILE) {
    profile.sendMs += performance.now() - t;
    profile.sends++;
  }
}
if (PROFILE) process.on("exit", () => {
  const n = profile.sends;
  if (n === 0) return;
  let main = 0;
  let background = 0;
  for (const [tid, ms] of threadCpuMs()) {
    const used = ms - (profile.threadsAtFirstStep?.get(tid) ?? 0);
    if (tid === process.pid) main += used;
    else background += used;
  }
  const cpu = process.cpuUsage(profile.cpuAtFirstStep);
  const us = (ms: number) => `${((ms / n) * 1000).toFixed(1)} µs`;
  process.stderr.write(
    `[step worker ${process.pid}] ${n} sends, ${us(profile.sendMs)} each; a step until its report ${us(profile.stepMs)}; ` +
      `CPU per step from the first step on: ${us((cpu.user + cpu.system) / 1000)} (10 ms ticks: main thread ${us(main)}, V8 background threads ${us(background)})\n`,
  );
});

// ---------------------------------------------------------------------------------------------
// Loading: the SDK through a code cache, then the job bundles.

/** Requires the run's job bundles (what definitions/load's requireBundles does, without its bundler imports). */
function requireBundles(files: StepWorkerInit["files"]): { modules: { file: string; exports: Record<string, unknown> }[]; errors: string[] } {
  const modules: { file: string; exports: Record<string, unknown> }[] = [];
  const errors: string[] = [];
  for (const f of files) {
    if (!f.ok || !f.bundle) continue;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      modules.push({ file: f.path, exports: require(f.bundle) as Record<string, unknown> });
    } catch (e) {
      errors.push(`${f.path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { modules, errors };
}

interface Loaded {
  init: StepWorkerInit;
  job: RuntimeJob;
  outputs: FileOutputStore;
  steps: Map<string, PlanStep>;
}

function mark(what: string): void {
  if (PROFILE) process.stderr.write(`[step worker ${process.pid}] ${what} at ${performance.now().toFixed(1)} ms\n`);
}
mark("main");

function load(init: StepWorkerInit): Loaded | string {
  const started = performance.now();
  mark("init received");
  // Definitions' source positions are never shown from here: composing the job reads no stacks.
  (globalThis as Record<symbol, unknown>)[Symbol.for("sluice.noSourcePositions")] = true;
  requireWithCodeCache(sdkEntry(), codeCacheDir(init.home));
  mark("sdk loaded");
  const fromWorkspace = createRequire(join(init.workspace, "__sluice_preload__.js"));
  for (const name of init.preloadModules) {
    try {
      fromWorkspace(name);
    } catch (e) {
      return `preload module "${name}" could not be loaded: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  // Job bundles carry inline source maps: user stack traces point at the job file.
  process.setSourceMapsEnabled(true);
  const loaded = requireBundles(init.files);
  mark("bundles required");
  const defs = buildDefinitions(loaded.modules, () => ({}), { onlyJob: init.jobName });
  mark("definitions built");
  const job = defs.jobs.get(init.jobName);
  if (!job) {
    const detail = [...loaded.errors, ...defs.errors.map((e) => `${e.file}:${e.line}: ${e.message}`)].join("\n");
    return `job "${init.jobName}" is not defined by the run's bundles${detail ? `:\n${detail}` : "."}`;
  }
  loadMs = performance.now() - started;
  const steps = new Map(((init.steps ?? []) as PlanStep[]).map((st) => [st.key, st]));
  return { init, job, outputs: new FileOutputStore(join(init.home, "storage")), steps };
}

let loadMs = 0;

// ---------------------------------------------------------------------------------------------
// Running steps

const pendingQueries = new PendingQueries();

function queryRunWorker(method: "getRunRecords", args: unknown[]): Promise<unknown> {
  return pendingQueries.ask((id) => send({ t: "query", id, method, args }));
}

/** `ctx.instance` of every step: questions go to the run worker. */
const instanceView = {
  getRunRecords: (filter?: RunsFilter, options?: { limit?: number }) => queryRunWorker("getRunRecords", [filter, options]) as Promise<RunRecord[]>,
};

async function runOne(ctx: Loaded, step: PlanStep, previousAttempts: number, eager: boolean): Promise<void> {
  if (PROFILE) profile.stepStartedAt = performance.now();
  const { init } = ctx;
  let pending: WireEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  /** The op awaits: events wait at most LIVE_EVENTS_MS before they are sent. */
  let live = false;
  let done = false;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (done || pending.length === 0) return;
    const events = pending;
    pending = [];
    send({ t: "events", events });
  };
  const armFlush = () => {
    if (live && !timer && !done && pending.length > 0) timer = setTimeout(flush, LIVE_EVENTS_MS);
  };
  // Until the op awaits, nothing could be sent anyway (the event loop is not running): most steps
  // end first and report everything in their stepDone message, without a timer.
  const events = new RunEvents(init.runId, (e) => {
    pending.push(toWireEvent(e));
    armFlush();
  });
  const runtime = ctx.job.steps.get(step.key);
  const logsDir = init.capture === "js" ? init.logsDir : undefined;
  if (logsDir) stepLogCapture.begin(() => computeLogPaths(logsDir, init.runId, step.key));
  events.emit("STEP_WORKER_STARTED", `Executing step "${step.key}" in subprocess.`, { stepKey: step.key, data: { pid: process.pid } });
  let outcome: Awaited<ReturnType<typeof runStep>>;
  if (!runtime) {
    events.emit("STEP_FAILURE", `Step "${step.key}" is not part of job "${init.jobName}" as loaded by the step worker.`, {
      stepKey: step.key,
      data: { error: { name: "StepWorkerError", message: `unknown step ${step.key}`, source: "FRAMEWORK_ERROR" } },
    });
    outcome = { kind: "failure" };
  } else {
    const env: StepEnvironment = {
      runId: init.runId,
      jobName: init.jobName,
      runTags: init.runTags,
      events,
      outputs: ctx.outputs,
      opsConfig: init.opsConfig,
      instance: instanceView,
      retryMode: init.retryMode,
      beforeOp: eager ? flush : undefined,
      opAwaits: () => {
        live = true;
        armFlush();
      },
    };
    outcome = await runStep(step, runtime, previousAttempts, env);
  }
  if (logsDir) stepLogCapture.end();
  done = true;
  if (timer) clearTimeout(timer);
  const last = pending;
  pending = [];
  const heapUsed = heapLimited ? process.memoryUsage().heapUsed : 0;
  const report: StepWorkerMessage = { t: "stepDone", stepKey: step.key, outcome, events: last, heapUsed };
  // A spawned worker exits after its step: only then must the report have left.
  if (spawned) await new Promise<void>((resolve) => send(report, resolve));
  else send(report);
}

// ---------------------------------------------------------------------------------------------
// Command loop

let ctx: Loaded | undefined;
const queue: StepWorkerCommand[] = [];
let working = false;

async function drain(): Promise<void> {
  if (working) return;
  working = true;
  while (queue.length > 0) {
    const command = queue.shift()!;
    if (command.t === "init") {
      const result = load(command.init);
      if (typeof result === "string") {
        await new Promise<void>((resolve) => send({ t: "loadFailed", message: result }, resolve));
        process.exit(1);
      }
      ctx = result;
      if (!spawned) send({ t: "ready", pid: process.pid, loadMs });
    } else if (command.t === "step") {
      if (!ctx) {
        send({ t: "loadFailed", message: "a step arrived before the job was loaded" });
        process.exit(1);
      }
      const step = typeof command.step === "string" ? ctx.steps.get(command.step) : (command.step as PlanStep);
      if (!step) {
        send({ t: "loadFailed", message: `step "${String(command.step)}" is not in the plan the worker was given` });
        process.exit(1);
      }
      await runOne(ctx, step, command.previousAttempts, command.eager ?? ctx.init.eagerStart);
      mark("step done");
      // After the step and its report: the caches then hold the code the step ran (first time only).
      saveCodeCaches();
      if (spawned) process.exit(0);
    } else if (command.t === "shutdown") {
      process.exit(0);
    }
  }
  working = false;
}

process.on("message", (command: StepWorkerCommand) => {
  if (command.t === "queryResult") {
    pendingQueries.answer(command);
    return;
  }
  if (PROFILE && command.t === "step" && !profile.cpuAtFirstStep) {
    profile.threadsAtFirstStep = threadCpuMs();
    profile.cpuAtFirstStep = process.cpuUsage();
  }
  queue.push(command);
  void drain();
});
// The run worker went away: nothing to report to any more.
process.on("disconnect", () => process.exit(0));
// Ctrl-C in a terminal reaches the whole process group: the run worker decides what happens to
// its step workers (it stops them with SIGTERM), so a step is not cut short behind its back.
process.on("SIGINT", () => undefined);
