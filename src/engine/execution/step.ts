// Runs one attempt of one step: load inputs, call the op, store outputs, and turn whatever the op
// did into Dagster's step events, including the retry decision (reference §3).
import type { InstanceView, OpContext, OpLogger } from "../../sdk/context";
import type { Tags } from "../../sdk/definitions";
import { isFailure, isRetryRequested, retryDelaySeconds } from "../../sdk/retry";
import type { RuntimeStep } from "../definitions/build";
import type { LogLevel } from "../events";
import type { RetryMode } from "./active";
import { RunEvents, serializeError } from "./emit";
import type { OutputStore } from "./outputs";
import type { InputSource, PlanStep } from "./plan";

export interface StepEnvironment {
  runId: string;
  jobName: string;
  runTags: Tags;
  events: RunEvents;
  outputs: OutputStore;
  /** `ops` section of the run config. */
  opsConfig: Record<string, unknown> | undefined;
  instance: InstanceView;
  retryMode: RetryMode;
  /** Outputs of earlier runs (sources of kind "run"); defaults to `outputs`. */
  earlierOutputs?: OutputStore;
  /** Called just before the op function runs (a step worker flushes STEP_START there). */
  beforeOp?: () => void;
  /**
   * Called when the op returned a promise: the step now waits on the event loop (a step worker
   * starts sending its events while it runs). A synchronous op ends without this call.
   */
  opAwaits?: () => void;
}

export type StepOutcome =
  | { kind: "success"; outputs: string[] }
  | { kind: "failure" }
  | { kind: "retry"; seconds: number };

/** Runs attempt `previousAttempts + 1` of a step and emits its events. Never throws. */
export async function runStep(step: PlanStep, runtime: RuntimeStep, previousAttempts: number, env: StepEnvironment): Promise<StepOutcome> {
  const { events } = env;
  const stepKey = step.key;
  const started = performance.now();
  if (previousAttempts === 0) events.emit("STEP_START", `Started execution of step "${stepKey}".`, { stepKey });
  else events.emit("STEP_RESTARTED", `Started re-execution (attempt # ${previousAttempts + 1}) of step "${stepKey}".`, { stepKey });

  let ctx: OpContext;
  let args: unknown[];
  try {
    const config = parseOpConfig(step, runtime, env.opsConfig);
    ctx = makeContext(step, runtime, env, config, previousAttempts);
    args = loadInputs(step, runtime, env);
  } catch (e) {
    return fail(step, env, `Error while preparing step "${stepKey}": ${errorMessage(e)}`, e, "FRAMEWORK_ERROR");
  }

  let returned: unknown;
  try {
    env.beforeOp?.();
    returned = runtime.op.fn(ctx, ...args);
    if (isThenable(returned)) {
      env.opAwaits?.();
      returned = await returned;
    }
  } catch (e) {
    return handleOpError(step, runtime, previousAttempts, env, e);
  }

  let produced: [string, unknown][];
  try {
    produced = collectOutputs(step, returned);
    for (const [name, value] of produced) {
      const written = env.outputs.write(env.runId, stepKey, name, value);
      events.emit("STEP_OUTPUT", `Yielded output "${name}" of type "${typeName(value)}".`, {
        stepKey,
        data: { outputName: name, path: written.path, bytes: written.bytes },
      });
      if (step.assetKey) {
        events.emit("ASSET_MATERIALIZATION", `Materialized value ${step.assetKey}.`, {
          stepKey,
          data: { assetKey: step.assetKey, outputName: name, jobName: env.jobName },
        });
      }
    }
  } catch (e) {
    return fail(step, env, `Error storing the outputs of step "${stepKey}": ${errorMessage(e)}`, e, "USER_CODE_ERROR");
  }
  const durationMs = performance.now() - started;
  events.emit("STEP_SUCCESS", `Finished execution of step "${stepKey}" in ${formatDuration(durationMs)}.`, { stepKey, data: { durationMs } });
  return { kind: "success", outputs: produced.map(([name]) => name) };
}

function handleOpError(step: PlanStep, runtime: RuntimeStep, previousAttempts: number, env: StepEnvironment, e: unknown): StepOutcome {
  let request: { maxRetries: number; seconds: number } | undefined;
  if (isRetryRequested(e)) {
    // RetryRequested ignores the RetryPolicy: it carries its own budget and wait.
    request = { maxRetries: e.maxRetries, seconds: e.secondsToWait ?? 0 };
  } else if (runtime.retryPolicy && !(isFailure(e) && !e.allowRetries)) {
    const policy = runtime.retryPolicy.toData();
    // Rounded to microseconds: 0.1 × (2² − 1) is 0.30000000000000004 in floating point.
    request = { maxRetries: policy.maxRetries, seconds: Math.round(retryDelaySeconds(policy, previousAttempts + 1) * 1e6) / 1e6 };
  }
  const description = isFailure(e) ? e.description || e.message : undefined;
  const metadata = isFailure(e) ? e.metadata : undefined;
  if (!request) {
    return fail(step, env, `Execution of step "${step.key}" failed: ${description ?? errorMessage(e)}`, e, "USER_CODE_ERROR", metadata);
  }
  if (env.retryMode === "disabled") {
    return fail(step, env, "RetryRequested but retries are disabled", e, "USER_CODE_ERROR", metadata);
  }
  if (previousAttempts >= request.maxRetries) {
    return fail(step, env, `Exceeded max_retries of ${request.maxRetries}`, e, "USER_CODE_ERROR", metadata);
  }
  const wait = request.seconds > 0 ? ` in ${round(request.seconds)} seconds` : "";
  env.events.emit("STEP_UP_FOR_RETRY", `Execution of step "${step.key}" failed and has requested a retry${wait}.`, {
    stepKey: step.key,
    level: "WARNING",
    data: { secondsToWait: request.seconds, attempt: previousAttempts + 1, error: serializeError(e, "USER_CODE_ERROR") },
  });
  return { kind: "retry", seconds: request.seconds };
}

