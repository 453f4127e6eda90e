// The run worker's side of pool slots (op granularity, reference §5.4). The executor asks
// synchronously (ActiveExecution's `claim` hook) whether a step may start; the owner holds the
// slot tables, so the first ask sends a claim over IPC and answers "not yet"; the owner's answer
// (or a later grant) makes the next ask say yes. Blocked steps are reported once, then at most
// every 300 s, as Dagster does.
import type { SluiceEvent } from "../events";
import type { PlanStep } from "../execution/plan";
import type { ChildMessage, OwnerMessage } from "../../protocol/worker";

export const STILL_BLOCKED_EVERY_MS = 300_000;

type ClaimState =
  | { state: "asked"; pool: string }
  | { state: "blocked"; pool: string; reportedAt: number }
  | { state: "granted"; pool: string };

export class WorkerPoolClaims {
  private readonly steps = new Map<string, ClaimState>();
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly runId: string,
    private readonly send: (message: ChildMessage) => void,
    private readonly emit: (event: SluiceEvent) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** ActiveExecution's claim hook: true when the step may start now. */
  claim = (step: PlanStep): boolean => {
    if (!step.pool) return true;
    const s = this.steps.get(step.key);
    if (s?.state === "granted") return true;
    if (!s) {
      this.steps.set(step.key, { state: "asked", pool: step.pool });
      this.send({ t: "claim", stepKey: step.key, pool: step.pool, priority: step.priority, holding: this.holding(step.key) });
      return false;
    }
    if (s.state === "blocked" && this.now() - s.reportedAt >= STILL_BLOCKED_EVERY_MS) {
      s.reportedAt = this.now();
      this.blockedEvent(step.key, s.pool, true);
    }
    return false;
  };

  /** The step is done with this attempt: give its slot back. */
  release = (step: PlanStep): void => {
    const s = this.steps.get(step.key);
    if (!s) return;
    this.steps.delete(step.key);
    if (s.state === "granted") this.send({ t: "release", stepKey: step.key });
  };

  /** ExecutorRun.onClaimChange: `wake` runs whenever a claim was answered or a slot granted. */
  onChange = (wake: () => void): void => {
    this.listeners.push(wake);
  };

  /** Owner messages about claims; returns false for messages that are not about claims. */
  onMessage(message: OwnerMessage): boolean {
    const handled = this.apply(message);
    if (handled) for (const wake of this.listeners) wake();
    return handled;
  }

  private apply(message: OwnerMessage): boolean {
    if (message.t === "claimResult") {
      const s = this.steps.get(message.stepKey);
      if (!s || s.state === "granted") return true;
      if (message.status === "BLOCKED") {
        if (s.state === "asked") {
          this.steps.set(message.stepKey, { state: "blocked", pool: message.pool, reportedAt: this.now() });
          this.blockedEvent(message.stepKey, message.pool, false);
        }
      } else {
        this.steps.set(message.stepKey, { state: "granted", pool: message.pool });
      }
      return true;
    }
    if (message.t === "slotGranted") {
      const s = this.steps.get(message.stepKey);
      if (s && s.state !== "granted") this.steps.set(message.stepKey, { state: "granted", pool: message.pool });
      return true;
    }
    return false;
  }

  /** Steps currently holding slots (they may be running). */
  holding(except?: string): string[] {
    return [...this.steps].filter(([k, s]) => s.state === "granted" && k !== except).map(([k]) => k);
  }

  private blockedEvent(stepKey: string, pool: string, still: boolean): void {
    this.emit({
      runId: this.runId,
      type: "ENGINE_EVENT",
      stepKey,
      timestamp: this.now(),
      level: "INFO",
      message: `Step ${still ? "still " : ""}blocked by concurrency limit for key ${pool}`,
      data: { concurrency_key: pool, pool, blocked: true },
    });
  }
}
