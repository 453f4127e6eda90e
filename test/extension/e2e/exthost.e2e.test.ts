// Real VS Code (code-server 4.100.3 = VS Code 1.100), Sluice installed from the .vsix, mocha suites
// running inside the extension host: commands and menus, the SDK's types in the TypeScript
// language service, New Job File, and Restricted Mode. Setup is automatic (idempotent script).
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
const t0 = Date.now();

before(async () => {
  const server: Server = await import(pathToFileURL(path.join(ROOT, "scripts", "e2e", "vscode-server.mjs")).href);
  runner = await import(pathToFileURL(path.join(ROOT, "scripts", "e2e", "run-exthost-tests.mjs")).href);
  server.ensureVscodeServer();
  const vsix = await ensureVsix();
  installed = server.installVsix(vsix);
  bundles = await runner.buildExthostTests();
  workspace = writeFixtureWorkspace(fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-ws-")));
  console.log(`[e2e] setup (vsix, install ${installed.installMs} ms, bundles) in ${Date.now() - t0} ms`);
});

after(() => {
  installed?.cleanup();
  bundles?.cleanup();
  if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
});

test("in-host suites pass in a trusted workspace", async () => {
  const r = await runner.runExtensionHostTests({ bundles, entry: "trusted", workspace, extensionsDir: installed.extensionsDir, trusted: true });
  assert.equal(r.exitCode, 0, "in-host tests failed (output above)");
  assert.match(r.output, /\[exthost\] trusted: \d+ passed, 0 failed/);
});

test("in Restricted Mode Sluice stays disabled: no activation, no commands, no .sluice", async () => {
  const r = await runner.runExtensionHostTests({ bundles, entry: "untrusted", workspace, extensionsDir: installed.extensionsDir, trusted: false });
  assert.equal(r.exitCode, 0, "in-host tests failed (output above)");
  assert.match(r.output, /\[exthost\] untrusted: \d+ passed, 0 failed/);
});
