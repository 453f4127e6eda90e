// Restricted Mode: the workspace is not trusted. Sluice declares untrustedWorkspaces.supported =
// false, so VS Code must keep it disabled: it does not activate (even though the folder has a
// sluice.yaml and a job file is opened), registers no command, and creates no .sluice home.
import * as assert from "assert";
import { suite, suiteSetup, test } from "mocha";
import * as vscode from "vscode";
import { open, SLUICE_ID, workspaceUri } from "./util";

export function untrustedSuite(): void {
  suite("untrusted workspace", () => {
    suiteSetup(async () => {
      await open(workspaceUri("pipelines", "hello.ts"));
      // give activation events (workspaceContains:sluice.yaml, onLanguage:typescript) time to fire
      await new Promise((r) => setTimeout(r, 4000));
    });

    test("the workspace is in Restricted Mode", () => {
      assert.strictEqual(vscode.workspace.isTrusted, false);
    });

    test("Sluice is not active", () => {
      const ext = vscode.extensions.getExtension(SLUICE_ID);
      console.log(`    getExtension: ${ext ? `present, isActive=${ext.isActive}` : "undefined (disabled)"}`);
      assert.ok(!ext || !ext.isActive);
    });

    test("none of Sluice's commands is registered, so nothing can be run", async () => {
      const registered = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith("sluice."));
      assert.deepStrictEqual(registered.filter((c) => !c.endsWith(".focus") && !c.endsWith(".resetViewLocation") && !c.endsWith(".toggleVisibility") && !c.endsWith(".removeView") && !c.endsWith(".open")), []);
      await assert.rejects(Promise.resolve(vscode.commands.executeCommand("sluice.runJob", "hello_job")), /not found/);
    });

    test("no .sluice home was created", async () => {
      await assert.rejects(Promise.resolve(vscode.workspace.fs.stat(workspaceUri(".sluice"))));
    });
  });
}
