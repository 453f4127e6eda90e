// The engine service of the worker thread: owns (or reaches) the Instance, watches the workspace,
// answers the host's calls and pushes what the views show. Everything here runs off the extension
// host's main thread; user code runs further away still, in the engine's child processes.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../../../engine/config";
import { IMPLICIT_ASSET_JOB, type DefinitionsSnapshot } from "../../../engine/definitions/snapshot";
import { isJobFile } from "../../../engine/definitions/discover";
import { FINISHED_STATUSES, NOT_FINISHED_STATUSES, type RunStatus, type StoredEvent } from "../../../engine/events";
import { readFrom } from "../../../engine/execution/computeLogs";
import { InputError, Instance, type LaunchRequest } from "../../../engine/instance";
import { OwnerInputError } from "../../../engine/launcher/owner";
import { InstanceOwnedError, currentOwner, readOwner } from "../../../engine/ownership";
import { instanceHome } from "../../../engine/paths";
import { OwnerGoneError, RpcRemoteError } from "../../../engine/rpc/client";
import { connectToOwner } from "../../../engine/rpc/connect";
import {
  parseParams,
  type ConfigState,
  type EngineError,
  type EngineLaunch,
  type EngineMethod,
  type EngineParams,
  type HostMessage,
  type PoolSummary,
  type RunConfigFile,
  type WorkerInit,
  type WorkerMessage,
} from "../../../protocol/engineWorker";
import type { DataChange, WebviewDataSource } from "../../webview/dataSource";
import { instanceWebviewData } from "../../webview/instanceData";
import { runSummaryFromRecord } from "../fromEngine";
import type { RunLogStep } from "../port";
import { ClientBackend, OwnerBackend, type Backend } from "./backend";
import { scanRunConfigFiles } from "./runConfigFiles";
import { WorkspaceWatcher, type WatchBatch } from "./watcher";

/** Finished runs the Runs view gets (besides every run not finished). */
export const RECENT_RUNS = 50;
const PUSH_DELAY_MS = 50;
const TICK_MS = 1000;

export function toEngineError(e: unknown): EngineError {
  if (e instanceof InputError) return { kind: "input", message: e.message, issues: e.issues };
  if (e instanceof OwnerInputError) return { kind: "input", message: e.message };
  if (e instanceof ConfigError) return { kind: "input", message: e.message, issues: e.issues };
  if (e instanceof RpcRemoteError) return { kind: e.error.kind === "input" ? "input" : "internal", message: e.error.message, issues: e.error.issues };
  const issues = (e as { issues?: unknown[] } | undefined)?.issues;
  if (e instanceof Error && Array.isArray(issues)) return { kind: "input", message: e.message, issues };
  return { kind: "internal", message: e instanceof Error ? e.message : String(e) };
}

export class EngineService {
  private backend: Backend | undefined;
  private data: WebviewDataSource | undefined;
  private offEvents: (() => void) | undefined;
  private watcher: WorkspaceWatcher | undefined;
  private snapshot: DefinitionsSnapshot | undefined;
  private runConfigFiles: RunConfigFile[] = [];
  private loading: Promise<DefinitionsSnapshot> | undefined;
  private reloadQueued: { changed: string[] } | undefined;
  private readonly definitionsListeners = new Set<() => void>();
  private webviewSubscribers = 0;
  private webviewSub: { dispose(): unknown } | undefined;
  private lastRunsSig = "";
  private lastPoolsSig = "";
  private runsTimer: NodeJS.Timeout | undefined;
  private poolsTimer: NodeJS.Timeout | undefined;
  private readonly activity = new Set<string>();
  private activityTimer: NodeJS.Timeout | undefined;
  private tick: NodeJS.Timeout | undefined;
  private switching = false;
  private closed = false;
  readonly workspace: string;
  readonly home: string;

  constructor(private readonly init: WorkerInit, private readonly post: (m: WorkerMessage) => void) {
    this.workspace = resolve(init.workspace);
    this.home = instanceHome(this.workspace);
  }

  log(level: "trace" | "debug" | "info" | "warn" | "error", message: string): void {
    this.post({ t: "log", level, message: message.replace(/\n$/, "") });
  }

  // -------------------------------------------------------------------------------------------
  // start, ownership, stop

