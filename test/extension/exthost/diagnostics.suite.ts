// Diagnostics, hover, completion and quick fixes for sluice.yaml and a run config file in a real
// VS Code: the fixture workspace's sluice.yaml is broken on disk (before it is opened, as by another
// program), a broken `hello_job.run.yaml` is written next to the job file; both get diagnostics at
// the right lines, answer hover/completion/code-action requests, and clear once fixed. The files
// are restored at the end (the untrusted suite reuses the workspace).
import * as assert from "assert";
import { suite, suiteSetup, suiteTeardown, test } from "mocha";
import * as vscode from "vscode";
import { BROKEN_SLUICE_YAML } from "../helpers/diagnosticsFixtures";
import { hoverText, open, positionOf, SLUICE_ID, waitFor, workspaceUri } from "./util";

// valid for any job's shape except the lines marked; with definitions loaded, `add_twoo` is an unknown op too
const BROKEN_RUN_CONFIG = `execution:
  config:
    multiprocess:
      max_concurrent: -1
      start_method:
        spawnn: {}
ops:
  add_twoo: {}
resourcez: {}
`;

type Row = [line: number, start: number, end: number, code: string];

function sluiceDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === "sluice");
}

function rows(uri: vscode.Uri): Row[] {
  return sluiceDiagnostics(uri).map((d) => [d.range.start.line, d.range.start.character, d.range.end.character, String(d.code)]);
}

async function writeText(uri: vscode.Uri, text: string): Promise<void> {
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
}

async function replaceAll(editor: vscode.TextEditor, text: string): Promise<void> {
  const doc = editor.document;
  const ok = await editor.edit((b) => b.replace(new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), text));
  assert.ok(ok, "edit applied");
}

async function completionLabels(uri: vscode.Uri, pos: vscode.Position): Promise<string[]> {
  const list = await vscode.commands.executeCommand<vscode.CompletionList>("vscode.executeCompletionItemProvider", uri, pos);
  return list.items.map((i) => (typeof i.label === "string" ? i.label : i.label.label));
}

async function quickFixes(uri: vscode.Uri, range: vscode.Range): Promise<vscode.CodeAction[]> {
  const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>("vscode.executeCodeActionProvider", uri, range, vscode.CodeActionKind.QuickFix.value);
  return actions.filter((a): a is vscode.CodeAction => "edit" in a || "kind" in a);
}

