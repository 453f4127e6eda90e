// `Sluice: New Job File` writes the example into the workspace, opens it, and it type-checks.
import * as assert from "assert";
import { suite, test } from "mocha";
import * as vscode from "vscode";
import { tsErrors, waitFor, workspaceUri } from "./util";

export function newJobFileSuite(): void {
  suite("New Job File", () => {
    test("writes a working example job file and opens it", async () => {
      const uri = await vscode.commands.executeCommand<vscode.Uri>("sluice.newJobFile", { path: "pipelines/generated_job.ts" });
      assert.ok(uri, "the command returns the new file");
      assert.strictEqual(uri.toString(), workspaceUri("pipelines", "generated_job.ts").toString());
      const editor = await waitFor("the new file in an editor", () =>
        vscode.window.activeTextEditor?.document.uri.toString() === uri.toString() ? vscode.window.activeTextEditor : undefined);
      const text = editor.document.getText();
      for (const needle of ["const return_one = op(", "const add_two = op(", "const multi_three = op(", "export const generated_job = job(", "multi_three(add_two(return_one()))"]) {
        assert.ok(text.includes(needle), needle);
      }
      // it type-checks: wait until TypeScript has looked at it (its semantic pass publishes, possibly empty)
      await new Promise((r) => setTimeout(r, 3000));
      assert.deepStrictEqual(tsErrors(uri).map((d) => d.message), []);
    });
  });
}
