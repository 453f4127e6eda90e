// Concurrency pool storage (reference §5.3), on an in-memory store: limits, claims in priority
// then arrival order, freeing hands slots on at once, lowering never pre-empts, no self-deadlock.
import { test, describe, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { Store } from "../../src/engine/storage/store";
import { PoolLimitError, PoolStore } from "../../src/engine/pools/poolStore";

let store: Store;
let pools: PoolStore;
let clock = 1_000;
const opts = (extra: { holding?: string[] } = {}) => ({ defaultLimit: null, now: ++clock, ...extra });

beforeEach(async () => {
  store = await Store.openInMemory();
  pools = new PoolStore(store);
});

describe("limits", () => {
  test("refuses limits above 1000 or below 0 with Dagster's messages", () => {
    assert.throws(() => pools.setLimit("db", 1001), (e: unknown) => e instanceof PoolLimitError && e.message === "Cannot have more than 1000 slots per concurrency key.");
    assert.throws(() => pools.setLimit("db", -1), (e: unknown) => e instanceof PoolLimitError && e.message === "Cannot have a negative number of slots.");
    pools.setLimit("db", 1000);
    assert.equal(pools.info("db").slotCount, 1000);
  });

  test("an unknown pool without default is unlimited; with a default it is materialized at first claim", () => {
    assert.equal(pools.claim("free", "r1", "a", 0, opts()).status, "UNLIMITED");
    assert.equal(pools.info("free").limit, null);
    assert.equal(pools.claim("dflt", "r1", "a", 0, { defaultLimit: 1, now: ++clock }).status, "CLAIMED");
    assert.equal(pools.claim("dflt", "r2", "a", 0, { defaultLimit: 1, now: ++clock }).status, "BLOCKED");
    const info = pools.info("dflt", 1);
    assert.equal(info.limit, 1);
    assert.equal(info.usingDefault, true);
  });

  test("a changed default_limit updates pools that follow it, and frees them when it is removed", () => {
    pools.claim("p", "r1", "a", 0, { defaultLimit: 1, now: ++clock });
    pools.claim("p", "r2", "a", 0, { defaultLimit: 1, now: ++clock });
    assert.deepEqual(pools.syncDefaultLimits(2), [{ pool: "p", runId: "r2", stepKey: "a" }]);
    assert.equal(pools.info("p").limit, 2);
    pools.claim("p", "r3", "a", 0, { defaultLimit: 2, now: ++clock });
    assert.deepEqual(pools.syncDefaultLimits(null), [{ pool: "p", runId: "r3", stepKey: "a" }]);
    assert.equal(pools.info("p").limit, null);
  });
});

describe("claims", () => {
  test("claiming is idempotent and hands slots out by priority, then arrival", () => {
    pools.setLimit("db", 1);
    assert.equal(pools.claim("db", "r1", "a", 0, opts()).status, "CLAIMED");
    assert.equal(pools.claim("db", "r1", "a", 0, opts()).status, "CLAIMED");
    assert.equal(pools.claim("db", "r2", "a", 0, opts()).status, "BLOCKED");
    assert.equal(pools.claim("db", "r3", "a", 5, opts()).status, "BLOCKED");
    assert.equal(pools.claim("db", "r4", "a", 0, opts()).status, "BLOCKED");
    assert.deepEqual(pools.info("db").pending.map((p) => p.runId), ["r1", "r3", "r2", "r4"]);
    // r1's step is done: the slot goes at once to the highest-priority waiter.
    assert.deepEqual(pools.freeStep("r1", "a"), [{ pool: "db", runId: "r3", stepKey: "a" }]);
    assert.equal(pools.claim("db", "r3", "a", 5, opts()).status, "CLAIMED");
    assert.deepEqual(pools.freeStep("r3", "a"), [{ pool: "db", runId: "r2", stepKey: "a" }]);
    assert.deepEqual(pools.freeStep("r2", "a"), [{ pool: "db", runId: "r4", stepKey: "a" }]);
  });

  test("freeing a run frees every slot and pending claim it had, in every pool", () => {
    pools.setLimit("a", 1);
    pools.setLimit("b", 1);
    pools.claim("a", "r1", "x", 0, opts());
    pools.claim("b", "r1", "y", 0, opts());
    pools.claim("a", "r2", "x", 0, opts());
    pools.claim("b", "r1", "z", 0, opts({ holding: ["y"] })); // waits behind its own running step y
    const grants = pools.freeRun("r1");
    assert.deepEqual(grants, [{ pool: "a", runId: "r2", stepKey: "x" }]);
    assert.equal(pools.holdsAnything("r1"), false);
    assert.deepEqual(pools.info("b").claimed, []);
    assert.deepEqual(pools.info("b").pending, []);
  });

  test("a step never waits on a slot its own run holds for a step that no longer runs (Dagster #31243)", () => {
    pools.setLimit("db", 1);
    pools.claim("db", "r1", "first", 0, opts());
    pools.claim("db", "r2", "other", 0, opts()); // another run waits
    // `first` finished but its release never arrived; the worker holds nothing now.
    const result = pools.claim("db", "r1", "second", 0, opts({ holding: [] }));
    assert.equal(result.status, "CLAIMED");
    assert.equal(result.transferredFrom, "first");
    assert.deepEqual(pools.info("db").claimed.map((c) => [c.runId, c.stepKey]), [["r1", "second"]]);
    // ...but a sibling that still runs keeps its slot: the new step waits like everyone else.
    pools.setLimit("pg", 1);
    pools.claim("pg", "r3", "s1", 0, opts());
    assert.equal(pools.claim("pg", "r3", "s2", 0, opts({ holding: ["s1"] })).status, "BLOCKED");
  });

  test("lowering a limit never pre-empts; the pool drains down to the new limit; raising hands out slots", () => {
    pools.setLimit("db", 2);
    pools.claim("db", "r1", "a", 0, opts());
    pools.claim("db", "r2", "a", 0, opts());
    pools.claim("db", "r3", "a", 0, opts());
    assert.deepEqual(pools.setLimit("db", 1), []);
    let info = pools.info("db");
    assert.equal(info.claimed.length, 2, "both running steps keep their slots");
    assert.equal(info.slotCount, 1);
    assert.deepEqual(pools.freeStep("r1", "a"), [], "still at the limit: nobody new starts");
    assert.deepEqual(pools.freeStep("r2", "a"), [{ pool: "db", runId: "r3", stepKey: "a" }]);
    info = pools.info("db");
    assert.equal(info.claimed.length, 1);
    pools.claim("db", "r4", "a", 0, opts());
    pools.claim("db", "r5", "a", 0, opts());
    assert.deepEqual(pools.setLimit("db", 3), [{ pool: "db", runId: "r4", stepKey: "a" }, { pool: "db", runId: "r5", stepKey: "a" }]);
  });

  test("lowering then raising again never exceeds the limit", () => {
    pools.setLimit("db", 2);
    pools.claim("db", "r1", "a", 0, opts());
    pools.claim("db", "r2", "a", 0, opts());
    pools.setLimit("db", 0);
    pools.claim("db", "r3", "a", 0, opts());
    assert.deepEqual(pools.setLimit("db", 2), [], "the two holders fill the limit again");
    assert.equal(pools.info("db").claimed.length, 2);
  });

  test("the queue's summary counts pending rows and held slots", () => {
    pools.setLimit("db", 1);
    pools.claim("db", "r1", "a", 0, opts());
    pools.claim("db", "r2", "a", 0, opts());
    assert.deepEqual(pools.summaries(["db", "other"], null).get("db"), { limit: 1, pendingCount: 2, claimedCount: 1 });
    assert.deepEqual(pools.summaries(["other"], 3).get("other"), { limit: 3, pendingCount: 0, claimedCount: 0 });
  });

  test("removing a limit lets every waiting step go", () => {
    pools.setLimit("db", 0);
    pools.claim("db", "r1", "a", 0, opts());
    assert.deepEqual(pools.deleteLimit("db"), [{ pool: "db", runId: "r1", stepKey: "a" }]);
    assert.equal(pools.claim("db", "r2", "a", 0, opts()).status, "UNLIMITED");
  });
});
