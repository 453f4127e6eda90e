// The engine inside a real VS Code: it starts in a worker thread of the extension host, loads the
// fixture's job files, CodeLens comes from its definitions, a job run through the command reaches
// SUCCESS in the store, the Runs view's source has it, its log document shows the events and the
// steps' output; a failing op's stack links to its line; re-execution from failure; a job file
// that hangs at import time and an op that never returns leave VS Code responsive.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { suite, suiteSetup, test } from "mocha";
import * as vscode from "vscode";
import { open, SLUICE_ID, waitFor, workspaceUri } from "./util";

interface Api {
  engineState: string;
  whenSettled(): Promise<string>;
  getRuns(): readonly { runId: string; jobName: string; status: string; tags?: Record<string, string> }[];
  readRun(runId: string): Promise<{ runId: string; status: string; tags: Record<string, string>; parentRunId: string | null } | undefined>;
  getDefinitionNames(): { jobs: string[]; assets: string[]; errors: string[] };
}

const FINISHED = ["SUCCESS", "FAILURE", "CANCELED"];

/** A value that must not take long to get while the engine is busy: VS Code stays responsive. */
async function quickly<T>(what: string, fn: () => Thenable<T> | T, ms = 2000): Promise<T> {
  const t0 = Date.now();
  const v = await fn();
  const took = Date.now() - t0;
  assert.ok(took < ms, `${what} took ${took} ms`);
  return v;
}

