// The queue daemon (reference §4.3): a small loop over stored state. Each pass reads the QUEUED
// and in-progress runs and the pools from the store, asks the pure coordinator which runs to
// launch, records why every other queued run waits (RunRecord.meta.queueReason / queueBlock), and
// launches. Passes run at once when something that may free capacity or add work happens (a run
// is enqueued or ends, a slot is released, a limit changes: `wake()`), and every
// `dequeue_interval_seconds` anyway.
import type { ResolvedInstanceConfig } from "../config/instanceSchema";
import { IN_PROGRESS_STATUSES, type RunRecord } from "../events";
import type { PoolStore } from "../pools/poolStore";
import type { RunPoolUsage } from "../pools/runPools";
import type { Store } from "../storage/store";
import { coordinateQueue, type InProgressRunInput, type PoolState, type QueueDecision, type QueuedRunInput, type QueueWait } from "./queueCoordinator";

export interface QueueDaemonHost {
  readonly store: Store;
  readonly pools: PoolStore;
  config(): ResolvedInstanceConfig;
  /** Writes RUN_STARTING and starts the run's worker (or fails the run if it cannot). */
  launchQueuedRun(run: RunRecord): void;
  log?(message: string): void;
}

export interface QueuePassResult {
  queued: number;
  inProgress: number;
  launched: string[];
  decision: QueueDecision;
  /** Milliseconds spent in the pure coordinator / reading the store / writing reasons. */
  timings: { read: number; decide: number; write: number; launch: number };
}

/** Wakeups closer together than this are merged into one pass. */
const MIN_PASS_GAP_MS = 10;

export function poolUsageOf(run: Pick<RunRecord, "meta">): RunPoolUsage | null {
  return (run.meta?.pools as RunPoolUsage | null | undefined) ?? null;
}

export class QueueDaemon {
  private timer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private running = false;
  private lastPassAt = 0;
  private lastPassMs = 0;
  private stopped = true;
  private lastLoggedBlock = new Map<string, string>();

  constructor(private readonly host: QueueDaemonHost) {}

