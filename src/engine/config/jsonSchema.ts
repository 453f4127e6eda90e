// JSON Schemas generated from the zod schemas (shipped in schemas/, contributed to the YAML extension).
import { z } from "zod";
import { instanceConfigSchema } from "./instanceSchema";
import { runConfigSchema, type RunConfigJob } from "./runConfigSchema";

type JsonSchema = Record<string, unknown>;

/** Drops the ±2^53 bounds that zod adds to every integer. */
function clean(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clean);
  if (typeof v !== "object" || v === null) return v;
  const out: JsonSchema = {};
  for (const [k, x] of Object.entries(v)) {
    if ((k === "maximum" && x === Number.MAX_SAFE_INTEGER) || (k === "minimum" && x === Number.MIN_SAFE_INTEGER)) continue;
    out[k] = clean(x);
  }
  return out;
}

function toJson(schema: z.ZodType, title: string, description: string): JsonSchema {
  const js = z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-07" });
  return { ...(clean(js) as JsonSchema), title, description };
}

/** JSON Schema of sluice.yaml, with every key's description and default. */
export function instanceJsonSchema(): JsonSchema {
  return toJson(instanceConfigSchema, "sluice.yaml", "Sluice instance configuration (keys of dagster.yaml).");
}

/**
 * JSON Schema of a run config file. Without a job: any op names and the default executor. With
 * `opConfigSchemas` (op name → JSON Schema of its config), each op's `config` is described too.
 */
export function runConfigJsonSchema(job?: Omit<RunConfigJob, "validateOpConfig"> & { opConfigSchemas?: Record<string, JsonSchema> }): JsonSchema {
  const js = toJson(runConfigSchema(job), "Sluice run config", "Run config of a Sluice job (Dagster's shape).");
  const ops = (js.properties as Record<string, JsonSchema> | undefined)?.ops?.properties as Record<string, JsonSchema> | undefined;
  for (const [op, schema] of Object.entries(job?.opConfigSchemas ?? {})) {
    const props = ops?.[op]?.properties as Record<string, JsonSchema> | undefined;
    if (props) props.config = schema;
  }
  return js;
}
