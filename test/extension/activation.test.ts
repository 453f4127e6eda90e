// Activation against the stubbed `vscode` module: what gets registered, what the user sees while
// the engine is not available (here: no engine bundle next to the sources, so the factory fails),
// the untrusted-workspace gate, and a fake engine behind the port.
import * as vscode from "./helpers/vscodeStub";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { activate, deactivate, type SluiceExtensionApi } from "../../src/extension/extension";
import { Commands, ContextKeys, Views } from "../../src/extension/constants";
import { EngineHost } from "../../src/extension/engine/engineHost";
import type { LaunchRequest, RunSummary, SluiceEngine } from "../../src/extension/engine/port";
import { registerCommands } from "../../src/extension/commands/register";
import { ROOT } from "./helpers/paths";

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const contributed: string[] = manifest.contributes.commands.map((c: { command: string }) => c.command);

let context: ReturnType<typeof vscode.fakeExtensionContext>;
let api: SluiceExtensionApi;

async function start(trusted = true): Promise<void> {
  vscode.reset([ROOT]);
  vscode.workspace.isTrusted = trusted;
  context = vscode.fakeExtensionContext(manifest);
  api = activate(context as never);
  await api.whenSettled();
}

async function stop(): Promise<void> {
  for (const d of context.subscriptions.splice(0)) await d.dispose();
  await deactivate();
}

describe("activation (engine not available)", () => {
  beforeEach(() => start());
  afterEach(stop);

  test("registers a handler for every contributed command, and nothing else", () => {
    assert.deepEqual([...vscode.state.commands.keys()].sort(), [...contributed].sort());
  });

  test("creates the Sluice log channel, both views and the status bar item", () => {
    assert.deepEqual(vscode.state.channels.map((c) => c.name), ["Sluice"]);
    assert.ok(vscode.state.channels[0].lines.some((l) => /Sluice .* activating/.test(l.message)));
    assert.deepEqual(vscode.state.treeViews.map((v) => v.viewId).sort(), [Views.definitions, Views.runs].sort());
    const [item] = vscode.state.statusBarItems;
    assert.ok(item.visible);
    assert.match(item.text, /Sluice/);
    assert.equal(item.command, "sluice.runs.focus");
  });

  test("settles on 'unavailable' and says so in the context key the welcome views use", () => {
    assert.equal(api.engineState, "unavailable");
    assert.equal(vscode.state.context.get(ContextKeys.engineState), "unavailable");
  });

  test("views are empty (so VS Code shows their welcome content)", () => {
    for (const view of vscode.state.treeViews) assert.deepEqual(view.options.treeDataProvider.getChildren(), []);
  });

  test("engine-backed commands explain that the engine is not available, and do not throw", async () => {
    for (const id of [Commands.runJob, Commands.runOpSelection, Commands.openLaunchpad, Commands.showInGraph, Commands.materializeAsset,
      Commands.materializeWithUpstream, Commands.openRunLogs, Commands.cancelRun, Commands.reexecuteRun, Commands.reexecuteFromFailure]) {
      vscode.state.messages.length = 0;
      assert.equal(await vscode.commands.executeCommand(id, "abc"), undefined, id);
      assert.equal(vscode.state.messages.length, 1, id);
      assert.equal(vscode.state.messages[0].level, "info");
      assert.match(vscode.state.messages[0].message, /the Sluice engine is not running/);
    }
  });

  test("copyRunId copies the id of a run item, a string or { runId }", async () => {
    const node = { kind: "run", run: { runId: "7f3a0000-1111", jobName: "j", status: "SUCCESS", createTime: 0, startTime: null, endTime: null } };
    assert.equal(await vscode.commands.executeCommand(Commands.copyRunId, node), "7f3a0000-1111");
    assert.equal(vscode.state.clipboard, "7f3a0000-1111");
    await vscode.commands.executeCommand(Commands.copyRunId, { runId: "r2" });
    assert.equal(vscode.state.clipboard, "r2");
    await vscode.commands.executeCommand(Commands.copyRunId);
    assert.match(vscode.state.messages.at(-1)!.message, /Select a run/);
  });

  test("showOutput shows the log channel; refresh re-reads both views", async () => {
    await vscode.commands.executeCommand(Commands.showOutput);
    assert.equal(vscode.state.channels[0].shown, 1);
    const fired: string[] = [];
    for (const v of vscode.state.treeViews) v.options.treeDataProvider.onDidChangeTreeData(() => fired.push(v.viewId));
    await vscode.commands.executeCommand(Commands.refresh);
    assert.deepEqual(fired.sort(), [Views.definitions, Views.runs].sort());
  });

  test("deactivation disposes the commands, views, status bar item and channel", async () => {
    await stop();
    assert.equal(vscode.state.commands.size, 0);
    assert.ok(vscode.state.treeViews.every((v) => v.disposed));
    assert.ok(vscode.state.statusBarItems.every((i) => i.disposed));
    assert.ok(vscode.state.channels.every((c) => c.disposed));
    await start(); // for afterEach
  });
});

