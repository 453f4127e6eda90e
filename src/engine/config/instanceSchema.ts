// sluice.yaml, the instance file. Its keys are dagster.yaml's; this one schema is the single source
// of validation, defaults and documentation (hover, JSON Schema, `sluice instance info`).
import * as nodeFs from "node:fs";
import * as nodePath from "node:path";
import { z } from "zod";
import { bool, describeKey, fieldInfo, int, keysOf, list, oneOf, schemaAt, seconds, section, str, type ConfigPath, type KeyInfo } from "./fields";
import { ConfigError, type ConfigIssue, type ParsedYaml, getIn, hasIn, issueAt, isPlainMap, parseYaml, rangeOf, sortIssues, validateWithSchema } from "./yamlPositions";

export const INSTANCE_FILE = "sluice.yaml";
/** Highest pool limit (Dagster's DAGSTER_MAX_GLOBAL_OP_CONCURRENCY_LIMIT default). */
export const MAX_POOL_LIMIT = 1000;

// ---- shared pieces ----

const applyLimitPerUniqueValue = section({
  applyLimitPerUniqueValue: bool().describe("true: a separate limit for each distinct value of the tag. false: one limit for every value (same as leaving `value` out)."),
});

const tagValue = z.union([z.string(), applyLimitPerUniqueValue, z.null()]);
fieldInfo.add(tagValue, { expect: 'must be a string (quote numbers: "1"), or {applyLimitPerUniqueValue: true|false}' });

export const tagConcurrencyLimitSchema = section({
  key: str().describe("The tag key to limit."),
  value: tagValue.optional().describe(
    "A string: limit only items whose tag has this value. Absent or null: limit every item that has the tag, whatever its value. " +
      "{applyLimitPerUniqueValue: true}: the same limit applied separately to each distinct value.",
  ),
  limit: int({ min: 0 }).describe("How many items with this tag may be in progress at once. 0 blocks them all."),
}, "must be a map {key, value?, limit}");

export const tagConcurrencyLimitsSchema = list(tagConcurrencyLimitSchema, "must be a list of {key, value?, limit} maps");

const maxConcurrentRuns = () => int({ min: -1, expect: "must be -1 (unlimited) or >= 0" });

const runLimits = (where: string) => ({
  max_concurrent_runs: maxConcurrentRuns()
    .default(10)
    .describe(`Maximum number of runs in progress (STARTING, STARTED or CANCELING) at once${where}. -1 = unlimited, 0 = launch nothing. Default 10.`),
  tag_concurrency_limits: tagConcurrencyLimitsSchema
    .default([])
    .describe(`Limits on runs by run tag${where}: [{key, value?, limit}]. Default [] (none).`),
});

const runQueueShape = {
  ...runLimits(" (older spelling of `concurrency.runs`; cannot be combined with it)"),
  dequeue_interval_seconds: seconds().default(5).describe("How often the queue re-checks queued runs, in seconds (it also reacts at once to runs finishing or arriving). Default 5."),
  dequeue_use_threads: bool().default(false).describe("Accepted for dagster.yaml compatibility; Sluice launches each run in its own process and ignores it. Default false."),
  dequeue_num_workers: int({ min: 1 }).nullable().default(null).describe("Accepted for dagster.yaml compatibility; ignored. Default null."),
  max_user_code_failure_retries: int({ min: 0 }).default(0).describe("How many times a run is re-queued when its code location cannot be loaded at launch. Default 0."),
  user_code_failure_retry_delay: seconds().default(60).describe("Seconds to wait before re-trying runs of a code location that failed to load. Default 60."),
  block_op_concurrency_limited_runs: section({
    enabled: bool().default(true).describe("Keep runs queued while every root step would wait for a pool slot (pool-aware queue). Default true."),
    op_concurrency_slot_buffer: int({ min: 0 })
      .default(0)
      .describe("Older spelling of `concurrency.pools.op_granularity_run_buffer`: how many extra runs may be launched although their root steps would wait for slots. Only with `enabled: true`. Default 0."),
  })
    .prefault({})
    .describe("Pool awareness of the run queue (older spelling; see `concurrency.pools`)."),
};

const runQueue = section(runQueueShape);

// ---- the schema ----

