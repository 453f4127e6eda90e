// The queue coordinator's decision (reference §4.3 acceptance tests of
// test_queued_run_coordinator_daemon.py, and §5.5 pool-aware cases), as a pure function.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import {
  coordinateQueue,
  type InProgressRunInput,
  type PoolState,
  type QueueConfig,
  type QueuedRunInput,
} from "../../src/engine/daemons/queueCoordinator";
import type { TagConcurrencyLimit } from "../../src/engine/execution/tagLimits";
import type { RunPoolUsage } from "../../src/engine/pools/runPools";
import { runPoolUsage, runPriority } from "../../src/engine/pools/runPools";

let seq = 0;
function queued(runId: string, tags: Record<string, string> = {}, pools: RunPoolUsage | null = null): QueuedRunInput {
  return { runId, storageId: ++seq, tags, pools };
}
function running(runId: string, tags: Record<string, string> = {}, pools: RunPoolUsage | null = null, unseenRoots?: Record<string, number>): InProgressRunInput {
  return { runId, status: "STARTED", tags, pools, unseenRoots };
}
function config(overrides: Partial<QueueConfig> & { limits?: TagConcurrencyLimit[] } = {}): QueueConfig {
  return {
    maxConcurrentRuns: overrides.maxConcurrentRuns ?? 10,
    tagConcurrencyLimits: overrides.limits ?? overrides.tagConcurrencyLimits ?? [],
    pools: overrides.pools ?? { granularity: "op", runBuffer: 0, blockOpLimitedRuns: true },
  };
}
/** A run whose only root step is in `pool` (op granularity usage). */
function rooted(...pools: string[]): RunPoolUsage {
  return { roots: Object.fromEntries(pools.map((p, i) => [p, [`step_${i}`]])), all: [...pools], unconstrainedRoot: false };
}
function decide(q: QueuedRunInput[], cfg: QueueConfig, inProgress: InProgressRunInput[] = [], pools: Record<string, PoolState> = {}) {
  return coordinateQueue({ queued: q, inProgress, config: cfg, pools: new Map(Object.entries(pools)) });
}
const pool = (limit: number | null, pendingCount = 0, claimedCount = 0): PoolState => ({ limit, pendingCount, claimedCount });

describe("max_concurrent_runs", () => {
  for (const inProgressCount of [0, 1, 5]) {
    test(`max 4 with ${inProgressCount} in progress and 5 queued launches max(0, 4 - in progress)`, () => {
      const q = ["a", "b", "c", "d", "e"].map((id) => queued(id));
      const ip = Array.from({ length: inProgressCount }, (_, i) => running(`ip${i}`));
      const d = decide(q, config({ maxConcurrentRuns: 4 }), ip);
      assert.deepEqual(d.launch, ["a", "b", "c", "d", "e"].slice(0, Math.max(0, 4 - inProgressCount)));
      for (const id of ["a", "b", "c", "d", "e"].slice(d.launch.length)) {
        assert.equal(d.waiting.get(id)?.reason, "max_concurrent_runs 4 reached");
        assert.equal(d.waiting.get(id)?.block.kind, "max_concurrent_runs");
      }
    });
  }

  test("-1 is unlimited: 5 in progress, 6 queued, all 6 launched", () => {
    const q = Array.from({ length: 6 }, (_, i) => queued(`q${i}`));
    const ip = Array.from({ length: 5 }, (_, i) => running(`ip${i}`));
    assert.equal(decide(q, config({ maxConcurrentRuns: -1 }), ip).launch.length, 6);
  });

  test("0 launches nothing and says so", () => {
    const d = decide([queued("a")], config({ maxConcurrentRuns: 0 }));
    assert.deepEqual(d.launch, []);
    assert.match(d.waiting.get("a")!.reason, /max_concurrent_runs is 0/);
  });

  test("runs in progress that were not launched through the queue count (any IN_PROGRESS status)", () => {
    const ip: InProgressRunInput[] = [
      { runId: "x", status: "STARTING", tags: {}, pools: null },
      { runId: "y", status: "CANCELING", tags: {}, pools: null },
    ];
    assert.deepEqual(decide([queued("a"), queued("b")], config({ maxConcurrentRuns: 3 }), ip).launch, ["a"]);
  });
});

