// Run queue benchmark: `node --import tsx bench/queue.ts` (build first: `node esbuild.mjs`).
// Prints figures and ratios; never fails.
//
// (a) One queue-coordinator pass over 10,000 QUEUED runs with 5 run tag limits and 3 pools
//     (op granularity, limits set, some slots held and steps waiting), next to a bare loop that
//     only sorts the same records by priority and counts their tags and pools in memory.
//     Targets: the pass ≤ 100 ms and ≤ 5× the bare loop. Reported: the pure decision
//     (coordinateQueue on records already in memory), and a whole daemon pass (read the runs and
//     pools from the store, decide, record changed reasons), steady state and first pass (which
//     writes 10,000 reasons).
// (b) End to end: N tiny runs (default 200, QUEUE_BENCH_RUNS) submitted at once to a `sluice dev`
//     owner with max_concurrent_runs 4, until the last one finished; next to M sequential
//     `sluice job execute` CLI runs (default 20, QUEUE_BENCH_SEQUENTIAL; extrapolated to N, since
//     200 sequential CLI runs take minutes) and M sequential executes through the same owner (no
//     CLI start-up per run).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { resolveInstanceConfig } from "../src/engine/config/instanceSchema";
import { buildQueueInput, QueueDaemon, readQueuedRuns } from "../src/engine/daemons/queueDaemon";
import { coordinateQueue } from "../src/engine/daemons/queueCoordinator";
import type { SluiceEvent } from "../src/engine/events";
import { PoolStore } from "../src/engine/pools/poolStore";
import { runPriority, type RunPoolUsage } from "../src/engine/pools/runPools";
import { connectToOwner } from "../src/engine/rpc/connect";
import { instanceHome } from "../src/engine/paths";
import { Store } from "../src/engine/storage/store";

const QUEUED = 10_000;
const ROUNDS = 15;
const REPO = resolve(__dirname, "..");
const CLI = join(REPO, "dist", "cli.js");

function stats(samples: number[]): { best: number; median: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { best: s[0], median: s[Math.floor(s.length / 2)] };
}

