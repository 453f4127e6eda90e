// Multiprocess executor bench: per-step cost of `spawn` and `forkserver` on a wide job of no-op
// steps, next to two baselines measured in the same run:
//   (a) bare fork: a fresh `child_process.fork` of a trivial script per task (IPC task in, reply out);
//   (b) bare pool: pre-started children of a trivial script, handed tasks one at a time over IPC.
// The executor numbers include everything a step costs in the run worker and its step workers:
// step worker start-up and rebuilding the job (spawn) or the IPC hand-off (forkserver), the op,
// its output written to `.sluice/storage` (and read back by the next step in the chain), compute
// log capture, and its events (STEP_WORKER_*, LOGS_CAPTURED, STEP_*) validated and delivered to
// the run's event sink. The sink is in memory here: storing events is the owner's cost (bench/store.ts).
//
//   node --import tsx bench/executor.ts [--steps 500] [--latency-steps 50] [--rounds 5] [--fs-rounds 21] [--only forkserver|chain [--profile FILE]]
//
// Prints numbers and ratios; never fails. Targets (issue 3): spawn ≤ 1.3× bare fork per task;
// forkserver ≤ 3× bare pool per task and ≥ 10× spawn throughput.
//
// The forkserver figure is the median of --fs-rounds (21) rounds, each against the bare pool run just
// before it, each measured from the moment every pool worker has started its first step (the pool's
// clock starts once its children are ready; forkserver workers load the job as the run starts, and
// one may be ready tens of milliseconds after another). A round in which fewer than half the steps
// ran on the whole pool measured start-up, not dispatch: it is reported and run again.
//
// Measured (2 cores, a noisy shared VM, Node 20.20; three full runs on 2026-11-22):
//   spawn per task / bare fork per task      1.17–1.24× (CPU 1.18–1.25×)
//   forkserver per task / bare pool per task 1.73–2.18× (49–88 µs vs 24–35 µs); `--only forkserver`
//                                            1.68–2.10× over eight runs
//   forkserver throughput / spawn throughput 718–981×
// What made forkserver steps cheaper (from 3.9–4.4× measured the same way before): a busy worker is
// handed up to three quick steps ahead (docs/executors.md, "Hand-ahead"), so hand-offs reach a
// running process and it seldom waits between steps: waking a sleeping process costs this VM about
// 25 µs of the sender's CPU, more than a no-op step; the run worker launches the next step straight
// from a step's report; synchronous ops arm no live-events timer; small allocations and path joins
// were cut from the per-step path.
import { fork, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildDefinitions } from "../src/engine/definitions/build";
import { loadJobFiles } from "../src/engine/definitions/load";
import type { SluiceEvent } from "../src/engine/events";
import { executeMultiprocess } from "../src/engine/execution/multiprocess";
import { FileOutputStore } from "../src/engine/execution/outputs";
import { buildPlan } from "../src/engine/execution/plan";
import { executeRun, registerExecutor, type ResolvedExecutor } from "../src/engine/execution/run";
import { packageRoot, sdkEntry } from "../src/engine/paths";

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "500" },
    "latency-steps": { type: "string", default: "50" },
    rounds: { type: "string", default: "5" },
    // Forkserver and bare-pool rounds, alternating (each ratio pairs a round with the pool run next to it).
    "fs-rounds": { type: "string", default: "21" },
    concurrency: { type: "string" },
    // For profiling (with SLUICE_STEP_WORKER_PROFILE=1): "forkserver" = only the forkserver and pool
    // rounds, with the run worker's CPU; "chain" = only the one-at-a-time forkserver and pool rounds.
    only: { type: "string" },
    // With --only forkserver: writes a CPU profile of the run worker's forkserver runs only (no set-up).
    profile: { type: "string" },
  },
});
const STEPS = Number(values.steps);
const LATENCY_STEPS = Number(values["latency-steps"]);
const ROUNDS = Number(values.rounds);
const FS_ROUNDS = Number(values["fs-rounds"]);
const CONCURRENCY = Number(values.concurrency ?? availableParallelism());
if (values.only !== undefined && values.only !== "forkserver" && values.only !== "chain") throw new Error(`--only takes forkserver or chain, not "${values.only}"`);
if (values.profile !== undefined && values.only !== "forkserver") throw new Error("--profile goes with --only forkserver");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// ---------------------------------------------------------------------------------------------
// Baselines

