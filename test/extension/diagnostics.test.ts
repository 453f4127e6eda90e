// Diagnostics for sluice.yaml, run config files and job files (stubbed `vscode`): the controller's
// three feeds, exact ranges, stable codes, and the pure pieces under it (the JSON Schema subset
// checker for op config, run config validation against a job, where a load error goes).
import * as vscode from "./helpers/vscodeStub";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { DiagnosticsController, DIAGNOSTIC_COLLECTION, UNKNOWN_JOB_CODE } from "../../src/extension/diagnostics/controller";
import { classify } from "../../src/extension/diagnostics/documents";
import { loadErrorCode, loadErrorRange } from "../../src/extension/diagnostics/jobErrors";
import { checkJsonSchema, describeJsonSchema, yamlScalar } from "../../src/engine/config/jsonSchemaCheck";
import { jobNameOfRunConfigFile, validateRunConfigText } from "../../src/extension/diagnostics/runConfig";
import type { JobSnapshot, LoadError } from "../../src/engine/definitions/snapshot";
import { BROKEN_SLUICE_YAML, helloJob, MULTI_THREE_SCHEMA, snapshotOf } from "./helpers/diagnosticsFixtures";

// ---------------------------------------------------------------------------------------------
// fixtures

const BROKEN_RUN_CONFIG = `execution:
  config:
    multiprocess:
      max_concurrent: -1
      start_method:
        spawnn: {}
      tag_concurrency_limits:
        - key: db
          limit: -3
ops:
  multi_three:
    config:
      factor: "x"
      mode: medium
      factr: 2
  add_twoo:
    config: {}
  return_one:
    config:
      a: 1
resourcez: {}
`;

type Row = [line: number, start: number, endLine: number, end: number, code: string, severity: number];

function rows(collection: vscode.FakeDiagnosticCollection, file: string): Row[] {
  return (collection.get(vscode.Uri.file(file)) ?? []).map((d) => [d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character, String(d.code), d.severity]);
}

const E = vscode.DiagnosticSeverity.Error;
const W = vscode.DiagnosticSeverity.Warning;

let dir: string;
let controller: DiagnosticsController;
let collection: vscode.FakeDiagnosticCollection;

