// The engine's in-host suite (test/extension/exthost/engine.suite.ts) in a real VS Code with Sluice
// installed from its .vsix, on a fresh copy of the fixture workspace. Job files that hang at import
// time are given up after 3 s here (SLUICE_IMPORT_TIMEOUT_MS; the default is 10 s).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { ROOT } from "../helpers/paths";
import { ensureVsix } from "../helpers/vsix";
import { writeFixtureWorkspace } from "../helpers/workspaceFixture";

type Runner = typeof import("../../../scripts/e2e/run-exthost-tests.mjs");
type Server = typeof import("../../../scripts/e2e/vscode-server.mjs");

let runner: Runner;
let installed: { extensionsDir: string; cleanup(): void; installMs: number };
let workspace: string;
let bundles: Awaited<ReturnType<Runner["buildExthostTests"]>>;

before(async () => {
  const t0 = Date.now();
  process.env.SLUICE_IMPORT_TIMEOUT_MS = "3000"; // inherited by code-server, its extension host and the engine
  const server: Server = await import(pathToFileURL(path.join(ROOT, "scripts", "e2e", "vscode-server.mjs")).href);
  runner = await import(pathToFileURL(path.join(ROOT, "scripts", "e2e", "run-exthost-tests.mjs")).href);
  server.ensureVscodeServer();
  installed = server.installVsix(await ensureVsix());
  bundles = await runner.buildExthostTests();
  workspace = writeFixtureWorkspace(fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-engine-ws-")));
  console.log(`[e2e] engine: setup in ${Date.now() - t0} ms`);
});

after(() => {
  delete process.env.SLUICE_IMPORT_TIMEOUT_MS;
  installed?.cleanup();
  bundles?.cleanup();
  if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
});

test("the engine's in-host suite passes (CodeLens, runs, logs, re-execution, hung user code)", async () => {
  const r = await runner.runExtensionHostTests({ bundles, entry: "engine", workspace, extensionsDir: installed.extensionsDir, trusted: true });
  assert.equal(r.exitCode, 0, "in-host tests failed (output above)");
  assert.match(r.output, /\[exthost\] engine: \d+ passed, 0 failed/);
});
