// The host side of the Sluice panel: one WebviewPanel (graph, runs, run detail, launchpad,
// concurrency), restored after a window reload by a serializer.
//
// Written against two small seams so it runs in unit tests without VS Code:
// - `PanelPlatform` / `PanelLike`: the few VS Code calls it makes (vscodePlatform.ts implements them);
// - `WebviewDataSource`: the engine data (dataSource.ts; the engine side implements it over Instance).
//
// Protocol (src/protocol/webview.ts): the webview says `ready`; the host answers `init` and a full
// snapshot. After that, whenever data changes and the panel is visible, the changed parts are sent
// whole (debounced). While hidden nothing is sent; the page VS Code re-creates when the panel is
// shown again says `ready` and gets every part.
// Large parts go out in chunks, one chunk per macrotask, so that no single serialisation blocks
// the extension host for long (bench/graph.ts measures it).
import { validateRunConfig, type RunConfigJob } from "../../engine/config/runConfigSchema";
import type { DefinitionsSnapshot } from "../../engine/definitions/snapshot";
import { FINISHED_STATUSES, NOT_FINISHED_STATUSES, type RunRecord, type StoredEvent } from "../../engine/events";
import {
  PART_NAMES,
  PANEL_VIEW_TYPE,
  WEBVIEW_PROTOCOL_VERSION,
  chunkPart,
  parseWebviewMessage,
  type ConfigIssueView,
  type DefinitionsView,
  type HostMessage,
  type PartName,
  type Route,
  type RunDetailView,
  type SnapshotParts,
  type WebviewRequest,
} from "../../protocol/webview";
import { runConfigShapeOf } from "../diagnostics/runConfig";
import type { DataChange, WebviewDataSource } from "./dataSource";
import { panelHtml, newNonce } from "./html";
import { definitionsView, foldEvents, issueView, newFold, runView, type RunFold } from "./models";

export { PANEL_VIEW_TYPE };

export interface DisposableLike {
  dispose(): unknown;
}

/** The subset of vscode.WebviewPanel the host uses. */
export interface PanelLike {
  readonly webview: {
    html: string;
    readonly cspSource: string;
    postMessage(message: unknown): PromiseLike<boolean>;
    onDidReceiveMessage(listener: (message: unknown) => unknown): DisposableLike;
  };
  title: string;
  readonly visible: boolean;
  reveal(): void;
  onDidChangeViewState(listener: () => unknown): DisposableLike;
  onDidDispose(listener: () => unknown): DisposableLike;
  dispose(): void;
}

export interface PanelPlatform {
  /** Creates a WebviewPanel of type PANEL_VIEW_TYPE with scripts on, retainContextWhenHidden off, localResourceRoots = [webviewRoot]. */
  createPanel(title: string): PanelLike;
  /** asWebviewUri of a file under dist/webview (e.g. "main.js"). */
  resourceUri(panel: PanelLike, file: string): string;
  openSource(file: string, line: number, column: number): PromiseLike<unknown>;
  log(level: "info" | "warn" | "error", message: string): void;
}

export interface PanelHostOptions {
  /** Runs listed (newest first). */
  runLimit?: number;
  /** Newest runs whose step states are folded for the graph's live status. */
  foldRuns?: number;
  /** Newest events of a run sent to its detail page. */
  maxEvents?: number;
  /** Compute log tail per stream. */
  maxLogBytes?: number;
  /** Debounce of change notifications (ms). */
  debounceMs?: number;
  /** Items per message for chunked parts. */
  chunkItems?: number;
  /** Schedules the next chunk (default setImmediate): one chunk per macrotask. */
  yieldFn?: () => Promise<void>;
}

const TITLES: Record<Route["page"], string> = {
  graph: "Sluice: Graph",
  runs: "Sluice: Runs",
  run: "Sluice: Run",
  launchpad: "Sluice: Launchpad",
  concurrency: "Sluice: Concurrency",
};

const defaultYield = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Parts small enough to compare with what was last sent (definitions can be megabytes: never compared). */
const SMALL_PARTS = new Set<PartName>(["status", "runs", "concurrency"]);

