// Builds the panel's webview into dist/webview/: main.js (IIFE, browser, the layout worker embedded
// as a string so that it can be started from a blob: URL), main.css, and the codicon font + CSS
// copied from @vscode/codicons. Called by esbuild.mjs; `node webview-ui/build.mjs` builds only this.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const out = join(root, "dist", "webview");
const require = createRequire(import.meta.url);

// The engine's config module (run config validation with YAML positions) is pure apart from a few
// Node imports used only by file-reading helpers the webview never calls: map them to an empty module.
const nodeShim = join(here, "src", "shims", "node.ts");

const workerPlugin = {
  name: "layout-worker",
  setup(build) {
    build.onResolve({ filter: /^virtual:layout-worker$/ }, () => ({ path: "layout-worker", namespace: "layout-worker" }));
    build.onLoad({ filter: /.*/, namespace: "layout-worker" }, async () => {
      const r = await esbuild.build({
        entryPoints: [join(here, "src", "graph", "layoutWorker.ts")],
        bundle: true,
        platform: "browser",
        target: "es2022",
        format: "iife",
        minify: true,
        write: false,
        metafile: true,
        logLevel: "warning",
      });
      return {
        contents: `export default ${JSON.stringify(r.outputFiles[0].text)};`,
        loader: "js",
        watchFiles: Object.keys(r.metafile.inputs).map((f) => resolve(root, f)),
      };
    });
  },
};

export function copyCodicons() {
  mkdirSync(out, { recursive: true });
  const dist = dirname(require.resolve("@vscode/codicons/dist/codicon.css"));
  copyFileSync(join(dist, "codicon.css"), join(out, "codicon.css"));
  copyFileSync(join(dist, "codicon.ttf"), join(out, "codicon.ttf"));
}

/** esbuild option sets for the webview (esbuild.mjs adds them to its list). */
export function webviewBuilds() {
  copyCodicons();
  const common = { bundle: true, platform: "browser", target: "es2022", logLevel: "warning", absWorkingDir: root };
  return [
    {
      ...common,
      entryPoints: { main: join(here, "src", "main.ts") },
      outdir: out,
      format: "iife",
      sourcemap: "linked",
      minify: true,
      plugins: [workerPlugin],
      alias: { "node:fs": nodeShim, "node:path": nodeShim, "node:os": nodeShim },
      define: { "process.env.NODE_ENV": '"production"' },
    },
    { ...common, entryPoints: { main: join(here, "src", "styles", "main.css") }, outdir: out, minify: true },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await Promise.all(webviewBuilds().map((b) => esbuild.build(b)));
}
