// Concurrency pools (reference §5.3): limits, slots and the wait queue of steps, in the store.
//
// The model is Dagster's: a pool with limit N has exactly N non-deleted slot rows; a step asks for
// a slot by inserting a pending row; a pending row is "assigned" when it holds a slot. Sluice is
// the only writer, so assigning and claiming happen in one step: a pending row is either waiting
// (assigned_time NULL) or holds exactly one slot row. Invariants kept by every operation:
//   - claimed slot rows = assigned pending rows (a slot is never held without its pending row);
//   - a new assignment only happens while a non-deleted slot is free, so lowering a limit never
//     pre-empts running steps and the pool drains down to the new limit;
//   - whatever frees capacity hands it to the next waiter (priority desc, then arrival) at once.
// Every change goes through `store.write`, so it is journaled like the rest of the database.
import type { Store } from "../storage/store";
import type { SqlReader, SqlWriter } from "../storage/sql";
import { MAX_POOL_LIMIT } from "../config/instanceSchema";

export class PoolLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PoolLimitError";
  }
}

/** A step that was handed a slot by someone else's release (its run worker must be told). */
export interface SlotGrant {
  pool: string;
  runId: string;
  stepKey: string;
}

export type ClaimStatus = "CLAIMED" | "BLOCKED" | "UNLIMITED";

export interface ClaimResult {
  status: ClaimStatus;
  /** The slot came from another step of the same run that no longer runs (Dagster #31243). */
  transferredFrom?: string;
  /** Other steps that got a slot as a side effect (e.g. a transfer freed the previous holder's pending row). */
  grants: SlotGrant[];
}

export interface PendingStepInfo {
  runId: string;
  stepKey: string;
  priority: number;
  createTime: number;
  assigned: boolean;
}

export interface PoolInfo {
  pool: string;
  /** null: the pool has no limit (unlimited). */
  limit: number | null;
  usingDefault: boolean;
  /** Non-deleted slot rows (= limit). */
  slotCount: number;
  claimed: { runId: string; stepKey: string; slotId: number; deleted: boolean }[];
  /** Waiting and assigned steps, in the order slots are handed out (assigned first). */
  pending: PendingStepInfo[];
}

/** What the queue needs per pool (one query for all pools). */
export interface PoolSummary {
  limit: number | null;
  /** All pending rows, assigned or not (Dagster counts both against free capacity). */
  pendingCount: number;
  claimedCount: number;
}

interface LimitRow {
  pool: string;
  slot_limit: number;
  using_default: number;
}

export function validateLimit(limit: number): void {
  if (!Number.isInteger(limit)) throw new PoolLimitError(`A concurrency limit must be a whole number, got ${limit}.`);
  if (limit > MAX_POOL_LIMIT) throw new PoolLimitError(`Cannot have more than ${MAX_POOL_LIMIT} slots per concurrency key.`);
  if (limit < 0) throw new PoolLimitError("Cannot have a negative number of slots.");
}

export class PoolStore {
  constructor(private readonly store: Store) {}

  // -------------------------------------------------------------------------------------------
  // limits

  /** Sets a pool's explicit limit; returns the steps that got a slot because of it. */
  setLimit(pool: string, limit: number, now = Date.now()): SlotGrant[] {
    validateLimit(limit);
    return this.store.write("pools.setLimit", (db) => {
      db.run(
        `INSERT INTO concurrency_limits (pool, slot_limit, using_default, update_time) VALUES (?, ?, 0, ?)
         ON CONFLICT(pool) DO UPDATE SET slot_limit = excluded.slot_limit, using_default = 0, update_time = excluded.update_time`,
        [pool, limit, now],
      );
      resizeSlots(db, pool, limit);
      return assignWaiting(db, pool, now);
    });
  }

  /** Removes a pool's limit: it becomes unlimited and every waiting step may go. */
  deleteLimit(pool: string, now = Date.now()): SlotGrant[] {
    return this.store.write("pools.deleteLimit", (db) => {
      db.run("DELETE FROM concurrency_limits WHERE pool = ?", [pool]);
      return releaseWaitersOfUnlimited(db, pool, now);
    });
  }

