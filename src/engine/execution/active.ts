// Dagster's ActiveExecution (reference §2.2): which steps may run now, which are skipped or
// abandoned, and which wait for a retry. Shared by every executor. Work is incremental (each
// step resolves its downstream counters once), so a 10,000-step plan costs O(steps + edges).
import type { ExecutionPlan, PlanStep } from "./plan";
import { ReadyQueue } from "./plan";
import type { StepOutcome } from "./step";
import { TagConcurrencyLimitsCounter, type TagConcurrencyLimit } from "./tagLimits";

/** enabled: retries happen here; disabled: a retry request fails the step; deferred: a parent process retries. */
export type RetryMode = "enabled" | "disabled" | "deferred";

export interface ActiveExecutionOptions {
  retryMode?: RetryMode;
  /** At most this many steps in flight (multiprocess `max_concurrent`). */
  maxConcurrent?: number;
  tagConcurrencyLimits?: TagConcurrencyLimit[];
  /** Pool claim for a step about to start; false keeps it waiting (it is asked again later). */
  claim?: (step: PlanStep) => boolean;
  /** Previous attempt counts, when resuming. */
  attempts?: Record<string, number>;
  now?: () => number;
}

export class ActiveExecution {
  readonly steps: Map<string, PlanStep>;
  readonly inFlight = new Set<string>();
  readonly success = new Set<string>();
  readonly failed = new Set<string>();
  readonly skipped = new Set<string>();
  readonly abandoned = new Set<string>();
  /** Steps that ended without a success or failure event (their worker died or was interrupted). */
  readonly unknownState = new Set<string>();

  private readonly downstream = new Map<string, string[]>();
  private readonly unresolved = new Map<string, number>();
  private readonly ready = new ReadyQueue<PlanStep>();
  private readonly waitingToRetry = new Map<string, number>();
  private readonly produced = new Set<string>();
  private readonly attempts = new Map<string, number>();
  /** Ready-queue position of each step when it was taken, so a requeued step gets its place back. */
  private readonly takenSeq = new Map<string, number>();
  private pendingSkip: string[] = [];
  private pendingAbandon: string[] = [];
  private seq = 0;
  private stopped = false;
  private readonly retryMode: RetryMode;
  private readonly now: () => number;

  constructor(plan: ExecutionPlan, private readonly options: ActiveExecutionOptions = {}) {
    this.retryMode = options.retryMode ?? "enabled";
    this.now = options.now ?? Date.now;
    this.steps = new Map(plan.steps.map((s) => [s.key, s]));
    for (const [k, n] of Object.entries(options.attempts ?? {})) this.attempts.set(k, n);
    for (const s of plan.steps) {
      this.unresolved.set(s.key, s.upstream.length);
      for (const u of s.upstream) {
        const list = this.downstream.get(u);
        if (list) list.push(s.key);
        else this.downstream.set(u, [s.key]);
      }
    }
    for (const s of plan.steps) if (s.upstream.length === 0) this.ready.push(s, s.priority, this.seq++);
  }

  attemptsOf(stepKey: string): number {
    return this.attempts.get(stepKey) ?? 0;
  }

  /**
   * Up to `limit` steps to start now, highest priority first. Steps blocked by a tag limit or a
   * pool stay ready without blocking the ones behind them. `blocked` receives why each waits.
   */
  getStepsToExecute(limit: number, blocked?: (step: PlanStep, reason: string) => void): PlanStep[] {
    if (this.stopped) return [];
    this.wakeRetries();
    const max = this.options.maxConcurrent;
    const room = max && max > 0 ? Math.min(limit, max - this.inFlight.size) : limit;
    if (room <= 0 || this.ready.size === 0) return [];
    const limits = this.options.tagConcurrencyLimits;
    const counter = limits && limits.length > 0
      ? new TagConcurrencyLimitsCounter(limits, [...this.inFlight].map((k) => this.steps.get(k)!.tags))
      : undefined;
    const batch: PlanStep[] = [];
    const putBack: { step: PlanStep; seq: number }[] = [];
    while (batch.length < room && this.ready.size > 0) {
      const seq = this.ready.peekSeq();
      const step = this.ready.pop()!;
      const tagBlock = counter?.blockedBy(step.tags);
      if (tagBlock) {
        blocked?.(step, `tag ${tagBlock.key}${tagBlock.value !== undefined ? `=${tagBlock.value}` : ""} ${tagBlock.count}/${tagBlock.limit}`);
        putBack.push({ step, seq });
        continue;
      }
      // Counted before the pool check, as Dagster does: a step that then waits for a slot
      // still uses tag budget for this pass.
      counter?.update(step.tags);
      if (step.pool && this.options.claim && !this.options.claim(step)) {
        blocked?.(step, `pool ${step.pool}`);
        putBack.push({ step, seq });
        continue;
      }
      batch.push(step);
      this.takenSeq.set(step.key, seq);
    }
    for (const p of putBack) this.ready.push(p.step, p.step.priority, p.seq);
    for (const s of batch) this.inFlight.add(s.key);
    return batch;
  }

  /** The step getStepsToExecute would consider first (highest priority, oldest), without taking it. */
  peekReady(): PlanStep | undefined {
    return this.stopped ? undefined : this.ready.peek();
  }

