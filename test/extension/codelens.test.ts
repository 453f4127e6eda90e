// CodeLens above jobs and assets, from the definitions model (stubbed `vscode`).
import * as vscode from "./helpers/vscodeStub";
import * as assert from "node:assert/strict";
import { test } from "node:test";
import { DefinitionCodeLensProvider, lensSpecs } from "../../src/extension/codelens/definitionLenses";
import { EMPTY_DEFINITIONS, type DefinitionsModel } from "../../src/extension/engine/port";

const FILE = "/w/pipelines/orders.ts";
const model: DefinitionsModel = {
  ...EMPTY_DEFINITIONS,
  jobs: [
    { name: "orders_job", kind: "job", source: { file: FILE, line: 12, column: 14 } },
    { name: "all_assets", kind: "assetJob", source: { file: FILE, line: 30, column: 14 } },
    { name: "elsewhere_job", kind: "job", source: { file: "/w/other.ts", line: 3, column: 1 } },
  ],
  assets: [{ key: "orders", kind: "asset", source: { file: FILE, line: 5, column: 14 } }],
};

test("lenses above each job and asset of the file, in source order", () => {
  const specs = lensSpecs(model, FILE).map((s) => [s.line, s.title, s.command, JSON.stringify(s.args)]);
  assert.deepEqual(specs, [
    [4, "Materialize", "sluice.materializeAsset", '[{"assetKey":"orders"}]'],
    [4, "Materialize with upstream", "sluice.materializeWithUpstream", '[{"assetKey":"orders"}]'],
    [4, "Show in graph", "sluice.showInGraph", '[{"assetKey":"orders"}]'],
    [11, "▶ Run job", "sluice.runJob", '[{"jobName":"orders_job"}]'],
    [11, "Run op selection…", "sluice.runOpSelection", '[{"jobName":"orders_job"}]'],
    [11, "Open launchpad", "sluice.openLaunchpad", '[{"jobName":"orders_job"}]'],
    [11, "Show in graph", "sluice.showInGraph", '[{"jobName":"orders_job"}]'],
    // asset jobs select assets, not ops: no "Run op selection…"
    [29, "▶ Run job", "sluice.runJob", '[{"jobName":"all_assets"}]'],
    [29, "Open launchpad", "sluice.openLaunchpad", '[{"jobName":"all_assets"}]'],
    [29, "Show in graph", "sluice.showInGraph", '[{"jobName":"all_assets"}]'],
  ]);
  assert.deepEqual(lensSpecs(EMPTY_DEFINITIONS, FILE), []);
});

test("the provider turns them into CodeLens and refreshes when definitions change", () => {
  let defs = EMPTY_DEFINITIONS;
  const changed = new vscode.EventEmitter<void>();
  const provider = new DefinitionCodeLensProvider({ onDidChangeDefinitions: changed.event, getDefinitions: () => defs } as never);
  const doc = { uri: vscode.Uri.file(FILE), lineCount: 20 };
  assert.deepEqual(provider.provideCodeLenses(doc as never), []);
  let refreshed = 0;
  provider.onDidChangeCodeLenses(() => refreshed++);
  defs = model;
  changed.fire();
  assert.equal(refreshed, 1);
  const lenses = provider.provideCodeLenses(doc as never) as unknown as vscode.CodeLens[];
  // line 29 is past the end of this (shorter, edited) document: left out
  assert.equal(lenses.length, 7);
  assert.deepEqual([lenses[3].range.start.line, lenses[3].command], [11, { title: "▶ Run job", command: "sluice.runJob", arguments: [{ jobName: "orders_job" }] }]);
  provider.dispose();
});
