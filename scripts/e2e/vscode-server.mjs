// Starts a real VS Code (code-server from npm, VS Code 1.100) on 127.0.0.1 with throwaway state,
// with Sluice installed from its .vsix exactly as a user would have it, and drives it with Debian's
// Chromium through playwright-core. Adapted from /work/shared/e2e/sample-ext/scripts/vscode-server.mjs.
// Setup (once, idempotent): bash scripts/e2e/setup-vscode-server.sh
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import util from "node:util";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CODE_SERVER_VERSION = process.env.CODE_SERVER_VERSION || "4.100.3";
export const TEST_DIR = process.env.VSCODE_TEST_DIR || path.join(ROOT, ".vscode-test");
const CS_DIR = path.join(TEST_DIR, `code-server-${CODE_SERVER_VERSION}`);
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

const SETTINGS = {
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "extensions.ignoreRecommendations": true,
  "typescript.disableAutomaticTypeAcquisition": true,
  "typescript.tsserver.log": "off",
  "npm.fetchOnlinePackageInfo": false,
  "git.enabled": false,
  "chat.disableAIFeatures": true,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
};

/** Runs the idempotent setup script (apt packages + code-server); a no-op when installed. */
export function ensureVscodeServer() {
  if (fs.existsSync(path.join(CS_DIR, ".installed")) && fs.existsSync(CHROMIUM)) return;
  const r = spawnSync("bash", [path.join(ROOT, "scripts", "e2e", "setup-vscode-server.sh")], { stdio: "inherit", env: process.env });
  if (r.status !== 0) throw new Error(`scripts/e2e/setup-vscode-server.sh failed (${r.status})`);
}

function codeServerArgs() {
  if (!fs.existsSync(path.join(CS_DIR, ".installed"))) {
    throw new Error(`code-server ${CODE_SERVER_VERSION} is not installed in ${CS_DIR}: run bash scripts/e2e/setup-vscode-server.sh`);
  }
  const nodeBin = fs.readFileSync(path.join(CS_DIR, ".node"), "utf8").trim();
  return { nodeBin, entry: path.join(CS_DIR, "node_modules/code-server/out/node/entry.js") };
}

function isolatedEnv(dir) {
  return { ...process.env, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir, XDG_CACHE_HOME: dir, EXTENSIONS_GALLERY: "{}" };
}

/**
 * Installs a .vsix into a fresh extensions dir with `code-server --install-extension` (what a user
 * does) and returns that dir. Servers of one test process can share it (they run one at a time).
 */
export function installVsix(vsix) {
  const { nodeBin, entry } = codeServerArgs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-ext-"));
  const extensions = path.join(dir, "extensions");
  fs.mkdirSync(extensions);
  fs.writeFileSync(path.join(dir, "config.yaml"), "auth: none\n");
  const t0 = Date.now();
  const r = spawnSync(nodeBin, [entry, "--config", path.join(dir, "config.yaml"), "--user-data-dir", path.join(dir, "ud"),
    "--extensions-dir", extensions, "--install-extension", vsix], { env: isolatedEnv(path.join(dir, "xdg")), encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`installing ${vsix} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const installed = fs.readdirSync(extensions).filter((n) => !n.startsWith("."));
  if (!installed.some((n) => n.startsWith("sluice.sluice-"))) throw new Error(`no sluice.sluice-* in ${extensions}: ${installed.join(", ")}\n${r.stdout}`);
  return { extensionsDir: extensions, dir, installMs: Date.now() - t0, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/**
 * Starts code-server with throwaway state. Options:
 *  workspace: folder to copy into a temp dir and open (tests may modify the copy)
 *  extensionsDir: extensions dir to use (from installVsix); default: an empty one
 *  trusted: false keeps workspace trust on, so the folder opens in Restricted Mode
 *  settings: extra user settings
 */
export async function startServer({ workspace, extensionsDir, trusted = true, settings = {} } = {}) {
  const { nodeBin, entry } = codeServerArgs();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-"));
  const dirs = { userData: path.join(tmp, "user-data"), xdg: path.join(tmp, "xdg"), ws: path.join(tmp, "workspace") };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  const extensions = extensionsDir ?? path.join(tmp, "extensions");
  fs.mkdirSync(extensions, { recursive: true });
  fs.mkdirSync(path.join(dirs.userData, "User"), { recursive: true });
  const trust = trusted
    ? { "security.workspace.trust.enabled": false }
    : { "security.workspace.trust.enabled": true, "security.workspace.trust.startupPrompt": "never", "security.workspace.trust.banner": "always", "security.workspace.trust.emptyWindow": false };
  fs.writeFileSync(path.join(dirs.userData, "User", "settings.json"), JSON.stringify({ ...SETTINGS, ...trust, ...settings }, null, 2));
  fs.writeFileSync(path.join(tmp, "config.yaml"), "auth: none\n");
  if (workspace) fs.cpSync(workspace, dirs.ws, { recursive: true });
  const port = await freePort();
  const args = [entry, "--config", path.join(tmp, "config.yaml"), "--bind-addr", `127.0.0.1:${port}`, "--auth", "none",
    "--disable-telemetry", "--disable-update-check", "--disable-getting-started-override",
    "--user-data-dir", dirs.userData, "--extensions-dir", extensions, "--ignore-last-opened"];
  if (trusted) args.push("--disable-workspace-trust");
  const t0 = Date.now();
  const logFile = path.join(tmp, "server.log");
  const log = fs.openSync(logFile, "w");
  const proc = spawn(nodeBin, args, { env: isolatedEnv(dirs.xdg), detached: true, stdio: ["ignore", log, log] }); // own process group
  let exited = false;
  proc.on("exit", () => {
    exited = true;
  });
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    if (exited) throw new Error(`code-server exited early:\n${fs.readFileSync(logFile, "utf8")}`);
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() - t0 > 60_000) throw new Error("code-server did not start in 60 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  const startMs = Date.now() - t0;
  return {
    base, port, workspace: dirs.ws, tmp, logFile, startMs, userData: dirs.userData,
    /** URL that opens the workspace; `payload` = VS Code's [key, value][] (extensionDevelopmentPath, extensionTestsPath, ...) */
    url(payload) {
      let u = `${base}/?folder=${encodeURI(dirs.ws)}`;
      if (payload) u += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
      return u;
    },
    remoteUri(p) {
      return `vscode-remote://127.0.0.1:${port}${path.resolve(p)}`;
    },
    /** The extension host's log (exthost.log) and the "Sluice" output channel's log, for diagnosis. */
    logs() {
      const found = [];
      (function walk(d) {
        for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p);
          else if (/exthost\.log$|Sluice\.log$|tsserver/i.test(e.name)) found.push(p);
        }
      })(path.join(dirs.userData, "logs"));
      return found;
    },
    async stop() {
      if (!exited) {
        try {
          process.kill(-proc.pid, "SIGTERM");
        } catch {
          /* gone */
        }
        for (let i = 0; i < 30 && !exited; i++) await new Promise((r) => setTimeout(r, 100));
        try {
          process.kill(-proc.pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
      fs.closeSync(log);
      if (!process.env.KEEP_VSCODE_TMP) fs.rmSync(tmp, { recursive: true, force: true });
      else console.log(`[vscode-e2e] kept ${tmp}`);
    },
  };
}

export async function launchBrowser() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
    viewport: { width: 1400, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Formats a console call forwarded from VS Code (printf-style args, as mocha uses them). */
export function formatLog(args) {
  return util.format(...args);
}
