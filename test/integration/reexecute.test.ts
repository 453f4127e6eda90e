// `sluice run reexecute` through the real CLI (reference §7): from failure only the failed step and
// its downstream run, reading the succeeded steps' outputs from the parent; all steps; a new op
// selection; lineage in the run record and tags; and `sluice/run_immediately` skipping the queue.
// Build first (`node esbuild.mjs`).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { json, lastJson, makeWorkspace, sluice, type Workspace } from "../helpers/workspace";
import { startDev } from "../fixtures/queue/helpers";

interface RunJson {
  runId: string;
  status: string;
  tags: Record<string, string>;
}
interface ShowJson extends RunJson {
  opSelection: string[] | null;
}
interface EventJson {
  type: string;
  stepKey: string | null;
  message: string;
}

// `flaky` fails while the marker file exists; `count` prints what it got from upstream.
const JOB = (marker: string) => `import { job, op } from "sluice";
import { existsSync } from "node:fs";

const one = op(function one() {
  console.log("one ran");
  return 1;
});
const flaky = op(function flaky(ctx, x: number) {
  if (existsSync(${JSON.stringify(marker)})) throw new Error("flaky failed");
  return x + 10;
});
const count = op(function count(ctx, x: number) {
  ctx.log.info("count got " + x);
  return x;
});
const side = op(function side() {
  return "side";
});
export const chain_job = job({ name: "chain_job" }, () => {
  count(flaky(one()));
  side();
});
export const now_job = job({ name: "now_job", tags: { "sluice/run_immediately": "true" } }, () => {
  side();
});
`;

describe("sluice run reexecute", () => {
  let ws: Workspace;
  let marker: string;
  let failed: string;
  const started = (runId: string) =>
    json<EventJson[]>(sluice(ws, ["run", "events", runId, "--json"]))
      .filter((e) => e.type === "STEP_START")
      .map((e) => e.stepKey)
      .sort();

  before(() => {
    ws = makeWorkspace();
    marker = ws.write("fail.marker", "x");
    ws.write("pipelines/chain.ts", JOB(marker));
    const r = sluice(ws, ["job", "execute", "-j", "chain_job", "--json"]);
    assert.equal(r.code, 1, r.stderr);
    failed = lastJson<{ runId: string }>(r).runId;
  });
  after(() => ws?.remove());

  it("--from-failure runs only the failed step and its downstream, with lineage; the output of `one` comes from the parent", () => {
    const r = sluice(ws, ["run", "reexecute", failed, "--from-failure", "--wait", "--json"]);
    assert.equal(r.code, 1, r.stdout + r.stderr); // the marker is still there: fails again
    const child = lastJson<{ runId: string; status: string }>(r).runId;
    assert.deepEqual(started(child), ["flaky"]);
    const show = json<ShowJson>(sluice(ws, ["run", "show", child, "--json"]));
    assert.equal(show.tags["sluice/parent_run_id"], failed);
    assert.equal(show.tags["sluice/root_run_id"], failed);
    assert.equal(show.tags["sluice/is_resume_retry"], "true");

    // fixed: re-execute the child from failure; the root stays the first run
    rmSync(marker);
    const r2 = sluice(ws, ["run", "reexecute", child, "--from-failure", "--wait", "--json"]);
    assert.equal(r2.code, 0, r2.stdout + r2.stderr);
    const grandchild = lastJson<{ runId: string }>(r2).runId;
    assert.deepEqual(started(grandchild), ["count", "flaky"]);
    const events = json<EventJson[]>(sluice(ws, ["run", "events", grandchild, "--json"]));
    assert.ok(events.some((e) => e.type === "LOG_MESSAGE" && e.message === "count got 11"), "count read flaky's new output, flaky read one's output from the root run");
    const tags = json<ShowJson>(sluice(ws, ["run", "show", grandchild, "--json"])).tags;
    assert.equal(tags["sluice/parent_run_id"], child);
    assert.equal(tags["sluice/root_run_id"], failed);
  });

  it("--all-steps runs the whole job again; -s runs a new op selection; a successful run cannot resume from failure", () => {
    const all = sluice(ws, ["run", "reexecute", failed, "--all-steps", "--wait", "--json"]);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(started(lastJson<{ runId: string }>(all).runId), ["count", "flaky", "one", "side"]);
    const sel = sluice(ws, ["run", "reexecute", failed, "-s", "flaky+", "--wait", "--json"]);
    assert.equal(sel.code, 0, sel.stderr);
    const selId = lastJson<{ runId: string }>(sel).runId;
    assert.deepEqual(started(selId), ["count", "flaky"]);
    assert.deepEqual(json<ShowJson>(sluice(ws, ["run", "show", selId, "--json"])).opSelection, ["flaky+"]);
    const bad = sluice(ws, ["run", "reexecute", selId, "--from-failure"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Cannot reexecute from failure a run that is not failed or canceled/);
    assert.equal(sluice(ws, ["run", "reexecute", failed, "--from-failure", "--all-steps"]).code, 2);
  });

  it("a job tagged sluice/run_immediately skips the queue: launched to `sluice dev`, it starts at once (never RUN_ENQUEUED)", async () => {
    const dev = await startDev(ws);
    try {
      const r = sluice(ws, ["job", "launch", "-j", "now_job", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const run = json<RunJson>(r);
      assert.equal(run.status, "STARTING");
      const events = () => json<EventJson[]>(sluice(ws, ["run", "events", run.runId, "--json"])).map((e) => e.type);
      for (let i = 0; i < 100 && !events().includes("RUN_SUCCESS"); i++) await new Promise((res) => setTimeout(res, 100));
      const types = events();
      assert.ok(types.includes("RUN_SUCCESS"), types.join(","));
      assert.ok(!types.includes("RUN_ENQUEUED"), "never queued");
    } finally {
      await dev.stop();
    }
  });
});
