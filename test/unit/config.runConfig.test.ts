import { test } from "node:test";
import assert from "node:assert/strict";
import * as os from "node:os";
import {
  ConfigError, formatIssue, resolveExecutorConfig, runConfigKeyInfo, validateRunConfig, validateRunConfigObject,
} from "../../src/engine/config";
import { expectations, fixtureFiles, header, testJob } from "../fixtures/config/helpers";

const invalid = fixtureFiles("run/invalid");
test("there are many invalid run config fixtures", () => assert.ok(invalid.length >= 30, String(invalid.length)));

for (const f of invalid) {
  test(`invalid run config: ${f.name}`, () => {
    const want = expectations(f.text);
    assert.ok(want.length > 0, "fixture has no # expect: header");
    const r = validateRunConfig(f.text, f.name, testJob(header(f.text, "executor")[0]));
    assert.equal(r.value, undefined);
    const got = r.issues.map(formatIssue).join("\n");
    assert.equal(r.issues.length, want.length, got);
    r.issues.forEach((i, k) => {
      const w = want[k];
      assert.equal(`${i.line}:${i.column} ${i.keyPath}`, `${w.line}:${w.column} ${w.keyPath}`, got);
      for (const s of w.substrings) assert.ok(i.message.includes(s), `${JSON.stringify(i.message)} should contain ${JSON.stringify(s)}`);
    });
  });
}

for (const f of fixtureFiles("run/valid")) {
  test(`valid run config: ${f.name}`, () => {
    const executor = header(f.text, "executor")[0];
    const r = validateRunConfig(f.text, f.name, testJob(executor));
    assert.deepEqual(r.issues.map(formatIssue), []);
    assert.ok(r.value);
    const want = JSON.parse(header(f.text, "resolved")[0]);
    const got = resolveExecutorConfig(r.value, executor);
    if (want === null) return assert.equal(got, undefined);
    assert.ok(got);
    for (const [k, v] of Object.entries(want)) {
      const expected = v === "cpu" ? os.availableParallelism() : v;
      assert.deepEqual((got as unknown as Record<string, unknown>)[k], expected, k);
    }
  });
}

test("op config issues are mapped to the line of the offending value", () => {
  const text = "ops:\n  multi_three:\n    config:\n      factor: nope\n  load:\n    config:\n      table: orders\n";
  const r = validateRunConfig(text, "job.run.yaml", testJob());
  assert.deepEqual(r.issues.map(formatIssue), ["job.run.yaml:4:15: ops.multi_three.config.factor: Invalid input: expected number, received string"]);
  assert.equal(r.issues[0].code, "op-config");
});

test("validateRunConfigObject: key paths without positions", () => {
  const r = validateRunConfigObject({ execution: { config: { multiprocess: { max_concurrent: -1 } } }, ops: { lod: {} } }, testJob());
  assert.deepEqual(r.issues.map((i) => [i.keyPath, i.line, i.code]), [
    ["execution.config.multiprocess.max_concurrent", 0, "invalid-value"],
    ["ops.lod", 0, "unknown-key"],
    ["ops.load.config.table", 0, "op-config"],
  ]);
  assert.equal(r.issues[1].suggestion, "load");
  assert.match(formatIssue(r.issues[0]), /^run config: execution\.config\.multiprocess\.max_concurrent: `max_concurrent` must be an integer >= 0/);
  const ok = validateRunConfigObject({ ops: { load: { config: { table: "t" } } } }, testJob());
  assert.deepEqual(ok.issues, []);
  assert.deepEqual(ok.value, { ops: { load: { config: { table: "t" } } } });
});

test("a throwing or misbehaving op config validator becomes an issue, never a throw", () => {
  const job = { opNames: ["a", "b"], validateOpConfig: (op: string) => {
    if (op === "a") throw new Error("boom");
    return "nonsense" as unknown as { path: (string | number)[]; message: string }[];
  } };
  const r = validateRunConfig("ops:\n  a:\n    config: 1\n", "x.yaml", job);
  assert.deepEqual(r.issues.map(formatIssue), ["x.yaml:3:13: ops.a.config: op config could not be validated: boom"]);
  const weird = validateRunConfig("ops: {}\n", "x.yaml", { opNames: ["a"], validateOpConfig: () => [{ path: [{} as string, "k"], message: "m" }] });
  assert.equal(weird.issues[0].keyPath, "ops.a.config.k");
});