describe("priority", () => {
  test("default(0), -1, 3 queued in that order launch as [3, 0, -1]", () => {
    const q = [queued("default"), queued("neg", { "dagster/priority": "-1" }), queued("high", { "sluice/priority": "3" })];
    assert.deepEqual(decide(q, config()).launch, ["high", "default", "neg"]);
  });

  test('a non-integer priority ("foobar") counts as 0 and the run still launches', () => {
    const q = [queued("neg", { "sluice/priority": "-1" }), queued("foo", { "sluice/priority": "foobar" }), queued("plain")];
    assert.deepEqual(decide(q, config()).launch, ["foo", "plain", "neg"]);
    assert.equal(runPriority({ "sluice/priority": "1.5" }), 0);
    assert.equal(runPriority({ "dagster/priority": " 7 " }), 7);
  });

  test("ties keep creation order (storage id), not input order", () => {
    const a = queued("a");
    const b = queued("b");
    assert.deepEqual(decide([b, a], config()).launch, ["a", "b"]);
  });

  test("with max 1 only the highest priority run goes", () => {
    const q = [queued("low", { "sluice/priority": "-100" }), queued("high", { "sluice/priority": "100" })];
    assert.deepEqual(decide(q, config({ maxConcurrentRuns: 1 })).launch, ["high"]);
  });
});

describe("tag_concurrency_limits", () => {
  test("{database, tiny, 1}: tiny, tiny, large → tiny#1, large", () => {
    const q = [queued("tiny1", { database: "tiny" }), queued("tiny2", { database: "tiny" }), queued("large", { database: "large" })];
    const d = decide(q, config({ limits: [{ key: "database", value: "tiny", limit: 1 }] }));
    assert.deepEqual(d.launch, ["tiny1", "large"]);
    assert.equal(d.waiting.get("tiny2")?.reason, "tag database=tiny 1/1");
    assert.deepEqual(d.waiting.get("tiny2")?.block, { kind: "tag", key: "database", value: "tiny", count: 1, limit: 1 });
  });

  test("{database, applyLimitPerUniqueValue: false, 2}: tiny, tiny, large → tiny#1, tiny#2", () => {
    const q = [queued("tiny1", { database: "tiny" }), queued("tiny2", { database: "tiny" }), queued("large", { database: "large" })];
    const d = decide(q, config({ limits: [{ key: "database", value: { applyLimitPerUniqueValue: false }, limit: 2 }] }));
    assert.deepEqual(d.launch, ["tiny1", "tiny2"]);
    assert.equal(d.waiting.get("large")?.reason, "tag database 2/2");
  });

  test("{database,tiny,1} + {user,johann,2}: r1{tiny,johann}, r2{tiny}, r3{johann}, r4{johann} → r1, r3", () => {
    const q = [
      queued("r1", { database: "tiny", user: "johann" }),
      queued("r2", { database: "tiny" }),
      queued("r3", { user: "johann" }),
      queued("r4", { user: "johann" }),
    ];
    const limits = [{ key: "database", value: "tiny", limit: 1 }, { key: "user", value: "johann", limit: 2 }];
    assert.deepEqual(decide(q, config({ limits })).launch, ["r1", "r3"]);
  });

  test("{foo,2} + {foo,bar,1}: bar, bar, other, other → bar#1, other#1", () => {
    const q = [queued("bar1", { foo: "bar" }), queued("bar2", { foo: "bar" }), queued("other1", { foo: "other" }), queued("other2", { foo: "other" })];
    const limits = [{ key: "foo", limit: 2 }, { key: "foo", value: "bar", limit: 1 }];
    assert.deepEqual(decide(q, config({ limits })).launch, ["bar1", "other1"]);
  });

  test("per-unique {foo,1}: bar, bar in one pass → bar#1; other, other in the next → other#1", () => {
    const limits = [{ key: "foo", value: { applyLimitPerUniqueValue: true }, limit: 1 }];
    const bar1 = queued("bar1", { foo: "bar" });
    const bar2 = queued("bar2", { foo: "bar" });
    const first = decide([bar1, bar2], config({ limits }));
    assert.deepEqual(first.launch, ["bar1"]);
    const second = decide([bar2, queued("other1", { foo: "other" }), queued("other2", { foo: "other" })], config({ limits }), [running("bar1", { foo: "bar" })]);
    assert.deepEqual(second.launch, ["other1"]);
    assert.equal(second.waiting.get("bar2")?.reason, "tag foo=bar 1/1");
  });

  test("per-unique {foo,1} + {foo,2}: bar, bar, other, other-2 → bar#1, other#1", () => {
    const q = [queued("bar1", { foo: "bar" }), queued("bar2", { foo: "bar" }), queued("other", { foo: "other" }), queued("other2", { foo: "other-2" })];
    const limits = [{ key: "foo", value: { applyLimitPerUniqueValue: true }, limit: 1 }, { key: "foo", limit: 2 }];
    assert.deepEqual(decide(q, config({ limits })).launch, ["bar1", "other"]);
  });

  test("per-unique {foo,2} + {foo,bar,1}: bar, baz, bar, baz, baz → bar#1, baz#1, baz#2", () => {
    const q = [queued("bar1", { foo: "bar" }), queued("baz1", { foo: "baz" }), queued("bar2", { foo: "bar" }), queued("baz2", { foo: "baz" }), queued("baz3", { foo: "baz" })];
    const limits = [{ key: "foo", value: { applyLimitPerUniqueValue: true }, limit: 2 }, { key: "foo", value: "bar", limit: 1 }];
    assert.deepEqual(decide(q, config({ limits })).launch, ["bar1", "baz1", "baz2"]);
  });

  test("max 2 + key-only {test,1}: two tagged runs → only the first; with priorities -100/+100 → only the +100 one", () => {
    const limits = [{ key: "test", limit: 1 }];
    assert.deepEqual(decide([queued("a", { test: "x" }), queued("b", { test: "y" })], config({ maxConcurrentRuns: 2, limits })).launch, ["a"]);
    const q = [queued("low", { test: "x", "sluice/priority": "-100" }), queued("high", { test: "x", "sluice/priority": "100" })];
    assert.deepEqual(decide(q, config({ maxConcurrentRuns: 2, limits })).launch, ["high"]);
  });

  test("in-progress runs use their tags' budget", () => {
    const d = decide([queued("a", { db: "x" })], config({ limits: [{ key: "db", limit: 1 }] }), [running("r", { db: "y" })]);
    assert.deepEqual(d.launch, []);
    assert.equal(d.waiting.get("a")?.reason, "tag db 1/1");
  });

  test("no head-of-line blocking: a blocked high-priority run does not hold back the ones behind it", () => {
    const q = [queued("blocked", { db: "x", "sluice/priority": "10" }), queued("free")];
    const d = decide(q, config({ limits: [{ key: "db", value: "x", limit: 0 }] }));
    assert.deepEqual(d.launch, ["free"]);
    assert.equal(d.waiting.get("blocked")?.reason, "tag db=x 0/0");
  });
});

