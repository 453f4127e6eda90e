// Durability of the store on real files: snapshot + journal replay, torn and damaged journals,
// read-only opens, and real crashes (SIGKILL of a child process that is writing).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import type { EventType, SluiceEvent } from "../../src/engine/events";
import { StoreError } from "../../src/engine/storage/errors";
import { listJournalFiles } from "../../src/engine/storage/journal";
import { loadSqlJs } from "../../src/engine/storage/sqljs";
import { Store } from "../../src/engine/storage/store";

const REPO = path.resolve(__dirname, "../..");
const WRITER = path.join(__dirname, "storage-fixtures", "writer.ts");

const homes: string[] = [];
after(() => {
  for (const home of homes) fs.rmSync(home, { recursive: true, force: true });
});

function tempHome(): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-storage-test-"));
  homes.push(home);
  return home;
}

/** What a crash right now would leave on disk: a copy of the home as it is. */
function crashImage(home: string): string {
  const image = tempHome();
  fs.cpSync(home, image, { recursive: true });
  return image;
}

const dbDir = (home: string) => path.join(home, "db");

function ev(runId: string, type: EventType, extra: Partial<SluiceEvent> = {}): SluiceEvent {
  return { runId, type, timestamp: 1_000, level: "DEBUG", message: type, ...extra };
}

/** Every row of every table (store_meta aside: it is the snapshot's own bookkeeping). */
function dump(store: Store): Record<string, unknown[]> {
  const tables = store.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'store_meta' ORDER BY name");
  return Object.fromEntries(tables.map(({ name }) => [name, store.all(`SELECT * FROM "${name}" ORDER BY rowid`)]));
}

function isStoreError(code: string) {
  return (err: unknown) => err instanceof StoreError && err.code === code;
}

/** A varied history: runs, events of every kind of consequence, tags, meta, deletes, a table of another module. */
function writeHistory(store: Store, runs: number): void {
  store.write("test module table", (db) => db.run("CREATE TABLE IF NOT EXISTS module_kv (k TEXT PRIMARY KEY, v)"));
  for (let r = 0; r < runs; r++) {
    const runId = `run-${r}`;
    store.createRun({ runId, jobName: `job_${r % 3}`, tags: { team: `t${r % 2}` }, runConfig: { r } });
    store.appendEvent(ev(runId, "RUN_ENQUEUED"));
    store.appendEvents([
      ev(runId, "RUN_START", { timestamp: 2_000 + r }),
      ev(runId, "STEP_OUTPUT", { stepKey: "x", data: { outputName: "result" } }),
      ev(runId, "ASSET_MATERIALIZATION", { stepKey: "x", data: { assetKey: `asset_${r % 4}` } }),
    ]);
    store.setRunMeta(runId, { workerPid: 1000 + r });
    if (r % 5 === 4) store.appendEvent(ev(runId, "RUN_FAILURE", { timestamp: 3_000 + r, data: { failureReason: "STEP_FAILURE" } }));
    else store.appendEvent(ev(runId, "RUN_SUCCESS", { timestamp: 3_000 + r }));
    if (r % 7 === 6) store.addRunTags(runId, { reviewed: "yes" });
    if (r % 11 === 10) store.deleteRun(`run-${r - 3}`);
    store.write("module put", (db) => db.run("INSERT OR REPLACE INTO module_kv VALUES (?, ?)", [`k${r % 5}`, r]));
  }
}