export class SluicePanelHost implements DisposableLike {
  private panel: PanelLike | undefined;
  private panelSubs: DisposableLike[] = [];
  private ready = false;
  private pendingRoute: Route | undefined;
  private readonly dirty = new Set<PartName>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> | undefined;
  private flushAgain = false;
  private seq = 0;
  private wasHidden = false;
  private readonly sub: DisposableLike;
  private readonly opts: Required<PanelHostOptions>;
  private readonly sentSmall = new Map<PartName, string>();

  // caches
  private defs: DefinitionsSnapshot | undefined;
  private defsView: DefinitionsView | undefined;
  private recentRuns: RunRecord[] = [];
  private readonly folds = new Map<string, RunFold & { sealed: boolean }>();
  private focusRunId: string | null = null;
  private logStep: string | null = null;
  private focusEvents: { runId: string; events: StoredEvent[]; lastId: number; truncated: boolean } | undefined;

  constructor(
    private readonly platform: PanelPlatform,
    private readonly data: WebviewDataSource,
    options: PanelHostOptions = {},
  ) {
    this.opts = {
      runLimit: options.runLimit ?? 200,
      foldRuns: options.foldRuns ?? 50,
      maxEvents: options.maxEvents ?? 10_000,
      maxLogBytes: options.maxLogBytes ?? 256 * 1024,
      debounceMs: options.debounceMs ?? 150,
      chunkItems: options.chunkItems ?? 400,
      yieldFn: options.yieldFn ?? defaultYield,
    };
    this.sub = data.onChange((c) => this.onDataChange(c));
  }

  /** Opens the panel (or reveals it) on a route. */
  show(route?: Route): void {
    if (this.panel) {
      this.panel.reveal();
      if (route) {
        if (this.ready) this.post({ type: "navigate", route });
        else this.pendingRoute = route;
      }
      return;
    }
    this.pendingRoute = route;
    this.attach(this.platform.createPanel(TITLES[route?.page ?? "graph"]));
  }

  /** The serializer's deserializeWebviewPanel: adopts a panel VS Code restored after a reload. */
  restore(panel: PanelLike): void {
    if (this.panel) {
      // One panel at a time: a second restored one (should not happen) is closed.
      panel.dispose();
      return;
    }
    this.attach(panel);
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  private attach(panel: PanelLike): void {
    this.panel = panel;
    this.ready = false;
    this.wasHidden = false;
    const nonce = newNonce();
    panel.webview.html = panelHtml({
      cspSource: panel.webview.cspSource,
      nonce,
      scriptUri: this.platform.resourceUri(panel, "main.js"),
      styleUri: this.platform.resourceUri(panel, "main.css"),
      codiconUri: this.platform.resourceUri(panel, "codicon.css"),
      title: panel.title,
    });
    this.panelSubs.push(
      panel.webview.onDidReceiveMessage((m) => void this.onMessage(m)),
      panel.onDidChangeViewState(() => {
        if (!this.panel) return;
        if (!this.panel.visible) {
          // retainContextWhenHidden is off: VS Code discards the hidden webview's page; the page it
          // re-creates says `ready` again and gets a full snapshot then. Nothing is sent meanwhile.
          this.wasHidden = true;
          this.ready = false;
        } else if (this.wasHidden && this.ready) {
          this.wasHidden = false;
          this.markAll();
        }
      }),
      panel.onDidDispose(() => this.detach()),
    );
  }

  private detach(): void {
    for (const s of this.panelSubs.splice(0)) s.dispose();
    this.panel = undefined;
    this.ready = false;
    this.focusEvents = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.sub.dispose();
    const p = this.panel;
    this.detach();
    p?.dispose();
  }

  // -------------------------------------------------------------------------------------------
  // messages from the webview

  private async onMessage(raw: unknown): Promise<void> {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.platform.log("warn", `Sluice panel: ignored an invalid message from the webview (${parsed.error}).`);
      return;
    }
    const m = parsed.message;
    switch (m.type) {
      case "ready":
        this.wasHidden = false;
        if (m.protocol !== WEBVIEW_PROTOCOL_VERSION) this.platform.log("warn", `Sluice panel: webview protocol ${m.protocol}, host ${WEBVIEW_PROTOCOL_VERSION}.`);
        this.ready = true;
        this.sentSmall.clear();
        this.post({ type: "init", protocol: WEBVIEW_PROTOCOL_VERSION, route: this.pendingRoute });
        this.pendingRoute = undefined;
        this.markAll(true);
        return;
      case "focus": {
        const changed = m.runId !== this.focusRunId || m.logStep !== this.logStep;
        if (m.runId !== this.focusRunId) this.focusEvents = undefined;
        this.focusRunId = m.runId;
        this.logStep = m.logStep;
        if (changed) this.mark(["runDetail"], true);
        return;
      }
      case "route":
        if (this.panel) this.panel.title = TITLES[m.route.page];
        return;
      case "log":
        this.platform.log(m.level, `Sluice panel: ${m.message}`);
        return;
      case "request":
        await this.handleRequest(m.id, m.request);
        return;
    }
  }