  get isRunning(): boolean {
    return !this.stopped;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedulePeriodic();
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.wakeTimer);
    this.timer = undefined;
    this.wakeTimer = undefined;
  }

  /** Something changed: run a pass as soon as possible (merged with other wakeups). */
  wake(): void {
    if (this.stopped || this.wakeTimer) return;
    // Back-to-back wakeups (a burst of launches) get merged; a pass that took long (a huge queue)
    // spaces the next one out so that the owner keeps time for everything else.
    const gap = Math.max(MIN_PASS_GAP_MS, 2 * this.lastPassMs);
    const wait = Math.max(0, this.lastPassAt + gap - Date.now());
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.safePass();
    }, wait);
  }

  private schedulePeriodic(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const seconds = this.host.config().run_queue.dequeue_interval_seconds;
    this.timer = setTimeout(() => {
      this.safePass();
      this.schedulePeriodic();
    }, Math.max(50, seconds * 1000));
  }

  private safePass(): void {
    if (this.stopped || this.running) return;
    try {
      this.pass();
    } catch (e) {
      this.host.log?.(`sluice queue: a dequeue pass failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
  }

  /** One dequeue iteration. Synchronous: nothing else touches the store meanwhile. */
  pass(): QueuePassResult {
    this.running = true;
    const t0 = performance.now();
    try {
      return this.passInner();
    } finally {
      this.running = false;
      this.lastPassAt = Date.now();
      this.lastPassMs = performance.now() - t0;
    }
  }

  private passInner(): QueuePassResult {
    const { store, pools } = this.host;
    const t0 = performance.now();
    const cfg = this.host.config();
    const queuedRuns = readQueuedRuns(store);
    const inProgressRuns = store.getRunRecords({ statuses: [...IN_PROGRESS_STATUSES] });
    const empty: QueueDecision = { launch: [], waiting: new Map(), inProgress: inProgressRuns.length };
    if (queuedRuns.length === 0) {
      return { queued: 0, inProgress: inProgressRuns.length, launched: [], decision: empty, timings: { read: performance.now() - t0, decide: 0, write: 0, launch: 0 } };
    }
    const input = buildQueueInput(store, pools, cfg, queuedRuns, inProgressRuns);
    const t1 = performance.now();
    const decision = coordinateQueue(input);
    const t2 = performance.now();
    this.recordReasons(queuedRuns, decision);
    const t3 = performance.now();
    const launched: string[] = [];
    for (const runId of decision.launch) {
      // Re-fetch before acting (a cancel may have raced us).
      const run = store.getRun(runId);
      if (!run || run.status !== "QUEUED") {
        this.host.log?.(`sluice queue: run ${runId} is now ${run?.status ?? "gone"} instead of QUEUED, skipping`);
        continue;
      }
      this.host.launchQueuedRun(run);
      launched.push(runId);
    }
    const t4 = performance.now();
    return {
      queued: queuedRuns.length,
      inProgress: inProgressRuns.length,
      launched,
      decision,
      timings: { read: t1 - t0, decide: t2 - t1, write: t3 - t2, launch: t4 - t3 },
    };
  }

  /** Stores each waiting run's reason (words and data) when it changed, in one journal record. */
  private recordReasons(queued: QueuedRunRow[], decision: QueueDecision): void {
    const changes: [string, QueueWait][] = [];
    for (const run of queued) {
      const wait = decision.waiting.get(run.runId);
      if (!wait) continue;
      // The words carry every fact of the block, so comparing them is enough.
      if (run.meta?.queueReason === wait.reason) continue;
      changes.push([run.runId, wait]);
    }
    // Like Dagster, say once per run that pools hold it back (#16441: runs that look stuck).
    const next = new Map<string, string>();
    for (const [runId, wait] of decision.waiting) {
      if (wait.block.kind !== "pool") continue;
      next.set(runId, wait.reason);
      if (this.lastLoggedBlock.get(runId) !== wait.reason) this.host.log?.(`sluice queue: run ${runId} is blocked by concurrency pools: ${wait.reason}`);
    }
    this.lastLoggedBlock = next;
    if (changes.length === 0) return;
    const at = Date.now();
    this.host.store.write("queue.reasons", (db) => {
      for (const [runId, wait] of changes) {
        db.run("UPDATE runs SET meta = json_set(meta, '$.queueReason', ?, '$.queueBlock', json(?)), update_time = MAX(update_time, ?) WHERE run_id = ?", [
          wait.reason,
          JSON.stringify(wait.block),
          at,
          runId,
        ]);
      }
    });
  }
}

/** What the queue reads of a QUEUED run: less than a RunRecord (no run config), so 10,000 of them read fast. */
export interface QueuedRunRow {
  runId: string;
  storageId: number;
  tags: Record<string, string>;
  /** Only the meta the queue uses: `pools` and the current `queueReason`. */
  meta: { pools?: RunPoolUsage | null; queueReason?: string };
}

export function readQueuedRuns(store: Store): QueuedRunRow[] {
  const rows = store.all<{ run_id: string; storage_id: number; tags: string; pools: string | null; reason: string | null }>(
    "SELECT run_id, storage_id, tags, json_extract(meta, '$.pools') AS pools, json_extract(meta, '$.queueReason') AS reason FROM runs WHERE status = 'QUEUED' ORDER BY storage_id ASC",
  );
  return rows.map((r) => ({
    runId: r.run_id,
    storageId: r.storage_id,
    tags: JSON.parse(r.tags) as Record<string, string>,
    meta: { pools: r.pools === null ? null : (JSON.parse(r.pools) as RunPoolUsage), queueReason: r.reason ?? undefined },
  }));
}

/** Reads what the coordinator needs from the store (exported for the benchmark). */
export function buildQueueInput(
  store: Store,
  pools: PoolStore,
  cfg: ResolvedInstanceConfig,
  queuedRuns: QueuedRunRow[],
  inProgressRuns: RunRecord[],
): Parameters<typeof coordinateQueue>[0] {
  const granularity = cfg.concurrency.pools.granularity;
  const queued: QueuedRunInput[] = queuedRuns.map((r) => ({ runId: r.runId, storageId: r.storageId, tags: r.tags, pools: poolUsageOf(r) }));
  const inProgress: InProgressRunInput[] = inProgressRuns.map((r) => ({ runId: r.runId, status: r.status, tags: r.tags, pools: poolUsageOf(r) }));

  const poolNames = new Set<string>();
  for (const r of queued) {
    if (!r.pools) continue;
    for (const p of granularity === "run" ? r.pools.all : Object.keys(r.pools.roots)) poolNames.add(p);
  }
  const poolStates = new Map<string, PoolState>();
  if (poolNames.size > 0) {
    for (const [p, s] of pools.summaries(poolNames, cfg.concurrency.pools.default_limit)) poolStates.set(p, s);
    if (granularity === "op") markUnseenRoots(store, inProgress);
  }
  return {
    queued,
    inProgress,
    config: {
      maxConcurrentRuns: cfg.concurrency.runs.max_concurrent_runs,
      tagConcurrencyLimits: cfg.concurrency.runs.tag_concurrency_limits,
      pools: {
        granularity,
        runBuffer: cfg.concurrency.pools.op_granularity_run_buffer,
        blockOpLimitedRuns: cfg.run_queue.block_op_concurrency_limited_runs.enabled,
      },
    },
    pools: poolStates,
  };
}

/**
 * Op granularity: a root step of an in-progress run counts against its pool until it shows up in
 * the pool's wait queue or has started (then the pool's own counts include it, or it is done).
 */
function markUnseenRoots(store: Store, inProgress: InProgressRunInput[]): void {
  const withRoots = inProgress.filter((r) => r.pools && Object.keys(r.pools.roots).length > 0);
  if (withRoots.length === 0) return;
  const ids = JSON.stringify(withRoots.map((r) => r.runId));
  const seen = new Set<string>();
  for (const row of store.all<{ run_id: string; step_key: string }>("SELECT run_id, step_key FROM pending_steps WHERE run_id IN (SELECT value FROM json_each(?))", [ids])) {
    seen.add(`${row.run_id}\u0000${row.step_key}`);
  }
  for (const row of store.all<{ run_id: string; step_key: string }>(
    "SELECT DISTINCT run_id, step_key FROM events WHERE run_id IN (SELECT value FROM json_each(?)) AND step_key IS NOT NULL AND type IN ('STEP_START', 'STEP_RESTARTED', 'STEP_SKIPPED', 'STEP_SUCCESS', 'STEP_FAILURE', 'STEP_UP_FOR_RETRY')",
    [ids],
  )) {
    seen.add(`${row.run_id}\u0000${row.step_key}`);
  }
  for (const r of withRoots) {
    const unseen: Record<string, number> = {};
    for (const [pool, steps] of Object.entries(r.pools!.roots)) {
      const n = steps.filter((s) => !seen.has(`${r.runId}\u0000${s}`)).length;
      if (n > 0) unseen[pool] = n;
    }
    r.unseenRoots = unseen;
  }
}
