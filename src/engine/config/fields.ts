// Building blocks for the config schemas. Every field carries, next to its zod schema, the sentence
// that says what it accepts ("must be -1 (unlimited) or >= 0"), so that an error message, a hover
// and a completion all come from the same place. Field infos live in a zod registry.
import { z } from "zod";

export { show, suggest } from "./text";

export type ConfigPath = (string | number)[];

export interface FieldInfo {
  /** What the value must be, as the end of "`key` <expect>, got X". */
  expect: string;
  /** A complete message instead (Dagster's own wording for a few keys). */
  message?: (value: unknown) => string;
  /** Enum values, or a selector's choices (for quick fixes and completions). */
  allowed?: string[];
  /** A selector: a map with exactly one key out of `allowed` (Dagster's Selector). */
  selector?: boolean;
}

export const fieldInfo = z.registry<FieldInfo>();

function withInfo<T extends z.ZodType>(schema: T, info: FieldInfo): T {
  fieldInfo.add(schema, info);
  return schema;
}

export function int(o: { min?: number; max?: number; expect?: string; message?: (v: unknown) => string } = {}) {
  let s = z.number().int();
  if (o.min !== undefined) s = s.gte(o.min);
  if (o.max !== undefined) s = s.lte(o.max);
  const range =
    o.min !== undefined && o.max !== undefined ? `between ${o.min} and ${o.max}`
    : o.min !== undefined ? `>= ${o.min}`
    : o.max !== undefined ? `<= ${o.max}` : "";
  return withInfo(s, { expect: o.expect ?? `must be an integer${range ? " " + range : ""}`, message: o.message });
}

/** A duration in seconds: any number >= 0 (fractions allowed; Dagster takes integers). */
export function seconds() {
  return withInfo(z.number().gte(0), { expect: "must be a number of seconds >= 0" });
}

export function bool() {
  return withInfo(z.boolean(), { expect: "must be true or false" });
}

export function str(expect = "must be a non-empty string") {
  return withInfo(z.string().min(1), { expect });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, message?: (v: unknown) => string) {
  return withInfo(z.enum(values), {
    expect: `must be one of ${values.map((v) => `'${v}'`).join(", ")}`,
    allowed: [...values],
    message,
  });
}

/** A strict map: unknown keys are errors. */
export function section<S extends z.ZodRawShape>(shape: S, expect?: string) {
  const keys = Object.keys(shape);
  return withInfo(z.strictObject(shape), {
    expect: expect ?? (keys.length ? `must be a map with keys ${keys.join(", ")}` : "must be an empty map ({})"),
  });
}

export function list<T extends z.ZodType>(item: T, expect: string) {
  return withInfo(z.array(item), { expect });
}

/** `{}` or an empty YAML value (`spawn:`), as Dagster accepts for a selector branch without config. */
export function emptyOr<T extends z.ZodType>(schema: T, expect = "must be a map (or empty)") {
  return withInfo(z.union([schema, z.null()]), { expect });
}

/**
 * Dagster's Selector: a map with at most one key among `options` (none selects `defaultKey`).
 * The "exactly one" rule is checked by `selectorIssues` so that it is reported even when the
 * branches hold other errors.
 */
export function selector<S extends Record<string, z.ZodType>>(options: S, what: string) {
  const keys = Object.keys(options);
  const shape = Object.fromEntries(keys.map((k) => [k, options[k].optional()])) as { [K in keyof S]: z.ZodOptional<S[K]> };
  return withInfo(z.strictObject(shape).meta({ maxProperties: 1 }), {
    expect: `must be a map with one key, the ${what}: ${keys.join(" or ")}`,
    allowed: keys,
    selector: true,
  });
}

// ---- schema introspection (used for messages, hovers and completions) ----

interface Def {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  in?: z.ZodType;
  defaultValue?: unknown;
  entries?: Record<string, string>;
}

export function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional"]);

/** The chain of wrappers from `schema` down to its core schema (inclusive). */
export function wrapperChain(schema: z.ZodType): z.ZodType[] {
  const chain = [schema];
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const d = defOf(s);
    const next = WRAPPERS.has(d.type) ? d.innerType : d.type === "pipe" ? d.in : undefined;
    if (!next) break;
    chain.push(next);
    s = next;
  }
  return chain;
}

export function unwrap(schema: z.ZodType): z.ZodType {
  const chain = wrapperChain(schema);
  return chain[chain.length - 1];
}

/** The object schemas a value at `schema` may be (through unions such as emptyOr). */
function objectsOf(schema: z.ZodType): z.ZodType[] {
  const core = unwrap(schema);
  const d = defOf(core);
  if (d.type === "object") return [core];
  if (d.type === "union") return (d.options ?? []).flatMap(objectsOf);
  return [];
}

/** The schema of the child `seg` of `schema`, through wrappers and unions. */
export function childSchema(schema: z.ZodType, seg: string | number): z.ZodType | undefined {
  const core = unwrap(schema);
  const d = defOf(core);
  switch (d.type) {
    case "object":
      return Object.prototype.hasOwnProperty.call(d.shape, seg) ? d.shape?.[String(seg)] : undefined;
    case "array":
      return typeof seg === "number" ? d.element : undefined;
    case "record":
      return d.valueType;
    case "union":
      for (const o of d.options ?? []) {
        const c = childSchema(o, seg);
        if (c) return c;
      }
      return undefined;
    default:
      return undefined;
  }
}

export function schemaAt(schema: z.ZodType, path: ConfigPath): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (const seg of path) {
    if (!s) return undefined;
    s = childSchema(s, seg);
  }
  return s;
}

export function infoOf(schema: z.ZodType | undefined): FieldInfo | undefined {
  if (!schema) return undefined;
  for (const s of wrapperChain(schema)) {
    const i = fieldInfo.get(s);
    if (i) return i;
  }
  return undefined;
}

/** The keys a map at `schema` accepts (empty for records or non-maps). */
export function keysOf(schema: z.ZodType | undefined): string[] {
  if (!schema) return [];
  return [...new Set(objectsOf(schema).flatMap((o) => Object.keys(defOf(o).shape ?? {})))];
}

export interface KeyInfo {
  description?: string;
  /** The default when the key is absent (undefined when there is none). */
  default?: unknown;
  /** What the value must be ("must be an integer >= 0"). */
  expect?: string;
  /** Enum values or selector choices. */
  allowed?: string[];
  /** Keys of a map value (for completions). */
  keys: string[];
}

/** Hover and completion data for the key at `path` of `schema`; undefined for an unknown key. */
export function describeKey(schema: z.ZodType, path: ConfigPath): KeyInfo | undefined {
  const s = schemaAt(schema, path);
  if (!s) return undefined;
  let description: string | undefined;
  let dflt: unknown;
  for (const w of wrapperChain(s)) {
    description ??= w.description;
    const d = defOf(w);
    if ((d.type === "default" || d.type === "prefault") && dflt === undefined) dflt = d.defaultValue;
  }
  const info = infoOf(s);
  return { description, default: dflt, expect: info?.expect, allowed: info?.allowed, keys: keysOf(s) };
}