export const instanceConfigSchema = section({
  concurrency: section({
    runs: section(runLimits(""))
      .prefault({})
      .describe("Run-level concurrency: how many runs may be in progress, overall and per run tag."),
    pools: section({
      default_limit: int({
        min: 0,
        max: MAX_POOL_LIMIT,
        message: (v) => `Found value \`${typeof v === "string" ? v : JSON.stringify(v) ?? "nothing"}\` for \`pools > default_limit\`, Expected value between 0-${MAX_POOL_LIMIT}.`,
      })
        .nullable()
        .optional()
        .describe(`Limit given to any pool that has no limit of its own (0-${MAX_POOL_LIMIT}). Unset = such pools are unlimited.`),
      granularity: oneOf(["op", "run"], (v) => `Found value \`${typeof v === "string" ? v : JSON.stringify(v) ?? "nothing"}\` for \`granularity\`, Expected value 'run' or 'op'.`)
        .default("op")
        .describe("op: each step claims a pool slot when it is about to run. run: the queue counts in-progress runs per pool and steps never claim. Default op."),
      op_granularity_run_buffer: int({ min: 0 })
        .default(0)
        .describe("With op granularity: how many runs may be launched even though all their root steps would wait for pool slots. Default 0."),
    })
      .prefault({})
      .describe("Concurrency pools: limits on how many steps (or runs) using a pool run at once."),
    default_op_concurrency_limit: int({ min: 0, max: MAX_POOL_LIMIT })
      .optional()
      .describe("Deprecated spelling of `pools.default_limit`; cannot be combined with `pools`."),
  })
    .prefault({})
    .describe("Run and pool concurrency limits (Dagster 1.9.12+ layout)."),
  run_queue: runQueue
    .prefault({})
    .describe("The run queue: how queued runs are dequeued and launched."),
  run_coordinator: section({
    module: str().describe("Accepted for dagster.yaml compatibility (e.g. dagster.core.run_coordinator)."),
    class: oneOf(["QueuedRunCoordinator"]).describe("Only QueuedRunCoordinator: Sluice always queues runs."),
    config: runQueue.optional().describe("Same keys as `run_queue`."),
  })
    .optional()
    .describe("dagster.yaml's classic spelling of `run_queue`: {module, class: QueuedRunCoordinator, config}. Cannot be combined with `run_queue`."),
  run_monitoring: section({
    enabled: bool().default(false).describe("Run the run-monitoring daemon (start/cancel timeouts, max runtime). Default false."),
    start_timeout_seconds: seconds().default(180).describe("A run STARTING longer than this fails with START_TIMEOUT. 0 = no limit. Default 180."),
    cancel_timeout_seconds: seconds().default(180).describe("A run CANCELING longer than this is marked CANCELED. 0 = no limit. Default 180."),
    max_runtime_seconds: seconds().default(0).describe("Instance-wide limit on a STARTED run's duration (the `sluice/max_runtime` tag overrides it). 0 = no limit. Default 0."),
    max_resume_run_attempts: int({ min: 0 }).default(0).describe("How many times a run whose worker died is resumed with a new worker before failing. Default 0."),
    poll_interval_seconds: seconds().default(120).describe("How often the monitoring daemon checks runs, in seconds. Default 120."),
    cancellation_thread_poll_interval_seconds: seconds().default(10).describe("Accepted for dagster.yaml compatibility; Sluice signals cancellation directly. Default 10."),
    free_slots_after_run_end_seconds: seconds()
      .nullable()
      .optional()
      .describe("Safety net: free pool slots still held this many seconds after a run ended. Sluice frees them at once when a run ends; unset = no extra sweep."),
  })
    .prefault({})
    .describe("The run monitoring daemon."),
  run_retries: section({
    enabled: bool().default(false).describe("Re-execute failed runs automatically. Default false."),
    max_retries: int({ min: 0 }).default(0).describe("Default number of automatic retries of a failed run (the `sluice/max_retries` tag overrides it). Default 0."),
    retry_on_asset_or_op_failure: bool()
      .default(true)
      .describe("Also retry runs that failed because a step failed (false: retry only runs that failed for other reasons, e.g. a crashed worker). Default true."),
  })
    .prefault({})
    .describe("Automatic re-execution of failed runs."),
  schedules: section({
    max_catchup_runs: int({ min: 0 }).default(5).describe("For partitioned schedules that fell behind: at most this many missed ticks are launched. Default 5."),
    max_tick_retries: int({ min: 0 }).default(0).describe("How many times a failed or interrupted schedule tick is retried. Default 0."),
  })
    .prefault({})
    .describe("The scheduler daemon (dagster.yaml's `scheduler.config`)."),
  sensors: section({
    default_minimum_interval_seconds: seconds()
      .default(30)
      .describe("Minimum seconds between two evaluations of a sensor that does not set its own `minimumIntervalSeconds`. Default 30."),
  })
    .prefault({})
    .describe("The sensor daemon."),
}, "must be a map of settings (concurrency, run_queue, run_monitoring, run_retries, schedules, sensors)");