  async start(): Promise<void> {
    await this.connect();
    this.runConfigFiles = scanRunConfigFiles(this.workspace);
    if (this.init.watch !== false) {
      this.watcher = new WorkspaceWatcher(this.workspace, {
        debounceMs: this.init.debounceMs,
        onBatch: (b) => this.onWatchBatch(b),
        onError: (e) => this.log("warn", `File watcher: ${e instanceof Error ? e.message : String(e)}`),
      });
      await this.watcher.start();
    }
    this.tick = setInterval(() => void this.onTick(), this.init.clientPollMs ?? TICK_MS);
    // Definitions load in the background: the views are live before job files are.
    void this.loadDefinitions(false, []).catch((e) => this.log("error", `Loading job files failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`));
  }

  /** Becomes the owner of `.sluice`, or a client of the process that owns it. */
  private async connect(): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 20 && !this.closed; attempt++) {
      try {
        const instance = await Instance.open(this.workspace, {
          role: "vscode",
          importTimeoutMs: this.init.importTimeoutMs,
          log: (m) => this.log(/error|fail/i.test(m) ? "warn" : "info", m),
          onWorkerOutput: (runId, text, stream) => this.post({ t: "output", runId, text, stream }),
        });
        instance.startDaemons();
        const token = readOwner(instance.home)?.token;
        this.attach(new OwnerBackend(instance, token));
        this.log("info", `Engine: this window owns ${instance.home} (pid ${process.pid}); run queue, run launcher, pools and crash detection running.`);
        return;
      } catch (e) {
        lastError = e;
        if (!(e instanceof InstanceOwnedError)) throw e;
        if (e.owner.pid === process.pid) {
          throw new Error(`${this.home} is already owned by another Sluice engine in this VS Code window (lock role "${e.owner.role}").`);
        }
        const remote = await connectToOwner(this.home).catch((err: unknown) => {
          lastError = err;
          return undefined;
        });
        if (!remote) {
          await new Promise((r) => setTimeout(r, 100));
          continue; // the owner went away meanwhile: try to own it
        }
        const reader = await Instance.open(this.workspace, { readOnly: true, importTimeoutMs: this.init.importTimeoutMs });
        this.attach(await ClientBackend.open(reader, remote.api, remote.owner));
        this.log("info", `Engine: ${this.home} is owned by pid ${remote.owner.pid} (${remote.owner.role}); this window sends its requests there and follows its runs.`);
        return;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(`could not open ${this.home}`);
  }

  private attach(backend: Backend): void {
    this.backend = backend;
    this.offEvents = backend.onEvents((events) => this.onEvents(events));
    this.data = instanceWebviewData(backend, {
      reexecute: async (runId, strategy) => ({ runId: (await backend.reexecute(runId, strategy)).run.runId }),
      onDefinitionsChanged: (listener) => {
        this.definitionsListeners.add(listener);
        return { dispose: () => this.definitionsListeners.delete(listener) };
      },
      // queue reasons and pool claims change without events: the panel re-reads them this often while it is subscribed
      pollMs: 2000,
    });
    if (this.webviewSubscribers > 0) this.subscribeWebview();
    this.post({ t: "status", status: backend.status() });
    this.lastRunsSig = "";
    this.lastPoolsSig = "";
    this.pushRuns();
    this.schedulePools();
  }

  private async detach(): Promise<void> {
    this.webviewSub?.dispose();
    this.webviewSub = undefined;
    this.offEvents?.();
    this.offEvents = undefined;
    const b = this.backend;
    this.backend = undefined;
    this.data = undefined;
    await b?.close();
  }

  /** A client whose owner went away becomes the owner (or a client of whoever took over). */
  private async reconnect(): Promise<void> {
    if (this.switching || this.closed) return;
    this.switching = true;
    try {
      this.log("info", "Engine: the owner of .sluice went away; taking over.");
      await this.detach();
      await this.connect();
      this.post({ t: "webviewChange", change: { status: true, definitions: true, runs: true, concurrency: true } });
    } catch (e) {
      this.post({ t: "failed", message: e instanceof Error ? e.message : String(e) });
    } finally {
      this.switching = false;
    }
  }

  private async onTick(): Promise<void> {
    const b = this.backend;
    if (!b || this.switching || this.closed) return;
    if (b instanceof ClientBackend) {
      if (!currentOwner(this.home) || readOwner(this.home)?.pid !== b.owner.pid) return this.reconnect();
      if (await b.refresh()) {
        this.pushRuns();
        this.schedulePools();
      }
      return;
    }
    // Queue reasons and pool claims change without events: look again while runs wait or go.
    if (this.hasLiveRuns) {
      this.pushRuns();
      this.schedulePools();
    }
  }

  private hasLiveRuns = false;

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.tick);
    clearTimeout(this.runsTimer);
    clearTimeout(this.poolsTimer);
    clearTimeout(this.activityTimer);
    await this.watcher?.close().catch(() => undefined);
    await this.detach();
  }

  // -------------------------------------------------------------------------------------------
  // pushes

  private onEvents(events: StoredEvent[]): void {
    for (const e of events) this.activity.add(e.runId);
    this.activityTimer ??= setTimeout(() => {
      this.activityTimer = undefined;
      const runIds = [...this.activity];
      this.activity.clear();
      if (runIds.length > 0) this.post({ t: "activity", runIds });
    }, PUSH_DELAY_MS * 2);
    if (events.some((e) => e.type.startsWith("RUN_"))) this.scheduleRuns();
    if (events.some((e) => e.type.startsWith("RUN_") || e.type === "STEP_START" || e.type === "STEP_SUCCESS" || e.type === "STEP_FAILURE" || e.type === "ENGINE_EVENT")) this.schedulePools();
  }

  private scheduleRuns(): void {
    this.runsTimer ??= setTimeout(() => {
      this.runsTimer = undefined;
      this.pushRuns();
    }, PUSH_DELAY_MS);
  }

  private pushRuns(): void {
    const b = this.backend;
    if (!b || this.closed) return;
    try {
      const active = b.runs({ statuses: [...NOT_FINISHED_STATUSES] }, { limit: 1000 });
      const recent = b.runs({ statuses: [...FINISHED_STATUSES] }, { limit: RECENT_RUNS });
      this.hasLiveRuns = active.length > 0;
      const runs = [...active, ...recent].map(runSummaryFromRecord);
      const sig = runs.map((r) => `${r.runId}:${r.status}:${r.queueReason ?? ""}:${r.startTime ?? ""}:${r.endTime ?? ""}`).join(",");
      if (sig === this.lastRunsSig) return;
      this.lastRunsSig = sig;
      this.post({ t: "runs", runs: runs as unknown as Record<string, unknown>[] });
    } catch (e) {
      this.log("warn", `Reading runs failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private schedulePools(): void {
    this.poolsTimer ??= setTimeout(() => {
      this.poolsTimer = undefined;
      void this.pushPools();
    }, PUSH_DELAY_MS * 4);
  }

  private async pushPools(): Promise<void> {
    const b = this.backend;
    if (!b || this.closed) return;
    try {
      const infos = await b.concurrencyInfo();
      const names = new Set(infos.map((p) => p.pool));
      const declared = new Set<string>();
      for (const j of this.snapshot?.jobs ?? []) for (const s of j.steps) if (s.pool) declared.add(s.pool);
      for (const a of this.snapshot?.assets ?? []) if (a.pool) declared.add(a.pool);
      for (const p of declared) if (!names.has(p)) infos.push(...(await b.concurrencyInfo(p)));
      const pools: PoolSummary[] = infos
        .map((p) => ({ name: p.pool, limit: p.limit, used: p.claimed.length, pending: p.pending.filter((x) => !x.assigned).length }))
        .sort((a, c) => a.name.localeCompare(c.name));
      const sig = JSON.stringify(pools);
      if (sig === this.lastPoolsSig) return;
      this.lastPoolsSig = sig;
      this.post({ t: "pools", pools });
    } catch (e) {
      if (e instanceof OwnerGoneError) return void this.reconnect();
      this.log("debug", `Reading pools failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // definitions

  private onWatchBatch(batch: WatchBatch): void {
    if (batch.runConfigs) this.runConfigFiles = scanRunConfigFiles(this.workspace);
    const known = new Set((this.snapshot?.files ?? []).map((f) => f.path));
    const jobFilesChanged = batch.jobFiles.some((f) => known.has(f) || isJobFile(f));
    if (jobFilesChanged) {
      this.log("debug", `Job files changed: ${batch.jobFiles.join(", ")}; reloading definitions.`);
      void this.loadDefinitions(true, batch.files).catch((e) => this.log("error", `Reloading job files failed: ${e instanceof Error ? e.message : String(e)}`));
    } else if (batch.config || batch.runConfigs) {
      // sluice.yaml is read again by the owner within a second; report the new state after that
      setTimeout(() => void this.postDefinitions(batch.files), batch.config ? 1100 : 0);
      if (batch.config) setTimeout(() => this.schedulePools(), 1200);
    }
  }

  /** Loads job files (one load at a time; a change during a load loads again after it). */
  private loadDefinitions(reload: boolean, changed: string[]): Promise<DefinitionsSnapshot> {
    if (this.loading) {
      this.reloadQueued = { changed: [...(this.reloadQueued?.changed ?? []), ...changed] };
      return this.loading;
    }
    const b = this.backend;
    if (!b) return Promise.reject(new Error("the engine is not connected"));
    this.loading = (async () => {
      try {
        const snapshot = await b.definitions(reload);
        this.snapshot = snapshot;
        await this.postDefinitions(changed);
        for (const l of [...this.definitionsListeners]) l();
        this.schedulePools();
        return snapshot;
      } finally {
        this.loading = undefined;
        const again = this.reloadQueued;
        this.reloadQueued = undefined;
        if (again && !this.closed) void this.loadDefinitions(true, again.changed).catch(() => undefined);
      }
    })();
    return this.loading;
  }

  private async configState(): Promise<ConfigState | null> {
    try {
      const info = await this.backend!.info();
      const c = info.config;
      return { file: c.file, exists: c.exists, valid: c.valid, usingLastValid: c.usingLastValid, issues: c.issues };
    } catch {
      return null;
    }
  }

  private async postDefinitions(changed: string[]): Promise<void> {
    if (!this.snapshot || !this.backend) return;
    const config = await this.configState();
    this.post({
      t: "definitions",
      snapshot: this.snapshot as unknown as Record<string, unknown>,
      runConfigFiles: this.runConfigFiles,
      config,
      changed,
    });
  }

  // -------------------------------------------------------------------------------------------
  // calls

  async handle(message: HostMessage): Promise<void> {
    if (message.t === "shutdown") {
      await this.shutdown();
      this.post({ t: "closed" });
      return;
    }
    const { id, method } = message;
    let params: unknown;
    try {
      params = parseParams(method, message.params);
    } catch (e) {
      const issues = (e as { issues?: { path: PropertyKey[]; message: string }[] }).issues ?? [];
      const detail = issues.map((i) => `${i.path.map(String).join(".") || "(params)"}: ${i.message}`).join("; ");
      this.post({ t: "result", id, ok: false, error: { kind: "internal", message: `Invalid parameters for ${method}: ${detail || String(e)}` } });
      return;
    }
    try {
      const value = await this.call(method, params as never);
      this.post({ t: "result", id, ok: true, value });
    } catch (e) {
      if (e instanceof OwnerGoneError) void this.reconnect();
      this.post({ t: "result", id, ok: false, error: toEngineError(e) });
    }
  }

  private requireBackend(): { backend: Backend; data: WebviewDataSource } {
    if (!this.backend || !this.data) {
      throw Object.assign(new Error(this.switching ? "The engine is switching owners; try again in a moment." : "The engine is not running."), { kind: "unavailable" });
    }
    return { backend: this.backend, data: this.data };
  }

  private async call<M extends EngineMethod>(method: M, params: EngineParams<M>): Promise<unknown> {
    const { backend, data } = this.requireBackend();
    switch (method) {
      case "definitions": {
        const p = params as EngineParams<"definitions">;
        if (p.reload || !this.snapshot) return this.loadDefinitions(p.reload === true, []);
        return this.snapshot;
      }
      case "runs": {
        const p = params as EngineParams<"runs">;
        return backend.runs({ statuses: p.statuses as RunStatus[] | undefined, jobName: p.jobName }, { limit: p.limit });
      }
      case "run": {
        try {
          return backend.run((params as EngineParams<"run">).runId);
        } catch {
          return null;
        }
      }
      case "events": {
        const p = params as EngineParams<"events">;
        return backend.events(p.runId, { afterId: p.afterId, limit: p.limit, stepKey: p.stepKey });
      }
      case "computeLogs": {
        const p = params as EngineParams<"computeLogs">;
        return data.computeLogs(p.runId, p.stepKey, p.maxBytes);
      }
      case "runLog":
        return this.runLog(params as EngineParams<"runLog">);
      case "concurrency":
        return data.concurrency();
      case "info":
        return backend.info();
      case "launch":
        return this.launch((params as EngineParams<"launch">).request);
      case "cancel": {
        const r = await backend.cancel((params as EngineParams<"cancel">).runId);
        this.scheduleRuns();
        return { runId: r.runId, status: r.status, message: r.message };
      }
      case "reexecute": {
        const p = params as EngineParams<"reexecute">;
        const r = await backend.reexecute(p.runId, p.request);
        this.scheduleRuns();
        return { runId: r.run.runId, status: r.run.status };
      }
      case "setPoolLimit": {
        const p = params as EngineParams<"setPoolLimit">;
        const message = await backend.setConcurrencyLimit(p.pool, p.limit);
        this.schedulePools();
        return message;
      }
      case "validateRunConfig": {
        const p = params as EngineParams<"validateRunConfig">;
        return (await data.validateRunConfig?.(p.jobName, p.yaml, p.selection)) ?? [];
      }
      case "reload":
        await this.loadDefinitions(true, []);
        return null;
      case "webviewSubscribe": {
        const p = params as EngineParams<"webviewSubscribe">;
        this.webviewSubscribers = Math.max(0, this.webviewSubscribers + (p.subscribe ? 1 : -1));
        if (this.webviewSubscribers > 0 && !this.webviewSub) this.subscribeWebview();
        if (this.webviewSubscribers === 0) {
          this.webviewSub?.dispose();
          this.webviewSub = undefined;
        }
        return null;
      }
      default:
        throw new Error(`unknown method ${String(method)}`);
    }
  }

  private subscribeWebview(): void {
    this.webviewSub?.dispose();
    this.webviewSub = this.data?.onChange((change: DataChange) => this.post({ t: "webviewChange", change: change as Record<string, unknown> }));
  }

  /** Job launches (CodeLens, Definitions view, launchpad) and asset materializations. */
  private async launch(request: EngineLaunch): Promise<{ runId: string; status: RunStatus }> {
    const { backend, data } = this.requireBackend();
    let result: { runId: string; status: RunStatus };
    if (request.kind === "job") {
      if (request.runConfig && !request.runConfigFile) {
        // the launchpad: positioned errors on its YAML
        const { runId } = await data.launch({ jobName: request.jobName, selection: request.opSelection, runConfig: request.runConfig, runConfigYaml: request.runConfigYaml, tags: request.tags });
        result = { runId, status: backend.run(runId).status };
      } else {
        const r = await backend.launch({ jobName: request.jobName, selection: request.opSelection, runConfigFile: request.runConfigFile, tags: request.tags });
        result = { runId: r.run.runId, status: r.run.status };
      }
    } else {
      const defs = this.snapshot ?? (await this.loadDefinitions(false, []));
      const assetJob = defs.jobs.find((j) => j.implicit)?.name ?? IMPLICIT_ASSET_JOB;
      const selection = request.assetKeys.map((key) => {
        const asset = defs.assets.find((a) => a.key === key);
        if (!asset) throw new InputError(`Unknown asset "${key}".`);
        return request.withUpstream ? `*${asset.node}` : asset.node;
      });
      const launchRequest: LaunchRequest = { jobName: assetJob, selection, tags: request.tags };
      const r = await backend.launch(launchRequest);
      result = { runId: r.run.runId, status: r.run.status };
    }
    this.scheduleRuns();
    return result;
  }

  /** Events after `afterId` and the captured output of every step from the given offsets (the log document). */
  private runLog(p: EngineParams<"runLog">): { run: unknown; events: StoredEvent[]; steps: RunLogStep[] } {
    const { backend } = this.requireBackend();
    let run;
    try {
      run = backend.run(p.runId);
    } catch {
      return { run: null, events: [], steps: [] };
    }
    const maxBytes = p.maxBytes ?? 1024 * 1024;
    const events = backend.events(run.runId, { afterId: p.afterId, limit: 10_000 });
    const captured = backend.events(run.runId, { types: ["LOGS_CAPTURED"] });
    const seen = new Set<string>();
    const steps: RunLogStep[] = [];
    const read = (path: string | undefined) => {
      if (!path) return { path: "", text: "", next: 0, skipped: 0 };
      let from = p.offsets[path] ?? 0;
      let skipped = 0;
      try {
        const size = statSync(path).size;
        if (size - from > maxBytes) {
          skipped = size - maxBytes - from;
          from = size - maxBytes;
        }
      } catch {
        // read below returns nothing
      }
      const { text, next } = readFrom(path, from);
      return { path, text, next, skipped };
    };
    for (const e of captured) {
      const key = e.stepKey ?? (e.data?.logKey as string | undefined) ?? "";
      if (seen.has(key)) continue;
      seen.add(key);
      const d = e.data as { stdoutPath?: string; stderrPath?: string } | undefined;
      steps.push({ stepKey: key, stdout: read(d?.stdoutPath), stderr: read(d?.stderrPath) });
    }
    return { run, events, steps };
  }
}
