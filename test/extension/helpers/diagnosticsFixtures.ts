// Definitions snapshots for the diagnostics and language tests: hello_job as the New Job File
// template defines it (return_one → add_two → multi_three), with a richer op config schema.
import type { DefinitionsSnapshot, JobSnapshot, LoadError, StepSnapshot } from "../../../src/engine/definitions/snapshot";

/** A sluice.yaml with three mistakes, for the unit tests and the in-host suite (which both expect the same rows). */
export const BROKEN_SLUICE_YAML = `# instance settings (deliberately broken by the diagnostics suite)
concurrency:
  runs:
    max_concurrent_runs: -2
  pools:
    granularity: opp
run_monitorin:
  enabled: true
`;

function step(key: string, o: Partial<StepSnapshot> & { inputNames?: string[] } = {}): StepSnapshot {
  const { inputNames, ...rest } = o;
  return {
    key, node: key, opName: key, inputs: (inputNames ?? []).map((name) => ({ name, sources: [], fanIn: false })), outputs: [], tags: {},
    pool: null, retryPolicy: null, configSchema: null, source: { file: "/w/pipelines/hello.ts", line: 1, column: 1 }, ...rest,
  };
}

/** hello_job as the New Job File template defines it, with a richer op config schema (as `z.toJSONSchema` makes it). */
export const MULTI_THREE_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    factor: { default: 3, description: "What to multiply by.", type: "number" },
    mode: { type: "string", enum: ["fast", "slow"] },
    retries: { type: "integer", minimum: 0, maximum: 5 },
    tags: { type: "array", items: { type: "string" } },
    target: { type: "object", properties: { table: { type: "string", minLength: 1 } }, required: ["table"], additionalProperties: false },
  },
  required: ["factor", "mode"],
  additionalProperties: false,
};

export function helloJob(): JobSnapshot {
  return {
    name: "hello_job", kind: "job", tags: {}, source: { file: "/w/pipelines/hello.ts", line: 20, column: 14 },
    executor: { name: "multi_or_in_process", builtin: "multi_or_in_process" }, opRetryPolicy: null, nodes: [],
    steps: [
      step("return_one", { description: "Returns one." }),
      step("add_two", { inputNames: ["i"] }),
      step("multi_three", { inputNames: ["i"], configSchema: MULTI_THREE_SCHEMA }),
    ],
  };
}

export function snapshotOf(jobs: JobSnapshot[], errors: LoadError[] = []): DefinitionsSnapshot {
  return { workspace: "/w", loadedAt: 0, files: [], jobs, assets: [], errors };
}