  /**
   * Brings pools that follow `concurrency.pools.default_limit` in line with it (the config may
   * have changed): updates them, or removes them when there is no default any more.
   */
  syncDefaultLimits(defaultLimit: number | null, now = Date.now()): SlotGrant[] {
    const rows = this.store.all<LimitRow>("SELECT pool, slot_limit, using_default FROM concurrency_limits WHERE using_default = 1");
    const stale = rows.filter((r) => r.slot_limit !== defaultLimit);
    if (stale.length === 0) return [];
    return this.store.write("pools.syncDefaults", (db) => {
      const grants: SlotGrant[] = [];
      for (const r of stale) {
        if (defaultLimit === null) {
          db.run("DELETE FROM concurrency_limits WHERE pool = ?", [r.pool]);
          grants.push(...releaseWaitersOfUnlimited(db, r.pool, now));
        } else {
          db.run("UPDATE concurrency_limits SET slot_limit = ?, update_time = ? WHERE pool = ?", [defaultLimit, now, r.pool]);
          resizeSlots(db, r.pool, defaultLimit);
          grants.push(...assignWaiting(db, r.pool, now));
        }
      }
      return grants;
    });
  }

  /** The effective limit of a pool: its own, else the default, else null (unlimited). */
  effectiveLimit(pool: string, defaultLimit: number | null): number | null {
    const row = this.store.get<LimitRow>("SELECT pool, slot_limit, using_default FROM concurrency_limits WHERE pool = ?", [pool]);
    return row ? row.slot_limit : defaultLimit;
  }

  // -------------------------------------------------------------------------------------------
  // claims

  /**
   * A step about to run asks for a slot (idempotent for the same run and step). `holding` lists
   * the run's steps that hold a slot and may still be running: a slot the run holds for any other
   * step is stale (that step is done) and is handed to this one instead of making the run wait on
   * itself (Dagster #31243).
   */
  claim(
    pool: string,
    runId: string,
    stepKey: string,
    priority: number,
    options: { defaultLimit: number | null; holding?: readonly string[]; now?: number },
  ): ClaimResult {
    const now = options.now ?? Date.now();
    const limitRow = this.store.get<LimitRow>("SELECT pool, slot_limit, using_default FROM concurrency_limits WHERE pool = ?", [pool]);
    if (!limitRow && options.defaultLimit === null) {
      // Unlimited pool: nothing to account. Forget a claim left from when it had a limit.
      if (this.store.get("SELECT 1 AS x FROM pending_steps WHERE run_id = ? AND step_key = ? AND pool = ?", [runId, stepKey, pool])) {
        const grants = this.freeStep(runId, stepKey, now);
        return { status: "UNLIMITED", grants };
      }
      return { status: "UNLIMITED", grants: [] };
    }
    return this.store.write("pools.claim", (db) => {
      const grants: SlotGrant[] = [];
      if (!limitRow) {
        // Materialize the default limit for this pool (Dagster does it lazily, at first claim).
        db.run("INSERT INTO concurrency_limits (pool, slot_limit, using_default, update_time) VALUES (?, ?, 1, ?)", [pool, options.defaultLimit, now]);
        resizeSlots(db, pool, options.defaultLimit!);
      }
      const existing = db.get<{ id: number; assigned_time: number | null }>(
        "SELECT id, assigned_time FROM pending_steps WHERE run_id = ? AND step_key = ? AND pool = ?",
        [runId, stepKey, pool],
      );
      if (existing?.assigned_time != null) return { status: "CLAIMED" as const, grants };
      if (!existing) {
        db.run("INSERT INTO pending_steps (pool, run_id, step_key, priority, create_time, assigned_time) VALUES (?, ?, ?, ?, ?, NULL)", [
          pool, runId, stepKey, priority, now,
        ]);
        // Capacity may be free (nobody waits then, or they would have been assigned already).
        for (const g of assignWaiting(db, pool, now)) {
          if (g.runId === runId && g.stepKey === stepKey) continue;
          grants.push(g);
        }
        const mine = db.get<{ assigned_time: number | null }>("SELECT assigned_time FROM pending_steps WHERE run_id = ? AND step_key = ? AND pool = ?", [runId, stepKey, pool]);
        if (mine?.assigned_time != null) return { status: "CLAIMED" as const, grants };
      }
      // Blocked. Does this run itself hold a slot of the pool for a step that no longer runs?
      const holding = new Set(options.holding ?? []);
      const own = db.all<{ id: number; step_key: string }>(
        "SELECT id, step_key FROM concurrency_slots WHERE pool = ? AND run_id = ? AND step_key != ? ORDER BY deleted ASC, id ASC",
        [pool, runId, stepKey],
      );
      const stale = own.find((s) => !holding.has(s.step_key));
      if (stale) {
        db.run("UPDATE concurrency_slots SET step_key = ? WHERE id = ?", [stepKey, stale.id]);
        db.run("DELETE FROM pending_steps WHERE run_id = ? AND step_key = ? AND pool = ?", [runId, stale.step_key, pool]);
        db.run("UPDATE pending_steps SET assigned_time = ? WHERE run_id = ? AND step_key = ? AND pool = ?", [now, runId, stepKey, pool]);
        return { status: "CLAIMED" as const, transferredFrom: stale.step_key, grants };
      }
      return { status: "BLOCKED" as const, grants };
    });
  }

