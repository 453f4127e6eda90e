// Job files type-check in the editor without `npm install sluice`: the workspace has no
// node_modules, no package.json and no tsconfig; the TypeScript server plugin that the .vsix ships
// resolves "sluice" to the bundled SDK declarations.
import * as assert from "assert";
import { suite, suiteSetup, test } from "mocha";
import * as vscode from "vscode";
import { hoverText, open, positionOf, tsErrors, waitFor, workspaceUri } from "./util";

export function sdkTypesSuite(): void {
  suite("SDK types in the TypeScript language service", () => {
    suiteSetup(async () => {
      // A control file with deliberate type errors against the SDK: once TypeScript reports them,
      // the server is up, the plugin is loaded and "sluice" resolved to real types.
      await open(workspaceUri("pipelines", "types_control.ts"));
      const errors = await waitFor("TypeScript diagnostics on types_control.ts", () => {
        const e = tsErrors(workspaceUri("pipelines", "types_control.ts"));
        return e.length >= 2 ? e : undefined;
      }, 120_000);
      console.log(`    control errors: ${errors.map((e) => `${e.code}@${e.range.start.line + 1}`).join(", ")}`);
    });

    test("the control file's errors come from the SDK's types (not 'cannot find module')", () => {
      const errors = tsErrors(workspaceUri("pipelines", "types_control.ts"));
      assert.ok(!errors.some((e) => String(typeof e.code === "object" ? e.code.value : e.code) === "2307"), errors.map((e) => e.message).join("\n"));
      const lines = errors.map((e) => e.range.start.line + 1).sort();
      assert.deepStrictEqual(lines, [4, 6], errors.map((e) => `${e.range.start.line + 1}: ${e.message}`).join("\n"));
    });

    test("a job file importing from \"sluice\" has no TypeScript errors", async () => {
      const uri = workspaceUri("pipelines", "hello.ts");
      await open(uri);
      // give the server a moment to publish for this file too
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepStrictEqual(tsErrors(uri).map((d) => `${d.range.start.line + 1}: ${d.message}`), []);
    });

    test("hover on `op` shows the SDK's signature and docs", async () => {
      const editor = await open(workspaceUri("pipelines", "hello.ts"));
      const pos = positionOf(editor.document, "op(function", 0);
      const text = await waitFor("hover with SDK docs", async () => {
        const t = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", editor.document.uri, pos));
        return /OpDefinition/.test(t) ? t : undefined;
      }, 30_000);
      console.log(`    hover: ${text.replace(/\s+/g, " ").slice(0, 160)}…`);
      assert.match(text, /\bop</);
      assert.match(text, /Defines an op/);
    });

    test("completions after `import { ... } from \"sluice\"` list the SDK's exports", async () => {
      const editor = await open(workspaceUri("pipelines", "hello.ts"));
      const pos = positionOf(editor.document, "{ job, op, z }", 1);
      const list = await vscode.commands.executeCommand<vscode.CompletionList>("vscode.executeCompletionItemProvider", editor.document.uri, pos);
      const labels = new Set(list.items.map((i) => (typeof i.label === "string" ? i.label : i.label.label)));
      for (const name of ["asset", "defineAssetJob", "RetryPolicy"]) assert.ok(labels.has(name), `completion ${name}`);
    });

    test("JavaScript job files get the SDK's docs too", async () => {
      const editor = await open(workspaceUri("pipelines", "legacy.js"));
      const pos = positionOf(editor.document, "job({", 0);
      const text = await waitFor("hover in a .js file", async () => {
        const t = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", editor.document.uri, pos));
        return /JobDefinition/.test(t) ? t : undefined;
      }, 30_000);
      assert.match(text, /\bjob\(/);
    });
  });
}
