// The engine in a real VS Code workbench (code-server + Debian's chromium, Sluice from its .vsix):
// click "▶ Run job" above a job, watch the run go through the Runs view (a second run waits in the
// queue with its reason: max_concurrent_runs is 1 here), open its live log and the panel's run
// detail timeline, the graph; then the same in the light theme, with a failing run's log.
// Screenshots during and after runs, dark and light: test-results/shots/2x-*.png (look at them).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test as nodeTest } from "node:test";
import { pathToFileURL } from "node:url";
import type { FrameLocator, Locator, Page } from "playwright-core";
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
const t0 = Date.now();

/** The job file of these tests: a slow job (its load step prints a line a second), two assets, a failing job. */
// slow_job's load step takes about 8 s: long enough for the tests to open its log and its run
// detail while it runs, even on a busy machine.
const PIPELINE = `import { asset, job, op } from "sluice";

const extract = op(function extract() {
  console.log("extracting 3 rows");
  return [1, 2, 3];
});

const load = op({ name: "load", pool: "warehouse" }, async (ctx, rows: number[]) => {
  for (let i = 1; i <= 8; i++) {
    console.log(\`loaded batch \${i} of 8\`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  ctx.log.info(\`loaded \${rows.length} rows\`);
  return rows.length;
});

export const slow_job = job({ name: "slow_job" }, () => {
  load(extract());
});

export const orders = asset({ name: "orders" }, async () => [{ id: 1 }, { id: 2 }]);

export const summary = asset({ name: "summary", deps: [orders] }, async (ctx, { orders }) => ({ count: orders.length }));

const check_totals = op(function check_totals(ctx, rows: number[]) {
  if (rows.length < 5) throw new Error(\`expected at least 5 rows, got \${rows.length}\`);
});

export const broken_job = job({ name: "broken_job" }, () => {
  check_totals(extract());
});
`;

/** A test that leaves a screenshot of the workbench when it fails. */
function test(name: string, fn: () => Promise<void>): void {
  nodeTest(name, async () => {
    try {
      await fn();
    } catch (e) {
      await page.screenshot({ path: path.join(SHOTS, `FAILED-${name.slice(0, 40).replace(/[^\w]+/g, "-")}.png`) }).catch(() => undefined);
      await page.keyboard.press("Escape").catch(() => undefined);
      throw e;
    }
  });
}

const shot = async (name: string) => {
  await page.waitForTimeout(400); // let animations settle
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
};

async function runCommand(title: string): Promise<void> {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().click();
}

async function openFile(name: string): Promise<void> {
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor();
  await input.fill(name);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: name }).first().waitFor();
  await page.keyboard.press("Enter");
  await page.locator(".tabs-container .tab", { hasText: name }).waitFor();
}

function runsPane(): Locator {
  return page.locator(".sidebar .pane", { has: page.locator(".pane-header", { hasText: /^Runs/ }) });
}

/** A row of the Runs view for `job` showing `icon` (pass, error, sync, clock). */
function runRow(job: string, icon: string): Locator {
  return runsPane().locator(".monaco-list-row", { hasText: job }).filter({ has: page.locator(`.codicon-${icon}`) });
}

function lens(title: string): Locator {
  return page.locator(".codelens-decoration a", { hasText: title });
}

function panelFrame(): FrameLocator {
  return page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
}

/**
 * Right-click a Runs view row, choose "Open Run Detail" (keyboard: the menu ignores a too-quick
 * mouse click), and wait for the panel's run detail. The view refreshes live while runs progress,
 * and a refresh closes an open context menu: Enter then reaches the row itself (which opens the
 * run's log) and no panel shows, so this tries again a few times.
 */
async function openRunDetailFromRow(row: Locator): Promise<void> {
  const item = page.locator(".monaco-menu .action-item", { hasText: "Open Run Detail" });
  for (let attempt = 1; ; attempt++) {
    await row.first().click({ button: "right" });
    try {
      await item.waitFor({ timeout: 5_000 });
      await item.hover();
      await page.waitForTimeout(150);
      await page.keyboard.press("Enter");
      await page.locator(".monaco-menu").waitFor({ state: "hidden", timeout: 5_000 });
      await panelFrame().locator(".tl-row.tl-head").waitFor({ timeout: 15_000 });
      return;
    } catch (e) {
      if (attempt >= 5) throw e;
      await page.keyboard.press("Escape");
      await page.waitForTimeout(300);
    }
  }
}

/** Picks a colour theme with "Preferences: Color Theme", as a user does. */
async function setTheme(theme: string, bodyClass: string): Promise<void> {
  await runCommand("Preferences: Color Theme");
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "Dark Modern" }).first().waitFor(); // the theme picker is up
  await page.keyboard.type(theme);
  await page.locator(".quick-input-list .monaco-list-row.focused", { hasText: theme }).first().waitFor();
  await page.keyboard.press("Enter");
  await page.locator(`.monaco-workbench.${bodyClass}`).waitFor({ timeout: 30_000 });
}

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const m: ServerModule = await import(pathToFileURL(path.join(ROOT, "scripts", "e2e", "vscode-server.mjs")).href);
  m.ensureVscodeServer();
  installed = m.installVsix(await ensureVsix());
  workspace = writeFixtureWorkspace(fs.mkdtempSync(path.join(os.tmpdir(), "sluice-engine-ui-ws-")));
  fs.writeFileSync(path.join(workspace, "pipelines", "warehouse.ts"), PIPELINE);
  fs.writeFileSync(path.join(workspace, "sluice.yaml"), "# one run at a time: the second waits in the queue, with its reason\nconcurrency:\n  runs:\n    max_concurrent_runs: 1\n");
  server = await m.startServer({ workspace, extensionsDir: installed.extensionsDir, trusted: true, settings: { "workbench.colorTheme": "Default Dark Modern" } });
  browser = await m.launchBrowser();
  page = browser.page;
  page.setDefaultTimeout(60_000);
  page.on("pageerror", (e) => console.error("[page error]", e.message));
  await page.goto(server.url());
  await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "pipelines" }).waitFor({ timeout: 60_000 });
  console.log(`[engine-ui] workbench ready ${Date.now() - t0} ms after start`);
});

