// A step worker: the child process in which the multiprocess executor runs steps
// (`node dist/stepWorker.js`). It rebuilds the run's job from the run's bundles, then runs the
// steps it is handed one at a time with retry mode "deferred": a retry request is reported as
// STEP_UP_FOR_RETRY and the run worker re-queues the step. Inputs and outputs go through the
// FileOutputStore; events go to the run worker over IPC, batched.
//
// `spawn`: one step, then exit. `forkserver`: stays, and is handed further steps.
//
// Start-up is the cost of `spawn`, so this file avoids zod (the run worker validates messages)
// and loads the SDK through a V8 code cache kept in `.sluice/cache/v8`.
import { PendingQueries } from "../../protocol/pendingQueries";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Script } from "node:vm";
import type { StepWorkerCommand, StepWorkerInit, StepWorkerMessage } from "../../protocol/worker";
import { buildDefinitions, type RuntimeJob } from "../definitions/build";
import type { RunRecord, RunsFilter, SluiceEvent } from "../events";
import { sdkEntry } from "../paths";
import { computeLogPaths, WriteRedirect } from "./computeLogs";
import { RunEvents } from "./emit";
import { FileOutputStore } from "./outputs";
import type { PlanStep } from "./plan";
import { runStep, type StepEnvironment } from "./step";

const spawned = process.argv.includes("--single");
/** SLUICE_STEP_WORKER_PROFILE=1: start-up phases and per-step IPC times on stderr (for the bench). */
const PROFILE = process.env.SLUICE_STEP_WORKER_PROFILE === "1";
const heapLimited = process.execArgv.some((a) => a.startsWith("--max-old-space-size"));

let sendTime = 0;
let sends = 0;
let stepArrivedAt = 0;
let inStepTime = 0;
function send(message: StepWorkerMessage, then?: () => void): void {
  if (!process.connected) {
    then?.();
    return;
  }
  const t = PROFILE ? performance.now() : 0;
  if (PROFILE && message.t === "stepDone") inStepTime += t - stepArrivedAt;
  process.send!(message, undefined, {}, then ? () => then() : undefined);
  if (PROFILE) {
    sendTime += performance.now() - t;
    sends++;
  }
}
process.on("exit", () => {
  if (PROFILE && sends > 0) process.stderr.write(`[step worker ${process.pid}] ${sends} sends, ${((sendTime / sends) * 1000).toFixed(1)} µs each; step handling ${((inStepTime / sends) * 1000).toFixed(1)} µs each\n`);
});

// ---------------------------------------------------------------------------------------------
// Loading: the SDK through a code cache, then the job bundles.

type ModuleInternals = typeof Module & {
  wrap(code: string): string;
  _nodeModulePaths(dir: string): string[];
};

/**
 * Requires a CommonJS file compiled with a V8 code cache, and registers it in require's cache so
 * that job bundles requiring it get this instance. Falls back to a plain require on any problem.
 */
export function requireWithCodeCache(file: string, cacheDir: string): unknown {
  const key = require.resolve(file);
  if (require.cache[key]) return require.cache[key]!.exports;
  try {
    const st = statSync(key);
    const id = fnv1a(`${key}\0${st.size}\0${st.mtimeMs}\0${process.version}\0${process.arch}`);
    const cacheFile = join(cacheDir, `${id}.bin`);
    let cached: Buffer | undefined;
    try {
      cached = readFileSync(cacheFile);
    } catch {
      cached = undefined;
    }
    const M = Module as ModuleInternals;
    const source = readFileSync(key, "utf8");
    const script = new Script(M.wrap(source), { filename: key, cachedData: cached });
    const mod = new Module(key, module);
    mod.filename = key;
    mod.paths = M._nodeModulePaths(dirname(key));
    require.cache[key] = mod;
    const fn = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
    try {
      fn.call(mod.exports, mod.exports, createRequire(key), mod, key, dirname(key));
    } catch (e) {
      delete require.cache[key];
      throw e;
    }
    mod.loaded = true;
    if (!cached || script.cachedDataRejected) {
      try {
        mkdirSync(cacheDir, { recursive: true });
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // a cache is an optimisation only
      }
    }
    return mod.exports;
  } catch {
    delete require.cache[key];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(key);
  }
}

/** A short stable hash for cache file names (node:crypto costs milliseconds to load). */
function fnv1a(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0");
}

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
  requireWithCodeCache(sdkEntry(), join(init.home, "cache", "v8"));
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

async function runOne(ctx: Loaded, step: PlanStep, previousAttempts: number, eager: boolean): Promise<void> {
  const { init } = ctx;
  let pending: SluiceEvent[] = [];
  let scheduled = false;
  let done = false;
  const flush = () => {
    scheduled = false;
    if (done || pending.length === 0) return;
    const events = pending;
    pending = [];
    send({ t: "events", events });
  };
  const events = new RunEvents(init.runId, (e) => {
    pending.push(e);
    if (!scheduled && !done) {
      scheduled = true;
      setImmediate(flush);
    }
  });
  const runtime = ctx.job.steps.get(step.key);
  const redirect = init.capture === "js" && init.logsDir ? new WriteRedirect(computeLogPaths(init.logsDir, init.runId, step.key)) : undefined;
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
      instance: { getRunRecords: (filter?: RunsFilter, options?: { limit?: number }) => queryRunWorker("getRunRecords", [filter, options]) as Promise<RunRecord[]> },
      retryMode: init.retryMode,
      beforeOp: eager ? flush : undefined,
    };
    outcome = await runStep(step, runtime, previousAttempts, env);
  }
  redirect?.stop();
  done = true;
  const last = pending;
  pending = [];
  const heapUsed = heapLimited ? process.memoryUsage().heapUsed : 0;
  await new Promise<void>((resolve) => send({ t: "stepDone", stepKey: step.key, outcome, events: last, heapUsed }, resolve));
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
  if (PROFILE && command.t === "step") stepArrivedAt = performance.now();
  queue.push(command);
  void drain();
});
// The run worker went away: nothing to report to any more.
process.on("disconnect", () => process.exit(0));
// Ctrl-C in a terminal reaches the whole process group: the run worker decides what happens to
// its step workers (it stops them with SIGTERM), so a step is not cut short behind its back.
process.on("SIGINT", () => undefined);
