// CodeLens above jobs and assets of a job file: "▶ Run job · [Run with <job>.run.yaml ·] Run op
// selection… · Open launchpad · Show in graph" above a job, "Materialize · Materialize with upstream · Show in graph" above an
// asset. Lenses come from the definitions the engine loaded (source positions of the snapshot), so
// a file shows lenses only once the engine has loaded it; with the engine unavailable there are none.
import { CodeLens, EventEmitter, Range, type CodeLensProvider, type Disposable, type Event, type TextDocument } from "vscode";
import { CodeLensLabels } from "../common/localize";
import { Commands } from "../constants";
import type { DefinitionsSource } from "../engine/engineHost";
import type { DefinitionsModel, SourceLocation } from "../engine/port";

/** Documents the provider is registered for. */
export const JOB_FILE_SELECTOR = [
  { scheme: "file", language: "typescript" },
  { scheme: "file", language: "javascript" },
];

export interface LensSpec {
  line: number;
  title: string;
  command: string;
  args: unknown[];
}

function baseName(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

function samePath(a: string, b: string): boolean {
  return a === b || (process.platform === "win32" && a.toLowerCase() === b.toLowerCase());
}

/** The lenses of one file, from the definitions model (0-based lines, in source order). */
export function lensSpecs(model: DefinitionsModel, fsPath: string): LensSpec[] {
  const specs: LensSpec[] = [];
  const at = (loc: SourceLocation | undefined) => (loc && samePath(loc.file, fsPath) ? Math.max(0, loc.line - 1) : undefined);
  for (const job of model.jobs) {
    const line = at(job.source);
    if (line === undefined) continue;
    const args = [{ jobName: job.name }];
    specs.push({ line, title: CodeLensLabels.runJob(), command: Commands.runJob, args });
    for (const file of job.runConfigFiles ?? []) {
      specs.push({ line, title: CodeLensLabels.runWith(baseName(file)), command: Commands.runJob, args: [{ jobName: job.name, runConfigFile: file }] });
    }
    if (job.kind === "job") specs.push({ line, title: CodeLensLabels.runOpSelection(), command: Commands.runOpSelection, args });
    specs.push({ line, title: CodeLensLabels.openLaunchpad(), command: Commands.openLaunchpad, args });
    specs.push({ line, title: CodeLensLabels.showInGraph(), command: Commands.showInGraph, args });
  }
  for (const asset of model.assets) {
    const line = at(asset.source);
    if (line === undefined) continue;
    const args = [{ assetKey: asset.key }];
    specs.push({ line, title: CodeLensLabels.materialize(), command: Commands.materializeAsset, args });
    specs.push({ line, title: CodeLensLabels.materializeWithUpstream(), command: Commands.materializeWithUpstream, args });
    specs.push({ line, title: CodeLensLabels.showInGraph(), command: Commands.showInGraph, args });
  }
  return specs.sort((a, b) => a.line - b.line);
}

export class DefinitionCodeLensProvider implements CodeLensProvider, Disposable {
  private readonly changeEmitter = new EventEmitter<void>();
  private readonly subscription: Disposable;
  readonly onDidChangeCodeLenses: Event<void> = this.changeEmitter.event;

  constructor(private readonly source: DefinitionsSource) {
    this.subscription = source.onDidChangeDefinitions(() => this.changeEmitter.fire());
  }

  provideCodeLenses(document: TextDocument): CodeLens[] {
    return lensSpecs(this.source.getDefinitions(), document.uri.fsPath)
      .filter((s) => s.line < document.lineCount)
      .map((s) => new CodeLens(new Range(s.line, 0, s.line, 0), { title: s.title, command: s.command, arguments: s.args }));
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }
}
