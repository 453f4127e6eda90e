// Concurrency pools through the real CLI (reference §5): limits set with
// `sluice instance concurrency set`, both granularities, visible waiting, and slots freed at once
// when a run worker is killed. Build first (`node esbuild.mjs`).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { json, sluice } from "../helpers/workspace";
import { launch, maxOverlap, queueWorkspace, runIdOf, spans, startDev, starts, waitFor, type Dev, type QueueWorkspace } from "../fixtures/queue/helpers";

interface EventJson { type: string; stepKey: string | null; timestamp: number; message: string; data: Record<string, unknown> | null }
interface PoolJson {
  pool: string;
  limit: number | null;
  slotCount: number;
  claimed: { runId: string; stepKey: string }[];
  pending: { runId: string; stepKey: string; assigned: boolean; priority: number }[];
}
interface RunJson { runId: string; status: string; tags: Record<string, string>; queueReason: string | null; startTime: number | null; endTime: number | null }

const OP = `run_queue:\n  dequeue_interval_seconds: 0.3\n`;
const RUN = `${OP}concurrency:\n  pools:\n    granularity: run\n`;

describe("concurrency pools", () => {
  let ws: QueueWorkspace;
  let dev: Dev;
  before(async () => {
    ws = queueWorkspace(OP);
    dev = await startDev(ws);
  });
  after(async () => {
    await dev?.stop();
    ws?.remove();
  });

  const events = (id: string) => json<EventJson[]>(sluice(ws, ["run", "events", id, "--json"]));
  const pool = (name: string) => json<PoolJson>(sluice(ws, ["instance", "concurrency", "get", name, "--json"]));
  const runs = () => json<RunJson[]>(sluice(ws, ["run", "list", "--json"]));

  it("refuses limits above 1000 or below 0 with Dagster's messages", () => {
    const high = sluice(ws, ["instance", "concurrency", "set", "db", "1001"]);
    assert.equal(high.code, 2);
    assert.match(high.stderr, /Cannot have more than 1000 slots per concurrency key\./);
    const low = sluice(ws, ["instance", "concurrency", "set", "db", "-1"]);
    assert.equal(low.code, 2);
    assert.match(low.stderr, /Cannot have a negative number of slots\./);
  });

  it("op granularity: one db step at a time across runs, waiting steps are told, the queue admits runs whose roots can start", async () => {
    const set = sluice(ws, ["instance", "concurrency", "set", "db", "1"]);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout.trim(), "Set concurrency limit for db to 1.");
    const launched = await Promise.all([
      launch(ws, "pooled", { nap_ms: "400", group: "op" }),
      launch(ws, "pooled", { nap_ms: "400", group: "op" }),
      launch(ws, "mixed", { nap_ms: "400", group: "op" }),
      launch(ws, "mixed", { nap_ms: "400", group: "op" }),
    ]);
    const ids = launched.map(runIdOf);
    // While they go: the pool shows who holds the slot and who waits, in order.
    const busy = await waitFor("a held db slot with waiters", () => {
      const p = pool("db");
      return p.claimed.length === 1 && p.pending.some((x) => !x.assigned) && p;
    }, 20_000, 100);
    assert.equal(busy.limit, 1);
    assert.ok(ids.includes(busy.claimed[0].runId));
    await waitFor("all four runs", () => spans(ws).filter((s) => s.tags.group === "op").length === 6, 30_000, 100);
    const db = spans(ws).filter((s) => s.tags.group === "op" && s.step.startsWith("nap_db"));
    assert.equal(db.length, 4);
    assert.equal(maxOverlap(db), 1, "never two db steps at once");
    // A queued pooled run was held back by the pool, and said so.
    const blockedEvents = ids.flatMap((id) => events(id).filter((e) => e.type === "ENGINE_EVENT" && e.message === "Step blocked by concurrency limit for key db"));
    assert.ok(blockedEvents.length >= 1, "a mixed run's db step reported it waits for the pool");
    for (const e of blockedEvents) assert.deepEqual(e.data?.concurrency_key, "db");
    await waitFor("runs finished", () => runs().filter((r) => ids.includes(r.runId)).every((r) => r.status === "SUCCESS"), 20_000, 200);
    assert.deepEqual(pool("db").claimed, [], "every slot was given back");
  });

  it("run granularity: the queue counts runs per pool, steps never claim", async () => {
    ws.setConfig(RUN);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sluice(ws, ["instance", "concurrency", "set", "warehouse", "1"]).code, 0);
    const ids = (await Promise.all([1, 2, 3].map(() => launch(ws, "warehouse", { nap_ms: "400", group: "run" })))).map(runIdOf);
    const reason = await waitFor("a run held back by the pool", () => runs().find((r) => ids.includes(r.runId) && r.queueReason)?.queueReason);
    assert.equal(reason, "pool warehouse 1/1 (run granularity)");
    await waitFor("all three done", () => runs().filter((r) => ids.includes(r.runId)).every((r) => r.status === "SUCCESS"), 30_000, 200);
    const mine = runs().filter((r) => ids.includes(r.runId));
    assert.equal(maxOverlap(mine.map((r) => ({ start: r.startTime!, end: r.endTime! }))), 1, "one warehouse run in progress at a time");
    assert.equal(maxOverlap(spans(ws).filter((s) => s.tags.group === "run")), 1);
    const p = pool("warehouse");
    assert.deepEqual([p.claimed, p.pending], [[], []], "no step claimed a slot");
  });

  it("a run worker killed with SIGKILL while holding a slot: the slot is free within a second and the next run proceeds", async () => {
    ws.setConfig(OP);
    await new Promise((r) => setTimeout(r, 300));
    const victim = runIdOf(await launch(ws, "pooled", { nap_ms: "60000", group: "kill" }));
    const held = await waitFor("the victim's op to start", () => starts(ws).find((s) => s.run === victim), 20_000);
    assert.deepEqual(pool("db").claimed.map((c) => c.runId), [victim]);
    const next = runIdOf(await launch(ws, "pooled", { nap_ms: "100", group: "kill" }));
    await waitFor("the next run to wait for the pool", () => runs().find((r) => r.runId === next)?.queueReason?.startsWith("pool db"));
    const killedAt = Date.now();
    process.kill(held.pid, "SIGKILL");
    await waitFor("the next run to finish", () => runs().find((r) => r.runId === next)?.status === "SUCCESS", 20_000, 100);

    const victimEvents = events(victim);
    const failure = victimEvents.find((e) => e.type === "RUN_FAILURE")!;
    assert.ok(failure, "the victim failed");
    assert.equal(failure.data?.failureReason, "UNEXPECTED_TERMINATION");
    assert.ok(failure.timestamp - killedAt < 1000, `failure recorded ${failure.timestamp - killedAt} ms after the kill`);
    assert.ok(victimEvents.some((e) => e.type === "ENGINE_EVENT" && /was killed \(SIGKILL/.test(e.message)), "an event says how the worker died");
    const show = json<{ tags: Record<string, string> }>(sluice(ws, ["run", "show", victim, "--json"]));
    assert.equal(show.tags["sluice/failure_reason"], "UNEXPECTED_TERMINATION");
    const nextStarting = events(next).find((e) => e.type === "RUN_STARTING")!;
    assert.ok(nextStarting.timestamp - killedAt < 1000, `the next run was launched ${nextStarting.timestamp - killedAt} ms after the kill`);
    assert.deepEqual(pool("db").claimed, []);
  });
});
