// Runs view, Definitions view and status bar logic against the stubbed `vscode` module.
import * as vscode from "./helpers/vscodeStub";
import * as assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import type { RunsSource, DefinitionsSource } from "../../src/extension/engine/engineHost";
import { EMPTY_DEFINITIONS, type DefinitionsModel, type RunStatus, type RunSummary } from "../../src/extension/engine/port";
import { formatDuration, shortRunId } from "../../src/extension/views/format";
import {
  failedSince,
  groupRuns,
  RECENT_LIMIT,
  runContextValue,
  runDescription,
  RunsTreeDataProvider,
  type RunNode,
} from "../../src/extension/views/runsTree";
import { DefinitionsTreeDataProvider, groupDefinitions, type DefinitionNode } from "../../src/extension/views/definitionsTree";
import { FAILURE_SHOWN_FOR_MS, statusBarContent } from "../../src/extension/views/statusBar";
import { RunsView } from "../../src/extension/views/runsView";
import type { EngineHost } from "../../src/extension/engine/engineHost";

const NOW = 1_700_000_000_000;
let n = 0;
function run(status: RunStatus, extra: Partial<RunSummary> = {}): RunSummary {
  n++;
  return { runId: `${String(n).padStart(8, "0")}-aaaa-bbbb`, jobName: `job_${n}`, status, createTime: NOW - 60_000 + n, startTime: null, endTime: null, ...extra };
}

class Source implements RunsSource, DefinitionsSource {
  runs: RunSummary[] = [];
  defs: DefinitionsModel = EMPTY_DEFINITIONS;
  state: "ready" | "unavailable" = "ready";
  readonly runsEmitter = new vscode.EventEmitter<void>();
  readonly defsEmitter = new vscode.EventEmitter<void>();
  onDidChangeRuns = this.runsEmitter.event;
  onDidChangeDefinitions = this.defsEmitter.event;
  onDidChangeState = new vscode.EventEmitter<string>().event;
  getRuns() {
    return this.runs;
  }
  getDefinitions() {
    return this.defs;
  }
}

describe("format", () => {
  test("durations", () => {
    assert.equal(formatDuration(850), "850ms");
    assert.equal(formatDuration(12_400), "12s");
    assert.equal(formatDuration(184_000), "3m 04s");
    assert.equal(formatDuration(3_720_000), "1h 02m");
    assert.equal(formatDuration(2 * 86_400_000 + 3 * 3_600_000), "2d 03h");
    assert.equal(formatDuration(-5), "0ms");
    assert.equal(shortRunId("7f3a12c4-5678-90ab"), "7f3a12c4");
  });
});