describe("snapshot + journal", () => {
  it("replaying the journal onto the snapshot reproduces the database exactly", async () => {
    const home = tempHome();
    // Flushing after every write lets the snapshot threshold trigger mid-history.
    const store = await Store.open({ home, snapshotEveryRecords: 60, flushIntervalMs: 0 });
    writeHistory(store, 40);
    store.flush();
    const expected = dump(store);
    assert.ok(expected.events.length > 100 && expected.runs.length === 37);

    const image = crashImage(home);
    const replayed = await Store.open({ home: image, readOnly: true });
    // Both halves were exercised: a snapshot taken mid-way and journal records after it.
    assert.ok(replayed.openReport.snapshotSeq > 0, "a snapshot was taken during the history");
    assert.ok(replayed.openReport.replayedRecords > 0, "records after the snapshot were replayed");
    assert.equal(replayed.openReport.corruption, undefined);
    assert.deepEqual(dump(replayed), expected);
    replayed.close();

    store.close();
    const reopened = await Store.open({ home });
    assert.equal(reopened.openReport.replayedRecords, 0, "close() leaves everything in the snapshot");
    assert.deepEqual(dump(reopened), expected);
    assert.deepEqual(
      fs.readdirSync(dbDir(home)).sort(),
      ["journal-" + String(reopened.openReport.lastSeq + 1).padStart(12, "0") + ".ndjson", "sluice.sqlite"],
    );
    reopened.close();
  });

  it("changes reach the journal file within flushIntervalMs without any further call", async () => {
    const home = tempHome();
    const store = await Store.open({ home, flushIntervalMs: 20 });
    store.createRun({ runId: "r", jobName: "j" });
    store.appendEvent(ev("r", "RUN_START"));
    const immediately = crashImage(home);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const later = crashImage(home);
    store.close();
    const early = await Store.open({ home: immediately, readOnly: true });
    assert.equal(early.getRun("r"), undefined, "not written synchronously (that would be one write per change)");
    early.close();
    const late = await Store.open({ home: later, readOnly: true });
    assert.equal(late.getRun("r")?.status, "STARTED");
    late.close();
  });

  it("a writer opening after a crash folds the journal into a new snapshot and keeps going", async () => {
    const home = tempHome();
    const store = await Store.open({ home });
    writeHistory(store, 10);
    store.flush();
    const image = crashImage(home);
    const expected = dump(store);
    store.close();

    const recovered = await Store.open({ home: image });
    assert.ok(recovered.openReport.replayedRecords > 0);
    assert.deepEqual(dump(recovered), expected);
    assert.equal(listJournalFiles(dbDir(image)).length, 1);
    const next = recovered.appendEvent(ev("run-0", "ENGINE_EVENT"));
    assert.equal(next.id, Math.max(...(expected.events as { id: number }[]).map((e) => e.id)) + 1);
    recovered.close();
    const again = await Store.open({ home: image, readOnly: true });
    assert.equal(again.getEvents("run-0").at(-1)?.id, next.id);
    again.close();
  });

  it("a torn last record is ignored on open, and discarded by the next writer", async () => {
    const home = tempHome();
    const store = await Store.open({ home });
    store.createRun({ runId: "r", jobName: "j" });
    for (let i = 0; i < 10; i++) store.appendEvent(ev("r", "LOG_MESSAGE", { message: `m${i}` }));
    store.flush();
    const image = crashImage(home);
    store.close();

    const [journal] = listJournalFiles(dbDir(image));
    const torn = '{"seq":9999,"label":"appendEvents","ops":[[3,["half a rec';
    fs.appendFileSync(journal, torn);

    const reader = await Store.open({ home: image, readOnly: true });
    assert.equal(reader.getEvents("r").length, 10);
    assert.deepEqual(reader.openReport.tornTails, [{ file: journal, bytes: torn.length }]);
    assert.equal(reader.openReport.corruption, undefined);
    reader.close();

    const writer = await Store.open({ home: image });
    assert.equal(writer.getEvents("r").length, 10);
    assert.ok(!fs.existsSync(journal), "the journal with the torn record is gone");
    writer.appendEvent(ev("r", "LOG_MESSAGE", { message: "after" }));
    writer.flush();
    const image2 = crashImage(image);
    writer.close();
    const check = await Store.open({ home: image2, readOnly: true });
    assert.deepEqual(check.openReport.tornTails, []);
    assert.deepEqual(
      check.getEvents("r").map((e) => e.message),
      [...Array.from({ length: 10 }, (_, i) => `m${i}`), "after"],
    );
    check.close();
  });

  it("an unparsable but complete last line counts as torn too", async () => {
    const home = tempHome();
    const store = await Store.open({ home });
    store.createRun({ runId: "r", jobName: "j" });
    store.flush();
    const image = crashImage(home);
    store.close();
    fs.appendFileSync(listJournalFiles(dbDir(image))[0], "\0\0\0garbage\n");
    const reader = await Store.open({ home: image, readOnly: true });
    assert.equal(reader.openReport.tornTails.length, 1);
    assert.equal(reader.openReport.corruption, undefined);
    assert.ok(reader.getRun("r"));
    reader.close();
  });

  it("a damaged record in the middle is reported; everything before it is kept, the journal moved aside", async () => {
    const home = tempHome();
    const store = await Store.open({ home });
    store.createRun({ runId: "r", jobName: "j" });
    for (let i = 0; i < 10; i++) store.appendEvent(ev("r", "LOG_MESSAGE", { message: `m${i}` }));
    store.flush();
    const image = crashImage(home);
    store.close();

    const [journal] = listJournalFiles(dbDir(image));
    const lines = fs.readFileSync(journal, "utf8").split("\n");
    const sixthEvent = lines.findIndex((l) => l.includes('"m5"'));
    lines[sixthEvent] = lines[sixthEvent].slice(0, 40); // torn in the middle of the file
    fs.writeFileSync(journal, lines.join("\n"));

    const logged: string[] = [];
    const writer = await Store.open({ home: image, log: (m) => logged.push(m) });
    const corruption = writer.openReport.corruption;
    assert.equal(corruption?.kind, "unreadable");
    assert.equal(corruption?.file, journal);
    assert.equal(corruption?.line, sixthEvent + 1);
    assert.deepEqual(writer.getEvents("r").map((e) => e.message), ["m0", "m1", "m2", "m3", "m4"]);
    assert.equal(corruption?.quarantined.length, 1);
    assert.ok(fs.existsSync(corruption!.quarantined[0]), "the damaged journal is kept as evidence");
    assert.equal(logged.length, 1);
    assert.match(logged[0], /damaged/);
    assert.ok(logged[0].includes(journal));
    writer.close();

    const reopened = await Store.open({ home: image });
    assert.equal(reopened.openReport.corruption, undefined);
    assert.equal(reopened.getEvents("r").length, 5);
    reopened.close();
  });

  it("missing records (a gap in seq) are reported, not papered over", async () => {
    const home = tempHome();
    const store = await Store.open({ home, snapshotEveryRecords: 1_000_000 });
    store.createRun({ runId: "r", jobName: "j" });
    for (let i = 0; i < 6; i++) store.appendEvent(ev("r", "LOG_MESSAGE", { message: `m${i}` }));
    store.flush();
    const image = crashImage(home);
    store.close();
    const [journal] = listJournalFiles(dbDir(image));
    const lines = fs.readFileSync(journal, "utf8").split("\n");
    fs.writeFileSync(journal, lines.filter((l) => !l.includes('"m3"')).join("\n"));

    const reader = await Store.open({ home: image, readOnly: true, log: () => {} });
    assert.equal(reader.openReport.corruption?.kind, "gap");
    assert.deepEqual(reader.getEvents("r").map((e) => e.message), ["m0", "m1", "m2"]);
    reader.close();
  });

  it("a crash between the snapshot rename and deleting the old journal is harmless", async () => {
    const home = tempHome();
    const store = await Store.open({ home });
    writeHistory(store, 8);
    store.flush();
    const [oldJournal] = listJournalFiles(dbDir(home));
    const oldJournalCopy = fs.readFileSync(oldJournal);
    const expected = dump(store);
    store.close(); // snapshot, new journal, old journal deleted
    fs.writeFileSync(oldJournal, oldJournalCopy); // ... as if the crash came before the delete

    const reopened = await Store.open({ home });
    assert.equal(reopened.openReport.replayedRecords, 0, "records already in the snapshot are skipped");
    assert.deepEqual(dump(reopened), expected);
    assert.ok(!fs.existsSync(oldJournal));
    reopened.close();
  });

  it("a half-written snapshot temp file is ignored and removed", async () => {
    const home = tempHome();
    const store = await Store.open({ home });
    store.createRun({ runId: "r", jobName: "j" });
    store.close();
    const tmp = path.join(dbDir(home), "sluice.sqlite.tmp");
    fs.writeFileSync(tmp, "SQLite format 3\0 but cut short");
    const reader = await Store.open({ home, readOnly: true });
    assert.ok(reader.getRun("r"));
    reader.close();
    const writer = await Store.open({ home });
    assert.ok(writer.getRun("r"));
    assert.ok(!fs.existsSync(tmp));
    writer.close();
  });

  it("names the file when the snapshot is not a database", async () => {
    const home = tempHome();
    fs.mkdirSync(dbDir(home), { recursive: true });
    fs.writeFileSync(path.join(dbDir(home), "sluice.sqlite"), "this is not SQLite".repeat(100));
    await assert.rejects(Store.open({ home }), (err: unknown) => isStoreError("UNREADABLE")(err) && String(err).includes(dbDir(home)));
  });

  it("refuses a database written by a newer Sluice", async () => {
    const home = tempHome();
    (await Store.open({ home })).close();
    const file = path.join(dbDir(home), "sluice.sqlite");
    const SQL = await loadSqlJs();
    const db = new SQL.Database(fs.readFileSync(file));
    db.run("INSERT INTO schema_version VALUES (999, 'from the future')");
    fs.writeFileSync(file, db.export());
    db.close();
    await assert.rejects(Store.open({ home }), isStoreError("SCHEMA_TOO_NEW"));
    await assert.rejects(Store.open({ home, readOnly: true }), isStoreError("SCHEMA_TOO_NEW"));
  });
});

