// The run queue through the real CLI (reference §4): `sluice dev` owns the instance and runs the
// queue; `sluice job launch` from other processes is forwarded to it. The ops sleep and record
// their own start and end times; the limits must hold at every instant. Build first
// (`node esbuild.mjs`).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { isAlive } from "../../src/engine/ownership";
import { json, sluice } from "../helpers/workspace";
import { launch, maxOverlap, queueWorkspace, runIdOf, spans, startDev, starts, waitFor, type Dev, type QueueWorkspace } from "../fixtures/queue/helpers";

interface RunJson {
  runId: string;
  status: string;
  tags: Record<string, string>;
  queueReason: string | null;
  queueBlock: Record<string, unknown> | null;
  meta?: Record<string, unknown>;
}
interface EventJson { type: string; message: string; data: Record<string, unknown> | null }

const BASE = `run_queue:
  dequeue_interval_seconds: 0.3
`;

describe("run queue", () => {
  let ws: QueueWorkspace;
  let dev: Dev;
  before(async () => {
    ws = queueWorkspace(`${BASE}concurrency:\n  runs:\n    max_concurrent_runs: 2\n`);
    dev = await startDev(ws);
  });
  after(async () => {
    await dev?.stop();
    ws?.remove();
  });

  const runList = (status?: string) => json<RunJson[]>(sluice(ws, ["run", "list", "--json", ...(status ? ["--status", status] : [])]));
  const show = (id: string) => json<RunJson>(sluice(ws, ["run", "show", id, "--json"]));

  it("never has more runs in progress than max_concurrent_runs; queued runs say why they wait", async () => {
    const waiting = Array.from({ length: 5 }, () => launch(ws, "plain", { nap_ms: "500", group: "max" }, ["--wait"]));
    const reason = await waitFor("a queued run with its reason", () => runList("QUEUED").find((r) => r.queueReason));
    assert.equal(reason.queueReason, "max_concurrent_runs 2 reached");
    assert.deepEqual(reason.queueBlock, { kind: "max_concurrent_runs", limit: 2 });
    assert.match(sluice(ws, ["run", "show", reason.runId]).stdout, /waiting: {2}max_concurrent_runs 2 reached/);
    assert.match(sluice(ws, ["run", "list"]).stdout, /QUEUED .*max_concurrent_runs 2 reached/);
    const results = await Promise.all(waiting);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const mine = spans(ws).filter((s) => s.tags.group === "max");
    assert.equal(mine.length, 5);
    assert.equal(maxOverlap(mine), 2, "two at a time, never three");
  });

  it("launches higher priority first (sluice/priority, dagster/priority alias, non-integer = 0), ties in creation order", async () => {
    ws.setConfig(`${BASE}concurrency:\n  runs:\n    max_concurrent_runs: 0\n`);
    await new Promise((r) => setTimeout(r, 300));
    const order: [string, Record<string, string>][] = [
      ["neg", { "sluice/priority": "-1" }],
      ["none", {}],
      ["junk", { "sluice/priority": "high" }],
      ["five", { "dagster/priority": "5" }],
      ["two", { "sluice/priority": "2" }],
    ];
    for (const [name, tags] of order) {
      const r = await launch(ws, "plain", { ...tags, nap_ms: "50", prio: name });
      assert.equal(r.code, 0, r.stderr);
    }
    const queued = runList("QUEUED").filter((r) => r.tags.prio);
    assert.equal(queued.length, 5);
    await waitFor("reasons", () => runList("QUEUED").filter((r) => r.queueReason?.startsWith("max_concurrent_runs is 0")).length === 5);
    ws.setConfig(`${BASE}concurrency:\n  runs:\n    max_concurrent_runs: 1\n`);
    await waitFor("all five ran", () => spans(ws).filter((s) => s.tags.prio).length === 5, 30_000);
    const started = spans(ws).filter((s) => s.tags.prio).sort((a, b) => a.start - b.start).map((s) => s.tags.prio);
    assert.deepEqual(started, ["five", "two", "none", "junk", "neg"]);
  });

  it("enforces run tag_concurrency_limits of all three kinds at every instant", async () => {
    ws.setConfig(`${BASE}concurrency:
  runs:
    max_concurrent_runs: 10
    tag_concurrency_limits:
      - key: db
        value: pg
        limit: 1
      - key: team
        limit: 2
      - key: user
        value:
          applyLimitPerUniqueValue: true
        limit: 1
`);
    await new Promise((r) => setTimeout(r, 300));
    const runs: Record<string, string>[] = [
      { db: "pg" }, { db: "pg" }, { db: "mysql" },
      { team: "a" }, { team: "b" }, { team: "c" },
      { user: "x" }, { user: "x" }, { user: "y" },
    ];
    const waiting = runs.map((tags) => launch(ws, "plain", { ...tags, nap_ms: "900", group: "tags" }, ["--wait"]));
    // While the runs go, the blocked ones say which limit holds them.
    const seen = new Set<string>();
    await waitFor("the three kinds of tag reasons", () => {
      for (const r of runList("QUEUED")) if (r.queueReason?.startsWith("tag ")) seen.add(r.queueReason);
      return seen.has("tag db=pg 1/1") && seen.has("tag team 2/2") && seen.has("tag user=x 1/1");
    }, 20_000, 100);
    for (const r of await Promise.all(waiting)) assert.equal(r.code, 0, r.stderr);
    const mine = spans(ws).filter((s) => s.tags.group === "tags");
    assert.equal(mine.length, runs.length);
    const overlap = (pred: (t: Record<string, string>) => boolean) => maxOverlap(mine.filter((s) => pred(s.tags)));
    assert.equal(overlap((t) => t.db === "pg"), 1, "key-value limit db=pg: 1");
    assert.ok(overlap((t) => t.team !== undefined) <= 2, "key limit team: 2");
    assert.equal(overlap((t) => t.user === "x"), 1, "per-unique-value limit user: 1 per value");
    assert.ok(overlap(() => true) >= 4, "runs not held back by a limit ran at the same time");
  });

  it("cancels a queued run at once (RUN_CANCELING then RUN_CANCELED)", async () => {
    ws.setConfig(`${BASE}concurrency:\n  runs:\n    tag_concurrency_limits:\n      - key: hold\n        limit: 0\n`);
    await new Promise((r) => setTimeout(r, 300));
    const id = runIdOf(await launch(ws, "plain", { hold: "yes" }));
    await waitFor("the hold reason", () => show(id).meta?.queueReason === "tag hold 0/0");
    const r = sluice(ws, ["run", "cancel", id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(show(id).status, "CANCELED");
    const types = json<EventJson[]>(sluice(ws, ["run", "events", id, "--json"])).map((e) => e.type);
    assert.deepEqual(types.slice(-2), ["RUN_CANCELING", "RUN_CANCELED"]);
    const again = sluice(ws, ["run", "cancel", id]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /is CANCELED; only QUEUED or STARTED runs can be canceled/);
  });

  it("cancels a started run: CANCELING, its worker and step workers get the signal, the run ends CANCELED", async () => {
    const [inProc, multi] = await Promise.all([
      launch(ws, "plain", { nap_ms: "30000", group: "cancel" }),
      launch(ws, "pooled_mp", { nap_ms: "30000", group: "cancel" }),
    ]);
    const ids = [runIdOf(inProc), runIdOf(multi)];
    const begun = await waitFor("both ops started", () => {
      const s = starts(ws).filter((x) => ids.includes(x.run));
      return s.length === 2 && s;
    });
    for (const id of ids) {
      const r = sluice(ws, ["run", "cancel", id]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /is canceling/);
    }
    await waitFor("both canceled", () => ids.every((id) => show(id).status === "CANCELED"), 20_000, 200);
    for (const b of begun) assert.equal(isAlive(b.pid), false, `the process running the op (pid ${b.pid}) is gone`);
    for (const id of ids) {
      const types = json<EventJson[]>(sluice(ws, ["run", "events", id, "--json"])).map((e) => e.type);
      assert.ok(types.includes("RUN_CANCELING"));
      assert.equal(types[types.length - 1], "RUN_CANCELED");
    }
  });
});
