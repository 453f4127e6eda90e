// Store semantics on an in-memory store: run status derivation, filters, event queries, writes.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { RUN_STATUS_BY_EVENT, type EventType, type RunStatus, type SluiceEvent } from "../../src/engine/events";
import { StoreError } from "../../src/engine/storage/errors";
import { migrate, MIGRATIONS, schemaVersion, type Migration } from "../../src/engine/storage/migrations";
import { SqlConnection } from "../../src/engine/storage/sql";
import { loadSqlJs } from "../../src/engine/storage/sqljs";
import { Store } from "../../src/engine/storage/store";

let store: Store;
beforeEach(async () => {
  store = await Store.openInMemory();
});

function ev(runId: string, type: EventType, extra: Partial<SluiceEvent> = {}): SluiceEvent {
  return { runId, type, timestamp: 1_000, level: "DEBUG", message: type, ...extra };
}

function isStoreError(code: string) {
  return (err: unknown) => err instanceof StoreError && err.code === code;
}

describe("run status derivation", () => {
  const cases = Object.entries(RUN_STATUS_BY_EVENT) as [EventType, RunStatus][];

  it("covers every run event of the vocabulary", () => {
    assert.deepEqual(cases.map(([t]) => t).sort(), [
      "RUN_CANCELED",
      "RUN_CANCELING",
      "RUN_ENQUEUED",
      "RUN_FAILURE",
      "RUN_START",
      "RUN_STARTING",
      "RUN_SUCCESS",
    ]);
  });

  for (const [type, status] of cases) {
    it(`${type} → ${status}`, () => {
      const created = store.createRun({ runId: "r", jobName: "j", createTime: 10 });
      assert.equal(created.status, "NOT_STARTED");
      store.appendEvent(ev("r", type, { timestamp: 5_000 }));
      const run = store.getRun("r")!;
      assert.equal(run.status, status);
      assert.equal(run.startTime, type === "RUN_START" ? 5_000 : null);
      assert.equal(run.endTime, ["RUN_SUCCESS", "RUN_FAILURE", "RUN_CANCELED"].includes(type) ? 5_000 : null);
      assert.ok(run.updateTime > 10, "storing an event bumps updateTime");
    });
  }

  it("leaves the status alone for RUN_DEQUEUED and step events, but still bumps updateTime", () => {
    store.createRun({ runId: "r", jobName: "j", createTime: 10 });
    store.appendEvent(ev("r", "RUN_ENQUEUED"));
    for (const type of ["RUN_DEQUEUED", "STEP_START", "LOG_MESSAGE", "ENGINE_EVENT"] as EventType[]) {
      store.appendEvent(ev("r", type));
    }
    const run = store.getRun("r")!;
    assert.equal(run.status, "QUEUED");
    assert.ok(run.updateTime > 10);
  });

  it("lets the last event win (storage does not police transitions)", () => {
    store.createRun({ runId: "r", jobName: "j" });
    store.appendEvents([ev("r", "RUN_START", { timestamp: 1 }), ev("r", "RUN_SUCCESS", { timestamp: 2 }), ev("r", "RUN_CANCELING")]);
    const run = store.getRun("r")!;
    assert.equal(run.status, "CANCELING");
    assert.equal(run.startTime, 1);
    assert.equal(run.endTime, 2);
  });

  it("a typical life: created → queued → starting → started → success", () => {
    store.createRun({ runId: "r", jobName: "j" });
    const seen: RunStatus[] = [];
    for (const type of ["RUN_ENQUEUED", "RUN_STARTING", "RUN_START", "STEP_START", "STEP_SUCCESS", "RUN_SUCCESS"] as EventType[]) {
      store.appendEvent(ev("r", type));
      seen.push(store.getRun("r")!.status);
    }
    assert.deepEqual(seen, ["QUEUED", "STARTING", "STARTED", "STARTED", "STARTED", "SUCCESS"]);
  });

  it("RUN_FAILURE with a failure reason tags the run sluice/failure_reason", () => {
    store.createRun({ runId: "r", jobName: "j", tags: { team: "x" } });
    store.createRun({ runId: "s", jobName: "j" });
    store.appendEvent(ev("r", "RUN_FAILURE", { data: { failureReason: "STEP_FAILURE" } }));
    store.appendEvent(ev("s", "RUN_FAILURE"));
    assert.deepEqual(store.getRun("r")!.tags, { team: "x", "sluice/failure_reason": "STEP_FAILURE" });
    assert.deepEqual(store.getRun("s")!.tags, {});
    assert.deepEqual(
      store.getRunRecords({ tags: { "sluice/failure_reason": "STEP_FAILURE" } }).map((r) => r.runId),
      ["r"],
    );
  });

  it("stores events of unknown runs without inventing a run", () => {
    store.appendEvent(ev("ghost", "RUN_START"));
    assert.equal(store.getRun("ghost"), undefined);
    assert.equal(store.getEvents("ghost").length, 1);
  });

  it("updateTime never goes backwards and is at least the event's storage time", () => {
    store.createRun({ runId: "r", jobName: "j", createTime: 1 });
    const before = Date.now();
    store.appendEvent(ev("r", "STEP_START"));
    const afterFirst = store.getRun("r")!.updateTime;
    assert.ok(afterFirst >= before);
    store.appendEvent(ev("r", "STEP_SUCCESS"));
    assert.ok(store.getRun("r")!.updateTime >= afterFirst);
  });
});