describe("read-only opens", () => {
  function listing(dir: string): string[] {
    return fs.readdirSync(dir).map((name) => {
      const st = fs.statSync(path.join(dir, name));
      return `${name} ${st.size} ${st.mtimeMs}`;
    });
  }

  it("see snapshot + journal, write nothing, and refuse changes", async () => {
    const home = tempHome();
    const writer = await Store.open({ home });
    writeHistory(writer, 6);
    writer.flush();
    const before = listing(dbDir(home));

    const reader = await Store.open({ home, readOnly: true });
    assert.equal(reader.isReadOnly, true);
    assert.deepEqual(dump(reader), dump(writer));
    assert.equal(reader.getRunRecords({ statuses: ["SUCCESS"] }).length, writer.getRunRecords({ statuses: ["SUCCESS"] }).length);
    assert.throws(() => reader.createRun({ runId: "x", jobName: "j" }), isStoreError("READ_ONLY"));
    assert.throws(() => reader.appendEvent(ev("run-0", "ENGINE_EVENT")), isStoreError("READ_ONLY"));
    assert.throws(() => reader.write("x", () => 1), isStoreError("READ_ONLY"));
    assert.throws(() => reader.snapshot(), isStoreError("READ_ONLY"));
    reader.flush(); // nothing to do, no error
    reader.close();
    assert.deepEqual(listing(dbDir(home)), before);
    writer.close();
  });

  it("of a home that does not exist yet give an empty store and create nothing", async () => {
    const home = path.join(tempHome(), "never-created");
    const reader = await Store.open({ home, readOnly: true });
    assert.deepEqual(reader.getRunRecords(), []);
    reader.close();
    assert.ok(!fs.existsSync(home));
  });
});

