// The packaged .vsix (npm run package): built with @vscode/vsce from the allow-list .vscodeignore
// plus the runtime node_modules, unpacked here and checked file by file.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import { ROOT } from "./helpers/paths";
import { ensureVsix } from "./helpers/vsix";
import { readZip, type ZipEntry } from "./helpers/zip";


let vsix: string;
let entries: Map<string, ZipEntry>;
let files: string[];
const ext = (p: string) => `extension/${p}`;

before(async () => {
  vsix = await ensureVsix();
  entries = readZip(vsix);
  files = [...entries.keys()].filter((n) => n.startsWith("extension/")).map((n) => n.slice("extension/".length));
});

describe("the .vsix", () => {
  test("has the runtime files", () => {
    const required = [
      "package.json",
      "package.nls.json",
      "LICENSE.txt",
      "dist/extension.js",
      "dist/cli.js",
      "dist/worker.js",
      "dist/ts-plugin.js",
      "dist/sql-wasm.wasm",
      "dist/sdk/index.js",
      "dist/sdk/index.d.ts",
      "dist/sdk/types/sdk/index.d.ts",
      "dist/sdk/node_modules/zod/package.json",
      "dist/sdk/node_modules/zod/index.d.cts",
      "media/icon.png",
      "media/sluice.svg",
      "l10n/bundle.l10n.json",
      "node_modules/sluice-ts-plugin/package.json",
      "node_modules/sluice-ts-plugin/index.js",
      "node_modules/esbuild/package.json",
      "node_modules/esbuild/lib/main.js",
    ];
    if (fs.existsSync(path.join(ROOT, "README.md"))) required.push("readme.md");
    const lower = new Set(files.map((f) => f.toLowerCase()));
    for (const f of required) assert.ok(files.includes(f) || lower.has(f.toLowerCase()), `missing ${f}`);
    assert.ok(entries.has("extension.vsixmanifest") && entries.has("[Content_Types].xml"));
  });

  test("the JSON Schemas contributed to the YAML extension (yamlValidation) are in it", () => {
    const manifest = JSON.parse(entries.get("extension/package.json")!.data.toString("utf8"));
    const urls = (manifest.contributes.yamlValidation as { url: string }[]).map((v) => v.url.replace(/^\.\//, ""));
    assert.deepEqual(urls, ["schemas/sluice.schema.json", "schemas/run-config.schema.json"]);
    for (const u of urls) assert.ok(files.includes(u), u);
  });

  test("ships every JSON schema and every file of dist/ but source maps", () => {
    const schemas = fs.existsSync(path.join(ROOT, "schemas")) ? fs.readdirSync(path.join(ROOT, "schemas")).filter((f) => f.endsWith(".json")) : [];
    for (const s of schemas) assert.ok(files.includes(`schemas/${s}`), `schemas/${s}`);
    // every build output except source maps: a new kind of asset must be added to .vscodeignore
    const built: string[] = [];
    (function walk(dir: string) {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (!e.name.endsWith(".map")) built.push(path.relative(ROOT, p).split(path.sep).join("/"));
      }
    })(path.join(ROOT, "dist"));
    const missing = built.filter((f) => !files.includes(f));
    assert.deepEqual(missing, [], "dist/ files left out of the .vsix (allow them in .vscodeignore)");
  });

  test("leaves out sources, tests, maps, tooling and the rest of node_modules", () => {
    const forbidden = files.filter((f) =>
      /^(src|test|scripts|bench|examples|webview-ui|\.ci|\.vscode-test|test-results)\//.test(f) ||
      /\.map$/.test(f) ||
      /^(tsconfig.*\.json|esbuild\.mjs|package-lock\.json|\.gitignore|\.vscodeignore)$/.test(f) ||
      (/\.ts$/.test(f) && !/\.d\.[cm]?ts$/.test(f)));
    assert.deepEqual(forbidden, []);
    const packages = new Set(files.filter((f) => f.startsWith("node_modules/")).map((f) => f.split("/").slice(1, f.split("/")[1].startsWith("@") ? 3 : 2).join("/")));
    assert.deepEqual([...packages].sort(), [...packages].filter((p) => /^@esbuild\/[a-z0-9]+-[a-z0-9]+$/.test(p)).concat(["esbuild", "sluice-ts-plugin"]).sort());
  });

  test("the esbuild binary keeps its executable bit", () => {
    const bin = files.find((f) => /^node_modules\/@esbuild\/[^/]+\/bin\/esbuild(\.exe)?$/.test(f));
    assert.ok(bin, "esbuild's platform binary");
    if (!bin.endsWith(".exe")) assert.ok(entries.get(ext(bin))!.mode & 0o111, `mode ${entries.get(ext(bin))!.mode.toString(8)}`);
  });

  test("the manifest inside is the repository's, and what it references is packed", () => {
    const pkg = JSON.parse(entries.get(ext("package.json"))!.data.toString("utf8"));
    const mine = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    assert.equal(pkg.name, mine.name);
    assert.deepEqual(pkg.contributes, mine.contributes);
    assert.ok(files.includes(pkg.main.replace(/^\.\//, "")), pkg.main);
    assert.ok(files.includes(pkg.icon), pkg.icon);
    for (const c of pkg.contributes.viewsContainers.activitybar) assert.ok(files.includes(c.icon), c.icon);
    assert.ok(files.some((f) => f.startsWith(pkg.l10n.replace(/^\.\//, "") + "/")), "l10n bundle");
    const manifest = entries.get("extension.vsixmanifest")!.data.toString("utf8");
    assert.match(manifest, /TargetPlatform="[a-z0-9]+-[a-z0-9]+"/);
    assert.match(manifest, /Microsoft\.VisualStudio\.Code\.Engine.*\^1\.100\.0|\^1\.100\.0/s);
  });

  test("the plugin shim points at the bundled plugin, which points at the shipped declarations", () => {
    assert.match(entries.get(ext("node_modules/sluice-ts-plugin/index.js"))!.data.toString("utf8"), /require\("\.\.\/\.\.\/dist\/ts-plugin\.js"\)/);
    assert.match(entries.get(ext("dist/ts-plugin.js"))!.data.toString("utf8"), /"sdk", "index\.d\.ts"/);
  });

  test("size is sane", () => {
    const size = fs.statSync(vsix).size;
    const unpacked = [...entries.values()].reduce((s, e) => s + e.size, 0);
    console.log(`  ${path.relative(ROOT, vsix)}: ${(size / 1048576).toFixed(1)} MB packed, ${(unpacked / 1048576).toFixed(1)} MB unpacked, ${files.length} files`);
    assert.ok(size < 15 * 1048576, `${size} bytes`);
    assert.ok(size > 1 * 1048576, `${size} bytes: suspiciously small`);
    assert.ok(files.length < 2000, `${files.length} files`);
  });
});
