import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** Folders no scan or watch of the workspace enters. */
export const IGNORED_DIRS: ReadonlySet<string> = new Set(["node_modules", ".git", ".sluice"]);
/** Names a job file may have (it must also import "sluice"; `.d.ts` files never are). */
export const JOB_FILE_RE = /\.(?:ts|js|mts|mjs)$/;
const IMPORTS_SLUICE = /(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*|\bimport\s+)["']sluice["']/;
const MAX_JOB_FILE_BYTES = 2 * 1024 * 1024;

/** Job files: TypeScript/JavaScript files of the workspace that import "sluice", sorted by path. */
export function discoverJobFiles(workspace: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!IGNORED_DIRS.has(entry.name)) walk(path);
      } else if (entry.isFile() && JOB_FILE_RE.test(entry.name) && !entry.name.endsWith(".d.ts") && isJobFile(path)) {
        found.push(path);
      }
    }
  };
  walk(workspace);
  return found.sort();
}

export function isJobFile(path: string): boolean {
  try {
    if (statSync(path).size > MAX_JOB_FILE_BYTES) return false;
    return IMPORTS_SLUICE.test(readFileSync(path, "utf8"));
  } catch {
    return false;
  }
}