describe("pools (op granularity, pool-aware queue)", () => {
  test("limit foo=1, three runs rooted on foo → the first launches; raising the limit to 2 → the second", () => {
    const q = [queued("r1", {}, rooted("foo")), queued("r2", {}, rooted("foo")), queued("r3", {}, rooted("foo"))];
    const first = decide(q, config(), [], { foo: pool(1) });
    assert.deepEqual(first.launch, ["r1"]);
    assert.equal(first.waiting.get("r2")?.block.kind, "pool");
    assert.match(first.waiting.get("r2")!.reason, /^pool foo 0\/1, 1 step waiting \(op granularity\)$/);
    // r1 now runs and holds the slot (its pending row is visible).
    const second = decide(q.slice(1), config(), [running("r1", {}, rooted("foo"), {})], { foo: pool(2, 1, 1) });
    assert.deepEqual(second.launch, ["r2"]);
  });

  test("an in-progress run whose root has not asked for its slot yet counts", () => {
    const d = decide([queued("r2", {}, rooted("foo"))], config(), [running("r1", {}, rooted("foo"), { foo: 1 })], { foo: pool(1) });
    assert.deepEqual(d.launch, []);
  });

  test("foo=0 and bar=1: the run rooted on foo stays queued, the run on bar launches", () => {
    const d = decide([queued("on_foo", {}, rooted("foo")), queued("on_bar", {}, rooted("bar"))], config(), [], { foo: pool(0), bar: pool(1) });
    assert.deepEqual(d.launch, ["on_bar"]);
    assert.match(d.waiting.get("on_foo")!.reason, /^pool foo 0\/0/);
  });

  test("a run with one unpooled root launches even if foo=0", () => {
    const usage = runPoolUsage({
      steps: [
        { key: "a", pool: "foo", upstream: [] },
        { key: "b", pool: null, upstream: [] },
        { key: "c", pool: "foo", upstream: ["a", "b"] },
      ] as never,
    });
    assert.deepEqual(usage, { roots: { foo: ["a"] }, all: ["foo"], unconstrainedRoot: true });
    assert.deepEqual(decide([queued("r", {}, usage)], config(), [], { foo: pool(0) }).launch, ["r"]);
  });

  test("a run is admitted if ANY root pool has room", () => {
    assert.deepEqual(decide([queued("r", {}, rooted("foo", "bar"))], config(), [], { foo: pool(0), bar: pool(1) }).launch, ["r"]);
  });

  test("an unlimited pool never blocks", () => {
    assert.deepEqual(decide([queued("r1", {}, rooted("foo")), queued("r2", {}, rooted("foo"))], config(), [], { foo: pool(null) }).launch, ["r1", "r2"]);
  });

  test("op_granularity_run_buffer 1 with foo=1 → 2 of 3 launched", () => {
    const q = [queued("r1", {}, rooted("foo")), queued("r2", {}, rooted("foo")), queued("r3", {}, rooted("foo"))];
    const d = decide(q, config({ pools: { granularity: "op", runBuffer: 1, blockOpLimitedRuns: true } }), [], { foo: pool(1) });
    assert.deepEqual(d.launch, ["r1", "r2"]);
  });

  test("pending steps of other runs use the capacity", () => {
    const d = decide([queued("r", {}, rooted("foo"))], config(), [], { foo: pool(2, 3, 2) });
    assert.deepEqual(d.launch, []);
    assert.equal(d.waiting.get("r")?.reason, "pool foo 2/2, 1 step waiting (op granularity)");
  });

  test("block_op_concurrency_limited_runs disabled: pools never hold runs in the queue", () => {
    const d = decide([queued("r", {}, rooted("foo"))], config({ pools: { granularity: "op", runBuffer: 0, blockOpLimitedRuns: false } }), [], { foo: pool(0) });
    assert.deepEqual(d.launch, ["r"]);
  });

  test("tag limit 0 + pool 0 → not launched", () => {
    const d = decide([queued("r", { db: "x" }, rooted("foo"))], config({ limits: [{ key: "db", limit: 0 }] }), [], { foo: pool(0) });
    assert.deepEqual(d.launch, []);
  });

  test("Dagster #25743 fixed: a pool-blocked run does not use up tag budget", () => {
    const q = [queued("pooled", { team: "a" }, rooted("foo")), queued("plain", { team: "a" })];
    const d = decide(q, config({ limits: [{ key: "team", limit: 1 }] }), [], { foo: pool(0) });
    assert.deepEqual(d.launch, ["plain"]);
    assert.equal(d.waiting.get("pooled")?.block.kind, "pool");
  });

  test("runs cut off by max_concurrent_runs use no tag budget: the reason shown is max_concurrent_runs", () => {
    const q = [queued("a", { db: "x" }), queued("b", { db: "x" }), queued("c")];
    const d = decide(q, config({ maxConcurrentRuns: 1, limits: [{ key: "db", limit: 2 }] }));
    assert.deepEqual(d.launch, ["a"]);
    assert.equal(d.waiting.get("b")?.reason, "max_concurrent_runs 1 reached");
    assert.equal(d.waiting.get("c")?.reason, "max_concurrent_runs 1 reached");
  });
});

