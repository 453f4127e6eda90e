// The engine-backed adapter logic against the stubbed `vscode` module, with a FakeEngine behind the
// SluiceEngine port (the real engine behind that port: workerEngine.test.ts, exthost/engine.suite.ts):
// run log documents (text, live updates, links to the job file), Run op selection (validation as
// you type with the engine's parser, launch), "Run with <file>" lenses, load-error notifications,
// the engine host's failure/restart and definitions hook, revealing a launched run, the schedules
// placeholder.
import * as vscode from "./helpers/vscodeStub";
import { closeVirtualDocument, extras, resetExtras, type VirtualDocument } from "./helpers/vscodeStubExtras";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import type { DefinitionsSnapshot, JobSnapshot } from "../../src/engine/definitions/snapshot";
import type { RunRecord, StoredEvent } from "../../src/engine/events";
import { lensSpecs } from "../../src/extension/codelens/definitionLenses";
import { registerCommands } from "../../src/extension/commands/register";
import { describeSelection } from "../../src/extension/commands/opSelection";
import { Commands } from "../../src/extension/constants";
import { EngineHost } from "../../src/extension/engine/engineHost";
import { LoadErrorNotifier } from "../../src/extension/engine/loadNotifications";
import { EMPTY_DEFINITIONS, type DefinitionsUpdate, type LaunchRequest, type RunLogChunk, type RunSummary, type SluiceEngine } from "../../src/extension/engine/port";
import { openRunLog, RUN_LOG_SCHEME, runIdOfLogUri, RunLogDocuments, runLogUri } from "../../src/extension/logs/runLogDocuments";
import { applyChunk, mapStack, newRunLogState, renderRunLog, sourceLinks } from "../../src/extension/logs/runLogModel";
import { groupDefinitions } from "../../src/extension/views/definitionsTree";
import { RunsView } from "../../src/extension/views/runsView";

// what vscodeStubExtras adds to the stub's namespaces
const stubWorkspace = vscode.workspace as unknown as Record<string, (...args: any[]) => any>;
const stubLanguages = vscode.languages as unknown as Record<string, (...args: any[]) => any>;

const WS = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-adapter-"));
const JOB_FILE = path.join(WS, "pipelines", "orders.ts");
fs.mkdirSync(path.dirname(JOB_FILE), { recursive: true });
fs.writeFileSync(JOB_FILE, "// job file\n");

const RUN: RunRecord = {
  runId: "7f3a0000-aaaa-bbbb-cccc-000000000001",
  jobName: "orders_job",
  status: "STARTED",
  tags: { team: "data" },
  runConfig: {},
  opSelection: null,
  stepKeysToExecute: null,
  assetSelection: null,
  parentRunId: null,
  rootRunId: null,
  storageId: 1,
  createTime: Date.UTC(2026, 0, 1, 12, 0, 0),
  updateTime: 0,
  startTime: Date.UTC(2026, 0, 1, 12, 0, 1),
  endTime: null,
  meta: {},
};
let nextId = 0;
const event = (type: StoredEvent["type"], stepKey: string | null, message: string, data?: Record<string, unknown>): StoredEvent => ({
  id: ++nextId,
  runId: RUN.runId,
  type,
  stepKey,
  timestamp: Date.UTC(2026, 0, 1, 12, 0, 2) + nextId,
  level: type.endsWith("FAILURE") ? "ERROR" : "INFO",
  message,
  data,
});
const STACK = `Error: no rows\n    at Object.load (${JOB_FILE}:12:11)\n    at runStep (/ext/dist/stepWorker.js:901:33)\n    at process.emit (node:events:524:28)\n    at new Promise (<anonymous>)`;
const out = (path = "", text = "", next = 0) => ({ path, text, next, skipped: 0 });