export function engineSuite(): void {
  suite("the engine in the extension host", function () {
    this.timeout(120_000);
    let api: Api;
    const root = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
    const write = (rel: string, text: string) => {
      const file = path.join(root(), rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      return file;
    };
    const waitForRun = async (runId: string, statuses = FINISHED, ms = 60_000) =>
      waitFor(`run ${runId} to reach ${statuses.join("/")}`, async () => {
        const r = await api.readRun(runId);
        return r && statuses.includes(r.status) ? r : undefined;
      }, ms);

    suiteSetup(async () => {
      const ext = vscode.extensions.getExtension<Api>(SLUICE_ID)!;
      await open(workspaceUri("pipelines", "hello.ts"));
      await waitFor("activation", () => ext.isActive);
      api = ext.exports;
      assert.strictEqual(await api.whenSettled(), "ready");
      await waitFor("hello_job in the definitions", () => api.getDefinitionNames().jobs.includes("hello_job"));
    });

    test("CodeLens above the job from the engine's definitions; Run with <file> once a run config file exists", async () => {
      const uri = workspaceUri("pipelines", "hello.ts");
      const titles = async () => ((await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", uri)) ?? []).map((l) => l.command?.title ?? "");
      const lenses = await waitFor("lenses", async () => ((await titles()).includes("▶ Run job") ? titles() : undefined));
      for (const t of ["▶ Run job", "Run op selection…", "Open launchpad", "Show in graph"]) assert.ok(lenses.includes(t), `${t} in ${lenses.join(" | ")}`);
      write("pipelines/hello_job.run.yaml", "ops:\n  multi_three:\n    config:\n      factor: 5\n");
      await waitFor("Run with hello_job.run.yaml", async () => (await titles()).includes("Run with hello_job.run.yaml") || undefined, 20_000);
    });

    let okRun = "";
    test("▶ Run job (the command) runs the job to SUCCESS in the store; the Runs view lists it", async () => {
      const t0 = Date.now();
      okRun = (await vscode.commands.executeCommand<string>("sluice.runJob", { jobName: "hello_job" }))!;
      assert.ok(okRun, "the command returns the run id");
      const run = await waitForRun(okRun);
      assert.strictEqual(run.status, "SUCCESS");
      console.log(`    hello_job: SUCCESS ${Date.now() - t0} ms after the command`);
      await waitFor("the run in the Runs view's source", () => api.getRuns().find((r) => r.runId === okRun && r.status === "SUCCESS"), 10_000);
    });

    test("Run with hello_job.run.yaml uses the file's run config", async () => {
      const file = path.join(root(), "pipelines", "hello_job.run.yaml");
      const runId = (await vscode.commands.executeCommand<string>("sluice.runJob", { jobName: "hello_job", runConfigFile: file }))!;
      assert.strictEqual((await waitForRun(runId)).status, "SUCCESS");
      await vscode.commands.executeCommand("sluice.openRunLogs", runId);
      const doc = await waitFor("log document", () => {
        const d = vscode.window.activeTextEditor?.document;
        return d?.uri.scheme === "sluice-run" && d.getText().includes("multiplying 3 by 5") ? d : undefined;
      }, 20_000);
      assert.match(doc.getText(), /RUN_SUCCESS/);
    });

    test("Open run logs: a read-only log document with the events, levels and timestamps", async () => {
      await vscode.commands.executeCommand("sluice.openRunLogs", okRun);
      const doc = await waitFor("log document", () => {
        const d = vscode.window.activeTextEditor?.document;
        return d?.uri.scheme === "sluice-run" && d.getText().includes("RUN_SUCCESS") ? d : undefined;
      }, 20_000);
      const text = doc.getText();
      assert.match(text, new RegExp(`Run ${okRun} · hello_job · SUCCESS`));
      assert.match(text, /\d\d:\d\d:\d\d\.\d{3}  INFO {4}STEP_SUCCESS/);
      assert.match(text, /multiplying 3 by 3/);
      assert.strictEqual(doc.languageId, "log");
    });

    let failedRun = "";
    test("a failing op: FAILURE, its error and stack in the log, the frame in the job file is a link", async () => {
      const file = write("pipelines/failing.ts", `import { job, op } from "sluice";

const first = op(function first() {
  console.log("first ran");
  return 1;
});
const explode = op(function explode(ctx, x: number) {
  throw new Error("exploded with " + x);
});
export const failing_job = job({ name: "failing_job" }, () => {
  explode(first());
});
`);
      await waitFor("failing_job loaded", () => api.getDefinitionNames().jobs.includes("failing_job"), 30_000);
      failedRun = (await vscode.commands.executeCommand<string>("sluice.runJob", { jobName: "failing_job" }))!;
      assert.strictEqual((await waitForRun(failedRun)).status, "FAILURE");
      await vscode.commands.executeCommand("sluice.openRunLogs", failedRun);
      const doc = await waitFor("the failure in the log", () => {
        const d = vscode.window.activeTextEditor?.document;
        return d?.uri.scheme === "sluice-run" && d.getText().includes("exploded with 1") && d.getText().includes("RUN_FAILURE") ? d : undefined;
      }, 20_000);
      assert.match(doc.getText(), /at Object\.explode \(pipelines\/failing\.ts:8:9\)/);
      const links = (await vscode.commands.executeCommand<vscode.DocumentLink[]>("vscode.executeLinkProvider", doc.uri)) ?? [];
      const toJobFile = links.filter((l) => l.target?.fsPath === file);
      assert.ok(toJobFile.length > 0, `links: ${links.map((l) => l.target?.toString()).join(", ")}`);
      assert.match(toJobFile[0].target!.fragment, /^L8,9$/);
    });

    test("Re-execute from failure: a child run of only the failed step, with lineage tags", async () => {
      const child = (await vscode.commands.executeCommand<string>("sluice.reexecuteFromFailure", { runId: failedRun }))!;
      const run = await waitForRun(child);
      assert.strictEqual(run.status, "FAILURE");
      assert.strictEqual(run.parentRunId, failedRun);
      assert.strictEqual(run.tags["sluice/parent_run_id"], failedRun);
      assert.strictEqual(run.tags["sluice/root_run_id"], failedRun);
    });

    test("a job file that never finishes importing: VS Code stays responsive, the file gets a load error", async () => {
      const hang = write("pipelines/hang.ts", `import { job, op } from "sluice";\nwhile (true) {}\nexport const never_job = job({ name: "never_job" }, () => op(function x() {})());\n`);
      try {
        // while the code-location process spins, the host answers at once
        for (let i = 0; i < 5; i++) {
          await quickly("sluice.copyRunId", () => vscode.commands.executeCommand("sluice.copyRunId", { runId: okRun }));
          await quickly("getDefinitionNames", () => api.getDefinitionNames());
          await new Promise((r) => setTimeout(r, 300));
        }
        const error = await waitFor("the timeout load error", () => api.getDefinitionNames().errors.find((e) => e.includes("hang.ts") && /did not finish/.test(e)), 60_000);
        assert.match(error, /endless loop/);
        assert.ok(api.getDefinitionNames().jobs.includes("hello_job"), "the other job files still load");
      } finally {
        fs.rmSync(hang, { force: true });
      }
      await waitFor("the load error gone", () => !api.getDefinitionNames().errors.some((e) => e.includes("hang.ts")) || undefined, 60_000);
    });

    test("an op that never returns: the run stays in progress, VS Code stays responsive, Cancel ends it", async () => {
      write("pipelines/forever.ts", `import { job, op } from "sluice";\nconst spin = op(function spin() {\n  console.log("spinning");\n  for (;;) {}\n});\nexport const forever_job = job({ name: "forever_job" }, () => {\n  spin();\n});\n`);
      await waitFor("forever_job loaded", () => api.getDefinitionNames().jobs.includes("forever_job"), 30_000);
      const runId = (await vscode.commands.executeCommand<string>("sluice.runJob", { jobName: "forever_job" }))!;
      await waitForRun(runId, ["STARTED"], 30_000);
      await new Promise((r) => setTimeout(r, 1500));
      assert.strictEqual((await quickly("readRun", () => api.readRun(runId)))!.status, "STARTED");
      await quickly("executeCodeLensProvider", () => vscode.commands.executeCommand("vscode.executeCodeLensProvider", workspaceUri("pipelines", "hello.ts")));
      await vscode.commands.executeCommand("sluice.cancelRun", runId);
      assert.strictEqual((await waitForRun(runId, FINISHED, 30_000)).status, "CANCELED");
      fs.rmSync(path.join(root(), "pipelines", "forever.ts"), { force: true });
    });
  });
}
