// The multiprocess executor (spawn and forkserver), the in-process executor, op retries, step
// outputs across processes, compute logs, per-step limits and custom executors, through the real
// CLI on copies of test/fixtures/executor/ws: real step worker processes, a real store on disk.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { spawn } from "node:child_process";
import { FileOutputStore } from "../../src/engine/execution/outputs";
import { CLI, json, makeWorkspace, sluiceAsync, type CliResult, type Workspace } from "../helpers/workspace";

const FIXTURE = resolve(__dirname, "../fixtures/executor/ws");

interface Event {
  type: string;
  stepKey: string | null;
  timestamp: number;
  message: string;
  level: string;
  data: Record<string, any> | null;
}
interface Run {
  code: number | null;
  runId: string;
  status: string;
  events: Event[];
  stderr: string;
}
interface Record_ {
  step: string;
  start: number;
  end: number;
  pid: number;
  tags: Record<string, string>;
}

const METHODS = {
  spawn: "spawn.yaml",
  forkserver: "forkserver.yaml",
  in_process: "in_process.yaml",
} as const;
type Method = keyof typeof METHODS;

const workspaces: Workspace[] = [];

/**
 * A workspace of its own for each test: tests run concurrently, and a second `sluice job execute`
 * in a workspace hands its run to the process that owns the workspace.
 */
function fresh(): Workspace {
  const ws = makeWorkspace({}, FIXTURE);
  workspaces.push(ws);
  writeFileSync(
    join(ws.dir, "tags.yaml"),
    `execution:
  config:
    multiprocess:
      max_concurrent: 4
      tag_concurrency_limits:
        - {key: database, value: tiny, limit: 1}
        - {key: database, value: large, limit: 2}
        - {key: region, value: {applyLimitPerUniqueValue: true}, limit: 1}
`,
  );
  writeFileSync(join(ws.dir, "tags-forkserver.yaml"), readFileSync(join(ws.dir, "tags.yaml"), "utf8") + "      start_method: {forkserver: {}}\n");
  writeFileSync(join(ws.dir, "serial.yaml"), "execution:\n  config:\n    multiprocess:\n      max_concurrent: 1\n");
  writeFileSync(join(ws.dir, "serial-forkserver.yaml"), "execution:\n  config:\n    multiprocess:\n      max_concurrent: 1\n      start_method: {forkserver: {}}\n");
  // Retries: every step of retry_job at once, so a retry never waits for a free slot.
  writeFileSync(join(ws.dir, "retries-spawn.yaml"), "execution:\n  config:\n    multiprocess:\n      max_concurrent: 8\n");
  writeFileSync(join(ws.dir, "retries-forkserver.yaml"), "execution:\n  config:\n    multiprocess:\n      max_concurrent: 8\n      start_method: {forkserver: {}}\n");
  writeFileSync(join(ws.dir, "no-retries.yaml"), "execution:\n  config:\n    multiprocess:\n      retries: {disabled: {}}\n      start_method: {forkserver: {}}\n");
  return ws;
}

/** `sluice job execute --json`: the events it streamed and the final {runId, status}. */
async function execute(ws: Workspace, job: string, args: string[] = [], config?: string): Promise<Run> {
  const r = await sluiceAsync(ws, ["job", "execute", "-j", job, "--json", ...(config ? ["-c", join(ws.dir, config)] : []), ...args]);
  return parseRun(r);
}