describe("run log model", () => {
  test("renders the header, the failure with its stack mapped to the job file, events and each step's output", () => {
    const state = newRunLogState(RUN.runId);
    assert.match(renderRunLog(state, WS), /^Loading run/);
    applyChunk(state, {
      run: RUN,
      events: [event("RUN_START", null, "Started."), event("LOG_MESSAGE", "load", "loading"), event("STEP_FAILURE", "load", 'Execution of step "load" failed: no rows', { error: { message: "no rows", stack: STACK } })],
      steps: [{ stepKey: "load", stdout: out("/l/load.out", "row 1\nrow 2\n", 12), stderr: out("/l/load.err", "warn\n", 5) }],
    });
    const text = renderRunLog(state, WS, RUN.startTime! + 3000);
    assert.match(text, /^Run 7f3a0000-aaaa-bbbb-cccc-000000000001 · orders_job · STARTED \(live\)/);
    assert.match(text, /running for 3s/);
    assert.match(text, /── Failure/);
    assert.match(text, /at Object\.load \(pipelines\/orders\.ts:12:11\)/);
    assert.match(text, /… 3 engine frames/);
    assert.doesNotMatch(text, /stepWorker\.js|node:events/);
    assert.match(text, /\d\d:\d\d:\d\d\.\d{3} {2}ERROR {3}STEP_FAILURE {9}load/);
    assert.match(text, /── stdout of step load[^\n]*\nrow 1\nrow 2\n/);
    assert.match(text, /── stderr of step load[^\n]*\nwarn/);
    assert.match(text, /… waiting for more events/);
    assert.equal(state.offsets["/l/load.out"], 12);
  });

  test("chunks add up: new events only, output appended; a finished run is no longer live", () => {
    const state = newRunLogState(RUN.runId);
    const first = event("RUN_START", null, "Started.");
    applyChunk(state, { run: RUN, events: [first], steps: [{ stepKey: "s", stdout: out("/o", "a", 1), stderr: out() }] });
    assert.equal(applyChunk(state, { run: RUN, events: [first], steps: [{ stepKey: "s", stdout: out("/o", "", 1), stderr: out() }] }), false, "nothing new");
    const done = { ...RUN, status: "SUCCESS" as const, endTime: RUN.startTime! + 2500 };
    assert.equal(applyChunk(state, { run: done, events: [event("RUN_SUCCESS", null, "Finished.")], steps: [{ stepKey: "s", stdout: out("/o", "b\n", 3), stderr: out() }] }), true);
    const text = renderRunLog(state, WS);
    assert.match(text, /SUCCESS\n/);
    assert.match(text, /took 2s/);
    assert.match(text, /\nab\n/);
    assert.doesNotMatch(text, /waiting for more events/);
  });

  test("source links: workspace files only (relative or absolute), not the engine or node_modules", () => {
    const exists = (f: string) => f === JOB_FILE;
    const links = sourceLinks("    at Object.load (pipelines/orders.ts:12:11) and /ext/dist/stepWorker.js:1:1", WS, exists);
    assert.deepEqual(links, [{ start: 20, end: 45, file: JOB_FILE, line: 12, column: 11 }]);
    assert.deepEqual(sourceLinks(`${JOB_FILE}:3:4`, WS, exists)[0]?.line, 3);
    assert.deepEqual(sourceLinks("node_modules/x/y.js:1:1", WS, () => true), []);
    assert.deepEqual(mapStack("Error: x\n    at f (node:internal/a:1:2)", WS), ["Error: x", "    … 1 engine frame"]);
  });
});

