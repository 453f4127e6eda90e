// V8 code caches for the files every step worker loads (its own code and the SDK), kept in
// `.sluice/cache/v8`. A step worker's start-up is what `spawn` pays per step, and a forkserver
// worker's first steps run cold code, so both gain from not parsing and compiling again.
//
// A cache is written only after the worker has run a step (`saveCodeCaches`): V8 then includes the
// functions compiled lazily while running it, which is most of what a step executes. One written
// right after loading would hold little more than the top level.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Script } from "node:vm";

type ModuleInternals = typeof Module & {
  wrap(code: string): string;
  _nodeModulePaths(dir: string): string[];
};

interface Pending {
  script: Script;
  cacheFile: string;
}

/** Scripts loaded without a usable cache, shared by every copy of this module in the process (the entry and the worker bundle each have one). */
const pending: Map<string, Pending> = ((globalThis as Record<symbol, unknown>)[Symbol.for("sluice.codeCaches")] ??= new Map()) as Map<string, Pending>;

/**
 * Requires a CommonJS file compiled with a V8 code cache, and registers it in require's cache so
 * that later requires of the same file (job bundles requiring the SDK) get this instance. Falls
 * back to a plain require on any problem.
 */
export function requireWithCodeCache(file: string, cacheDir: string): unknown {
  const key = require.resolve(file);
  if (require.cache[key]) return require.cache[key]!.exports;
  try {
    const st = statSync(key);
    const id = fnv1a(`${key}\0${st.size}\0${st.mtimeMs}\0${process.version}\0${process.arch}`);
    const cacheFile = join(cacheDir, `${id}.bin`);
    let cached: Buffer | undefined;
    try {
      cached = readFileSync(cacheFile);
    } catch {
      cached = undefined;
    }
    const M = Module as ModuleInternals;
    const source = readFileSync(key, "utf8");
    const script = new Script(M.wrap(source), { filename: key, cachedData: cached });
    const mod = new Module(key, module);
    mod.filename = key;
    mod.paths = M._nodeModulePaths(dirname(key));
    require.cache[key] = mod;
    const fn = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
    try {
      fn.call(mod.exports, mod.exports, createRequire(key), mod, key, dirname(key));
    } catch (e) {
      delete require.cache[key];
      throw e;
    }
    mod.loaded = true;
    if (!cached || script.cachedDataRejected) pending.set(key, { script, cacheFile });
    return mod.exports;
  } catch {
    delete require.cache[key];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(key);
  }
}

/** Writes the caches of files loaded without one (call once the worker has run a step). */
export function saveCodeCaches(): void {
  for (const [key, { script, cacheFile }] of pending) {
    pending.delete(key);
    try {
      mkdirSync(dirname(cacheFile), { recursive: true });
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {
      // a cache is an optimisation only
    }
  }
}

/** A short stable hash for cache file names (node:crypto costs milliseconds to load). */
function fnv1a(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0");
}