function parseRun(r: CliResult): Run {
  const lines = r.stdout.trim().split("\n").filter(Boolean);
  let last: { runId?: string; status?: string } = {};
  const events: Event[] = [];
  for (const line of lines) {
    let v: any;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (v && typeof v.type === "string") events.push(v as Event);
    else if (v && typeof v.runId === "string") last = v;
  }
  assert.ok(last.runId, `no run summary (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return { code: r.code, runId: last.runId!, status: last.status!, events, stderr: r.stderr };
}

function stepEvents(run: Run, step: string, types?: string[]): Event[] {
  return run.events.filter((e) => e.stepKey === step && (!types || types.includes(e.type)));
}

function types(run: Run, step: string, only = ["STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_SUCCESS", "STEP_FAILURE"]): string[] {
  return stepEvents(run, step, only).map((e) => e.type);
}

function outDir(ws: Workspace): string {
  return join(ws.dir, "out");
}

function records(dir: string): Record_[] {
  return readdirSync(dir).map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as Record_);
}

/** Largest number of the records whose [start, end) intervals overlap at one moment. */
function maxOverlap(list: Record_[]): number {
  let best = 0;
  for (const r of list) best = Math.max(best, list.filter((o) => o.start <= r.start && r.start < o.end).length);
  return best;
}

function storedOutput(ws: Workspace, runId: string, step: string, output = "result"): unknown {
  return new FileOutputStore(join(ws.dir, ".sluice", "storage")).read(runId, step, output);
}

describe("executors through the CLI", { concurrency: 4 }, () => {
  after(() => {
    for (const ws of workspaces) ws.remove();
  });

  for (const method of ["spawn", "forkserver"] as const) {
    it(`${method}: never runs more than max_concurrent steps, each in a step worker, never in the run worker`, async () => {
      const ws = fresh();
      const dir = outDir(ws);
      const run = await execute(ws, "wide", ["--tag", `out=${dir}`], METHODS[method]);
      assert.equal(run.status, "SUCCESS", run.stderr);
      const list = records(dir);
      assert.equal(list.length, 6);
      assert.ok(maxOverlap(list) <= 2, `overlap ${maxOverlap(list)} > max_concurrent 2`);
      const parent = run.events.find((e) => e.message.startsWith("Executing steps using multiprocess executor: parent process (pid: "));
      assert.ok(parent, "parent process engine event");
      const runWorkerPid = Number(/pid: (\d+)/.exec(parent.message)![1]);
      const pids = new Set(list.map((r) => r.pid));
      assert.ok(!pids.has(runWorkerPid), "no step ran in the run worker");
      if (method === "spawn") assert.equal(pids.size, 6, "a fresh process per step");
      else assert.ok(pids.size <= 2, `forkserver reuses its ${2} workers, saw ${pids.size} pids`);
      for (const r of list) {
        const started = stepEvents(run, r.step, ["STEP_WORKER_STARTED"])[0];
        assert.equal(started?.data?.pid, r.pid, "STEP_WORKER_STARTED names the worker's pid");
        assert.equal(stepEvents(run, r.step, ["STEP_WORKER_STARTING"]).length, 1);
      }
      if (method === "spawn") {
        for (const r of list) assert.equal(stepEvents(run, r.step, ["STEP_WORKER_STARTING"])[0].message, `Launching subprocess for "${r.step}".`);
      }
      // Step workers load their own code and the SDK through V8 code caches, written after a step ran.
      const caches = readdirSync(join(ws.dir, ".sluice", "cache", "v8")).filter((f) => f.endsWith(".bin"));
      assert.ok(caches.length >= 2, `code caches for the step worker and the SDK, saw ${caches.join(", ")}`);
      assert.ok(run.events.some((e) => /^Multiprocess executor: parent process exiting after .+ \(pid: \d+\)$/.test(e.message)));
    });

    it(`${method}: holds steps back by tag limits (value, key, per unique value) without blocking the others`, async () => {
      const ws = fresh();
      const dir = outDir(ws);
      const run = await execute(ws, "tagged", ["--tag", `out=${dir}`], method === "spawn" ? "tags.yaml" : "tags-forkserver.yaml");
      assert.equal(run.status, "SUCCESS", run.stderr);
      const list = records(dir);
      assert.equal(list.length, 11);
      const having = (pred: (t: Record<string, string>) => boolean) => list.filter((r) => pred(r.tags));
      assert.ok(maxOverlap(list) <= 4, "max_concurrent 4");
      assert.equal(maxOverlap(having((t) => t.database === "tiny")), 1, "database=tiny limit 1");
      assert.ok(maxOverlap(having((t) => t.database === "large")) <= 2, "database=large limit 2");
      assert.equal(maxOverlap(having((t) => t.region === "eu")), 1, "region per unique value: eu");
      assert.equal(maxOverlap(having((t) => t.region === "us")), 1, "region per unique value: us");
      // No head-of-line blocking: tiny_b (before the large steps in plan order) waits for tiny_a,
      // and the large steps behind it are handed to workers meanwhile.
      const handedOff = (step: string) => stepEvents(run, step, ["STEP_WORKER_STARTING"])[0].timestamp;
      assert.ok(handedOff("large_a") < handedOff("tiny_b") && handedOff("large_b") < handedOff("tiny_b"), "steps behind a blocked step were not held back");
    });

    it(`${method}: starts steps in priority order (5, 4, 3, 2, none, -1)`, async () => {
      const ws = fresh();
      const dir = outDir(ws);
      const run = await execute(ws, "priorities", ["--tag", `out=${dir}`], method === "spawn" ? "serial.yaml" : "serial-forkserver.yaml");
      assert.equal(run.status, "SUCCESS", run.stderr);
      const order = records(dir).sort((a, b) => a.start - b.start).map((r) => r.step);
      assert.deepEqual(order, ["pri_5", "pri_4", "pri_3", "pri_2", "pri_none", "pri_neg_1"]);
      assert.equal(maxOverlap(records(dir)), 1);
    });
  }

  it("forkserver: a busy worker is handed its next quick steps ahead of time and starts each after the one before", async () => {
    const ws = fresh();
    const run = await execute(ws, "many_quick", [], "forkserver.yaml");
    assert.equal(run.status, "SUCCESS", run.stderr);
    const handOffs = run.events.filter((e) => e.type === "STEP_WORKER_STARTING");
    const queued = handOffs.filter((e) => typeof e.data?.queuedBehind === "string");
    assert.ok(queued.length >= 10, `steps handed ahead: ${queued.length} of 40`);
    for (const h of queued) {
      const behind = String(h.data!.queuedBehind);
      assert.equal(h.message, `Handing step "${h.stepKey}" to step worker (pid ${h.data!.pid}); it starts when step "${behind}" ends there.`);
      const start = stepEvents(run, h.stepKey!, ["STEP_START"])[0];
      const before = stepEvents(run, behind, ["STEP_SUCCESS"])[0];
      assert.ok(start.timestamp >= before.timestamp, `${h.stepKey} started before ${behind} ended`);
      assert.equal(stepEvents(run, h.stepKey!, ["STEP_WORKER_STARTED"])[0].data?.pid, h.data!.pid, "it ran on the worker it was handed to");
    }
    assert.ok(new Set(run.events.filter((e) => e.type === "STEP_WORKER_STARTED").map((e) => e.data?.pid)).size <= 2, "two workers");
  });

  it("forkserver: never hands a step ahead behind a slow step, nor with priorities or tag limits", async () => {
    const ws = fresh();
    const run = await execute(ws, "quick_and_slow", [], "forkserver.yaml");
    assert.equal(run.status, "SUCCESS", run.stderr);
    const queued = run.events.filter((e) => e.type === "STEP_WORKER_STARTING" && e.data?.queuedBehind !== undefined);
    assert.ok(queued.length >= 5, `quick steps handed ahead behind quick ones: ${queued.length}`);
    assert.deepEqual(queued.filter((e) => String(e.data!.queuedBehind).startsWith("slow")).map((e) => e.stepKey), [], "nothing waits behind a slow step");
    // While slow_b holds one worker, the other runs the quick steps.
    const at = (step: string, type: string) => stepEvents(run, step, [type])[0].timestamp;
    const duringSlow = Array.from({ length: 30 }, (_, i) => `q${i}`).filter((q) => at(q, "STEP_START") >= at("slow_b", "STEP_START") && at(q, "STEP_SUCCESS") <= at("slow_b", "STEP_SUCCESS"));
    assert.ok(duringSlow.length >= 25, `quick steps while slow_b ran: ${duringSlow.length} of 30`);
    for (const [job, config] of [["priorities", "serial-forkserver.yaml"], ["tagged", "tags-forkserver.yaml"]] as const) {
      const other = await execute(ws, job, ["--tag", `out=${join(ws.dir, `out-${job}`)}`], config);
      assert.equal(other.status, "SUCCESS", other.stderr);
      assert.equal(other.events.filter((e) => e.data?.queuedBehind !== undefined).length, 0, `${job}: nothing handed ahead`);
    }
  });

  it("forkserver: a step goes to a worker that has loaded the job, not to one still loading", async () => {
    const ws = fresh();
    writeFileSync(join(ws.dir, "slow-start.yaml"), "execution:\n  config:\n    multiprocess:\n      max_concurrent: 2\n      start_method:\n        forkserver:\n          preload_modules: [./slow_once.cjs]\n");
    const run = await execute(ws, "many_quick", [], "slow-start.yaml");
    assert.equal(run.status, "SUCCESS", run.stderr);
    // One worker loads 600 ms longer than the other: no step waits for it while the other is free.
    for (let i = 0; i < 40; i++) {
      const handedAt = stepEvents(run, `q${i}`, ["STEP_WORKER_STARTING"])[0].timestamp;
      const startedAt = stepEvents(run, `q${i}`, ["STEP_START"])[0].timestamp;
      assert.ok(startedAt - handedAt < 300, `q${i} waited ${startedAt - handedAt} ms between its hand-off and its start`);
    }
  });

  it("forkserver: a step handed ahead to a worker that dies before starting it runs on another worker", async () => {
    const ws = fresh();
    const run = await execute(ws, "many_quick", ["--tag", "exit_every=5"], "serial-forkserver.yaml");
    assert.equal(run.status, "FAILURE");
    const exiting = Array.from({ length: 40 }, (_, i) => `q${i}`).filter((_, i) => i % 5 === 4);
    for (let i = 0; i < 40; i++) {
      const key = `q${i}`;
      // A forkserver step's STEP_START travels with its report: a worker that exits takes it along.
      assert.deepEqual(types(run, key), exiting.includes(key) ? ["STEP_FAILURE"] : ["STEP_START", "STEP_SUCCESS"], key);
    }
    const requeued = run.events.filter((e) => e.type === "ENGINE_EVENT" && /did not start on step worker \(pid \d+\), which is gone; it goes to another worker\.$/.test(e.message));
    assert.ok(requeued.length >= 1, "a queued step was handed back");
    for (const e of requeued) {
      const handOffs = stepEvents(run, e.stepKey!, ["STEP_WORKER_STARTING"]);
      assert.equal(handOffs.length, 2, `${e.stepKey} was handed out twice`);
      assert.equal(stepEvents(run, e.stepKey!, ["STEP_START"]).length, 1, `${e.stepKey} started once`);
    }
  });

  it("forkserver: preload_modules load once per worker; max_steps_per_worker replaces workers", async () => {
    const ws = fresh();
    writeFileSync(
      join(ws.dir, "recycle.yaml"),
      "execution:\n  config:\n    multiprocess:\n      max_concurrent: 2\n      start_method:\n        forkserver:\n          preload_modules: [./preload.cjs]\n          max_steps_per_worker: 2\n",
    );
    const dir = outDir(ws);
    const run = await execute(ws, "wide", ["--tag", `out=${dir}`], "recycle.yaml");
    assert.equal(run.status, "SUCCESS", run.stderr);
    const list = records(dir);
    assert.ok(list.every((r) => (r as Record_ & { preloaded: boolean }).preloaded), "every worker preloaded the module");
    const perPid = new Map<number, number>();
    for (const r of list) perPid.set(r.pid, (perPid.get(r.pid) ?? 0) + 1);
    assert.ok([...perPid.values()].every((n) => n <= 2), `at most 2 steps per worker: ${JSON.stringify([...perPid])}`);
    assert.ok(perPid.size >= 3, "workers were replaced");
    assert.ok(maxOverlap(list) <= 2);
  });

  for (const method of ["spawn", "forkserver", "in_process"] as const) {
    it(`${method}: retries follow the policy's delays and emit STEP_UP_FOR_RETRY / STEP_RESTARTED`, async () => {
      const ws = fresh();
      const run = await execute(ws, "retry_job", [], method === "in_process" ? METHODS[method] : `retries-${method}.yaml`);
      assert.equal(run.status, "FAILURE");
      assert.equal(run.code, 1);
      const waits = (step: string) => stepEvents(run, step, ["STEP_UP_FOR_RETRY"]).map((e) => e.data?.secondsToWait);
      // The wait runs from STEP_UP_FOR_RETRY to the next attempt's hand-off (its first event: the
      // run worker's STEP_WORKER_STARTING, or LOGS_CAPTURED in process), which must never be early
      // and only late by scheduling; STEP_RESTARTED follows once the attempt runs.
      const checkGaps = (step: string, expected: number[]) => {
        const list = stepEvents(run, step);
        const ups = list.map((e, i) => [e, i] as const).filter(([e]) => e.type === "STEP_UP_FOR_RETRY");
        assert.equal(ups.length, expected.length, `${step}: ${ups.length} retries`);
        ups.forEach(([up, i], n) => {
          const next = list[i + 1];
          const ms = next.timestamp - up.timestamp;
          assert.ok(ms >= expected[n] * 1000 - 25, `${step} retry ${n + 1} handed off after ${ms} ms, expected ${expected[n] * 1000}`);
          assert.ok(ms <= expected[n] * 1000 + 1500, `${step} retry ${n + 1} handed off after ${ms} ms, expected ${expected[n] * 1000}`);
          const restarted = list.slice(i + 1).find((e) => e.type === "STEP_RESTARTED");
          assert.ok(restarted && restarted.timestamp >= up.timestamp + expected[n] * 1000 - 25, `${step}: STEP_RESTARTED not before the wait`);
        });
      };

      // LINEAR, delay 0.25: waits 0.25 then 0.5; attempts 2 and 3 are restarts, no failure in between.
      assert.deepEqual(types(run, "linear"), ["STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_SUCCESS"]);
      assert.deepEqual(waits("linear"), [0.25, 0.5]);
      assert.deepEqual(stepEvents(run, "linear", ["STEP_RESTARTED"]).map((e) => e.message), [
        'Started re-execution (attempt # 2) of step "linear".',
        'Started re-execution (attempt # 3) of step "linear".',
      ]);
      assert.equal(stepEvents(run, "linear", ["STEP_UP_FOR_RETRY"])[0].message, 'Execution of step "linear" failed and has requested a retry in 0.25 seconds.');
      checkGaps("linear", [0.25, 0.5]);
      assert.equal(storedOutput(ws, run.runId, "linear"), 2, "ctx.retryNumber on the third attempt");

      // EXPONENTIAL, delay 0.1: 0.1, 0.3, then "Exceeded max_retries of 2" (the only STEP_FAILURE).
      assert.deepEqual(types(run, "exhausted"), ["STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_FAILURE"]);
      assert.deepEqual(waits("exhausted"), [0.1, 0.3]);
      checkGaps("exhausted", [0.1, 0.3]);
      const exhausted = stepEvents(run, "exhausted", ["STEP_FAILURE"])[0];
      assert.equal(exhausted.message, "Exceeded max_retries of 2");
      assert.match(exhausted.data?.error?.message, /exhausted attempt 3 fails/);

      // RetryRequested ignores the policy (delay 5 s): its own wait of 0.2 s and budget of 1.
      assert.deepEqual(types(run, "requested"), ["STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_SUCCESS"]);
      assert.deepEqual(waits("requested"), [0.2]);
      checkGaps("requested", [0.2]);

      // Failure({allowRetries: false}) is never retried, policy or not.
      assert.deepEqual(types(run, "no_retry"), ["STEP_START", "STEP_FAILURE"]);
      const noRetry = stepEvents(run, "no_retry", ["STEP_FAILURE"])[0];
      assert.match(noRetry.message, /not worth retrying/);
      assert.deepEqual(noRetry.data?.metadata, { code: 7 });

      // The job's opRetryPolicy for an op without one; an invocation's withRetryPolicy over both.
      assert.deepEqual(types(run, "plain"), ["STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_SUCCESS"]);
      assert.deepEqual(waits("plain"), [0.1]);
      assert.deepEqual(types(run, "invoked"), ["STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_SUCCESS"]);
      assert.deepEqual(waits("invoked"), [0.15]);

      const failure = run.events.find((e) => e.type === "RUN_FAILURE")!;
      assert.match(failure.message, /Steps failed: \[(exhausted, no_retry|no_retry, exhausted)\]/);
    });
  }

  it("retries disabled: a retry request fails the step at once", async () => {
    const ws = fresh();
    const run = await execute(ws, "retry_job", ["-s", "linear,requested"], "no-retries.yaml");
    assert.equal(run.status, "FAILURE");
    for (const step of ["linear", "requested"]) {
      assert.deepEqual(types(run, step), ["STEP_START", "STEP_FAILURE"]);
      assert.equal(stepEvents(run, step, ["STEP_FAILURE"])[0].message, "RetryRequested but retries are disabled");
    }
  });

  for (const method of ["spawn", "forkserver", "in_process"] as const) {
    it(`${method}: outputs cross processes intact (Date, Map, Set, Buffer, BigInt, typed arrays, -0, Infinity)`, async () => {
      const ws = fresh();
      const run = await execute(ws, "values_job", [], METHODS[method]);
      assert.equal(run.status, "SUCCESS", JSON.stringify(stepEvents(run, "consume", ["STEP_FAILURE"])));
      const rich = storedOutput(ws, run.runId, "produce", "rich") as Record<string, any>;
      assert.ok(rich.when instanceof Date);
      assert.ok(rich.map instanceof Map && rich.map.get(2) instanceof Date);
      assert.ok(Buffer.isBuffer(rich.buf));
      assert.equal(rich.big, 12345678901234567890n);
      const consumed = storedOutput(ws, run.runId, "consume") as { checks: Record<string, boolean>; pid: number };
      assert.ok(Object.values(consumed.checks).every(Boolean));
      const outputs = run.events.filter((e) => e.type === "STEP_OUTPUT").map((e) => `${e.stepKey}.${e.data?.outputName}`);
      assert.deepEqual(outputs.sort(), ["consume.result", "produce.plain", "produce.rich"]);
    });
  }

  for (const method of ["spawn", "forkserver", "in_process"] as const) {
    it(`${method}: a step that exits, runs out of memory or runs out of time fails alone`, async () => {
      const ws = fresh();
      // In process, process.exit() would end the run worker itself: that step is left out there.
      const args = method === "in_process" ? ["-s", "hog,spins,fine,after_fine"] : [];
      const run = await execute(ws, "crash_job", args, METHODS[method]);
      assert.equal(run.status, "FAILURE");
      assert.equal(run.code, 1);
      const failure = (step: string) => stepEvents(run, step, ["STEP_FAILURE"]);
      if (method !== "in_process") {
        assert.equal(failure("exits").length, 1);
        assert.match(failure("exits")[0].message, /exited with code 3/);
        assert.equal(failure("exits")[0].data?.exitCode, 3);
        assert.ok(stepEvents(run, "exits", ["ENGINE_EVENT"]).some((e) => /exited with code 3/.test(e.message)), "engine event explains the death");
        assert.deepEqual(types(run, "after_exits"), [], "downstream of the dead step never starts");
        assert.ok(stepEvents(run, "after_exits", ["ENGINE_EVENT"]).some((e) => e.message === "Dependencies for step after_exits failed: [exits]. Not executing."));
      }
      assert.equal(failure("hog").length, 1);
      assert.match(failure("hog")[0].message, /exceeded its memory limit of 48 MB \(sluice\/max_memory_mb\)/);
      assert.equal(failure("spins").length, 1);
      assert.match(failure("spins")[0].message, /time limit of 0\.6 seconds \(sluice\/step_timeout_seconds\)/);
      const spinsStart = stepEvents(run, "spins", ["STEP_START"])[0];
      assert.ok(spinsStart, "the timed step reported its start before it was stopped");
      assert.ok(failure("spins")[0].timestamp - spinsStart.timestamp >= 550, "not stopped early");
      assert.deepEqual(types(run, "fine"), ["STEP_START", "STEP_SUCCESS"]);
      assert.deepEqual(types(run, "after_fine"), ["STEP_START", "STEP_SUCCESS"]);
      assert.equal(storedOutput(ws, run.runId, "after_fine"), "fine twice");
      const runFailure = run.events.find((e) => e.type === "RUN_FAILURE")!;
      assert.match(runFailure.message, /Steps failed: \[.*hog.*\]/);
    });
  }

  for (const method of ["spawn", "forkserver", "in_process"] as const) {
    it(`${method}: compute logs per step in .sluice/logs, LOGS_CAPTURED, and \`run logs\``, async () => {
      const ws = fresh();
      const run = await execute(ws, "logs_job", [], METHODS[method]);
      assert.equal(run.status, "SUCCESS", run.stderr);
      const captured = stepEvents(run, "talk", ["LOGS_CAPTURED"]);
      assert.equal(captured.length, 1, method);
      assert.equal(captured[0].data?.stdoutPath, join(ws.dir, ".sluice", "logs", run.runId, "talk.out"));
      assert.equal(readFileSync(captured[0].data!.stdoutPath, "utf8"), "out 0\nout 1\nout 2\nout 3\n", method);
      assert.equal(readFileSync(captured[0].data!.stderrPath, "utf8"), "err 0\nerr 1\nerr 2\nerr 3\n", method);
      const logs = json<{ events: Event[]; steps: { stepKey: string; stdout: string; stderr: string }[] }>(
        await sluiceAsync(ws, ["run", "logs", run.runId, "--step", "talk", "--json"]),
      );
      assert.deepEqual(logs.steps.map((s) => [s.stepKey, s.stdout, s.stderr]), [["talk", "out 0\nout 1\nout 2\nout 3\n", "err 0\nerr 1\nerr 2\nerr 3\n"]]);
      assert.deepEqual(logs.events.map((e) => [e.level, e.message]), [
        ["INFO", "structured 0"], ["INFO", "structured 1"], ["INFO", "structured 2"], ["INFO", "structured 3"], ["WARNING", "almost done"],
      ]);
      assert.deepEqual(logs.events[2].data, { i: 2 });
      // In text: the messages, then each stream with its file.
      const text = await sluiceAsync(ws, ["run", "logs", run.runId]);
      assert.equal(text.code, 0);
      assert.match(text.stdout, /LOG_MESSAGE +talk +structured 0/);
      assert.match(text.stdout, /--- stdout of step talk \(.*talk\.out\) ---\nout 0\nout 1\nout 2\nout 3/);
      assert.match(text.stdout, /--- stderr of step talk/);
    });
  }

  it("`run logs --follow` tails a step's output while the run is in progress, read-only", async () => {
    const ws = fresh();
    const release = join(ws.dir, "release");
    const running = sluiceAsync(ws, ["job", "execute", "-j", "follow_job", "--json", "--tag", `release=${release}`, "-c", join(ws.dir, METHODS.spawn)]);
    // Wait for the run to appear (read-only queries never take the instance from its owner).
    let runId: string | undefined;
    for (let i = 0; i < 100 && !runId; i++) {
      const list = await sluiceAsync(ws, ["run", "list", "--job", "follow_job", "--status", "STARTED", "--json"]);
      runId = (JSON.parse(list.stdout || "[]") as { runId: string }[])[0]?.runId;
      if (!runId) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(runId, "the run started");
    const follow = spawn(process.execPath, [CLI, "run", "logs", runId!, "--step", "slow_talk", "--follow", "--workspace", ws.dir]);
    let stdout = "";
    let stderr = "";
    let firstOutputAt = 0;
    follow.stdout.on("data", (d) => {
      stdout += d;
      if (!firstOutputAt && stdout.includes("out ")) firstOutputAt = Date.now();
      // The step waits for this file after "out 5": output shown before it exists was followed live.
      if (stdout.includes("out 5\n") && !existsSync(release)) writeFileSync(release, "");
    });
    follow.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => follow.on("exit", r));
    const run = parseRun(await running);
    assert.equal(code, 0, stderr);
    assert.equal(run.status, "SUCCESS");
    // The step's output, in order (event lines such as LOG_MESSAGE interleave where they arrive).
    const lines = (prefix: string) => Array.from({ length: 12 }, (_, i) => `${prefix} ${i}`);
    const only = (text: string, prefix: string) => text.split("\n").filter((l) => l.startsWith(`${prefix} `));
    assert.deepEqual(only(stdout, "out"), lines("out"), stdout);
    assert.deepEqual(only(stderr, "err"), lines("err"), stderr);
    assert.match(stdout, /LOG_MESSAGE +slow_talk +almost done/);
    const success = run.events.find((e) => e.type === "STEP_SUCCESS" && e.stepKey === "slow_talk")!;
    assert.ok(firstOutputAt > 0 && firstOutputAt < success.timestamp, "output arrived before the step finished");
  });

  for (const method of ["spawn", "forkserver"] as const) {
    it(`${method}: a step that awaits sends its events while it runs`, async () => {
      const ws = fresh();
      const release = join(ws.dir, "release");
      const cli = spawn(process.execPath, [CLI, "job", "execute", "-j", "release_job", "--json", "--tag", `release=${release}`, "-c", join(ws.dir, METHODS[method]), "--workspace", ws.dir]);
      let stdout = "";
      const seen: string[] = [];
      cli.stdout.on("data", (d) => {
        stdout += d;
        for (const line of stdout.split("\n")) {
          if (line.includes('"type":"STEP_START"') && !seen.includes("start")) seen.push("start");
          if (line.includes("waiting for release") && !seen.includes("log")) {
            seen.push("log");
            writeFileSync(release, "");
          }
        }
      });
      const code = await new Promise<number | null>((r) => cli.on("exit", r));
      const run = parseRun({ code, stdout, stderr: "" } as CliResult);
      assert.equal(run.status, "SUCCESS");
      assert.deepEqual(seen, ["start", "log"], "STEP_START, then the LOG_MESSAGE, arrived before the step was released");
      assert.equal(storedOutput(ws, run.runId, "waits_for_release"), true);
    });
  }

  it("custom executors: init's execute(run) runs the job, with pinned config under run config, validated by its schema", async () => {
    const ws = fresh();
    const run = await execute(ws, "custom_job");
    assert.equal(run.status, "SUCCESS", run.stderr);
    assert.ok(run.events.some((e) => e.type === "ENGINE_EVENT" && e.message === "pinned: 2 steps"));
    assert.equal(storedOutput(ws, run.runId, "plus"), 2);
    assert.ok(stepEvents(run, "one", ["LOGS_CAPTURED"]).length === 1, "run.runStep captures compute logs");

    writeFileSync(join(ws.dir, "custom.yaml"), "execution:\n  config:\n    prefix: from run config\n");
    const configured = await execute(ws, "custom_job", [], "custom.yaml");
    assert.ok(configured.events.some((e) => e.message === "from run config: 2 steps"), "run config over pinned config");

    writeFileSync(join(ws.dir, "custom-bad.yaml"), "execution:\n  config:\n    prefix: 5\n");
    const bad = await sluiceAsync(ws, ["job", "execute", "-j", "custom_job", "-c", join(ws.dir, "custom-bad.yaml")]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /execution\.config\.prefix/);

  });

  it("a configured built-in executor keeps its kind whatever its name", async () => {
    const ws = fresh();
    const builtin = await execute(ws, "two_at_a_time");
    assert.equal(builtin.status, "SUCCESS", builtin.stderr);
    const parent = builtin.events.find((e) => e.message.startsWith("Executing steps using multiprocess executor"))!;
    assert.equal(parent.data?.maxConcurrent, 1);
  });

  for (const method of ["spawn", "forkserver"] as const) {
    it(`${method}: cancel stops the step workers and the run ends CANCELED`, async () => {
      const ws = fresh();
      const running = sluiceAsync(ws, ["job", "execute", "-j", "sleepy_job", "--json", "-c", join(ws.dir, METHODS[method])]);
      let runId: string | undefined;
      let started: Event[] = [];
      for (let i = 0; i < 200 && started.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        if (!runId) {
          const list = await sluiceAsync(ws, ["run", "list", "--job", "sleepy_job", "--json"]);
          runId = (JSON.parse(list.stdout || "[]") as { runId: string }[])[0]?.runId;
          continue;
        }
        const events = json<Event[]>(await sluiceAsync(ws, ["run", "events", runId, "--json"]));
        started = events.filter((e) => e.type === "STEP_WORKER_STARTED");
      }
      assert.equal(started.length, 2, "two steps running (max_concurrent 2)");
      const cancel = await sluiceAsync(ws, ["run", "cancel", runId!]);
      assert.equal(cancel.code, 0, cancel.stderr);
      const run = parseRun(await running);
      assert.equal(run.status, "CANCELED");
      const interrupted = run.events.filter((e) => e.type === "STEP_FAILURE");
      assert.equal(interrupted.length, 2);
      for (const e of interrupted) {
        assert.match(e.message, /^Execution of step "sleepy_[abc]" was interrupted\.$/);
        assert.equal(e.data?.error?.source, "INTERRUPT");
      }
      assert.ok(run.events.some((e) => e.message === "Multiprocess executor: received termination signal - forwarding to active child processes"));
      assert.ok(run.events.some((e) => e.message === "Multiprocess executor: interrupted all active child processes"));
      for (const e of started) {
        assert.throws(() => process.kill(e.data!.pid as number, 0), /ESRCH/, `step worker ${e.data!.pid} is gone`);
      }
    });
  }

  it("rejects bad executor config before running: unknown start method, negative max_concurrent", async () => {
    const ws = fresh();
    writeFileSync(join(ws.dir, "bad-method.yaml"), "execution:\n  config:\n    multiprocess:\n      start_method: {fork: {}}\n");
    writeFileSync(join(ws.dir, "bad-max.yaml"), "execution:\n  config:\n    multiprocess:\n      max_concurrent: -1\n");
    for (const file of ["bad-method.yaml", "bad-max.yaml"]) {
      const r = await sluiceAsync(ws, ["job", "execute", "-j", "wide", "-c", join(ws.dir, file)]);
      assert.equal(r.code, 2, `${file}: ${r.stdout}`);
      assert.ok(!existsSync(join(ws.dir, "out", "never")));
    }
  });
});