// ---------------------------------------------------------------------------------------------
// Real crashes

interface Progress {
  n?: number;
  t?: number;
  phase?: string;
}

/** Starts the writer fixture; resolves once `done(lines)` holds, then SIGKILLs it. */
function runWriterUntil(home: string, mode: string, done: (lines: Progress[]) => boolean): Promise<{ lines: Progress[]; killedAt: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", WRITER, home, mode], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  const lines: Progress[] = [];
  let stderr = "";
  let buffered = "";
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`writer (${mode}) did not reach the kill point in time; stderr: ${stderr}`));
    }, 15_000);
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      for (const part of parts) lines.push(JSON.parse(part) as Progress);
      if (done(lines) && child.exitCode === null && !child.killed) {
        const killedAt = Date.now();
        child.kill("SIGKILL");
        clearTimeout(timeout);
        child.once("exit", () => resolve({ lines, killedAt }));
      }
    });
    child.on("exit", (code, signal) => {
      if (signal !== "SIGKILL") {
        clearTimeout(timeout);
        reject(new Error(`writer (${mode}) exited by itself (${code}); stderr: ${stderr}`));
      }
    });
  });
}

/** The `n` of every LOG_MESSAGE the fixture wrote that survived, checking they have no holes. */
function survivingCount(store: Store): number {
  const ns = store.getEvents("run-1", { types: ["LOG_MESSAGE"] }).map((e) => e.data!.n as number);
  ns.forEach((n, i) => assert.equal(n, i, "the surviving events are a prefix, without holes"));
  return ns.length;
}