describe("untrusted workspace", () => {
  beforeEach(() => start(false));
  afterEach(stop);

  test("the engine stays off, engine commands refuse with a trust prompt, the status bar hides", async () => {
    assert.equal(api.engineState, "untrusted");
    assert.equal(vscode.state.context.get(ContextKeys.engineState), "untrusted");
    assert.equal(vscode.state.statusBarItems[0].visible, false);
    vscode.state.messageChoices.push({ match: "not trusted", choice: "Manage Workspace Trust" });
    await vscode.commands.executeCommand(Commands.runJob, "my_job");
    const msg = vscode.state.messages.at(-1)!;
    assert.equal(msg.level, "warning");
    assert.match(msg.message, /Run job: Sluice runs nothing in a workspace that you have not trusted/);
    assert.deepEqual(msg.items, ["Manage Workspace Trust"]);
    await new Promise((r) => setImmediate(r));
    assert.ok(vscode.state.executed.some((e) => e.id === "workbench.trust.manage"));
  });

  test("granting trust starts the engine (here: settles on unavailable)", async () => {
    const states: string[] = [];
    api.onDidChangeEngineState((s) => states.push(s));
    vscode.grantWorkspaceTrust();
    for (let i = 0; i < 50 && api.engineState !== "unavailable"; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(api.engineState, "unavailable");
    assert.deepEqual(states, ["starting", "unavailable"]);
  });
});

/** A fake engine behind the port: what wiring the real one will look like. */
class FakeEngine implements SluiceEngine {
  runs: RunSummary[] = [];
  launched: LaunchRequest[] = [];
  cancelled: string[] = [];
  reexecuted: [string, string][] = [];
  reloads = 0;
  disposed = false;
  private readonly runsChanged = new vscode.EventEmitter<void>();
  private readonly defsChanged = new vscode.EventEmitter<void>();
  onDidChangeRuns = this.runsChanged.event;
  onDidChangeDefinitions = this.defsChanged.event;
  getRuns() {
    return this.runs;
  }
  getDefinitions() {
    return { jobs: [{ name: "my_job", kind: "job" as const, opCount: 3, source: { file: "/w/jobs.ts", line: 3, column: 14 } }], assets: [], pools: [], schedules: [], sensors: [], problems: [] };
  }
  async launchRun(request: LaunchRequest) {
    this.launched.push(request);
    this.runs.push({ runId: `run-${this.launched.length}`, jobName: request.kind === "job" ? request.jobName : "__ASSET_JOB", status: "QUEUED", createTime: Date.now(), startTime: null, endTime: null });
    this.runsChanged.fire();
    return { runId: `run-${this.launched.length}` };
  }
  async cancelRun(runId: string) {
    this.cancelled.push(runId);
  }
  async reexecuteRun(runId: string, strategy: string) {
    this.reexecuted.push([runId, strategy]);
    return { runId: `${runId}-re` };
  }
  async reload() {
    this.reloads++;
  }
  dispose() {
    this.disposed = true;
  }
}

describe("EngineHost with an engine factory (the wiring seam)", () => {
  let host: EngineHost;
  let engine: FakeEngine;
  let disposables: { dispose(): unknown }[];
  beforeEach(async () => {
    vscode.reset([ROOT]);
    engine = new FakeEngine();
    host = new EngineHost(async (root) => {
      assert.equal(root, ROOT);
      return engine;
    });
    disposables = registerCommands({ host, refreshViews: () => {} });
    await host.start();
  });
  afterEach(async () => {
    disposables.forEach((d) => d.dispose());
    await host.dispose();
  });

  test("goes ready and forwards runs and definitions", () => {
    assert.equal(host.state, "ready");
    assert.equal(vscode.state.context.get(ContextKeys.engineState), "ready");
    assert.equal(host.getDefinitions().jobs[0].name, "my_job");
  });

  test("runJob launches the job named by CodeLens args or a Definitions node, and reveals the Runs view", async () => {
    assert.equal(await vscode.commands.executeCommand(Commands.runJob, { jobName: "my_job" }), "run-1");
    const node = { kind: "definition", entry: { kind: "job", info: { name: "other_job", kind: "job" } } };
    assert.equal(await vscode.commands.executeCommand(Commands.runJob, node), "run-2");
    assert.equal(await vscode.commands.executeCommand(Commands.runJob, { jobName: "my_job", runConfigFile: "/w/my_job.run.yaml" }), "run-3");
    assert.deepEqual(engine.launched, [
      { kind: "job", jobName: "my_job", runConfigFile: undefined },
      { kind: "job", jobName: "other_job", runConfigFile: undefined },
      { kind: "job", jobName: "my_job", runConfigFile: "/w/my_job.run.yaml" },
    ]);
    assert.match(vscode.state.statusMessages.at(-1)!, /Queued my_job \(run run-3\)/);
    assert.ok(vscode.state.executed.some((e) => e.id === "sluice.runs.focus"));
    assert.equal(host.getRuns().length, 3);
  });

  test("asset, cancel and re-execute commands map onto the port", async () => {
    await vscode.commands.executeCommand(Commands.materializeAsset, { assetKey: "orders" });
    await vscode.commands.executeCommand(Commands.materializeWithUpstream, "summary");
    await vscode.commands.executeCommand(Commands.cancelRun, "r1");
    assert.equal(await vscode.commands.executeCommand(Commands.reexecuteFromFailure, { runId: "r2" }), "r2-re");
    await vscode.commands.executeCommand(Commands.reexecuteRun, "r3");
    await vscode.commands.executeCommand(Commands.refresh);
    assert.deepEqual(engine.launched, [
      { kind: "assets", assetKeys: ["orders"] },
      { kind: "assets", assetKeys: ["summary"], withUpstream: true },
    ]);
    assert.deepEqual(engine.cancelled, ["r1"]);
    assert.deepEqual(engine.reexecuted, [["r2", "fromFailure"], ["r3", "all"]]);
    assert.equal(engine.reloads, 1);
  });

  test("features whose UI is not built yet say so", async () => {
    await vscode.commands.executeCommand(Commands.openLaunchpad, "my_job");
    assert.match(vscode.state.messages.at(-1)!.message, /Open launchpad is not available yet/);
  });

  test("a failing engine call is logged and shown, not thrown", async () => {
    engine.cancelRun = async () => {
      throw new Error("run r9 is already finished");
    };
    assert.equal(await vscode.commands.executeCommand(Commands.cancelRun, "r9"), undefined);
    const msg = vscode.state.messages.at(-1)!;
    assert.equal(msg.level, "error");
    assert.equal(msg.message, "Sluice: run r9 is already finished");
  });

  test("dispose disposes the engine", async () => {
    await host.dispose();
    assert.ok(engine.disposed);
  });
});

describe("EngineHost whose factory fails", () => {
  test("settles on unavailable and keeps the error", async () => {
    vscode.reset([ROOT]);
    const host = new EngineHost(async () => {
      throw new Error("sql.js failed to load");
    });
    await host.start();
    assert.equal(host.state, "unavailable");
    assert.match(String(host.error), /sql.js failed to load/);
    await host.dispose();
  });
});
