// Sluice's diagnostics: one DiagnosticCollection ("sluice"), three feeds.
// - sluice.yaml at a workspace folder's root: the instance schema (validateInstanceYaml).
// - run config files `<job>.run.yaml`: the job they name in the latest definitions snapshot (op
//   names, inputs, executor, op config JSON Schemas); before any snapshot, what holds for every job.
// - job files: the snapshot's load errors, at the line that causes them; gone with the next snapshot
//   that no longer has them. The engine wiring calls `updateDefinitions(snapshot)`.
// The YAML feeds need no user code and no engine: they validate open documents as they change
// (debounced), on save, and files on disk (found at start, then watched) so that the Problems view
// lists a broken sluice.yaml that is not open.
import { Diagnostic, DiagnosticSeverity, Range, Uri, type DiagnosticCollection, type Disposable, type TextDocument } from "vscode";
import { suggest } from "../../engine/config/fields";
import { INSTANCE_FILE, validateInstanceYaml } from "../../engine/config/instanceSchema";
import type { DefinitionsSnapshot, JobSnapshot, LoadError } from "../../engine/definitions/snapshot";
import { createDiagnosticCollection } from "../common/languageApis";
import { LanguageMessages } from "../common/localize";
import { traceError, traceInfo } from "../common/log";
import {
  createFileSystemWatcher,
  findFiles,
  getTextDocuments,
  getWorkspaceFolders,
  onDidChangeTextDocument,
  onDidCloseTextDocument,
  onDidOpenTextDocument,
  onDidSaveTextDocument,
  readTextFile,
} from "../common/workspaceApis";
import { classify, RUN_CONFIG_GLOB, SCAN_EXCLUDE, type SluiceDocumentKind } from "./documents";
import { loadErrorCode, loadErrorRange } from "./jobErrors";
import { validateRunConfigText, type ConfigProblem } from "./runConfig";

export const DIAGNOSTIC_COLLECTION = "sluice";
export const DIAGNOSTIC_SOURCE = "sluice";
/** Code of the one diagnostic of a run config file whose job is not defined. */
export const UNKNOWN_JOB_CODE = "unknown-job";

/** A diagnostic of a YAML file with what the quick fixes need (key path, allowed values, suggestion). */
export interface ProblemEntry {
  diagnostic: Diagnostic;
  problem: ConfigProblem;
}

/** What hover, completion and code actions need from the controller. */
export interface SluiceDefinitionsLookup {
  /** True once a definitions snapshot has arrived. */
  readonly hasDefinitions: boolean;
  getJob(name: string): JobSnapshot | undefined;
  classify(uri: Uri): SluiceDocumentKind | undefined;
  problemsFor(uri: Uri): readonly ProblemEntry[];
}

export interface DiagnosticsControllerOptions {
  /** Delay after the last change of an open document before it is validated (ms). */
  debounceMs?: number;
  /** At most this many run config files are validated from disk at start. */
  maxScannedFiles?: number;
}

function toRange(p: { line: number; column: number; endLine: number; endColumn: number }): Range {
  if (p.line <= 0) return new Range(0, 0, 0, 0);
  return new Range(p.line - 1, Math.max(0, p.column - 1), Math.max(p.endLine, p.line) - 1, Math.max(0, p.endColumn - 1));
}

function toDiagnostic(range: Range, message: string, code: string, severity: "error" | "warning"): Diagnostic {
  const d = new Diagnostic(range, message, severity === "warning" ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error);
  d.source = DIAGNOSTIC_SOURCE;
  d.code = code;
  return d;
}

export class DiagnosticsController implements SluiceDefinitionsLookup, Disposable {
  readonly collection: DiagnosticCollection;
  private snapshot: DefinitionsSnapshot | undefined;
  private readonly problems = new Map<string, ProblemEntry[]>();
  /** YAML files validated from disk (not open): re-validated when definitions change. */
  private readonly onDisk = new Map<string, Uri>();
  private jobFiles = new Map<string, Uri>();
  private readonly timers = new Map<string, { timer: ReturnType<typeof setTimeout>; run: () => void }>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly subscriptions: Disposable[] = [];
  private generation = 0;
  private started = false;
  private disposed = false;
  private readonly debounceMs: number;
  private readonly maxScannedFiles: number;

  constructor(options: DiagnosticsControllerOptions = {}) {
    this.debounceMs = options.debounceMs ?? 200;
    this.maxScannedFiles = options.maxScannedFiles ?? 500;
    this.collection = createDiagnosticCollection(DIAGNOSTIC_COLLECTION);
  }

  // ---- lookups ----

  get hasDefinitions(): boolean {
    return !!this.snapshot;
  }

  getJob(name: string): JobSnapshot | undefined {
    return this.snapshot?.jobs.find((j) => j.name === name);
  }

