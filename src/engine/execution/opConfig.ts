import type { RuntimeJob } from "../definitions/build";
import type { ExecutionPlan } from "./plan";

export interface OpConfigIssue {
  /** Path from the run config root, e.g. ["ops", "multi_three", "config", "factor"]. */
  path: (string | number)[];
  message: string;
}

/**
 * Checks `ops.<op>.config` of every planned step against its op's zod schema. Runs where the
 * schemas live (the code-location process, a run worker, `executeInProcess`), before a run starts.
 */
export function validateOpConfigs(job: RuntimeJob, runConfig: Record<string, unknown>, plan?: ExecutionPlan): OpConfigIssue[] {
  const ops = (runConfig.ops ?? {}) as Record<string, { config?: unknown } | undefined>;
  const issues: OpConfigIssue[] = [];
  const keys = plan ? plan.steps.map((s) => s.key) : [...job.steps.keys()];
  for (const key of keys) {
    const step = job.steps.get(key);
    const snapshot = job.snapshot.steps.find((s) => s.key === key);
    if (!step || !snapshot) continue;
    const name = key in ops ? key : snapshot.node;
    const given = ops[name]?.config;
    const schema = step.op.configSchema;
    if (!schema) {
      if (given !== undefined && given !== null && !(typeof given === "object" && Object.keys(given as object).length === 0)) {
        issues.push({ path: ["ops", name, "config"], message: `op "${step.op.name}" takes no config` });
      }
      continue;
    }
    const parsed = schema.safeParse(given ?? {});
    if (!parsed.success) {
      for (const i of parsed.error.issues) issues.push({ path: ["ops", name, "config", ...(i.path as (string | number)[])], message: i.message });
    }
  }
  return issues;
}

/** Job default run config (Dagster's `config=`) under the config a launch provides. */
export function mergeRunConfig(defaults: Record<string, unknown> | undefined, given: Record<string, unknown> | undefined): Record<string, unknown> {
  return deepMerge(defaults ?? {}, given ?? {}) as Record<string, unknown>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
  return out;
}
