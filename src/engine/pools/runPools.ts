// What the queue needs to know about a run's pools (reference §5.5 `run_op_concurrency`), computed
// once from the plan when the run is created and kept with the run.
import { systemTag } from "../events";
import type { ExecutionPlan } from "../execution/plan";

export interface RunPoolUsage {
  /** Pool → root steps (steps with no upstream among the steps to execute) in that pool. */
  roots: Record<string, string[]>;
  /** Every pool any step of the run uses. */
  all: string[];
  /** Some root step has no pool: the run can always make progress. */
  unconstrainedRoot: boolean;
}

/** Null when the run uses no pool. */
export function runPoolUsage(plan: Pick<ExecutionPlan, "steps">): RunPoolUsage | null {
  const all = new Set<string>();
  const roots: Record<string, string[]> = {};
  let unconstrainedRoot = false;
  for (const step of plan.steps) {
    if (step.pool) all.add(step.pool);
    if (step.upstream.length > 0) continue;
    if (step.pool) (roots[step.pool] ??= []).push(step.key);
    else unconstrainedRoot = true;
  }
  if (all.size === 0) return null;
  return { roots, all: [...all].sort(), unconstrainedRoot };
}

const INTEGER = /^\s*[+-]?\d+\s*$/;

/** Run priority: `sluice/priority` (or `dagster/priority`); a missing or non-integer value counts as 0. */
export function runPriority(tags: Record<string, string> | undefined): number {
  const raw = systemTag(tags, "priority");
  if (raw === undefined || !INTEGER.test(raw)) return 0;
  const n = Number.parseInt(raw, 10);
  return Number.isSafeInteger(n) ? n : 0;
}

/** Claim priority = run priority + step priority, kept within a 32-bit signed int like Dagster. */
export function claimPriority(runTags: Record<string, string> | undefined, stepPriority: number): number {
  const p = runPriority(runTags) + stepPriority;
  const max = 2 ** 31 - 1;
  return Math.max(-max, Math.min(max, p));
}
