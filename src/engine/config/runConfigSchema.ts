// Run config (Dagster's shape): execution (executor config), ops.<op>.{config, inputs}, resources, loggers.
import * as os from "node:os";
import { z } from "zod";
import { describeKey, emptyOr, int, list, section, selector, str, type ConfigPath, type KeyInfo } from "./fields";
import { tagConcurrencyLimitsSchema, type TagConcurrencyLimit } from "./instanceSchema";
import { ConfigError, type ConfigIssue, getIn, hasIn, isPlainMap, issueAt, parseYaml, sortIssues, validateWithSchema, type ParsedYaml } from "./yamlPositions";

// ---- executor config ----

const retries = selector(
  {
    enabled: emptyOr(section({})).describe("Op retry policies and RetryRequested are honoured."),
    disabled: emptyOr(section({})).describe("Ops are never retried."),
  },
  "retry mode",
).describe("Whether op retries are on: {enabled: {}} (default) or {disabled: {}}.");

const startMethod = selector(
  {
    spawn: emptyOr(section({})).describe("A fresh process for every step (default)."),
    forkserver: emptyOr(
      section({
        preload_modules: list(str(), "must be a list of module names").optional().describe("Modules each worker imports once, before running steps."),
        max_steps_per_worker: int({ min: 1 }).optional().describe("Recycle a worker after this many steps. Unset = never."),
      }),
    ).describe("Reusable pre-started workers (faster start for many small steps)."),
  },
  "start method",
).describe("How step processes start: {spawn: {}} (default) or {forkserver: {preload_modules?, max_steps_per_worker?}}.");

export const multiprocessConfigSchema = section({
  max_concurrent: int({ min: 0, expect: "must be an integer >= 0, or null (null or 0 = one per CPU)" })
    .nullable()
    .optional()
    .describe("Maximum steps running at once in this run. null or 0 = the number of CPUs. Default null."),
  tag_concurrency_limits: tagConcurrencyLimitsSchema.optional().describe("Limits on steps by op tag within this run: [{key, value?, limit}]."),
  start_method: startMethod.optional(),
  retries: retries.optional(),
});

export const inProcessConfigSchema = section({
  retries: retries.optional(),
  marker_to_close: str().optional().describe("Deprecated; accepted and ignored."),
});

const multiOrInProcessConfigSchema = selector(
  {
    multiprocess: emptyOr(multiprocessConfigSchema).describe("Each step in its own process (default)."),
    in_process: emptyOr(inProcessConfigSchema).describe("All steps inside the run worker, one at a time."),
  },
  "executor",
);

const DEFAULT_EXECUTOR_NAMES = new Set(["multi_or_in_process", "multi_or_in_process_executor"]);

function executionConfigSchema(executorName: string | undefined): z.ZodType {
  if (executorName === undefined || DEFAULT_EXECUTOR_NAMES.has(executorName))
    return multiOrInProcessConfigSchema.describe("Executor config: {multiprocess: {...}} (default) or {in_process: {...}}.");
  if (executorName === "multiprocess") return multiprocessConfigSchema.describe("Config of the job's multiprocess executor.");
  if (executorName === "in_process") return inProcessConfigSchema.describe("Config of the job's in-process executor.");
  return z.unknown().describe(`Config of the job's executor \`${executorName}\`.`);
}

// ---- the run config schema ----

export interface RunConfigJob {
  /** Every op of the job (names under `ops:` must be among them). */
  opNames: string[];
  /** The job's executor; default (undefined) = multi_or_in_process. */
  executorName?: "multi_or_in_process" | "in_process" | "multiprocess" | (string & {});
  /**
   * Validates one op's config; called for every op of the job, with `undefined` when the run config
   * has none for it (so that required op config is reported). Paths are relative to `ops.<op>.config`.
   */
  validateOpConfig?: (op: string, value: unknown) => { path: (string | number)[]; message: string }[];
  /** Per op, the inputs that may be given under `ops.<op>.inputs`; ops not listed are not checked. */
  opInputs?: Record<string, string[]>;
}

const opEntry = (inputs?: string[]) =>
  section({
    config: z.unknown().optional().describe("The op's config (validated with the op's config schema)."),
    inputs: (inputs
      ? section(Object.fromEntries(inputs.map((n) => [n, z.unknown().optional().describe(`Value of input \`${n}\`.`)])), `must be a map of input values (${inputs.join(", ") || "no configurable inputs"})`)
      : z.record(z.string(), z.unknown())
    )
      .optional()
      .describe("Values for the op's unconnected inputs."),
  });