/** A fake engine behind the port with a scripted runLog. */
class FakeEngine implements SluiceEngine {
  runs: RunSummary[] = [];
  launched: LaunchRequest[] = [];
  chunks: RunLogChunk[] = [];
  runLogCalls: { runId: string; afterId: number }[] = [];
  snapshot: DefinitionsSnapshot | undefined;
  private readonly runsChanged = new vscode.EventEmitter<void>();
  private readonly defsChanged = new vscode.EventEmitter<void>();
  private readonly activity = new vscode.EventEmitter<string[]>();
  private readonly failed = new vscode.EventEmitter<string>();
  private readonly updates = new vscode.EventEmitter<DefinitionsUpdate>();
  onDidChangeRuns = this.runsChanged.event;
  onDidChangeDefinitions = this.defsChanged.event;
  onRunActivity = this.activity.event;
  onDidFail = this.failed.event;
  onDefinitions = this.updates.event;
  disposed = false;
  getRuns() {
    return this.runs;
  }
  getDefinitions() {
    return EMPTY_DEFINITIONS;
  }
  async launchRun(request: LaunchRequest) {
    this.launched.push(request);
    const runId = `run-${this.launched.length}`;
    this.runs = [...this.runs, { runId, jobName: request.kind === "job" ? request.jobName : "__ASSET_JOB", status: "QUEUED", createTime: 1, startTime: null, endTime: null }];
    setTimeout(() => this.runsChanged.fire(), 5);
    return { runId, status: "QUEUED" as const };
  }
  async cancelRun() {}
  async reexecuteRun() {
    return { runId: "x" };
  }
  async reload() {}
  async runLog(runId: string, afterId: number) {
    this.runLogCalls.push({ runId, afterId });
    return this.chunks.shift() ?? { run: RUN, events: [], steps: [] };
  }
  fireActivity(ids: string[]) {
    this.activity.fire(ids);
  }
  fail(message: string) {
    this.failed.fire(message);
  }
  pushDefinitions(u: DefinitionsUpdate) {
    this.updates.fire(u);
  }
  dispose() {
    this.disposed = true;
  }
}

const JOB: JobSnapshot = {
  name: "orders_job",
  kind: "job",
  tags: {},
  source: { file: JOB_FILE, line: 3, column: 14 },
  executor: { name: "multi_or_in_process", builtin: "multi_or_in_process" },
  opRetryPolicy: null,
  steps: [],
  nodes: [
    { name: "extract", upstream: [] },
    { name: "clean", upstream: ["extract"] },
    { name: "load", upstream: ["clean"] },
    { name: "report", upstream: ["load"] },
  ],
};
const SNAPSHOT: DefinitionsSnapshot = { workspace: WS, loadedAt: 1, files: [], jobs: [JOB], assets: [], errors: [] };