  private async handleRequest(id: number, r: WebviewRequest): Promise<void> {
    try {
      let result: unknown;
      switch (r.kind) {
        case "launch":
          result = await this.launch(r);
          break;
        case "cancel":
          await this.data.cancel(r.runId);
          result = { runId: r.runId };
          break;
        case "reexecute":
          result = await this.data.reexecute(r.runId, r.strategy);
          break;
        case "setPoolLimit":
          await this.data.setPoolLimit(r.pool, r.limit);
          result = { pool: r.pool, limit: r.limit };
          this.mark(["concurrency"]);
          break;
        case "validateRunConfig":
          result = { issues: await this.validate(r.jobName, r.yaml, r.selection) };
          break;
        case "openSource":
          await this.platform.openSource(r.file, r.line, r.column);
          result = {};
          break;
      }
      this.post({ type: "response", id, ok: true, result });
    } catch (e) {
      const issues = (e as { issues?: unknown })?.issues;
      const mapped = Array.isArray(issues) && issues.length > 0 ? (issues as ConfigIssueView[]).map((i) => ({ ...issueViewLoose(i) })) : undefined;
      const error = e instanceof Error ? e.message : String(e);
      this.platform.log("warn", `Sluice panel: ${r.kind} failed: ${error}`);
      this.post({ type: "response", id, ok: false, error, issues: mapped });
    }
  }

  private async jobShape(jobName: string): Promise<RunConfigJob> {
    this.defs ??= await this.data.definitions();
    const job = this.defs.jobs.find((j) => j.name === jobName);
    if (!job) throw new Error(`Unknown job "${jobName}".`);
    return runConfigShapeOf(job);
  }

  /** The launchpad's run config: its shape here (positions), op config by the engine when it can. */
  private async validate(jobName: string, yaml: string, selection?: string[]): Promise<ConfigIssueView[]> {
    const shape = await this.jobShape(jobName);
    const structural = validateRunConfig(yaml, "launchpad", shape).issues.map(issueView);
    if (structural.length > 0 || !this.data.validateRunConfig) return structural;
    return await this.data.validateRunConfig(jobName, yaml, selection);
  }

  private async launch(r: Extract<WebviewRequest, { kind: "launch" }>): Promise<{ runId: string }> {
    let runConfig: Record<string, unknown> | undefined;
    if (r.runConfigYaml !== undefined && r.runConfigYaml.trim() !== "") {
      const shape = await this.jobShape(r.jobName);
      const result = validateRunConfig(r.runConfigYaml, "launchpad", shape);
      if (result.issues.length > 0) throw Object.assign(new Error(`Invalid run config for job "${r.jobName}".`), { issues: result.issues.map(issueView) });
      if (this.data.validateRunConfig) {
        const issues = await this.data.validateRunConfig(r.jobName, r.runConfigYaml, r.selection);
        if (issues.length > 0) throw Object.assign(new Error(`Invalid run config for job "${r.jobName}".`), { issues });
      }
      runConfig = (result.value ?? {}) as Record<string, unknown>;
    }
    const launched = await this.data.launch({ jobName: r.jobName, selection: r.selection, runConfig, runConfigYaml: r.runConfigYaml, tags: r.tags });
    this.mark(["runs", "concurrency"]);
    return launched;
  }

