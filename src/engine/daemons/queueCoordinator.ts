// The run queue's decision (reference §4.3 and §5.5), as a pure function of stored state: which
// QUEUED runs to launch now, in order, and why every other one still waits.
//
// Differences from Dagster, on purpose:
//  - a run held back by a pool does not use up run-tag budget (Dagster #25743): tag counts only
//    include runs that are in progress or actually launched in this pass;
//  - runs cut off by max_concurrent_runs do not use tag or pool budget either, so the reason shown
//    for the runs behind them is the real one;
//  - with op granularity, an in-progress run's root steps count against a pool until they are
//    visible in the pool's wait queue or have started (instead of Dagster's fixed 5 s window).
import type { RunStatus } from "../events";
import { TagConcurrencyLimitsCounter, type TagConcurrencyLimit } from "../execution/tagLimits";
import { runPriority, type RunPoolUsage } from "../pools/runPools";

export interface QueuedRunInput {
  runId: string;
  /** Creation order: the FIFO key (not enqueue time). */
  storageId: number;
  tags: Record<string, string>;
  pools: RunPoolUsage | null;
}

export interface InProgressRunInput {
  runId: string;
  status: RunStatus;
  tags: Record<string, string>;
  pools: RunPoolUsage | null;
  /** Op granularity: per pool, root steps that have neither asked for a slot nor started yet. */
  unseenRoots?: Record<string, number>;
}

export interface PoolState {
  /** null = unlimited. */
  limit: number | null;
  /** Pending rows (waiting or holding a slot). */
  pendingCount: number;
  /** Pending rows holding a slot. */
  claimedCount: number;
}

export interface QueueConfig {
  /** -1 = unlimited, 0 = launch nothing. */
  maxConcurrentRuns: number;
  tagConcurrencyLimits: readonly TagConcurrencyLimit[];
  pools: {
    granularity: "op" | "run";
    /** op granularity: runs that may be launched although all their root steps would wait. */
    runBuffer: number;
    /** op granularity: keep runs queued while every root step would wait (block_op_concurrency_limited_runs.enabled). */
    blockOpLimitedRuns: boolean;
  };
}

export type QueueBlock =
  | { kind: "max_concurrent_runs"; limit: number }
  | { kind: "tag"; key: string; value?: string; count: number; limit: number }
  | {
      kind: "pool";
      pool: string;
      granularity: "op" | "run";
      limit: number;
      /** run: in-progress + launched runs using the pool; op: slots held. */
      inUse: number;
      /** op: steps waiting or about to ask for a slot (pending, launched roots, unseen roots). */
      waiting?: number;
    };

export interface QueueWait {
  reason: string;
  block: QueueBlock;
}

export interface QueueDecision {
  /** Runs to launch now, in launch order (priority, then creation). */
  launch: string[];
  /** Every other queued run: why it still waits. */
  waiting: Map<string, QueueWait>;
  inProgress: number;
}

export interface QueueInput {
  queued: readonly QueuedRunInput[];
  inProgress: readonly InProgressRunInput[];
  config: QueueConfig;
  pools: ReadonlyMap<string, PoolState>;
}

export function describeBlock(block: QueueBlock): string {
  switch (block.kind) {
    case "max_concurrent_runs":
      return block.limit === 0 ? "max_concurrent_runs is 0 (the queue launches nothing)" : `max_concurrent_runs ${block.limit} reached`;
    case "tag":
      return `tag ${block.key}${block.value !== undefined ? `=${block.value}` : ""} ${block.count}/${block.limit}`;
    case "pool":
      return block.granularity === "run"
        ? `pool ${block.pool} ${block.inUse}/${block.limit} (run granularity)`
        : `pool ${block.pool} ${block.inUse}/${block.limit}${block.waiting ? `, ${block.waiting} step${block.waiting === 1 ? "" : "s"} waiting` : ""} (op granularity)`;
  }
}

