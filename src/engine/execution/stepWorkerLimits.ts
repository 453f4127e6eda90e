// Per-step resource limits, the local analog of the ECS/Kubernetes resource tags of Dagster's
// production guide. Op tags win over run (job) tags; `dagster/` aliases are accepted.
import { systemTag } from "../events";
import type { RunEvents } from "./emit";
import type { PlanStep } from "./plan";

export const MAX_MEMORY_MB_TAG = "sluice/max_memory_mb";
export const STEP_TIMEOUT_SECONDS_TAG = "sluice/step_timeout_seconds";

export interface StepLimits {
  /** Heap limit of the step's worker (`--max-old-space-size`), in MB. */
  maxMemoryMb?: number;
  /** The step is stopped and fails after this many seconds. */
  timeoutSeconds?: number;
}

export class StepLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StepLimitError";
  }
}

function read(step: Pick<PlanStep, "tags">, runTags: Record<string, string>, name: string): { raw: string; from: string } | undefined {
  const op = systemTag(step.tags, name);
  if (op !== undefined) return { raw: op, from: "op" };
  const run = systemTag(runTags, name);
  if (run !== undefined) return { raw: run, from: "run" };
  return undefined;
}

/** The limits of a step; a tag that is not a positive number is a StepLimitError naming it. */
export function stepLimits(step: Pick<PlanStep, "key" | "tags">, runTags: Record<string, string>): StepLimits {
  const limits: StepLimits = {};
  const memory = read(step, runTags, "max_memory_mb");
  if (memory) {
    const n = Number(memory.raw.trim());
    if (!Number.isInteger(n) || n < 16) {
      throw new StepLimitError(`The ${memory.from} tag ${MAX_MEMORY_MB_TAG} of step "${step.key}" must be a whole number of megabytes >= 16, got "${memory.raw}".`);
    }
    limits.maxMemoryMb = n;
  }
  const timeout = read(step, runTags, "step_timeout_seconds");
  if (timeout) {
    const n = Number(timeout.raw.trim());
    if (!Number.isFinite(n) || n <= 0) {
      throw new StepLimitError(`The ${timeout.from} tag ${STEP_TIMEOUT_SECONDS_TAG} of step "${step.key}" must be a number of seconds > 0, got "${timeout.raw}".`);
    }
    limits.timeoutSeconds = n;
  }
  return limits;
}

export function timeoutMessage(stepKey: string, seconds: number): string {
  return `Step "${stepKey}" did not finish within its time limit of ${seconds} seconds (${STEP_TIMEOUT_SECONDS_TAG}) and was stopped.`;
}

export function memoryMessage(stepKey: string, mb: number): string {
  return `Step "${stepKey}" exceeded its memory limit of ${mb} MB (${MAX_MEMORY_MB_TAG}): its worker ran out of heap and was stopped.`;
}

/**
 * The step's limits, or undefined after recording a STEP_FAILURE when its limit tags are invalid
 * (both executors treat a bad limit tag as the step's own failure, not the run's).
 */
export function stepLimitsOrFail(step: PlanStep, runTags: Record<string, string>, events: RunEvents): StepLimits | undefined {
  try {
    return stepLimits(step, runTags);
  } catch (e) {
    if (!(e instanceof StepLimitError)) throw e;
    events.emit("STEP_FAILURE", e.message, { stepKey: step.key, data: { error: { name: e.name, message: e.message, source: "USER_CODE_ERROR" } } });
    return undefined;
  }
}