  // -------------------------------------------------------------------------------------------
  // snapshots

  private onDataChange(c: DataChange): void {
    const parts: PartName[] = [];
    if (c.status) parts.push("status");
    if (c.definitions) {
      this.defs = undefined;
      this.defsView = undefined;
      parts.push("definitions");
    }
    if (c.runs) parts.push("runs", "runDetail");
    if (c.concurrency) parts.push("concurrency");
    if (c.events && c.events.length > 0) {
      if (this.focusRunId && c.events.includes(this.focusRunId)) parts.push("runDetail");
      // Events change step states, i.e. the graph's live status, carried by the runs part.
      if (c.events.some((id) => this.folds.has(id) || !this.recentRuns.some((r) => r.runId === id))) parts.push("runs");
    }
    if (parts.length > 0) this.mark(parts);
  }

  private markAll(now = false): void {
    this.mark(PART_NAMES, now);
  }

  private mark(parts: readonly PartName[], now = false): void {
    for (const p of parts) this.dirty.add(p);
    if (!this.panel || !this.ready) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, now ? 0 : this.opts.debounceMs);
  }

  /** Sends every dirty part (visible panels only). Resolves when sent. */
  flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.flushAgain = false;
          await this.flushOnce();
        } while (this.flushAgain && this.dirty.size > 0);
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const panel = this.panel;
    if (!panel || !this.ready || this.dirty.size === 0) return;
    if (!panel.visible) {
      this.wasHidden = true;
      return;
    }
    const names = PART_NAMES.filter((p) => this.dirty.has(p));
    this.dirty.clear();
    const seq = ++this.seq;
    const values: [PartName, unknown][] = [];
    for (const name of names) {
      try {
        values.push([name, await this.compute(name)]);
      } catch (e) {
        this.platform.log("error", `Sluice panel: could not read ${name}: ${e instanceof Error ? e.message : String(e)}`);
      }
      await this.opts.yieldFn();
    }
    const messages: HostMessage[] = [];
    for (const [name, value] of values) {
      // Small parts re-read on a timer (runs, pools) are often unchanged: skip those. A page that
      // just said ready (sentSmall cleared) always gets everything.
      if (SMALL_PARTS.has(name)) {
        const json = JSON.stringify(value);
        if (this.sentSmall.get(name) === json) continue;
        this.sentSmall.set(name, json);
      }
      const chunks = chunkPart(value, this.opts.chunkItems);
      chunks.forEach((chunk, index) => messages.push({ type: "part", seq, name, index, count: chunks.length, value: chunk, last: false }));
    }
    if (messages.length === 0) return;
    (messages[messages.length - 1] as { last: boolean }).last = true;
    for (const [i, m] of messages.entries()) {
      if (this.panel !== panel) return;
      if (i > 0) await this.opts.yieldFn();
      this.post(m);
    }
  }

  private async compute<K extends PartName>(name: K): Promise<SnapshotParts[K]> {
    switch (name) {
      case "status":
        return (this.data.status?.() ?? { engine: "ready" }) as SnapshotParts[K];
      case "definitions":
        this.defs = await this.data.definitions();
        await this.opts.yieldFn();
        this.defsView = definitionsView(this.defs);
        return this.defsView as SnapshotParts[K];
      case "runs":
        return (await this.runsPart()) as SnapshotParts[K];
      case "concurrency":
        return (await this.data.concurrency()) as SnapshotParts[K];
      case "runDetail":
        return (await this.runDetail()) as SnapshotParts[K];
    }
    throw new Error(`unknown part ${String(name)}`);
  }

  private async runsPart() {
    const runs = await this.data.runs(this.opts.runLimit);
    this.recentRuns = runs;
    const foldIds = new Set(runs.slice(0, this.opts.foldRuns).map((r) => r.runId));
    for (const r of runs) if (NOT_FINISHED_STATUSES.includes(r.status)) foldIds.add(r.runId);
    for (const id of [...this.folds.keys()]) if (!foldIds.has(id)) this.folds.delete(id);
    for (const r of runs) {
      if (!foldIds.has(r.runId)) continue;
      let fold = this.folds.get(r.runId);
      if (!fold) this.folds.set(r.runId, (fold = { ...newFold(), sealed: false }));
      if (fold.sealed) continue;
      const finished = FINISHED_STATUSES.includes(r.status);
      for (;;) {
        const events = await this.data.events(r.runId, fold.lastEventId, 5000);
        foldEvents(fold, events);
        if (events.length < 5000) break;
        await this.opts.yieldFn();
      }
      // A run that was finished before we read its events has no more to come.
      if (finished) fold.sealed = true;
    }
    return runs.map((r) => runView(r, this.folds.get(r.runId)));
  }

  private async runDetail(): Promise<RunDetailView | null> {
    const runId = this.focusRunId;
    if (!runId) return null;
    const record = this.recentRuns.find((r) => r.runId === runId) ?? (await this.data.run?.(runId)) ?? (await this.data.runs(this.opts.runLimit)).find((r) => r.runId === runId);
    if (!record) return null;
    let cache = this.focusEvents;
    if (!cache || cache.runId !== runId) cache = this.focusEvents = { runId, events: [], lastId: 0, truncated: false };
    for (;;) {
      const batch = await this.data.events(runId, cache.lastId, 5000);
      for (const e of batch) cache.events.push(e);
      if (batch.length > 0) cache.lastId = batch[batch.length - 1].id;
      if (batch.length < 5000) break;
      await this.opts.yieldFn();
    }
    if (cache.events.length > this.opts.maxEvents) {
      cache.events.splice(0, cache.events.length - this.opts.maxEvents);
      cache.truncated = true;
    }
    const fold = foldEvents(newFold(), cache.events);
    const stepKeys = new Set<string>(record.stepKeysToExecute ?? []);
    if (!record.stepKeysToExecute) {
      const job = (this.defs ?? (await this.data.definitions())).jobs.find((j) => j.name === record.jobName);
      for (const s of job?.steps ?? []) stepKeys.add(s.key);
    }
    for (const e of cache.events) if (e.stepKey) stepKeys.add(e.stepKey);
    let logs: RunDetailView["logs"] = null;
    if (this.logStep) {
      const l = await this.data.computeLogs(runId, this.logStep, this.opts.maxLogBytes);
      logs = { stepKey: this.logStep, stdout: l.stdout, stderr: l.stderr, truncated: l.truncated };
    }
    return {
      run: runView(record, fold),
      events: cache.events,
      eventsTruncated: cache.truncated,
      stepKeys: [...stepKeys],
      logs,
    };
  }

  private post(m: HostMessage): void {
    const panel = this.panel;
    if (!panel) return;
    void Promise.resolve(panel.webview.postMessage(m)).catch((e: unknown) => this.platform.log("warn", `Sluice panel: postMessage failed: ${String(e)}`));
  }
}

function issueViewLoose(i: Partial<ConfigIssueView> & { message?: string }): ConfigIssueView {
  return {
    line: typeof i.line === "number" ? i.line : 0,
    column: typeof i.column === "number" ? i.column : 0,
    endLine: typeof i.endLine === "number" ? i.endLine : typeof i.line === "number" ? i.line : 0,
    endColumn: typeof i.endColumn === "number" ? i.endColumn : typeof i.column === "number" ? i.column + 1 : 0,
    keyPath: typeof i.keyPath === "string" ? i.keyPath : "",
    message: String(i.message ?? ""),
    code: typeof i.code === "string" ? i.code : "invalid",
  };
}
