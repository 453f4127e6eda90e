// The authoring API and the in-process execution core, in one process (executeInProcess).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  asset,
  buildOpContext,
  defineAssetJob,
  executeInProcess,
  Failure,
  graphAsset,
  job,
  materialize,
  multiprocessExecutor,
  op,
  RetryPolicy,
  RetryRequested,
  z,
} from "../../src/sdk/index";
import { parameterNames } from "../../src/sdk/params";
import { deserializeValue, serializeValue } from "../../src/engine/execution/values";
import { DefinitionError } from "../../src/sdk/markers";

describe("definitions", () => {
  it("takes op and input names from the function, and records where it was defined", () => {
    const add = op(function add(ctx, left: number, right = 2) {
      return left + right;
    });
    assert.equal(add.definition.name, "add");
    assert.deepEqual(add.definition.inputNames, ["left", "right"]);
    assert.match(add.definition.source.file, /sdk\.test\.ts$/);
    assert.ok(add.definition.source.line > 20);
  });

  it("parses parameter lists of every function shape", () => {
    assert.deepEqual(parameterNames((ctx: unknown, a: number, b: number) => 0), ["ctx", "a", "b"]);
    assert.deepEqual(parameterNames(async (ctx: unknown, { x }: { x: number }) => x), ["ctx", "input1"]);
    assert.deepEqual(parameterNames(function named(ctx: unknown, a = "(,)", ...rest: unknown[]) { return [a, rest]; }), ["ctx", "a", "rest"]);
    assert.deepEqual(parameterNames((ctx: unknown) => ctx), ["ctx"]);
  });

  it("auto-aliases repeated ops and rejects clashing explicit aliases", () => {
    const one = op(function one() { return 1; });
    const j = job({ name: "twice" }, () => { one(); one(); one(); });
    assert.deepEqual(j.graph().nodes.map((n) => n.name), ["one", "one_2", "one_3"]);
    const clash = job({ name: "clash" }, () => { one.alias("x")(); one.alias("x")(); });
    assert.throws(() => clash.graph(), (e: unknown) => e instanceof DefinitionError && /named "x"/.test((e as Error).message));
  });

  it("explains wiring mistakes at the line that made them", () => {
    const inc = op(function inc(ctx, n: number) { return n + 1; });
    const plain = job({ name: "plain" }, () => { inc(5 as never); });
    assert.throws(() => plain.graph(), /got a plain value.*ops\.inc\.inputs\.n/s);
    const tooMany = job({ name: "too_many" }, () => { const a = inc(); inc(a, a); });
    assert.throws(() => tooMany.graph(), /takes 1 input\(s\) \(n\) but was given 2/);
    assert.throws(() => new RetryPolicy({ backoff: "LINEAR" }), /without setting delay/);
    assert.throws(() => op({ name: "bad name" }, () => 1), /not valid/);
  });

  it("calls an op directly outside a job, with a built context", () => {
    const scale = op({ name: "scale", config: z.object({ by: z.number().default(2) }) }, (ctx, n: number) => n * ctx.config.by);
    assert.equal(scale(buildOpContext({ config: { by: 5 } }), 3), 15);
    assert.equal(scale(4), 8);
  });
});

