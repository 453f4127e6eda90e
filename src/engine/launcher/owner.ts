// What only the owner of a `.sluice` home does (DESIGN.md rules 3-6): the event hub every stored
// event goes through (run end frees slots at once and wakes the queue), the pools, the run
// launcher and the queue daemon, the submit/cancel/concurrency operations, and the clean-up of
// what a dead owner left behind.
import { randomUUID } from "node:crypto";
import type { ResolvedInstanceConfig } from "../config/instanceSchema";
import { describeConfigIssues, InstanceConfigState, type InstanceConfigReport } from "../daemons/instanceConfigState";
import { QueueDaemon } from "../daemons/queueDaemon";
import type { LoadedFile } from "../definitions/snapshot";
import {
  FINISHED_STATUSES,
  IN_PROGRESS_STATUSES,
  type EventType,
  type RunRecord,
  type RunStatus,
  type SluiceEvent,
  type StoredEvent,
} from "../events";
import type { ExecutionPlan } from "../execution/plan";
import type { ResolvedExecutor } from "../execution/run";
import { PoolLimitError, PoolStore, type PoolInfo, type SlotGrant } from "../pools/poolStore";
import { runPoolUsage } from "../pools/runPools";
import type { Store } from "../storage/store";
import { isAlive } from "../ownership";
import type { PoolClaimMode } from "../../protocol/worker";
import { isSluiceWorker, RunLauncher, type LaunchSpec } from "./runLauncher";

const TERMINAL_EVENTS: ReadonlySet<EventType> = new Set(["RUN_SUCCESS", "RUN_FAILURE", "RUN_CANCELED"]);

export interface SubmitInput {
  jobName: string;
  plan: ExecutionPlan;
  executor: ResolvedExecutor;
  runConfig: Record<string, unknown>;
  tags: Record<string, string>;
  selection?: string[];
  assetJob: boolean;
  files: LoadedFile[];
  /** Re-execution: the run this one re-executes, and the first run of that lineage. */
  parentRunId?: string;
  rootRunId?: string;
  /** Explicit step keys (re-execution): recorded as the run's steps to execute even without an op selection. */
  explicitSteps?: boolean;
}

export interface CancelResult {
  runId: string;
  previous: RunStatus;
  status: RunStatus;
  message: string;
}

export interface FreeResult {
  runId: string;
  slots: number;
  pending: number;
  message: string;
}

/** A user-facing problem (bad pool limit, run not cancelable, ...). */
export class OwnerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OwnerInputError";
  }
}

export interface OwnerOptions {
  workspace: string;
  home: string;
  store: Store;
  /** Where daemons and the launcher report (default stderr). */
  log?: (message: string) => void;
  /** What run workers print outside of captured steps (default: stderr, prefixed with the run id). */
  onWorkerOutput?: (runId: string, text: string, stream: "stdout" | "stderr") => void;
}

export class InstanceOwner {
  readonly pools: PoolStore;
  readonly launcher: RunLauncher;
  readonly configState: InstanceConfigState;
  private queue: QueueDaemon | undefined;
  private configTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(events: StoredEvent[]) => void>();
  private readonly foreground = new Map<string, (text: string, stream: "stdout" | "stderr") => void>();
  private readonly log: (message: string) => void;

  constructor(private readonly options: OwnerOptions) {
    const { store } = options;
    this.log = options.log ?? ((m) => process.stderr.write(m.endsWith("\n") ? m : `${m}\n`));
    this.pools = new PoolStore(store);
    this.configState = new InstanceConfigState(options.workspace, (report) => this.log(describeConfigIssues(report)));
    this.launcher = new RunLauncher({
      workspace: options.workspace,
      home: options.home,
      store,
      pools: this.pools,
      record: (events) => void this.record(events),
      defaultPoolLimit: () => this.config.concurrency.pools.default_limit,
      poolMode: () => this.poolMode(),
      onPoolChange: () => this.queue?.wake(),
      onOutput: (runId, text, stream) => {
        const fg = this.foreground.get(runId);
        if (fg) fg(text, stream);
        else if (options.onWorkerOutput) options.onWorkerOutput(runId, text, stream);
        else process.stderr.write(text.replace(/^(?=.)/gm, `[${runId.slice(0, 8)}] `));
      },
    });
  }