describe("runs", () => {
  it("createRun stores every field and rejects duplicates", () => {
    const run = store.createRun({
      runId: "r1",
      jobName: "job",
      tags: { a: "1" },
      runConfig: { ops: { x: { config: { n: 1 } } } },
      opSelection: ["*x"],
      stepKeysToExecute: ["x"],
      assetSelection: ["orders"],
      parentRunId: "p",
      rootRunId: "root",
      createTime: 123,
    });
    assert.deepEqual(run, {
      runId: "r1",
      jobName: "job",
      status: "NOT_STARTED",
      tags: { a: "1" },
      runConfig: { ops: { x: { config: { n: 1 } } } },
      opSelection: ["*x"],
      stepKeysToExecute: ["x"],
      assetSelection: ["orders"],
      parentRunId: "p",
      rootRunId: "root",
      storageId: 1,
      createTime: 123,
      updateTime: 123,
      startTime: null,
      endTime: null,
      meta: {},
    });
    assert.throws(() => store.createRun({ runId: "r1", jobName: "job" }), isStoreError("RUN_EXISTS"));
    assert.equal(store.createRun({ runId: "r2", jobName: "job" }).storageId, 2);
  });

  it("addRunTags merges and is filterable; unknown runs are an error", () => {
    store.createRun({ runId: "r", jobName: "j", tags: { a: "1", b: "2" } });
    store.addRunTags("r", { b: "3", c: "4" });
    assert.deepEqual(store.getRun("r")!.tags, { a: "1", b: "3", c: "4" });
    assert.equal(store.countRuns({ tags: { b: "3" } }), 1);
    assert.equal(store.countRuns({ tags: { b: "2" } }), 0);
    assert.throws(() => store.addRunTags("nope", { a: "1" }), isStoreError("NO_SUCH_RUN"));
  });

  it("setRunMeta merges shallowly and removes keys set to undefined", () => {
    store.createRun({ runId: "r", jobName: "j" });
    store.setRunMeta("r", { queueReason: "blocked: pool db 1/1", workerPid: 42 });
    store.setRunMeta("r", { queueReason: undefined, launchTime: 7 });
    assert.deepEqual(store.getRun("r")!.meta, { workerPid: 42, launchTime: 7 });
    assert.throws(() => store.setRunMeta("nope", {}), isStoreError("NO_SUCH_RUN"));
  });

  it("deleteRun removes the run, its tags and its events, and only those", () => {
    store.createRun({ runId: "r", jobName: "j", tags: { k: "v" } });
    store.createRun({ runId: "s", jobName: "j", tags: { k: "v" } });
    store.appendEvents([ev("r", "RUN_START"), ev("s", "RUN_START"), ev("r", "STEP_START")]);
    assert.equal(store.deleteRun("r"), true);
    assert.equal(store.deleteRun("r"), false);
    assert.equal(store.getRun("r"), undefined);
    assert.equal(store.getEvents("r").length, 0);
    assert.deepEqual(store.getRunRecords({ tags: { k: "v" } }).map((r) => r.runId), ["s"]);
    assert.equal(store.getEvents("s").length, 1);
    // Ids are never reused after a delete, so event cursors stay valid.
    assert.equal(store.appendEvent(ev("s", "STEP_START")).id, 4);
  });
});

