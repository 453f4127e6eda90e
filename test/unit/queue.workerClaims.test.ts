// The run worker's side of pool claims (reference §5.4): one claim message per step, "blocked"
// reported once and "still blocked" at most every 300 s, grants wake the executor.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SluiceEvent } from "../../src/engine/events";
import type { PlanStep } from "../../src/engine/execution/plan";
import { WorkerPoolClaims } from "../../src/engine/pools/workerClaims";
import type { ChildMessage } from "../../src/protocol/worker";

const step = (key: string, pool: string | null, priority = 0) => ({ key, pool, priority }) as PlanStep;

test("claims once, reports blocked once then every 300 s, goes when granted, releases only what it holds", () => {
  let now = 0;
  const sent: ChildMessage[] = [];
  const events: SluiceEvent[] = [];
  let wakes = 0;
  const claims = new WorkerPoolClaims("run1", (m) => sent.push(m), (e) => events.push(e), () => now);
  claims.onChange(() => wakes++);
  const a = step("a", "db", 3);
  assert.equal(claims.claim(step("free", null)), true, "a step without a pool never asks");
  assert.equal(claims.claim(a), false);
  assert.equal(claims.claim(a), false);
  assert.deepEqual(sent, [{ t: "claim", stepKey: "a", pool: "db", priority: 3, holding: [] }]);
  claims.onMessage({ t: "claimResult", stepKey: "a", pool: "db", status: "BLOCKED" });
  assert.equal(wakes, 1);
  assert.deepEqual(events.map((e) => [e.type, e.stepKey, e.message, e.data?.concurrency_key]), [["ENGINE_EVENT", "a", "Step blocked by concurrency limit for key db", "db"]]);
  now = 299_000;
  assert.equal(claims.claim(a), false);
  assert.equal(events.length, 1);
  now = 300_001;
  assert.equal(claims.claim(a), false);
  assert.equal(events[1].message, "Step still blocked by concurrency limit for key db");
  assert.equal(claims.claim(a), false);
  assert.equal(events.length, 2);
  claims.onMessage({ t: "slotGranted", stepKey: "a", pool: "db" });
  assert.equal(claims.claim(a), true);
  const b = step("b", "db");
  claims.claim(b);
  assert.deepEqual((sent[1] as { holding: string[] }).holding, ["a"], "the owner learns which steps still hold slots");
  claims.release(a);
  claims.release(b); // never granted: nothing to give back
  assert.deepEqual(sent.slice(2), [{ t: "release", stepKey: "a" }]);
  // Claimed at once: no event.
  const c = step("c", "db");
  assert.equal(claims.claim(c), false);
  claims.onMessage({ t: "claimResult", stepKey: "c", pool: "db", status: "CLAIMED" });
  assert.equal(claims.claim(c), true);
  assert.equal(events.length, 2);
});