export type InstanceConfigInput = z.input<typeof instanceConfigSchema>;
type InstanceConfigOutput = z.output<typeof instanceConfigSchema>;

// ---- resolved config ----

export interface TagConcurrencyLimit {
  key: string;
  /** A string: key-value limit. Absent: key limit. {applyLimitPerUniqueValue}: per-unique-value limit when true. */
  value?: string | { applyLimitPerUniqueValue: boolean };
  limit: number;
}

export interface ResolvedInstanceConfig {
  concurrency: {
    runs: { max_concurrent_runs: number; tag_concurrency_limits: TagConcurrencyLimit[] };
    pools: { default_limit: number | null; granularity: "op" | "run"; op_granularity_run_buffer: number };
  };
  run_queue: {
    dequeue_interval_seconds: number;
    dequeue_use_threads: boolean;
    dequeue_num_workers: number | null;
    max_user_code_failure_retries: number;
    user_code_failure_retry_delay: number;
    block_op_concurrency_limited_runs: { enabled: boolean };
  };
  run_monitoring: {
    enabled: boolean;
    start_timeout_seconds: number;
    cancel_timeout_seconds: number;
    max_runtime_seconds: number;
    max_resume_run_attempts: number;
    poll_interval_seconds: number;
    cancellation_thread_poll_interval_seconds: number;
    free_slots_after_run_end_seconds: number | null;
  };
  run_retries: { enabled: boolean; max_retries: number; retry_on_asset_or_op_failure: boolean };
  schedules: { max_catchup_runs: number; max_tick_retries: number };
  sensors: { default_minimum_interval_seconds: number };
}

/** For each resolved leaf key path: the path in the file it came from, or undefined for a default. */
type Origins = Record<string, ConfigPath | undefined>;

function resolve(out: InstanceConfigOutput, raw: unknown): { config: ResolvedInstanceConfig; origins: Origins } {
  const origins: Origins = {};
  const coordinator = hasIn(raw, ["run_coordinator"]) ? ["run_coordinator", "config"] : undefined;
  /** The value of the first candidate present in the file, else the schema default of the first. */
  function pick<T>(key: string, ...candidates: (ConfigPath | undefined)[]): T {
    const c = candidates.filter((p): p is ConfigPath => !!p);
    const from = c.find((p) => hasIn(raw, p) && getIn(raw, p) !== null) ?? c.find((p) => hasIn(raw, p));
    origins[key] = from;
    return getIn(out, from ?? c[0]) as T;
  }
  const q = (k: string, ...rest: string[]): (ConfigPath | undefined)[] => [["run_queue", k, ...rest], coordinator && [...coordinator, k, ...rest]];
  const limits = pick<TagConcurrencyLimit[] | undefined>("concurrency.runs.tag_concurrency_limits", ["concurrency", "runs", "tag_concurrency_limits"], ...q("tag_concurrency_limits"));
  const config: ResolvedInstanceConfig = {
    concurrency: {
      runs: {
        max_concurrent_runs: pick("concurrency.runs.max_concurrent_runs", ["concurrency", "runs", "max_concurrent_runs"], ...q("max_concurrent_runs")),
        tag_concurrency_limits: (limits ?? []).map((l) =>
          l.value === null || l.value === undefined ? { key: l.key, limit: l.limit } : { key: l.key, value: l.value, limit: l.limit },
        ),
      },
      pools: {
        default_limit: pick<number | null | undefined>("concurrency.pools.default_limit", ["concurrency", "pools", "default_limit"], ["concurrency", "default_op_concurrency_limit"]) ?? null,
        granularity: pick("concurrency.pools.granularity", ["concurrency", "pools", "granularity"]),
        op_granularity_run_buffer: pick(
          "concurrency.pools.op_granularity_run_buffer",
          ["concurrency", "pools", "op_granularity_run_buffer"],
          ...q("block_op_concurrency_limited_runs", "op_concurrency_slot_buffer"),
        ),
      },
    },
    run_queue: {
      dequeue_interval_seconds: pick("run_queue.dequeue_interval_seconds", ...q("dequeue_interval_seconds")),
      dequeue_use_threads: pick("run_queue.dequeue_use_threads", ...q("dequeue_use_threads")),
      dequeue_num_workers: pick("run_queue.dequeue_num_workers", ...q("dequeue_num_workers")),
      max_user_code_failure_retries: pick("run_queue.max_user_code_failure_retries", ...q("max_user_code_failure_retries")),
      user_code_failure_retry_delay: pick("run_queue.user_code_failure_retry_delay", ...q("user_code_failure_retry_delay")),
      block_op_concurrency_limited_runs: {
        enabled: pick("run_queue.block_op_concurrency_limited_runs.enabled", ...q("block_op_concurrency_limited_runs", "enabled")),
      },
    },
    run_monitoring: {} as ResolvedInstanceConfig["run_monitoring"],
    run_retries: {} as ResolvedInstanceConfig["run_retries"],
    schedules: {} as ResolvedInstanceConfig["schedules"],
    sensors: {} as ResolvedInstanceConfig["sensors"],
  };
  // Sections that are copied as they are.
  for (const section of ["run_monitoring", "run_retries", "schedules", "sensors"] as const) {
    const target = config[section] as unknown as Record<string, unknown>;
    for (const k of keysOf(schemaAt(instanceConfigSchema, [section]))) target[k] = pick(`${section}.${k}`, [section, k]);
  }
  config.run_monitoring.free_slots_after_run_end_seconds ??= null;
  return { config, origins };
}