describe("RunsFilter", () => {
  beforeEach(() => {
    // storage order r0..r5; create times 100..600
    const spec: [string, string, Record<string, string>, EventType | null][] = [
      ["r0", "etl", { team: "a", env: "prod" }, "RUN_SUCCESS"],
      ["r1", "etl", { team: "b", env: "prod" }, "RUN_FAILURE"],
      ["r2", "report", { team: "a", env: "dev" }, "RUN_START"],
      ["r3", "report", { team: "c" }, null],
      ["r4", "etl", { team: "a", env: "dev" }, "RUN_ENQUEUED"],
      ["r5", "report", {}, "RUN_SUCCESS"],
    ];
    spec.forEach(([runId, jobName, tags, event], i) => {
      store.createRun({ runId, jobName, tags, createTime: (i + 1) * 100 });
      if (event) store.appendEvent(ev(runId, event));
    });
  });
  const ids = (filter: Parameters<Store["getRunRecords"]>[0], opts?: Parameters<Store["getRunRecords"]>[1]) =>
    store.getRunRecords(filter, opts).map((r) => r.runId);

  it("no filter: all runs, newest first", () => {
    assert.deepEqual(ids({}), ["r5", "r4", "r3", "r2", "r1", "r0"]);
    assert.deepEqual(ids(undefined, { ascending: true }), ["r0", "r1", "r2", "r3", "r4", "r5"]);
    assert.equal(store.countRuns({}), 6);
  });

  it("each field on its own", () => {
    assert.deepEqual(ids({ runIds: ["r1", "r3", "missing"] }), ["r3", "r1"]);
    assert.deepEqual(ids({ jobName: "report" }), ["r5", "r3", "r2"]);
    assert.deepEqual(ids({ statuses: ["SUCCESS"] }), ["r5", "r0"]);
    assert.deepEqual(ids({ statuses: ["NOT_STARTED", "QUEUED"] }), ["r4", "r3"]);
    assert.deepEqual(ids({ tags: { team: "a" } }), ["r4", "r2", "r0"]);
    assert.deepEqual(ids({ createdAfter: 400 }), ["r5", "r4"]);
    assert.deepEqual(ids({ createdBefore: 300 }), ["r1", "r0"]);
    assert.deepEqual(ids({ createdAfter: 100, createdBefore: 400 }), ["r2", "r1"]);
  });

  it("updatedAfter / updatedBefore follow the last change", () => {
    const cut = store.getRun("r3")!.updateTime; // r3 never had an event: updateTime = createTime
    assert.equal(cut, 400);
    assert.deepEqual(ids({ updatedBefore: 401 }), ["r3"]);
    assert.ok(!ids({ updatedAfter: 400 }).includes("r3"));
    store.appendEvent(ev("r3", "STEP_START"));
    assert.ok(ids({ updatedAfter: 400 }).includes("r3"));
    assert.deepEqual(ids({ updatedBefore: 401 }), []);
  });

  it("a tag may list several values (any of); several tags must all match", () => {
    assert.deepEqual(ids({ tags: { team: ["b", "c"] } }), ["r3", "r1"]);
    assert.deepEqual(ids({ tags: { team: "a", env: "dev" } }), ["r4", "r2"]);
    assert.deepEqual(ids({ tags: { team: ["a", "b"], env: "prod" } }), ["r1", "r0"]);
    assert.deepEqual(ids({ tags: { team: [] } }), []);
    assert.deepEqual(ids({ tags: { nope: "a" } }), []);
  });

  it("fields combine with AND", () => {
    assert.deepEqual(ids({ jobName: "etl", tags: { team: "a" } }), ["r4", "r0"]);
    assert.deepEqual(ids({ jobName: "etl", statuses: ["SUCCESS", "FAILURE"], tags: { env: "prod" }, createdAfter: 150 }), ["r1"]);
    assert.deepEqual(ids({ runIds: ["r0", "r2"], jobName: "report" }), ["r2"]);
    assert.equal(store.countRuns({ jobName: "etl", tags: { team: "a" } }), 2);
  });

  it("an empty runIds list is an error, not 'match nothing'", () => {
    assert.throws(() => store.getRunRecords({ runIds: [] }), isStoreError("INVALID_ARGUMENT"));
    assert.throws(() => store.countRuns({ runIds: [] }), isStoreError("INVALID_ARGUMENT"));
  });

  it("an empty statuses list does not filter (as in Dagster)", () => {
    assert.equal(store.countRuns({ statuses: [] }), 6);
  });

  it("limit and storage-id cursor page through in both directions", () => {
    const page1 = store.getRunRecords({}, { limit: 2 });
    assert.deepEqual(page1.map((r) => r.runId), ["r5", "r4"]);
    assert.deepEqual(ids({}, { limit: 2, cursor: page1[1].storageId }), ["r3", "r2"]);
    const r1 = store.getRun("r1")!;
    assert.deepEqual(ids({ jobName: "etl" }, { ascending: true, cursor: r1.storageId }), ["r4"]);
  });
});

