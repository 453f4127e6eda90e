import { DefinitionError } from "./markers";

export enum Backoff {
  LINEAR = "LINEAR",
  EXPONENTIAL = "EXPONENTIAL",
}

export enum Jitter {
  FULL = "FULL",
  PLUS_MINUS = "PLUS_MINUS",
}

export interface RetryPolicyOptions {
  /** How many retries after the first attempt (default 1). */
  maxRetries?: number;
  /** Seconds to wait before a retry; the base for backoff and jitter. */
  delay?: number;
  backoff?: Backoff | `${Backoff}`;
  jitter?: Jitter | `${Jitter}`;
}

/** Serialisable form of a policy, as it travels in snapshots and plans. */
export interface RetryPolicyData {
  maxRetries: number;
  delay: number | null;
  backoff: Backoff | null;
  jitter: Jitter | null;
}

/** Dagster's RetryPolicy: retry a failed op `maxRetries` times, waiting `delay` seconds with optional backoff and jitter. */
export class RetryPolicy {
  readonly maxRetries: number;
  readonly delay: number | null;
  readonly backoff: Backoff | null;
  readonly jitter: Jitter | null;

  constructor(options: RetryPolicyOptions = {}) {
    const { maxRetries = 1, delay, backoff, jitter } = options;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new DefinitionError(`RetryPolicy maxRetries must be a whole number >= 0, got ${String(maxRetries)}`);
    }
    if (delay !== undefined && delay !== null && (typeof delay !== "number" || !(delay >= 0))) {
      throw new DefinitionError(`RetryPolicy delay must be a number of seconds >= 0, got ${String(delay)}`);
    }
    if (backoff != null && delay == null) throw new DefinitionError("Can not set backoff on RetryPolicy without setting delay");
    if (jitter != null && delay == null) throw new DefinitionError("Can not set jitter on RetryPolicy without setting delay");
    if (backoff != null && !(backoff in Backoff)) throw new DefinitionError(`Unknown backoff "${backoff}", expected LINEAR or EXPONENTIAL`);
    if (jitter != null && !(jitter in Jitter)) throw new DefinitionError(`Unknown jitter "${jitter}", expected FULL or PLUS_MINUS`);
    this.maxRetries = maxRetries;
    this.delay = delay ?? null;
    this.backoff = (backoff as Backoff) ?? null;
    this.jitter = (jitter as Jitter) ?? null;
  }

  toData(): RetryPolicyData {
    return { maxRetries: this.maxRetries, delay: this.delay, backoff: this.backoff, jitter: this.jitter };
  }
}

/**
 * Seconds to wait before retry attempt `attempt` (1 for the first retry), per Dagster's
 * calculate_delay: backoff first, then jitter; PLUS_MINUS ranges over ± the base delay.
 */
export function retryDelaySeconds(policy: RetryPolicyData, attempt: number, random: () => number = Math.random): number {
  if (policy.delay == null) return 0;
  const base = policy.delay;
  let value = base;
  if (policy.backoff === Backoff.LINEAR) value = base * attempt;
  else if (policy.backoff === Backoff.EXPONENTIAL) value = base * (2 ** attempt - 1);
  if (policy.jitter === Jitter.FULL) value = random() * value;
  else if (policy.jitter === Jitter.PLUS_MINUS) value = value + (random() * 2 - 1) * base;
  return Math.max(0, value);
}

const ERROR_MARK = Symbol.for("sluice.error");

/** Thrown by an op to ask for a retry regardless of its RetryPolicy. */
export class RetryRequested extends Error {
  readonly [ERROR_MARK] = "RetryRequested";
  readonly maxRetries: number;
  readonly secondsToWait: number | null;
  constructor(options: { maxRetries?: number; secondsToWait?: number | null; message?: string } = {}) {
    super(options.message ?? "Retry requested");
    this.name = "RetryRequested";
    this.maxRetries = options.maxRetries ?? 1;
    this.secondsToWait = options.secondsToWait ?? null;
  }
}

/** Thrown by an op to fail with a description and metadata; `allowRetries: false` skips the RetryPolicy. */
export class Failure extends Error {
  readonly [ERROR_MARK] = "Failure";
  readonly description: string;
  readonly metadata: Record<string, unknown>;
  readonly allowRetries: boolean;
  constructor(options: { description?: string; metadata?: Record<string, unknown>; allowRetries?: boolean } | string = {}) {
    const o = typeof options === "string" ? { description: options } : options;
    super(o.description ?? "Failure");
    this.name = "Failure";
    this.description = o.description ?? "";
    this.metadata = o.metadata ?? {};
    this.allowRetries = o.allowRetries ?? true;
  }
}

export function isRetryRequested(e: unknown): e is RetryRequested {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[ERROR_MARK] === "RetryRequested";
}

export function isFailure(e: unknown): e is Failure {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[ERROR_MARK] === "Failure";
}
