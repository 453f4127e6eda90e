// Builds the TypeScript server plugin that resolves `import ... from "sluice"` in the editor.
//
//   dist/ts-plugin.js                          the plugin (src/extension/tsPlugin/plugin.ts, bundled)
//   node_modules/sluice-ts-plugin/{package.json,index.js}
//                                              the package tsserver loads (contributes.typescriptServerPlugins):
//                                              a shim that requires ../../dist/ts-plugin.js
//
// The shim has the same relative layout in this repository (for running the extension from source)
// and in the .vsix (scripts/package-vsix.mjs copies it to extension/node_modules/sluice-ts-plugin).
// usage: node scripts/build-ts-plugin.mjs
import * as esbuild from "esbuild";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const PLUGIN_NAME = "sluice-ts-plugin";

export function shimFiles(version) {
  return {
    "package.json": JSON.stringify({ name: PLUGIN_NAME, version, private: true, main: "index.js", license: "MIT" }, null, 2) + "\n",
    "index.js": `// TypeScript server plugin of the Sluice extension; the code is in dist/ts-plugin.js.\nmodule.exports = require("../../dist/ts-plugin.js");\n`,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  await esbuild.build({
    entryPoints: { "ts-plugin": path.join(ROOT, "src/extension/tsPlugin/plugin.ts") },
    outdir: path.join(ROOT, "dist"),
    bundle: true,
    platform: "node",
    target: "node18",
    format: "cjs",
    sourcemap: "linked",
    logLevel: "warning",
    // tsserver hands the plugin its own `typescript`; nothing else may be required at runtime
    external: ["typescript", "typescript/*"],
  });
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const dir = path.join(ROOT, "node_modules", PLUGIN_NAME);
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(shimFiles(version))) fs.writeFileSync(path.join(dir, name), text);
  console.log(`[ts-plugin] dist/ts-plugin.js + node_modules/${PLUGIN_NAME} in ${Date.now() - t0} ms`);
}
