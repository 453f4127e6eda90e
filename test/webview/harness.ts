// Loads the built panel in headless Debian Chromium (playwright-core, never a downloaded browser)
// behind the real host code: SluicePanelHost runs in this Node process with a PanelLike whose
// postMessage dispatches into the page, and a stand-in acquireVsCodeApi in the page posts back to
// it. The page is the production HTML (panelHtml), so the real CSP applies; CSP violations,
// console errors and page errors are collected and the tests assert there are none.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { SluicePanelHost, type PanelLike, type PanelPlatform } from "../../src/extension/webview/panelHost";
import type { Route } from "../../src/protocol/webview";
import type { WebviewDataSource } from "../../src/extension/webview/dataSource";
import { THEMES, type ThemeName } from "./themes";

// Functions passed to playwright run in the page; this Node project has no DOM types, so the
// page globals they use are declared here (module-local, no runtime effect).
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const window: any; // eslint-disable-line @typescript-eslint/no-explicit-any

export const ROOT = path.resolve(__dirname, "..", "..");
export const WEBVIEW_DIST = path.join(ROOT, "dist", "webview");
export const RESULTS = path.join(ROOT, "test-results", "webview");
export const CHROMIUM = process.env.SLUICE_CHROMIUM ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

let built = false;
/** Builds dist/webview when it is missing or older than its sources. */
export function ensureWebviewBuilt(): void {
  if (built) return;
  const out = path.join(WEBVIEW_DIST, "main.js");
  const srcTime = Math.max(newest(path.join(ROOT, "webview-ui")), newest(path.join(ROOT, "src", "protocol")), newest(path.join(ROOT, "src", "engine", "selection")), newest(path.join(ROOT, "src", "engine", "config")));
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < srcTime) {
    const r = spawnSync(process.execPath, [path.join(ROOT, "webview-ui", "build.mjs")], { cwd: ROOT, stdio: "inherit" });
    if (r.status !== 0) throw new Error("webview build failed");
  }
  built = true;
}

export function requireChromium(): void {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: these tests need Debian's chromium. Run \`apt-get install -y chromium\` (.ci/run does it in CI), or point SLUICE_CHROMIUM at a Chromium binary.`);
  }
}

let browserPromise: Promise<Browser> | undefined;
export function browser(): Promise<Browser> {
  requireChromium();
  browserPromise ??= chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  return browserPromise;
}

export async function closeBrowser(): Promise<void> {
  const b = browserPromise;
  browserPromise = undefined;
  if (b) await (await b).close();
}

export interface PanelSession {
  page: Page;
  host: SluicePanelHost;
  /** Every message the webview posted (validated or not). */
  fromWebview: unknown[];
  /** Every message the host posted. */
  toWebview: unknown[];
  opened: { file: string; line: number; column: number }[];
  logs: { level: string; message: string }[];
  problems(): Promise<string[]>;
  screenshot(name: string): Promise<string>;
  /** Resolves when the webview rendered snapshot number >= n (body[data-snapshot]). */
  waitForSnapshot(): Promise<void>;
  close(): Promise<void>;
}

let counter = 0;

export async function openPanel(data: WebviewDataSource, opts: { theme?: ThemeName; route?: Route; state?: unknown; width?: number; height?: number } = {}): Promise<PanelSession> {
  ensureWebviewBuilt();
  const b = await browser();
  fs.mkdirSync(RESULTS, { recursive: true });
  const theme = THEMES[opts.theme ?? "dark"];
  const context = await b.newContext({ viewport: { width: opts.width ?? 1400, height: opts.height ?? 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const fromWebview: unknown[] = [];
  const toWebview: unknown[] = [];
  const opened: PanelSession["opened"] = [];
  const logs: PanelSession["logs"] = [];
  const consoleErrors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));

  let listener: ((m: unknown) => unknown) | undefined;
  let html = "";
  let posting = Promise.resolve();
  const panel: PanelLike = {
    webview: {
      get html() {
        return html;
      },
      set html(v: string) {
        html = v;
      },
      cspSource: "file:",
      postMessage(m: unknown) {
        toWebview.push(m);
        // In order, like VS Code's IPC.
        posting = posting.then(() => page.evaluate((msg) => window.postMessage(msg, "*"), m as never)).catch(() => undefined);
        return posting.then(() => true);
      },
      onDidReceiveMessage(l) {
        listener = l;
        return { dispose: () => (listener = undefined) };
      },
    },
    title: "Sluice",
    visible: true,
    reveal: () => undefined,
    onDidChangeViewState: () => ({ dispose: () => undefined }),
    onDidDispose: () => ({ dispose: () => undefined }),
    dispose: () => undefined,
  };
  const platform: PanelPlatform = {
    createPanel: () => panel,
    resourceUri: (_p, file) => pathToFileURL(path.join(WEBVIEW_DIST, file)).href,
    openSource: async (file, line, column) => void opened.push({ file, line, column }),
    log: (level, message) => void logs.push({ level, message }),
  };
  const host = new SluicePanelHost(platform, data, { debounceMs: 20 });

  await page.exposeBinding("__sluicePost", (_source, m: unknown) => {
    fromWebview.push(m);
    void listener?.(m);
  });
  // tsx compiles this file with esbuild's keepNames, which wraps named functions in `__name(...)`;
  // functions serialised into the page (init scripts, evaluate) need that helper there too.
  await page.addInitScript({ content: "globalThis.__name = globalThis.__name || ((f) => f);" });
  await page.addInitScript(
    ({ vars, bodyClass, state }) => {
      const w = window as unknown as Record<string, unknown>;
      w.__cspViolations = [];
      document.addEventListener("securitypolicyviolation", (e: { violatedDirective: string; blockedURI: string }) => (w.__cspViolations as string[]).push(`${e.violatedDirective}: ${e.blockedURI}`));
      let saved = state;
      w.acquireVsCodeApi = () => ({
        postMessage: (m: unknown) => (w.__sluicePost as (m: unknown) => void)(m),
        getState: () => saved,
        setState: (s: unknown) => {
          saved = s;
          w.__sluiceState = s;
        },
      });
      const apply = () => {
        for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
        document.body.classList.add(bodyClass);
      };
      if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", apply);
      else apply();
    },
    { vars: theme.vars, bodyClass: theme.bodyClass, state: opts.state },
  );

  host.show(opts.route);
  const file = path.join(RESULTS, `panel-${process.pid}-${++counter}.html`);
  fs.writeFileSync(file, html);
  await page.goto(pathToFileURL(file).href);
  const session: PanelSession = {
    page,
    host,
    fromWebview,
    toWebview,
    opened,
    logs,
    async problems() {
      const csp = (await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)) ?? [];
      return [...csp.map((c) => `csp: ${c}`), ...consoleErrors];
    },
    async screenshot(name: string) {
      const out = path.join(RESULTS, `${name}.png`);
      await page.screenshot({ path: out });
      return out;
    },
    async waitForSnapshot() {
      await page.waitForFunction(() => document.body.dataset.snapshot !== undefined);
    },
    async close() {
      host.dispose();
      await context.close();
      fs.rmSync(file, { force: true });
    },
  };
  await session.waitForSnapshot();
  return session;
}

/** The requests the webview sent, by kind. */
export function requestsOf(s: PanelSession, kind: string): Record<string, unknown>[] {
  return s.fromWebview
    .filter((m): m is { type: string; request: Record<string, unknown> } => (m as { type?: string }).type === "request")
    .map((m) => m.request)
    .filter((r) => r.kind === kind);
}