describe("Runs view", () => {
  const providers: RunsTreeDataProvider[] = [];
  afterEach(() => providers.splice(0).forEach((p) => p.dispose()));

  test("groups In progress / Queued / Recent; queued FIFO, others newest first; empty groups hidden", () => {
    const a = run("STARTED", { startTime: NOW - 5000 });
    const b = run("STARTING", { startTime: NOW - 1000 });
    const q1 = run("QUEUED", { createTime: NOW - 9000 });
    const q2 = run("QUEUED", { createTime: NOW - 3000 });
    const s = run("SUCCESS", { startTime: NOW - 20_000, endTime: NOW - 10_000 });
    const f = run("FAILURE", { startTime: NOW - 20_000, endTime: NOW - 2000 });
    const groups = groupRuns([s, q2, a, f, q1, b]);
    assert.deepEqual(groups.map((g) => g.group), ["inProgress", "queued", "recent"]);
    assert.deepEqual(groups[0].runs, [b, a]);
    assert.deepEqual(groups[1].runs, [q1, q2]);
    assert.deepEqual(groups[2].runs, [f, s]);
    assert.deepEqual(groupRuns([s]).map((g) => g.group), ["recent"]);
    assert.deepEqual(groupRuns([]), []);
  });

  test("Recent keeps the newest runs only", () => {
    const many = Array.from({ length: RECENT_LIMIT + 10 }, (_, i) => run("SUCCESS", { endTime: NOW - i * 1000 }));
    const [recent] = groupRuns(many);
    assert.equal(recent.runs.length, RECENT_LIMIT);
    assert.equal(recent.runs[0], many[0]);
  });

  test("context values drive the run menus (cancel / re-execute / from failure)", () => {
    assert.equal(runContextValue("QUEUED"), "sluiceRun cancelable");
    assert.equal(runContextValue("STARTED"), "sluiceRun cancelable");
    assert.equal(runContextValue("CANCELING"), "sluiceRun");
    assert.equal(runContextValue("SUCCESS"), "sluiceRun finished");
    assert.equal(runContextValue("FAILURE"), "sluiceRun finished failed");
    assert.equal(runContextValue("CANCELED"), "sluiceRun finished");
  });

  test("descriptions: id with duration, elapsed time, or why a queued run waits", () => {
    const r = run("SUCCESS", { runId: "7f3a12c4-0000", startTime: NOW - 12_000, endTime: NOW - 1000 });
    assert.equal(runDescription(r, NOW), "7f3a12c4 · 11s");
    assert.equal(runDescription(run("STARTED", { runId: "abcdef012345", startTime: NOW - 65_000 }), NOW), "abcdef01 · 1m 05s");
    assert.equal(runDescription(run("QUEUED", { runId: "11112222xx", queueReason: "blocked: pool `database` 1/1 in use by run 7f3a…" }), NOW),
      "11112222 · blocked: pool `database` 1/1 in use by run 7f3a…");
    assert.equal(runDescription(run("QUEUED", { runId: "33334444yy", createTime: NOW - 120_000 }), NOW), "33334444 · queued 2m 00s");
  });

  test("tree items: status icon, id, click opens the run's logs", () => {
    const source = new Source();
    const failed = run("FAILURE", { runId: "deadbeef-1", jobName: "orders_job", startTime: NOW - 3000, endTime: NOW });
    source.runs = [failed];
    const provider = new RunsTreeDataProvider(source, () => NOW);
    providers.push(provider);
    const [group] = provider.getChildren();
    const groupItem = provider.getTreeItem(group);
    assert.equal(groupItem.label, "Recent");
    assert.equal(groupItem.description, "1");
    const [node] = provider.getChildren(group) as RunNode[];
    const item = provider.getTreeItem(node);
    assert.equal(item.label, "orders_job");
    assert.equal(item.id, "run:deadbeef-1");
    assert.deepEqual(item.iconPath, new vscode.ThemeIcon("error", new vscode.ThemeColor("testing.iconFailed")));
    assert.equal(item.contextValue, "sluiceRun finished failed");
    assert.deepEqual(item.command, { command: "sluice.openRunLogs", title: "Open run logs", arguments: ["deadbeef-1"] });
    assert.match((item.tooltip as vscode.MarkdownString).value, /orders\\_job — FAILURE/);
  });

  test("refreshes when the source changes, and ticks every second while runs are live", async () => {
    const source = new Source();
    const provider = new RunsTreeDataProvider(source, () => NOW);
    providers.push(provider);
    let fired = 0;
    provider.onDidChangeTreeData(() => fired++);
    source.runs = [run("STARTED", { startTime: NOW })];
    source.runsEmitter.fire();
    assert.equal(fired, 1);
    await new Promise((r) => setTimeout(r, 1100));
    assert.ok(fired >= 2, `ticked (${fired})`);
    source.runs = [run("SUCCESS")];
    source.runsEmitter.fire();
    const after = fired;
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(fired, after, "no ticking once nothing is live");
  });

  test("badge: failed runs since the user last looked at the view", async () => {
    vscode.reset();
    assert.equal(failedSince([run("FAILURE", { endTime: NOW - 10 }), run("FAILURE", { endTime: NOW + 10 }), run("SUCCESS", { endTime: NOW + 10 })], NOW), 1);
    const source = new Source();
    let now = NOW;
    const memento = vscode.fakeExtensionContext({}).workspaceState;
    const view = new RunsView(source as unknown as EngineHost, memento as never, () => now);
    const tree = vscode.state.treeViews[0];
    tree.setVisible(true);
    await new Promise((r) => setImmediate(r));
    tree.setVisible(false);
    now += 1000;
    source.runs = [run("FAILURE", { endTime: now }), run("FAILURE", { endTime: now })];
    source.runsEmitter.fire();
    assert.deepEqual(tree.badge, { value: 2, tooltip: "2 failed run(s) since you last looked" });
    tree.setVisible(true);
    await new Promise((r) => setImmediate(r));
    assert.equal(tree.badge, undefined);
    view.dispose();
  });
});

