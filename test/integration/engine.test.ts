// The engine core through the real CLI: job files in temporary workspaces, real code-location and
// run worker processes, a real store on disk.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { FileOutputStore } from "../../src/engine/execution/outputs";
import { json, lastJson, makeWorkspace, sluice, type Workspace } from "../helpers/workspace";

const G1 = `
import { op, job } from "sluice";
export const return_one = op(function return_one() { return 1; });
export const return_two = op(function return_two() { return 2; });
export const add_nums = op(function add_nums(ctx, a: number, b: number) { return a + b; });
export const multiply_two = op(function multiply_two(ctx, n: number) { return n * 2; });
export const add_one = op(function add_one(ctx, n: number) { return n + 1; });
export const foo_job = job({ name: "foo_job" }, () => {
  add_one(multiply_two(add_nums(return_one(), return_two())));
});
`;

interface PlanJson { job: string; steps: { key: string; upstream: string[]; inputs: { name: string; sources: { kind: string }[] }[] }[] }
interface EventJson { type: string; stepKey: string | null; message: string; data: Record<string, unknown> | null }

function stepKeys(r: ReturnType<typeof sluice>): string[] {
  return json<PlanJson>(r).steps.map((s) => s.key);
}

function outputOf(ws: Workspace, runId: string, step: string, output = "result"): unknown {
  return new FileOutputStore(join(ws.dir, ".sluice", "storage")).read(runId, step, output);
}

function events(ws: Workspace, runId: string): EventJson[] {
  return json<EventJson[]>(sluice(ws, ["run", "events", runId, "--json"]));
}

