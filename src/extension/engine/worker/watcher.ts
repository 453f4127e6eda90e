// Watches the workspace for what changes the definitions: job files (TypeScript/JavaScript), the
// instance file `sluice.yaml`, and run config files `<job>.run.yaml`. chokidar 4 (inotify on Linux,
// FSEvents on macOS through fs.watch), ignoring node_modules, .git and .sluice; changes arrive in
// debounced batches (one reload for a "save all" or a branch switch).
import { watch, type FSWatcher } from "chokidar";
import type { Stats } from "node:fs";
import { basename, relative, sep } from "node:path";
import { IGNORED_DIRS, JOB_FILE_RE } from "../../../engine/definitions/discover";

export const RUN_CONFIG_RE = /\.run\.ya?ml$/;
export const INSTANCE_FILE = "sluice.yaml";

export interface WatchBatch {
  /** Absolute paths that were added, changed or removed. */
  files: string[];
  /** sluice.yaml at the root changed. */
  config: boolean;
  /** Some `*.run.yaml` was added or removed (or changed). */
  runConfigs: boolean;
  /** Candidate job files (.ts/.js/.mts/.mjs, not .d.ts) changed. */
  jobFiles: string[];
}

export type WatchKind = "config" | "runConfig" | "jobFile";

/** What a path is to Sluice, or undefined when a change to it does not matter. */
export function classify(root: string, path: string): WatchKind | undefined {
  const rel = relative(root, path);
  if (rel === INSTANCE_FILE) return "config";
  const name = basename(path);
  if (RUN_CONFIG_RE.test(name)) return "runConfig";
  if (JOB_FILE_RE.test(name) && !name.endsWith(".d.ts")) return "jobFile";
  return undefined;
}

/** True for paths inside node_modules, .git or .sluice (relative to the root). */
export function inIgnoredDir(root: string, path: string): boolean {
  const rel = relative(root, path);
  if (rel.startsWith("..")) return true;
  return rel.split(sep).some((part) => IGNORED_DIRS.has(part));
}

export interface WatcherOptions {
  debounceMs?: number;
  onBatch(batch: WatchBatch): void;
  onError?(error: unknown): void;
}

export class WorkspaceWatcher {
  private watcher: FSWatcher | undefined;
  private pending = new Map<string, WatchKind>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly root: string, private readonly options: WatcherOptions) {}

  /** Resolves once the initial scan is done (changes after that are reported). */
  start(): Promise<void> {
    const root = this.root;
    const ignored = (path: string, stats?: Stats): boolean => {
      if (path === root) return false;
      if (inIgnoredDir(root, path)) return true;
      // files that cannot matter are not watched (directories always are)
      return stats?.isFile() === true && classify(root, path) === undefined;
    };
    const w = watch(root, { ignoreInitial: true, ignored, persistent: true, atomic: 100 });
    this.watcher = w;
    const on = (path: string) => {
      const kind = classify(root, path);
      if (!kind || inIgnoredDir(root, path)) return;
      this.pending.set(path, kind);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.flush(), this.options.debounceMs ?? 300);
    };
    w.on("add", on).on("change", on).on("unlink", on);
    w.on("error", (e) => this.options.onError?.(e));
    return new Promise((resolve) => w.once("ready", () => resolve()));
  }

  private flush(): void {
    const entries = [...this.pending];
    this.pending.clear();
    if (entries.length === 0) return;
    this.options.onBatch({
      files: entries.map(([p]) => p),
      config: entries.some(([, k]) => k === "config"),
      runConfigs: entries.some(([, k]) => k === "runConfig"),
      jobFiles: entries.filter(([, k]) => k === "jobFile").map(([p]) => p),
    });
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.pending.clear();
    await this.watcher?.close();
    this.watcher = undefined;
  }
}
