// The extension host's side of the engine: `SluiceEngine` as an async RPC client of the engine's
// worker thread (dist/engineWorker.js, see src/protocol/engineWorker.ts). The host keeps only small
// caches the views read synchronously (runs, definitions model, pools), refreshed by the worker's
// pushes; every other question is a message. Nothing here imports `vscode`, so the client can be
// tested against a real engine worker in plain Node.
import { unlinkSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { DefinitionsSnapshot } from "../../engine/definitions/snapshot";
import type { RunRecord, RunStatus, StoredEvent } from "../../engine/events";
import { lockPath, readOwner } from "../../engine/ownership";
import {
  workerMessageSchema,
  type EngineError,
  type EngineMethod,
  type EngineParams,
  type OwnerStatus,
  type PoolSummary,
  type WorkerInit,
  type WorkerMessage,
} from "../../protocol/engineWorker";
import type { ConfigIssueView, ConcurrencyView } from "../../protocol/webview";
import type { DataChange, WebviewDataSource } from "../webview/dataSource";
import { definitionsFromSnapshot } from "./fromEngine";
import {
  EMPTY_DEFINITIONS,
  type DefinitionsModel,
  type DefinitionsUpdate,
  type LaunchRequest,
  type Listenable,
  type ReexecuteRequest,
  type RunLogChunk,
  type RunSummary,
  type SluiceEngine,
} from "./port";

type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

/** An error the engine reported; `issues` are positioned config problems when there are any. */
export class EngineCallError extends Error {
  readonly kind: EngineError["kind"];
  readonly issues?: unknown[];
  constructor(e: EngineError) {
    super(e.message);
    this.name = "EngineCallError";
    this.kind = e.kind;
    if (e.issues && e.issues.length > 0) this.issues = e.issues;
  }
}

class Emitter<T> {
  private readonly listeners = new Set<(e: T) => unknown>();
  readonly event: Listenable<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // a listener's failure is its own
      }
    }
  }
  clear(): void {
    this.listeners.clear();
  }
}

export interface WorkerEngineOptions extends Omit<WorkerInit, "workspace"> {
  /** dist/engineWorker.js */
  workerScript: string;
  /** The engine's log lines and run workers' stray output. */
  log?(level: LogLevel, message: string): void;
  /** How long the worker may take to own (or reach) `.sluice` (default 30 s). */
  startTimeoutMs?: number;
  /** How long a graceful shutdown may take before the thread is terminated (default 5 s). */
  shutdownTimeoutMs?: number;
}