describe("Definitions view", () => {
  const model: DefinitionsModel = {
    jobs: [
      { name: "z_job", kind: "job", opCount: 3, source: { file: "/w/pipelines/z.ts", line: 10, column: 14 } },
      { name: "all_assets", kind: "assetJob" },
    ],
    assets: [{ key: "orders", kind: "asset", group: "sales", source: { file: "/w/assets.ts", line: 2, column: 1 } }],
    pools: [{ name: "database", limit: 1, used: 1 }, { name: "warehouse", limit: null }],
    schedules: [{ name: "nightly", cron: "0 3 * * *", jobName: "z_job", running: true }],
    sensors: [],
    problems: [{ file: "/w/pipelines/broken.ts", line: 4, column: 7, message: "Duplicate job name \"z_job\"" }],
  };

  test("groups: problems first, then jobs, assets, pools, schedules; empty groups hidden", () => {
    assert.deepEqual(groupDefinitions(model).map((g) => g.group), ["problems", "jobs", "assets", "pools", "schedules"]);
    assert.deepEqual(groupDefinitions(EMPTY_DEFINITIONS), []);
    assert.deepEqual(groupDefinitions(model)[1].entries.map((e) => (e.info as { name: string }).name), ["all_assets", "z_job"]);
  });

  test("items: descriptions, context values for menus, click opens the source (0-based)", () => {
    const source = new Source();
    source.defs = model;
    const provider = new DefinitionsTreeDataProvider(source);
    const items = provider.getChildren().flatMap((g) => provider.getChildren(g).map((node) => provider.getTreeItem(node as DefinitionNode)));
    const byLabel = new Map(items.map((i) => [i.label, i]));
    const job = byLabel.get("z_job")!;
    assert.equal(job.description, "3 op(s)");
    assert.equal(job.contextValue, "sluiceJob job");
    assert.equal(job.command?.command, "vscode.open");
    const [uri, opts] = job.command!.arguments as [vscode.Uri, { selection: vscode.Range }];
    assert.equal(uri.fsPath, "/w/pipelines/z.ts");
    assert.deepEqual([opts.selection.start.line, opts.selection.start.character], [9, 13]);
    assert.equal(byLabel.get("all_assets")!.description, "asset job");
    assert.equal(byLabel.get("all_assets")!.command, undefined);
    assert.equal(byLabel.get("orders")!.contextValue, "sluiceAsset asset");
    assert.equal(byLabel.get("orders")!.description, "sales");
    assert.equal(byLabel.get("database")!.description, "1/1 in use");
    assert.equal(byLabel.get("warehouse")!.description, "no limit");
    assert.equal(byLabel.get("nightly")!.description, "0 3 * * * · z_job · running");
    const problem = byLabel.get("Duplicate job name \"z_job\"")!;
    assert.equal(problem.description, "broken.ts:4");
    assert.deepEqual(problem.iconPath, new vscode.ThemeIcon("error", new vscode.ThemeColor("problemsErrorIcon.foreground")));
    provider.dispose();
  });
});

describe("status bar", () => {
  test("per engine state", () => {
    assert.equal(statusBarContent("untrusted", [], NOW).visible, false);
    assert.equal(statusBarContent("starting", [], NOW).text, "$(loading~spin) Sluice");
    assert.equal(statusBarContent("unavailable", [], NOW).text, "$(circle-slash) Sluice");
    assert.equal(statusBarContent("ready", [], NOW).text, "$(pass) Sluice");
  });

  test("running and queued counts, then the last failure for a while", () => {
    const live = [run("STARTED"), run("STARTING"), run("QUEUED"), run("QUEUED"), run("QUEUED")];
    assert.equal(statusBarContent("ready", live, NOW).text, "$(sync~spin) 2 running · 3 queued");
    assert.equal(statusBarContent("ready", [run("STARTED")], NOW).text, "$(sync~spin) 1 running");
    assert.equal(statusBarContent("ready", [run("QUEUED")], NOW).text, "$(clock) 1 queued");
    const failed = run("FAILURE", { jobName: "orders_job", endTime: NOW - 1000 });
    const ok = run("SUCCESS", { endTime: NOW - 5000 });
    const c = statusBarContent("ready", [ok, failed], NOW);
    assert.equal(c.text, "$(error) orders_job failed");
    assert.equal(c.background, "statusBarItem.errorBackground");
    assert.equal(statusBarContent("ready", [ok, failed], NOW + FAILURE_SHOWN_FOR_MS).text, "$(pass) Sluice");
    assert.equal(statusBarContent("ready", [failed, run("SUCCESS", { endTime: NOW })], NOW).text, "$(pass) Sluice");
  });
});
