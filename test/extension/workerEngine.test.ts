// The extension host's RPC client (WorkerEngine) against a real engine worker thread
// (dist/engineWorker.js) on temporary workspaces: owning .sluice, definitions pushed and reloaded by
// the file watcher, runs through the queue with live pushes, log chunks, the panel's data source
// over RPC, asset materialization, re-execution, input errors, a `sluice dev` owner (client mode,
// then taking over when it stops), and the host's main thread staying free meanwhile.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { after, before, describe, test } from "node:test";
import { EngineCallError, WorkerEngine } from "../../src/extension/engine/workerEngine";
import type { RunSummary } from "../../src/extension/engine/port";
import { makeWorkspace, type Workspace } from "../helpers/workspace";
import { startDev, waitFor } from "../fixtures/queue/helpers";
import { ensureBuilt } from "./helpers/build";
import { ROOT } from "./helpers/paths";

const WORKER = path.join(ROOT, "dist", "engineWorker.js");

const JOBS = `import { asset, job, op } from "sluice";

const one = op(function one() {
  console.log("one says hi");
  return 1;
});
const plus = op(function plus(ctx, x: number) {
  ctx.log.info("adding");
  return x + 1;
});
const boom = op(function boom(ctx, x: number) {
  throw new Error("boom " + x);
});
export const ok_job = job({ name: "ok_job" }, () => {
  plus(one());
});
export const bad_job = job({ name: "bad_job" }, () => {
  boom(one());
});
export const raw = asset({ name: "raw" }, async () => [1, 2]);
export const clean = asset({ name: "clean", deps: [raw] }, async (ctx, { raw }) => raw.length);
`;

/** Waits up to `ms` for `fn` to give a truthy value, polling every 25 ms. */
function until<T>(what: string, fn: () => T | undefined | false, ms = 30_000): Promise<T> {
  return waitFor(what, fn, ms, 25);
}

const finished = (engine: WorkerEngine, runId: string): Promise<RunSummary> =>
  until(`run ${runId} to finish`, () => engine.getRuns().find((r) => r.runId === runId && ["SUCCESS", "FAILURE", "CANCELED"].includes(r.status)));

before(() => {
  ensureBuilt();
  if (!fs.existsSync(WORKER)) throw new Error(`${WORKER} is missing: npm run build`);
});

