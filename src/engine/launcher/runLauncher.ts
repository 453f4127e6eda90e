// The run launcher (reference §4.3 step 6, DESIGN.md rules 3 and 6): one run worker child process
// per run, owned by the instance owner. It relays the worker's events to the owner's event hub,
// answers pool-slot claims from the store, signals workers to cancel, and notices at once when a
// worker exits without finishing its run.
//
// Workers end with their owner (`exitWithOwner`): Sluice has no per-run worker journals yet, so a
// worker whose owner died could not store its events anywhere. The next owner fails such runs at
// start (see recoverOrphanedRuns).
import { readFileSync } from "node:fs";
import type { LoadedFile } from "../definitions/snapshot";
import { FINISHED_STATUSES, type RunRecord, type RunRecordsOptions, type RunsFilter, type SluiceEvent } from "../events";
import type { ExecutionPlan } from "../execution/plan";
import type { ResolvedExecutor } from "../execution/run";
import type { PoolStore, SlotGrant } from "../pools/poolStore";
import { claimPriority } from "../pools/runPools";
import type { Store } from "../storage/store";
import type { PoolClaimMode } from "../../protocol/worker";
import { describeExit, RunWorkerProcess, type ClaimMessage, type RunWorkerExit } from "./runWorkerProcess";

/** What a run worker needs to run a run: stored with the run when it is created. */
export interface LaunchSpec {
  jobName: string;
  plan: ExecutionPlan;
  executor: ResolvedExecutor;
  /** The files (and bundles) of the definitions snapshot the run was planned against. */
  files: LoadedFile[];
}

export interface LauncherHost {
  readonly workspace: string;
  readonly home: string;
  readonly store: Store;
  readonly pools: PoolStore;
  /** Stores events through the owner's event hub (status changes, slot release on run end, wakeups). */
  record(events: SluiceEvent[]): void;
  defaultPoolLimit(): number | null;
  poolMode(): PoolClaimMode;
  /** Pool capacity changed (a step or run let go of slots): the queue may have work. */
  onPoolChange(): void;
  onOutput?(runId: string, text: string, stream: "stdout" | "stderr"): void;
}

export interface StartOptions {
  /** `sluice job execute`: the worker shares the owner's terminal and process group. */
  foreground?: boolean;
}

interface Managed {
  runId: string;
  tags: Record<string, string>;
  worker: RunWorkerProcess;
  done: Promise<RunWorkerExit>;
  timers: NodeJS.Timeout[];
}

/**
 * How long a canceled run's worker may take to stop on its own before its whole process group
 * (its step workers too) is killed. A step running in process cannot be interrupted in the
 * middle (JavaScript has no way to stop an async function from outside), so the grace period is
 * what bounds a cancel. The run still ends CANCELED. Env SLUICE_CANCEL_GRACE_MS overrides it.
 */
const CANCEL_GRACE_MS = Number(process.env.SLUICE_CANCEL_GRACE_MS) || 10_000;

export class RunLauncher {
  private readonly workers = new Map<string, Managed>();

  constructor(private readonly host: LauncherHost) {}

  get active(): string[] {
    return [...this.workers.keys()];
  }

  has(runId: string): boolean {
    return this.workers.has(runId);
  }

  pidOf(runId: string): number | undefined {
    return this.workers.get(runId)?.worker.pid;
  }

  /** Starts the run's worker; resolves when the worker has exited and its end was recorded. */
  start(run: Pick<RunRecord, "runId" | "tags" | "runConfig">, spec: LaunchSpec, options: StartOptions = {}): { pid: number; done: Promise<RunWorkerExit> } {
    const { runId } = run;
    if (this.workers.has(runId)) throw new Error(`run ${runId} already has a worker`);
    const host = this.host;
    let managed: Managed | undefined;
    const worker = new RunWorkerProcess(
      {
        runId,
        jobName: spec.jobName,
        workspace: host.workspace,
        home: host.home,
        files: spec.files,
        plan: spec.plan,
        runConfig: run.runConfig,
        runTags: run.tags,
        executor: spec.executor,
        exitWithOwner: true,
        pools: host.poolMode(),
      },
      {
        // A worker speaks for its own run only (it runs user code: never let it touch another run).
        onEvents: (events) => host.record(events.filter((e) => e.runId === runId)),
        onQuery: async (method, args) => {
          if (method === "getRunRecords") return host.store.getRunRecords(args[0] as RunsFilter | undefined, args[1] as RunRecordsOptions | undefined);
          throw new Error(`unknown query ${method}`);
        },
        onOutput: (text, stream) => host.onOutput?.(runId, text, stream),
        onClaim: (m) => this.claim(runId, run.tags, worker, m),
        onRelease: (stepKey) => this.afterFree(host.pools.freeStep(runId, stepKey)),
      },
      { detached: !options.foreground },
    );
    const done = worker.exited.then((exit) => {
      for (const t of managed?.timers ?? []) clearTimeout(t);
      this.workers.delete(runId);
      this.recordExit(runId, exit);
      return exit;
    });
    managed = { runId, tags: run.tags, worker, done, timers: [] };
    this.workers.set(runId, managed);
    return { pid: worker.pid, done };
  }

