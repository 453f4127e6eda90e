// The TypeScript server plugin and the SDK's bundled declarations, checked with TypeScript's own
// language service on a workspace that has no node_modules and no tsconfig: the example job file
// of `Sluice: New Job File` must type-check, and hovering `op` must show the SDK's docs.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import * as ts from "typescript";
import { jobFileTemplate } from "../../src/extension/commands/jobFileTemplate";
import { ensureBuilt } from "./helpers/build";
import { DIST } from "./helpers/paths";

type PluginInit = (m: { typescript: typeof ts }) => { create(info: unknown): ts.LanguageService; onConfigurationChanged?(c: unknown): void };

let dir: string;

before(() => {
  ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-tsplugin-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A language service over `files` (absolute path -> text), like tsserver's inferred project. */
function languageService(files: Record<string, string>, options: ts.CompilerOptions, withPlugin: boolean, config: unknown = {}) {
  const host: ts.LanguageServiceHost = {
    getCompilationSettings: () => options,
    getScriptFileNames: () => Object.keys(files),
    getScriptVersion: () => "1",
    getScriptSnapshot: (f) => {
      const text = files[f] ?? (ts.sys.fileExists(f) ? ts.sys.readFile(f) : undefined);
      return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
    },
    getCurrentDirectory: () => dir,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: (f) => f in files || ts.sys.fileExists(f),
    readFile: (f) => files[f] ?? ts.sys.readFile(f),
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
    realpath: ts.sys.realpath,
  };
  const ls = ts.createLanguageService(host);
  if (!withPlugin) return ls;
  const init = require(path.join(DIST, "ts-plugin.js")) as PluginInit;
  return init({ typescript: ts }).create({ languageService: ls, languageServiceHost: host, config, project: undefined });
}

const inferred: ts.CompilerOptions = {
  // what VS Code uses for files outside any tsconfig (js/ts.implicitProjectConfig.*)
  target: ts.ScriptTarget.ES2020,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  allowJs: true,
  allowSyntheticDefaultImports: true,
  allowNonTsExtensions: true,
  noEmit: true,
};

function errors(ls: ts.LanguageService, file: string): string[] {
  return [...ls.getSyntacticDiagnostics(file), ...ls.getSemanticDiagnostics(file)]
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => `${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
}

describe("dist/sdk (the SDK's declarations)", () => {
  test("are self-contained: copied away from node_modules, with no @types, they compile without errors", () => {
    const copy = path.join(dir, "copied-sdk");
    fs.cpSync(path.join(DIST, "sdk"), copy, { recursive: true, filter: (src) => !src.endsWith(".js") && !src.endsWith(".map") });
    const program = ts.createProgram([path.join(copy, "index.d.ts")], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      types: [],
      skipLibCheck: false,
      noEmit: true,
    });
    const diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(), ...program.getSemanticDiagnostics()]
      .map((d) => `${d.file ? path.relative(copy, d.file.fileName) : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
    // References to Node's globals (NodeJS.ProcessEnv, Buffer, ...) degrade to `any` in a workspace
    // without @types/node, which only matters to someone who uses that very type; anything else
    // (an unresolved import above all) breaks the SDK's types, so it fails the test.
    const nodeGlobals = diagnostics.filter((d) => /Cannot find (name|namespace) '(NodeJS|Buffer|process|NodeRequire|__dirname)'/.test(d));
    if (nodeGlobals.length) console.warn(`  warning: the SDK's declarations use Node's global types:\n    ${nodeGlobals.join("\n    ")}`);
    assert.deepEqual(diagnostics.filter((d) => !nodeGlobals.includes(d)), []);
    const outside = program.getSourceFiles().map((sf) => sf.fileName).filter((f) => !f.startsWith(copy) && !f.includes("/typescript/lib/"));
    assert.deepEqual(outside, [], "every declaration comes from the copy (or TypeScript's own lib)");
  });
});

