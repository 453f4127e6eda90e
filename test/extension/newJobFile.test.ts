// `Sluice: New Job File` against the stubbed `vscode` module and a real temporary folder.
import * as vscode from "./helpers/vscodeStub";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { newJobFile, validateJobFilePath } from "../../src/extension/commands/newJobFile";
import { flavorOf, jobFileTemplate, jobNameForFile } from "../../src/extension/commands/jobFileTemplate";

let ws: string;
beforeEach(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-newjob-"));
  vscode.reset([ws]);
});
afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

describe("New Job File", () => {
  test("prompts with pipelines/hello_job.ts, writes the example there and opens it", async () => {
    vscode.state.inputAnswers.push((o) => o.value);
    const uri = await newJobFile();
    assert.equal(uri?.fsPath, path.join(ws, "pipelines", "hello_job.ts"));
    const box = vscode.state.inputBoxes[0].options;
    assert.equal(box.value, "pipelines/hello_job.ts");
    assert.deepEqual(box.valueSelection, ["pipelines/".length, "pipelines/hello_job".length]);
    const text = fs.readFileSync(uri!.fsPath, "utf8");
    assert.equal(text, jobFileTemplate("hello_job", "ts"));
    assert.match(text, /import \{ job, op, z \} from "sluice";/);
    assert.match(text, /multi_three\(add_two\(return_one\(\)\)\);/);
    assert.match(text, /export const hello_job = job\(\{ name: "hello_job" \}/);
    assert.equal(vscode.state.opened[0].uri.fsPath, uri!.fsPath);
  });

  test("the next default does not overwrite, and the prompt validates as you type", async () => {
    fs.mkdirSync(path.join(ws, "pipelines"));
    fs.writeFileSync(path.join(ws, "pipelines", "hello_job.ts"), "// mine\n");
    vscode.state.inputAnswers.push(undefined); // cancel
    assert.equal(await newJobFile(), undefined);
    const box = vscode.state.inputBoxes[0];
    assert.equal(box.options.value, "pipelines/hello_2_job.ts");
    assert.equal(box.validation, undefined);
    const validate = box.options.validateInput as (v: string) => Promise<string | undefined>;
    assert.equal(await validate("pipelines/hello_job.ts"), "pipelines/hello_job.ts already exists.");
    assert.equal(await validate("orders.py"), "Use a .ts, .mts, .cts, .js, .mjs or .cjs file name.");
    assert.equal(await validate("../outside.ts"), "Use a path relative to the folder.");
    assert.equal(await validate("/etc/x.ts"), "Use a path relative to the folder.");
    assert.equal(await validate("9lives.ts"), "Start the file name with a letter; use letters, digits, '_' and '-'.");
    assert.equal(await validate("etl/orders.mjs"), undefined);
    assert.equal(fs.readFileSync(path.join(ws, "pipelines", "hello_job.ts"), "utf8"), "// mine\n");
  });

  test("from the Explorer's context menu: relative to the clicked folder", async () => {
    fs.mkdirSync(path.join(ws, "etl"));
    vscode.state.inputAnswers.push("orders.mjs");
    const uri = await newJobFile(vscode.Uri.file(path.join(ws, "etl")) as never);
    assert.equal(uri?.fsPath, path.join(ws, "etl", "orders.mjs"));
    assert.equal(vscode.state.inputBoxes[0].options.value, "hello_job.ts");
    assert.equal(fs.readFileSync(uri!.fsPath, "utf8"), jobFileTemplate("orders_job", "esm"));
  });

  test("with { path } there is no prompt; an existing file is refused", async () => {
    const uri = await newJobFile({ path: "jobs/my-etl.cjs", open: false });
    assert.equal(vscode.state.inputBoxes.length, 0);
    assert.equal(vscode.state.opened.length, 0);
    assert.match(fs.readFileSync(uri!.fsPath, "utf8"), /const \{ job, op, z \} = require\("sluice"\);[\s\S]*module.exports = \{ my_etl_job \};/);
    assert.equal(await newJobFile({ path: "jobs/my-etl.cjs" }), undefined);
    assert.equal(vscode.state.messages.at(-1)?.message, "jobs/my-etl.cjs already exists.");
  });

  test("without an open folder it explains instead of writing", async () => {
    vscode.reset([]);
    assert.equal(await newJobFile(), undefined);
    assert.match(vscode.state.messages[0].message, /Open a folder first/);
  });

  test("several workspace folders: asks which one", async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-newjob-b-"));
    try {
      vscode.reset([ws, other]);
      const uri = await newJobFile({ path: "a.ts", open: false });
      assert.equal(vscode.state.folderPicks, 1);
      assert.equal(uri?.fsPath, path.join(ws, "a.ts"));
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});

describe("job file template", () => {
  test("job names come from the file name", () => {
    assert.equal(jobNameForFile("hello_job.ts"), "hello_job");
    assert.equal(jobNameForFile("pipelines/orders.ts"), "orders_job");
    assert.equal(jobNameForFile("my-etl.mjs"), "my_etl_job");
    assert.equal(jobNameForFile("job.ts"), "job");
    assert.equal(jobNameForFile("2024_load.ts"), "job_2024_load_job");
  });
  test("flavors", () => {
    assert.equal(flavorOf("a.ts"), "ts");
    assert.equal(flavorOf("a.mts"), "ts");
    assert.equal(flavorOf("a.js"), "esm");
    assert.equal(flavorOf("a.mjs"), "esm");
    assert.equal(flavorOf("a.cjs"), "cjs");
    assert.doesNotMatch(jobFileTemplate("x_job", "esm"), /: number/);
    assert.equal(validateJobFilePath(" pipelines/a.ts "), undefined);
  });
});
