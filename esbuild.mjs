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

// The SDK's `z` loads zod (dist/sdk/zod.js) on first use: a job file that never touches `z` does
// not pay for it, which matters for step workers started per step (`spawn`). Types still come from
// `zod` itself.
const lazyZod = {
  name: "sluice-lazy-zod",
  setup(build) {
    build.onResolve({ filter: /^zod$/ }, (args) =>
      /[\\/]src[\\/]sdk[\\/]index\.ts$/.test(args.importer) ? { path: "lazy-zod", namespace: "sluice-lazy-zod" } : undefined);
    build.onResolve({ filter: /^\.\/zod\.js$/ }, (args) => (args.namespace === "sluice-lazy-zod" ? { path: "./zod.js", external: true } : undefined));
    build.onLoad({ filter: /.*/, namespace: "sluice-lazy-zod" }, () => ({
      resolveDir: process.cwd(),
      loader: "js",
      contents: `
let real;
const load = () => (real ??= require("./zod.js").z);
export const z = new Proxy({}, {
  get: (_, key) => Reflect.get(load(), key),
  has: (_, key) => Reflect.has(load(), key),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, key) => {
    const d = Reflect.getOwnPropertyDescriptor(load(), key);
    return d && { ...d, configurable: true };
  },
  set: () => false,
  defineProperty: () => false,
  deleteProperty: () => false,
});`,
    }));
  },
};

const builds = [
  { ...node, entryPoints: { cli: "src/cli/main.ts" }, outdir: "dist", banner: { js: "#!/usr/bin/env node" } },
  { ...node, entryPoints: { worker: "src/engine/worker.ts" }, outdir: "dist" },
  // Step workers of the multiprocess executor: kept small (no zod) because spawn pays its start-up per step.
  // dist/stepWorker.js is a small entry that loads dist/stepWorkerMain.js through a V8 code cache.
  { ...node, entryPoints: { stepWorker: "src/engine/execution/stepWorkerEntry.ts", stepWorkerMain: "src/engine/execution/stepWorker.ts" }, outdir: "dist" },
  { ...node, entryPoints: { "sdk/index": "src/sdk/index.ts" }, outdir: "dist", plugins: [lazyZod] },
  { ...node, entryPoints: { "sdk/zod": require.resolve("zod") }, outdir: "dist" },
];
if (existsSync("src/extension/extension.ts")) {
  builds.push({ ...node, entryPoints: { extension: "src/extension/extension.ts" }, outdir: "dist" });
  // The extension's engine thread (worker_threads): the Instance, daemons and file watcher, off the host's main thread.
  builds.push({ ...node, entryPoints: { engineWorker: "src/extension/engine/engineWorker.ts" }, outdir: "dist" });
}
if (existsSync("webview-ui/build.mjs")) {
  // The panel's webview (dist/webview/): app bundle with its layout worker, styles, codicons.
  const { webviewBuilds } = await import("./webview-ui/build.mjs");
  builds.push(...webviewBuilds());
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