/** Rules between keys (Dagster's instance checks). Works on any raw value; never throws. */
function crossIssues(raw: unknown, parsed: ParsedYaml | undefined, file: string): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const conflict = (path: ConfigPath, message: string) => out.push(issueAt(parsed, file, path, { code: "conflict", message, target: "key" }));
  if (!isPlainMap(raw)) return out;
  if (hasIn(raw, ["run_queue"]) && hasIn(raw, ["run_coordinator"]))
    conflict(["run_queue"], "Found config for `run_queue` which is incompatible with `run_coordinator` config entry.");
  for (const [section, queuePath] of [["run_queue", ["run_queue"]], ["run_coordinator", ["run_coordinator", "config"]]] as const) {
    if (hasIn(raw, ["concurrency", "runs"]))
      for (const k of ["max_concurrent_runs", "tag_concurrency_limits"])
        if (hasIn(raw, [...queuePath, k]))
          conflict([...queuePath, k], `Found config value for \`${k}\` in \`${section}\` which is incompatible with the \`concurrency > runs\` config`);
    const buffer = [...queuePath, "block_op_concurrency_limited_runs", "op_concurrency_slot_buffer"];
    if (hasIn(raw, ["concurrency", "pools"]) && hasIn(raw, buffer))
      conflict(buffer, `Found config value for \`op_concurrency_slot_buffer\` in \`${section}\` which is incompatible with the \`concurrency > pools\` config`);
    if (hasIn(raw, buffer) && getIn(raw, [...queuePath, "block_op_concurrency_limited_runs", "enabled"]) === false)
      conflict(buffer, "`op_concurrency_slot_buffer` is only allowed when `block_op_concurrency_limited_runs.enabled` is true");
  }
  if (hasIn(raw, ["concurrency", "default_op_concurrency_limit"]) && hasIn(raw, ["concurrency", "pools"]))
    conflict(["concurrency", "default_op_concurrency_limit"], "Found config for `default_op_concurrency_limit` which is incompatible with `pools` config. Use `pools > default_limit` instead.");
  return out;
}

