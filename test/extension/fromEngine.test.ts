// The engine's records mapped onto the extension's view models (what the Instance adapter uses).
import * as assert from "node:assert/strict";
import { test } from "node:test";
import type { DefinitionsSnapshot, JobSnapshot } from "../../src/engine/definitions/snapshot";
import type { RunRecord } from "../../src/engine/events";
import { definitionsFromSnapshot, runSummaryFromRecord } from "../../src/extension/engine/fromEngine";

test("a RunRecord becomes a RunSummary with the queue reason from meta", () => {
  const record: RunRecord = {
    runId: "7f3a", jobName: "orders_job", status: "QUEUED", tags: { "sluice/priority": "2" }, runConfig: {}, opSelection: null,
    stepKeysToExecute: null, assetSelection: null, parentRunId: null, rootRunId: null, storageId: 3, createTime: 10, updateTime: 11,
    startTime: null, endTime: null, meta: { queueReason: "blocked: pool `database` 1/1 in use by run 1b2c…" },
  };
  assert.deepEqual(runSummaryFromRecord(record), {
    runId: "7f3a", jobName: "orders_job", status: "QUEUED", createTime: 10, startTime: null, endTime: null,
    tags: { "sluice/priority": "2" }, queueReason: "blocked: pool `database` 1/1 in use by run 1b2c…",
  });
  assert.equal(runSummaryFromRecord({ ...record, meta: {} }).queueReason, undefined);
});

test("a definitions snapshot becomes the Definitions/CodeLens model, without the implicit asset job", () => {
  const job = (name: string, extra: Partial<JobSnapshot> = {}) =>
    ({ name, kind: "job", tags: {}, source: { file: "/w/a.ts", line: 3, column: 14 }, executor: { name: "multi_or_in_process" },
      opRetryPolicy: null, steps: [{}, {}, {}], nodes: [], ...extra }) as unknown as JobSnapshot;
  const snapshot: DefinitionsSnapshot = {
    workspace: "/w",
    loadedAt: 1,
    files: [],
    jobs: [job("hello_job"), job("__ASSET_JOB", { implicit: true, kind: "assetJob" })],
    assets: [{ key: "orders", node: "orders", kind: "asset", deps: [], tags: {}, pool: null, source: { file: "/w/b.ts", line: 1, column: 1 }, outputStep: "orders" }],
    errors: [{ kind: "duplicate", file: "/w/c.ts", line: 4, column: 7, message: "Duplicate job name \"hello_job\"", name: "hello_job" }],
  };
  const model = definitionsFromSnapshot(snapshot, [{ name: "database", limit: 1 }]);
  assert.deepEqual(model.jobs, [{ name: "hello_job", kind: "job", description: undefined, opCount: 3, source: { file: "/w/a.ts", line: 3, column: 14 } }]);
  assert.deepEqual(model.assets.map((a) => a.key), ["orders"]);
  assert.deepEqual(model.problems, [{ file: "/w/c.ts", line: 4, column: 7, message: "Duplicate job name \"hello_job\"" }]);
  assert.deepEqual(model.pools, [{ name: "database", limit: 1 }]);
});
