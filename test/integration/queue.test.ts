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
    // A step running in process cannot be interrupted: a canceled run's worker is killed after this grace.
    dev = await startDev(ws, { SLUICE_CANCEL_GRACE_MS: "1000" });
  });
  after(async () => {
    await dev?.stop();
    ws?.remove();
  });

  const runList = (status?: string) => json<RunJson[]>(sluice(ws, ["run", "list", "--json", ...(status ? ["--status", status] : [])]));
  const show = (id: string) => json<RunJson>(sluice(ws, ["run", "show", id, "--json"]));

  /** Op intervals of these runs: finished ones from their spans, canceled ones from their op's start to the run's end. */
  const intervals = (ids: string[]) => {
    const done = spans(ws).filter((x) => ids.includes(x.run));
    const ended = new Map(json<{ runId: string; endTime: number | null }[]>(sluice(ws, ["run", "list", "--json"])).map((r) => [r.runId, r.endTime]));
    const open = starts(ws)
      .filter((x) => ids.includes(x.run) && !done.some((d) => d.run === x.run))
      .map((x) => ({ run: x.run, start: x.at, end: ended.get(x.run) ?? Date.now(), tags: {} as Record<string, string> }));
    return [...done, ...open];
  };

  it("never has more runs in progress than max_concurrent_runs; queued runs say why they wait", async () => {
    const blockers = (await Promise.all([1, 2].map(() => launch(ws, "plain", { nap_ms: "60000", group: "max" })))).map(runIdOf);
    await waitFor("both blockers running", () => starts(ws).filter((s) => blockers.includes(s.run)).length === 2);
    const followers = (await Promise.all([0, 0, -1].map((p) => launch(ws, "plain", { nap_ms: "300", group: "max", "sluice/priority": String(p) })))).map(runIdOf);
    const last = followers[2];
    const queued = await waitFor("three queued runs with their reason", () => {
      const q = runList("QUEUED").filter((r) => followers.includes(r.runId) && r.queueReason);
      return q.length === 3 && q;
    });
    for (const r of queued) {
      assert.equal(r.queueReason, "max_concurrent_runs 2 reached");
      assert.deepEqual(r.queueBlock, { kind: "max_concurrent_runs", limit: 2 });
    }
    assert.match(sluice(ws, ["run", "show", last]).stdout, /waiting: {2}max_concurrent_runs 2 reached/);
    assert.match(sluice(ws, ["run", "list"]).stdout, /QUEUED .*max_concurrent_runs 2 reached/);
    for (const id of blockers) assert.equal(sluice(ws, ["run", "cancel", id]).code, 0);
    await waitFor("the followers to finish", () => spans(ws).filter((s) => followers.includes(s.run)).length === 3, 30_000, 100);
    const all = intervals([...blockers, ...followers]);
    assert.equal(maxOverlap(all), 2, "two at a time, never three");
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
    // Blockers fill every limit and hold it until they are canceled.
    const blockerTags: Record<string, string>[] = [{ db: "pg" }, { team: "a" }, { team: "b" }, { user: "x" }];
    const blockers = (await Promise.all(blockerTags.map((t) => launch(ws, "plain", { ...t, nap_ms: "60000", group: "tags" })))).map(runIdOf);
    await waitFor("the blockers running", () => starts(ws).filter((s) => blockers.includes(s.run)).length === 4);
    const later: [Record<string, string>, string | null][] = [
      [{ db: "pg" }, "tag db=pg 1/1"],
      [{ team: "c" }, "tag team 2/2"],
      [{ user: "x" }, "tag user=x 1/1"],
      [{ db: "mysql" }, null],
      [{ user: "y" }, null],
    ];
    const ids = (await Promise.all(later.map(([t]) => launch(ws, "plain", { ...t, nap_ms: "300", group: "tags" })))).map(runIdOf);
    // The free ones run at once, next to the blockers; the others wait and say which limit holds them.
    await waitFor("the free runs", () => spans(ws).filter((s) => s.run === ids[3] || s.run === ids[4]).length === 2, 20_000, 100);
    const queued = runList("QUEUED");
    later.forEach(([tags, reason], i) => {
      if (reason) assert.equal(queued.find((r) => r.runId === ids[i])?.queueReason, reason, JSON.stringify(tags));
    });
    for (const id of blockers) assert.equal(sluice(ws, ["run", "cancel", id]).code, 0);
    await waitFor("the held runs", () => spans(ws).filter((s) => ids.includes(s.run)).length === 5, 30_000, 100);
    const tagsOf = new Map([...blockers.map((id, i) => [id, blockerTags[i]] as const), ...ids.map((id, i) => [id, later[i][0]] as const)]);
    const all = intervals([...blockers, ...ids]).map((x) => ({ ...x, tags: tagsOf.get(x.run)! }));
    const overlap = (pred: (t: Record<string, string>) => boolean) => maxOverlap(all.filter((s) => pred(s.tags)));
    assert.equal(overlap((t) => t.db === "pg"), 1, "key-value limit db=pg: 1");
    assert.equal(overlap((t) => t.team !== undefined), 2, "key limit team: 2");
    assert.equal(overlap((t) => t.user === "x"), 1, "per-unique-value limit user: 1 per value");
    assert.ok(overlap(() => true) >= 6, "runs not held back by a limit ran at the same time");
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