  /** Names of the workspace's jobs (the implicit asset job left out). */
  jobNames(): string[] {
    return (this.snapshot?.jobs ?? []).filter((j) => !j.implicit).map((j) => j.name);
  }

  classify(uri: Uri): SluiceDocumentKind | undefined {
    if (uri.scheme !== "file") return undefined;
    return classify(uri.fsPath, getWorkspaceFolders().map((f) => f.uri.fsPath));
  }

  problemsFor(uri: Uri): readonly ProblemEntry[] {
    return this.problems.get(uri.toString()) ?? [];
  }

  /**
   * Problems of run config `text` for the job `jobName` (the launchpad's editor can use this):
   * the same checks as a `<job>.run.yaml` file, 1-based positions in `text`.
   */
  validateRunConfig(jobName: string, text: string, file = `${jobName}.run.yaml`): ConfigProblem[] {
    return this.runConfigProblems(jobName, text, file);
  }

  // ---- feeds ----

  /** Subscribes to document and file events and validates what is already there. */
  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    this.subscriptions.push(
      onDidOpenTextDocument((d) => this.validateDocument(d)),
      onDidChangeTextDocument((e) => this.schedule(e.document)),
      onDidSaveTextDocument((d) => this.validateDocument(d)),
      onDidCloseTextDocument((d) => {
        const key = d.uri.toString();
        this.cancel(key);
        // what is on disk counts again (the closed editor may have held unsaved changes)
        if (this.classify(d.uri)) this.track(this.validateFile(d.uri));
      }),
    );
    const watcher = createFileSystemWatcher(`**/{${INSTANCE_FILE},*.run.yaml,*.run.yml}`);
    this.subscriptions.push(
      watcher,
      watcher.onDidCreate((uri) => this.track(this.validateFile(uri))),
      watcher.onDidChange((uri) => this.track(this.validateFile(uri))),
      watcher.onDidDelete((uri) => this.forget(uri)),
    );
    for (const d of getTextDocuments()) this.validateDocument(d);
    this.track(this.scan());
  }

  /** Called by the engine wiring with each new definitions snapshot (undefined: the engine stopped). */
  async updateDefinitions(snapshot: DefinitionsSnapshot | undefined): Promise<void> {
    if (this.disposed) return;
    this.snapshot = snapshot;
    const generation = ++this.generation;
    // run config files: their job may have appeared, changed or gone
    const open = new Set<string>();
    for (const d of getTextDocuments()) {
      if (this.classify(d.uri)?.kind === "runConfig") {
        open.add(d.uri.toString());
        this.validateDocument(d);
      }
    }
    const disk = [...this.onDisk.values()].filter((u) => !open.has(u.toString()) && this.classify(u)?.kind === "runConfig");
    const work = Promise.all([...disk.map((u) => this.validateFile(u)), this.updateJobFiles(snapshot?.errors ?? [], generation)]);
    this.track(work);
    await work;
  }

  /** Resolves once pending validations are done; debounced ones run now. For tests and callers that need the result. */
  async whenIdle(): Promise<void> {
    for (const [key, t] of [...this.timers]) {
      clearTimeout(t.timer);
      this.timers.delete(key);
      t.run();
    }
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  // ---- validation ----

  private runConfigProblems(jobName: string, text: string, file: string): ConfigProblem[] {
    if (!this.snapshot) return validateRunConfigText(text, file);
    const job = this.getJob(jobName);
    if (job) return validateRunConfigText(text, file, job);
    return [this.unknownJob(jobName, text, file)];
  }

  private unknownJob(jobName: string, text: string, file: string): ConfigProblem {
    const names = this.jobNames();
    const suggestion = suggest(jobName, names);
    const message = [
      LanguageMessages.unknownJob(jobName),
      suggestion ? LanguageMessages.didYouMean(suggestion) : "",
      this.snapshot?.errors.length ? LanguageMessages.someFilesFailed() : "",
    ].filter(Boolean).join(" ");
    // on the first line that holds something (the file name is what is wrong)
    const lines = text.split(/\r?\n/);
    const index = Math.max(0, lines.findIndex((l) => l.trim() !== ""));
    const line = lines[index] ?? "";
    const start = line.length - line.trimStart().length;
    const end = Math.max(start, line.trimEnd().length);
    const problem: ConfigProblem = {
      file, line: index + 1, column: start + 1, endLine: index + 1, endColumn: end + 1, path: [], keyPath: "",
      message, code: UNKNOWN_JOB_CODE, allowed: names, severity: this.snapshot?.errors.length ? "warning" : "error",
    };
    if (suggestion) problem.suggestion = suggestion;
    return problem;
  }

  private problemsOf(kind: SluiceDocumentKind, text: string, file: string): ConfigProblem[] {
    if (kind.kind === "instance") return validateInstanceYaml(text, file).issues.map((i) => ({ ...i, severity: "error" as const }));
    return this.runConfigProblems(kind.jobName, text, file);
  }

  private publish(uri: Uri, kind: SluiceDocumentKind, text: string): void {
    let problems: ConfigProblem[];
    try {
      problems = this.problemsOf(kind, text, uri.fsPath);
    } catch (e) {
      traceError(`Sluice: validating ${uri.fsPath} failed:`, e);
      problems = [];
    }
    const entries = problems.map((problem) => ({ problem, diagnostic: toDiagnostic(toRange(problem), problem.message, problem.code, problem.severity) }));
    this.problems.set(uri.toString(), entries);
    this.collection.set(uri, entries.map((e) => e.diagnostic));
  }

  private validateDocument(doc: TextDocument): void {
    if (this.disposed) return;
    const kind = this.classify(doc.uri);
    if (!kind) return;
    this.cancel(doc.uri.toString());
    this.onDisk.delete(doc.uri.toString());
    this.publish(doc.uri, kind, doc.getText());
  }

  private schedule(doc: TextDocument): void {
    if (this.disposed || !this.classify(doc.uri)) return;
    const key = doc.uri.toString();
    this.cancel(key);
    const run = () => {
      this.timers.delete(key);
      this.validateDocument(doc);
    };
    this.timers.set(key, { timer: setTimeout(run, this.debounceMs), run });
  }

  private cancel(key: string): void {
    const t = this.timers.get(key);
    if (t) clearTimeout(t.timer);
    this.timers.delete(key);
  }

  private openDocument(uri: Uri): TextDocument | undefined {
    const key = uri.toString();
    return getTextDocuments().find((d) => d.uri.toString() === key && !d.isClosed);
  }

  /** Validates a file from disk, unless it is open (then its editor's text counts). */
  private async validateFile(uri: Uri): Promise<void> {
    const kind = this.classify(uri);
    if (!kind || this.disposed) return;
    const open = this.openDocument(uri);
    if (open) return this.validateDocument(open);
    const text = await readTextFile(uri);
    if (this.disposed || this.openDocument(uri)) return;
    if (text === undefined) return this.forget(uri);
    this.onDisk.set(uri.toString(), uri);
    this.publish(uri, kind, text);
  }

  private forget(uri: Uri): void {
    const key = uri.toString();
    this.cancel(key);
    this.onDisk.delete(key);
    this.problems.delete(key);
    this.collection.delete(uri);
  }

  private async scan(): Promise<void> {
    try {
      const files: Uri[] = getWorkspaceFolders().map((f) => Uri.joinPath(f.uri, INSTANCE_FILE));
      files.push(...(await findFiles(RUN_CONFIG_GLOB, SCAN_EXCLUDE, this.maxScannedFiles)));
      await Promise.all(files.map((u) => this.validateFile(u)));
    } catch (e) {
      traceError("Sluice: scanning for sluice.yaml and run config files failed:", e);
    }
  }

  private async updateJobFiles(errors: readonly LoadError[], generation: number): Promise<void> {
    const byFile = new Map<string, LoadError[]>();
    for (const e of errors) {
      if (!e.file) continue;
      const list = byFile.get(e.file) ?? [];
      list.push(e);
      byFile.set(e.file, list);
    }
    const results = await Promise.all(
      [...byFile].map(async ([file, list]) => {
        const uri = Uri.file(file);
        const text = this.openDocument(uri)?.getText() ?? (await readTextFile(uri));
        // a load error about the workspace itself (e.g. the code location could not start) has no line to show
        if (text === undefined) {
          traceInfo(`Sluice: load error in ${file} not shown in the editor (the file cannot be read): ${list.map((e) => e.message).join("; ")}`);
          return undefined;
        }
        const diagnostics = list.map((e) => {
          const r = loadErrorRange(e, text);
          return toDiagnostic(new Range(r.line, r.start, r.line, r.end), e.message, loadErrorCode(e), "error");
        });
        return { uri, diagnostics };
      }),
    );
    if (generation !== this.generation || this.disposed) return; // a newer snapshot took over
    const now = new Map<string, Uri>();
    for (const r of results) {
      if (!r) continue;
      now.set(r.uri.toString(), r.uri);
      this.collection.set(r.uri, r.diagnostics);
    }
    for (const [key, uri] of this.jobFiles) if (!now.has(key)) this.collection.delete(uri);
    this.jobFiles = now;
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((e) => traceError("Sluice diagnostics:", e)).finally(() => this.pending.delete(q));
    this.pending.add(q);
  }

  dispose(): void {
    this.disposed = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.problems.clear();
    this.collection.dispose();
  }
}