  /** A step taken by getStepsToExecute that never started (its worker died first) is ready again, in its old place. */
  requeue(stepKey: string): void {
    if (!this.inFlight.delete(stepKey)) return;
    const step = this.steps.get(stepKey)!;
    this.ready.push(step, step.priority, this.takenSeq.get(stepKey) ?? this.seq++);
  }

  /** Steps to record as skipped now (their inputs' upstream outputs were never produced). Marks them. */
  takeSkips(): PlanStep[] {
    if (this.pendingSkip.length === 0) return [];
    const out: PlanStep[] = [];
    while (this.pendingSkip.length > 0) {
      const keys = this.pendingSkip;
      this.pendingSkip = [];
      for (const k of keys) {
        this.skipped.add(k);
        out.push(this.steps.get(k)!);
        this.resolve(k);
      }
    }
    return out;
  }

  /** Steps that will not run because an upstream step failed or was abandoned. Marks them. */
  takeAbandons(): PlanStep[] {
    if (this.pendingAbandon.length === 0) return [];
    const out: PlanStep[] = [];
    while (this.pendingAbandon.length > 0) {
      const keys = this.pendingAbandon;
      this.pendingAbandon = [];
      for (const k of keys) {
        this.abandoned.add(k);
        out.push(this.steps.get(k)!);
        this.resolve(k);
      }
    }
    return out;
  }

  markOutput(stepKey: string, output: string): void {
    this.produced.add(`${stepKey}\u0000${output}`);
  }

  markSuccess(stepKey: string): void {
    this.inFlight.delete(stepKey);
    this.success.add(stepKey);
    this.resolve(stepKey);
  }

  markFailed(stepKey: string): void {
    this.inFlight.delete(stepKey);
    this.failed.add(stepKey);
    this.resolve(stepKey);
  }

  /** A retry was requested: wait `seconds` (0 = at once), or hand the step back in deferred mode. */
  markUpForRetry(stepKey: string, seconds: number): void {
    this.inFlight.delete(stepKey);
    this.attempts.set(stepKey, this.attemptsOf(stepKey) + 1);
    if (this.retryMode === "deferred") {
      this.abandoned.add(stepKey);
      this.resolve(stepKey);
    } else if (seconds > 0) {
      this.waitingToRetry.set(stepKey, this.now() + seconds * 1000);
    } else {
      const step = this.steps.get(stepKey)!;
      this.ready.push(step, step.priority, this.seq++);
    }
  }

  /** Records how an attempt of a step ended: success (with the outputs it produced), failure, or a retry request. */
  settle(stepKey: string, outcome: StepOutcome): void {
    if (outcome.kind === "success") {
      for (const o of outcome.outputs) this.markOutput(stepKey, o);
      this.markSuccess(stepKey);
    } else if (outcome.kind === "failure") this.markFailed(stepKey);
    else this.markUpForRetry(stepKey, outcome.seconds);
  }

  /** A step's worker ended without a success or failure event. */
  markUnknown(stepKey: string): void {
    this.inFlight.delete(stepKey);
    this.unknownState.add(stepKey);
    this.abandoned.add(stepKey);
    this.resolve(stepKey);
  }

  /** Stop handing out steps (interrupt); steps in flight still report back. */
  stop(): void {
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  get isComplete(): boolean {
    return (
      this.ready.size === 0 &&
      this.inFlight.size === 0 &&
      this.waitingToRetry.size === 0 &&
      this.pendingSkip.length === 0 &&
      this.pendingAbandon.length === 0
    );
  }

  /** Steps that never reached a terminal state (for the "finished without completing" report). */
  unfinished(): string[] {
    return [...this.steps.keys()].filter((k) => !this.success.has(k) && !this.failed.has(k) && !this.skipped.has(k) && !this.abandoned.has(k));
  }

  /** Milliseconds until something may become ready without an event (a retry wakes up). */
  sleepInterval(): number {
    if (this.waitingToRetry.size === 0) return 0;
    const now = this.now();
    return Math.max(0, Math.min(...this.waitingToRetry.values()) - now);
  }

  get hasWaitingRetries(): boolean {
    return this.waitingToRetry.size > 0;
  }

  get readyCount(): number {
    return this.ready.size;
  }

  private wakeRetries(): void {
    if (this.waitingToRetry.size === 0) return;
    const now = this.now();
    for (const [k, at] of this.waitingToRetry) {
      if (at <= now) {
        this.waitingToRetry.delete(k);
        const step = this.steps.get(k)!;
        this.ready.push(step, step.priority, this.seq++);
      }
    }
  }

  private resolve(stepKey: string): void {
    for (const d of this.downstream.get(stepKey) ?? []) {
      const left = this.unresolved.get(d)! - 1;
      this.unresolved.set(d, left);
      if (left === 0) this.decide(this.steps.get(d)!);
    }
  }

  /** All upstream steps are resolved: skip, abandon or make ready (newest Dagster order: skip first). */
  private decide(step: PlanStep): void {
    const skip = step.inputs.some((input) => {
      const inRun = input.sources.filter((s) => s.kind === "step") as { step: string; output: string }[];
      return (
        inRun.length > 0 &&
        inRun.every((s) => !this.produced.has(`${s.step}\u0000${s.output}`) && (this.success.has(s.step) || this.skipped.has(s.step)))
      );
    });
    if (skip) this.pendingSkip.push(step.key);
    else if (step.upstream.some((u) => this.failed.has(u) || this.abandoned.has(u))) this.pendingAbandon.push(step.key);
    else this.ready.push(step, step.priority, this.seq++);
  }
}
