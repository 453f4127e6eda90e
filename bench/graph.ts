// Graph benchmark (plain script: `node --import tsx bench/graph.ts`): a 5,000-asset, ~8,000-edge
// workspace (bench/graphData.ts) shown in the panel's asset graph.
//  1. Host: the real SluicePanelHost sends the snapshot to a stub webview whose postMessage
//     serialises like VS Code does (JSON). Meanwhile a probe on the same event loop records the
//     longest gap between its turns = the longest task the panel puts on the extension host.
//  2. Webview: the recorded messages are replayed into the built panel in headless Debian
//     Chromium (playwright-core, /usr/bin/chromium): layout time (dagre in Web Workers, ranker
//     tight-tree, partitioned), first draw (SVG inserted → painted), time from the snapshot to a
//     drawn graph; then a cached re-draw (a status-only update never lays out again).
// Targets (issue 6): layout ≤ 3 s, first draw ≤ 1 s, longest host task ≤ 50 ms.
// `--baseline` also times one plain dagre.layout of the whole graph in Node (slow: 10 s to minutes).
import { performance } from "node:perf_hooks";
import { SluicePanelHost, type PanelLike, type PanelPlatform } from "../src/extension/webview/panelHost";
import type { HostMessage } from "../src/protocol/webview";
import { FixtureDataSource } from "../test/webview/fixtures";
import { closeBrowser, openPanel } from "../test/webview/harness";
import { largeAssetWorkspace } from "./graphData";

// Functions passed to playwright run in the page (the panel's CSP forbids string evaluation there).
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const N = Number(process.env.BENCH_NODES ?? 5000);
const E = Number(process.env.BENCH_EDGES ?? 8450); // the generator lands ~5 % under its target (deduplicated deps)

async function hostSide(data: FixtureDataSource): Promise<{ longestMs: number; longestCpuMs: number; messages: number; bytes: number; totalMs: number; longestPost: number }> {
  let listener: ((m: unknown) => unknown) | undefined;
  let bytes = 0;
  let messages = 0;
  let longestPost = 0;
  const panel: PanelLike = {
    webview: {
      html: "",
      cspSource: "https://x",
      postMessage: async (m: unknown) => {
        const t = performance.now();
        bytes += JSON.stringify(m).length; // VS Code serialises every message to send it to the renderer
        longestPost = Math.max(longestPost, performance.now() - t);
        messages++;
        return true;
      },
      onDidReceiveMessage: (l) => ((listener = l), { dispose: () => undefined }),
    },
    title: "",
    visible: true,
    reveal: () => undefined,
    onDidChangeViewState: () => ({ dispose: () => undefined }),
    onDidDispose: () => ({ dispose: () => undefined }),
    dispose: () => undefined,
  };
  const platform: PanelPlatform = { createPanel: () => panel, resourceUri: (_p, f) => f, openSource: async () => undefined, log: () => undefined };
  const host = new SluicePanelHost(platform, data, { debounceMs: 0 });
  host.show({ page: "graph" });
  // the probe: an event-loop turn every setImmediate; the longest gap is the longest task
  // Wall-clock gaps include time the OS gave to other processes on a busy machine; the CPU time
  // this process used between two turns is the task's own cost.
  let longest = 0;
  let longestCpu = 0;
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let probing = true;
  const probe = () => {
    const t = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    longest = Math.max(longest, t - last);
    longestCpu = Math.max(longestCpu, (cpu.user + cpu.system) / 1000);
    last = t;
    lastCpu = process.cpuUsage();
    if (probing) setImmediate(probe);
  };
  setImmediate(probe);
  const t0 = performance.now();
  await listener?.({ type: "ready", protocol: 1 });
  await new Promise((r) => setTimeout(r, 5));
  await host.flush();
  const totalMs = performance.now() - t0;
  probing = false;
  host.dispose();
  return { longestMs: longest, longestCpuMs: longestCpu, messages, bytes, totalMs, longestPost };
}

