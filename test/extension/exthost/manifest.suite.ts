// The installed extension (from the .vsix): activation, a handler for every contributed command,
// every menu entry naming a contributed command, and commands that work without the engine.
import * as assert from "assert";
import { suite, suiteSetup, test } from "mocha";
import * as vscode from "vscode";
import { open, SLUICE_ID, waitFor, workspaceUri } from "./util";

interface Manifest {
  contributes: { commands: { command: string }[]; menus: Record<string, { command: string }[]>; views: Record<string, { id: string }[]> };
}

export function manifestSuite(): void {
  suite("Sluice installed from the .vsix", () => {
    let ext: vscode.Extension<{ apiVersion: number; engineState: string; whenSettled(): Promise<string> }>;
    let manifest: Manifest;

    suiteSetup(async () => {
      ext = vscode.extensions.getExtension(SLUICE_ID)!;
      assert.ok(ext, "sluice.sluice is installed");
      manifest = ext.packageJSON as Manifest;
      // activation event onLanguage:typescript, as for a user who opens a job file
      await open(workspaceUri("pipelines", "hello.ts"));
      await waitFor("activation", () => ext.isActive);
    });

    test("runs in a real VS Code, from the installed extension folder", () => {
      console.log(`    vscode ${vscode.version}, ${vscode.env.appName}, extension at ${ext.extensionPath}`);
      assert.ok(vscode.version.startsWith("1.100."), vscode.version);
      assert.ok(!ext.extensionPath.startsWith("/work/"), `installed copy, not the repository: ${ext.extensionPath}`);
      assert.strictEqual(ext.exports.apiVersion, 1);
    });

    test("the engine starts (in a worker thread of the extension host) and is ready", async () => {
      assert.strictEqual(await ext.exports.whenSettled(), "ready");
    });

    test("every contributed command has a registered handler", async () => {
      const registered = new Set(await vscode.commands.getCommands(true));
      const missing = manifest.contributes.commands.map((c) => c.command).filter((id) => !registered.has(id));
      assert.deepStrictEqual(missing, []);
      assert.strictEqual(manifest.contributes.commands.length, 18);
    });

    test("every menu entry references a contributed command", () => {
      const contributed = new Set(manifest.contributes.commands.map((c) => c.command));
      const bad = Object.entries(manifest.contributes.menus).flatMap(([menu, entries]) =>
        entries.filter((e) => !contributed.has(e.command)).map((e) => `${menu}: ${e.command}`));
      assert.deepStrictEqual(bad, []);
    });

    test("the views' focus commands exist (Runs and Definitions are registered views)", async () => {
      const registered = new Set(await vscode.commands.getCommands(true));
      for (const id of ["sluice.runs.focus", "sluice.definitions.focus", "workbench.view.extension.sluice"]) assert.ok(registered.has(id), id);
    });

    test("engine-backed commands answer without throwing (bad input is shown, not thrown); copyRunId copies", async () => {
      for (const id of ["sluice.runJob", "sluice.cancelRun", "sluice.materializeAsset", "sluice.refresh", "sluice.showOutput"]) {
        assert.strictEqual(await vscode.commands.executeCommand(id, "x"), undefined, id);
      }
      // a log document for an unknown run says so
      assert.strictEqual(await vscode.commands.executeCommand("sluice.openRunLogs", "no-such-run"), "no-such-run");
      const doc = await waitFor("log document", () => {
        const d = vscode.window.activeTextEditor?.document;
        return d?.uri.scheme === "sluice-run" && /No run with id no-such-run/.test(d.getText()) ? d : undefined;
      });
      assert.ok(doc);
      await vscode.commands.executeCommand("workbench.action.closeActiveEditor");
      assert.strictEqual(await vscode.commands.executeCommand("sluice.copyRunId", { runId: "0123abcd-e2e" }), "0123abcd-e2e");
      assert.strictEqual(await vscode.env.clipboard.readText(), "0123abcd-e2e");
    });
  });
}