const CHILD = `
process.on("message", (m) => {
  if (m.t === "task") process.send({ t: "done", id: m.id }, () => { if (m.exit) process.exit(0); });
});
process.send({ t: "ready" });
`;

/** (a) A fresh fork per task, `concurrency` at a time. Returns ms for all tasks. */
async function bareFork(script: string, tasks: number, concurrency: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const id = next++;
      const child = fork(script, [], { stdio: ["ignore", "ignore", "ignore", "ipc"], execArgv: [] });
      child.send({ t: "task", id, exit: true });
      child.on("exit", () => resolve());
    });
  const lane = async () => {
    while (next < tasks) await one();
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks) }, lane));
  return performance.now() - started;
}

/** (b) A pre-started pool of `concurrency` children, one task at a time each. Returns ms (start-up excluded). */
async function barePool(script: string, tasks: number, concurrency: number): Promise<number> {
  const children: ChildProcess[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, () => {
      const child = fork(script, [], { stdio: ["ignore", "ignore", "ignore", "ipc"], execArgv: [] });
      children.push(child);
      return new Promise<void>((resolve) => child.once("message", () => resolve()));
    }),
  );
  const started = performance.now();
  let next = 0;
  let done = 0;
  await new Promise<void>((resolve) => {
    for (const child of children) {
      child.on("message", () => {
        done++;
        if (done === tasks) resolve();
        else if (next < tasks) child.send({ t: "task", id: next++ });
      });
      if (next < tasks) child.send({ t: "task", id: next++ });
    }
  });
  const elapsed = performance.now() - started;
  // Wait for the children to be reaped, so that their CPU time is counted (cutime).
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once("exit", r), c.kill())))));
  return elapsed;
}

// ---------------------------------------------------------------------------------------------
// The executor

interface Workspace {
  dir: string;
  home: string;
  files: { path: string; ok: boolean; bundle?: string }[];
  jobs: ReturnType<typeof buildDefinitions>["jobs"];
}

async function makeWorkspace(root: string, steps: number): Promise<Workspace> {
  const dir = join(root, "ws");
  const home = join(dir, ".sluice");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "wide.ts");
  writeFileSync(
    file,
    `import { op, job } from "sluice";
const noop = op({ name: "noop" }, () => 1);
export const wide = job({ name: "wide" }, () => { for (let i = 0; i < ${steps}; i++) noop.alias(\`s\${i}\`)(); });
export const chain = job({ name: "chain" }, () => {
  const add = op({ name: "add", ins: ["n"] }, (ctx, n: number) => n + 1);
  let h = noop.alias("c0")();
  for (let i = 1; i < ${Math.max(steps, LATENCY_STEPS)}; i++) h = add.alias(\`c\${i}\`)(h);
});
`,
  );
  const load = await loadJobFiles([file], dir, join(home, "bundles"), sdkEntry());
  if (load.errors.length) throw new Error(load.errors.map((e) => e.message).join("\n"));
  const defs = buildDefinitions(load.modules, () => ({}));
  return { dir, home, files: load.files, jobs: defs.jobs };
}

interface ExecutorMeasure {
  /** Whole run (executor start to end), ms. */
  total: number;
  /**
   * Time all `steps` take at the rate the run kept once every one of its step workers had started
   * its first step, until its last STEP_SUCCESS (ms). The bare pool's clock likewise starts once
   * its children are ready: forkserver workers load the job as the run starts, and one may start
   * tens of milliseconds after another, a skew that is pool start-up, not dispatch.
   */
  window: number;
  steps: number;
  /** Steps that started once every worker had started one (the steps `window` is measured on). */
  warmSteps: number;
  /** How long after the first worker's first step the last worker started its first, ms. */
  skew: number;
  /** CPU time of this process (the run worker) from the first STEP_START to the end of the run, ms. */
  windowCpu: number;
}

let runCounter = 0;