describe("WorkerEngine as the owner of .sluice", () => {
  let ws: Workspace;
  let engine: WorkerEngine;
  const logs: string[] = [];
  before(async () => {
    ws = makeWorkspace({ "pipelines/jobs.ts": JOBS, "sluice.yaml": "concurrency:\n  pools:\n    default_limit: 3\n" });
    engine = await WorkerEngine.start(ws.dir, { workerScript: WORKER, debounceMs: 100, log: (l, m) => logs.push(`${l} ${m}`) });
  });
  after(async () => {
    await engine?.dispose();
    ws?.remove();
  });

  test("owns .sluice (role vscode, daemons running) and pushes the definitions", async () => {
    assert.equal(engine.status?.mode, "owner");
    assert.equal(JSON.parse(fs.readFileSync(path.join(ws.dir, ".sluice", "owner.lock"), "utf8")).role, "vscode");
    await until("definitions", () => engine.snapshot);
    const model = engine.getDefinitions();
    assert.deepEqual(model.jobs.map((j) => j.name).sort(), ["bad_job", "ok_job"]);
    assert.deepEqual(model.assets.map((a) => a.key).sort(), ["clean", "raw"]);
    assert.equal(engine.definitionsUpdate?.config?.valid, true);
    assert.ok(logs.some((l) => /owns .*\.sluice/.test(l)), logs.join("\n"));
  });

  test("a launched job goes through the queue; runs are pushed as they change; the log chunk has events and stdout", async () => {
    const statuses: string[] = [];
    const sub = engine.onDidChangeRuns(() => {
      const s = engine.getRuns().find((r) => r.jobName === "ok_job")?.status;
      if (s && statuses.at(-1) !== s) statuses.push(s);
    });
    const activity: string[][] = [];
    const sub2 = engine.onRunActivity((ids) => activity.push(ids));
    const { runId, status } = await engine.launchRun({ kind: "job", jobName: "ok_job" });
    assert.equal(status, "QUEUED");
    assert.equal((await finished(engine, runId)).status, "SUCCESS");
    sub.dispose();
    sub2.dispose();
    assert.equal(statuses.at(-1), "SUCCESS");
    assert.ok(statuses.length >= 2, `pushed ${statuses.join(" → ")}`);
    assert.ok(activity.some((ids) => ids.includes(runId)));
    const chunk = await engine.runLog(runId, 0, {});
    assert.equal(chunk.run?.status, "SUCCESS");
    assert.ok(chunk.events.some((e) => e.type === "RUN_SUCCESS"));
    const one = chunk.steps.find((s) => s.stepKey === "one")!;
    assert.equal(one.stdout.text, "one says hi\n");
    // incremental: nothing new after the last event and offsets
    const again = await engine.runLog(runId, chunk.events.at(-1)!.id, { [one.stdout.path]: one.stdout.next });
    assert.equal(again.events.length, 0);
    assert.equal(again.steps.find((s) => s.stepKey === "one")!.stdout.text, "");
  });

  test("the panel's data source over RPC: runs, events, compute logs, concurrency, run config validation", async () => {
    const data = engine.webview;
    const runs = await data.runs(10);
    assert.ok(runs.length >= 1);
    const events = await data.events(runs[0].runId);
    assert.ok(events.length > 3);
    assert.deepEqual(await data.computeLogs(runs[0].runId, "one", 100), { stdout: "one says hi\n", stderr: "", truncated: false });
    const conc = await data.concurrency();
    assert.equal(conc.defaultPoolLimit, 3);
    const issues = await data.validateRunConfig!("ok_job", "ops:\n  nope:\n    config: {}\n");
    assert.ok(issues.length > 0 && issues[0].keyPath === "ops.nope" && issues[0].line >= 2, JSON.stringify(issues));
    const changes: unknown[] = [];
    const sub = data.onChange((c) => changes.push(c));
    await engine.launchRun({ kind: "job", jobName: "ok_job" }).then(({ runId }) => finished(engine, runId));
    sub.dispose();
    assert.ok(changes.some((c) => (c as { runs?: boolean }).runs), JSON.stringify(changes));
  });

  test("assets: Materialize with upstream runs both through the implicit asset job", async () => {
    const { runId } = await engine.launchRun({ kind: "assets", assetKeys: ["clean"], withUpstream: true });
    assert.equal((await finished(engine, runId)).status, "SUCCESS");
    const chunk = await engine.runLog(runId, 0, {});
    const materialized = chunk.events.filter((e) => e.type === "ASSET_MATERIALIZATION").map((e) => e.data?.assetKey);
    assert.deepEqual(materialized.sort(), ["clean", "raw"]);
  });

  test("re-execute from failure: a child run of the failed step only, with lineage", async () => {
    const { runId } = await engine.launchRun({ kind: "job", jobName: "bad_job" });
    assert.equal((await finished(engine, runId)).status, "FAILURE");
    const child = await engine.reexecuteRun(runId, "fromFailure");
    assert.equal((await finished(engine, child.runId)).status, "FAILURE");
    const chunk = await engine.runLog(child.runId, 0, {});
    assert.equal(chunk.run?.parentRunId, runId);
    assert.deepEqual(chunk.events.filter((e) => e.type === "STEP_START").map((e) => e.stepKey), ["boom"]);
  });

  test("bad input comes back as an input error; an invalid call is refused by the protocol", async () => {
    await assert.rejects(engine.launchRun({ kind: "job", jobName: "no_such_job" }), (e: unknown) => e instanceof EngineCallError && e.kind === "input" && /Unknown job "no_such_job"/.test(e.message));
    await assert.rejects(engine.launchRun({ kind: "job", jobName: "ok_job", opSelection: ["nope+"] }), (e: unknown) => e instanceof EngineCallError && e.kind === "input");
    await assert.rejects(engine.call("cancel", { runId: "" } as never), (e: unknown) => e instanceof EngineCallError && e.kind === "internal" && /Invalid parameters for cancel: runId/.test(e.message));
  });

  test("the watcher reloads definitions when a job file changes, and finds run config files", async () => {
    const updates: string[][] = [];
    const sub = engine.onDefinitions((u) => updates.push(u.changed));
    const file = ws.write("pipelines/more.ts", `import { job, op } from "sluice";\nexport const more_job = job({ name: "more_job" }, () => op(function m() { return 1; })());\n`);
    await until("more_job", () => engine.getDefinitions().jobs.some((j) => j.name === "more_job"), 20_000);
    assert.ok(updates.some((c) => c.includes(file)), JSON.stringify(updates));
    const yaml = ws.write("pipelines/more_job.run.yaml", "ops: {}\n");
    await until("run config file", () => engine.getDefinitions().jobs.find((j) => j.name === "more_job")?.runConfigFiles?.includes(yaml), 20_000);
    fs.rmSync(file);
    await until("more_job gone", () => !engine.getDefinitions().jobs.some((j) => j.name === "more_job"), 20_000);
    sub.dispose();
  });

  test("the host's main thread stays free while the engine loads job files and runs a job", async () => {
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    await engine.reload();
    const { runId } = await engine.launchRun({ kind: "job", jobName: "ok_job" });
    await finished(engine, runId);
    h.disable();
    const maxMs = h.max / 1e6;
    console.log(`    host event loop delay while loading + running: p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms, max ${maxMs.toFixed(1)} ms`);
    assert.ok(maxMs < 250, `the host's event loop was blocked for ${maxMs} ms`);
  });

  test("dispose stops the worker and releases .sluice", async () => {
    await engine.dispose();
    assert.equal(fs.existsSync(path.join(ws.dir, ".sluice", "owner.lock")), false);
  });
});

describe("WorkerEngine when another process owns .sluice (`sluice dev`)", () => {
  let ws: Workspace;
  let engine: WorkerEngine | undefined;
  after(async () => {
    await engine?.dispose();
    ws?.remove();
  });

  test("it is a client of the owner: launches go there, runs are followed; when the owner stops, it takes over", async () => {
    ws = makeWorkspace({ "pipelines/jobs.ts": JOBS });
    const dev = await startDev(ws);
    try {
      engine = await WorkerEngine.start(ws.dir, { workerScript: WORKER, debounceMs: 100, clientPollMs: 200 });
      assert.equal(engine.status?.mode, "client");
      assert.equal(engine.status?.ownerPid, dev.pid);
      await until("definitions", () => engine!.snapshot);
      const { runId } = await engine.launchRun({ kind: "job", jobName: "ok_job" });
      assert.equal((await finished(engine, runId)).status, "SUCCESS");
      assert.match(dev.output(), new RegExp(runId.slice(0, 8)), "the owner ran it");
      const chunk = await engine.runLog(runId, 0, {});
      assert.ok(chunk.events.some((e) => e.type === "RUN_SUCCESS"));
    } finally {
      await dev.stop();
    }
    await until("taking over", () => engine!.status?.mode === "owner", 20_000);
    const { runId } = await engine.launchRun({ kind: "job", jobName: "ok_job" });
    assert.equal((await finished(engine, runId)).status, "SUCCESS");
  });
});