  /** Frees what one step holds or waits for (every pool); returns the steps that got its slots. */
  freeStep(runId: string, stepKey: string, now = Date.now()): SlotGrant[] {
    if (!this.store.get("SELECT 1 AS x FROM pending_steps WHERE run_id = ? AND step_key = ? LIMIT 1", [runId, stepKey])
      && !this.store.get("SELECT 1 AS x FROM concurrency_slots WHERE run_id = ? AND step_key = ? LIMIT 1", [runId, stepKey])) return [];
    return this.store.write("pools.freeStep", (db) => freeWhere(db, "run_id = ? AND step_key = ?", [runId, stepKey], now));
  }

  /** Frees everything a run holds or waits for; returns the steps that got its slots. */
  freeRun(runId: string, now = Date.now()): SlotGrant[] {
    if (!this.holdsAnything(runId)) return [];
    return this.store.write("pools.freeRun", (db) => freeWhere(db, "run_id = ?", [runId], now));
  }

  holdsAnything(runId: string): boolean {
    return !!(this.store.get("SELECT 1 AS x FROM pending_steps WHERE run_id = ? LIMIT 1", [runId])
      || this.store.get("SELECT 1 AS x FROM concurrency_slots WHERE run_id = ? LIMIT 1", [runId]));
  }

  /** Runs that hold or wait for slots (Dagster's get_concurrency_run_ids). */
  runIds(): string[] {
    const rows = this.store.all<{ run_id: string }>(
      "SELECT run_id FROM pending_steps UNION SELECT run_id FROM concurrency_slots WHERE run_id IS NOT NULL",
    );
    return rows.map((r) => r.run_id);
  }

  // -------------------------------------------------------------------------------------------
  // reading

  pools(): string[] {
    return this.store
      .all<{ pool: string }>("SELECT pool FROM concurrency_limits UNION SELECT pool FROM pending_steps UNION SELECT pool FROM concurrency_slots ORDER BY pool")
      .map((r) => r.pool);
  }

  info(pool: string, defaultLimit: number | null = null): PoolInfo {
    return poolInfo(this.store, pool, defaultLimit);
  }