async function runExecutor(ws: Workspace, jobName: string, steps: number, startMethod: "spawn" | "forkserver", concurrency: number, only?: string[]): Promise<ExecutorMeasure> {
  const job = ws.jobs.get(jobName)!;
  const keys = only ?? job.snapshot.steps.slice(0, steps).map((s) => s.key);
  const plan = buildPlan(job.snapshot, { stepKeys: keys });
  const events: SluiceEvent[] = [];
  let cpuAtFirstStart: NodeJS.CpuUsage | undefined;

  const executor: ResolvedExecutor = {
    kind: "multiprocess",
    maxConcurrent: concurrency,
    tagConcurrencyLimits: [],
    startMethod: startMethod === "spawn" ? { kind: "spawn" } : { kind: "forkserver", preloadModules: [] },
    retries: "enabled",
  };
  const runId = `bench-${process.pid}-${++runCounter}`;
  const started = performance.now();
  const outcome = await executeRun({
    runId,
    jobName,
    plan,
    job,
    runTags: {},
    runConfig: {},
    outputs: new FileOutputStore(join(ws.home, "storage")),
    instance: { getRunRecords: async () => [] },
    sink: (e) => {
      events.push(e);
      if (e.type === "STEP_START") cpuAtFirstStart ??= process.cpuUsage();
    },
    executor,
    reconstructable: { workspace: ws.dir, home: ws.home, files: ws.files },
    logsDir: join(ws.home, "logs"),
  });
  const total = performance.now() - started;
  // Taken after the run rather than at each STEP_SUCCESS (which would cost the run worker a system
  // call per step): it includes the pool's shutdown, two messages.
  const cpuAtEnd = process.cpuUsage();
  if (outcome.status !== "SUCCESS") {
    const failure = events.find((e) => e.type === "STEP_FAILURE" || e.type === "RUN_FAILURE");
    throw new Error(`bench run failed: ${failure?.message}`);
  }
  const starts = events.filter((e) => e.type === "STEP_START").map((e) => e.timestamp);
  const ends = events.filter((e) => e.type === "STEP_SUCCESS").map((e) => e.timestamp);
  if (starts.length !== steps || ends.length !== steps) throw new Error(`expected ${steps} steps, saw ${starts.length} starts and ${ends.length} successes`);
  const cpuMs = (u: NodeJS.CpuUsage | undefined) => (u ? (u.user + u.system) / 1000 : 0);
  const workerOf = new Map<string, unknown>();
  for (const e of events) if (e.type === "STEP_WORKER_STARTED") workerOf.set(e.stepKey!, e.data?.pid);
  const firstStartOf = new Map<unknown, number>();
  for (const e of events) {
    if (e.type !== "STEP_START") continue;
    const pid = workerOf.get(e.stepKey!);
    firstStartOf.set(pid, Math.min(firstStartOf.get(pid) ?? Infinity, e.timestamp));
  }
  const warmAt = Math.max(...firstStartOf.values());
  const warmSteps = starts.filter((t) => t >= warmAt).length;
  const window = ((Math.max(...ends) - warmAt) / warmSteps) * steps;
  return { total, window, steps, warmSteps, skew: warmAt - Math.min(...starts), windowCpu: cpuMs(cpuAtEnd) - cpuMs(cpuAtFirstStart) };
}

/**
 * A forkserver run of the wide job measured on its warm pool. When a worker started so late that
 * fewer than half the steps ran with the whole pool, the round measured start-up rather than
 * dispatch: it is reported and run again (at most twice).
 */
async function forkserverRound(ws: Workspace, steps: number, concurrency: number): Promise<ExecutorMeasure> {
  for (let attempt = 0; ; attempt++) {
    const m = await runExecutor(ws, "wide", steps, "forkserver", concurrency);
    if (m.warmSteps >= steps / 2 || attempt === 2) return m;
    console.log(`  (forkserver round run again: its last worker started ${m.skew} ms after the first, leaving ${m.warmSteps} of ${steps} steps on the whole pool)`);
  }
}

/**
 * Alternates the bare pool and forkserver runs: each forkserver round's ratio is to the pool round
 * run just before it, so a change in the machine's speed between rounds cancels out; the figure
 * is the median of those ratios.
 */
async function forkserverVsPool(ws: Workspace, script: string, rounds: number, onRound?: (pool: number, fs: ExecutorMeasure) => void) {
  const pools: number[] = [];
  const runs: ExecutorMeasure[] = [];
  for (let r = 0; r < rounds; r++) {
    const pool = await barePool(script, STEPS, CONCURRENCY);
    const fs = await forkserverRound(ws, STEPS, CONCURRENCY);
    pools.push(pool);
    runs.push(fs);
    onRound?.(pool, fs);
  }
  return { pools, runs, ratio: median(runs.map((fs, i) => fs.window / pools[i])) };
}

