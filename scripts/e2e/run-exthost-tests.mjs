#!/usr/bin/env node
// Runs mocha suites INSIDE a real VS Code extension host (code-server), the way
// @vscode/test-electron would, with Sluice installed from its .vsix. Adapted from
// /work/shared/e2e/sample-ext/scripts/run-ext-tests.mjs.
//
// How: the workbench URL carries VS Code's `payload` with extensionDevelopmentPath (a tiny harness
// extension, so that Sluice itself stays a normally installed extension) and extensionTestsPath
// (a bundle of test/extension/exthost/<entry>.ts). The extension host require()s the bundle and
// calls its run(); when it settles VS Code calls window.codeAutomationExit(code), exposed through
// Playwright. Output of the extension host (mocha's reporter included) arrives on the page console.
//
// Used by test/extension/e2e/exthost.e2e.test.ts. By hand:
//   node scripts/e2e/run-exthost-tests.mjs --entry trusted --workspace DIR --vsix FILE [--untrusted]
import * as esbuild from "esbuild";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CODE_SERVER_VERSION, ROOT, formatLog, installVsix, launchBrowser, startServer } from "./vscode-server.mjs";

export const ENTRIES = ["trusted", "untrusted", "engine"];

/**
 * Bundles test/extension/exthost/<entry>.ts and writes the harness extension into a fresh folder
 * under the repository's .vscode-test/ (so that `require("mocha")` finds node_modules/mocha; one
 * folder per call, so that concurrent test runs do not overwrite each other's bundles).
 * Returns { dir, harness, cleanup }.
 */
export async function buildExthostTests() {
  fs.mkdirSync(path.join(ROOT, ".vscode-test"), { recursive: true });
  const dir = fs.mkdtempSync(path.join(ROOT, ".vscode-test", "exthost-"));
  await esbuild.build({
    entryPoints: Object.fromEntries(ENTRIES.map((e) => [e, path.join(ROOT, "test", "extension", "exthost", `${e}.ts`)])),
    outdir: dir,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    sourcemap: "inline",
    logLevel: "warning",
    external: ["vscode", "mocha"],
  });
  const harness = path.join(dir, "harness");
  fs.mkdirSync(harness, { recursive: true });
  fs.writeFileSync(path.join(harness, "package.json"), JSON.stringify({
    name: "sluice-exthost-tests", publisher: "sluice-tests", version: "0.0.0", private: true,
    engines: { vscode: "^1.100.0" },
    capabilities: { untrustedWorkspaces: { supported: true } },
  }, null, 2));
  return { dir, harness, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

// The workbench's own start-up chatter on the console; hidden unless verbose.
const CHATTER = /^(Resolving connection token|Resolved connection token|Creating a socket|Updating additional builtin|\[Service Worker\]|ChatSessionStore|\[reconnection-grace-time\]|\[AgentHost|\[AccountPolicyGate\]|Overwriting extension|Started initializing|Completed initializing|Ignoring fetching additional builtin|%c)/;

/**
 * Runs one entry's suites; resolves to { exitCode, output, startMs, testsMs }. exitCode 0 = all
 * passed, 1 = failures, 2 = did not finish (timeout) or could not start.
 */
export async function runExtensionHostTests({ bundles, entry, workspace, extensionsDir, trusted = true, timeoutSec = 240, verbose = !!process.env.VERBOSE, echo = true }) {
  const { harness } = bundles;
  const tests = path.join(bundles.dir, `${entry}.js`);
  if (!fs.existsSync(tests) || !fs.existsSync(harness)) throw new Error(`${tests} not built: call buildExthostTests() first`);
  const server = await startServer({ workspace, extensionsDir, trusted });
  const browser = await launchBrowser();
  const output = [];
  const say = (line, err = false) => {
    output.push(line);
    if (echo) (err ? console.error : console.log)(line);
  };
  let exitCode = 2;
  const t0 = Date.now();
  try {
    const { page } = browser;
    let finish;
    const done = new Promise((r) => (finish = r));
    await page.exposeFunction("codeAutomationLog", (type, args) => {
      const line = formatLog(args);
      if (verbose || !CHATTER.test(line)) say(line, type === "error");
    });
    await page.exposeFunction("codeAutomationExit", (code) => finish(code));
    page.on("pageerror", (e) => say(`[page error] ${e.message}`, true));
    await page.goto(server.url([
      ["extensionDevelopmentPath", server.remoteUri(harness)],
      ["extensionTestsPath", server.remoteUri(tests)],
    ]));
    let timer;
    exitCode = await Promise.race([done, new Promise((r) => (timer = setTimeout(() => r("timeout"), timeoutSec * 1000)))]);
    clearTimeout(timer);
    if (exitCode === "timeout") {
      say(`extension host tests (${entry}) did not finish within ${timeoutSec}s`, true);
      const shot = path.join(ROOT, "test-results", `exthost-${entry}-timeout.png`);
      fs.mkdirSync(path.dirname(shot), { recursive: true });
      await page.screenshot({ path: shot }).catch(() => {});
      for (const f of server.logs()) say(`--- ${f}\n${fs.readFileSync(f, "utf8").slice(-4000)}`, true);
      exitCode = 2;
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  const testsMs = Date.now() - t0;
  say(`[vscode-e2e] code-server ${CODE_SERVER_VERSION} (${entry}): server ready in ${server.startMs} ms, tests finished in ${testsMs} ms, exit code ${exitCode}`);
  return { exitCode, output: output.join("\n"), startMs: server.startMs, testsMs };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: {
    entry: { type: "string", default: "trusted" },
    workspace: { type: "string" },
    vsix: { type: "string" },
    untrusted: { type: "boolean", default: false },
  } });
  if (!values.workspace || !values.vsix) {
    console.error("usage: run-exthost-tests.mjs --entry trusted|untrusted --workspace DIR --vsix FILE [--untrusted]");
    process.exit(2);
  }
  const bundles = await buildExthostTests();
  const installed = installVsix(path.resolve(values.vsix));
  try {
    const r = await runExtensionHostTests({ bundles, entry: values.entry, workspace: values.workspace, extensionsDir: installed.extensionsDir, trusted: !values.untrusted });
    process.exitCode = r.exitCode;
  } finally {
    installed.cleanup();
    bundles.cleanup();
  }
}
