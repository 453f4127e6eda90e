// The panel in headless Chromium behind the real host code, on recorded data: the graph renders,
// the selection box highlights as you type and launches, node clicks show details and
// double-clicks ask for the source, the queue shows reasons, actions send the right requests, the
// run timeline has wait/retry bars, the launchpad shows positioned errors, the concurrency page
// edits a limit. Screenshots (dark, light, high contrast) go to test-results/webview/.
import * as assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { closeBrowser, openPanel, requestsOf, type PanelSession } from "./harness";
import { FAILED_RUN, FixtureDataSource, LIVE_RUN } from "./fixtures";

// Functions passed to playwright run in the page; this Node project has no DOM types, so the
// page globals they use are declared here (module-local, no runtime effect).
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const window: any; // eslint-disable-line @typescript-eslint/no-explicit-any

after(async () => closeBrowser());

async function noProblems(s: PanelSession): Promise<void> {
  assert.deepEqual(await s.problems(), [], "no CSP violations, console errors or page errors");
}

describe("panel in chromium", { timeout: 120_000 }, () => {
  test("asset graph renders with live status; selection highlights and launches; details; source", async () => {
    const data = new FixtureDataSource();
    const s = await openPanel(data, { route: { page: "graph" } });
    try {
      const { page } = s;
      await page.waitForFunction(() => document.body.dataset.graphDrawn === "assets");
      assert.equal(await page.locator('[data-testid="graph"] g.node').count(), 10);
      assert.equal(await page.locator('[data-testid="graph"] path.edge').count(), 11);
      // status from runs: everything materialised by the full run; raw_orders re-materialised later → stg_orders stale
      assert.equal(await page.locator('g.node[data-id="raw_orders"]').getAttribute("data-st"), "s-materialized");
      assert.equal(await page.locator('g.node[data-id="stg_orders"]').getAttribute("data-st"), "s-stale");
      await s.screenshot("graph-assets-dark");

      // typing a query highlights what it selects
      await page.fill('[data-testid="selection-input"]', "*daily_revenue");
      await page.waitForFunction(() => document.querySelectorAll("g.node.hit").length > 0);
      const hits = await page.$$eval("g.node.hit", (els) => els.map((e) => e.getAttribute("data-id")).sort());
      assert.deepEqual(hits, ["daily_revenue", "orders_enriched", "raw_customers", "raw_orders", "raw_payments", "stg_customers", "stg_orders", "stg_payments"]);
      assert.match((await page.textContent('[data-testid="selection-status"]')) ?? "", /8 of 10 assets selected/);
      await s.screenshot("graph-selection-dark");

      // an invalid query says why (Dagster's message) and highlights nothing
      await page.fill('[data-testid="selection-input"]', "nope+");
      await page.waitForFunction(() => document.querySelector('[data-testid="selection-status"]')?.classList.contains("error"));
      assert.match((await page.textContent('[data-testid="selection-status"]')) ?? "", /No qualified ops to execute found for op_selection=\['nope\+'\]/);
      assert.equal(await page.locator("g.node.hit").count(), 0);

      // launch sends the clauses to the asset job
      await page.fill('[data-testid="selection-input"]', "raw_orders+, stg_payments");
      await page.click('[data-testid="launch-selection"]');
      await page.waitForFunction(() => document.querySelector(".tab.active")?.getAttribute("data-page") === "run");
      assert.deepEqual(requestsOf(s, "launch").at(-1), { kind: "launch", jobName: "__ASSET_JOB", selection: ["raw_orders+", "stg_payments"] });
      assert.deepEqual(data.recorded.launches.at(-1), { jobName: "__ASSET_JOB", selection: ["raw_orders+", "stg_payments"], runConfig: undefined, runConfigYaml: undefined, tags: undefined });

      // back to the graph: click a node → details; double-click → open source
      await page.click('[data-testid="tab-graph"]');
      await page.fill('[data-testid="selection-input"]', "");
      await page.click('g.node[data-id="daily_revenue"]');
      await page.waitForSelector('[data-testid="node-details"]:not([hidden])');
      const details = (await page.textContent('[data-testid="node-details"]')) ?? "";
      assert.match(details, /daily_revenue/);
      assert.match(details, /currency/); // config schema
      assert.match(details, /owner=analytics/);
      assert.match(details, /a5a5a5a5/); // last runs
      await s.screenshot("graph-details-dark");
      await page.dblclick('g.node[data-id="raw_orders"]');
      await page.waitForFunction(() => true);
      await waitFor(() => s.opened.length > 0);
      assert.deepEqual(s.opened[0], { file: "/home/dev/shop/pipelines/assets.ts", line: 5, column: 14 });
      await noProblems(s);
    } finally {
      await s.close();
    }
  });

  test("op graph of a job: pools, tags, retry policy, live status", async () => {
    const data = new FixtureDataSource();
    const s = await openPanel(data, { route: { page: "graph", job: "etl_job", node: "load_warehouse" } });
    try {
      const { page } = s;
      await page.waitForFunction(() => document.body.dataset.graphDrawn === "job:etl_job");
      assert.equal(await page.locator('[data-testid="graph"] g.node').count(), 5);
      // live run: extract succeeded, load running
      assert.equal(await page.locator('g.node[data-id="load_warehouse"]').getAttribute("data-st"), "s-running");
      assert.equal(await page.locator('g.node[data-id="extract_orders"]').getAttribute("data-st"), "s-succeeded");
      assert.match((await page.textContent('g.node[data-id="load_warehouse"] text.meta')) ?? "", /warehouse/);
      const details = (await page.textContent('[data-testid="node-details"]')) ?? "";
      assert.match(details, /batch_size/);
      assert.match(details, /Pool\s*warehouse/);
      await s.screenshot("graph-job-dark");
      // live update: the run finishes load_warehouse → status changes without a relayout
      const events = data.eventMap.get(LIVE_RUN)!;
      events.push({ id: 10_000, runId: LIVE_RUN, type: "STEP_FAILURE", stepKey: "load_warehouse", timestamp: Date.now(), level: "ERROR", message: "boom" });
      data.emit({ events: [LIVE_RUN] });
      await page.waitForFunction(() => document.querySelector('g.node[data-i="3"]')?.getAttribute("data-st") === "s-failed");
      await noProblems(s);
    } finally {
      await s.close();
    }
  });

  test("runs: queue with reasons, filters, cancel and re-execute", async () => {
    const data = new FixtureDataSource();
    const s = await openPanel(data, { route: { page: "runs" }, theme: "light" });
    try {
      const { page } = s;
      await page.waitForSelector('[data-testid="runs-queued"]');
      const reasons = await page.$$eval('[data-testid="queue-reason"]', (els) => els.map((e) => e.textContent?.trim()));
      assert.deepEqual(reasons, ["pool warehouse 1/1, 1 step waiting (op granularity)", "max_concurrent_runs 2 reached", "tag team=analytics 1/1"]);
      assert.equal(await page.locator('[data-testid="runs-progress"] tr.run-row').count(), 3);
      await s.screenshot("runs-light");
      await page.click(`[data-testid="cancel-${LIVE_RUN}"]`);
      await waitFor(() => data.recorded.cancels.length === 1);
      assert.deepEqual(data.recorded.cancels, [LIVE_RUN]);
      await page.click(`[data-testid="reexecute-failure-${FAILED_RUN}"]`);
      await waitFor(() => data.recorded.reexecutes.length === 1);
      assert.deepEqual(data.recorded.reexecutes, [{ runId: FAILED_RUN, strategy: "fromFailure" }]);
      await page.waitForFunction(() => document.querySelector(".tab.active")?.getAttribute("data-page") === "run");
      // filters
      await page.click('[data-testid="tab-runs"]');
      await page.selectOption('[data-testid="runs-status-filter"]', "FAILURE");
      assert.equal(await page.locator("tr.run-row").count(), 1);
      await page.selectOption('[data-testid="runs-status-filter"]', "all");
      await page.selectOption('[data-testid="runs-job-filter"]', "my_job");
      assert.equal(await page.locator("tr.run-row").count(), 5);
      await page.selectOption('[data-testid="runs-job-filter"]', "");
      await page.fill('[data-testid="runs-tag-filter"]', "team=analytics");
      await page.waitForFunction(() => document.querySelectorAll("tr.run-row").length === 1);
      await noProblems(s);
    } finally {
      await s.close();
    }
  });

  test("run detail: timeline with pool wait and retries, event log filters, stdout/stderr", async () => {
    const data = new FixtureDataSource();
    for (const theme of ["dark", "light"] as const) {
      const s = await openPanel(data, { route: { page: "run", runId: LIVE_RUN }, theme });
      try {
        const { page } = s;
        await page.waitForSelector('[data-testid="timeline"] .tl-row[data-step="load_warehouse"]');
        const load = page.locator('.tl-row[data-step="load_warehouse"]');
        assert.equal(await load.locator('.seg[data-kind="waiting"]').count(), 1, "one wait (the 'still blocked' event continues it)");
        assert.equal(await load.locator('.seg[data-kind="running"]').count(), 1);
        assert.match((await load.locator('.seg[data-kind="waiting"]').getAttribute("title")) ?? "", /waited 3\.5 s for pool warehouse/);
        const extract = page.locator('.tl-row[data-step="extract_orders"]');
        assert.equal(await extract.locator('.seg[data-kind="running"]').count(), 2, "two attempts");
        assert.equal(await extract.locator(".seg.running.failure").count(), 1, "the first attempt failed");
        assert.equal(await extract.locator('.seg[data-kind="retry-wait"]').count(), 1);
        // wait bar sits before the running bar
        const [w, r] = await Promise.all([load.locator('.seg[data-kind="waiting"]').boundingBox(), load.locator('.seg[data-kind="running"]').boundingBox()]);
        assert.ok(w && r && w.x + w.width <= r.x + 1, "waiting ends where running starts");
        // logs of the running step are asked for and shown
        await page.waitForFunction(() => document.querySelector('[data-testid="compute-logs"] pre')?.textContent?.includes("COPY orders"));
        assert.ok(data.recorded.logsAsked.some((l) => l.runId === LIVE_RUN && l.step === "load_warehouse"));
        await s.screenshot(`run-detail-${theme}`);
        if (theme === "light") continue;
        // click a timeline row: filter the log by that step and show its output
        await page.click('.tl-row[data-step="extract_orders"] .tl-label');
        await page.waitForFunction(() => document.querySelector('[data-testid="compute-logs"] pre')?.textContent?.includes("attempt 2"));
        const steps = await page.$$eval('[data-testid="event-log"] .ev .ev-step', (els) => [...new Set(els.map((e) => e.textContent))]);
        assert.deepEqual(steps, ["extract_orders"]);
        await page.selectOption('[data-testid="event-type-filter"]', "errors");
        assert.equal(await page.locator('[data-testid="event-log"] .ev').count(), 1);
        await page.click('[data-testid="event-log"] .ev');
        assert.match((await page.textContent('[data-testid="event-detail"]')) ?? "", /at extract_orders \(pipelines\/etl\.ts:18:11\)/);
        await page.selectOption('[data-testid="event-type-filter"]', "");
        await page.selectOption('[data-testid="event-step-filter"]', "");
        await page.fill('[data-testid="event-search"]', "blocked");
        await page.waitForFunction(() => document.querySelectorAll('[data-testid="event-log"] .ev').length === 2);
        await page.click('[data-testid="logs-stderr"]');
        await noProblems(s);
      } finally {
        await s.close();
      }
    }
  });

  test("launchpad: selection preview, positioned run config errors, tags, launch", async () => {
    const data = new FixtureDataSource();
    data.hostValidation = (_job, yaml) => (yaml.includes("table: nope") ? [{ line: 5, column: 14, endLine: 5, endColumn: 18, keyPath: "ops.load_warehouse.config.table", message: "table nope does not exist", code: "op-config" }] : []);
    const s = await openPanel(data, { route: { page: "launchpad", job: "etl_job" } });
    try {
      const { page } = s;
      await page.waitForSelector('[data-testid="lp-graph"] g.node');
      await page.fill('[data-testid="lp-selection"]', "extract_orders+");
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="lp-graph"] g.node.hit').length === 3);
      const yaml = ["execution:", "  config:", "    multiprocess:", "      max_concurrent: -1", "ops:", "  load_warehuse:", "    config: {}", ""].join("\n");
      await page.fill('[data-testid="lp-yaml"]', yaml);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="lp-issues"] li.issue').length >= 2);
      const issues = await page.$$eval('[data-testid="lp-issues"] li.issue', (els) => els.map((e) => e.textContent));
      assert.ok(issues.some((t) => /^4:23execution\.config\.multiprocess\.max_concurrent/.test(t ?? "")), issues.join("\n"));
      assert.ok(issues.some((t) => /^6:3ops\.load_warehuse.*load_warehouse/.test(t ?? "")), issues.join("\n"));
      assert.ok(await page.isDisabled('[data-testid="lp-launch"]'));
      const bad = await page.$$eval(".gutter .ln.bad", (els) => els.map((e) => Number(e.textContent)));
      assert.ok(bad.includes(4) && bad.includes(6), `lines with errors: ${bad}`);
      await s.screenshot("launchpad-errors-dark");
      // op config is checked for the ops that run: against the op's schema, then by the engine
      await page.fill('[data-testid="lp-selection"]', "extract_orders*");
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="lp-graph"] g.node.hit').length === 5);
      await page.fill('[data-testid="lp-yaml"]', ["ops:", "  load_warehouse:", "    config:", "      batch_size: 0", "      table: orders", ""].join("\n"));
      await page.waitForFunction(() => document.querySelector('[data-testid="lp-issues"]')?.textContent?.includes(">= 1, got 0"));
      await page.fill('[data-testid="lp-yaml"]', ["ops:", "  load_warehouse:", "    config:", "      batch_size: 100", "      table: nope", ""].join("\n"));
      await page.waitForFunction(() => document.querySelector('[data-testid="lp-issues"]')?.textContent?.includes("table nope does not exist"));
      const good = ["ops:", "  load_warehouse:", "    config:", "      batch_size: 100", "      mode: replace", "      table: orders", ""].join("\n");
      await page.fill('[data-testid="lp-yaml"]', good);
      await page.waitForFunction(() => document.querySelector('[data-testid="lp-issues"] li.ok') !== null);
      await page.click('[data-testid="lp-add-tag"]');
      await page.fill('[data-testid="lp-tag-key-0"]', "ticket");
      await page.fill('[data-testid="lp-tag-value-0"]', "DATA-42");
      await page.waitForFunction(() => !document.querySelector('[data-testid="lp-launch"]').disabled);
      await s.screenshot("launchpad-ok-dark");
      await page.click('[data-testid="lp-launch"]');
      await waitFor(() => data.recorded.launches.length === 1);
      assert.deepEqual(data.recorded.launches[0], {
        jobName: "etl_job",
        selection: ["extract_orders*"],
        runConfig: { ops: { load_warehouse: { config: { batch_size: 100, mode: "replace", table: "orders" } } } },
        runConfigYaml: good,
        tags: { ticket: "DATA-42" },
      });
      await noProblems(s);
    } finally {
      await s.close();
    }
  });

  test("concurrency: pools with holders and waiters, run limits, edit a limit", async () => {
    const data = new FixtureDataSource();
    const s = await openPanel(data, { route: { page: "concurrency" } });
    try {
      const { page } = s;
      await page.waitForSelector('[data-pool="warehouse"]');
      const pool = (await page.textContent('[data-pool="warehouse"]')) ?? "";
      assert.match(pool, /1 \/ 1 slots in use/);
      assert.match(pool, /7f3a9c2e · load_warehouse/);
      assert.match(pool, /Waiting \(1\)/);
      assert.match((await page.textContent('[data-testid="run-limits"]')) ?? "", /3 in progress \/ 2/);
      await s.screenshot("concurrency-dark");
      await page.fill('[data-testid="pool-limit-warehouse"]', "3");
      await page.click('[data-testid="pool-set-warehouse"]');
      await waitFor(() => data.recorded.poolLimits.length === 1);
      assert.deepEqual(data.recorded.poolLimits, [{ pool: "warehouse", limit: 3 }]);
      await page.waitForFunction(() => document.querySelector('[data-testid="pool-usage-warehouse"]')?.textContent === "1 / 3 slots in use");
      await noProblems(s);
    } finally {
      await s.close();
    }
  });

  test("light and high-contrast themes; UI state restored from setState", async () => {
    const data = new FixtureDataSource();
    const light = await openPanel(data, { route: { page: "graph" }, theme: "light" });
    try {
      await light.page.waitForFunction(() => document.body.dataset.graphDrawn === "assets");
      await light.page.fill('[data-testid="selection-input"]', "stg_orders*");
      await light.page.waitForFunction(() => document.querySelectorAll("g.node.hit").length === 5);
      await light.page.click('g.node[data-id="stg_orders"]');
      await light.screenshot("graph-assets-light");
      const saved = await light.page.evaluate(() => new Promise((r) => setTimeout(() => r((window as { __sluiceState?: unknown }).__sluiceState), 300)));
      assert.deepEqual((saved as { route: unknown }).route, { page: "graph" });
      assert.equal((saved as { graph: Record<string, { query?: string; node?: string }> }).graph.assets?.query, "stg_orders*");
      assert.equal((saved as { graph: Record<string, { query?: string; node?: string }> }).graph.assets?.node, "stg_orders");
      await light.page.click('[data-testid="tab-launchpad"]');
      await light.page.waitForSelector('[data-testid="lp-graph"] g.node');
      await light.screenshot("launchpad-light");
      await light.page.click('[data-testid="tab-concurrency"]');
      await light.screenshot("concurrency-light");
      await noProblems(light);
    } finally {
      await light.close();
    }
    // A restored panel (serializer): no route from the host, the webview's saved state decides.
    const restored = await openPanel(data, { theme: "light", state: { route: { page: "graph" }, graph: { assets: { x: 0, y: 0, k: 1, query: "raw_orders+", node: "raw_orders" } }, runs: { status: "all", job: "", tag: "", search: "" }, run: { step: "", type: "", level: "", search: "", logStream: "stdout" }, launchpad: { selection: "", yaml: {}, tags: [] } } });
    try {
      await restored.page.waitForFunction(() => document.body.dataset.graphDrawn === "assets");
      assert.equal(await restored.page.inputValue('[data-testid="selection-input"]'), "raw_orders+");
      await restored.page.waitForSelector('[data-testid="node-details"]:not([hidden])');
      assert.equal(await restored.page.locator("g.node.hit").count(), 2);
    } finally {
      await restored.close();
    }
    const hc = await openPanel(data, { route: { page: "graph", job: "etl_job" }, theme: "hc" });
    try {
      await hc.page.waitForFunction(() => document.body.dataset.graphDrawn === "job:etl_job");
      await hc.screenshot("graph-job-hc");
      await hc.page.click('[data-testid="tab-run"]');
      await hc.page.click('[data-testid="tab-runs"]');
      await hc.screenshot("runs-hc");
      await noProblems(hc);
    } finally {
      await hc.close();
    }
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
