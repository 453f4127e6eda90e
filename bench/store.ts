// Store benchmark: `node --import tsx bench/store.ts`. Prints figures and ratios; never fails.
//
// (a) Append rate on a store that already holds 100,000 events (10,000 runs × 10 events):
//     10,000 appendEvent calls + flush (journal written and fdatasync'ed), versus raw sql.js
//     inserting the same 10,000 rows in one transaction into the same table (loaded from the same
//     snapshot, same connection settings). Target: Store ≥ 0.5× raw.
// (b) Time to open that store (snapshot load; the journal is empty after close), and to answer a
//     first query (sql.js reads pages lazily).
// (c) Time to open after a crash: the same store plus the 10,000 appended events still in the journal.
// (d) Time to take a snapshot of the 110,000-event store (it blocks the event loop while it runs).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EventType, LogLevel, SluiceEvent } from "../src/engine/events";
import { loadSqlJs } from "../src/engine/storage/sqljs";
import { Store } from "../src/engine/storage/store";

const BASE_RUNS = 10_000;
const EVENTS_PER_BASE_RUN = 10;
const APPENDED = 10_000;
const APPEND_RUNS = 100; // events arrive from a handful of in-progress runs at a time
// Raw and Store alternate; on a busy machine single rounds swing widely, so the best round of
// each (least disturbed) is the headline, with medians and CPU-time figures beside it.
const ROUNDS = 7;

/** Rate by wall-clock time and by this process' CPU time (which ignores time other processes took). */
interface Rate {
  wall: number;
  cpu: number;
}

function measure(count: number, work: () => void): Rate {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  work();
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { wall: count / wallSeconds, cpu: count / ((cpu.user + cpu.system) / 1e6) };
}

const STEP_EVENTS: [EventType, LogLevel, string][] = [
  ["STEP_START", "DEBUG", "Started execution of step."],
  ["LOG_MESSAGE", "INFO", "processed 1000 rows"],
  ["STEP_OUTPUT", "DEBUG", 'Yielded output "result" of type "Any".'],
  ["HANDLED_OUTPUT", "DEBUG", 'Handled output "result" using IO manager "io_manager"'],
  ["ASSET_MATERIALIZATION", "DEBUG", "Materialized value orders."],
  ["STEP_SUCCESS", "DEBUG", "Finished execution of step in 12ms."],
];

function event(runId: string, i: number): SluiceEvent {
  const [type, level, message] = STEP_EVENTS[i % STEP_EVENTS.length];
  const stepKey = `op_${Math.floor(i / STEP_EVENTS.length) % 20}`;
  const data: Record<string, unknown> = { pid: 4242 };
  if (type === "STEP_OUTPUT" || type === "HANDLED_OUTPUT") data.outputName = "result";
  if (type === "ASSET_MATERIALIZATION") Object.assign(data, { assetKey: `asset_${i % 50}`, metadata: { rows: 1000 } });
  return { runId, type, stepKey, timestamp: Date.now(), level, message, data };
}

function baseRunEvents(runId: string): SluiceEvent[] {
  const t = Date.now();
  const events: SluiceEvent[] = [{ runId, type: "RUN_START", timestamp: t, level: "DEBUG", message: "Started execution of run." }];
  for (let i = 0; events.length < EVENTS_PER_BASE_RUN - 1; i++) events.push(event(runId, i));
  events.push({ runId, type: "RUN_SUCCESS", timestamp: t + 5, level: "DEBUG", message: "Finished execution of run." });
  return events;
}

async function buildBaseStore(home: string): Promise<void> {
  const store = await Store.open({ home });
  for (let r = 0; r < BASE_RUNS; r++) {
    const runId = `base-run-${String(r).padStart(6, "0")}`;
    store.createRun({ runId, jobName: `job_${r % 10}`, tags: { team: r % 2 ? "a" : "b" } });
    store.appendEvents(baseRunEvents(runId));
  }
  store.close();
}

function appendedEvents(): SluiceEvent[] {
  const events: SluiceEvent[] = [];
  for (let i = 0; i < APPENDED; i++) events.push(event(`new-run-${i % APPEND_RUNS}`, Math.floor(i / APPEND_RUNS)));
  return events;
}

interface StoreFigures {
  rate: Rate;
  openMs: number;
  openAndQueryMs: number;
  replayOpenMs: number;
  replayed: number;
  snapshotMs: number;
}