// ---------------------------------------------------------------------------------------------

function fmt(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(0)} µs`;
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
}

/** CPU time (ms) used so far by this process and by its children that have exited (Linux /proc). */
function cpuMs(): { self: number; children: number } {
  const u = process.cpuUsage();
  let children = NaN;
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): cutime and cstime are fields 16 and 17, in clock ticks (100 Hz).
    children = ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    // not Linux: wall-clock numbers only
  }
  return { self: (u.user + u.system) / 1000, children };
}

async function measured<T>(body: () => Promise<T>): Promise<{ value: T; cpu: number }> {
  const a = cpuMs();
  const value = await body();
  const b = cpuMs();
  return { value, cpu: b.self - a.self + (b.children - a.children) };
}

/** A CPU profile of this process from now until save() (around the forkserver rounds only). */
async function startProfiler() {
  const { Session } = await import("node:inspector/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return {
    async save(file: string) {
      const { profile } = await session.post("Profiler.stop");
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

async function main(): Promise<void> {
  const root = packageRoot();
  if (!existsSync(join(root, "dist", "stepWorker.js")) || !existsSync(sdkEntry())) {
    console.log("building dist/ first (node esbuild.mjs)...");
    spawnSync(process.execPath, ["esbuild.mjs"], { cwd: root, stdio: "inherit" });
  }
  registerExecutor("multiprocess", executeMultiprocess);
  const tmp = mkdtempSync(join(tmpdir(), "sluice-bench-executor-"));
  try {
    const script = join(tmp, "child.js");
    writeFileSync(script, CHILD);
    const ws = await makeWorkspace(tmp, STEPS);
    const wideKeys = ws.jobs.get("wide")!.snapshot.steps.map((s) => s.key);
    const slices = Math.max(1, ROUNDS);
    const slice = Math.ceil(STEPS / slices);
    console.log(`Multiprocess executor bench: ${STEPS}-step wide job of no-op steps, concurrency ${CONCURRENCY} (CPUs: ${availableParallelism()}), Node ${process.version}`);
    console.log(`spawn and bare fork alternate in ${slices} slices of ~${slice} steps (the machine's load changes); forkserver and the bare pool alternate ${FS_ROUNDS} full rounds (median of the ratios).`);
    console.log(`Sequential latency: a ${LATENCY_STEPS}-step chain for spawn/fork, ${STEPS} for forkserver/pool, one step at a time.\n`);

    if (values.only === "chain") {
      for (let r = 0; r < ROUNDS; r++) {
        const pool = await barePool(script, STEPS, 1);
        const fs = await runExecutor(ws, "chain", STEPS, "forkserver", 1);
        console.log(`chain, one step at a time: pool ${fmt(pool / STEPS)}/task, forkserver ${fmt(fs.window / STEPS)}/step, ratio ${(fs.window / pool).toFixed(2)}×`);
      }
      return;
    }
    if (values.only === "forkserver") {
      await runExecutor(ws, "wide", Math.min(8, STEPS), "forkserver", CONCURRENCY);
      const profiler = values.profile !== undefined ? await startProfiler() : undefined;
      const result = await forkserverVsPool(ws, script, FS_ROUNDS, (pool, fs) =>
        console.log(
          `pool ${fmt(pool / STEPS)}/task   forkserver ${fmt(fs.window / STEPS)}/step, ratio ${(fs.window / pool).toFixed(2)}×   ` +
            `(workers' start skew ${fs.skew} ms; run worker CPU from the first step on: ${fmt(fs.windowCpu / STEPS)} per step)`,
        ),
      );
      console.log(`median: pool ${fmt(median(result.pools) / STEPS)}/task, forkserver ${fmt(median(result.runs.map((m) => m.window)) / STEPS)}/step, ratio ${result.ratio.toFixed(2)}×`);
      if (profiler) await profiler.save(values.profile!);
      return;
    }

    // Warm-up: creates the V8 code cache the step workers use, and warms the file system.
    await runExecutor(ws, "wide", Math.min(8, STEPS), "spawn", CONCURRENCY);
    await runExecutor(ws, "wide", Math.min(8, STEPS), "forkserver", CONCURRENCY);
    await bareFork(script, 4, CONCURRENCY);

    // Throughput, spawn vs a fork per task: the whole wide job, in alternating slices.
    let forkMs = 0;
    let forkCpu = 0;
    let spawnMs = 0;
    let spawnCpu = 0;
    for (let i = 0; i < slices; i++) {
      const keys = wideKeys.slice(i * slice, Math.min(STEPS, (i + 1) * slice));
      if (keys.length === 0) break;
      const f = await measured(() => bareFork(script, keys.length, CONCURRENCY));
      forkMs += f.value;
      forkCpu += f.cpu;
      const sp = await measured(() => runExecutor(ws, "wide", keys.length, "spawn", CONCURRENCY, keys));
      spawnMs += sp.value.total;
      spawnCpu += sp.cpu;
    }

    // Throughput, forkserver vs a pre-started pool.
    const fsVsPool = await forkserverVsPool(ws, script, FS_ROUNDS);
    const poolMs = median(fsVsPool.pools);
    const fsWindow = median(fsVsPool.runs.map((m) => m.window));
    const fsTotal = median(fsVsPool.runs.map((m) => m.total));

    // Latency: one step at a time (a chain), so per-step time is the full dispatch → run → report trip.
    const forkSeq = await bareFork(script, LATENCY_STEPS, 1);
    const spawnSeq = await runExecutor(ws, "chain", LATENCY_STEPS, "spawn", 1);
    const poolSeqRounds: number[] = [];
    const fsSeqRounds: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      poolSeqRounds.push(await barePool(script, STEPS, 1));
      fsSeqRounds.push((await runExecutor(ws, "chain", STEPS, "forkserver", 1)).window);
    }

    const w = [50, 12, 14, 12];
    console.log(row(["throughput (wide job, parallel)", "total", "per task", "tasks/s"], w));
    const line = (name: string, total: number, n: number, extra = "") => console.log(row([name, fmt(total), fmt(total / n), (n / (total / 1000)).toFixed(0)], w) + extra);
    const cpu = (ms: number, n: number) => (Number.isFinite(ms) ? `   CPU ${fmt(ms / n)}/task` : "");
    line("(a) bare fork per task", forkMs, STEPS, cpu(forkCpu, STEPS));
    line("multiprocess spawn (whole runs)", spawnMs, STEPS, cpu(spawnCpu, STEPS));
    line("(b) bare pre-started pool", poolMs, STEPS);
    line("multiprocess forkserver (steps, warm pool)", fsWindow, STEPS);
    line("multiprocess forkserver (whole run + pool start)", fsTotal, STEPS);
    console.log("");
    console.log(row(["latency (chain, one at a time)", "total", "per step", "steps/s"], w));
    line("(a) bare fork per task", forkSeq, LATENCY_STEPS);
    line("multiprocess spawn (whole run)", spawnSeq.total, LATENCY_STEPS);
    line("(b) bare pre-started pool", median(poolSeqRounds), STEPS);
    line("multiprocess forkserver (steps, warm pool)", median(fsSeqRounds), STEPS);
    console.log("");
    const ratio = (x: number, target: string, ok: boolean) => `${x.toFixed(2)}×  (target ${target}: ${ok ? "met" : "NOT met"})`;
    const r1 = spawnMs / forkMs;
    const r2 = fsVsPool.ratio;
    const r3 = spawnMs / fsWindow;
    console.log(`spawn per task / bare fork per task:        ${ratio(r1, "≤ 1.3×", r1 <= 1.3)}${Number.isFinite(spawnCpu) ? `   (CPU: ${(spawnCpu / forkCpu).toFixed(2)}×)` : ""}`);
    console.log(`forkserver per task / bare pool per task:   ${ratio(r2, "≤ 3×", r2 <= 3)}   (median of ${FS_ROUNDS} rounds, each against the pool run next to it)`);
    console.log(`forkserver throughput / spawn throughput:   ${ratio(r3, "≥ 10×", r3 >= 10)}`);
    console.log(`(latency) spawn / bare fork: ${(spawnSeq.total / LATENCY_STEPS / (forkSeq / LATENCY_STEPS)).toFixed(2)}×, forkserver / bare pool: ${(median(fsSeqRounds) / median(poolSeqRounds)).toFixed(2)}×`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.log(`bench could not complete: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
});