describe("events", () => {
  beforeEach(() => {
    store.createRun({ runId: "a", jobName: "j" });
    store.createRun({ runId: "b", jobName: "j" });
    store.appendEvents([
      ev("a", "RUN_START"), // 1
      ev("a", "STEP_START", { stepKey: "x" }), // 2
      ev("b", "RUN_START"), // 3
      ev("a", "STEP_OUTPUT", { stepKey: "x", data: { outputName: "result" } }), // 4
      ev("a", "STEP_START", { stepKey: "y" }), // 5
      ev("b", "STEP_START", { stepKey: "x" }), // 6
      ev("a", "STEP_SUCCESS", { stepKey: "x" }), // 7
    ]);
  });
  const idsOf = (events: { id: number }[]) => events.map((e) => e.id);

  it("assigns increasing ids and returns what it stored", () => {
    const stored = store.appendEvent({ runId: "a", type: "LOG_MESSAGE", stepKey: "y", timestamp: 2.5, level: "INFO", message: "hi", data: { n: [1, 2] } });
    assert.deepEqual(stored, { id: 8, runId: "a", type: "LOG_MESSAGE", stepKey: "y", timestamp: 2.5, level: "INFO", message: "hi", data: { n: [1, 2] } });
    assert.deepEqual(store.getEvents("a", { afterId: 7 }), [stored]);
    assert.equal(store.latestEventId(), 8);
  });

  it("getEvents: a run's events in id order, with cursor, limit, type and step filters", () => {
    assert.deepEqual(idsOf(store.getEvents("a")), [1, 2, 4, 5, 7]);
    assert.deepEqual(idsOf(store.getEvents("a", { afterId: 2 })), [4, 5, 7]);
    assert.deepEqual(idsOf(store.getEvents("a", { afterId: 2, limit: 2 })), [4, 5]);
    assert.deepEqual(idsOf(store.getEvents("a", { types: ["STEP_START"] })), [2, 5]);
    assert.deepEqual(idsOf(store.getEvents("a", { types: ["STEP_START", "STEP_SUCCESS"] })), [2, 5, 7]);
    assert.deepEqual(idsOf(store.getEvents("a", { stepKey: "x" })), [2, 4, 7]);
    assert.deepEqual(idsOf(store.getEvents("a", { stepKey: "x", types: ["STEP_START"], afterId: 1 })), [2]);
    assert.deepEqual(store.getEvents("missing"), []);
  });

  it("getEventsAfter: across runs, for daemons", () => {
    assert.deepEqual(idsOf(store.getEventsAfter(0, 3)), [1, 2, 3]);
    assert.deepEqual(idsOf(store.getEventsAfter(3, 100)), [4, 5, 6, 7]);
    assert.deepEqual(idsOf(store.getEventsAfter(0, 100, ["RUN_START"])), [1, 3]);
    assert.deepEqual(store.getEventsAfter(7, 100), []);
  });

  it("rejects invalid events before storing any of a batch", () => {
    const bad = { ...ev("a", "STEP_START"), type: "NOT_A_TYPE" } as unknown as SluiceEvent;
    assert.throws(() => store.appendEvents([ev("a", "STEP_START"), bad]), isStoreError("INVALID_ARGUMENT"));
    assert.throws(() => store.appendEvent({ ...ev("a", "STEP_START"), timestamp: NaN }), isStoreError("INVALID_ARGUMENT"));
    assert.equal(store.latestEventId(), 7);
  });

  it("latestMaterializations: the newest materialization per asset key", () => {
    const mat = (runId: string, assetKey: string) => ev(runId, "ASSET_MATERIALIZATION", { stepKey: assetKey, data: { assetKey } });
    const [o1] = store.appendEvents([mat("a", "orders")]);
    const [s1, o2] = store.appendEvents([mat("a", "summary"), mat("b", "orders")]);
    store.appendEvent(ev("b", "ASSET_MATERIALIZATION_PLANNED", { data: { assetKey: "summary" } })); // not a materialization
    store.appendEvent(ev("b", "ASSET_OBSERVATION", { data: { assetKey: "orders" } }));
    const all = store.latestMaterializations();
    assert.deepEqual([...all.keys()].sort(), ["orders", "summary"]);
    assert.equal(all.get("orders")!.id, o2.id);
    assert.equal(all.get("orders")!.runId, "b");
    assert.equal(all.get("summary")!.id, s1.id);
    assert.ok(o1.id < o2.id);
    const some = store.latestMaterializations(["summary", "unknown"]);
    assert.deepEqual([...some.keys()], ["summary"]);
    assert.equal(store.latestMaterializations([]).size, 0);
  });

  it("latestStepOutput: newest output of that step and output name, in any run of that job", () => {
    store.createRun({ runId: "c", jobName: "j" });
    store.createRun({ runId: "other", jobName: "other_job" });
    const out = (runId: string, stepKey: string, outputName: string) => ev(runId, "STEP_OUTPUT", { stepKey, data: { outputName } });
    const [c1] = store.appendEvents([out("c", "x", "result"), out("c", "x", "evens")]);
    store.appendEvents([out("other", "x", "result"), ev("c", "HANDLED_OUTPUT", { stepKey: "x", data: { outputName: "result" } })]);
    assert.deepEqual(store.latestStepOutput("j", "x", "result"), { runId: "c", eventId: c1.id });
    assert.deepEqual(store.latestStepOutput("j", "y", "result"), undefined);
    assert.deepEqual(store.latestStepOutput("other_job", "x", "result")?.runId, "other");
    assert.deepEqual(store.latestStepOutput("j", "x", "odds"), undefined);
    // The earlier run "a" has x/result too (event 4); deleting "c" falls back to it.
    store.deleteRun("c");
    assert.deepEqual(store.latestStepOutput("j", "x", "result"), { runId: "a", eventId: 4 });
  });
});

