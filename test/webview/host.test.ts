// The panel's host without VS Code or a browser: the production HTML's CSP, the ready handshake
// and full snapshots, validation of every webview message, nothing sent while hidden, chunked
// parts, requests (launch with positioned run config errors, pool limits), run detail; and the
// webview's pure pieces (step timeline, snapshot chunk merge).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { panelCsp, panelHtml } from "../../src/extension/webview/html";
import { SluicePanelHost, type PanelLike, type PanelPlatform } from "../../src/extension/webview/panelHost";
import { chunkPart, mergeChunks, checkOpConfig } from "../../src/protocol/webviewShared";
import { parseWebviewMessage, type HostMessage } from "../../src/protocol/webview";
import { computeTimeline } from "../../webview-ui/src/timeline";
import { largeAssetWorkspace } from "../../bench/graphData";
import { FixtureDataSource, LIVE_RUN } from "./fixtures";
import { ensureWebviewBuilt, WEBVIEW_DIST } from "./harness";

function fakePanel() {
  const posted: HostMessage[] = [];
  let listener: ((m: unknown) => unknown) | undefined;
  let viewState: (() => unknown) | undefined;
  const panel: PanelLike & { visibleNow: boolean } = {
    visibleNow: true,
    webview: {
      html: "",
      cspSource: "https://file+.vscode-resource.vscode-cdn.net",
      postMessage: async (m) => {
        posted.push(m as HostMessage);
        return true;
      },
      onDidReceiveMessage: (l) => {
        listener = l;
        return { dispose: () => undefined };
      },
    },
    title: "",
    get visible() {
      return this.visibleNow;
    },
    reveal: () => undefined,
    onDidChangeViewState: (l) => {
      viewState = l;
      return { dispose: () => undefined };
    },
    onDidDispose: () => ({ dispose: () => undefined }),
    dispose: () => undefined,
  };
  const logs: string[] = [];
  const platform: PanelPlatform = {
    createPanel: () => panel,
    resourceUri: (_p, f) => `https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/${f}`,
    openSource: async () => undefined,
    log: (level, m) => void logs.push(`${level}: ${m}`),
  };
  const send = async (m: unknown) => {
    await listener?.(m);
  };
  return { panel, platform, posted, logs, send, changeView: () => viewState?.() };
}

const settle = (ms = 60) => new Promise((r) => setTimeout(r, ms));

async function responseTo(posted: HostMessage[], id: number): Promise<Extract<HostMessage, { type: "response" }>> {
  for (let i = 0; i < 200; i++) {
    const r = posted.find((m): m is Extract<HostMessage, { type: "response" }> => m.type === "response" && m.id === id);
    if (r) return r;
    await settle(10);
  }
  throw new Error(`no response to request ${id}`);
}

