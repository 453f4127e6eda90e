// Builds the SDK's type declarations for editors: dist/sdk/index.d.ts, self-contained.
//
//   dist/sdk/index.d.ts            export * from "./types/sdk/index"
//   dist/sdk/types/**.d.ts         declarations of src/sdk/index.ts and of every module its
//                                  declarations reference (src/engine/events.ts, ...), nothing more
//   dist/sdk/node_modules/<pkg>/   declarations (+ package.json files, LICENSE) of the runtime
//                                  dependencies they import (zod for `z`, ...), so that they resolve
//                                  wherever dist/sdk is copied, with no npm install
//
// The TypeScript server plugin (src/extension/tsPlugin) points the "sluice" module at
// dist/sdk/index.d.ts. Declarations are emitted with the TypeScript API (no temp tsconfig). Any
// other external import or `/// <reference types>` in the result would not resolve in a user's
// workspace (a node: builtin, a devDependency), so the script reports it and fails.
//
// usage: node scripts/build-sdk-types.mjs [--out dist/sdk]
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ts = require("typescript");

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SRC = path.join(ROOT, "src");
const ENTRY = path.join(SRC, "sdk", "index.ts");
const outArg = process.argv.indexOf("--out");
const OUT = path.resolve(ROOT, outArg > 0 ? process.argv[outArg + 1] : "dist/sdk");
const TYPES_DIR = "types";
/** External packages the declarations may import: the runtime dependencies, whose declarations ship beside them. */
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const RUNTIME_DEPENDENCIES = new Set(Object.keys(pkg.dependencies ?? {}));
const packageNameOf = (spec) => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
const shipped = new Set();

const t0 = Date.now();
if (!fs.existsSync(ENTRY)) {
  console.error(`[sdk-types] ${path.relative(ROOT, ENTRY)} does not exist`);
  process.exit(1);
}

// 1. Compiler options: the project's, turned into a declaration-only emit.
const configPath = path.join(ROOT, "tsconfig.json");
const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, ROOT);
const options = {
  ...parsed.options,
  noEmit: false,
  declaration: true,
  emitDeclarationOnly: true,
  declarationMap: false,
  sourceMap: false,
  stripInternal: true,
  removeComments: false,
  rootDir: SRC,
  outDir: path.join(OUT, TYPES_DIR),
  incremental: false,
  composite: false,
};
const program = ts.createProgram({ rootNames: [ENTRY], options });

// 2. Emit the entry's declarations, then those of every module they reference, transitively.
const emitted = new Map(); // output path -> text
const problems = [];
const queue = [ENTRY];
const seen = new Set();
while (queue.length > 0) {
  const file = queue.shift();
  if (seen.has(file)) continue;
  seen.add(file);
  const sf = program.getSourceFile(file);
  if (!sf) {
    problems.push(`cannot find ${path.relative(ROOT, file)}`);
    continue;
  }
  let text;
  const result = program.emit(sf, (name, data) => { if (name.endsWith(".d.ts")) text = data; }, undefined, true);
  for (const d of result.diagnostics) problems.push(ts.formatDiagnostic(d, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => "\n" }).trim());
  if (text === undefined) {
    problems.push(`no declarations emitted for ${path.relative(ROOT, file)}`);
    continue;
  }
  const rel = path.relative(SRC, file).replace(/\.(ts|tsx|mts|cts)$/, ".d.ts");
  emitted.set(rel, text);
  const info = ts.preProcessFile(text, true, true);
  for (const ref of info.typeReferenceDirectives) problems.push(`${rel}: /// <reference types="${ref.fileName}" /> will not resolve in a user's workspace`);
  for (const ref of info.referencedFiles) problems.push(`${rel}: /// <reference path="${ref.fileName}" /> is not supported`);
  for (const imp of info.importedFiles) {
    const spec = imp.fileName;
    if (spec.startsWith(".")) {
      const resolved = ts.resolveModuleName(spec, file, options, ts.sys).resolvedModule;
      if (!resolved || !resolved.resolvedFileName.startsWith(SRC + path.sep)) {
        problems.push(`${rel}: cannot resolve "${spec}" inside src/`);
      } else {
        queue.push(resolved.resolvedFileName.replace(/\.d\.ts$/, ".ts"));
      }
    } else if (RUNTIME_DEPENDENCIES.has(packageNameOf(spec)) && !spec.startsWith("node:")) {
      shipped.add(packageNameOf(spec));
    } else {
      problems.push(`${rel}: imports "${spec}", which a workspace without node_modules cannot resolve (only declarations of runtime dependencies ship with the SDK types)`);
    }
  }
}

const nodeGlobals = [...emitted].filter(([, text]) => /\bNodeJS\.|\bBuffer\b/.test(text)).map(([rel]) => rel);
if (nodeGlobals.length) {
  console.warn(`[sdk-types] warning: ${nodeGlobals.join(", ")} use Node's global types (NodeJS.*, Buffer), which are \`any\` in a workspace without @types/node`);
}

if (problems.length > 0) {
  console.error(`[sdk-types] the SDK's declarations are not self-contained:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}

// 3. Write: a fresh types/ tree and the index.
fs.rmSync(path.join(OUT, TYPES_DIR), { recursive: true, force: true });
for (const [rel, text] of emitted) {
  const target = path.join(OUT, TYPES_DIR, rel);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, text);
}
const header = "// The Sluice SDK's type declarations (generated by scripts/build-sdk-types.mjs). Job files import it as \"sluice\".\n";
fs.writeFileSync(path.join(OUT, "index.d.ts"), `${header}export * from "./${TYPES_DIR}/sdk/index";\n`);

// 4. The declarations of the packages they import (zod, ...) beside them: dist/sdk/node_modules/<pkg>
//    resolves from dist/sdk/types/** wherever dist/sdk is copied, with no npm install.
fs.rmSync(path.join(OUT, "node_modules"), { recursive: true, force: true });
let packageFiles = 0;
for (const name of [...shipped].sort()) {
  const pkgRoot = path.dirname(require.resolve(`${name}/package.json`));
  const pkgOut = path.join(OUT, "node_modules", name);
  (function copyDecls(dir) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const from = path.join(dir, entry.name);
      const relFromPkg = path.relative(pkgRoot, from);
      if (entry.isDirectory()) {
        if (relFromPkg === "src" || entry.name === "node_modules") continue;
        copyDecls(from);
      } else if (/\.d\.(ts|cts|mts)$/.test(entry.name) || entry.name === "package.json" || (dir === pkgRoot && /^LICENSE/i.test(entry.name))) {
        const to = path.join(pkgOut, relFromPkg);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(from, to);
        packageFiles++;
      }
    }
  })(pkgRoot);
}

console.log(`[sdk-types] ${emitted.size} declaration files + ${packageFiles} files of ${[...shipped].join(", ") || "no packages"} -> ${path.relative(ROOT, OUT)} in ${Date.now() - t0} ms`);
