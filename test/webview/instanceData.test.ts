// The Instance-backed data source: shapes, compute logs from LOGS_CAPTURED paths, positioned
// engine errors, change notifications from stored events. The real Instance must fit InstanceLike.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import type { Instance } from "../../src/engine/instance";
import type { ConfigIssue } from "../../src/engine/config/yamlPositions";
import type { StoredEvent } from "../../src/engine/events";
import { instanceWebviewData, type InstanceLike } from "../../src/extension/webview/instanceData";
import { fixtureDefinitions, fixtureEvents, fixtureRuns, LIVE_RUN } from "./fixtures";

// Type-level: the engine's Instance is an InstanceLike (the adapter passes it as it is).
export const instanceFits = (i: Instance): InstanceLike => i;

function fakeInstance(dir: string) {
  const events = fixtureEvents();
  const out = path.join(dir, "load.out");
  fs.writeFileSync(out, "x".repeat(100) + "tail-of-stdout\n");
  events.get(LIVE_RUN)!.find((e) => e.type === "LOGS_CAPTURED")!.data = { stdoutPath: out, stderrPath: path.join(dir, "missing.err") };
  const listeners = new Set<(e: StoredEvent[]) => void>();
  const launched: unknown[] = [];
  const inst: InstanceLike = {
    definitions: async () => fixtureDefinitions(),
    runs: (filter, opts) => fixtureRuns().filter((r) => !filter?.statuses || filter.statuses.includes(r.status)).slice(0, opts?.limit),
    run: (id) => fixtureRuns().find((r) => r.runId === id) ?? (() => { throw new Error("no run"); })(),
    events: (id, q) => (events.get(id) ?? []).filter((e) => (!q?.types || q.types.includes(e.type)) && (!q?.stepKey || e.stepKey === q.stepKey) && e.id > (q?.afterId ?? 0)),
    concurrencyInfo: async () => [{ pool: "warehouse", limit: 1, usingDefault: false, slotCount: 1, claimed: [{ runId: LIVE_RUN, stepKey: "load_warehouse", slotId: 1, deleted: false }], pending: [] }],
    info: async () => ({ config: { values: { concurrency: { runs: { max_concurrent_runs: 2, tag_concurrency_limits: [] }, pools: { default_limit: null, granularity: "op", op_granularity_run_buffer: 0 } } } as never } }),
    prepare: async (r) => {
      if ((r.runConfig as { ops?: { load_warehouse?: { config?: { table?: string } } } })?.ops?.load_warehouse?.config?.table === "nope") {
        const issue: ConfigIssue = { file: "run config", line: 0, column: 0, endLine: 0, endColumn: 0, path: ["ops", "load_warehouse", "config", "table"], keyPath: "ops.load_warehouse.config.table", message: "no such table", code: "op-config" };
        throw Object.assign(new Error("Invalid run config"), { issues: [issue] });
      }
      return {};
    },
    launch: async (r) => {
      launched.push(r);
      return { run: fixtureRuns()[0] };
    },
    cancel: async () => ({}),
    setConcurrencyLimit: async () => "ok",
    onEvents: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return { inst, listeners, launched };
}

test("instance data source", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-webview-"));
  try {
    const { inst, listeners, launched } = fakeInstance(dir);
    const data = instanceWebviewData(inst, { pollMs: 0 });
    assert.equal((await data.runs(3)).length, 3);
    const logs = await data.computeLogs(LIVE_RUN, "load_warehouse", 20);
    assert.deepEqual(logs, { stdout: "xxxxxtail-of-stdout\n", stderr: "", truncated: true }); // the last 20 bytes
    const conc = await data.concurrency();
    assert.equal(conc.pools[0].claimed[0].stepKey, "load_warehouse");
    assert.equal(conc.runs.maxConcurrentRuns, 2);
    assert.equal(conc.runs.queued, 3);
    // the engine's key-path issues come back on the YAML's lines
    const yaml = "ops:\n  load_warehouse:\n    config:\n      table: nope\n";
    const issues = await data.validateRunConfig!("etl_job", yaml, ["load_warehouse"]);
    assert.deepEqual(issues.map((i) => [i.line, i.column, i.keyPath]), [[4, 14, "ops.load_warehouse.config.table"]]);
    assert.deepEqual(await data.validateRunConfig!("etl_job", "ops: {}\n"), []);
    await data.launch({ jobName: "etl_job", selection: ["a"], runConfig: { ops: {} }, tags: { t: "1" } });
    assert.deepEqual(launched, [{ jobName: "etl_job", selection: ["a"], runConfig: { ops: {} }, tags: { t: "1" } }]);
    // stored events → what to re-read
    const changes: unknown[] = [];
    const sub = data.onChange((c) => changes.push(c));
    const ev = (type: StoredEvent["type"], extra: Partial<StoredEvent> = {}): StoredEvent => ({ id: 1, runId: "r1", type, timestamp: 0, level: "INFO", message: "", ...extra });
    for (const l of listeners) l([ev("LOG_MESSAGE")]);
    for (const l of listeners) l([ev("RUN_SUCCESS")]);
    for (const l of listeners) l([ev("ENGINE_EVENT", { runId: "r2", stepKey: "s", message: "Step blocked by concurrency limit for key db", data: { blocked: true } })]);
    assert.deepEqual(changes, [{ events: ["r1"] }, { events: ["r1"], runs: true, concurrency: true }, { events: ["r2"], concurrency: true }]);
    sub.dispose();
    assert.equal(listeners.size, 0);
    assert.throws(() => data.reexecute("r1", "all"), /not available/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
