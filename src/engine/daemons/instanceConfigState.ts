// The instance config (sluice.yaml) as the owner sees it over time: re-read when the file changes,
// and an invalid file never stops anything — the last valid config stays in force (all defaults
// if there never was one) and the positioned errors are reported.
import { statSync } from "node:fs";
import { formatIssue, type ConfigIssue } from "../config";
import { loadInstanceConfig, resolveInstanceConfig, type ResolvedInstanceConfig } from "../config/instanceSchema";

export interface InstanceConfigReport {
  file: string;
  exists: boolean;
  /** The config in force. */
  config: ResolvedInstanceConfig;
  /** Leaf key path → "default" or "sluice.yaml:LINE", for the config in force. */
  sources: Record<string, string>;
  /** Problems of the file as it is now (empty when valid). */
  issues: ConfigIssue[];
  /** True when the file is invalid and an earlier valid version (or the defaults) is in force. */
  usingLastValid: boolean;
}

const CHECK_EVERY_MS = 200;

export class InstanceConfigState {
  private report_: InstanceConfigReport;
  private stamp = "";
  private checkedAt = 0;

  /** Called when a new valid config came into force (after the first load). */
  onChange?: (config: ResolvedInstanceConfig) => void;

  constructor(private readonly workspace: string, private readonly onIssues?: (report: InstanceConfigReport) => void) {
    this.report_ = {
      file: "",
      exists: false,
      config: resolveInstanceConfig({}),
      sources: {},
      issues: [],
      usingLastValid: false,
    };
    this.reload(true);
  }

  /** The config in force (re-reads sluice.yaml if it changed). */
  get config(): ResolvedInstanceConfig {
    this.reload();
    return this.report_.config;
  }

  report(): InstanceConfigReport {
    this.reload(true);
    return this.report_;
  }

  private reload(force = false): void {
    const now = Date.now();
    if (!force && now - this.checkedAt < CHECK_EVERY_MS) return;
    this.checkedAt = now;
    const loaded0 = this.report_.file ? undefined : loadInstanceConfig(this.workspace);
    const file = this.report_.file || loaded0!.file;
    let stamp: string;
    try {
      const st = statSync(file);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      stamp = "missing";
    }
    if (stamp === this.stamp && !loaded0) return;
    this.stamp = stamp;
    const loaded = loaded0 ?? loadInstanceConfig(this.workspace);
    if (loaded.config) {
      const changed = JSON.stringify(loaded.config) !== JSON.stringify(this.report_.config);
      this.report_ = { file: loaded.file, exists: loaded.exists, config: loaded.config, sources: loaded.sources ?? {}, issues: [], usingLastValid: false };
      if (changed && !loaded0) this.onChange?.(loaded.config);
    } else {
      this.report_ = { ...this.report_, file: loaded.file, exists: loaded.exists, issues: loaded.issues, usingLastValid: true };
      this.onIssues?.(this.report_);
    }
  }
}

export function describeConfigIssues(report: InstanceConfigReport): string {
  return [
    `${report.file} is invalid; ${Object.keys(report.sources).length > 0 ? "the last valid version stays in force" : "the defaults stay in force"}:`,
    ...report.issues.map((i) => `  ${formatIssue(i)}`),
  ].join("\n");
}