describe("job plan and execute on the G1 graph", () => {
  let ws: Workspace;
  before(() => (ws = makeWorkspace({ "jobs/foo.ts": G1 })));
  after(() => ws.remove());

  it("plans every step in dependency order with upstream steps", () => {
    const r = sluice(ws, ["job", "plan", "-j", "foo_job", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const plan = json<PlanJson>(r);
    assert.equal(plan.job, "foo_job");
    assert.deepEqual(plan.steps.map((s) => [s.key, s.upstream]), [
      ["return_one", []],
      ["return_two", []],
      ["add_nums", ["return_one", "return_two"]],
      ["multiply_two", ["add_nums"]],
      ["add_one", ["multiply_two"]],
    ]);
  });

  it("selects with Dagster's clause syntax and CLI comma splitting", () => {
    assert.deepEqual(stepKeys(sluice(ws, ["job", "plan", "-j", "foo_job", "-s", "*add_nums+", "--json"])), ["return_one", "return_two", "add_nums", "multiply_two"]);
    assert.deepEqual(stepKeys(sluice(ws, ["job", "plan", "-j", "foo_job", "-s", "return_one, return_two, add_nums+", "--json"])), ["return_one", "return_two", "add_nums", "multiply_two"]);
    assert.deepEqual(stepKeys(sluice(ws, ["job", "plan", "-j", "foo_job", "-s", "*", "--json"])).length, 5);
  });

  it("rejects a selection with a clause that selects nothing, naming the whole list", () => {
    const r = sluice(ws, ["job", "plan", "-j", "foo_job", "-s", "*add_nums,a"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /No qualified ops to execute found for op_selection=\['\*add_nums', 'a'\]/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, "no stack trace");
  });

  it("names an input whose upstream is not selected and has no earlier output", () => {
    const r = sluice(ws, ["job", "plan", "-j", "foo_job", "-s", "add_nums++"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /input "a" of step "add_nums"/);
    assert.match(r.stderr, /ops\.add_nums\.inputs\.a/);
  });

  it("takes unselected inputs from run config (add_nums++ with 1 and 2 gives add_one = 7)", () => {
    ws.write("inputs.yaml", "ops:\n  add_nums:\n    inputs:\n      a: 1\n      b: {value: 2}\n");
    const r = sluice(ws, ["job", "execute", "-j", "foo_job", "-s", "add_nums++", "-c", join(ws.dir, "inputs.yaml"), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const { runId, status } = lastJson<{ runId: string; status: string }>(r);
    assert.equal(status, "SUCCESS");
    const ran = events(ws, runId).filter((e) => e.type === "STEP_SUCCESS").map((e) => e.stepKey);
    assert.deepEqual(ran, ["add_nums", "multiply_two", "add_one"]);
    assert.equal(outputOf(ws, runId, "add_one"), 7);
  });

  it("executes the whole job and then re-runs the tail from the earlier run's outputs", () => {
    const full = sluice(ws, ["job", "execute", "-j", "foo_job", "--json"]);
    assert.equal(full.code, 0, full.stderr);
    const first = lastJson<{ runId: string }>(full).runId;
    assert.equal(outputOf(ws, first, "add_one"), 7);

    const plan = json<PlanJson>(sluice(ws, ["job", "plan", "-j", "foo_job", "-s", "multiply_two+", "--json"]));
    assert.deepEqual(plan.steps.map((s) => s.key), ["multiply_two", "add_one"]);
    assert.equal(plan.steps[0].inputs[0].sources[0].kind, "run");
    const tail = sluice(ws, ["job", "execute", "-j", "foo_job", "-s", "multiply_two+", "--json"]);
    assert.equal(tail.code, 0, tail.stderr);
    assert.equal(outputOf(ws, lastJson<{ runId: string }>(tail).runId, "add_one"), 7);
  });

  it("lists runs with the documented JSON fields", () => {
    const runs = json<Record<string, unknown>[]>(sluice(ws, ["run", "list", "--json"]));
    assert.ok(runs.length >= 3);
    for (const r of runs) {
      for (const key of ["runId", "jobName", "status", "tags", "createTime", "startTime", "endTime"]) assert.ok(key in r, `run list --json has ${key}`);
    }
    const failedOnly = json<unknown[]>(sluice(ws, ["run", "list", "--status", "FAILURE", "--json"]));
    assert.equal(failedOnly.length, 0);
  });
});

describe("failures, priorities, config and outputs", () => {
  let ws: Workspace;
  before(() => {
    ws = makeWorkspace({
      "fail.ts": `
import { op, job, Failure } from "sluice";
export const start = op(function start() { return 1; });
export const boom = op(function boom(ctx, x: number) { throw new Failure({ description: "the warehouse is closed", metadata: { x } }); });
export const after_boom = op(function after_boom(ctx, x: number) { return x; });
export const side = op(function side(ctx, x: number) { return x + 1; });
export const fail_job = job({ name: "fail_job" }, () => { const s = start(); after_boom(boom(s)); side(s); });
`,
      "prio.ts": `
import { op, job } from "sluice";
const mk = (name: string, priority?: string) => op({ name, tags: priority === undefined ? {} : { "sluice/priority": priority } }, () => name);
const p5 = mk("p5", "5"), p4 = mk("p4", "4"), p3 = mk("p3", "3"), p2 = mk("p2", "2"), pneg = mk("pneg", "-1"), pnone = mk("pnone");
export const prio_job = job({ name: "prio_job" }, () => { pneg(); pnone(); p2(); p3(); p4(); p5(); });
const bad = op({ name: "bad", tags: { "dagster/priority": "high" } }, () => 1);
export const bad_prio_job = job({ name: "bad_prio_job" }, () => { bad(); });
`,
      "config.ts": `
import { op, job, z } from "sluice";
export const scale = op({ name: "scale", config: z.object({ factor: z.number().int().min(1), label: z.string().default("x") }) }, (ctx) => ctx.config.factor);
export const config_job = job({ name: "config_job" }, () => { scale(); });
`,
      "values.ts": `
import { op, job } from "sluice";
export const make = op(function make() {
  return { when: new Date("2026-01-02T03:04:05.678Z"), m: new Map([["a", 1]]), s: new Set([1, 2]), b: Buffer.from("hi"), big: 12345678901234567890n, u: undefined, n: -0 };
});
export const check = op(function check(ctx, v: any) {
  if (!(v.when instanceof Date) || !(v.m instanceof Map) || !(v.s instanceof Set) || !Buffer.isBuffer(v.b) || typeof v.big !== "bigint") throw new Error("types lost: " + JSON.stringify(Object.keys(v)));
  return v.when.getTime() + v.m.get("a") + v.s.size + v.b.length;
});
export const values_job = job({ name: "values_job" }, () => { check(make()); });
export const split = op({ name: "split", outs: { evens: {}, odds: { isRequired: false } } }, () => ({ evens: [2, 4] }));
export const sum_all = op(function sum_all(ctx, parts: number[][]) { return parts.flat().reduce((a, b) => a + b, 0); });
export const use_odds = op(function use_odds(ctx, odds: number[]) { return odds.length; });
export const add_two = op(function add_two(ctx, n: number) { return n + 2; });
export const shape_job = job({ name: "shape_job" }, () => {
  const { evens, odds } = split();
  const total = sum_all([evens, evens]);
  use_odds(odds);
  add_two.alias("add_two_again")(add_two(total));
});
`,
    });
  });
  after(() => ws.remove());

  it("fails the run, records the failure, and does not run downstream steps", () => {
    const r = sluice(ws, ["job", "execute", "-j", "fail_job", "--json"]);
    assert.equal(r.code, 1);
    const { runId, status } = lastJson<{ runId: string; status: string }>(r);
    assert.equal(status, "FAILURE");
    const ev = events(ws, runId);
    const failure = ev.find((e) => e.type === "STEP_FAILURE")!;
    assert.equal(failure.stepKey, "boom");
    assert.match(failure.message, /the warehouse is closed/);
    assert.ok(!ev.some((e) => e.stepKey === "after_boom" && (e.type === "STEP_START" || e.type === "STEP_SKIPPED")), "downstream never starts");
    assert.ok(ev.some((e) => e.stepKey === "after_boom" && /Dependencies for step after_boom failed: \[boom\]/.test(e.message)));
    assert.ok(ev.some((e) => e.stepKey === "side" && e.type === "STEP_SUCCESS"), "independent branch still runs");
    const runFailure = ev.find((e) => e.type === "RUN_FAILURE")!;
    assert.match(runFailure.message, /Steps failed: \[boom\]/);
    const shown = sluice(ws, ["run", "show", runId]);
    assert.match(shown.stdout, /FAILURE/);
  });

  it("runs ready steps highest priority first, non-integers are plan errors", () => {
    const plan = stepKeys(sluice(ws, ["job", "plan", "-j", "prio_job", "--json"]));
    assert.deepEqual(plan, ["p5", "p4", "p3", "p2", "pnone", "pneg"]);
    const r = sluice(ws, ["job", "execute", "-j", "prio_job", "--json"]);
    // The default (multiprocess) executor hands steps to step workers in priority order; the
    // STEP_STARTs of steps running at once come from separate processes and may interleave.
    const started = events(ws, lastJson<{ runId: string }>(r).runId).filter((e) => e.type === "STEP_WORKER_STARTING").map((e) => e.stepKey);
    assert.deepEqual(started, ["p5", "p4", "p3", "p2", "pnone", "pneg"]);
    const bad = sluice(ws, ["job", "plan", "-j", "bad_prio_job"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /priority of step "bad" must be an integer, got "high"/);
  });

  it("validates op config with the op's zod schema before the run, with file and line", () => {
    ws.write("bad.yaml", "ops:\n  scale:\n    config:\n      factor: 0\n");
    const r = sluice(ws, ["job", "execute", "-j", "config_job", "-c", join(ws.dir, "bad.yaml")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.yaml:4:\d+: ops\.scale\.config\.factor/);
    const none = json<unknown[]>(sluice(ws, ["run", "list", "--job", "config_job", "--json"]));
    assert.equal(none.length, 0, "no run was created");
    ws.write("good.yaml", "ops:\n  scale:\n    config:\n      factor: 3\n");
    const ok = sluice(ws, ["job", "execute", "-j", "config_job", "-c", join(ws.dir, "good.yaml"), "--json"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(outputOf(ws, lastJson<{ runId: string }>(ok).runId, "scale"), 3);
    ws.write("unknown.yaml", "ops:\n  scael:\n    config: {}\n");
    const unknown = sluice(ws, ["job", "plan", "-j", "config_job", "-c", join(ws.dir, "unknown.yaml")]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown\.yaml:2:\d+/);
    assert.match(unknown.stderr, /scale/);
  });

  it("carries Dates, Maps, Sets, Buffers and BigInts between steps", () => {
    const r = sluice(ws, ["job", "execute", "-j", "values_job", "--json"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(outputOf(ws, lastJson<{ runId: string }>(r).runId, "check"), new Date("2026-01-02T03:04:05.678Z").getTime() + 1 + 2 + 2);
  });

  it("handles several outputs, fan-in, aliases, and skips steps of unproduced optional outputs", () => {
    const r = sluice(ws, ["job", "execute", "-j", "shape_job", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const runId = lastJson<{ runId: string }>(r).runId;
    const ev = events(ws, runId);
    assert.ok(ev.some((e) => e.type === "STEP_SKIPPED" && e.stepKey === "use_odds"));
    assert.equal(outputOf(ws, runId, "sum_all"), 12);
    assert.equal(outputOf(ws, runId, "add_two_again"), 16);
  });
});

describe("broken job files and bad input", () => {
  let ws: Workspace;
  before(() => {
    ws = makeWorkspace({
      "good.ts": `import { op, job } from "sluice";\nexport const one = op(function one() { return 1; });\nexport const good_job = job({ name: "good_job" }, () => { one(); });\n`,
      "syntax.ts": `import { op } from "sluice";\nexport const a = op(function a() {\n  return (1 + ;\n});\n`,
      "throws.ts": `import { op } from "sluice";\nconst x = 1;\nthrow new Error("no credentials at import");\n`,
      "dup1.ts": `import { op, job } from "sluice";\nconst o = op(function o() { return 1; });\nexport const twin = job({ name: "twin" }, () => { o(); });\n`,
      "dup2.ts": `import { op, job } from "sluice";\nconst p = op(function p() { return 1; });\nexport const twin = job({ name: "twin" }, () => { p(); });\n`,
      "cycle.ts": `import { asset } from "sluice";\nexport const a1 = asset({ name: "a1", deps: ["a2"] }, () => 1);\nexport const a2 = asset({ name: "a2", deps: ["a1"] }, () => 2);\n`,
      "hang.ts": `import { op } from "sluice";\nwhile (true) {}\n`,
      "badsel.ts": `import { defineAssetJob } from "sluice";\nexport const nothing = defineAssetJob({ name: "nothing", selection: "no_such_asset+" });\n`,
      "not_a_job_file.ts": `export const x = 1;\n`,
    });
  });
  after(() => ws.remove());

  it("reports each broken file with file, line and message, and still loads the good ones", () => {
    const started = Date.now();
    const r = sluice(ws, ["job", "list", "--json"], { SLUICE_IMPORT_TIMEOUT_MS: "1500" });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started < 15_000, "a hung import is cut off");
    const out = json<{ jobs: { name: string }[]; errors: { kind: string; file: string; line: number; message: string }[] }>(r);
    assert.ok(out.jobs.some((j) => j.name === "good_job"));
    const errorsOf = (file: string) => out.errors.filter((e) => e.file.endsWith(file));
    assert.deepEqual(errorsOf("syntax.ts").map((e) => [e.kind, e.line]), [["syntax", 3]]);
    assert.equal(errorsOf("throws.ts")[0].line, 3);
    assert.match(errorsOf("throws.ts")[0].message, /no credentials at import/);
    assert.equal(errorsOf("dup1.ts")[0].kind, "duplicate");
    assert.equal(errorsOf("dup2.ts")[0].kind, "duplicate");
    assert.ok(errorsOf("cycle.ts").every((e) => e.kind === "cycle") && errorsOf("cycle.ts").length === 2);
    assert.equal(errorsOf("hang.ts")[0].kind, "timeout");
    assert.equal(errorsOf("badsel.ts")[0].kind, "selection");
    assert.equal(errorsOf("badsel.ts")[0].line, 2);
    assert.equal(errorsOf("not_a_job_file.ts").length, 0);
  });

  it("still runs the good job next to broken files", () => {
    const r = sluice(ws, ["job", "execute", "-j", "good_job", "--json"], { SLUICE_IMPORT_TIMEOUT_MS: "1500" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lastJson<{ status: string }>(r).status, "SUCCESS");
  });

});

describe("bad input", () => {
  let ws: Workspace;
  before(() => (ws = makeWorkspace({ "good.ts": `import { op, job } from "sluice";\nexport const one = op(function one() { return 1; });\nexport const good_job = job({ name: "good_job" }, () => { one(); });\n` })));
  after(() => ws.remove());

  it("exits 2 with a clear message for unknown jobs, runs, options and commands", () => {
    const cases: [string[], RegExp][] = [
      [["job", "execute", "-j", "good_jbo"], /Unknown job "good_jbo"\. Did you mean "good_job"\?/],
      [["job", "plan", "-j", "good_job", "-s", "one,"], /No qualified ops/],
      [["job", "plan", "-j", "good_job", "-c", "/nonexistent.yaml"], /Cannot read run config file/],
      [["job", "plan"], /Missing -j\/--job/],
      [["job", "explode"], /Unknown command "job explode"/],
      [["run", "show", "00000000-0000-0000-0000-000000000000"], /No run with id/],
      [["job", "plan", "-j", "good_job", "--bogus"], /Unknown option '--bogus'/],
    ];
    for (const [args, pattern] of cases) {
      const r = sluice(ws, args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern, args.join(" "));
      assert.doesNotMatch(r.stderr, /internal error/);
    }
  });
});

describe("assets", () => {
  let ws: Workspace;
  before(() => {
    ws = makeWorkspace({
      "assets.ts": `
import { asset, graphAsset, defineAssetJob, op } from "sluice";
export const orders = asset({ name: "orders" }, async () => [{ id: 1, amount: 5 }, { id: 2, amount: 7 }]);
export const totals = asset({ name: "totals", deps: [orders] }, async (ctx, { orders }) => orders.reduce((s: number, o: any) => s + o.amount, 0));
const double = op(function double(ctx, n: number) { return n * 2; });
const plus_one = op(function plus_one(ctx, n: number) { return n + 1; });
export const report = graphAsset({ name: "report", deps: [totals] }, ({ totals }) => plus_one(double(totals)));
export const everything = defineAssetJob({ name: "everything", selection: "*" });
export const just_report = defineAssetJob({ name: "just_report", selection: "report" });
`,
    });
  });
  after(() => ws.remove());

  it("materializes assets in dependency order, graph assets as their inner steps", () => {
    const plan = stepKeys(sluice(ws, ["job", "plan", "-j", "everything", "--json"]));
    assert.deepEqual(plan, ["orders", "totals", "report.double", "report.plus_one"]);
    const r = sluice(ws, ["job", "execute", "-j", "everything", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const runId = lastJson<{ runId: string }>(r).runId;
    assert.equal(outputOf(ws, runId, "report.plus_one"), 25);
    const materialized = events(ws, runId).filter((e) => e.type === "ASSET_MATERIALIZATION").map((e) => e.data!.assetKey);
    assert.deepEqual(materialized, ["orders", "totals", "report"]);
  });

  it("reads upstream assets a partial run does not recompute from their latest materialization", () => {
    const r = sluice(ws, ["job", "execute", "-j", "just_report", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(outputOf(ws, lastJson<{ runId: string }>(r).runId, "report.plus_one"), 25);
  });
});
