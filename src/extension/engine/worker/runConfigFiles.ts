// Run config files of a workspace: `<job>.run.yaml` (or `<job>.<variant>.run.yaml`) anywhere
// outside node_modules/.git/.sluice. Their job is the file name up to the first dot; CodeLens
// offers "Run with <file>" above that job.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { RunConfigFile } from "../../../protocol/engineWorker";
import { IGNORED_DIRS } from "../../../engine/definitions/discover";
import { jobNameOfRunConfigFile } from "../../diagnostics/runConfig";

const MAX_FILES = 10_000;

export function scanRunConfigFiles(root: string): RunConfigFile[] {
  const found: RunConfigFile[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 20 || found.length >= MAX_FILES) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!IGNORED_DIRS.has(e.name)) walk(p, depth + 1);
      } else if (e.isFile()) {
        const jobName = jobNameOfRunConfigFile(p);
        if (jobName) found.push({ jobName, file: p });
      }
    }
  };
  walk(root, 0);
  return found.sort((a, b) => a.file.localeCompare(b.file));
}
