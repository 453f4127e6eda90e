// Which files Sluice validates: `sluice.yaml` at the root of a workspace folder (the instance file)
// and run config files `<job>.run.yaml` anywhere (the job they configure is in their name).
import * as path from "node:path";
import { INSTANCE_FILE } from "../../engine/config/instanceSchema";
import { jobNameOfRunConfigFile } from "./runConfig";

export type SluiceDocumentKind = { kind: "instance" } | { kind: "runConfig"; jobName: string };

/** For hover, completion and code actions; the providers check `classify` on top (root sluice.yaml only). */
export const SLUICE_YAML_SELECTOR = [
  { scheme: "file", pattern: `**/${INSTANCE_FILE}` },
  { scheme: "file", pattern: "**/*.run.{yaml,yml}" },
];

/** Files to validate that are not open in an editor (found at start, and watched). */
export const RUN_CONFIG_GLOB = "**/*.run.{yaml,yml}";
export const SCAN_EXCLUDE = "**/{node_modules,.git,.sluice}/**";

function samePath(a: string, b: string): boolean {
  return process.platform === "win32" ? a.toLowerCase() === b.toLowerCase() : a === b;
}

/** What a file is to Sluice, given the workspace folders' paths; undefined for any other file. */
export function classify(fsPath: string, roots: readonly string[]): SluiceDocumentKind | undefined {
  const base = path.basename(fsPath);
  if (base === INSTANCE_FILE) {
    const dir = path.dirname(fsPath);
    return roots.some((r) => samePath(path.resolve(r), dir)) ? { kind: "instance" } : undefined;
  }
  const jobName = jobNameOfRunConfigFile(fsPath);
  return jobName ? { kind: "runConfig", jobName } : undefined;
}