describe("sluice-ts-plugin", () => {
  test("without the plugin, \"sluice\" does not resolve (control)", () => {
    const file = path.join(dir, "control.ts");
    const ls = languageService({ [file]: jobFileTemplate("control_job", "ts") }, inferred, false);
    assert.ok(errors(ls, file).some((e) => e.startsWith("2307:")), "expected TS2307 cannot find module");
  });

  // one language service per module mode, shared by the tests below (each costs a second or two)
  let inferredLs: ts.LanguageService;
  let files: Record<string, string>;
  const file = (name: string) => path.join(dir, name);
  before(() => {
    files = {
      [file("hello_job.ts")]: jobFileTemplate("hello_job", "ts"),
      [file("hello_job.js")]: jobFileTemplate("hello_js_job", "esm"),
      [file("broken.ts")]: `import { op, RetryPolicy } from "sluice";\nexport const bad = op({ name: 42 }, () => 1);\nnew RetryPolicy({ maxRetries: "3" });\n`,
    };
    inferredLs = languageService(files, { ...inferred, checkJs: true }, true);
  });

  for (const name of ["hello_job.ts", "hello_job.js"]) {
    test(`the example job file ${name} type-checks against the shipped SDK declarations`, () => {
      assert.deepEqual(errors(inferredLs, file(name)), []);
      const sdk = inferredLs.getProgram()!.getSourceFiles().find((sf) => sf.fileName === path.join(DIST, "sdk", "index.d.ts"));
      assert.ok(sdk, "the program includes dist/sdk/index.d.ts");
    });
  }

  test("the example job files type-check with module nodenext (.mts, .cjs)", () => {
    const nodenext = { ...inferred, checkJs: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext };
    const mts = file("hello_job.mts");
    const cjs = file("hello_job.cjs");
    const ls = languageService({ [mts]: jobFileTemplate("hello_mts_job", "ts"), [cjs]: jobFileTemplate("hello_cjs_job", "cjs") }, nodenext, true);
    assert.deepEqual(errors(ls, mts), []);
    assert.deepEqual(errors(ls, cjs), []);
  });

  test("hover on `op` shows the SDK's signature and docs; completions list SDK exports", () => {
    const text = files[file("hello_job.ts")];
    const info = inferredLs.getQuickInfoAtPosition(file("hello_job.ts"), text.indexOf("op(function"));
    assert.ok(info, "quick info");
    assert.match(ts.displayPartsToString(info.displayParts), /\bop<.*\): OpDefinition/);
    assert.match(ts.displayPartsToString(info.documentation), /Defines an op/);
    // `ctx` is typed by the SDK: its config comes from the zod schema
    const factor = inferredLs.getQuickInfoAtPosition(file("hello_job.ts"), text.indexOf("ctx.config.factor") + "ctx.config.".length);
    assert.match(ts.displayPartsToString(factor?.displayParts), /factor: number/);
    const completions = inferredLs.getCompletionsAtPosition(file("hello_job.ts"), text.indexOf("{ job, op, z }") + 2, {});
    const names = new Set(completions?.entries.map((e) => e.name));
    // (names already imported are not offered again)
    for (const n of ["asset", "graphAsset", "defineAssetJob", "RetryPolicy", "Backoff", "MAX_RUNTIME_SECONDS_TAG"]) assert.ok(names.has(n), `completion ${n}`);
  });

  test("a type error in a job file is reported (the SDK's types are real, not any)", () => {
    const errs = errors(inferredLs, file("broken.ts"));
    assert.equal(errs.filter((e) => e.startsWith("2322:") || e.startsWith("2769:")).length, 2, errs.join("\n"));
  });

  test("an installed \"sluice\" package wins over the shipped declarations", () => {
    const ws = fs.mkdtempSync(path.join(dir, "installed-"));
    fs.mkdirSync(path.join(ws, "node_modules", "sluice"), { recursive: true });
    fs.writeFileSync(path.join(ws, "node_modules", "sluice", "package.json"), JSON.stringify({ name: "sluice", types: "index.d.ts" }));
    fs.writeFileSync(path.join(ws, "node_modules", "sluice", "index.d.ts"), "export declare const installedMarker: 1;\n");
    const file = path.join(ws, "job.ts");
    const ls = languageService({ [file]: `import { installedMarker } from "sluice";\nexport const x: 1 = installedMarker;\n` }, inferred, true);
    assert.deepEqual(errors(ls, file), []);
  });

  test("enabled: false (plugin configuration) turns the redirection off", () => {
    const file = path.join(dir, "disabled.ts");
    const ls = languageService({ [file]: `import { op } from "sluice";\nop;\n` }, inferred, true, { enabled: false });
    assert.ok(errors(ls, file).some((e) => e.startsWith("2307:")));
  });
});
