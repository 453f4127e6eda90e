// Re-execution's step derivation (reference §7, FROM_FAILURE) and tags, on hand-made snapshots and events.
import * as assert from "node:assert/strict";
import { test } from "node:test";
import type { JobSnapshot, StepSnapshot } from "../../src/engine/definitions/snapshot";
import type { EventType, RunRecord, StoredEvent } from "../../src/engine/events";
import { fromFailureStepKeys, lineage, reexecutionTags, ReexecutionError, stepOutcomes } from "../../src/engine/execution/reexecution";

function step(key: string, upstream: string[] = []): StepSnapshot {
  return {
    key,
    node: key,
    opName: key,
    inputs: upstream.map((u, i) => ({ name: `in${i}`, sources: [{ step: u, output: "result" }], fanIn: false })),
    outputs: [{ name: "result" }] as StepSnapshot["outputs"],
    tags: {},
    pool: null,
    retryPolicy: null,
    configSchema: null,
    source: { file: "/w/j.ts", line: 1, column: 1 },
  };
}

// a → b → d, a → c → d, e (independent); definition order is not topological on purpose
const JOB: JobSnapshot = {
  name: "j",
  kind: "job",
  tags: {},
  source: { file: "/w/j.ts", line: 1, column: 1 },
  executor: { name: "multi_or_in_process", builtin: "multi_or_in_process" },
  opRetryPolicy: null,
  steps: [step("d", ["b", "c"]), step("b", ["a"]), step("a"), step("c", ["a"]), step("e")],
  nodes: [],
};

let id = 0;
function ev(type: EventType, stepKey: string | null): StoredEvent {
  return { id: ++id, runId: "p", type, stepKey, timestamp: id, level: "INFO", message: "" };
}
const succeeded = (k: string) => [ev("STEP_START", k), ev("STEP_SUCCESS", k)];
const failed = (k: string) => [ev("STEP_START", k), ev("STEP_FAILURE", k)];
const parent = (status: RunRecord["status"], stepKeysToExecute: string[] | null = null) => ({ runId: "p", status, stepKeysToExecute });

test("failed steps and everything downstream run again; succeeded ones do not", () => {
  const events = [...succeeded("a"), ...succeeded("c"), ...failed("b"), ...succeeded("e")];
  assert.deepEqual(fromFailureStepKeys(JOB, parent("FAILURE"), events), ["d", "b"]);
});

test("interrupted (started, never finished) and never-started steps run again; skipped steps do not", () => {
  const events = [...succeeded("a"), ev("STEP_START", "b"), ...succeeded("e"), ev("STEP_SKIPPED", "c")];
  // b interrupted, c skipped, d never started (downstream of b anyway)
  assert.deepEqual(fromFailureStepKeys(JOB, parent("CANCELED"), events), ["d", "b"]);
  // e never started in a terminated run: runs again
  assert.deepEqual(fromFailureStepKeys(JOB, parent("CANCELED"), [...succeeded("a"), ...succeeded("b"), ...succeeded("c"), ...succeeded("d")]), ["e"]);
});

test("a retried step that finally succeeded is not run again", () => {
  const events = [...succeeded("a"), ev("STEP_START", "b"), ev("STEP_UP_FOR_RETRY", "b"), ev("STEP_RESTARTED", "b"), ev("STEP_SUCCESS", "b"), ...failed("c"), ...succeeded("e")];
  assert.equal(stepOutcomes(events).get("b"), "succeeded");
  assert.deepEqual(fromFailureStepKeys(JOB, parent("FAILURE"), events), ["d", "c"]);
});

test("restricted to the parent's own step selection", () => {
  const events = [...succeeded("a"), ...failed("b")];
  assert.deepEqual(fromFailureStepKeys(JOB, parent("FAILURE", ["a", "b"]), events), ["b"]);
});

test("only failed or canceled runs; a run with nothing left to do says so", () => {
  assert.throws(() => fromFailureStepKeys(JOB, parent("SUCCESS"), []), (e: unknown) => e instanceof ReexecutionError && /not failed or canceled/.test(e.message));
  const all = ["a", "b", "c", "d", "e"].flatMap(succeeded);
  assert.throws(() => fromFailureStepKeys(JOB, parent("FAILURE"), all), /no failed or unfinished steps/);
});

test("tags: the parent's minus its bookkeeping, plus parent/root ids (and the resume flag from failure)", () => {
  const tags = reexecutionTags(
    { runId: "r2", rootRunId: "r1", tags: { team: "data", "sluice/priority": "3", "sluice/failure_reason": "STEP_FAILURE", "dagster/parent_run_id": "r1", "sluice/retry_number": "1" } },
    true,
  );
  assert.deepEqual(tags, { team: "data", "sluice/priority": "3", "sluice/parent_run_id": "r2", "sluice/root_run_id": "r1", "sluice/is_resume_retry": "true" });
  assert.deepEqual(reexecutionTags({ runId: "r1", rootRunId: null, tags: {} }, false), { "sluice/parent_run_id": "r1", "sluice/root_run_id": "r1" });
});

test("lineage: nearest ancestor first, cycles cut", () => {
  const runs = new Map([
    ["r3", { runId: "r3", parentRunId: "r2" }],
    ["r2", { runId: "r2", parentRunId: "r1" }],
    ["r1", { runId: "r1", parentRunId: null }],
    ["x", { runId: "x", parentRunId: "y" }],
    ["y", { runId: "y", parentRunId: "x" }],
  ]);
  assert.deepEqual(lineage(runs.get("r3")!, (i) => runs.get(i)), ["r3", "r2", "r1"]);
  assert.deepEqual(lineage(runs.get("x")!, (i) => runs.get(i)), ["x", "y"]);
});