  /** Asks the run's worker to cancel; kills it (and its step workers) if it has not ended after the grace period. False when no worker runs it. */
  cancel(runId: string): boolean {
    const m = this.workers.get(runId);
    if (!m) return false;
    if (m.timers.length > 0) {
      // Asked twice: stop waiting for a graceful end.
      m.worker.kill("SIGKILL");
      return true;
    }
    m.worker.interrupt("cancel");
    const timer = setTimeout(() => m.worker.kill("SIGKILL"), CANCEL_GRACE_MS);
    timer.unref();
    m.timers.push(timer);
    return true;
  }

  /** Interrupts a run's worker (the run ends as failed/interrupted, or canceled for "cancel"). */
  interrupt(runId: string, reason: "cancel" | "shutdown"): void {
    this.workers.get(runId)?.worker.interrupt(reason);
  }

  /** Tells workers whose steps were handed a slot (by someone else's release or a new limit). */
  grant(grants: readonly SlotGrant[]): void {
    for (const g of grants) this.workers.get(g.runId)?.worker.send({ t: "slotGranted", stepKey: g.stepKey, pool: g.pool });
  }

  /** Waits for every worker to exit. */
  async waitAll(): Promise<void> {
    await Promise.all([...this.workers.values()].map((m) => m.done));
  }

  /** Interrupts every worker, waits up to `graceMs`, then kills what is left. */
  async shutdown(graceMs = 5_000): Promise<void> {
    const all = [...this.workers.values()];
    if (all.length === 0) return;
    for (const m of all) m.worker.interrupt("shutdown");
    const timer = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.all(all.map((m) => m.done)), timer]);
    for (const m of this.workers.values()) m.worker.kill("SIGKILL");
    await Promise.all(all.map((m) => m.done));
  }

  // -------------------------------------------------------------------------------------------

  private claim(runId: string, tags: Record<string, string>, worker: RunWorkerProcess, m: ClaimMessage): void {
    const host = this.host;
    let status: "CLAIMED" | "BLOCKED" | "UNLIMITED";
    try {
      const result = host.pools.claim(m.pool, runId, m.stepKey, claimPriority(tags, m.priority), {
        defaultLimit: host.defaultPoolLimit(),
        holding: m.holding,
      });
      status = result.status;
      this.grant(result.grants);
      if (result.transferredFrom) {
        host.record([{
          runId,
          type: "ENGINE_EVENT",
          stepKey: m.stepKey,
          timestamp: Date.now(),
          level: "INFO",
          message: `Step took over the ${m.pool} slot its own run still held for step ${result.transferredFrom} (no longer running) instead of waiting on itself.`,
          data: { pool: m.pool, concurrency_key: m.pool, from: result.transferredFrom },
        }]);
      }
    } catch (e) {
      // A broken store must not wedge the run: let the step go and say so (fail open, like Dagster's queue).
      status = "UNLIMITED";
      host.record([{
        runId,
        type: "ENGINE_EVENT",
        stepKey: m.stepKey,
        timestamp: Date.now(),
        level: "WARNING",
        message: `Could not claim a slot of pool ${m.pool} (${e instanceof Error ? e.message : String(e)}); the step runs without one.`,
      }]);
    }
    worker.send({ t: "claimResult", stepKey: m.stepKey, pool: m.pool, status });
  }

  private afterFree(grants: SlotGrant[]): void {
    this.grant(grants);
    this.host.onPoolChange();
  }

  /** The worker is gone: if its run did not end, end it now and say how the worker died; free its slots. */
  private recordExit(runId: string, exit: RunWorkerExit): void {
    const host = this.host;
    const run = host.store.getRun(runId);
    if (run && !FINISHED_STATUSES.includes(run.status)) {
      const how = `Run worker (pid ${exit.pid}) ${describeExit(exit)}`;
      const now = Date.now();
      const data = { exitCode: exit.code, signal: exit.signal, pid: exit.pid };
      if (run.status === "CANCELING") {
        host.record([
          { runId, type: "ENGINE_EVENT", timestamp: now, level: "WARNING", message: `${how} while the run was canceling.`, data },
          { runId, type: "RUN_CANCELED", timestamp: now, level: "INFO", message: `Execution of run for "${run.jobName}" canceled.` },
        ]);
      } else {
        host.record([
          { runId, type: "ENGINE_EVENT", timestamp: now, level: "ERROR", message: `${how} before the run finished.`, data },
          {
            runId,
            type: "RUN_FAILURE",
            timestamp: now,
            level: "ERROR",
            message: `Execution of run for "${run.jobName}" failed: its run worker (pid ${exit.pid}) ${describeExit(exit)}.`,
            data: { failureReason: "UNEXPECTED_TERMINATION", ...data },
          },
        ]);
      }
    }
    this.afterFree(host.pools.freeRun(runId));
  }
}

/** Whether `pid` is a Sluice worker process (guards against killing an unrelated process that reused a pid). */
export function isSluiceWorker(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("worker.js");
  } catch {
    return false;
  }
}