function fmt(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

// ---------------------------------------------------------------------------------------------
// (a) one coordinator pass

async function coordinatorPass(): Promise<void> {
  const store = await Store.openInMemory();
  const pools = new PoolStore(store);
  const poolNames = ["db", "warehouse", "api"];
  pools.setLimit("db", 2);
  pools.setLimit("warehouse", 1);
  pools.setLimit("api", 4);
  const config = resolveInstanceConfig({
    concurrency: {
      runs: {
        max_concurrent_runs: 20,
        tag_concurrency_limits: [
          { key: "team", value: { applyLimitPerUniqueValue: true }, limit: 4 },
          { key: "db", value: "pg", limit: 2 },
          { key: "user", value: { applyLimitPerUniqueValue: true }, limit: 1 },
          { key: "region", value: "eu", limit: 4 },
          { key: "batch", limit: 3 },
        ],
      },
    },
  });
  // mulberry32: a small, well-mixed deterministic generator.
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n | 0;
  };
  const makeRun = (i: number, status: "QUEUED" | "STARTED") => {
    const runId = `run-${status}-${i}`;
    const tags: Record<string, string> = { team: `t${rand(5)}`, user: `u${rand(50)}` };
    if (rand(3) === 0) tags.db = rand(2) ? "pg" : "mysql";
    if (rand(4) === 0) tags.region = rand(2) ? "eu" : "us";
    if (rand(5) === 0) tags.batch = `b${rand(3)}`;
    if (rand(10) === 0) tags["sluice/priority"] = String(rand(7) - 3);
    const p = rand(4);
    const usage: RunPoolUsage | null = p === 3 ? null : { roots: { [poolNames[p]]: ["step_a"] }, all: [poolNames[p]], unconstrainedRoot: false };
    store.createRun({ runId, jobName: "job", tags });
    store.setRunMeta(runId, { pools: usage });
    const events: SluiceEvent[] = [{ runId, type: "RUN_ENQUEUED", timestamp: Date.now(), level: "INFO", message: "" }];
    if (status === "STARTED") {
      events.push({ runId, type: "RUN_STARTING", timestamp: Date.now(), level: "INFO", message: "" });
      events.push({ runId, type: "RUN_START", timestamp: Date.now(), level: "INFO", message: "" });
    }
    store.appendEvents(events);
    if (status === "STARTED" && usage) pools.claim(poolNames[p], runId, "step_a", 0, { defaultLimit: null });
  };
  for (let i = 0; i < 6; i++) makeRun(i, "STARTED");
  for (let i = 0; i < QUEUED; i++) makeRun(i, "QUEUED");
  store.flush();

  const queuedRuns = readQueuedRuns(store);
  const inProgressRuns = store.getRunRecords({ statuses: ["STARTING", "STARTED", "CANCELING"] });
  const input = buildQueueInput(store, pools, config, queuedRuns, inProgressRuns);

  // The bare loop: the same records, only sorted by priority and counted.
  const bare = () => {
    const order = input.queued.map((r, i) => ({ r, i, p: runPriority(r.tags) }));
    order.sort((a, b) => b.p - a.p || a.r.storageId - b.r.storageId || a.i - b.i);
    const tagCounts = new Map<string, number>();
    const poolCounts = new Map<string, number>();
    for (const { r } of order) {
      for (const [k, v] of Object.entries(r.tags)) {
        tagCounts.set(k, (tagCounts.get(k) ?? 0) + 1);
        const kv = `${k}\u0000${v}`;
        tagCounts.set(kv, (tagCounts.get(kv) ?? 0) + 1);
      }
      for (const p of Object.keys(r.pools?.roots ?? {})) poolCounts.set(p, (poolCounts.get(p) ?? 0) + 1);
    }
    return tagCounts.size + poolCounts.size;
  };

  const pure: number[] = [];
  const bareTimes: number[] = [];
  let launched = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    launched = coordinateQueue(input).launch.length;
    pure.push(performance.now() - t);
    t = performance.now();
    bare();
    bareTimes.push(performance.now() - t);
  }

  const daemon = new QueueDaemon({ store, pools, config: () => config, launchQueuedRun: () => undefined });
  let t = performance.now();
  const first = daemon.pass();
  const firstPass = performance.now() - t;
  const passes: number[] = [];
  const parts = { read: [] as number[], decide: [] as number[], write: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    t = performance.now();
    const r = daemon.pass();
    passes.push(performance.now() - t);
    parts.read.push(r.timings.read);
    parts.decide.push(r.timings.decide);
    parts.write.push(r.timings.write);
  }
  const p = stats(pure);
  const b = stats(bareTimes);
  const full = stats(passes);
  console.log(`(a) one coordinator pass: ${QUEUED} QUEUED runs, 6 in progress, 5 tag limits, 3 pools (op granularity), max_concurrent_runs 20`);
  if (process.env.QUEUE_BENCH_DEBUG) {
    const reasons = new Map<string, number>();
    for (const w of first.decision.waiting.values()) reasons.set(w.reason, (reasons.get(w.reason) ?? 0) + 1);
    console.log([...reasons].sort((a, b) => b[1] - a[1]).slice(0, 15));
  }
  const byKind = new Map<string, number>();
  for (const w of first.decision.waiting.values()) byKind.set(w.block.kind, (byKind.get(w.block.kind) ?? 0) + 1);
  console.log(`    decision: ${launched} runs to launch, ${first.decision.waiting.size} waiting with a reason (${[...byKind].map(([k, v]) => `${v} ${k}`).join(", ")})`);
  console.log(`    pure decision (coordinateQueue):  best ${fmt(p.best)}, median ${fmt(p.median)}`);
  console.log(`    bare loop (sort + count):         best ${fmt(b.best)}, median ${fmt(b.median)}`);
  console.log(`    ratio pure / bare:                best ${(p.best / b.best).toFixed(2)}x, median ${(p.median / b.median).toFixed(2)}x   (target <= 5x, <= 100 ms)`);
  console.log(
    `    whole daemon pass (read store + decide + reasons), steady state: best ${fmt(full.best)}, median ${fmt(full.median)} ` +
      `(read ${fmt(stats(parts.read).median)}, decide ${fmt(stats(parts.decide).median)}, reasons ${fmt(stats(parts.write).median)})`,
  );
  console.log(`    first pass (writes ${first.decision.waiting.size} reasons in one journal record): ${fmt(firstPass)}`);
  console.log(`    ratio whole pass / bare loop: median ${(full.median / b.median).toFixed(1)}x`);
  store.close();
}

