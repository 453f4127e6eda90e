// Re-execution of a finished run (`sluice run reexecute`, the Runs view's "Re-execute"): which
// steps the new run executes and which tags it carries. Pure functions over the job snapshot, the
// parent run and its stored events (reference §7, FROM_FAILURE step derivation).
import type { JobSnapshot } from "../definitions/snapshot";
import { DAGSTER_TAG_PREFIX, SYSTEM_TAG_PREFIX, type RunRecord, type StoredEvent } from "../events";

/** "all": the parent's whole step selection again; "fromFailure": only what did not succeed; or a new op selection. */
export type ReexecuteStrategy = "all" | "fromFailure";
export type ReexecuteRequest = ReexecuteStrategy | { selection: string[] };

export const PARENT_RUN_ID_TAG = `${SYSTEM_TAG_PREFIX}parent_run_id`;
export const ROOT_RUN_ID_TAG = `${SYSTEM_TAG_PREFIX}root_run_id`;
export const IS_RESUME_RETRY_TAG = `${SYSTEM_TAG_PREFIX}is_resume_retry`;

/** Run bookkeeping that describes the parent run, not its job: never copied to a re-execution. */
const NOT_INHERITED = ["failure_reason", "will_retry", "auto_retry_run_id", "retry_number", "is_resume_retry", "parent_run_id", "root_run_id"];

export class ReexecutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReexecutionError";
  }
}

type StepOutcome = "succeeded" | "failed" | "skipped" | "interrupted" | "notStarted";

/** What happened to each step of the parent run, from its events (the last attempt decides). */
export function stepOutcomes(events: readonly StoredEvent[]): Map<string, StepOutcome> {
  const out = new Map<string, StepOutcome>();
  for (const e of events) {
    const k = e.stepKey;
    if (!k) continue;
    switch (e.type) {
      case "STEP_START":
      case "STEP_RESTARTED":
      case "STEP_UP_FOR_RETRY":
        out.set(k, "interrupted");
        break;
      case "STEP_SUCCESS":
        out.set(k, "succeeded");
        break;
      case "STEP_FAILURE":
        out.set(k, "failed");
        break;
      case "STEP_SKIPPED":
        if (out.get(k) !== "succeeded") out.set(k, "skipped");
        break;
      default:
        break;
    }
  }
  return out;
}

/** The job's steps in topological order (upstream first), definition order among ready steps. */
function topological(job: JobSnapshot): { key: string; upstream: string[] }[] {
  const steps = job.steps.map((s) => ({ key: s.key, upstream: [...new Set(s.inputs.flatMap((i) => i.sources.map((src) => src.step)))] }));
  const keys = new Set(steps.map((s) => s.key));
  const done = new Set<string>();
  const ordered: typeof steps = [];
  while (ordered.length < steps.length) {
    const before = ordered.length;
    for (const s of steps) {
      if (done.has(s.key)) continue;
      if (s.upstream.every((u) => done.has(u) || !keys.has(u))) {
        done.add(s.key);
        ordered.push(s);
      }
    }
    if (ordered.length === before) {
      // a cycle cannot be loaded, but stay total: the rest in definition order
      for (const s of steps) if (!done.has(s.key)) ordered.push(s);
      break;
    }
  }
  return ordered;
}

/**
 * FROM_FAILURE (reference §7), walked in topological order over the parent's own step selection:
 * failed and interrupted (started, never finished) steps run again, and so does every step that
 * never started (the run failed or was terminated before it); steps downstream of a step that runs
 * again run again; succeeded and skipped steps do not (their outputs are read from the parent).
 */
export function fromFailureStepKeys(job: JobSnapshot, parent: Pick<RunRecord, "runId" | "status" | "stepKeysToExecute">, events: readonly StoredEvent[]): string[] {
  if (parent.status !== "FAILURE" && parent.status !== "CANCELED") {
    throw new ReexecutionError(`Cannot reexecute from failure a run that is not failed or canceled (run ${parent.runId} is ${parent.status}).`);
  }
  const outcomes = stepOutcomes(events);
  const inParent = parent.stepKeysToExecute ? new Set(parent.stepKeysToExecute) : undefined;
  const again = new Set<string>();
  for (const s of topological(job)) {
    if (inParent && !inParent.has(s.key)) continue;
    const outcome = outcomes.get(s.key) ?? "notStarted";
    if (outcome === "failed" || outcome === "interrupted" || outcome === "notStarted" || s.upstream.some((u) => again.has(u))) again.add(s.key);
  }
  if (again.size === 0) throw new ReexecutionError(`Run ${parent.runId} has no failed or unfinished steps to re-execute; re-execute all steps instead.`);
  return job.steps.filter((s) => again.has(s.key)).map((s) => s.key);
}

/** The parent's tags minus its bookkeeping, plus the lineage tags (Dagster's parent/root run tags). */
export function reexecutionTags(parent: Pick<RunRecord, "runId" | "rootRunId" | "tags">, fromFailure: boolean): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(parent.tags)) {
    const name = k.startsWith(SYSTEM_TAG_PREFIX) ? k.slice(SYSTEM_TAG_PREFIX.length) : k.startsWith(DAGSTER_TAG_PREFIX) ? k.slice(DAGSTER_TAG_PREFIX.length) : undefined;
    if (name !== undefined && NOT_INHERITED.includes(name)) continue;
    tags[k] = v;
  }
  tags[PARENT_RUN_ID_TAG] = parent.runId;
  tags[ROOT_RUN_ID_TAG] = parent.rootRunId ?? parent.runId;
  if (fromFailure) tags[IS_RESUME_RETRY_TAG] = "true";
  return tags;
}

/** Ancestors of a run, nearest first (parent, grandparent, ... root): where earlier outputs are looked up. */
export function lineage(run: Pick<RunRecord, "runId" | "parentRunId">, getRun: (runId: string) => Pick<RunRecord, "runId" | "parentRunId"> | undefined): string[] {
  const ids: string[] = [];
  let current: Pick<RunRecord, "runId" | "parentRunId"> | undefined = run;
  while (current && !ids.includes(current.runId) && ids.length < 1000) {
    ids.push(current.runId);
    current = current.parentRunId ? getRun(current.parentRunId) : undefined;
  }
  return ids;
}