  /** Limits and counts of many pools in three queries (for the queue). */
  summaries(pools: Iterable<string>, defaultLimit: number | null): Map<string, PoolSummary> {
    const wanted = [...new Set(pools)];
    const out = new Map<string, PoolSummary>();
    if (wanted.length === 0) return out;
    const json = JSON.stringify(wanted);
    const limits = new Map(
      this.store
        .all<LimitRow>("SELECT pool, slot_limit, using_default FROM concurrency_limits WHERE pool IN (SELECT value FROM json_each(?))", [json])
        .map((r) => [r.pool, r.slot_limit]),
    );
    const pending = new Map(
      this.store
        .all<{ pool: string; n: number; c: number }>(
          "SELECT pool, COUNT(*) AS n, COUNT(assigned_time) AS c FROM pending_steps WHERE pool IN (SELECT value FROM json_each(?)) GROUP BY pool",
          [json],
        )
        .map((r) => [r.pool, r]),
    );
    for (const pool of wanted) {
      const p = pending.get(pool);
      out.set(pool, { limit: limits.get(pool) ?? defaultLimit, pendingCount: p?.n ?? 0, claimedCount: p?.c ?? 0 });
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// statements (inside store.write)

/** Makes the pool have exactly `limit` non-deleted slot rows. Never takes a slot from a step. */
function resizeSlots(db: SqlWriter, pool: string, limit: number): void {
  const live = db.get<{ n: number }>("SELECT COUNT(*) AS n FROM concurrency_slots WHERE pool = ? AND deleted = 0", [pool])!.n;
  if (limit > live) {
    let need = limit - live;
    // Revive surplus rows still held (a limit lowered then raised again) before adding new ones,
    // so the number of holders never exceeds the limit.
    const revivable = db.all<{ id: number }>("SELECT id FROM concurrency_slots WHERE pool = ? AND deleted = 1 ORDER BY id ASC LIMIT ?", [pool, need]);
    for (const r of revivable) db.run("UPDATE concurrency_slots SET deleted = 0 WHERE id = ?", [r.id]);
    need -= revivable.length;
    for (let i = 0; i < need; i++) db.run("INSERT INTO concurrency_slots (pool, run_id, step_key, deleted) VALUES (?, NULL, NULL, 0)", [pool]);
  } else if (limit < live) {
    // Free rows go first, highest ids first; held rows are only marked and vanish when freed.
    const surplus = db.all<{ id: number; run_id: string | null }>(
      "SELECT id, run_id FROM concurrency_slots WHERE pool = ? AND deleted = 0 ORDER BY (run_id IS NOT NULL) ASC, id DESC LIMIT ?",
      [pool, live - limit],
    );
    for (const r of surplus) {
      if (r.run_id === null) db.run("DELETE FROM concurrency_slots WHERE id = ?", [r.id]);
      else db.run("UPDATE concurrency_slots SET deleted = 1 WHERE id = ?", [r.id]);
    }
  }
}

/** Hands free slots to waiting steps, highest priority first, then first come. */
function assignWaiting(db: SqlWriter, pool: string, now: number): SlotGrant[] {
  const grants: SlotGrant[] = [];
  const free = db.all<{ id: number }>("SELECT id FROM concurrency_slots WHERE pool = ? AND deleted = 0 AND run_id IS NULL ORDER BY id ASC", [pool]);
  if (free.length === 0) return grants;
  const waiting = db.all<{ id: number; run_id: string; step_key: string }>(
    "SELECT id, run_id, step_key FROM pending_steps WHERE pool = ? AND assigned_time IS NULL ORDER BY priority DESC, create_time ASC, id ASC LIMIT ?",
    [pool, free.length],
  );
  waiting.forEach((w, i) => {
    db.run("UPDATE concurrency_slots SET run_id = ?, step_key = ? WHERE id = ?", [w.run_id, w.step_key, free[i].id]);
    db.run("UPDATE pending_steps SET assigned_time = ? WHERE id = ?", [now, w.id]);
    grants.push({ pool, runId: w.run_id, stepKey: w.step_key });
  });
  return grants;
}

/** A pool lost its limit: nothing is held any more and every waiting step may go. */
function releaseWaitersOfUnlimited(db: SqlWriter, pool: string, _now: number): SlotGrant[] {
  const rows = db.all<{ run_id: string; step_key: string; assigned_time: number | null }>(
    "SELECT run_id, step_key, assigned_time FROM pending_steps WHERE pool = ?",
    [pool],
  );
  db.run("DELETE FROM concurrency_slots WHERE pool = ?", [pool]);
  db.run("DELETE FROM pending_steps WHERE pool = ?", [pool]);
  return rows.filter((r) => r.assigned_time === null).map((r) => ({ pool, runId: r.run_id, stepKey: r.step_key }));
}

function freeWhere(db: SqlWriter, where: string, params: string[], now: number): SlotGrant[] {
  const pools = new Set<string>();
  // Surplus rows (above a lowered limit) that the freed steps held simply go away first.
  for (const p of db.all<{ pool: string }>(`SELECT DISTINCT pool FROM concurrency_slots WHERE deleted = 1 AND ${where}`, params)) pools.add(p.pool);
  db.run(`DELETE FROM concurrency_slots WHERE deleted = 1 AND ${where}`, params);
  for (const s of db.all<{ id: number; pool: string }>(`SELECT id, pool FROM concurrency_slots WHERE ${where}`, params)) {
    pools.add(s.pool);
    // While a lowered pool still has surplus holders, a freed slot is not free: it takes the place
    // of a surplus row (which becomes a regular slot), so holders never exceed the new limit.
    const surplus = db.get<{ id: number }>("SELECT id FROM concurrency_slots WHERE pool = ? AND deleted = 1 ORDER BY id ASC LIMIT 1", [s.pool]);
    if (surplus) {
      db.run("DELETE FROM concurrency_slots WHERE id = ?", [s.id]);
      db.run("UPDATE concurrency_slots SET deleted = 0 WHERE id = ?", [surplus.id]);
    } else db.run("UPDATE concurrency_slots SET run_id = NULL, step_key = NULL WHERE id = ?", [s.id]);
  }
  for (const p of db.all<{ pool: string }>(`SELECT DISTINCT pool FROM pending_steps WHERE ${where}`, params)) pools.add(p.pool);
  db.run(`DELETE FROM pending_steps WHERE ${where}`, params);
  const grants: SlotGrant[] = [];
  for (const pool of pools) grants.push(...assignWaiting(db, pool, now));
  return grants;
}

function poolInfo(db: SqlReader, pool: string, defaultLimit: number | null): PoolInfo {
  const limitRow = db.get<LimitRow>("SELECT pool, slot_limit, using_default FROM concurrency_limits WHERE pool = ?", [pool]);
  const slots = db.all<{ id: number; run_id: string | null; step_key: string | null; deleted: number }>(
    "SELECT id, run_id, step_key, deleted FROM concurrency_slots WHERE pool = ? ORDER BY id ASC",
    [pool],
  );
  const pending = db.all<{ run_id: string; step_key: string; priority: number; create_time: number; assigned_time: number | null }>(
    "SELECT run_id, step_key, priority, create_time, assigned_time FROM pending_steps WHERE pool = ? ORDER BY (assigned_time IS NULL) ASC, priority DESC, create_time ASC, id ASC",
    [pool],
  );
  return {
    pool,
    limit: limitRow ? limitRow.slot_limit : defaultLimit,
    usingDefault: limitRow ? limitRow.using_default === 1 : defaultLimit !== null,
    slotCount: limitRow ? slots.filter((s) => !s.deleted).length : defaultLimit ?? 0,
    claimed: slots.filter((s) => s.run_id !== null).map((s) => ({ runId: s.run_id!, stepKey: s.step_key!, slotId: s.id, deleted: s.deleted === 1 })),
    pending: pending.map((p) => ({ runId: p.run_id, stepKey: p.step_key, priority: p.priority, createTime: p.create_time, assigned: p.assigned_time !== null })),
  };
}