const namedConfigs = (what: string) =>
  z.record(z.string(), section({ config: z.unknown().optional().describe(`The ${what}'s config.`) })).optional();

const schemaCache = new Map<string, z.ZodType>();

/** The zod schema of a job's run config (generic when `job` is omitted: any op names, default executor). */
export function runConfigSchema(job?: Omit<RunConfigJob, "validateOpConfig">): z.ZodType {
  const key = JSON.stringify(job ? [job.opNames, job.executorName ?? null, job.opInputs ?? null] : null);
  let schema = schemaCache.get(key);
  if (!schema) {
    schema = buildRunConfigSchema(job);
    if (schemaCache.size >= 64) schemaCache.delete(schemaCache.keys().next().value!);
    schemaCache.set(key, schema);
  }
  return schema;
}

function buildRunConfigSchema(job?: Omit<RunConfigJob, "validateOpConfig">): z.ZodType {
  const ops = job
    ? section(Object.fromEntries(job.opNames.map((op) => [op, opEntry(job.opInputs?.[op]).optional().describe(`Config and inputs of op \`${op}\`.`)])), "must be a map of op names")
    : z.record(z.string(), opEntry());
  return section(
    {
      execution: section({ config: executionConfigSchema(job?.executorName).optional() })
        .optional()
        .describe("Executor config, under `execution.config`."),
      ops: ops.optional().describe("Per-op config: ops.<op name>.config and ops.<op name>.inputs."),
      resources: namedConfigs("resource").describe("Per-resource config: resources.<name>.config."),
      loggers: namedConfigs("logger").describe("Per-logger config: loggers.<name>.config."),
    },
    "must be a map with keys execution, ops, resources, loggers",
  );
}

export interface RunConfig {
  execution?: { config?: unknown };
  ops?: Record<string, { config?: unknown; inputs?: Record<string, unknown> }>;
  resources?: Record<string, { config?: unknown }>;
  loggers?: Record<string, { config?: unknown }>;
}

export interface RunConfigResult {
  /** The validated run config (undefined when there are issues). */
  value?: RunConfig;
  issues: ConfigIssue[];
}

function validate(raw: unknown, file: string, job: RunConfigJob, parsed?: ParsedYaml): RunConfigResult {
  const value = raw === null || raw === undefined ? {} : raw;
  const single = job.executorName === "multiprocess" || job.executorName === "in_process" ? job.executorName : undefined;
  const unknownKeyHint = (path: ConfigPath, key: string) => {
    const where = path.join(".");
    if (where === "execution") return `Executor config goes under \`execution.config\`${single ? "" : ` (\`execution.config.${key === "in_process" ? "in_process" : "multiprocess"}\`)`}.`;
    if (single && where === "execution.config" && (key === "multiprocess" || key === "in_process"))
      return `This job's executor is \`${single}\`: its config goes directly under \`execution.config\`.`;
    return undefined;
  };
  const keyKind = (path: ConfigPath) => (path.length === 1 && path[0] === "ops" ? "op" : path.length === 3 && path[0] === "ops" && path[2] === "inputs" ? "input" : undefined);
  const r = validateWithSchema(runConfigSchema(job), value, { parsed, file, rootName: "run config", unknownKeyHint, keyKind });
  const issues = [...r.issues];
  const opsOk = isPlainMap(value) && (getIn(value, ["ops"]) === undefined || isPlainMap(getIn(value, ["ops"])));
  if (job.validateOpConfig && opsOk) {
    for (const op of job.opNames) {
      const entry = getIn(value, ["ops", op]);
      if (entry !== undefined && !isPlainMap(entry)) continue; // already reported
      const base: ConfigPath = ["ops", op, "config"];
      let found: { path: (string | number)[]; message: string }[];
      try {
        found = job.validateOpConfig(op, getIn(value, base));
        if (!Array.isArray(found)) found = [];
      } catch (err) {
        found = [{ path: [], message: `op config could not be validated: ${(err as Error)?.message ?? String(err)}` }];
      }
      for (const f of found) {
        const rel = Array.isArray(f?.path) ? f.path.filter((s) => typeof s === "string" || typeof s === "number") : [];
        const path = [...base, ...rel];
        const missing = !hasIn(value, path);
        issues.push(issueAt(parsed, file, path, { code: "op-config", message: String(f?.message ?? "invalid"), target: missing ? "map" : "value" }));
      }
    }
  }
  const sorted = sortIssues(issues);
  return sorted.length ? { issues: sorted } : { value: (r.data ?? {}) as RunConfig, issues: [] };
}

