// What the schemas say about a key path of sluice.yaml or of a run config file, for hover, completion
// and quick fixes: description, default, what the value must be, enum values, and child keys. The
// instance and run config keys come from the engine's zod schemas (instanceKeyInfo,
// runConfigKeyInfo); `ops.<op>.config.*` from the op's JSON Schema in the definitions snapshot.
import type { ConfigPath, KeyInfo } from "../../engine/config/fields";
import { instanceKeyInfo } from "../../engine/config/instanceSchema";
import { runConfigKeyInfo } from "../../engine/config/runConfigSchema";
import type { JobSnapshot } from "../../engine/definitions/snapshot";
import type { SluiceDocumentKind } from "../diagnostics/documents";
import { describeJsonSchema, yamlScalar } from "../../engine/config/jsonSchemaCheck";
import { runConfigShapeOf } from "../diagnostics/runConfig";

export interface KeyDocs {
  description?: string;
  hasDefault: boolean;
  default?: unknown;
  /** What the value must be: "must be an integer >= 0" (zod schemas) or "an integer between 1 and 10" (JSON Schema). */
  expect?: string;
  /** Enum values as YAML source text (quoted where YAML needs it), or a selector's choices. */
  allowed?: string[];
  /** Keys of a map value (a selector's keys are its choices). */
  keys: string[];
  /** A map with exactly one key out of `keys` (Dagster's Selector, e.g. `start_method`). */
  selector: boolean;
  isMap: boolean;
  isList: boolean;
  isBoolean: boolean;
}

export interface JobLookup {
  readonly hasDefinitions: boolean;
  getJob(name: string): JobSnapshot | undefined;
}

function fromKeyInfo(info: KeyInfo): KeyDocs {
  const selector = !!info.allowed && info.keys.length > 0 && info.allowed.every((a) => info.keys.includes(a));
  const expect = info.expect;
  return {
    description: info.description,
    hasDefault: info.default !== undefined,
    default: info.default,
    expect,
    allowed: info.allowed?.map(yamlScalar),
    keys: info.keys,
    selector,
    isMap: info.keys.length > 0 || /^must be a map\b/.test(expect ?? ""),
    isList: /^must be a list\b/.test(expect ?? "") || Array.isArray(info.default),
    isBoolean: expect === "must be true or false" || typeof info.default === "boolean",
  };
}

/** The job a run config file configures (undefined: no definitions yet, or no such job). */
function jobOf(kind: SluiceDocumentKind, lookup: JobLookup): JobSnapshot | undefined {
  return kind.kind === "runConfig" && lookup.hasDefinitions ? lookup.getJob(kind.jobName) : undefined;
}

/** Docs of the key at `path` ([] = the document itself); undefined for a path the schemas do not know. */
export function keyDocs(kind: SluiceDocumentKind, lookup: JobLookup, path: ConfigPath): KeyDocs | undefined {
  if (kind.kind === "instance") {
    const info = instanceKeyInfo(path);
    return info && fromKeyInfo(info);
  }
  const job = jobOf(kind, lookup);
  const shape = job ? runConfigShapeOf(job) : undefined;
  if (job && path[0] === "ops" && typeof path[1] === "string") {
    const step = job.steps.find((s) => s.key === path[1]);
    if (step && path.length === 2) {
      const info = runConfigKeyInfo(path, shape);
      const docs = info && fromKeyInfo(info);
      if (docs && step.description) docs.description = `${step.description}\n\n${docs.description ?? ""}`.trim();
      return docs;
    }
    if (step && path.length >= 3 && path[2] === "config") {
      if (!step.configSchema) {
        const info = runConfigKeyInfo(path.slice(0, 3), shape);
        return path.length === 3 && info ? { ...fromKeyInfo(info), keys: [], isMap: false } : undefined;
      }
      const d = describeJsonSchema(step.configSchema, path.slice(3));
      if (!d) return undefined;
      const base = path.length === 3 ? runConfigKeyInfo(path, shape) : undefined;
      return {
        description: d.description ?? base?.description,
        hasDefault: d.hasDefault,
        default: d.default,
        expect: d.type,
        allowed: d.allowed,
        keys: d.keys,
        selector: false,
        isMap: d.isMap,
        isList: d.isList,
        isBoolean: d.isBoolean,
      };
    }
  }
  const info = runConfigKeyInfo(path, shape);
  return info && fromKeyInfo(info);
}