describe("executeInProcess", () => {
  const return_one = op(function return_one() { return 1; });
  const add_two = op(function add_two(ctx, i: number) { return i + 2; });
  const multi_three = op({ name: "multi_three", config: z.object({ factor: z.number().default(3) }) }, (ctx, i: number) => i * ctx.config.factor);
  const my_job = job({ name: "my_job" }, () => { multi_three(add_two(return_one())); });

  it("runs the three-op job and returns outputs and events", async () => {
    const r = await executeInProcess(my_job);
    assert.equal(r.status, "SUCCESS");
    assert.equal(r.outputFor("multi_three"), 9);
    assert.equal(r.events[0].type, "RUN_START");
    assert.equal(r.events.at(-1)!.type, "RUN_SUCCESS");
    assert.deepEqual(Object.keys(r.stepStatus), ["return_one", "add_two", "multi_three"]);
  });

  it("applies op config and input values from run config with a selection", async () => {
    const r = await executeInProcess(my_job, { opSelection: "add_two*", runConfig: { ops: { add_two: { inputs: { i: 10 } }, multi_three: { config: { factor: 10 } } } } });
    assert.equal(r.outputFor("multi_three"), 120);
    await assert.rejects(executeInProcess(my_job, { runConfig: { ops: { multi_three: { config: { factor: "x" } } } } }), /ops\.multi_three\.config\.factor/);
  });

  it("retries per policy, honours RetryRequested over the policy, and never retries Failure(allowRetries: false)", async () => {
    let calls = 0;
    const flaky = op({ name: "flaky", retryPolicy: new RetryPolicy({ maxRetries: 2 }) }, () => {
      if (++calls < 3) throw new Error("not yet");
      return calls;
    });
    const r = await executeInProcess(job({ name: "flaky_job" }, () => { flaky(); }));
    assert.equal(r.outputFor("flaky"), 3);
    assert.deepEqual(r.events.filter((e) => e.stepKey === "flaky").map((e) => e.type).filter((t) => t.startsWith("STEP_") && t !== "STEP_OUTPUT"), [
      "STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_SUCCESS",
    ]);

    let asked = 0;
    const asks = op({ name: "asks", retryPolicy: new RetryPolicy({ maxRetries: 5 }) }, () => {
      asked++;
      throw new RetryRequested({ maxRetries: 1 });
    });
    const r2 = await executeInProcess(job({ name: "asks_job" }, () => { asks(); }));
    assert.equal(asked, 2);
    assert.match(r2.events.find((e) => e.type === "STEP_FAILURE")!.message, /Exceeded max_retries of 1/);

    let hard = 0;
    const final = op({ name: "final", retryPolicy: new RetryPolicy({ maxRetries: 5 }) }, () => {
      hard++;
      throw new Failure({ description: "bad data", allowRetries: false });
    });
    const r3 = await executeInProcess(job({ name: "final_job" }, () => { final(); }));
    assert.equal(hard, 1);
    assert.equal(r3.status, "FAILURE");
  });

  it("refuses the multiprocess executor and says what to do instead", async () => {
    const mp = job({ name: "mp", executor: multiprocessExecutor }, () => { return_one(); });
    await assert.rejects(executeInProcess(mp), /ephemeral instance with nothing to share between processes/);
  });

  it("materializes assets, graph assets, and asset selections", async () => {
    const orders = asset({ name: "orders" }, async () => [3, 4]);
    const total = asset({ name: "total", deps: [orders] }, async (ctx, { orders }) => orders.reduce((a: number, b: number) => a + b, 0));
    const double = op(function double(ctx, n: number) { return n * 2; });
    const doubled = graphAsset({ name: "doubled", deps: [total] }, ({ total }) => double(total));
    const r = await materialize([orders, total, doubled]);
    assert.equal(r.outputFor("doubled.double"), 14);
    assert.deepEqual(r.events.filter((e) => e.type === "ASSET_MATERIALIZATION").map((e) => e.data!.assetKey), ["orders", "total", "doubled"]);
    const partial = await executeInProcess(defineAssetJob({ name: "up_to_total", selection: "*total" }), { assets: [orders, total, doubled] });
    assert.deepEqual(Object.keys(partial.stepStatus), ["orders", "total"]);
  });
});

describe("output values", () => {
  it("round-trips what JSON cannot hold", () => {
    const value = {
      d: new Date("2026-11-21T10:00:00.123Z"),
      m: new Map<unknown, unknown>([["k", new Set([1n, 2n])]]),
      b: Buffer.from([0, 255]),
      u8: new Uint8Array([1, 2]),
      n: [NaN, Infinity, -0],
      missing: undefined,
      nested: { $sluice: "not a tag" },
    };
    const back = deserializeValue(serializeValue(value)) as typeof value;
    assert.deepEqual(back, value);
    assert.ok(back.d instanceof Date && back.m instanceof Map && Buffer.isBuffer(back.b) && back.u8 instanceof Uint8Array);
    assert.ok(Object.is(back.n[2], -0));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => serializeValue(cyclic), /cycle/);
    assert.deepEqual(deserializeValue(serializeValue({ f: () => 1, keep: 1 })), { keep: 1 }, "functions are dropped from objects");
  });
});