function fail(step: PlanStep, env: StepEnvironment, message: string, e: unknown, source: "USER_CODE_ERROR" | "FRAMEWORK_ERROR", metadata?: Record<string, unknown>): StepOutcome {
  env.events.emit("STEP_FAILURE", message, { stepKey: step.key, data: { error: serializeError(e, source), metadata } });
  return { kind: "failure" };
}

function parseOpConfig(step: PlanStep, runtime: RuntimeStep, opsConfig: Record<string, unknown> | undefined): unknown {
  const entry = (opsConfig?.[step.key] ?? opsConfig?.[step.node]) as { config?: unknown } | undefined;
  const raw = entry?.config;
  const schema = runtime.op.configSchema;
  if (!schema) return raw ?? {};
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${["ops", step.key, "config", ...i.path].join(".")}: ${i.message}`);
    throw new Error(`invalid op config: ${issues.join("; ")}`);
  }
  return parsed.data;
}

function makeContext(step: PlanStep, runtime: RuntimeStep, env: StepEnvironment, config: unknown, previousAttempts: number): OpContext {
  const log = (level: LogLevel) => (message: string, data?: Record<string, unknown>) => {
    env.events.emit("LOG_MESSAGE", String(message), { stepKey: step.key, level, data });
  };
  const logger: OpLogger = { debug: log("DEBUG"), info: log("INFO"), warning: log("WARNING"), error: log("ERROR") };
  return {
    runId: env.runId,
    jobName: env.jobName,
    stepKey: step.key,
    opName: runtime.op.name,
    config,
    tags: step.tags,
    runTags: env.runTags,
    log: logger,
    retryNumber: previousAttempts,
    instance: env.instance,
    assetKey: step.assetKey,
  };
}

function readSource(source: InputSource, env: StepEnvironment): unknown {
  switch (source.kind) {
    case "step":
      return env.outputs.read(env.runId, source.step, source.output);
    case "config":
      return source.value;
    case "run":
      return (env.earlierOutputs ?? env.outputs).read(source.runId, source.step, source.output);
  }
}

function loadInputs(step: PlanStep, runtime: RuntimeStep, env: StepEnvironment): unknown[] {
  const values = step.inputs.map((input) => {
    const present = input.sources.filter((s) => s.kind !== "step" || env.outputs.has(env.runId, s.step, s.output));
    if (input.fanIn) return present.map((s) => readSource(s, env));
    if (present.length === 0) throw new Error(`input "${input.name}" has no value`);
    return readSource(present[0], env);
  });
  if (runtime.op.inputStyle === "named") {
    return [Object.fromEntries(step.inputs.map((input, i) => [input.asset ?? input.name, values[i]]))];
  }
  return values;
}

function collectOutputs(step: PlanStep, returned: unknown): [string, unknown][] {
  if (step.outputs.length === 1) {
    const out = step.outputs[0];
    if (returned === undefined && !out.isRequired) return [];
    return [[out.name, returned]];
  }
  if (typeof returned !== "object" || returned === null) {
    throw new Error(`op "${step.opName}" has outputs ${step.outputs.map((o) => `"${o.name}"`).join(", ")} and must return an object keyed by output name`);
  }
  const obj = returned as Record<string, unknown>;
  const names = new Set(step.outputs.map((o) => o.name));
  const unknown = Object.keys(obj).filter((k) => !names.has(k));
  if (unknown.length > 0) throw new Error(`op "${step.opName}" returned unknown output(s) ${unknown.map((u) => `"${u}"`).join(", ")}`);
  const result: [string, unknown][] = [];
  for (const o of step.outputs) {
    if (!(o.name in obj) || obj[o.name] === undefined) {
      if (o.isRequired) throw new Error(`op "${step.opName}" did not return required output "${o.name}"`);
      continue;
    }
    result.push([o.name, obj[o.name]]);
  }
  return result;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "Array";
  if (typeof v === "object") return (v as object).constructor?.name ?? "Object";
  return typeof v;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 0)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms % 60_000) / 1000)}s`;
}