async function storeFigures(baseHome: string, events: SluiceEvent[]): Promise<StoreFigures> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-"));
  const crashedHome = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-crashed-"));
  fs.cpSync(baseHome, home, { recursive: true });
  try {
    let t = performance.now();
    const store = await Store.open({ home });
    const openMs = performance.now() - t;
    store.getRunRecords({}, { limit: 50 });
    const openAndQueryMs = performance.now() - t;
    for (let r = 0; r < APPEND_RUNS; r++) store.createRun({ runId: `new-run-${r}`, jobName: "job_new" });
    store.flush();
    const rate = measure(events.length, () => {
      for (const e of events) store.appendEvent(e);
      store.flush();
    });

    // What a crash right now would leave: the old snapshot and the journal.
    fs.cpSync(home, crashedHome, { recursive: true });
    t = performance.now();
    store.snapshot();
    const snapshotMs = performance.now() - t;
    store.close();
    t = performance.now();
    const recovered = await Store.open({ home: crashedHome, readOnly: true });
    const replayOpenMs = performance.now() - t;
    const replayed = recovered.openReport.replayedRecords;
    recovered.close();
    return { rate, openMs, openAndQueryMs, replayOpenMs, replayed, snapshotMs };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(crashedHome, { recursive: true, force: true });
  }
}

async function rawAppendRate(snapshot: Uint8Array, events: SluiceEvent[]): Promise<Rate> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(new Uint8Array(snapshot)); // a copy: sql.js writes into the array it is given
  db.exec("PRAGMA journal_mode=MEMORY; PRAGMA cache_size=-65536;"); // what the store's connection uses
  const insert = db.prepare(
    "INSERT INTO events (run_id, type, step_key, timestamp, level, message, data, asset_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const rate = measure(events.length, () => {
    db.exec("BEGIN");
    for (const e of events) {
      const assetKey = e.data?.assetKey;
      insert.run([e.runId, e.type, e.stepKey ?? null, e.timestamp, e.level, e.message, JSON.stringify(e.data), typeof assetKey === "string" ? assetKey : null]);
    }
    db.exec("COMMIT");
  });
  db.close();
  return rate;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main(): Promise<void> {
  const baseHome = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-base-"));
  try {
    let t = performance.now();
    await buildBaseStore(baseHome);
    const snapshot = fs.readFileSync(path.join(baseHome, "db", "sluice.sqlite"));
    console.log(
      `built ${fmt(BASE_RUNS * EVENTS_PER_BASE_RUN)} events in ${fmt(BASE_RUNS)} runs in ${fmt(performance.now() - t)} ms; ` +
        `snapshot ${(snapshot.length / 1e6).toFixed(1)} MB`,
    );

    const events = appendedEvents();
    const raws: Rate[] = [];
    const figures: StoreFigures[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const raw = await rawAppendRate(snapshot, events);
      const f = await storeFigures(baseHome, events);
      raws.push(raw);
      figures.push(f);
      console.log(
        `round ${round}: raw sql.js ${fmt(raw.wall)} events/s, Store ${fmt(f.rate.wall)} events/s ` +
          `(${(f.rate.wall / raw.wall).toFixed(2)}×; by CPU time ${(f.rate.cpu / raw.cpu).toFixed(2)}×)`,
      );
    }
    const stores = figures.map((f) => f.rate);
    const best = (rates: Rate[], by: keyof Rate) => Math.max(...rates.map((r) => r[by]));
    const mid = (rates: Rate[], by: keyof Rate) => median(rates.map((r) => r[by]));
    const headline = best(stores, "wall") / best(raws, "wall");
    console.log(`(a) append ${fmt(APPENDED)} events to a ${fmt(BASE_RUNS * EVENTS_PER_BASE_RUN)}-event store, ${ROUNDS} rounds (best / median):`);
    console.log(`    raw sql.js, one transaction:   ${fmt(best(raws, "wall"))} / ${fmt(mid(raws, "wall"))} events/s`);
    console.log(`    Store.appendEvent + flush:     ${fmt(best(stores, "wall"))} / ${fmt(mid(stores, "wall"))} events/s`);
    console.log(
      `    ratio Store / raw:             ${headline.toFixed(2)}× / ${(mid(stores, "wall") / mid(raws, "wall")).toFixed(2)}×` +
        `   (by CPU time ${(best(stores, "cpu") / best(raws, "cpu")).toFixed(2)}× / ${(mid(stores, "cpu") / mid(raws, "cpu")).toFixed(2)}×)` +
        `   target ≥ 0.50×: ${headline >= 0.5 ? "ok" : "BELOW TARGET"}`,
    );
    console.log(`(b) open a ${fmt(BASE_RUNS * EVENTS_PER_BASE_RUN)}-event store:           median ${fmt(median(figures.map((f) => f.openMs)))} ms`);
    console.log(`    open it and list the newest 50 runs:    median ${fmt(median(figures.map((f) => f.openAndQueryMs)))} ms`);
    console.log(
      `(c) open after a crash, replaying ${fmt(figures[0].replayed)} journal records: median ${fmt(median(figures.map((f) => f.replayOpenMs)))} ms`,
    );
    console.log(`(d) snapshot of the ${fmt(BASE_RUNS * EVENTS_PER_BASE_RUN + APPENDED)}-event store: median ${fmt(median(figures.map((f) => f.snapshotMs)))} ms`);
  } finally {
    fs.rmSync(baseHome, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  // A benchmark reports; it never fails the build.
});