/** Validates run config YAML text against a job; never throws. */
export function validateRunConfig(text: string, file: string, job: RunConfigJob): RunConfigResult {
  const parsed = parseYaml(text, file);
  if (parsed.issues.length) return { issues: parsed.issues };
  return validate(parsed.value, file, job, parsed);
}

/** Validates an already-parsed run config object (issues carry key paths, line 0); never throws. */
export function validateRunConfigObject(value: unknown, job: RunConfigJob, file = "run config"): RunConfigResult {
  return validate(value, file, job);
}

// ---- resolved executor config ----

export type StartMethod = { kind: "spawn" } | { kind: "forkserver"; preloadModules: string[]; maxStepsPerWorker?: number };

export interface ResolvedExecutorConfig {
  kind: "multiprocess" | "in_process";
  /** Steps at once; 1 for in_process. */
  maxConcurrent: number;
  tagConcurrencyLimits: TagConcurrencyLimit[];
  startMethod: StartMethod;
  retries: "enabled" | "disabled";
}

function selected(v: unknown): [string, Record<string, unknown>] | undefined {
  if (!isPlainMap(v)) return undefined;
  const k = Object.keys(v)[0];
  return k === undefined ? undefined : [k, isPlainMap(v[k]) ? v[k] : {}];
}

/** Null or 0 → SLUICE_MULTIPROCESS_EXECUTOR_MAX_CONCURRENT (or DAGSTER_…) if set, else os.availableParallelism(). */
function cpuDefault(env: NodeJS.ProcessEnv): number {
  for (const name of ["SLUICE_MULTIPROCESS_EXECUTOR_MAX_CONCURRENT", "DAGSTER_MULTIPROCESS_EXECUTOR_MAX_CONCURRENT"]) {
    const n = Number(env[name]);
    if (env[name] && Number.isInteger(n) && n > 0) return n;
  }
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : Math.max(1, os.cpus().length);
}

/**
 * The executor config of a run, defaults filled. Returns undefined for a custom executor (its config
 * is the executor's business). Throws ConfigError when the executor config is invalid.
 */
export function resolveExecutorConfig(runConfig: RunConfig | undefined, executorName?: string, env: NodeJS.ProcessEnv = process.env): ResolvedExecutorConfig | undefined {
  const isDefault = executorName === undefined || DEFAULT_EXECUTOR_NAMES.has(executorName);
  if (!isDefault && executorName !== "multiprocess" && executorName !== "in_process") return undefined;
  const raw = runConfig?.execution?.config ?? {};
  const check = validateWithSchema(executionConfigSchema(executorName), raw, { file: "run config", rootName: "execution.config" });
  if (check.issues.length) throw new ConfigError(check.issues.map((i) => ({ ...i, path: ["execution", "config", ...i.path], keyPath: ["execution.config", i.keyPath].filter(Boolean).join(".") })));
  let kind: "multiprocess" | "in_process";
  let cfg: Record<string, unknown>;
  if (isDefault) [kind, cfg] = (selected(raw) as ["multiprocess" | "in_process", Record<string, unknown>] | undefined) ?? ["multiprocess", {}];
  else [kind, cfg] = [executorName as "multiprocess" | "in_process", isPlainMap(raw) ? raw : {}];
  const retries = (selected(cfg.retries)?.[0] ?? "enabled") as "enabled" | "disabled";
  if (kind === "in_process") return { kind, maxConcurrent: 1, tagConcurrencyLimits: [], startMethod: { kind: "spawn" }, retries };
  const mc = cfg.max_concurrent as number | null | undefined;
  const sm = selected(cfg.start_method);
  const startMethod: StartMethod =
    sm?.[0] === "forkserver"
      ? {
          kind: "forkserver",
          preloadModules: (sm[1].preload_modules as string[] | undefined) ?? [],
          ...(sm[1].max_steps_per_worker !== undefined ? { maxStepsPerWorker: sm[1].max_steps_per_worker as number } : {}),
        }
      : { kind: "spawn" };
  const limits = ((cfg.tag_concurrency_limits as TagConcurrencyLimit[] | undefined) ?? []).map((l) =>
    l.value === null || l.value === undefined ? { key: l.key, limit: l.limit } : { key: l.key, value: l.value, limit: l.limit },
  );
  return { kind, maxConcurrent: mc ? mc : cpuDefault(env), tagConcurrencyLimits: limits, startMethod, retries };
}

/** Hover/completion data for a key path of a job's run config. */
export function runConfigKeyInfo(path: ConfigPath, job?: Omit<RunConfigJob, "validateOpConfig">): KeyInfo | undefined {
  return describeKey(runConfigSchema(job), path);
}