export function coordinateQueue(input: QueueInput): QueueDecision {
  const { config } = input;
  const granularity = config.pools.granularity;
  const max = config.maxConcurrentRuns;
  const inProgress = input.inProgress.length;
  let headroom = max < 0 ? Infinity : Math.max(0, max - inProgress);

  const tags = config.tagConcurrencyLimits.length > 0 ? new TagConcurrencyLimitsCounter(config.tagConcurrencyLimits, input.inProgress.map((r) => r.tags)) : undefined;

  // Pool accounting: what is already taken (in progress) and what this pass adds (launched).
  const poolsEnforced = granularity === "run" || config.pools.blockOpLimitedRuns;
  const inProgressUse = new Map<string, number>();
  if (poolsEnforced) {
    for (const r of input.inProgress) {
      if (!r.pools) continue;
      if (granularity === "run") for (const p of r.pools.all) inProgressUse.set(p, (inProgressUse.get(p) ?? 0) + 1);
      else for (const [p, n] of Object.entries(r.unseenRoots ?? {})) inProgressUse.set(p, (inProgressUse.get(p) ?? 0) + n);
    }
  }
  const launchedUse = new Map<string, number>();

  const poolBlock = (run: QueuedRunInput): QueueBlock | undefined => {
    const usage = run.pools;
    if (!poolsEnforced || !usage) return undefined;
    if (granularity === "run") {
      for (const pool of usage.all) {
        const state = input.pools.get(pool);
        if (!state || state.limit === null) continue;
        const used = (launchedUse.get(pool) ?? 0) + (inProgressUse.get(pool) ?? 0);
        if (state.limit - used <= 0) return { kind: "pool", pool, granularity, limit: state.limit, inUse: used };
      }
      return undefined;
    }
    // op granularity: the run may go if any root step could start.
    if (usage.unconstrainedRoot) return undefined;
    let first: QueueBlock | undefined;
    for (const pool of Object.keys(usage.roots)) {
      const state = input.pools.get(pool);
      if (!state || state.limit === null) return undefined;
      const waiting = state.pendingCount - state.claimedCount + (launchedUse.get(pool) ?? 0) + (inProgressUse.get(pool) ?? 0);
      const free = state.limit - state.claimedCount - waiting + config.pools.runBuffer;
      if (free > 0) return undefined;
      first ??= { kind: "pool", pool, granularity, limit: state.limit, inUse: state.claimedCount, waiting };
    }
    return first;
  };

  const accept = (run: QueuedRunInput) => {
    tags?.update(run.tags);
    const usage = run.pools;
    if (!poolsEnforced || !usage) return;
    if (granularity === "run") for (const p of usage.all) launchedUse.set(p, (launchedUse.get(p) ?? 0) + 1);
    else for (const [p, steps] of Object.entries(usage.roots)) launchedUse.set(p, (launchedUse.get(p) ?? 0) + steps.length);
  };

  // Priority first (higher first), then creation order; the sort is stable.
  const order = input.queued.map((run, i) => ({ run, i, priority: runPriority(run.tags) }));
  order.sort((a, b) => b.priority - a.priority || a.run.storageId - b.run.storageId || a.i - b.i);

  const launch: string[] = [];
  const waiting = new Map<string, QueueWait>();
  const wait = (run: QueuedRunInput, block: QueueBlock) => waiting.set(run.runId, { reason: describeBlock(block), block });
  const full: QueueBlock = { kind: "max_concurrent_runs", limit: max };
  for (const { run } of order) {
    // A blocked run never blocks the runs behind it (no head-of-line blocking).
    const tagBlock = tags?.blockedBy(run.tags);
    if (tagBlock) {
      wait(run, { kind: "tag", ...tagBlock });
      continue;
    }
    const block = poolBlock(run);
    if (block) {
      wait(run, block);
      continue;
    }
    if (headroom <= 0) {
      wait(run, full);
      continue;
    }
    accept(run);
    launch.push(run.runId);
    headroom--;
  }
  return { launch, waiting, inProgress };
}