describe("write: the one way to change the database", () => {
  beforeEach(() => {
    store.write("make table", (db) => db.run("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v)"));
  });

  it("applies statements and reports changed rows", () => {
    const changed = store.write("put", (db) => {
      db.run("INSERT INTO kv VALUES (?, ?)", ["a", 1]);
      return db.run("UPDATE kv SET v = v + 1 WHERE k = ?", ["a"]);
    });
    assert.equal(changed, 1);
    assert.deepEqual(store.all("SELECT k, v FROM kv"), [{ k: "a", v: 2 }]);
    assert.deepEqual(store.get("SELECT v FROM kv WHERE k = ?", ["a"]), { v: 2 });
  });

  it("undoes everything a failing change did, and keeps earlier changes", () => {
    store.write("first", (db) => db.run("INSERT INTO kv VALUES ('kept', 1)"));
    store.createRun({ runId: "r", jobName: "j" });
    assert.throws(
      () =>
        store.write("fails", (db) => {
          db.run("INSERT INTO kv VALUES ('undone', 1)");
          db.run("UPDATE kv SET v = 99 WHERE k = 'kept'");
          throw new Error("boom");
        }),
      /boom/,
    );
    // A statement that fails half way through a change: the earlier statement is undone too.
    assert.throws(() =>
      store.write("fails in SQL", (db) => {
        db.run("INSERT INTO kv VALUES ('undone too', 1)");
        db.run("INSERT INTO kv VALUES ('kept', 2)"); // primary key violation
      }),
    );
    assert.deepEqual(store.all("SELECT k, v FROM kv ORDER BY k"), [{ k: "kept", v: 1 }]);
    assert.equal(store.getRun("r")?.status, "NOT_STARTED");
    // Event ids continue where they were.
    assert.equal(store.appendEvent(ev("r", "RUN_START")).id, 1);
  });

  it("rejects asynchronous changes and values JSON cannot carry", async () => {
    assert.throws(() => store.write("async", async (db) => db.run("INSERT INTO kv VALUES ('x', 1)")), /synchronous/);
    assert.deepEqual(store.all("SELECT k FROM kv"), []);
    assert.throws(() => store.write("nan", (db) => db.run("INSERT INTO kv VALUES ('x', ?)", [NaN])), /non-finite/);
    store.write("blob", (db) => db.run("INSERT INTO kv VALUES ('b', ?)", [new Uint8Array([1, 2, 3])]));
    assert.deepEqual(store.get<{ v: Uint8Array }>("SELECT v FROM kv WHERE k = 'b'")!.v, new Uint8Array([1, 2, 3]));
  });

  it("nested writes join the enclosing one", () => {
    store.write("outer", () => {
      store.write("inner", (db) => db.run("INSERT INTO kv VALUES ('i', 1)"));
    });
    assert.equal(store.all("SELECT * FROM kv").length, 1);
  });

  it("flushing from inside a change is refused (it would commit half of it)", () => {
    assert.throws(() => store.write("x", (db) => {
      db.run("INSERT INTO kv VALUES ('x', 1)");
      store.flush();
    }), isStoreError("INVALID_ARGUMENT"));
    assert.deepEqual(store.all("SELECT k FROM kv"), []);
  });

  it("a closed store refuses everything", () => {
    store.close();
    store.close(); // twice is fine
    assert.throws(() => store.getRun("r"), isStoreError("CLOSED"));
    assert.throws(() => store.appendEvent(ev("r", "RUN_START")), isStoreError("CLOSED"));
  });
});

