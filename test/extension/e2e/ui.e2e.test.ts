// UI tests: a real VS Code workbench (code-server) in headless Chromium, Sluice installed from its
// .vsix in a throwaway extensions dir. Screenshots go to test-results/shots/ (look at them).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { ROOT } from "../helpers/paths";
import { ensureVsix } from "../helpers/vsix";
import { writeFixtureWorkspace } from "../helpers/workspaceFixture";

type ServerModule = typeof import("../../../scripts/e2e/vscode-server.mjs");

const SHOTS = process.env.SHOTS_DIR || path.join(ROOT, "test-results", "shots");
let server: Awaited<ReturnType<ServerModule["startServer"]>>;
let browser: Awaited<ReturnType<ServerModule["launchBrowser"]>>;
let installed: ReturnType<ServerModule["installVsix"]>;
let page: Page;
let workspace: string;

const shot = async (name: string) => {
  await page.waitForTimeout(300); // let animations settle
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
};

async function runCommand(title: string): Promise<void> {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().waitFor();
  await page.keyboard.press("Enter");
}

before(async () => {
  const t0 = Date.now();
  fs.mkdirSync(SHOTS, { recursive: true });
  const m: ServerModule = await import(pathToFileURL(path.join(ROOT, "scripts", "e2e", "vscode-server.mjs")).href);
  m.ensureVscodeServer();
  installed = m.installVsix(await ensureVsix());
  workspace = writeFixtureWorkspace(fs.mkdtempSync(path.join(os.tmpdir(), "sluice-ui-ws-")));
  server = await m.startServer({ workspace, extensionsDir: installed.extensionsDir, trusted: true });
  browser = await m.launchBrowser();
  page = browser.page;
  page.setDefaultTimeout(60_000); // generous: CI machines may be busy
  page.on("pageerror", (e) => console.error("[page error]", e.message));
  const t1 = Date.now();
  await page.goto(server.url());
  await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "pipelines" }).waitFor({ timeout: 60_000 });
  // open a job file now, so that TypeScript loads the project while the first tests run
  await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "pipelines" }).click();
  await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "hello.ts" }).click();
  await page.locator(".tabs-container .tab", { hasText: "hello.ts" }).waitFor();
  console.log(`[ui-e2e] code-server ${m.CODE_SERVER_VERSION}: server ready ${server.startMs} ms; workbench interactive ${Date.now() - t1} ms after navigation (${Date.now() - t0} ms total)`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  installed?.cleanup();
  if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
});

test("the Sluice activity bar container opens with the Runs and Definitions views", async () => {
  const item = page.locator(".activitybar .action-item a.action-label[aria-label^='Sluice']");
  await item.waitFor();
  await item.click();
  const sidebar = page.locator(".sidebar");
  await sidebar.locator(".composite.title", { hasText: /sluice/i }).waitFor();
  const runs = sidebar.locator(".pane-header", { hasText: /^Runs/ });
  const definitions = sidebar.locator(".pane-header", { hasText: /^Definitions/ });
  await runs.waitFor();
  await definitions.waitFor();
  for (const header of [runs, definitions]) {
    if ((await header.getAttribute("aria-expanded")) !== "true") await header.click();
  }
  // the engine is ready: no runs yet (the Runs view's welcome content), the Definitions view lists the fixture's jobs
  await sidebar.locator(".welcome-view-content", { hasText: "No runs yet" }).waitFor();
  await sidebar.locator(".welcome-view-content .monaco-button", { hasText: "New Job File" }).first().waitFor();
  await sidebar.locator(".monaco-list-row", { hasText: "hello_job" }).waitFor();
  // the status bar item
  await page.locator(".statusbar-item", { hasText: "Sluice" }).first().waitFor();
  await shot("01-sluice-views");
});