// ---------------------------------------------------------------------------------------------
// (b) end to end

const JOB = `import { op, job, inProcessExecutor } from "sluice";
const tiny = op({ name: "tiny" }, () => 1);
export const tiny_job = job({ name: "tiny_job", executor: inProcessExecutor }, () => { tiny(); });
`;

function startDev(dir: string): Promise<ChildProcess> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, "dev", "--workspace", dir], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr!.on("data", (d) => {
      err += d;
      if (err.includes("run queue running")) resolvePromise(child);
    });
    child.on("exit", () => reject(new Error(`sluice dev exited: ${err}`)));
  });
}

async function endToEnd(): Promise<void> {
  const n = Number(process.env.QUEUE_BENCH_RUNS) || 200;
  const m = Number(process.env.QUEUE_BENCH_SEQUENTIAL) || 20;
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-queue-"));
  writeFileSync(join(dir, "jobs.ts"), JOB);
  writeFileSync(join(dir, "sluice.yaml"), "concurrency:\n  runs:\n    max_concurrent_runs: 4\n");
  try {
    // Warm up (bundle the job file once).
    spawnSync(process.execPath, [CLI, "job", "execute", "-j", "tiny_job", "--workspace", dir], { stdio: "ignore" });

    // Sequential CLI executes (each one a new process: CLI start, definitions load, run worker).
    let t = performance.now();
    for (let i = 0; i < m; i++) spawnSync(process.execPath, [CLI, "job", "execute", "-j", "tiny_job", "--workspace", dir], { stdio: "ignore" });
    const cliSeq = performance.now() - t;

    const dev = await startDev(dir);
    const remote = await connectToOwner(instanceHome(dir));
    if (!remote) throw new Error("no owner");
    const api = remote.api;
    // Warm the owner's definitions.
    await api.execute({ jobName: "tiny_job" });

    // Sequential executes through the owner (no CLI start-up per run).
    t = performance.now();
    for (let i = 0; i < m; i++) await api.execute({ jobName: "tiny_job" });
    const ownerSeq = performance.now() - t;

    // N runs submitted at once to the queue, max_concurrent_runs 4.
    t = performance.now();
    const launched = await Promise.all(Array.from({ length: n }, () => api.launch({ jobName: "tiny_job" })));
    const submitted = performance.now() - t;
    const finished = await Promise.all(launched.map((l) => api.watchRun(l.run.runId)));
    const queued = performance.now() - t;
    const ok = finished.filter((r) => r.status === "SUCCESS").length;
    api.close();
    dev.kill("SIGINT");
    await new Promise((r) => dev.on("exit", r));

    console.log(`(b) end to end: ${n} tiny runs submitted at once, max_concurrent_runs 4 (2 cores)`);
    console.log(`    queue: all ${n} submitted in ${fmt(submitted)}, all finished after ${fmt(queued)} (${ok}/${n} SUCCESS); ${fmt(queued / n)} per run`);
    console.log(`    ${m} sequential \`sluice job execute\` CLI runs: ${fmt(cliSeq)} (${fmt(cliSeq / m)} per run; ${n} would take ~${fmt((cliSeq / m) * n)})`);
    console.log(`    ${m} sequential executes through the owner (no CLI start-up): ${fmt(ownerSeq)} (${fmt(ownerSeq / m)} per run)`);
    console.log(`    ratio queue / sequential CLI (per run): ${(queued / n / (cliSeq / m)).toFixed(2)}x; queue / sequential through the owner: ${(queued / n / (ownerSeq / m)).toFixed(2)}x`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await coordinatorPass();
  if (process.env.QUEUE_BENCH_SKIP_E2E) return;
  await endToEnd();
}

main().catch((e) => {
  console.log(`queue bench could not finish: ${e instanceof Error ? e.stack : String(e)}`);
});