  get store(): Store {
    return this.options.store;
  }

  get config(): ResolvedInstanceConfig {
    return this.configState.config;
  }

  configReport(): InstanceConfigReport {
    return this.configState.report();
  }

  poolMode(): PoolClaimMode {
    return this.config.concurrency.pools.granularity === "op" ? "op" : "off";
  }

  // -------------------------------------------------------------------------------------------
  // the event hub

  /**
   * Stores events (the only way run status changes, DESIGN.md rule 4) and applies their
   * consequences: a run that ended frees every slot and pending claim it had, at once; the queue
   * wakes up when a run is enqueued or ends; listeners (watchers, the extension) hear about them.
   */
  record(events: SluiceEvent[]): StoredEvent[] {
    if (events.length === 0) return [];
    const stored = this.store.appendEvents(events);
    let wake = false;
    for (const e of stored) {
      if (TERMINAL_EVENTS.has(e.type)) {
        this.launcher.grant(this.pools.freeRun(e.runId));
        wake = true;
      } else if (e.type === "RUN_ENQUEUED") wake = true;
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(stored);
      } catch (err) {
        this.log(`sluice: an event listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (wake) this.queue?.wake();
    return stored;
  }

  onEvents(listener: (events: StoredEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // -------------------------------------------------------------------------------------------
  // daemons

  get daemonsRunning(): boolean {
    return this.queue?.isRunning ?? false;
  }

  startDaemons(): void {
    if (this.queue?.isRunning) return;
    this.launcher.grant(this.pools.syncDefaultLimits(this.config.concurrency.pools.default_limit));
    // An edited sluice.yaml takes effect within a second: pools that follow default_limit are
    // resized and the queue looks again at once.
    this.configState.onChange = (config) => {
      this.launcher.grant(this.pools.syncDefaultLimits(config.concurrency.pools.default_limit));
      this.queue?.wake();
    };
    this.configTimer = setInterval(() => void this.config, 1000);
    this.configTimer.unref();
    this.queue = new QueueDaemon({
      store: this.store,
      pools: this.pools,
      config: () => this.config,
      launchQueuedRun: (run) => this.launchQueuedRun(run),
      log: this.log,
    });
    this.queue.start();
  }

  /** Stops launching; running workers go on. */
  stopDaemons(): void {
    this.queue?.stop();
    clearInterval(this.configTimer);
  }

  /** One dequeue pass now (for tests and `sluice dev` start). */
  wakeQueue(): void {
    this.queue?.wake();
  }

  // -------------------------------------------------------------------------------------------
  // runs

  /** Creates a run from a validated plan, with everything a worker needs to run it later. */
  createRun(input: SubmitInput): RunRecord {
    const runId = randomUUID();
    this.store.createRun({
      runId,
      jobName: input.jobName,
      tags: input.tags,
      runConfig: input.runConfig,
      opSelection: input.selection ?? null,
      stepKeysToExecute: input.selection || input.explicitSteps ? input.plan.steps.map((s) => s.key) : null,
      assetSelection: input.assetJob ? input.plan.steps.flatMap((s) => (s.assetKey ? [s.assetKey] : [])) : null,
      parentRunId: input.parentRunId ?? null,
      rootRunId: input.rootRunId ?? null,
    });
    const spec: LaunchSpec = { jobName: input.jobName, plan: input.plan, executor: input.executor, files: input.files };
    this.store.write("launchSpec", (db) => {
      db.run("INSERT OR REPLACE INTO run_launch_specs (run_id, spec) VALUES (?, ?)", [runId, JSON.stringify(spec)]);
    });
    this.store.setRunMeta(runId, { pools: runPoolUsage(input.plan) });
    return this.store.getRun(runId)!;
  }

  launchSpec(runId: string): LaunchSpec | undefined {
    const row = this.store.get<{ spec: string }>("SELECT spec FROM run_launch_specs WHERE run_id = ?", [runId]);
    return row ? (JSON.parse(row.spec) as LaunchSpec) : undefined;
  }

  /** Submits to the queue: QUEUED with RUN_ENQUEUED (reference §4.1). */
  submit(input: SubmitInput): RunRecord {
    const run = this.createRun(input);
    this.record([{ runId: run.runId, type: "RUN_ENQUEUED", timestamp: Date.now(), level: "INFO", message: `Enqueued run for "${input.jobName}".` }]);
    return this.store.getRun(run.runId)!;
  }

  /**
   * Launches at once, bypassing the queue (a run tagged `sluice/run_immediately: "true"`): the run
   * goes from NOT_STARTED to STARTING like `sluice job execute`, but its worker is owned by this
   * owner like a dequeued run's (it does not end with the caller). Returns once the worker started.
   */
  submitNow(input: SubmitInput): RunRecord {
    const run = this.createRun(input);
    this.launchQueuedRun(run);
    return this.store.getRun(run.runId)!;
  }

  /** Runs now, bypassing the queue (`sluice job execute`); resolves when the worker is gone. */
  async executeNow(
    input: SubmitInput,
    options: { onEvents?: (events: StoredEvent[]) => void; signal?: AbortSignal; onOutput?: (text: string, stream: "stdout" | "stderr") => void; onRunCreated?: (runId: string) => void } = {},
  ): Promise<RunRecord> {
    const run = this.createRun(input);
    const { runId } = run;
    options.onRunCreated?.(runId);
    const unsubscribe = options.onEvents
      ? this.onEvents((events) => {
          const mine = events.filter((e) => e.runId === runId);
          if (mine.length > 0) options.onEvents!(mine);
        })
      : undefined;
    this.foreground.set(runId, options.onOutput ?? ((text) => process.stderr.write(text)));
    try {
      this.record([{ runId, type: "RUN_STARTING", timestamp: Date.now(), level: "INFO", message: `Launching run worker for run of "${input.jobName}".` }]);
      const started = this.launcher.start(run, this.launchSpec(runId)!, { foreground: true });
      this.store.setRunMeta(runId, { workerPid: started.pid, ownerPid: process.pid });
      const onAbort = () => this.launcher.interrupt(runId, "shutdown");
      if (options.signal?.aborted) onAbort();
      options.signal?.addEventListener("abort", onAbort);
      await started.done;
      options.signal?.removeEventListener("abort", onAbort);
    } finally {
      unsubscribe?.();
      this.foreground.delete(runId);
    }
    this.store.flush();
    return this.store.getRun(runId)!;
  }

  /** The queue decided to launch this run: RUN_STARTING, then its own run worker. */
  private launchQueuedRun(run: RunRecord): void {
    const { runId } = run;
    this.store.setRunMeta(runId, { queueReason: undefined, queueBlock: undefined });
    const spec = this.launchSpec(runId);
    const fail = (why: string) => {
      const now = Date.now();
      this.record([
        { runId, type: "ENGINE_EVENT", timestamp: now, level: "ERROR", message: `Caught an unrecoverable error while dequeuing the run. Marking the run as failed and dropping it from the queue: ${why}` },
        { runId, type: "RUN_FAILURE", timestamp: now, level: "ERROR", message: `Execution of run for "${run.jobName}" failed: ${why}`, data: { failureReason: "RUN_EXCEPTION" } },
      ]);
    };
    if (!spec) return fail("the run has no stored plan to launch (it was not created by `sluice job launch`).");
    this.record([{ runId, type: "RUN_STARTING", timestamp: Date.now(), level: "INFO", message: `Launching run worker for run of "${run.jobName}".` }]);
    try {
      const started = this.launcher.start(run, spec);
      this.store.setRunMeta(runId, { workerPid: started.pid, ownerPid: process.pid, launchTime: Date.now() });
    } catch (e) {
      fail(e instanceof Error ? e.message : String(e));
    }
  }

  /** Resolves with the run once it is finished; `onEvents` gets its events from `afterId` on. */
  watchRun(runId: string, options: { onEvents?: (events: StoredEvent[]) => void; afterId?: number; signal?: AbortSignal } = {}): Promise<RunRecord> {
    return new Promise((resolve, reject) => {
      let lastId = options.afterId ?? 0;
      let settled = false;
      const finish = (): boolean => {
        const run = this.store.getRun(runId);
        if (!run) {
          settled = true;
          unsubscribe();
          reject(new OwnerInputError(`No run with id "${runId}".`));
          return true;
        }
        if (!FINISHED_STATUSES.includes(run.status)) return false;
        settled = true;
        unsubscribe();
        resolve(run);
        return true;
      };
      const deliver = (events: StoredEvent[]) => {
        const mine = events.filter((e) => e.runId === runId && e.id > lastId);
        if (mine.length === 0) return false;
        lastId = mine[mine.length - 1].id;
        options.onEvents?.(mine);
        return mine.some((e) => TERMINAL_EVENTS.has(e.type));
      };
      const unsubscribe = this.onEvents((events) => {
        if (!settled && deliver(events)) finish();
      });
      options.signal?.addEventListener("abort", () => {
        if (settled) return;
        settled = true;
        unsubscribe();
        reject(new Error("stopped watching"));
      });
      deliver(this.store.getEvents(runId, { afterId: lastId }));
      finish();
    });
  }

  cancel(runId: string): CancelResult {
    const run = this.store.getRun(runId);
    if (!run) throw new OwnerInputError(`No run with id "${runId}".`);
    const now = Date.now();
    const previous = run.status;
    const done = (message: string): CancelResult => ({ runId, previous, status: this.store.getRun(runId)!.status, message });
    switch (run.status) {
      case "QUEUED":
      case "NOT_STARTED":
        this.store.setRunMeta(runId, { queueReason: undefined, queueBlock: undefined });
        this.record([
          { runId, type: "RUN_CANCELING", timestamp: now, level: "INFO", message: "Canceling run from the queue." },
          { runId, type: "RUN_CANCELED", timestamp: now, level: "INFO", message: "Run canceled from the queue." },
        ]);
        return done(`Run ${runId} was canceled (it had not started).`);
      case "STARTING":
      case "STARTED":
        this.record([{ runId, type: "RUN_CANCELING", timestamp: now, level: "INFO", message: "Sending run termination request." }]);
        if (this.launcher.cancel(runId)) return done(`Run ${runId} is canceling: its run worker was asked to stop.`);
        this.record([{ runId, type: "RUN_CANCELED", timestamp: now, level: "WARNING", message: "No run worker is running this run any more; marked canceled." }]);
        return done(`Run ${runId} was canceled (no worker was running it).`);
      case "CANCELING":
        if (this.launcher.cancel(runId)) return done(`Run ${runId} was already canceling; its run worker is being killed now.`);
        this.record([{ runId, type: "RUN_CANCELED", timestamp: now, level: "WARNING", message: "No run worker is running this run any more; marked canceled." }]);
        return done(`Run ${runId} was canceled (no worker was running it).`);
      default:
        throw new OwnerInputError(`Run ${runId} is ${run.status}; only QUEUED or STARTED runs can be canceled.`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // concurrency pools

  setConcurrencyLimit(pool: string, limit: number): string {
    if (!pool) throw new OwnerInputError("A pool name is required.");
    let grants: SlotGrant[];
    try {
      grants = this.pools.setLimit(pool, limit);
    } catch (e) {
      if (e instanceof PoolLimitError) throw new OwnerInputError(e.message);
      throw e;
    }
    this.launcher.grant(grants);
    this.queue?.wake();
    return `Set concurrency limit for ${pool} to ${limit}.`;
  }

  concurrencyInfo(pool?: string): PoolInfo[] {
    const defaultLimit = this.config.concurrency.pools.default_limit;
    const names = pool ? [pool] : this.pools.pools();
    return names.map((p) => this.pools.info(p, defaultLimit));
  }

  freeConcurrencySlots(runId: string): FreeResult {
    const slots = this.store.get<{ n: number }>("SELECT COUNT(*) AS n FROM concurrency_slots WHERE run_id = ?", [runId])!.n;
    const pending = this.store.get<{ n: number }>("SELECT COUNT(*) AS n FROM pending_steps WHERE run_id = ? AND assigned_time IS NULL", [runId])!.n;
    this.launcher.grant(this.pools.freeRun(runId));
    this.queue?.wake();
    return { runId, slots, pending, message: `Freed ${slots} concurrency slot${slots === 1 ? "" : "s"} and ${pending} pending claim${pending === 1 ? "" : "s"} of run ${runId}.` };
  }

  // -------------------------------------------------------------------------------------------
  // start and stop

  /**
   * A new owner cleans up after a dead one: runs it left in progress lost their workers (they
   * end with their owner), so they fail (or finish canceling) now, saying why; slots of runs that
   * are not in progress are freed.
   */
  recoverOrphanedRuns(): void {
    const now = Date.now();
    for (const run of this.store.getRunRecords({ statuses: [...IN_PROGRESS_STATUSES] })) {
      if (this.launcher.has(run.runId)) continue;
      const pid = typeof run.meta?.workerPid === "number" ? (run.meta.workerPid as number) : undefined;
      const ownerPid = typeof run.meta?.ownerPid === "number" ? (run.meta.ownerPid as number) : undefined;
      let how = pid ? `its run worker (pid ${pid}) is gone` : "it never got a run worker";
      if (pid && isAlive(pid) && isSluiceWorker(pid)) {
        // Still dying after its owner vanished: nobody can store its events any more.
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone meanwhile
          }
        }
        how = `its run worker (pid ${pid}) could no longer report its events, so the new owner killed it`;
      }
      const owner = ownerPid && ownerPid !== process.pid ? `its owner (pid ${ownerPid}) ended` : "its owner ended";
      const message = `The run was left ${run.status} when ${owner}; ${how}.`;
      if (run.status === "CANCELING") {
        this.record([
          { runId: run.runId, type: "ENGINE_EVENT", timestamp: now, level: "WARNING", message },
          { runId: run.runId, type: "RUN_CANCELED", timestamp: now, level: "INFO", message: `Execution of run for "${run.jobName}" canceled.` },
        ]);
      } else {
        this.record([
          { runId: run.runId, type: "ENGINE_EVENT", timestamp: now, level: "ERROR", message },
          {
            runId: run.runId,
            type: "RUN_FAILURE",
            timestamp: now,
            level: "ERROR",
            message: `Execution of run for "${run.jobName}" failed: ${message}`,
            data: { failureReason: "UNEXPECTED_TERMINATION", workerPid: pid ?? null },
          },
        ]);
      }
    }
    for (const runId of this.pools.runIds()) {
      const run = this.store.getRun(runId);
      if (!run || !IN_PROGRESS_STATUSES.includes(run.status)) this.launcher.grant(this.pools.freeRun(runId));
    }
  }

  /** Stops launching and waits for the runs in flight to end. */
  async drain(): Promise<void> {
    this.stopDaemons();
    await this.launcher.waitAll();
  }

  /** Stops launching, interrupts running workers (they fail as interrupted) and waits for them. */
  async shutdown(graceMs?: number): Promise<void> {
    this.stopDaemons();
    await this.launcher.shutdown(graceMs);
  }
}