test("jobs without a validator or input list accept any op config and inputs", () => {
  const r = validateRunConfig("ops:\n  a:\n    config: {x: 1}\n    inputs: {whatever: 2}\n", "x.yaml", { opNames: ["a"] });
  assert.deepEqual(r.issues, []);
});

test("resolveExecutorConfig: defaults, env override, custom executors, invalid config", () => {
  const d = resolveExecutorConfig(undefined, undefined, {});
  assert.deepEqual(d, { kind: "multiprocess", maxConcurrent: os.availableParallelism(), tagConcurrencyLimits: [], startMethod: { kind: "spawn" }, retries: "enabled" });
  assert.equal(resolveExecutorConfig({}, "multi_or_in_process", { SLUICE_MULTIPROCESS_EXECUTOR_MAX_CONCURRENT: "7" })!.maxConcurrent, 7);
  assert.equal(resolveExecutorConfig({}, undefined, { DAGSTER_MULTIPROCESS_EXECUTOR_MAX_CONCURRENT: "3" })!.maxConcurrent, 3);
  assert.equal(resolveExecutorConfig({ execution: { config: { multiprocess: { max_concurrent: 5 } } } }, undefined, { SLUICE_MULTIPROCESS_EXECUTOR_MAX_CONCURRENT: "7" })!.maxConcurrent, 5);
  assert.equal(resolveExecutorConfig({ execution: { config: { multiprocess: null } } })!.kind, "multiprocess");
  assert.equal(resolveExecutorConfig({ execution: { config: { in_process: {} } } })!.kind, "in_process");
  assert.equal(resolveExecutorConfig({ execution: { config: { max_concurrent: 2 } } }, "multiprocess")!.maxConcurrent, 2);
  assert.equal(resolveExecutorConfig({}, "in_process")!.kind, "in_process");
  assert.equal(resolveExecutorConfig({ execution: { config: { x: 1 } } }, "my_custom_executor"), undefined);
  assert.throws(
    () => resolveExecutorConfig({ execution: { config: { multiprocess: { max_concurrent: -1 } } } }),
    (e: unknown) => e instanceof ConfigError && e.issues[0].keyPath === "execution.config.multiprocess.max_concurrent",
  );
  assert.throws(() => resolveExecutorConfig({ execution: { config: { multiprocess: {}, in_process: {} } } }), ConfigError);
});

test("single-executor jobs take the executor's config directly under execution.config", () => {
  const inProc = validateRunConfig("execution:\n  config:\n    retries:\n      disabled: {}\n", "x.yaml", { opNames: [], executorName: "in_process" });
  assert.deepEqual(inProc.issues, []);
  assert.equal(resolveExecutorConfig(inProc.value, "in_process")!.retries, "disabled");
  const wrong = validateRunConfig("execution:\n  config:\n    max_concurrent: 2\n", "x.yaml", { opNames: [], executorName: "in_process" });
  assert.equal(wrong.issues[0].code, "unknown-key");
  assert.deepEqual(wrong.issues[0].allowed, ["retries", "marker_to_close"]);
});

test("hover data for run config keys", () => {
  const mc = runConfigKeyInfo(["execution", "config", "multiprocess", "max_concurrent"])!;
  assert.match(mc.description!, /null or 0 = the number of CPUs/);
  assert.deepEqual(runConfigKeyInfo(["execution", "config", "multiprocess", "start_method"])!.allowed, ["spawn", "forkserver"]);
  assert.deepEqual(runConfigKeyInfo(["ops"], { opNames: ["a", "b"] })!.keys, ["a", "b"]);
  assert.deepEqual(runConfigKeyInfo(["ops", "a"], { opNames: ["a"] })!.keys, ["config", "inputs"]);
});