export class WorkerEngine implements SluiceEngine {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void; method: string }>();
  private runsCache: readonly RunSummary[] = [];
  private update: DefinitionsUpdate | undefined;
  private pools: PoolSummary[] = [];
  private model: DefinitionsModel = EMPTY_DEFINITIONS;
  private ownerStatus: OwnerStatus | undefined;
  private exited = false;
  private disposing: Promise<void> | undefined;

  private readonly runsEmitter = new Emitter<void>();
  private readonly definitionsEmitter = new Emitter<void>();
  private readonly updateEmitter = new Emitter<DefinitionsUpdate>();
  private readonly activityEmitter = new Emitter<string[]>();
  private readonly statusEmitter = new Emitter<OwnerStatus>();
  private readonly failEmitter = new Emitter<string>();
  private readonly webviewEmitter = new Emitter<DataChange>();

  readonly onDidChangeRuns = this.runsEmitter.event;
  readonly onDidChangeDefinitions = this.definitionsEmitter.event;
  /** Every definitions load (and run config file or sluice.yaml change): the diagnostics' feed. */
  readonly onDefinitions = this.updateEmitter.event;
  /** Runs whose events grew (throttled by the worker). */
  readonly onRunActivity = this.activityEmitter.event;
  /** The worker died or could not start an engine. */
  readonly onDidFail = this.failEmitter.event;
  readonly webview: WebviewDataSource;

  private constructor(readonly workspace: string, private readonly options: WorkerEngineOptions) {
    const init: WorkerInit = {
      workspace,
      debounceMs: options.debounceMs,
      importTimeoutMs: options.importTimeoutMs,
      watch: options.watch,
      clientPollMs: options.clientPollMs,
    };
    this.worker = new Worker(options.workerScript, { workerData: init, stdout: false, stderr: false });
    this.worker.on("message", (raw: unknown) => this.onMessage(raw));
    this.worker.on("error", (e) => this.onExit(`The engine thread crashed: ${e.stack ?? e.message}`));
    this.worker.on("exit", (code) => this.onExit(`The engine thread exited (code ${code}).`));
    this.webview = this.webviewSource();
  }

  /** Starts the worker and resolves once it owns `.sluice` or is connected to its owner. */
  static async start(workspace: string, options: WorkerEngineOptions): Promise<WorkerEngine> {
    const engine = new WorkerEngine(workspace, options);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`The engine did not start within ${(options.startTimeoutMs ?? 30_000) / 1000}s.`)), options.startTimeoutMs ?? 30_000);
        const ok = engine.statusEmitter.event(() => done());
        const bad = engine.failEmitter.event((m) => done(new Error(m)));
        function done(e?: Error) {
          clearTimeout(timer);
          ok.dispose();
          bad.dispose();
          if (e) reject(e);
          else resolve();
        }
      });
    } catch (e) {
      await engine.dispose();
      throw e;
    }
    return engine;
  }

  // -------------------------------------------------------------------------------------------
  // messages

  private log(level: LogLevel, message: string): void {
    this.options.log?.(level, message);
  }

  private onMessage(raw: unknown): void {
    const parsed = workerMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.log("error", `Ignored an invalid message from the engine thread: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`);
      return;
    }
    const m: WorkerMessage = parsed.data;
    switch (m.t) {
      case "result": {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(new EngineCallError(m.error ?? { kind: "internal", message: `${p.method} failed` }));
        return;
      }
      case "status":
        this.ownerStatus = m.status;
        this.statusEmitter.fire(m.status);
        return;
      case "failed":
        this.log("error", m.message);
        this.failEmitter.fire(m.message);
        return;
      case "definitions": {
        const snapshot = m.snapshot as unknown as DefinitionsSnapshot;
        this.update = { snapshot, runConfigFiles: m.runConfigFiles, config: m.config, changed: m.changed };
        this.rebuildModel();
        this.updateEmitter.fire(this.update);
        this.definitionsEmitter.fire();
        return;
      }
      case "runs":
        this.runsCache = m.runs as unknown as RunSummary[];
        this.runsEmitter.fire();
        return;
      case "pools":
        this.pools = m.pools;
        this.rebuildModel();
        this.definitionsEmitter.fire();
        return;
      case "activity":
        this.activityEmitter.fire(m.runIds);
        return;
      case "webviewChange":
        this.webviewEmitter.fire(m.change as DataChange);
        return;
      case "log":
        this.log(m.level, m.message);
        return;
      case "output":
        this.log("info", `[run ${m.runId.slice(0, 8)}] ${m.text.replace(/\n$/, "")}`);
        return;
      case "closed":
        return;
    }
  }

  private onExit(message: string): void {
    if (this.exited) return;
    this.exited = true;
    for (const [, p] of this.pending) p.reject(new EngineCallError({ kind: "unavailable", message: "The Sluice engine stopped." }));
    this.pending.clear();
    if (!this.disposing) {
      this.log("error", message);
      this.releaseLeftLock();
      this.failEmitter.fire(message);
    }
  }

  /** Sends one call to the worker. */
  call<M extends EngineMethod>(method: M, params: EngineParams<M>): Promise<unknown> {
    if (this.exited || this.disposing) return Promise.reject(new EngineCallError({ kind: "unavailable", message: "The Sluice engine is not running." }));
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.worker.postMessage({ t: "call", id, method, params });
    });
  }

  // -------------------------------------------------------------------------------------------
  // SluiceEngine

  get status(): OwnerStatus | undefined {
    return this.ownerStatus;
  }

  /** The latest definitions snapshot (undefined until the first load finished). */
  get snapshot(): DefinitionsSnapshot | undefined {
    return this.update?.snapshot;
  }

  get definitionsUpdate(): DefinitionsUpdate | undefined {
    return this.update;
  }

  getRuns(): readonly RunSummary[] {
    return this.runsCache;
  }

  getDefinitions(): DefinitionsModel {
    return this.model;
  }

  private rebuildModel(): void {
    const pools = this.pools.map((p) => ({ name: p.name, limit: p.limit, used: p.used }));
    if (!this.update) {
      this.model = { ...EMPTY_DEFINITIONS, pools };
      return;
    }
    const model = definitionsFromSnapshot(this.update.snapshot, pools);
    const files = this.update.runConfigFiles;
    for (const job of model.jobs) {
      const mine = files.filter((f) => f.jobName === job.name).map((f) => f.file);
      if (mine.length > 0) job.runConfigFiles = mine;
    }
    this.model = model;
  }

  async launchRun(request: LaunchRequest): Promise<{ runId: string; status: RunStatus }> {
    const r = (await this.call("launch", { request })) as { runId: string; status: RunStatus };
    return { runId: r.runId, status: r.status };
  }

  async cancelRun(runId: string): Promise<void> {
    await this.call("cancel", { runId });
  }

  async reexecuteRun(runId: string, strategy: ReexecuteRequest): Promise<{ runId: string }> {
    const r = (await this.call("reexecute", { runId, request: strategy })) as { runId: string };
    return { runId: r.runId };
  }

  async reload(): Promise<void> {
    await this.call("reload", {});
  }

  /** A run's events after `afterId` and its steps' captured output from `offsets` (the log document). */
  runLog(runId: string, afterId: number, offsets: Record<string, number>): Promise<RunLogChunk> {
    return this.call("runLog", { runId, afterId, offsets }) as Promise<RunLogChunk>;
  }

  private webviewSource(): WebviewDataSource {
    const call = <M extends EngineMethod>(method: M, params: EngineParams<M>) => this.call(method, params);
    return {
      status: () =>
        this.ownerStatus?.mode === "client"
          ? { engine: "ready", message: `Runs are launched by the owner of .sluice (pid ${this.ownerStatus.ownerPid}, ${this.ownerStatus.ownerRole}).` }
          : { engine: "ready" },
      definitions: async () => (this.update?.snapshot ?? (await call("definitions", {}))) as DefinitionsSnapshot,
      runs: (limit) => call("runs", { limit }) as Promise<RunRecord[]>,
      run: async (runId) => ((await call("run", { runId })) as RunRecord | null) ?? undefined,
      events: (runId, afterId, limit) => call("events", { runId, afterId, limit }) as Promise<StoredEvent[]>,
      computeLogs: (runId, stepKey, maxBytes) => call("computeLogs", { runId, stepKey, maxBytes }) as Promise<{ stdout: string; stderr: string; truncated: boolean }>,
      concurrency: () => call("concurrency", {}) as Promise<ConcurrencyView>,
      launch: async (r) => {
        const result = (await call("launch", {
          request: { kind: "job", jobName: r.jobName, opSelection: r.selection, runConfig: r.runConfig, runConfigYaml: r.runConfigYaml, tags: r.tags },
        })) as { runId: string };
        return { runId: result.runId };
      },
      cancel: (runId) => call("cancel", { runId }),
      reexecute: async (runId, strategy) => ({ runId: ((await call("reexecute", { runId, request: strategy })) as { runId: string }).runId }),
      setPoolLimit: (pool, limit) => call("setPoolLimit", { pool, limit }),
      validateRunConfig: (jobName, yaml, selection) => call("validateRunConfig", { jobName, yaml, selection }) as Promise<ConfigIssueView[]>,
      onChange: (listener) => {
        const sub = this.webviewEmitter.event(listener);
        const status = this.statusEmitter.event(() => listener({ status: true }));
        const defs = this.definitionsEmitter.event(() => listener({ definitions: true }));
        void call("webviewSubscribe", { subscribe: true }).catch(() => undefined);
        return {
          dispose: () => {
            sub.dispose();
            status.dispose();
            defs.dispose();
            void call("webviewSubscribe", { subscribe: false }).catch(() => undefined);
          },
        };
      },
    };
  }

  /** A lock the worker held when it died (or was terminated) is released, so that the next engine can own `.sluice`. */
  private releaseLeftLock(): void {
    const s = this.ownerStatus;
    if (!s || s.mode !== "owner" || !s.lockToken) return;
    const owner = readOwner(s.home);
    if (!owner || owner.token !== s.lockToken || owner.pid !== process.pid) return;
    try {
      unlinkSync(lockPath(s.home));
      if (owner.socket) unlinkSync(owner.socket);
    } catch {
      // already gone
    }
    this.log("warn", `Released the lock on ${s.home} that the stopped engine thread held.`);
  }

  /** Stops the daemons (runs in progress are interrupted), closes the store and releases `.sluice`. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      if (!this.exited) {
        const closed = new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), this.options.shutdownTimeoutMs ?? 5000);
          const onMessage = (raw: unknown) => {
            if ((raw as { t?: string })?.t === "closed") {
              clearTimeout(timer);
              resolve(true);
            }
          };
          this.worker.on("message", onMessage);
          this.worker.once("exit", () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        this.worker.postMessage({ t: "shutdown" });
        const graceful = await closed;
        await this.worker.terminate();
        if (!graceful) {
          this.log("warn", "The engine thread did not stop in time; it was terminated.");
          this.releaseLeftLock();
        }
      }
      this.exited = true;
      for (const [, p] of this.pending) p.reject(new EngineCallError({ kind: "unavailable", message: "The Sluice engine stopped." }));
      this.pending.clear();
      for (const e of [this.runsEmitter, this.definitionsEmitter, this.activityEmitter, this.statusEmitter, this.failEmitter, this.webviewEmitter, this.updateEmitter]) e.clear();
    })();
    return this.disposing;
  }
}