describe("with an engine behind EngineHost", () => {
  let engine: FakeEngine;
  let host: EngineHost;
  let disposables: { dispose(): unknown }[] = [];
  let logs: RunLogDocuments;

  beforeEach(async () => {
    vscode.reset([WS]);
    resetExtras();
    engine = new FakeEngine();
    engine.snapshot = SNAPSHOT;
    host = new EngineHost(async () => engine);
    logs = new RunLogDocuments(host, () => WS, (f) => f === JOB_FILE);
    disposables = [
      logs,
      stubWorkspace.registerTextDocumentContentProvider(RUN_LOG_SCHEME, logs),
      ...registerCommands({
        host,
        refreshViews: () => {},
        logs: { open: (runId) => openRunLog(runId, "orders_job", { openTextDocument: stubWorkspace.openTextDocument, setTextDocumentLanguage: stubLanguages.setTextDocumentLanguage, showTextDocument: vscode.window.showTextDocument } as never) },
      }),
    ];
    await host.start();
  });
  afterEach(async () => {
    disposables.forEach((d) => d.dispose());
    await host.dispose();
  });

  test("Open run logs: a sluice-run: document in the log language, updated as the engine reports activity", async () => {
    engine.chunks.push({ run: RUN, events: [event("RUN_START", null, "Started.")], steps: [] });
    assert.equal(await vscode.commands.executeCommand(Commands.openRunLogs, RUN.runId), RUN.runId);
    const doc = vscode.workspace.textDocuments.at(-1) as unknown as VirtualDocument;
    assert.equal(doc.uri.scheme, "sluice-run");
    assert.equal(runIdOfLogUri(doc.uri as never), RUN.runId);
    assert.equal(doc.languageId, "log");
    assert.match(doc.getText(), /RUN_START/);
    assert.equal(vscode.state.opened.length, 1);
    // the engine says the run's events grew: the provider reads after the last event and fires onDidChange
    engine.chunks.push({
      run: { ...RUN, status: "FAILURE", endTime: RUN.startTime! + 1000 },
      events: [event("STEP_FAILURE", "load", "failed: no rows", { error: { stack: STACK } }), event("RUN_FAILURE", null, "Run failed.")],
      steps: [],
    });
    const changed = new Promise<unknown>((r) => logs.onDidChange(r));
    engine.fireActivity([RUN.runId, "another-run"]);
    await changed;
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(engine.runLogCalls.at(-1)!.afterId, nextId - 2);
    assert.match(doc.getText(), /RUN_FAILURE/);
    // the stack frame in the job file is a link to its line
    const links = logs.provideDocumentLinks(doc as never);
    assert.ok(links.length >= 1);
    assert.equal(links[0].target!.fsPath, JOB_FILE);
    assert.equal(links[0].tooltip, `${JOB_FILE}:12:11`);
    // closed: forgotten, activity no longer reads it
    closeVirtualDocument(doc);
    logs.forget(doc as never);
    const calls = engine.runLogCalls.length;
    engine.fireActivity([RUN.runId]);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(engine.runLogCalls.length, calls);
  });

  test("runLogUri names the tab after the job and the short run id", () => {
    assert.equal(runLogUri(RUN.runId, "orders_job").path, `/${RUN.runId}/orders_job 7f3a0000.log`);
  });

  test("Run op selection…: the query is checked as you type (count and names), an invalid one is an error, Enter launches", async () => {
    extras.inputBoxScripts.push((box) => {
      assert.match(box.title!, /orders_job/);
      assert.match(String(box.prompt), /Empty: all 4 op\(s\)/);
      box.type("clean+");
      assert.equal(box.validationMessage, undefined);
      assert.match(String(box.prompt), /Selects 2 of 4 op\(s\): clean, load/);
      box.type("nope");
      const message = box.validationMessage as unknown as { severity: number; message: string };
      assert.equal(message.severity, 3); // InputBoxValidationSeverity.Error
      assert.match(message.message, /nope/);
      box.accept(); // refused: still open
      assert.equal(box.disposed, false);
      box.type("*load, report");
      box.accept();
    });
    assert.equal(await vscode.commands.executeCommand(Commands.runOpSelection, { jobName: "orders_job" }), "run-1");
    assert.deepEqual(engine.launched, [{ kind: "job", jobName: "orders_job", opSelection: ["*load", "report"] }]);
    // the next time, the last query is offered again; Escape launches nothing
    extras.inputBoxScripts.push((box) => {
      assert.equal(box.value, "*load, report");
      box.hide();
    });
    assert.equal(await vscode.commands.executeCommand(Commands.runOpSelection, { jobName: "orders_job" }), undefined);
    assert.equal(engine.launched.length, 1);
  });

  test("Run op selection… before the job is loaded says so", async () => {
    engine.snapshot = undefined;
    await vscode.commands.executeCommand(Commands.runOpSelection, { jobName: "orders_job" });
    assert.match(vscode.state.messages.at(-1)!.message, /not loaded yet/);
  });

  test("describeSelection: the engine's parser, pure", () => {
    assert.deepEqual(describeSelection(JOB, "").clauses, undefined);
    assert.deepEqual(describeSelection(JOB, "*clean").selected, ["extract", "clean"]);
    assert.equal(describeSelection(JOB, "+").ok, false);
  });

  test("a launched run is revealed in the Runs view once the engine lists it", async () => {
    const view = new RunsView(host, vscode.fakeExtensionContext({}).workspaceState as never);
    disposables.push(view);
    const { runId } = await engine.launchRun({ kind: "job", jobName: "orders_job" });
    assert.equal(await view.revealRun(runId, 2000), true);
    const revealed = extras.revealed.at(-1)!;
    assert.equal(revealed.viewId, "sluice.runs");
    assert.equal((revealed.element as { run: RunSummary }).run.runId, runId);
    assert.equal(view.provider.getParent(revealed.element as never)?.kind, "runGroup");
    assert.equal(await view.revealRun("never-listed", 50), false);
  });

  test("the definitions hook: every update reaches onDefinitions and stays available", () => {
    const seen: DefinitionsUpdate[] = [];
    disposables.push(host.onDefinitions((u) => seen.push(u)));
    const update: DefinitionsUpdate = { snapshot: SNAPSHOT, runConfigFiles: [], config: null, changed: [JOB_FILE] };
    engine.pushDefinitions(update);
    assert.deepEqual(seen, [update]);
    assert.equal(host.definitionsUpdate, update);
  });

  test("an engine that stops makes the host unavailable; Refresh starts a new one", async () => {
    engine.fail("The engine thread crashed");
    for (let i = 0; i < 20 && host.state !== "unavailable"; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(host.state, "unavailable");
    assert.match(String(host.error), /crashed/);
    assert.ok(engine.disposed);
    await vscode.commands.executeCommand(Commands.refresh);
    assert.equal(host.state, "ready");
  });
});

describe("load error notifications", () => {
  test("a hung or crashing job file is told once, again only after it was fixed and broke again", async () => {
    vscode.reset([WS]);
    const fire = new vscode.EventEmitter<DefinitionsUpdate>();
    const notifier = new LoadErrorNotifier(fire.event, () => WS);
    const hung = { kind: "timeout" as const, file: JOB_FILE, line: 1, column: 1, message: "Importing this file did not finish within 10s" };
    const update = (errors: DefinitionsSnapshot["errors"]): DefinitionsUpdate => ({ snapshot: { ...SNAPSHOT, errors }, runConfigFiles: [], config: null, changed: [] });
    vscode.state.messageChoices.push({ match: "could not load", choice: "Open File" });
    fire.fire(update([hung, { kind: "syntax", file: JOB_FILE, line: 2, column: 1, message: "Unexpected token" }]));
    assert.equal(vscode.state.messages.length, 1);
    assert.equal(vscode.state.messages[0].level, "warning");
    assert.match(vscode.state.messages[0].message, /could not load pipelines\/orders\.ts: Importing this file did not finish/);
    await new Promise((r) => setImmediate(r));
    assert.ok(vscode.state.executed.some((e) => e.id === "vscode.open"));
    fire.fire(update([hung]));
    assert.equal(vscode.state.messages.length, 1, "not again while it stays broken");
    fire.fire(update([]));
    fire.fire(update([hung]));
    assert.equal(vscode.state.messages.length, 2);
    notifier.dispose();
  });
});

describe("CodeLens and the Definitions view", () => {
  test("Run with <file> for each run config file of a job, after ▶ Run job", () => {
    const model = { ...EMPTY_DEFINITIONS, jobs: [{ name: "orders_job", kind: "job" as const, source: { file: JOB_FILE, line: 3, column: 1 }, runConfigFiles: [path.join(WS, "orders_job.run.yaml"), path.join(WS, "orders_job.prod.run.yaml")] }] };
    const specs = lensSpecs(model, JOB_FILE);
    assert.deepEqual(specs.map((s) => s.title), ["▶ Run job", "Run with orders_job.run.yaml", "Run with orders_job.prod.run.yaml", "Run op selection…", "Open launchpad", "Show in graph"]);
    assert.deepEqual(specs[1].args, [{ jobName: "orders_job", runConfigFile: path.join(WS, "orders_job.run.yaml") }]);
  });

  test("schedules: an empty group that says so once anything is defined", () => {
    const model = { ...EMPTY_DEFINITIONS, jobs: [{ name: "j", kind: "job" as const }] };
    assert.deepEqual(groupDefinitions(model).map((g) => [g.group, g.entries.length]), [["jobs", 1], ["schedules", 0]]);
    assert.deepEqual(groupDefinitions(EMPTY_DEFINITIONS), []);
  });
});