describe("pools (run granularity)", () => {
  const runCfg = config({ pools: { granularity: "run", runBuffer: 0, blockOpLimitedRuns: true } });

  test("counts runs per pool (in progress + launched), over ALL pools of the run", () => {
    const usage: RunPoolUsage = { roots: {}, all: ["warehouse"], unconstrainedRoot: true };
    const q = [queued("r1", {}, usage), queued("r2", {}, usage), queued("r3", {}, usage)];
    const d = decide(q, runCfg, [], { warehouse: pool(2) });
    assert.deepEqual(d.launch, ["r1", "r2"]);
    assert.equal(d.waiting.get("r3")?.reason, "pool warehouse 2/2 (run granularity)");
    const d2 = decide(q.slice(1), runCfg, [running("r1", {}, usage)], { warehouse: pool(1) });
    assert.deepEqual(d2.launch, []);
    assert.equal(d2.waiting.get("r2")?.reason, "pool warehouse 1/1 (run granularity)");
  });

  test("blocked if ANY pool of the run is full; pending step rows are ignored", () => {
    const both: RunPoolUsage = { roots: { a: ["x"] }, all: ["a", "b"], unconstrainedRoot: false };
    const d = decide([queued("r", {}, both)], runCfg, [running("o", {}, { roots: {}, all: ["b"], unconstrainedRoot: true })], { a: pool(5, 9, 9), b: pool(1) });
    assert.deepEqual(d.launch, []);
    assert.equal(d.waiting.get("r")?.reason, "pool b 1/1 (run granularity)");
  });
});