// One at a time: the 200 ms bound assumes the writer gets the CPU it asks for.
describe("crashes (SIGKILL) while writing", () => {
  for (const mode of ["loop-sync", "loop-async"]) {
    it(`${mode}: everything appended more than 200 ms before the kill survives`, async () => {
      const home = tempHome();
      const { lines, killedAt } = await runWriterUntil(home, mode, (ls) => ls.length > 0 && ls.at(-1)!.t! - ls[0].t! >= 700);
      const mustSurvive = Math.max(0, ...lines.filter((l) => l.t! <= killedAt - 200).map((l) => l.n!));
      assert.ok(mustSurvive > 100, `the writer made progress before the kill (${mustSurvive} events)`);

      const reader = await Store.open({ home, readOnly: true });
      assert.equal(reader.openReport.corruption, undefined);
      const survived = survivingCount(reader);
      assert.ok(survived >= mustSurvive, `${survived} events survived, expected at least ${mustSurvive}`);
      reader.close();

      const writer = await Store.open({ home });
      assert.equal(survivingCount(writer), survived);
      assert.equal(writer.getRun("run-1")?.status, "STARTED");
      writer.close();
    });
  }

});

// Not timing-sensitive, so these children may run side by side.
describe("crashes during snapshots, and exits without close()", { concurrency: true }, () => {
  for (const phase of ["before-rename", "after-rename"]) {
    it(`a kill during a snapshot (${phase}) loses nothing`, async () => {
      const home = tempHome();
      const { lines } = await runWriterUntil(home, `crash-${phase}`, (ls) => ls.some((l) => l.phase === phase));
      const reported = Math.max(0, ...lines.map((l) => l.n ?? 0));
      // The snapshot starts inside an appendEvent, after that event was journaled.
      const files = fs.readdirSync(dbDir(home));
      if (phase === "before-rename") assert.ok(files.includes("sluice.sqlite.tmp"), "the kill landed inside the snapshot");

      const writer = await Store.open({ home });
      assert.equal(writer.openReport.corruption, undefined);
      const survived = survivingCount(writer);
      assert.ok(survived >= reported && survived <= reported + 25, `${survived} survived; ${reported} were reported appended`);
      writer.close();
      assert.deepEqual(fs.readdirSync(dbDir(home)).filter((f) => f.endsWith(".tmp")), []);
    });
  }

  it("a process that ends without close() still saves its last changes, and is not kept alive by the store", async () => {
    const home = tempHome();
    const child = spawn(process.execPath, ["--import", "tsx", WRITER, home, "exit-without-close"], { cwd: REPO, stdio: "pipe" });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error("the writer did not exit on its own")), 15_000);
      child.on("exit", (c) => {
        clearTimeout(timeout);
        resolve(c);
      });
    });
    assert.equal(code, 0);
    const reader = await Store.open({ home, readOnly: true });
    assert.equal(survivingCount(reader), 500);
    reader.close();
  });
});