export function diagnosticsSuite(): void {
  suite("Diagnostics for sluice.yaml and run config files", () => {
    const yamlUri = () => workspaceUri("sluice.yaml");
    const rcUri = () => workspaceUri("pipelines", "hello_job.run.yaml");
    let originalYaml = "";
    let engineReady = false;

    suiteSetup(async () => {
      const ext = vscode.extensions.getExtension<{ whenSettled(): Promise<string> }>(SLUICE_ID)!;
      await ext.activate();
      engineReady = (await ext.exports.whenSettled()) === "ready";
      originalYaml = new TextDecoder().decode(await vscode.workspace.fs.readFile(yamlUri()));
    });

    suiteTeardown(async () => {
      await vscode.commands.executeCommand("workbench.action.closeAllEditors");
      await writeText(yamlUri(), originalYaml);
      try {
        await vscode.workspace.fs.delete(rcUri());
      } catch {
        // already gone
      }
    });

    test("a broken sluice.yaml gets diagnostics on the keys and values, before it is even opened", async () => {
      const t0 = Date.now();
      await writeText(yamlUri(), BROKEN_SLUICE_YAML);
      const got = await waitFor("sluice.yaml diagnostics from disk", () => (rows(yamlUri()).length === 3 ? rows(yamlUri()) : undefined), 30_000);
      console.log(`    sluice.yaml diagnostics ${Date.now() - t0} ms after the write: ${JSON.stringify(got)}`);
      assert.deepStrictEqual(got, [
        [3, 25, 27, "invalid-value"],
        [5, 17, 20, "invalid-value"],
        [6, 0, 13, "unknown-key"],
      ]);
      const [first, , third] = sluiceDiagnostics(yamlUri());
      assert.strictEqual(first.severity, vscode.DiagnosticSeverity.Error);
      assert.match(first.message, /max_concurrent_runs.*-1 \(unlimited\) or >= 0, got -2/);
      assert.match(third.message, /Did you mean `run_monitoring`\?/);
    });

    test("hover on a sluice.yaml key shows its description, allowed values and default", async () => {
      const editor = await open(yamlUri());
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", yamlUri(), positionOf(editor.document, "granularity", 3));
      const text = hoverText(hovers);
      assert.match(text, /concurrency\.pools\.granularity/);
      assert.match(text, /each step claims a pool slot/);
      assert.match(text, /Allowed values: `op` · `run`/);
      assert.match(text, /Default: `op`/);
    });

    test("completion offers the missing top-level keys and enum values", async () => {
      const editor = await open(yamlUri());
      const doc = editor.document;
      const keys = await completionLabels(yamlUri(), new vscode.Position(doc.lineCount - 1, 0));
      for (const k of ["run_queue", "run_retries", "schedules", "sensors"]) assert.ok(keys.includes(k), `${k} in ${keys.join(", ")}`);
      assert.ok(!keys.includes("concurrency"), "present keys are not offered");
      const values = await completionLabels(yamlUri(), positionOf(doc, "opp", 3));
      assert.ok(values.includes("op") && values.includes("run"), values.join(", "));
    });

    test("quick fixes replace the invalid value and the misspelt key; diagnostics follow the edits", async () => {
      const editor = await open(yamlUri());
      const doc = editor.document;
      const opp = positionOf(doc, "opp");
      const valueFixes = await quickFixes(yamlUri(), new vscode.Range(opp, opp.translate(0, 3)));
      assert.deepStrictEqual(valueFixes.map((a) => a.title), ["Replace with `op`", "Replace with `run`"]);
      assert.ok(await vscode.workspace.applyEdit(valueFixes[0].edit!));
      const key = positionOf(doc, "run_monitorin");
      const keyFixes = await quickFixes(yamlUri(), new vscode.Range(key, key.translate(0, 13)));
      assert.deepStrictEqual(keyFixes.map((a) => a.title), ["Replace with `run_monitoring`"]);
      assert.ok(await vscode.workspace.applyEdit(keyFixes[0].edit!));
      assert.match(doc.getText(), /granularity: op\n/);
      assert.match(doc.getText(), /\nrun_monitoring:\n/);
      await waitFor("one diagnostic left", () => (rows(yamlUri()).length === 1 ? true : undefined), 10_000);
      assert.deepStrictEqual(rows(yamlUri()), [[3, 25, 27, "invalid-value"]]);
    });

    test("diagnostics clear when sluice.yaml is fixed", async () => {
      const editor = await open(yamlUri());
      await replaceAll(editor, editor.document.getText().replace("max_concurrent_runs: -2", "max_concurrent_runs: 2"));
      await editor.document.save();
      await waitFor("no sluice diagnostics on sluice.yaml", () => (rows(yamlUri()).length === 0 ? true : undefined), 10_000);
    });

    test("a broken run config file: executor config and top-level keys (and op names once definitions are loaded)", async () => {
      await writeText(rcUri(), BROKEN_RUN_CONFIG);
      const editor = await open(rcUri());
      const expected: Row[] = [
        [3, 22, 24, "invalid-value"], // max_concurrent: -1
        [5, 8, 14, "unknown-key"], // spawnn
        ...(engineReady ? [[7, 2, 10, "unknown-key"] as Row] : []), // add_twoo
        [8, 0, 9, "unknown-key"], // resourcez
      ];
      const got = await waitFor("run config diagnostics", () => (rows(rcUri()).length === expected.length ? rows(rcUri()) : undefined), 30_000);
      assert.deepStrictEqual(got, expected);
      assert.match(sluiceDiagnostics(rcUri())[0].message, /max_concurrent.*>= 0/);

      const hover = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", rcUri(), positionOf(editor.document, "max_concurrent", 2)));
      assert.match(hover, /execution\.config\.multiprocess\.max_concurrent/);
      assert.match(hover, /Maximum steps running at once/);

      // at the start of the `ops:` line: the top-level keys but `execution` (present above)
      const keys = await completionLabels(rcUri(), positionOf(editor.document, "ops:"));
      assert.deepStrictEqual(keys.filter((k) => ["execution", "ops", "resources", "loggers"].includes(k)), ["ops", "resources", "loggers"]);

      const spawnn = positionOf(editor.document, "spawnn");
      const fixes = await quickFixes(rcUri(), new vscode.Range(spawnn, spawnn.translate(0, 6)));
      assert.deepStrictEqual(fixes.map((a) => a.title), ["Replace with `spawn`"]);
    });

    test("run config diagnostics clear when the file is fixed", async () => {
      const editor = await open(rcUri());
      await replaceAll(editor, "execution:\n  config:\n    multiprocess:\n      max_concurrent: 2\n      start_method:\n        spawn: {}\nops:\n  add_two: {}\nresources: {}\n");
      await editor.document.save();
      await waitFor("no sluice diagnostics on the run config", () => (rows(rcUri()).length === 0 ? true : undefined), 10_000);
    });
  });
}