test("New Job File (command palette) writes the example, opens it, and hover shows the SDK's docs", async () => {
  await runCommand("Sluice: New Job File");
  const input = page.locator(".quick-input-widget input");
  for (let i = 0; i < 100 && (await input.inputValue()) !== "pipelines/hello_job.ts"; i++) await page.waitForTimeout(100);
  assert.equal(await input.inputValue(), "pipelines/hello_job.ts");
  await shot("02-new-job-file-prompt");
  await input.press("Enter");
  await page.locator(".tabs-container .tab", { hasText: "hello_job.ts" }).waitFor();
  await page.locator(".monaco-editor .view-lines", { hasText: "multi_three(add_two(return_one()));" }).waitFor();
  assert.ok(fs.existsSync(path.join(server.workspace, "pipelines", "hello_job.ts")));
  // hover the mouse over `op` in `const return_one = op(function return_one() {` until TypeScript answers
  const line = page.locator(".monaco-editor .view-line", { hasText: "const return_one = op(function return_one()" });
  const token = line.locator("span > span", { hasText: /^op$/ }).first();
  const hover = page.locator(".monaco-hover:not(.hidden)", { hasText: "Defines an op" });
  for (let i = 0; i < 90 && !(await hover.isVisible()); i++) {
    // cursor on the token, then "Show or Focus Hover" (Ctrl+K Ctrl+I): a fresh request each time
    // (mouse hovers over the same word reuse the first answer, the syntax server's "(loading...)")
    await page.keyboard.press("Escape");
    await token.click({ force: true }); // the editor's cursor layer sits on top after the first click
    await page.keyboard.press("Control+K");
    await page.keyboard.press("Control+I");
    await page.waitForTimeout(1200);
  }
  if (!(await hover.isVisible())) await shot("03-job-file-hover-FAILED");
  await hover.waitFor({ timeout: 5000 });
  assert.match((await hover.textContent()) ?? "", /OpDefinition/);
  await shot("03-job-file-hover");
});

test("the Sluice log channel shows the extension's log", async () => {
  await page.keyboard.press("Escape");
  await runCommand("Sluice: Show Log");
  await page.locator(".output-view .view-lines", { hasText: "activating in VS Code 1.100" }).waitFor();
  await shot("04-sluice-log");
});

test("a broken sluice.yaml is underlined, and the hover shows the problem and the key's docs", async () => {
  await page.keyboard.press("Escape");
  const file = path.join(server.workspace, "sluice.yaml");
  const original = fs.readFileSync(file, "utf8");
  fs.writeFileSync(file, "# instance settings\nconcurrency:\n  runs:\n    max_concurrent_runs: -2\n  pools:\n    granularity: opp\n");
  try {
    await page.keyboard.press("Control+P");
    const input = page.locator(".quick-input-widget input");
    await input.waitFor();
    await input.fill("sluice.yaml");
    await page.locator(".quick-input-list .monaco-list-row", { hasText: "sluice.yaml" }).first().waitFor();
    await page.keyboard.press("Enter");
    await page.locator(".tabs-container .tab", { hasText: "sluice.yaml" }).waitFor();
    await page.locator(".monaco-editor .view-lines", { hasText: "granularity: opp" }).waitFor();
    // two error squiggles (the -2 and the opp), drawn by VS Code from Sluice's diagnostics
    await page.locator(".monaco-editor .squiggly-error").nth(1).waitFor({ state: "attached", timeout: 30_000 });
    const line = page.locator(".monaco-editor .view-line", { hasText: "granularity: opp" });
    const token = line.locator("span > span", { hasText: /^opp$/ }).first();
    const hover = page.locator(".monaco-hover:not(.hidden)", { hasText: "Allowed values" });
    for (let i = 0; i < 20 && !(await hover.isVisible()); i++) {
      await page.keyboard.press("Escape");
      await token.click({ force: true });
      await page.keyboard.press("Control+K");
      await page.keyboard.press("Control+I");
      await page.waitForTimeout(800);
    }
    if (!(await hover.isVisible())) await shot("05-sluice-yaml-hover-FAILED");
    await hover.waitFor({ timeout: 5000 });
    const text = (await hover.textContent()) ?? "";
    assert.match(text, /Expected value 'run' or 'op'/); // the diagnostic
    assert.match(text, /concurrency\.pools\.granularity/); // the key's docs
    assert.match(text, /Default: op/);
    await shot("05-sluice-yaml-diagnostics-hover");
  } finally {
    await page.keyboard.press("Escape");
    fs.writeFileSync(file, original);
  }
});
