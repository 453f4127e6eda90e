// Run config validation for the editor: the structure (top-level keys, executor config, op names,
// op inputs) with the engine's `validateRunConfig`, and each op's config against the JSON Schema
// that the definitions snapshot carries for it (the op's zod schema lives in user code, which never
// runs in the extension host). No vscode here: the launchpad's host can reuse it as it is.
import { runConfigSchema, validateRunConfig, type RunConfigJob } from "../../engine/config/runConfigSchema";
import { type ConfigIssue, getIn, isPlainMap, issueAt, parseYaml, sortIssues, validateWithSchema } from "../../engine/config/yamlPositions";
import type { JobSnapshot, StepSnapshot } from "../../engine/definitions/snapshot";
import { checkJsonSchema } from "../../engine/config/jsonSchemaCheck";
import { runConfigShapeOf as shapeOf } from "../../protocol/webviewShared";

export interface ConfigProblem extends ConfigIssue {
  severity: "error" | "warning";
}

/** Stable diagnostic codes of op config problems (the other codes are ConfigIssue's). */
export const OpConfigCodes = {
  invalid: "op-config",
  missing: "op-config-missing",
  unknownKey: "op-config-unknown-key",
  notTaken: "op-config-not-taken",
} as const;

/**
 * The job a run config file belongs to: its name up to the first dot (`orders_job.run.yaml` and
 * `orders_job.prod.run.yaml` → `orders_job`; also `.run.yml`); undefined for other files.
 */
export function jobNameOfRunConfigFile(fsPath: string): string | undefined {
  return /(?:^|[\\/])([^\\/.]+)(?:\.[^\\/]*)?\.run\.ya?ml$/.exec(fsPath)?.[1];
}

/** What `validateRunConfig` needs to know about a job in a definitions snapshot (webviewShared's shape). */
export function runConfigShapeOf(job: JobSnapshot): Omit<RunConfigJob, "validateOpConfig"> {
  return shapeOf({ executor: job.executor.name, executorBuiltin: job.executor.builtin, steps: job.steps.map((s) => ({ key: s.key, inputs: s.inputs.map((i) => i.name) })) });
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (isPlainMap(v) && Object.keys(v).length === 0);
}

/** One op's config against its step's JSON Schema (what the engine's zod check would say). */
export function opConfigProblems(step: Pick<StepSnapshot, "key" | "opName" | "configSchema">, value: unknown) {
  if (!step.configSchema) {
    return isEmpty(value)
      ? []
      : [{ path: [] as (string | number)[], message: `op \`${step.opName}\` takes no config`, code: OpConfigCodes.notTaken, severity: "error" as const }];
  }
  // the engine parses `config ?? {}`: no config is an empty map (defaults fill in)
  const given = value === undefined || value === null ? {} : value;
  return checkJsonSchema(step.configSchema, given, { rootName: "op config", location: `ops.${step.key}.config` }).map((p) => ({
    ...p,
    code: p.code === "missing-key" ? OpConfigCodes.missing : p.code === "unknown-key" ? OpConfigCodes.unknownKey : OpConfigCodes.invalid,
    message: p.code === "missing-key" && (value === undefined || value === null) ? `op \`${step.key}\` needs config: ${p.message}` : p.message,
  }));
}

/**
 * Problems of a run config file for `job`, positioned in `text` (1-based lines and columns). Without
 * a job (no definitions loaded yet), only what holds for every job: top-level keys and the default
 * executor's config. Never throws.
 */
export function validateRunConfigText(text: string, file: string, job?: JobSnapshot): ConfigProblem[] {
  const parsed = parseYaml(text, file);
  const errors = (issues: ConfigIssue[]): ConfigProblem[] => issues.map((i) => ({ ...i, severity: "error" }));
  if (parsed.issues.length) return errors(parsed.issues);
  const value = parsed.value === null || parsed.value === undefined ? {} : parsed.value;
  if (!job) {
    const generic = validateWithSchema(runConfigSchema(), value, { parsed, file, rootName: "run config" });
    return errors(generic.issues);
  }
  const steps = new Map(job.steps.map((s) => [s.key, s]));
  const opProblems: ConfigProblem[] = [];
  const shape: RunConfigJob = {
    ...runConfigShapeOf(job),
    // called by validateRunConfig for every op of the job whose entry is a map (or absent)
    validateOpConfig: (op, config) => {
      const step = steps.get(op);
      if (!step) return [];
      for (const p of opConfigProblems(step, config)) {
        const path = ["ops", op, "config", ...p.path];
        const present = p.code !== OpConfigCodes.missing && getIn(value, path) !== undefined;
        const issue = issueAt(parsed, file, path, {
          code: p.code,
          message: p.message,
          target: !present ? "map" : p.code === OpConfigCodes.unknownKey || p.code === OpConfigCodes.notTaken ? "key" : "value",
          allowed: "allowed" in p ? p.allowed : undefined,
          suggestion: "suggestion" in p ? p.suggestion : undefined,
        });
        opProblems.push({ ...issue, severity: p.severity });
      }
      return [];
    },
  };
  const structural = validateRunConfig(text, file, shape).issues;
  return sortIssues([...errors(structural), ...opProblems]) as ConfigProblem[];
}
