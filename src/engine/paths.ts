import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

let root: string | undefined;

/** The folder of Sluice's own package.json (the repo, or the installed extension/CLI). */
export function packageRoot(): string {
  if (root) return root;
  let dir = __dirname;
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, "utf8")).name === "sluice") return (root = dir);
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find Sluice's package.json above ${__dirname}`);
    dir = parent;
  }
}

/** The SDK module job files get for `import ... from "sluice"`. */
export function sdkEntry(): string {
  return join(packageRoot(), "dist", "sdk", "index.js");
}

/** The script every Sluice child process (code location, run worker, step worker) runs. */
export function workerEntry(): string {
  return join(packageRoot(), "dist", "worker.js");
}

/** The instance home: `.sluice/` in the workspace, or SLUICE_HOME. */
export function instanceHome(workspace: string): string {
  return process.env.SLUICE_HOME ? resolve(process.env.SLUICE_HOME) : join(workspace, ".sluice");
}

/** Where step workers keep the V8 code caches of their own code and the SDK. */
export function codeCacheDir(home: string): string {
  return join(home, "cache", "v8");
}