describe("migrations", () => {
  async function freshConnection(): Promise<SqlConnection> {
    const SQL = await loadSqlJs();
    return new SqlConnection(new SQL.Database());
  }

  it("apply in order once, recording the version", async () => {
    const db = await freshConnection();
    const extra: Migration[] = [
      ...MIGRATIONS,
      { version: MIGRATIONS.length + 1, name: "pools", up: "CREATE TABLE pools (name TEXT PRIMARY KEY, lim INTEGER)" },
      {
        version: MIGRATIONS.length + 2,
        name: "default pool",
        up: (conn) => conn.run("INSERT INTO pools VALUES (?, ?)", ["default", 1]),
      },
    ];
    assert.equal(migrate(db, MIGRATIONS), MIGRATIONS.length);
    assert.equal(migrate(db, extra), 2);
    assert.equal(migrate(db, extra), 0);
    assert.equal(schemaVersion(db), MIGRATIONS.length + 2);
    assert.deepEqual(db.all("SELECT * FROM pools"), [{ name: "default", lim: 1 }]);
  });

  it("a failing migration changes nothing and says which one failed", async () => {
    const db = await freshConnection();
    const broken: Migration[] = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: "bad", up: "CREATE TABLE t (a); CREATE TABLE t (a);" }];
    assert.throws(() => migrate(db, broken), (err: unknown) => err instanceof StoreError && err.code === "MIGRATION_FAILED" && /bad/.test(err.message));
    assert.equal(schemaVersion(db), MIGRATIONS.length);
    assert.equal(db.all("SELECT name FROM sqlite_master WHERE name = 't'").length, 0);
  });

  it("refuses a database newer than the code, and misnumbered migrations", async () => {
    const db = await freshConnection();
    migrate(db);
    db.run("INSERT INTO schema_version VALUES (?, 'future')", [MIGRATIONS.length + 5]);
    assert.throws(() => migrate(db), isStoreError("SCHEMA_TOO_NEW"));
    assert.throws(() => migrate(db, [{ version: 2, name: "skips 1", up: "" }]), /expected 1/);
  });
});
