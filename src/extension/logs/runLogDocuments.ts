// Run logs as read-only documents: `sluice-run:/<runId>/<job> <id>.log`. The content provider
// reads the run incrementally from the engine (events after the last one seen, captured output
// from the last offsets) and fires onDidChange while the run goes: on the engine's activity pushes
// (new events), and once a second while a live run's document is open (a step's stdout grows
// without events). A link provider makes `pipelines/orders.ts:12:5` in stacks clickable.
import { existsSync } from "node:fs";
import { DocumentLink, EventEmitter, Range, Uri, type CancellationToken, type Disposable, type DocumentLinkProvider, type Event, type TextDocument, type TextDocumentContentProvider } from "vscode";
import { traceWarn } from "../common/log";
import type { RunLogChunk, SluiceEngine } from "../engine/port";
import { applyChunk, isLive, newRunLogState, renderRunLog, sourceLinks, type RunLogState } from "./runLogModel";

export const RUN_LOG_SCHEME = "sluice-run";
const LIVE_POLL_MS = 1000;

export function runLogUri(runId: string, jobName?: string): Uri {
  const name = `${(jobName ?? "run").replace(/[/\\?#]/g, "_")} ${runId.slice(0, 8)}.log`;
  return Uri.from({ scheme: RUN_LOG_SCHEME, path: `/${runId}/${name}` });
}

export function runIdOfLogUri(uri: Uri): string | undefined {
  if (uri.scheme !== RUN_LOG_SCHEME) return undefined;
  return uri.path.split("/")[1] || undefined;
}

export interface RunLogSource {
  readonly engine: SluiceEngine | undefined;
  readonly onRunActivity: Event<string[]>;
}

interface Entry {
  state: RunLogState;
  uris: Map<string, Uri>;
  fetching: Promise<void> | undefined;
  again: boolean;
}

export class RunLogDocuments implements TextDocumentContentProvider, DocumentLinkProvider, Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly changeEmitter = new EventEmitter<Uri>();
  private readonly subscriptions: { dispose(): unknown }[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  readonly onDidChange: Event<Uri> = this.changeEmitter.event;

  constructor(
    private readonly source: RunLogSource,
    private readonly workspaceRoot: () => string | undefined,
    private readonly fileExists: (file: string) => boolean = existsSync,
  ) {
    this.subscriptions.push(source.onRunActivity((ids) => ids.forEach((id) => this.entries.has(id) && void this.refresh(id))));
  }

  /** Content of a run's log document; the first call waits for the first read. */
  async provideTextDocumentContent(uri: Uri): Promise<string> {
    const runId = runIdOfLogUri(uri);
    if (!runId) return "";
    let entry = this.entries.get(runId);
    if (!entry) {
      entry = { state: newRunLogState(runId), uris: new Map(), fetching: undefined, again: false };
      this.entries.set(runId, entry);
    }
    entry.uris.set(uri.toString(), uri);
    if (!entry.state.loaded) await this.refresh(runId);
    this.updateTimer();
    return renderRunLog(entry.state, this.workspaceRoot());
  }

  /** Reads what is new for a run; fires onDidChange for its documents when something changed. */
  refresh(runId: string): Promise<void> {
    const entry = this.entries.get(runId);
    if (!entry) return Promise.resolve();
    if (entry.fetching) {
      entry.again = true;
      return entry.fetching;
    }
    const engine = this.source.engine;
    if (!engine?.runLog) {
      entry.state.loaded = true;
      return Promise.resolve();
    }
    entry.fetching = (async () => {
      try {
        const chunk: RunLogChunk = await engine.runLog!(runId, entry.state.lastEventId, entry.state.offsets);
        const wasLoaded = entry.state.loaded;
        if (applyChunk(entry.state, chunk) && wasLoaded) for (const uri of entry.uris.values()) this.changeEmitter.fire(uri);
      } catch (e) {
        traceWarn(`Reading the log of run ${runId} failed:`, e);
        entry.state.loaded = true;
      } finally {
        entry.fetching = undefined;
        if (entry.again) {
          entry.again = false;
          void this.refresh(runId);
        }
        this.updateTimer();
      }
    })();
    return entry.fetching;
  }

  /** A document was closed: forget its run unless another of its documents is open. */
  forget(document: TextDocument): void {
    const runId = runIdOfLogUri(document.uri);
    const entry = runId ? this.entries.get(runId) : undefined;
    if (!entry) return;
    entry.uris.delete(document.uri.toString());
    if (entry.uris.size === 0) this.entries.delete(runId!);
    this.updateTimer();
  }

  /** Live runs with an open document are read once a second (captured output grows without events). */
  private updateTimer(): void {
    const live = [...this.entries.values()].some((e) => isLive(e.state));
    if (live && !this.timer) {
      this.timer = setInterval(() => {
        for (const [id, e] of this.entries) if (isLive(e.state)) void this.refresh(id);
      }, LIVE_POLL_MS);
    } else if (!live && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  provideDocumentLinks(document: TextDocument, _token?: CancellationToken): DocumentLink[] {
    const root = this.workspaceRoot();
    const links: DocumentLink[] = [];
    for (let i = 0; i < document.lineCount; i++) {
      const text = document.lineAt(i).text;
      if (!/:\d+:\d+/.test(text)) continue;
      for (const l of sourceLinks(text, root, this.fileExists)) {
        const link = new DocumentLink(new Range(i, l.start, i, l.end), Uri.file(l.file).with({ fragment: `L${l.line},${l.column}` }));
        link.tooltip = `${l.file}:${l.line}:${l.column}`;
        links.push(link);
      }
    }
    return links;
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.entries.clear();
    this.changeEmitter.dispose();
  }
}

/** Opens a run's log document (read-only, "log" language for its colours) in the active column. */
export async function openRunLog(runId: string, jobName: string | undefined, api: {
  openTextDocument(uri: Uri): Thenable<TextDocument>;
  setTextDocumentLanguage(doc: TextDocument, languageId: string): Thenable<TextDocument>;
  showTextDocument(doc: TextDocument, options: { preview: boolean }): Thenable<unknown>;
}): Promise<TextDocument> {
  let doc = await api.openTextDocument(runLogUri(runId, jobName));
  try {
    doc = await api.setTextDocumentLanguage(doc, "log");
  } catch {
    // no "log" language: plain text
  }
  await api.showTextDocument(doc, { preview: false });
  return doc;
}