describe("panel HTML", () => {
  test("CSP: default-src 'none', scripts by nonce only, no unsafe-eval or unsafe-inline; no inline script or data", () => {
    const html = panelHtml({ cspSource: "https://x.vscode-cdn.net", nonce: "abcDEF123", scriptUri: "https://x/main.js", styleUri: "https://x/main.css", codiconUri: "https://x/codicon.css", title: "Sluice" });
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    assert.ok(csp, "has a CSP meta tag");
    const directives = new Map(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    assert.deepEqual(directives.get("default-src"), ["'none'"]);
    assert.deepEqual(directives.get("script-src"), ["'nonce-abcDEF123'"]);
    for (const [k, v] of directives) {
      assert.ok(!v.includes("'unsafe-eval'"), `${k} has no unsafe-eval`);
      assert.ok(!v.includes("'unsafe-inline'"), `${k} has no unsafe-inline`);
      assert.ok(!v.includes("*"), `${k} has no wildcard`);
    }
    assert.deepEqual(directives.get("style-src"), ["https://x.vscode-cdn.net"]);
    assert.deepEqual(directives.get("worker-src"), ["blob:"]);
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0][1], /nonce="abcDEF123"/);
    assert.match(scripts[0][1], /src="https:\/\/x\/main.js"/);
    assert.equal(scripts[0][2].trim(), "", "no inline script");
    assert.doesNotMatch(html, /style="/, "no inline style");
    assert.equal(panelCsp("a", "n"), "default-src 'none'; img-src a; style-src a; font-src a; script-src 'nonce-n'; worker-src blob:; base-uri 'none'; form-action 'none'");
  });

  test("the built bundle has no eval and ships codicons locally", () => {
    ensureWebviewBuilt();
    const js = fs.readFileSync(path.join(WEBVIEW_DIST, "main.js"), "utf8");
    assert.doesNotMatch(js, /\beval\(/);
    assert.doesNotMatch(js, /new Function\(/);
    for (const f of ["codicon.css", "codicon.ttf", "main.css"]) assert.ok(fs.existsSync(path.join(WEBVIEW_DIST, f)), f);
    assert.doesNotMatch(fs.readFileSync(path.join(WEBVIEW_DIST, "codicon.css"), "utf8"), /https?:\/\//, "no remote font");
  });
});

describe("panel host", () => {
  test("nothing before ready; then init and a full snapshot of every part", async () => {
    const data = new FixtureDataSource();
    const f = fakePanel();
    const host = new SluicePanelHost(f.platform, data, { debounceMs: 5 });
    host.show({ page: "runs" });
    assert.match(f.panel.webview.html, /script-src 'nonce-/);
    await settle();
    assert.equal(f.posted.length, 0, "the webview speaks first");
    await f.send({ type: "ready", protocol: 1 });
    await host.flush();
    await settle();
    assert.deepEqual(f.posted[0], { type: "init", protocol: 1, route: { page: "runs" } });
    const parts = f.posted.filter((m) => m.type === "part") as Extract<HostMessage, { type: "part" }>[];
    assert.deepEqual([...new Set(parts.map((p) => p.name))], ["status", "definitions", "runs", "concurrency", "runDetail"]);
    assert.equal(parts.filter((p) => p.last).length, 1);
    assert.ok(parts.at(-1)!.last);
    const defs = parts.find((p) => p.name === "definitions")!.value as { jobs: { name: string }[]; assetJobName: string };
    assert.deepEqual(defs.jobs.map((j) => j.name), ["etl_job", "my_job", "all_assets"], "the implicit asset job is not listed");
    assert.equal(defs.assetJobName, "__ASSET_JOB");
    const runs = parts.find((p) => p.name === "runs")!.value as { runId: string; queueReason?: string; steps?: Record<string, string> }[];
    assert.equal(runs.find((r) => r.runId === LIVE_RUN)!.steps!.load_warehouse, "running");
    assert.equal(runs.filter((r) => r.queueReason).length, 3);
    host.dispose();
  });

  test("invalid messages are refused (and logged) before reaching the engine", async () => {
    const data = new FixtureDataSource();
    const f = fakePanel();
    const host = new SluicePanelHost(f.platform, data, { debounceMs: 5 });
    host.show();
    for (const bad of [
      null,
      "ready",
      { type: "nope" },
      { type: "request", id: 1, request: { kind: "setPoolLimit", pool: "warehouse", limit: -1 } },
      { type: "request", id: 2, request: { kind: "setPoolLimit", pool: "warehouse", limit: 1.5 } },
      { type: "request", id: 3, request: { kind: "launch" } },
      { type: "request", id: 4, request: { kind: "cancel", runId: "" } },
      { type: "request", id: -1, request: { kind: "cancel", runId: "x" } },
    ]) {
      assert.equal(parseWebviewMessage(bad).ok, false, JSON.stringify(bad));
      await f.send(bad);
    }
    assert.equal(data.recorded.poolLimits.length + data.recorded.cancels.length + data.recorded.launches.length, 0);
    assert.equal(f.logs.filter((l) => /ignored an invalid message/.test(l)).length, 8);
    assert.equal(f.posted.length, 0);
    host.dispose();
  });

  test("hidden: nothing is sent; shown again: the re-created page's ready gets every part", async () => {
    const data = new FixtureDataSource();
    const f = fakePanel();
    const host = new SluicePanelHost(f.platform, data, { debounceMs: 5 });
    host.show();
    await f.send({ type: "ready", protocol: 1 });
    await host.flush();
    await settle();
    f.panel.visibleNow = false;
    f.changeView();
    f.posted.length = 0;
    data.emit({ runs: true });
    await settle();
    await host.flush();
    assert.equal(f.posted.length, 0);
    f.panel.visibleNow = true;
    f.changeView();
    await settle();
    assert.equal(f.posted.length, 0, "the re-created page has not said ready yet");
    await f.send({ type: "ready", protocol: 1 });
    await settle();
    await host.flush();
    assert.deepEqual(f.posted[0], { type: "init", protocol: 1, route: undefined });
    const names = f.posted.filter((m) => m.type === "part").map((m) => (m as { name: string }).name);
    assert.deepEqual([...new Set(names)], ["status", "definitions", "runs", "concurrency", "runDetail"]);
    host.dispose();
  });

  test("large parts go out in chunks that merge back to the same value", async () => {
    const data = new FixtureDataSource();
    data.defs = largeAssetWorkspace(3000, 4800);
    const f = fakePanel();
    const host = new SluicePanelHost(f.platform, data, { debounceMs: 5, chunkItems: 400 });
    host.show();
    await f.send({ type: "ready", protocol: 1 });
    await host.flush();
    await settle();
    const chunks = f.posted.filter((m): m is Extract<HostMessage, { type: "part" }> => m.type === "part" && m.name === "definitions");
    assert.ok(chunks.length >= 8, `${chunks.length} chunks`);
    assert.ok(chunks.every((c) => c.count === chunks.length && c.seq === chunks[0].seq));
    const merged = mergeChunks(chunks.map((c) => c.value)) as { assets: unknown[]; workspace: string };
    assert.equal(merged.assets.length, 3000);
    assert.equal(merged.workspace, "/ws");
    const v = { a: 1, xs: [1, 2, 3, 4, 5], ys: ["a", "b"] };
    assert.deepEqual(mergeChunks(chunkPart(v, 2)), v);
    assert.deepEqual(mergeChunks(chunkPart([1, 2, 3], 2)), [1, 2, 3]);
    host.dispose();
  });

  test("launch: run config YAML is validated with positions first; good config reaches the engine parsed", async () => {
    const data = new FixtureDataSource();
    const f = fakePanel();
    const host = new SluicePanelHost(f.platform, data, { debounceMs: 5 });
    host.show();
    await f.send({ type: "ready", protocol: 1 });
    await f.send({ type: "request", id: 7, request: { kind: "launch", jobName: "etl_job", runConfigYaml: "execution:\n  config:\n    multiprocess:\n      max_concurrent: -1\n" } });
    const bad = (await responseTo(f.posted, 7)) as Extract<HostMessage, { type: "response"; ok: false }>;
    assert.equal(bad.ok, false);
    assert.equal(bad.issues?.[0].line, 4);
    assert.equal(bad.issues?.[0].keyPath, "execution.config.multiprocess.max_concurrent");
    assert.equal(data.recorded.launches.length, 0);
    await f.send({ type: "request", id: 8, request: { kind: "launch", jobName: "etl_job", selection: ["extract_orders+"], runConfigYaml: "ops:\n  load_warehouse:\n    config: {batch_size: 10, mode: append, table: t}\n", tags: { a: "b" } } });
    const ok = await responseTo(f.posted, 8);
    assert.deepEqual(ok, { type: "response", id: 8, ok: true, result: { runId: "launched-1" } });
    assert.deepEqual(data.recorded.launches[0].runConfig, { ops: { load_warehouse: { config: { batch_size: 10, mode: "append", table: "t" } } } });
    // the engine's own error with issues comes back positioned
    data.launch = () => {
      throw Object.assign(new Error("Invalid run config"), { issues: [{ line: 3, column: 5, endLine: 3, endColumn: 9, keyPath: "ops.x", message: "bad", code: "op-config" }] });
    };
    await f.send({ type: "request", id: 9, request: { kind: "launch", jobName: "etl_job" } });
    const engineBad = (await responseTo(f.posted, 9)) as Extract<HostMessage, { type: "response"; ok: false }>;
    assert.equal(engineBad.issues?.[0].line, 3);
    host.dispose();
  });

  test("focus: the run detail part carries the run's events, its step keys and the focused step's logs", async () => {
    const data = new FixtureDataSource();
    const f = fakePanel();
    const host = new SluicePanelHost(f.platform, data, { debounceMs: 5 });
    host.show();
    await f.send({ type: "ready", protocol: 1 });
    await f.send({ type: "focus", runId: LIVE_RUN, logStep: "load_warehouse" });
    await settle();
    await host.flush();
    const detail = f.posted.filter((m): m is Extract<HostMessage, { type: "part" }> => m.type === "part" && m.name === "runDetail").map((m) => m.value).filter(Boolean).at(-1) as {
      run: { runId: string };
      events: unknown[];
      stepKeys: string[];
      logs: { stepKey: string; stdout: string };
    };
    assert.equal(detail.run.runId, LIVE_RUN);
    assert.equal(detail.events.length, data.eventMap.get(LIVE_RUN)!.length);
    assert.deepEqual(detail.stepKeys, ["extract_orders", "clean_orders", "validate_orders", "load_warehouse", "notify_slack"]);
    assert.match(detail.logs.stdout, /COPY orders/);
    // new events for that run → a new detail part with them
    f.posted.length = 0;
    data.eventMap.get(LIVE_RUN)!.push({ id: 9999, runId: LIVE_RUN, type: "STEP_SUCCESS", stepKey: "load_warehouse", timestamp: Date.now(), level: "INFO", message: "done" });
    data.emit({ events: [LIVE_RUN] });
    await settle();
    await host.flush();
    const again = f.posted.find((m) => m.type === "part" && m.name === "runDetail") as Extract<HostMessage, { type: "part" }>;
    assert.equal((again.value as { events: unknown[] }).events.length, data.eventMap.get(LIVE_RUN)!.length);
    host.dispose();
  });
});

describe("webview logic", () => {
  test("timeline: pool waits until start, attempts and retry delays per step", () => {
    const data = new FixtureDataSource();
    const events = data.eventMap.get(LIVE_RUN)!;
    const now = Math.max(...events.map((e) => e.timestamp)) + 1000;
    const tl = computeTimeline(events, ["extract_orders", "clean_orders", "validate_orders", "load_warehouse", "notify_slack"], now);
    const row = (s: string) => tl.rows.find((r) => r.step === s)!;
    assert.deepEqual(row("extract_orders").segments.map((s) => [s.kind, s.outcome ?? null]), [["running", "retry"], ["retry-wait", null], ["running", "success"]]);
    assert.equal(row("extract_orders").attempts, 2);
    const load = row("load_warehouse");
    assert.deepEqual(load.segments.map((s) => s.kind), ["waiting", "running"]);
    assert.equal(load.segments[0].end! - load.segments[0].start, 3500, "from the first blocked event to STEP_START");
    assert.equal(load.segments[0].reason, "pool warehouse");
    assert.equal(load.segments[1].end, null, "still running");
    assert.equal(load.waitedMs, 3500);
    assert.equal(row("notify_slack").state, "pending");
    assert.deepEqual(tl.rows.map((r) => r.step), ["extract_orders", "clean_orders", "validate_orders", "load_warehouse", "notify_slack"]);
  });

  test("op config against its JSON Schema", () => {
    const schema = { type: "object", properties: { n: { type: "integer", minimum: 1 }, mode: { type: "string", enum: ["a", "b"] } }, required: ["n"], additionalProperties: false };
    assert.deepEqual(checkOpConfig(schema, { n: 2, mode: "a" }), []);
    assert.deepEqual(checkOpConfig(schema, { n: 0, mode: "c", x: 1 }).map((i) => i.path.join(".")), ["n", "mode", "x"]);
    assert.equal(checkOpConfig(schema, undefined).length, 1);
    assert.deepEqual(checkOpConfig(null, { anything: true }), []);
  });
});