const DAGSTER_ONLY: Record<string, string> = {
  scheduler: "Sluice reads `max_catchup_runs` and `max_tick_retries` from `schedules`.",
  run_launcher: "Sluice launches each run in its own local process; remove it.",
  storage: "Sluice keeps its storage in `.sluice/`; remove it.",
  event_log_storage: "Sluice keeps its storage in `.sluice/`; remove it.",
  run_storage: "Sluice keeps its storage in `.sluice/`; remove it.",
  schedule_storage: "Sluice keeps its storage in `.sluice/`; remove it.",
  compute_logs: "Sluice keeps compute logs in `.sluice/`; remove it.",
  local_artifact_storage: "Sluice keeps artifacts in `.sluice/` (SLUICE_HOME to move it); remove it.",
  telemetry: "Sluice sends no telemetry; remove it.",
  code_servers: "Sluice manages its code-location process itself; remove it.",
};

export interface InstanceConfigResult {
  /** Undefined when there are issues (keep the last valid config). */
  config?: ResolvedInstanceConfig;
  /** Leaf key path → "default" or "sluice.yaml:LINE" (undefined when there are issues). */
  sources?: Record<string, string>;
  issues: ConfigIssue[];
}

function sourcesFrom(origins: Origins, parsed: ParsedYaml | undefined, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, from] of Object.entries(origins)) {
    if (!from) out[key] = "default";
    else out[key] = parsed ? `${file}:${parsed.lineCounter.linePos(rangeOf(parsed, from, "key")[0]).line}` : file;
  }
  return out;
}

/** Validates and resolves an instance config value (e.g. YAML already parsed); never throws. */
export function validateInstanceConfig(raw: unknown, file = INSTANCE_FILE, parsed?: ParsedYaml): InstanceConfigResult {
  const value = raw === null || raw === undefined ? {} : raw;
  const hint = (path: ConfigPath, key: string) => (path.length === 0 ? DAGSTER_ONLY[key] : undefined);
  const r = validateWithSchema(instanceConfigSchema, value, { parsed, file, rootName: file, unknownKeyHint: hint });
  const issues = sortIssues([...r.issues, ...crossIssues(value, parsed, file)]);
  if (issues.length || !r.data) return { issues };
  const { config, origins } = resolve(r.data, value);
  return { config, sources: sourcesFrom(origins, parsed, file), issues: [] };
}

/** Validates sluice.yaml text (e.g. an unsaved editor buffer); never throws. An empty file is all defaults. */
export function validateInstanceYaml(text: string, file = INSTANCE_FILE): InstanceConfigResult {
  const parsed = parseYaml(text, file);
  if (parsed.issues.length) return { issues: parsed.issues };
  return validateInstanceConfig(parsed.value, file, parsed);
}

/** The resolved config (defaults filled, run_queue merged into concurrency) of a config object. Throws ConfigError when invalid. */
export function resolveInstanceConfig(raw: InstanceConfigInput | null | undefined = {}): ResolvedInstanceConfig {
  const r = validateInstanceConfig(raw, "<instance config>");
  if (!r.config) throw new ConfigError(r.issues);
  return r.config;
}

/** Where each resolved value came from: "default" or "<file>:LINE". Invalid config → {}. */
export function describeSources(raw: unknown, parsed?: ParsedYaml, file = parsed?.file ?? INSTANCE_FILE): Record<string, string> {
  return validateInstanceConfig(raw, file, parsed).sources ?? {};
}

export interface MinimalFs {
  readFileSync(path: string, encoding: "utf8"): string;
}

export interface LoadedInstanceConfig extends InstanceConfigResult {
  /** Absolute path of sluice.yaml (whether or not it exists). */
  file: string;
  /** False when there is no sluice.yaml (all defaults). */
  exists: boolean;
}

/** Reads `<workspaceDir>/sluice.yaml`. A missing file = all defaults, no issues. Never throws. */
export function loadInstanceConfig(workspaceDir: string, fs: MinimalFs = nodeFs): LoadedInstanceConfig {
  const file = nodePath.resolve(workspaceDir, INSTANCE_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === "ENOENT") return { ...validateInstanceConfig({}, file), file, exists: false };
    const issue: ConfigIssue = { file, line: 0, column: 0, endLine: 0, endColumn: 0, path: [], keyPath: "", code: "read-error", message: `cannot read ${INSTANCE_FILE}: ${(err as Error)?.message ?? String(err)}` };
    return { issues: [issue], file, exists: true };
  }
  return { ...validateInstanceYaml(text, file), file, exists: true };
}

/** Hover/completion data for a key path of sluice.yaml. */
export function instanceKeyInfo(path: ConfigPath): KeyInfo | undefined {
  return describeKey(instanceConfigSchema, path);
}
