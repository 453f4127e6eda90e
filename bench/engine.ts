// Per-step overhead of the engine: an N-step no-op DAG through the in-process executor with every
// event persisted to a real store (journal on disk) and outputs written to files, next to a bare
// ready-queue loop in the same process that writes the same number of event rows to sql.js.
// Target: ratio <= 3 at 10,000 steps. Run: `node --import tsx bench/engine.ts [N...]`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { buildDefinitions } from "../src/engine/definitions/build";
import type { SluiceEvent } from "../src/engine/events";
import { FileOutputStore } from "../src/engine/execution/outputs";
import { buildPlan } from "../src/engine/execution/plan";
import { executeRun } from "../src/engine/execution/run";
import { loadSqlJs } from "../src/engine/storage/sqljs";
import { Store } from "../src/engine/storage/store";
import { job, op } from "../src/sdk/definitions";

const root = op({ name: "root", ins: [] }, () => 0);
const node = op({ name: "node", ins: ["parent"] }, () => 1);

/** A binary-tree DAG: step i depends on step (i - 1) / 2. */
function treeJob(n: number) {
  return job({ name: `tree_${n}` }, () => {
    const handles = [root()];
    for (let i = 1; i < n; i++) handles.push(node(handles[(i - 1) >> 1]));
  });
}

async function engineRun(n: number): Promise<{ ms: number; events: number }> {
  const home = mkdtempSync(join(tmpdir(), "sluice-bench-"));
  const store = await Store.open({ home });
  const built = buildDefinitions([{ file: "bench", exports: { j: treeJob(n) } }], (s) => z.toJSONSchema(s as z.ZodType) as Record<string, unknown>);
  const runtime = built.jobs.get(`tree_${n}`)!;
  const plan = buildPlan(runtime.snapshot, {});
  const runId = "bench-run";
  store.createRun({ runId, jobName: runtime.snapshot.name });
  let events = 0;
  const started = performance.now();
  await executeRun({
    runId,
    jobName: runtime.snapshot.name,
    plan,
    job: runtime,
    runTags: {},
    runConfig: {},
    outputs: new FileOutputStore(join(home, "storage")),
    instance: { getRunRecords: async () => [] },
    sink: (e: SluiceEvent) => {
      store.appendEvent(e);
      events++;
    },
    executor: { kind: "in_process", retries: "enabled", maxConcurrent: 1, tagConcurrencyLimits: [], startMethod: { kind: "spawn" } },
  });
  store.flush();
  const ms = performance.now() - started;
  store.close();
  rmSync(home, { recursive: true, force: true });
  return { ms, events };
}

/** The floor: a ready queue over the same DAG writing `eventsPerStep` rows per step with one prepared insert. */
async function bareLoop(n: number, totalEvents: number): Promise<number> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  db.run("CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, type TEXT, step_key TEXT, timestamp REAL, level TEXT, message TEXT, data TEXT)");
  db.run("CREATE INDEX e_run ON events(run_id)");
  db.run("CREATE INDEX e_type ON events(type)");
  db.run("CREATE INDEX e_step ON events(step_key)");
  db.run("CREATE INDEX e_ts ON events(timestamp)");
  const insert = db.prepare("INSERT INTO events (run_id, type, step_key, timestamp, level, message, data) VALUES (?, ?, ?, ?, ?, ?, ?)");
  const perStep = totalEvents / n;
  const started = performance.now();
  db.run("BEGIN");
  const children = new Map<number, number[]>();
  for (let i = 1; i < n; i++) {
    const p = (i - 1) >> 1;
    const list = children.get(p);
    if (list) list.push(i);
    else children.set(p, [i]);
  }
  const ready = [0];
  let written = 0;
  while (ready.length > 0) {
    const i = ready.shift()!;
    const rows = Math.round(perStep * (i + 1)) - Math.round(perStep * i);
    for (let r = 0; r < rows; r++) {
      insert.run(["bench-run", "STEP_OUTPUT", `node_${i}`, Date.now(), "INFO", `Event ${r} of step node_${i}.`, '{"outputName":"result"}']);
      written++;
    }
    for (const c of children.get(i) ?? []) ready.push(c);
  }
  db.run("COMMIT");
  const ms = performance.now() - started;
  insert.free();
  db.close();
  if (written !== totalEvents) throw new Error(`bare loop wrote ${written} rows, expected ${totalEvents}`);
  return ms;
}

async function main() {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  for (const n of sizes.length ? sizes : [1000, 10000]) {
    await engineRun(Math.min(n, 200)); // warm up the JIT and the wasm
    const engine = await engineRun(n);
    const bare = await bareLoop(n, engine.events);
    const perStep = (ms: number) => ((ms * 1000) / n).toFixed(1);
    console.log(
      `${n} steps, ${engine.events} events: engine ${perStep(engine.ms)} µs/step (${engine.ms.toFixed(0)} ms), ` +
        `bare loop ${perStep(bare)} µs/step (${bare.toFixed(0)} ms), ratio ${(engine.ms / bare).toFixed(2)} (target <= 3 at 10,000)`,
    );
  }
}

void main();
