// Hover, completion and quick fixes for sluice.yaml and run config files (stubbed `vscode`), and
// their registration (trusted workspaces only).
import * as vscode from "./helpers/vscodeStub";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { activate, deactivate } from "../../src/extension/extension";
import { DiagnosticsController } from "../../src/extension/diagnostics/controller";
import { SluiceCodeActionProvider } from "../../src/extension/language/codeActions";
import { SluiceCompletionProvider } from "../../src/extension/language/completion";
import { SluiceHoverProvider } from "../../src/extension/language/hover";
import { registerLanguageFeatures } from "../../src/extension/language/register";
import { helloJob, snapshotOf } from "./helpers/diagnosticsFixtures";
import { ROOT } from "./helpers/paths";

let dir: string;
let controller: DiagnosticsController;

function write(rel: string, text: string): string {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** Opens `rel` with `text`, where `|` marks the cursor; returns the document and the cursor. */
function openAt(rel: string, textWithCursor: string): { doc: vscode.FakeTextDocument; pos: vscode.Position } {
  const offset = textWithCursor.indexOf("|");
  const text = offset < 0 ? textWithCursor : textWithCursor.slice(0, offset) + textWithCursor.slice(offset + 1);
  const doc = vscode.openDocument(write(rel, text));
  return { doc, pos: doc.positionAt(Math.max(0, offset)) };
}

function hoverAt(rel: string, textWithCursor: string): { text: string; range?: vscode.Range } | undefined {
  const { doc, pos } = openAt(rel, textWithCursor);
  const h = new SluiceHoverProvider(controller).provideHover(doc as never, pos as never);
  return h && { text: (h.contents as unknown as vscode.MarkdownString[]).map((c) => c.value).join("\n"), range: h.range as unknown as vscode.Range };
}

function complete(rel: string, textWithCursor: string): vscode.CompletionItem[] {
  const { doc, pos } = openAt(rel, textWithCursor);
  return (new SluiceCompletionProvider(controller).provideCompletionItems(doc as never, pos as never) ?? []) as unknown as vscode.CompletionItem[];
}

const labels = (items: vscode.CompletionItem[]) => items.map((i) => i.label);
const span = (r: vscode.Range) => [r.start.line, r.start.character, r.end.line, r.end.character];

/** Applies the replace edits of a WorkspaceEdit to a document's text (last first). */
function applied(doc: vscode.FakeTextDocument, edit: vscode.WorkspaceEdit): string {
  let text = doc.getText();
  const edits = edit.entries.filter((e) => e.kind === "replace") as Extract<vscode.WorkspaceEditEntry, { kind: "replace" }>[];
  for (const e of [...edits].sort((a, b) => doc.offsetAt(b.range.start) - doc.offsetAt(a.range.start)))
    text = text.slice(0, doc.offsetAt(e.range.start)) + e.newText + text.slice(doc.offsetAt(e.range.end));
  return text;
}

async function fixesFor(rel: string, text: string): Promise<{ doc: vscode.FakeTextDocument; actions: vscode.CodeAction[] }> {
  const doc = vscode.openDocument(write(rel, text));
  await controller.whenIdle();
  const diagnostics = vscode.state.diagnosticCollections[0].get(doc.uri) ?? [];
  // VS Code hands back copies of the diagnostics: match them by value
  const copies = diagnostics.map((d) => Object.assign(new vscode.Diagnostic(d.range, d.message, d.severity), { source: d.source, code: d.code }));
  const actions = new SluiceCodeActionProvider(controller).provideCodeActions(doc as never, new vscode.Range(0, 0, 0, 0) as never, { diagnostics: copies } as never);
  return { doc, actions: actions as unknown as vscode.CodeAction[] };
}

describe("language features", () => {
  beforeEach(async () => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sluice-lang-")));
    vscode.reset([dir]);
    controller = new DiagnosticsController({ debounceMs: 10 });
    controller.start();
  });
  afterEach(() => {
    controller.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe("hover", () => {
    test("a sluice.yaml key: its path, description, allowed values and default, on the key's range", () => {
      const h = hoverAt("sluice.yaml", "concurrency:\n  pools:\n    granu|larity: run\n")!;
      assert.match(h.text, /^\*\*`concurrency\.pools\.granularity`\*\*/);
      assert.match(h.text, /op: each step claims a pool slot/);
      assert.match(h.text, /Allowed values: `op` · `run`/);
      assert.doesNotMatch(h.text, /Value:/, "the allowed values say it");
      assert.match(h.text, /Default: `op`/);
      assert.deepEqual(span(h.range!), [2, 4, 2, 15]);
    });

    test("on a value: the key's docs (what the value must be, the default)", () => {
      const h = hoverAt("sluice.yaml", "concurrency:\n  runs:\n    max_concurrent_runs: -|2\n")!;
      assert.match(h.text, /Value: must be -1 \(unlimited\) or >= 0/);
      assert.match(h.text, /Default: `10`/);
      assert.deepEqual(span(h.range!), [2, 25, 2, 27]);
      assert.match(hoverAt("sluice.yaml", "concurrency:\n  runs:\n    tag_concurrency_limits:\n      - key: a\n        li|mit: 1\n")!.text, /How many items with this tag/);
    });

    test("run config: executor keys, selector choices, op names (with the op's description), op config from its JSON Schema", async () => {
      await controller.updateDefinitions(snapshotOf([helloJob()]));
      const rc = "execution:\n  config:\n    multiprocess:\n      start_method:\n        spawn: {}\nops:\n  return_one: {}\n  multi_three:\n    config:\n      factor: 2\n";
      const at = (needle: string) => {
        const i = rc.indexOf(needle) + 1;
        return hoverAt("hello_job.run.yaml", rc.slice(0, i) + "|" + rc.slice(i))!.text;
      };
      assert.match(at("start_method"), /One of: `spawn` · `forkserver`/);
      assert.match(at("return_one"), /Returns one\./);
      const factor = at("factor");
      assert.match(factor, /\*\*`ops\.multi_three\.config\.factor`\*\*/);
      assert.match(factor, /What to multiply by\./);
      assert.match(factor, /Value: a number/);
      assert.match(factor, /Default: `3`/);
    });

    test("nothing outside Sluice's files or on unknown keys", () => {
      assert.equal(hoverAt("other.yaml", "concurrency|: {}\n"), undefined);
      assert.equal(hoverAt("sluice.yaml", "bogus|: 1\n"), undefined);
    });
  });

  describe("completion", () => {
    test("top-level sluice.yaml keys that are not there yet, in schema order", () => {
      const items = complete("sluice.yaml", "run_queue: {}\n|");
      assert.deepEqual(labels(items), ["concurrency", "run_coordinator", "run_monitoring", "run_retries", "schedules", "sensors"]);
      const concurrency = items[0];
      assert.equal(concurrency.insertText, "concurrency:\n  ");
      assert.equal(concurrency.keepWhitespace, true);
      assert.equal(concurrency.command?.command, "editor.action.triggerSuggest");
      assert.match(String((concurrency.documentation as vscode.MarkdownString).value), /Run and pool concurrency limits/);
      assert.deepEqual(span(concurrency.range!), [1, 0, 1, 0]);
    });

    test("nested keys (siblings below the cursor count too), lists, and the typed prefix is replaced", () => {
      const items = complete("sluice.yaml", "concurrency:\n  pools:\n    gra|\n    default_limit: 3\n");
      assert.deepEqual(labels(items), ["granularity", "op_granularity_run_buffer"]);
      assert.deepEqual(span(items[0].range!), [2, 4, 2, 7]);
      assert.equal(items[0].insertText, "granularity: ");
      assert.equal(items[0].detail, "must be one of 'op', 'run'");
      const runs = complete("sluice.yaml", "concurrency:\n  runs:\n    |");
      assert.equal(runs.find((i) => i.label === "tag_concurrency_limits")?.insertText, "tag_concurrency_limits:\n      - ");
      assert.deepEqual(labels(complete("sluice.yaml", "concurrency:\n  runs:\n    tag_concurrency_limits:\n      - key: a\n        |")), ["value", "limit"]);
    });

    test("enum values, booleans and the default; a space is added right after the colon", () => {
      const values = complete("sluice.yaml", "concurrency:\n  pools:\n    granularity: |");
      assert.deepEqual(values.map((i) => [i.label, i.insertText, i.detail]), [["op", "op", "default"], ["run", "run", undefined]]);
      assert.deepEqual(complete("sluice.yaml", "concurrency:\n  pools:\n    granularity:|").map((i) => i.insertText), [" op", " run"]);
      assert.deepEqual(labels(complete("sluice.yaml", "run_monitoring:\n  enabled: |")), ["true", "false"]);
      assert.deepEqual(labels(complete("sluice.yaml", "run_monitoring:\n  poll_interval_seconds: |")), ["120"]);
    });

    test("run config: op names under ops:, inputs, op config keys and enum values, selector choices", async () => {
      await controller.updateDefinitions(snapshotOf([helloJob()]));
      const ops = complete("hello_job.run.yaml", "ops:\n  add_two: {}\n  |");
      assert.deepEqual(labels(ops), ["return_one", "multi_three"]);
      assert.equal(ops[0].kind, vscode.CompletionItemKind.Module);
      assert.deepEqual(labels(complete("hello_job.run.yaml", "ops:\n  add_two:\n    |")), ["config", "inputs"]);
      assert.deepEqual(labels(complete("hello_job.run.yaml", "ops:\n  add_two:\n    inputs:\n      |")), ["i"]);
      assert.deepEqual(labels(complete("hello_job.run.yaml", "ops:\n  multi_three:\n    config:\n      factor: 2\n      |")), ["mode", "retries", "tags", "target"]);
      assert.deepEqual(labels(complete("hello_job.run.yaml", "ops:\n  multi_three:\n    config:\n      mode: |")), ["fast", "slow"]);
      assert.deepEqual(labels(complete("hello_job.run.yaml", "|")), ["execution", "ops", "resources", "loggers"]);
      const start = complete("hello_job.run.yaml", "execution:\n  config:\n    multiprocess:\n      start_method: |");
      assert.deepEqual(start.map((i) => [i.label, i.insertText, span(i.range!)]), [
        ["spawn", "\n        spawn: {}", [3, 19, 3, 20]],
        ["forkserver", "\n        forkserver: {}", [3, 19, 3, 20]],
      ]);
      assert.deepEqual(labels(complete("hello_job.run.yaml", "execution:\n  config:\n    |")), ["multiprocess", "in_process"]);
    });

    test("without definitions: any op is allowed, so none is offered; executor keys still are", () => {
      assert.deepEqual(labels(complete("hello_job.run.yaml", "ops:\n  |")), []);
      assert.ok(labels(complete("hello_job.run.yaml", "execution:\n  config:\n    multiprocess:\n      |")).includes("max_concurrent"));
    });

    test("nothing in comments or other files", () => {
      assert.deepEqual(complete("sluice.yaml", "# conc|"), []);
      assert.deepEqual(complete("notes.yaml", "|"), []);
    });
  });

  describe("quick fixes", () => {
    test("an invalid enum value: one fix per allowed value, the closest preferred; the edit fixes it", async () => {
      const { doc, actions } = await fixesFor("sluice.yaml", "concurrency:\n  pools:\n    granularity: opp\n");
      assert.deepEqual(actions.map((a) => [a.title, a.isPreferred ?? false, a.kind?.value]), [["Replace with `op`", true, "quickfix"], ["Replace with `run`", false, "quickfix"]]);
      const [edit] = actions[0].edit!.entries as Extract<vscode.WorkspaceEditEntry, { kind: "replace" }>[];
      assert.deepEqual([span(edit.range), edit.newText], [[2, 17, 2, 20], "op"]);
      assert.equal(applied(doc, actions[1].edit!), "concurrency:\n  pools:\n    granularity: run\n");
      assert.equal(actions[0].diagnostics?.[0].code, "invalid-value");
    });

    test("an empty value gets the value inserted after the colon", async () => {
      const { doc, actions } = await fixesFor("sluice.yaml", "concurrency:\n  pools:\n    granularity:\n");
      assert.equal(applied(doc, actions[0].edit!), "concurrency:\n  pools:\n    granularity: op\n");
    });

    test("an unknown key: replaced by the did-you-mean suggestion", async () => {
      const { doc, actions } = await fixesFor("sluice.yaml", "run_monitorin:\n  enabled: true\n");
      assert.deepEqual(actions.map((a) => [a.title, a.isPreferred]), [["Replace with `run_monitoring`", true]]);
      assert.equal(applied(doc, actions[0].edit!), "run_monitoring:\n  enabled: true\n");
    });

    test("run config: op names, op config keys and values, selector choices; after the fixes nothing is left", async () => {
      await controller.updateDefinitions(snapshotOf([helloJob()]));
      const text = "execution:\n  config:\n    multiprocess:\n      start_method:\n        spawnn: {}\n      retries: enabled\nops:\n  add_twoo: {}\n  multi_three:\n    config:\n      mode: medium\n      factr: 2\n";
      const { doc, actions } = await fixesFor("hello_job.run.yaml", text);
      assert.deepEqual(actions.map((a) => a.title), [
        "Replace with `spawn`",
        "Replace with `{ enabled: {} }`",
        "Replace with `{ disabled: {} }`",
        "Replace with `add_two`",
        "Replace with `fast`",
        "Replace with `slow`",
        "Replace with `factor`",
      ]);
      const chosen = new vscode.WorkspaceEdit();
      for (const i of [0, 1, 3, 5, 6]) chosen.entries.push(...actions[i].edit!.entries);
      const fixed = applied(doc, chosen);
      assert.equal(fixed, "execution:\n  config:\n    multiprocess:\n      start_method:\n        spawn: {}\n      retries: { enabled: {} }\nops:\n  add_two: {}\n  multi_three:\n    config:\n      mode: slow\n      factor: 2\n");
      vscode.changeDocument(doc, fixed);
      await controller.whenIdle();
      assert.deepEqual(vscode.state.diagnosticCollections[0].get(doc.uri) ?? [], []);
    });

    test("a run config named after an unknown job: rename the file to the closest job", async () => {
      await controller.updateDefinitions(snapshotOf([helloJob()]));
      const { doc, actions } = await fixesFor("configs/hello_jbo.run.yml", "ops: {}\n");
      assert.deepEqual(actions.map((a) => a.title), ["Rename the file to hello_job.run.yml"]);
      const [rename] = actions[0].edit!.entries as Extract<vscode.WorkspaceEditEntry, { kind: "rename" }>[];
      assert.equal(rename.from.fsPath, doc.uri.fsPath);
      assert.equal(rename.to.fsPath, path.join(dir, "configs", "hello_job.run.yml"));
    });

    test("diagnostics of others and valid files get no actions", async () => {
      const { actions } = await fixesFor("sluice.yaml", "concurrency: {}\n");
      assert.deepEqual(actions, []);
      const doc = vscode.workspace.textDocuments[0];
      const foreign = Object.assign(new vscode.Diagnostic(new vscode.Range(0, 0, 0, 1), "x"), { source: "yaml", code: "invalid-value" });
      assert.deepEqual(new SluiceCodeActionProvider(controller).provideCodeActions(doc as never, new vscode.Range(0, 0, 0, 0) as never, { diagnostics: [foreign] } as never), []);
    });
  });
});

describe("registration", () => {
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("activation registers hover, completion (':' trigger) and quick fixes for Sluice's YAML files, and the collection", async () => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sluice-lang-")));
    vscode.reset([dir]);
    const context = vscode.fakeExtensionContext(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")));
    const api = activate(context as never);
    await api.whenSettled();
    const kinds = vscode.state.languageProviders.map((p) => p.kind);
    assert.deepEqual(kinds, ["hover", "completion", "codeActions"]);
    const [hover, completion, actions] = vscode.state.languageProviders;
    assert.match(JSON.stringify(hover.selector), /sluice\.yaml/);
    assert.match(JSON.stringify(hover.selector), /\*\.run\.\{yaml,yml\}/);
    assert.deepEqual(completion.extra, [":"]);
    assert.deepEqual((actions.extra[0] as { providedCodeActionKinds: vscode.CodeActionKind[] }).providedCodeActionKinds.map((k) => k.value), ["quickfix"]);
    assert.deepEqual(vscode.state.diagnosticCollections.map((c) => c.name), ["sluice"]);
    for (const d of context.subscriptions.splice(0)) await d.dispose();
    await deactivate();
    assert.ok(vscode.state.languageProviders.every((p) => p.disposed));
    assert.ok(vscode.state.diagnosticCollections[0].disposed);
  });

  test("in an untrusted workspace nothing is registered or validated until trust is granted", async () => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sluice-lang-")));
    vscode.reset([dir]);
    vscode.workspace.isTrusted = false;
    const file = write("sluice.yaml", "nope: 1\n");
    const features = registerLanguageFeatures({ debounceMs: 5 });
    vscode.openDocument(file);
    await features.diagnostics.whenIdle();
    assert.equal(vscode.state.languageProviders.length, 0);
    assert.equal(vscode.state.diagnosticCollections[0].entries.size, 0);
    vscode.grantWorkspaceTrust();
    await features.diagnostics.whenIdle();
    assert.deepEqual(vscode.state.languageProviders.map((p) => p.kind), ["hover", "completion", "codeActions"]);
    assert.deepEqual(vscode.state.diagnosticCollections[0].get(vscode.Uri.file(file))?.map((d) => d.code), ["unknown-key"]);
    features.dispose();
  });
});
