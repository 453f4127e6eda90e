// Packages the extension as a .vsix: `npm run package` (builds first), or
//   node scripts/package-vsix.mjs [--out FILE.vsix] [--target linux-x64]
//
// 1. vsce (@vscode/vsce, API) packs the files that the allow-list .vscodeignore keeps, without
//    node_modules (dependencies: false): the code is bundled in dist/.
// 2. This script then adds the runtime packages that cannot be bundled, under
//    extension/node_modules/: esbuild and its platform binary (the engine bundles job files with
//    it), and sluice-ts-plugin (the TypeScript server plugin shim, which tsserver only finds as a
//    package). Because of the native binary the .vsix is platform-specific (`--target`).
import { createVSIX } from "@vscode/vsce";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);
const yauzl = require("yauzl");
const yazl = require("yazl");

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

/** VS Code's target names for esbuild's platform packages (`@esbuild/<platform>-<arch>`). */
export function currentTarget() {
  const arch = { x64: "x64", arm64: "arm64", arm: "armhf" }[process.arch] ?? process.arch;
  const platform = process.platform === "linux" && isMusl() ? "alpine" : process.platform;
  return `${platform}-${arch}`;
}
function isMusl() {
  try {
    return !process.report?.getReport()?.header?.glibcVersionRuntime;
  } catch {
    return false;
  }
}
function esbuildPlatformPackage(target) {
  const [platform, arch] = target.split("-");
  const esArch = arch === "armhf" ? "arm" : arch;
  const esPlatform = platform === "alpine" ? "linux" : platform;
  return `@esbuild/${esPlatform}-${esArch}`;
}

/**
 * Where README's relative links point in the Marketplace/Extensions view. vsce only guesses them for
 * GitHub/GitLab repositories; for others derive them from package.json's repository URL.
 */
function readmeLinkBase() {
  const url = typeof pkg.repository === "string" ? pkg.repository : pkg.repository?.url;
  if (!url || /github\.com|gitlab\.com/.test(url)) return {};
  const base = url.replace(/^git\+/, "").replace(/\.git$/, "");
  return { baseContentUrl: `${base}/blob/HEAD/`, baseImagesUrl: `${base}/raw/HEAD/` };
}

const REQUIRED = ["dist/extension.js", "dist/ts-plugin.js", "dist/sdk/index.d.ts", "dist/sql-wasm.wasm", "node_modules/sluice-ts-plugin/index.js"];

/** Files to add under extension/: [path in the vsix (relative to extension/), absolute source]. */
function runtimePackageFiles(target) {
  const files = [];
  const addDir = (rel, filter = () => true) => {
    const abs = path.join(ROOT, rel);
    if (!fs.existsSync(abs)) throw new Error(`${rel} is missing: run npm ci`);
    (function walk(dir) {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        const r = path.relative(ROOT, p).split(path.sep).join("/");
        if (e.isDirectory()) walk(p);
        else if (filter(r)) files.push([r, p]);
      }
    })(abs);
  };
  addDir("node_modules/sluice-ts-plugin");
  // esbuild's JS API (lib/main.js) finds the binary in its platform package; bin/ is the CLI copy
  addDir("node_modules/esbuild", (r) => /^node_modules\/esbuild\/(package\.json|LICENSE\.md|lib\/main\.js)$/.test(r));
  addDir(`node_modules/${esbuildPlatformPackage(target)}`);
  return files;
}

function readZip(file) {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const entries = [];
      zip.on("entry", (entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks = [];
          stream.on("data", (c) => chunks.push(c));
          stream.on("end", () => {
            entries.push({ name: entry.fileName, data: Buffer.concat(chunks), mode: entry.externalFileAttributes >>> 16, mtime: entry.getLastModDate() });
            zip.readEntry();
          });
          stream.on("error", reject);
        });
      });
      zip.on("end", () => resolve(entries));
      zip.on("error", reject);
      zip.readEntry();
    });
  });
}

function writeZip(file, entries) {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    for (const e of entries) zip.addBuffer(e.data, e.name, { mode: e.mode || 0o100644, mtime: e.mtime });
    zip.end();
    const out = fs.createWriteStream(file);
    zip.outputStream.pipe(out).on("finish", resolve).on("error", reject);
  });
}

/** Adds a <Default> content type for every new file extension (vsce lists the ones it packed). */
function updateContentTypes(xml, names) {
  const have = new Set([...xml.matchAll(/Extension="([^"]*)"/g)].map((m) => m[1].toLowerCase()));
  const add = [...new Set(names.map((n) => path.extname(n).toLowerCase()).filter((e) => e && !have.has(e)))];
  const defaults = add.map((e) => `<Default Extension="${e}" ContentType="application/octet-stream"/>`).join("");
  return xml.replace("</Types>", `${defaults}</Types>`);
}

export async function packageVsix({ out, target = currentTarget(), quiet = false } = {}) {
  const t0 = Date.now();
  const missing = REQUIRED.filter((f) => !fs.existsSync(path.join(ROOT, f)));
  if (missing.length) throw new Error(`missing build outputs (${missing.join(", ")}): run npm run build`);
  out = path.resolve(out ?? path.join(ROOT, `${pkg.name}-${target}-${pkg.version}.vsix`));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-vsix-"));
  const log = console.log;
  try {
    const packed = path.join(tmp, "vsce.vsix");
    if (quiet) console.log = () => {};
    try {
      await createVSIX({ cwd: ROOT, packagePath: packed, dependencies: false, useYarn: false, target, ...readmeLinkBase() });
    } finally {
      console.log = log;
    }
    const entries = await readZip(packed);
    const names = new Set(entries.map((e) => e.name));
    const extra = runtimePackageFiles(target).filter(([rel]) => !names.has(`extension/${rel}`));
    for (const [rel, abs] of extra) {
      const st = fs.statSync(abs);
      entries.push({ name: `extension/${rel}`, data: fs.readFileSync(abs), mode: 0o100000 | (st.mode & 0o777), mtime: st.mtime });
    }
    const ct = entries.find((e) => e.name === "[Content_Types].xml");
    ct.data = Buffer.from(updateContentTypes(ct.data.toString("utf8"), extra.map(([rel]) => rel)), "utf8");
    fs.mkdirSync(path.dirname(out), { recursive: true });
    // atomic: a concurrent reader (another test run installing it) never sees a half-written file
    const partial = `${out}.${process.pid}.partial`;
    await writeZip(partial, entries);
    fs.renameSync(partial, out);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const size = fs.statSync(out).size;
  if (!quiet) console.log(`[package] ${path.relative(process.cwd(), out)} (${target}, ${(size / 1024 / 1024).toFixed(1)} MB) in ${Date.now() - t0} ms`);
  return { out, target, size };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: "string" }, target: { type: "string" } } });
  packageVsix({ out: values.out, target: values.target }).catch((e) => {
    console.error(`[package] ${e.message ?? e}`);
    process.exit(1);
  });
}