async function main(): Promise<void> {
  const data = new FixtureDataSource();
  data.defs = largeAssetWorkspace(N, E);
  data.runList = [];
  data.eventMap = new Map();
  const edges = data.defs.assets.reduce((n, a) => n + a.deps.length, 0);
  console.log(`graph: ${data.defs.assets.length} assets, ${edges} edges`);

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const load = (await import("node:os")).loadavg()[0];
  console.log(`machine: ${(await import("node:os")).cpus().length} cores, load average ${load.toFixed(1)}${load > 2 ? " (busy: other processes share the cores; times below are inflated)" : ""}`);

  // host: warm once (JIT), then 5 measured sends
  await hostSide(data);
  const hosts = [];
  for (let i = 0; i < 5; i++) hosts.push(await hostSide(data));
  const host = hosts[0];
  const hostWall = median(hosts.map((h) => h.longestMs));
  const hostCpu = median(hosts.map((h) => h.longestCpuMs));
  console.log(`host: snapshot = ${host.messages} messages, ${(host.bytes / 1e6).toFixed(1)} MB of JSON, sent over ${median(hosts.map((h) => h.totalMs)).toFixed(0)} ms; longest task on the host's main thread (median of 5): ${hostCpu.toFixed(1)} ms of CPU, ${hostWall.toFixed(1)} ms wall (target ≤ 50); longest single postMessage serialisation ${Math.max(...hosts.map((h) => h.longestPost)).toFixed(1)} ms`);

  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const layouts: number[] = [];
  const draws: number[] = [];
  let detail = "";
  for (let i = 0; i < runs; i++) {
    const s = await openPanel(data, { route: { page: "graph" }, width: 1600, height: 1000 });
    try {
      const t0 = Date.now();
      await s.page.waitForFunction(() => document.body.dataset.graphDrawn === "assets", undefined, { timeout: 180_000 });
      const wall = Date.now() - t0;
      const d = (await s.page.evaluate(() => ({ layout: +document.body.dataset.layoutMs, draw: +document.body.dataset.drawMs, mode: document.body.dataset.layoutMode, where: document.body.dataset.layoutWhere, nodes: document.querySelectorAll("g.node").length, edges: document.querySelectorAll("path.edge").length }))) as { layout: number; draw: number; mode: string; where: string; nodes: number; edges: number };
      layouts.push(d.layout);
      draws.push(d.draw);
      detail = `dagre tight-tree, ${d.mode}, in ${d.where === "worker" ? "Web Workers" : "the page"}; ${d.nodes} nodes drawn, edges merged into ${d.edges} paths`;
      console.log(`webview run ${i + 1}: layout ${d.layout} ms, first draw ${d.draw} ms, snapshot → drawn graph ${wall} ms`);
      if (i === 0) {
        await s.screenshot("bench-5000-assets");
        // live status and tab switches reuse the layout (cached by graph hash)
        data.emit({ runs: true });
        await s.page.click('[data-testid="tab-runs"]');
        await s.page.click('[data-testid="tab-graph"]');
        await s.page.waitForFunction(() => document.body.dataset.layoutMs === "0", undefined, { timeout: 30_000 });
        console.log(`webview: re-draw from the layout cache ${await s.page.evaluate(() => +document.body.dataset.drawMs)} ms`);
      }
      const problems = await s.problems();
      if (problems.length) console.log(`problems: ${problems.join("; ")}`);
    } finally {
      await s.close();
    }
  }
  await closeBrowser();
  const layout = median(layouts);
  const draw = median(draws);
  console.log(`webview (median of ${runs}): layout ${layout} ms (target ≤ 3000; ${detail}); first draw ${draw} ms (target ≤ 1000)`);
  const ok = hostCpu <= 50 && layout <= 3000 && draw <= 1000;
  console.log(`targets: ${ok ? "met" : "NOT met"} — layout ${layout}/3000 ms, first draw ${draw}/1000 ms, host task ${hostCpu.toFixed(1)}/50 ms (best layout ${Math.min(...layouts)} ms, best draw ${Math.min(...draws)} ms)`);

  if (process.argv.includes("--baseline")) {
    const { layoutSingle } = await import("../webview-ui/src/graph/layoutCore");
    const input = { nodes: data.defs.assets.map((a) => ({ id: a.key, width: 200, height: 62 })), edges: data.defs.assets.flatMap((a) => a.deps.map((d) => ({ from: d, to: a.key }))), rankdir: "LR" as const };
    const t = performance.now();
    layoutSingle(input);
    console.log(`baseline: one dagre.layout of the whole graph in Node: ${(performance.now() - t).toFixed(0)} ms`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
