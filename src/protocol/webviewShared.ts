// Pure helpers shared by the panel's host and the webview bundle (no Node, no VS Code, no zod):
// - splitting a snapshot part into messages and joining them again (the host splits so that no
//   single postMessage serialises a huge object in one long task; the webview joins);
// - the run config "shape" of a job (what validateRunConfig needs) and a small JSON Schema check
//   of op config, used where the op's zod schema (user code) cannot run.
import { checkJsonSchema } from "../engine/config/jsonSchemaCheck";

/**
 * Splits a part's value into chunks of at most `maxItems` array items each (counting every array
 * field of the top-level object). Chunk 0 carries the scalar fields; all chunks carry every array
 * field (possibly empty), so concatenating the arrays restores the value.
 */
export function chunkPart(value: unknown, maxItems: number): unknown[] {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    if (Array.isArray(value) && value.length > maxItems) {
      const out: unknown[] = [];
      for (let i = 0; i < value.length; i += maxItems) out.push(value.slice(i, i + maxItems));
      return out;
    }
    return [value];
  }
  const obj = value as Record<string, unknown>;
  const arrays = Object.keys(obj).filter((k) => Array.isArray(obj[k]));
  const total = arrays.reduce((n, k) => n + (obj[k] as unknown[]).length, 0);
  if (total <= maxItems) return [value];
  const chunks: Record<string, unknown>[] = [];
  let current: Record<string, unknown> = {};
  let room = maxItems;
  const start = () => {
    current = chunks.length === 0 ? Object.fromEntries(Object.entries(obj).filter(([k]) => !arrays.includes(k))) : {};
    for (const k of arrays) current[k] = [];
    room = maxItems;
    chunks.push(current);
  };
  start();
  for (const k of arrays) {
    const items = obj[k] as unknown[];
    let i = 0;
    while (i < items.length) {
      if (room === 0) start();
      const take = Math.min(room, items.length - i);
      (current[k] as unknown[]).push(...items.slice(i, i + take));
      i += take;
      room -= take;
    }
  }
  return chunks;
}

/** Inverse of chunkPart. */
export function mergeChunks(chunks: unknown[]): unknown {
  if (chunks.length === 1) return chunks[0];
  if (chunks.every((c) => Array.isArray(c))) return (chunks as unknown[][]).flat();
  const out: Record<string, unknown> = { ...(chunks[0] as Record<string, unknown>) };
  for (let i = 1; i < chunks.length; i++) {
    for (const [k, v] of Object.entries(chunks[i] as Record<string, unknown>)) {
      if (Array.isArray(v)) out[k] = [...((out[k] as unknown[]) ?? []), ...v];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// run config

interface JobShapeSource {
  executor: string;
  executorBuiltin?: string;
  steps: { key: string; inputs: string[] }[];
}

/** What `validateRunConfig` needs to know about a job (as `Instance.readRunConfig` builds it). */
export function runConfigShapeOf(job: JobShapeSource): { opNames: string[]; executorName: string; opInputs: Record<string, string[]> } {
  return {
    opNames: job.steps.map((s) => s.key),
    executorName: job.executorBuiltin ?? job.executor,
    opInputs: Object.fromEntries(job.steps.map((s) => [s.key, s.inputs])),
  };
}

type Json = Record<string, unknown>;

/** An op's config against its JSON Schema, as `RunConfigJob.validateOpConfig` wants it (undefined = not given). */
export function checkOpConfig(schema: Record<string, unknown> | null | undefined, value: unknown): { path: (string | number)[]; message: string }[] {
  if (!schema) return [];
  if (value === undefined) {
    const required = ((schema.required as string[] | undefined) ?? []).filter((k) => !((schema.properties as Json | undefined)?.[k] as Json | undefined)?.default);
    return required.length > 0 && schema.type === "object" ? [{ path: [], message: `op config is required (missing ${required.join(", ")})` }] : [];
  }
  return checkJsonSchema(schema, value, { rootName: "op config" }).map(({ path, message }) => ({ path, message }));
}