function write(rel: string, text: string): string {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

function startController(options = {}): void {
  controller = new DiagnosticsController({ debounceMs: 30, ...options });
  collection = vscode.state.diagnosticCollections.at(-1)!;
  controller.start();
}

describe("DiagnosticsController", () => {
  beforeEach(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sluice-diag-")));
    vscode.reset([dir]);
  });
  afterEach(() => {
    controller?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("one collection named sluice; sluice.yaml errors on the key or value, with source and stable codes", async () => {
    const file = write("sluice.yaml", BROKEN_SLUICE_YAML);
    startController();
    assert.equal(collection.name, DIAGNOSTIC_COLLECTION);
    assert.equal(vscode.state.diagnosticCollections.length, 1);
    vscode.openDocument(file);
    await controller.whenIdle();
    assert.deepEqual(rows(collection, file), [
      [3, 25, 3, 27, "invalid-value", E], // -2
      [5, 17, 5, 20, "invalid-value", E], // opp
      [6, 0, 6, 13, "unknown-key", E], // run_monitorin
    ]);
    const diags = collection.get(vscode.Uri.file(file))!;
    assert.ok(diags.every((d) => d.source === "sluice"));
    assert.match(diags[0].message, /max_concurrent_runs.*-1 \(unlimited\) or >= 0, got -2/);
    assert.match(diags[2].message, /Did you mean `run_monitoring`\?/);
    // the stored problems keep what quick fixes need
    const [, granularity, unknown] = controller.problemsFor(vscode.Uri.file(file) as never);
    assert.deepEqual(granularity.problem.allowed, ["op", "run"]);
    assert.equal(unknown.problem.suggestion, "run_monitoring");
  });

  test("edits are validated after a pause (debounced), saves at once; fixing the file clears its diagnostics", async () => {
    const file = write("sluice.yaml", "concurrency:\n  pools:\n    granularity: op\n");
    startController({ debounceMs: 150 });
    const doc = vscode.openDocument(file);
    await controller.whenIdle();
    assert.deepEqual(rows(collection, file), []);
    vscode.changeDocument(doc, "concurrency:\n  pools:\n    granularity: nope\n");
    vscode.changeDocument(doc, "concurrency:\n  pools:\n    granularity: nope\n    default_limit: 5000\n");
    await new Promise((r) => setTimeout(r, 60)); // time enough for validation that does not wait for the pause
    assert.deepEqual(rows(collection, file), [], "not before the pause");
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(rows(collection, file), [[2, 17, 2, 21, "invalid-value", E], [3, 19, 3, 23, "invalid-value", E]]);
    vscode.changeDocument(doc, "concurrency:\n  pools:\n    granularity: run\n");
    vscode.saveDocument(doc);
    assert.deepEqual(rows(collection, file), [], "a save validates at once");
  });

  test("only sluice.yaml at a workspace folder's root is the instance file", async () => {
    const nested = write("sub/sluice.yaml", "bogus: 1\n");
    const root = write("sluice.yaml", "bogus: 1\n");
    startController();
    vscode.openDocument(nested);
    vscode.openDocument(root);
    await controller.whenIdle();
    assert.deepEqual(rows(collection, nested), []);
    assert.deepEqual(rows(collection, root).map((r) => r[4]), ["unknown-key"]);
    assert.deepEqual(classify("/w/sluice.yaml", ["/w"]), { kind: "instance" });
    assert.equal(classify("/w/sub/sluice.yaml", ["/w"]), undefined);
    assert.deepEqual(classify("/w/configs/hello_job.run.yaml", ["/w"]), { kind: "runConfig", jobName: "hello_job" });
    assert.deepEqual(classify("/w/hello_job.run.yml", ["/w"]), { kind: "runConfig", jobName: "hello_job" });
    assert.equal(classify("/w/hello_job.yaml", ["/w"]), undefined);
    assert.equal(jobNameOfRunConfigFile("/w/.run.yaml"), undefined);
    assert.equal(jobNameOfRunConfigFile("/w/orders_job.prod.run.yaml"), "orders_job", "a variant's job is the name up to the first dot, as CodeLens has it");
  });

  test("files that are not open are validated from disk at start, and followed by the watcher", async () => {
    const yaml = write("sluice.yaml", BROKEN_SLUICE_YAML);
    const rc = write("configs/hello_job.run.yaml", "execution:\n  config:\n    multiprocess:\n      max_concurrent: -1\n");
    vscode.state.files.push(rc);
    startController();
    await controller.whenIdle();
    assert.equal(rows(collection, yaml).length, 3);
    assert.deepEqual(rows(collection, rc), [[3, 22, 3, 24, "invalid-value", E]]);
    const [watcher] = vscode.state.fileWatchers;
    assert.match(String(watcher.pattern), /sluice\.yaml/);
    fs.writeFileSync(yaml, "concurrency: {}\n");
    watcher.changed.fire(vscode.Uri.file(yaml));
    await controller.whenIdle();
    assert.deepEqual(rows(collection, yaml), []);
    fs.rmSync(rc);
    watcher.deleted.fire(vscode.Uri.file(rc));
    await controller.whenIdle();
    assert.equal(collection.has(vscode.Uri.file(rc)), false);
  });

  test("closing an editor with unsaved changes goes back to what is on disk", async () => {
    const file = write("sluice.yaml", "concurrency: {}\n");
    startController();
    const doc = vscode.openDocument(file);
    vscode.changeDocument(doc, "nope: 1\n");
    await controller.whenIdle();
    assert.equal(rows(collection, file).length, 1);
    vscode.closeDocument(doc);
    await controller.whenIdle();
    assert.deepEqual(rows(collection, file), []);
  });

  test("a run config before any definitions: what holds for every job (executor config, top-level keys)", async () => {
    const file = write("hello_job.run.yaml", BROKEN_RUN_CONFIG);
    startController();
    vscode.openDocument(file);
    await controller.whenIdle();
    assert.deepEqual(rows(collection, file), [
      [3, 22, 3, 24, "invalid-value", E], // max_concurrent: -1
      [5, 8, 5, 14, "unknown-key", E], // spawnn
      [8, 17, 8, 19, "invalid-value", E], // limit: -3
      [20, 0, 20, 9, "unknown-key", E], // resourcez
    ]);
  });

  test("a run config against its job once definitions arrive: op names, op config (JSON Schema), inputs", async () => {
    const file = write("hello_job.run.yaml", BROKEN_RUN_CONFIG);
    startController();
    vscode.openDocument(file);
    await controller.updateDefinitions(snapshotOf([helloJob()]));
    assert.deepEqual(rows(collection, file), [
      [3, 22, 3, 24, "invalid-value", E], // max_concurrent: -1
      [5, 8, 5, 14, "unknown-key", E], // spawnn
      [8, 17, 8, 19, "invalid-value", E], // limit: -3
      [12, 14, 12, 17, "op-config", E], // factor: "x"
      [13, 12, 13, 18, "op-config", E], // mode: medium
      [14, 6, 14, 11, "op-config-unknown-key", W], // factr (a plain z.object strips it: a warning)
      [15, 2, 15, 10, "unknown-key", E], // add_twoo
      [18, 4, 18, 10, "op-config-not-taken", E], // return_one takes no config
      [20, 0, 20, 9, "unknown-key", E], // resourcez
    ]);
    const messages = collection.get(vscode.Uri.file(file))!.map((d) => d.message);
    assert.match(messages[3], /`factor` must be a number, got "x"/);
    assert.match(messages[4], /`mode` must be one of 'fast', 'slow', got "medium"/);
    assert.match(messages[5], /Did you mean `factor`\?/);
    assert.match(messages[6], /unknown op `add_twoo` in `ops`\. Did you mean `add_two`\?/);
    assert.match(messages[7], /op `return_one` takes no config/);
    const problems = controller.problemsFor(vscode.Uri.file(file) as never).map((e) => e.problem);
    assert.deepEqual(problems[4].allowed, ["fast", "slow"]);
    assert.equal(problems[5].suggestion, "factor");
  });

  test("required op config, inputs and a valid file", async () => {
    const file = write("hello_job.run.yaml", "ops:\n  multi_three:\n    inputs:\n      j: 1\n");
    startController();
    vscode.openDocument(file);
    await controller.updateDefinitions(snapshotOf([helloJob()]));
    const diags = collection.get(vscode.Uri.file(file))!;
    assert.deepEqual(rows(collection, file), [[1, 2, 1, 13, "op-config-missing", E], [3, 6, 3, 7, "unknown-key", E]]);
    assert.match(diags[0].message, /op `multi_three` needs config: missing required key `mode`/);
    assert.match(diags[1].message, /unknown input `j`/);
    const doc = vscode.workspace.textDocuments[0];
    vscode.changeDocument(doc, "ops:\n  multi_three:\n    config:\n      mode: fast\n      target: { table: orders }\n    inputs:\n      i: 1\n");
    await controller.whenIdle();
    assert.deepEqual(rows(collection, file), []);
  });

  test("a run config whose job is unknown gets one diagnostic, with a suggestion", async () => {
    const file = write("hello_jb.run.yaml", "# comment\n\nops:\n  nothing: {}\n");
    startController();
    vscode.openDocument(file);
    await controller.updateDefinitions(snapshotOf([helloJob(), { ...helloJob(), name: "__ASSET_JOB", implicit: true }]));
    assert.deepEqual(rows(collection, file), [[0, 0, 0, 9, UNKNOWN_JOB_CODE, E]]);
    const [d] = collection.get(vscode.Uri.file(file))!;
    assert.match(d.message, /No job named `hello_jb`.*Did you mean `hello_job`\?/);
    assert.equal(controller.problemsFor(vscode.Uri.file(file) as never)[0].problem.suggestion, "hello_job");
    assert.deepEqual(controller.jobNames(), ["hello_job"]);
    // with load errors around, it may just have failed to load: a warning that says so
    await controller.updateDefinitions(snapshotOf([helloJob()], [{ kind: "syntax", file: path.join(dir, "gone.ts"), line: 1, column: 1, message: "x" }]));
    const [w] = collection.get(vscode.Uri.file(file))!;
    assert.equal(w.severity, W);
    assert.match(w.message, /failed to load/);
  });

  test("validateRunConfig: the same checks for the launchpad's editor", async () => {
    startController();
    await controller.updateDefinitions(snapshotOf([helloJob()]));
    const issues = controller.validateRunConfig("hello_job", "ops:\n  multi_three:\n    config: { mode: slow, retries: 9 }\n");
    assert.deepEqual(issues.map((i) => [i.line, i.column, i.code, i.message]), [[3, 36, "op-config", "`retries` must be an integer between 0 and 5, got 9"]]);
    assert.equal(controller.validateRunConfig("nope", "{}")[0].code, UNKNOWN_JOB_CODE);
  });

  test("job files: load errors at their line, cleared by the next snapshot without them", async () => {
    const job = write("pipelines/orders.ts", [
      'import { asset, defineAssetJob, job, op } from "sluice";',
      "",
      'export const a = op({ name: "a" }, () => 1);',
      'export const orders_job = job({ name: "orders_job" }, () => { a(); });',
      "export const all_assets = defineAssetJob({",
      '  name: "all_assets",',
      '  selection: "orders+++ and",',
      "});",
      "  throw new Error(\"boom\");   ",
      "const x = ;",
    ].join("\n"));
    const other = write("pipelines/other.ts", 'export const orders_job = job({ name: "orders_job" }, () => {});\n');
    startController();
    const errors: LoadError[] = [
      { kind: "duplicate", file: job, line: 4, column: 27, message: 'Duplicate job name "orders_job" (also defined at other.ts:1:27).', name: "orders_job" },
      { kind: "duplicate", file: other, line: 1, column: 27, message: 'Duplicate job name "orders_job".', name: "orders_job" },
      { kind: "selection", file: job, line: 5, column: 27, message: 'Asset job "all_assets": bad selection', name: "all_assets" },
      { kind: "import", file: job, line: 9, column: 3, message: "Error while importing: boom" },
      { kind: "syntax", file: job, line: 10, column: 11, message: "Unexpected \";\"" },
      { kind: "internal", file: dir, line: 1, column: 1, message: "the code location could not start" },
    ];
    await controller.updateDefinitions(snapshotOf([], errors));
    assert.deepEqual(rows(collection, job), [
      [3, 38, 3, 50, "job-duplicate", E], // "orders_job" of name:
      [6, 13, 6, 28, "job-selection", E], // the selection string
      [8, 2, 8, 26, "job-import", E], // the line's non-blank part
      [9, 10, 9, 11, "job-syntax", E], // the token at the column
    ]);
    assert.deepEqual(rows(collection, other), [[0, 38, 0, 50, "job-duplicate", E]]);
    assert.equal(collection.has(vscode.Uri.file(dir)), false, "an error about the workspace folder has no line to show");
    assert.ok(collection.get(vscode.Uri.file(job))!.every((d) => d.source === "sluice"));
    // fixed: a snapshot without them clears them
    await controller.updateDefinitions(snapshotOf([], [errors[4]]));
    assert.deepEqual(rows(collection, other), []);
    assert.deepEqual(rows(collection, job).map((r) => r[4]), ["job-syntax"]);
    await controller.updateDefinitions(snapshotOf([]));
    assert.deepEqual(rows(collection, job), []);
  });

  test("a job file open in an editor: its unsaved text positions the error; an older snapshot never wins", async () => {
    const file = write("pipelines/a.ts", "old\n");
    startController();
    vscode.openDocument(file, "\n\n   const y = ;\n");
    const first = controller.updateDefinitions(snapshotOf([], [{ kind: "syntax", file, line: 3, column: 14, message: "x" }]));
    const second = controller.updateDefinitions(snapshotOf([]));
    await Promise.all([first, second]);
    assert.deepEqual(rows(collection, file), []);
    await controller.updateDefinitions(snapshotOf([], [{ kind: "syntax", file, line: 3, column: 14, message: "x" }]));
    assert.deepEqual(rows(collection, file), [[2, 13, 2, 14, "job-syntax", E]]);
  });

  test("dispose stops everything and drops the collection", async () => {
    const file = write("sluice.yaml", "x: 1\n");
    startController();
    const doc = vscode.openDocument(file);
    vscode.changeDocument(doc, "y: 1\n");
    controller.dispose();
    assert.ok(collection.disposed);
    assert.ok(vscode.state.fileWatchers[0].disposed);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(collection.entries.size, 0);
  });
});

describe("op config against its JSON Schema", () => {
  test("types, enums, ranges, required (defaults fill in), unknown keys, nested maps and lists", () => {
    const problems = checkJsonSchema(MULTI_THREE_SCHEMA, { factor: "x", mode: "medium", retries: 9, tags: ["a", 2], target: {}, extra: 1 }, { rootName: "op config", location: "ops.m.config" });
    assert.deepEqual(problems.map((p) => [p.path.join("."), p.code, p.severity, p.message]), [
      ["factor", "invalid-value", "error", '`factor` must be a number, got "x"'],
      ["mode", "invalid-value", "error", "`mode` must be one of 'fast', 'slow', got \"medium\""],
      ["retries", "invalid-value", "error", "`retries` must be an integer between 0 and 5, got 9"],
      ["tags.1", "invalid-value", "error", "`tags[1]` must be a string, got 2"],
      ["target.table", "missing-key", "error", "missing required key `table`, which must be a string"],
      ["extra", "unknown-key", "warning", "unknown key `extra` in `ops.m.config`: the op's config schema does not have it. Valid keys: factor, mode, retries, tags, target."],
    ]);
    assert.deepEqual(checkJsonSchema(MULTI_THREE_SCHEMA, { mode: "fast" }), [], "factor has a default");
    assert.deepEqual(checkJsonSchema(MULTI_THREE_SCHEMA, {}).map((p) => p.path.join(".")), ["mode"]);
  });

  test("anyOf/nullable, const, $ref, allOf, strings, unknown keywords", () => {
    const schema = {
      type: "object",
      $defs: { port: { type: "integer", minimum: 1, maximum: 65535 } },
      properties: {
        maybe: { type: ["string", "null"] },
        either: { anyOf: [{ type: "number" }, { type: "object", properties: { n: { type: "number" } }, required: ["n"] }] },
        fixed: { const: "v1" },
        port: { $ref: "#/$defs/port" },
        name: { type: "string", minLength: 1, pattern: "^[a-z]+$", format: "whatever" },
        both: { allOf: [{ type: "number" }, { minimum: 3 }] },
        color: { anyOf: [{ const: "red" }, { const: "blue" }] },
      },
    };
    assert.deepEqual(checkJsonSchema(schema, { maybe: null, either: 2, fixed: "v1", port: 80, name: "abc", both: 4, color: "red" }), []);
    const bad = checkJsonSchema(schema, { maybe: 1, either: {}, fixed: "v2", port: 0, name: "", both: 1, color: "green" });
    assert.deepEqual(bad.map((p) => [p.path.join("."), p.message]), [
      ["maybe", "`maybe` must be a string or null, got 1"],
      ["either.n", "missing required key `n`, which must be a number"],
      ["fixed", "`fixed` must be 'v1', got \"v2\""],
      ["port", "`port` must be an integer between 1 and 65535, got 0"],
      ["name", '`name` must not be empty, got ""'],
      ["name", '`name` must match /^[a-z]+$/, got ""'],
      ["both", "`both` must be a number >= 3, got 1"],
      ["color", "`color` must be 'red' or 'blue', got \"green\""],
    ]);
    assert.deepEqual(bad.find((p) => p.path[0] === "color")?.allowed, ["red", "blue"]);
    assert.deepEqual(checkJsonSchema({ type: "object" }, 5).map((p) => p.message), ["the value must be a map, got 5"]);
    assert.deepEqual(checkJsonSchema(null, 5), []);
  });

  test("describeJsonSchema for hover and completion; YAML scalars quoted where needed", () => {
    const d = describeJsonSchema(MULTI_THREE_SCHEMA, ["factor"])!;
    assert.deepEqual([d.description, d.type, d.hasDefault, d.default], ["What to multiply by.", "a number", true, 3]);
    assert.deepEqual(describeJsonSchema(MULTI_THREE_SCHEMA, [])!.keys, ["factor", "mode", "retries", "tags", "target"]);
    assert.deepEqual(describeJsonSchema(MULTI_THREE_SCHEMA, ["mode"])!.allowed, ["fast", "slow"]);
    assert.deepEqual(describeJsonSchema(MULTI_THREE_SCHEMA, ["target"])!.keys, ["table"]);
    assert.equal(describeJsonSchema(MULTI_THREE_SCHEMA, ["tags", 0])!.type, "a string");
    assert.equal(describeJsonSchema(MULTI_THREE_SCHEMA, ["nope"]), undefined);
    assert.deepEqual(["op", "yes", "1", "a b", "", 3, null, true].map(yamlScalar), ["op", '"yes"', '"1"', "a b", '""', "3", "null", "true"]);
  });
});

describe("validateRunConfigText", () => {
  const noConfig = (): JobSnapshot => ({ ...helloJob(), steps: helloJob().steps.slice(0, 2) });

  test("YAML syntax errors first; an empty file is fine unless an op needs config", () => {
    assert.deepEqual(validateRunConfigText("", "x.run.yaml", noConfig()), []);
    assert.deepEqual(validateRunConfigText("", "x.run.yaml", helloJob()).map((i) => [i.line, i.column, i.endColumn, i.code]), [[1, 1, 1, "op-config-missing"]]);
    assert.deepEqual(validateRunConfigText("ops: [", "x.run.yaml", helloJob()).map((i) => i.code), ["yaml-syntax"]);
  });

  test("a custom executor's config is its own business; single executors take their config directly", () => {
    const custom: JobSnapshot = { ...noConfig(), executor: { name: "my_exec" } };
    assert.deepEqual(validateRunConfigText("execution:\n  config:\n    anything: 1\n", "x", custom), []);
    const inProcess: JobSnapshot = { ...noConfig(), executor: { name: "in_process", builtin: "in_process" } };
    const issues = validateRunConfigText("execution:\n  config:\n    multiprocess: {}\n", "x", inProcess);
    assert.deepEqual(issues.map((i) => [i.line, i.code]), [[3, "unknown-key"]]);
    assert.match(issues[0].message, /goes directly under `execution.config`/);
  });
});

describe("where a job file's load error goes", () => {
  const text = ['import { job } from "sluice";', "", "   export const j = job({ name: 'j' }, () => {});   ", 'const s = "unterminated;', ""].join("\n");
  test("syntax: the token at the column (word, string, or one character)", () => {
    assert.deepEqual(loadErrorRange({ kind: "syntax", line: 3, column: 22 }, text), { line: 2, start: 20, end: 23 }); // job
    assert.deepEqual(loadErrorRange({ kind: "syntax", line: 4, column: 11 }, text), { line: 3, start: 10, end: 24 }); // the string
    assert.deepEqual(loadErrorRange({ kind: "syntax", line: 3, column: 25 }, text), { line: 2, start: 24, end: 25 }); // {
    assert.deepEqual(loadErrorRange({ kind: "syntax", line: 3, column: 1 }, text), { line: 2, start: 3, end: 49 }, "blank: the line");
  });
  test("others: the line's non-blank part; lines out of range are clamped", () => {
    assert.deepEqual(loadErrorRange({ kind: "import", line: 3, column: 5 }, text), { line: 2, start: 3, end: 49 });
    assert.deepEqual(loadErrorRange({ kind: "timeout", line: 1, column: 1 }, text), { line: 0, start: 0, end: 29 });
    assert.deepEqual(loadErrorRange({ kind: "cycle", line: 99, column: 1 }, text), { line: 4, start: 0, end: 0 });
    assert.deepEqual(loadErrorRange({ kind: "duplicate", line: 3, column: 1, name: "j" }, text), { line: 2, start: 32, end: 35 });
    assert.equal(loadErrorCode({ kind: "cycle" }), "job-cycle");
  });
});