after(async () => {
  if (process.env.KEEP_VSCODE_TMP && server) for (const f of server.logs()) console.log(`--- ${f}\n${fs.readFileSync(f, "utf8").slice(-3000)}`);
  await browser?.close();
  await server?.stop();
  installed?.cleanup();
  if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
});

test("▶ Run job CodeLens: the run goes through the Runs view (a second one queued with its reason) to success", async () => {
  const t = Date.now();
  await openFile("warehouse.ts");
  await lens("▶ Run job").first().waitFor({ timeout: 90_000 });
  console.log(`[engine-ui] CodeLens shown ${Date.now() - t} ms after opening the job file`);
  await shot("20-codelens-dark");
  await lens("▶ Run job").first().click();
  await runRow("slow_job", "sync").waitFor();
  await lens("▶ Run job").first().click();
  // the second run waits: max_concurrent_runs 1, and the view says why
  const queued = runsPane().locator(".monaco-list-row", { hasText: /slow_job.*max_concurrent_runs/ });
  await queued.waitFor({ timeout: 20_000 });
  await page.locator(".statusbar-item", { hasText: "1 running · 1 queued" }).waitFor();
  await shot("21-runs-in-progress-queued-dark");
});

test("the running run's log document follows its step's stdout; the run detail timeline is live", async () => {
  await runRow("slow_job", "sync").first().click(); // the item's command: Open Run Logs
  const lines = page.locator(".monaco-editor .view-lines", { hasText: "loaded batch" });
  await lines.waitFor({ timeout: 20_000 });
  await page.locator(".tabs-container .tab", { hasText: /slow_job \w{8}\.log/ }).first().waitFor();
  await shot("22-run-log-live-dark");
  await openRunDetailFromRow(runRow("slow_job", "sync"));
  await panelFrame().locator('.tl-row[data-step="load"]').waitFor({ timeout: 30_000 });
  await shot("23-run-detail-live-dark");
  // both runs end; the timeline shows both steps done
  await runsPane().locator(".monaco-list-row", { hasText: "slow_job" }).filter({ has: page.locator(".codicon-pass") }).nth(1).waitFor({ timeout: 60_000 });
  await panelFrame().locator(".tl-row", { hasText: "load" }).waitFor();
  await shot("24-run-detail-done-dark");
});

test("after the runs: Runs view, log with the whole run, graph panel", async () => {
  await runsPane().locator(".monaco-list-row", { hasText: "slow_job" }).first().click();
  await page.locator(".monaco-editor .view-lines", { hasText: "RUN_SUCCESS" }).waitFor({ timeout: 20_000 });
  await shot("25-runs-done-log-dark");
  await runCommand("Sluice: Open Graph");
  await panelFrame().locator('[data-testid="graph"] g.node[data-id="summary"]').waitFor({ timeout: 30_000 });
  await shot("26-graph-dark");
});

test("light theme: materialize assets and run again (during and after), a failing run's log links its stack to the job file", async () => {
  await page.locator(".tabs-container .tab", { hasText: "warehouse.ts" }).click(); // focus out of the webview (it keeps F1)
  await setTheme("Light Modern", "vs");
  await lens("Materialize with upstream").first().waitFor();
  await lens("Materialize with upstream").nth(1).click(); // above summary
  await lens("▶ Run job").first().click(); // slow_job again
  await runRow("slow_job", "sync").or(runRow("slow_job", "clock")).first().waitFor({ timeout: 20_000 });
  await shot("30-runs-in-progress-light");
  await openRunDetailFromRow(runsPane().locator(".monaco-list-row", { hasText: "slow_job" }).first());
  await panelFrame().locator('.tl-row[data-step="load"]').waitFor({ timeout: 30_000 });
  await shot("31-run-detail-live-light");
  await runsPane().locator(".monaco-list-row", { hasText: "slow_job" }).filter({ has: page.locator(".codicon-pass") }).nth(2).waitFor({ timeout: 60_000 });
  await shot("32-run-detail-done-light");
  await page.locator(".tabs-container .tab", { hasText: "warehouse.ts" }).click();
  await runCommand("Sluice: Open Graph");
  await panelFrame().locator('[data-testid="graph"] g.node[data-id="summary"][data-st="s-materialized"]').waitFor({ timeout: 30_000 });
  await shot("33-graph-materialized-light");

  await page.locator(".tabs-container .tab", { hasText: "warehouse.ts" }).click();
  const brokenLens = lens("▶ Run job").nth(1); // above broken_job
  await brokenLens.click();
  const failed = runRow("broken_job", "error");
  await failed.waitFor({ timeout: 60_000 });
  await failed.first().click();
  const frame = page.locator(".monaco-editor .view-line", { hasText: "pipelines/warehouse.ts:26:" }).first();
  await frame.waitFor({ timeout: 20_000 });
  await shot("34-failure-log-light");
  assert.ok(await page.locator(".monaco-editor .view-lines", { hasText: "expected at least 5 rows, got 3" }).count() > 0);
  // the status bar shows the last failure
  await page.locator(".statusbar-item", { hasText: "broken_job failed" }).waitFor();
});
