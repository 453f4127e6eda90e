// One build for every shipped piece: the CLI, the worker processes, the SDK that job files import,
// the extension and the webview. `node esbuild.mjs [--watch]`.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const watch = process.argv.includes("--watch");
mkdirSync("dist", { recursive: true });
copyFileSync(require.resolve("sql.js/dist/sql-wasm.wasm"), "dist/sql-wasm.wasm");

const node = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  sourcemap: "linked",
  logLevel: "warning",
  // esbuild itself must stay a real package: it locates its native binary next to its own files.
  external: ["esbuild", "vscode"],
};

const builds = [
  { ...node, entryPoints: { cli: "src/cli/main.ts" }, outdir: "dist", banner: { js: "#!/usr/bin/env node" } },
  { ...node, entryPoints: { worker: "src/engine/worker.ts" }, outdir: "dist" },
  { ...node, entryPoints: { "sdk/index": "src/sdk/index.ts" }, outdir: "dist" },
];
if (existsSync("src/extension/extension.ts")) {
  builds.push({ ...node, entryPoints: { extension: "src/extension/extension.ts" }, outdir: "dist" });
}
if (existsSync("webview-ui/src/main.ts")) {
  builds.push({ bundle: true, platform: "browser", target: "es2022", format: "iife", sourcemap: "linked",
    logLevel: "warning", entryPoints: { "webview/main": "webview-ui/src/main.ts" }, outdir: "dist" });
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
