// A small JSON Schema checker for op config: the subset that zod's `toJSONSchema` emits for config
// objects (type, properties, required, additionalProperties, enum/const, minimum/maximum and their
// exclusive forms, string and array lengths, items/prefixItems, anyOf/oneOf/allOf, local $ref,
// default). The op's zod schema itself lives in user code, which never runs in the extension host;
// the definitions snapshot carries its JSON Schema instead. No vscode here: the launchpad's host can
// use it too. Unknown keywords pass.
//
// Two differences from a generic validator, both to agree with how the engine applies the zod schema:
// - a required property that has a `default` is not required (zod fills it in; `toJSONSchema` lists
//   defaulted keys under `required` because it describes the output);
// - an unknown key is a warning, not an error: a plain `z.object` strips unknown keys at run time
//   (the JSON Schema says `additionalProperties: false` for both z.object and z.strictObject).
import { show, suggest } from "./text";

export type Json = Record<string, unknown>;
export type SchemaPath = (string | number)[];

export interface SchemaProblem {
  /** Relative to the value that was checked. */
  path: SchemaPath;
  message: string;
  /** invalid-value | missing-key | unknown-key */
  code: "invalid-value" | "missing-key" | "unknown-key";
  severity: "error" | "warning";
  /** Enum values as YAML source text (invalid-value), or the valid keys (unknown-key). */
  allowed?: string[];
  /** The closest valid key ("did you mean"). */
  suggestion?: string;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function typeMatches(expected: string, actual: string): boolean {
  return expected === actual || (expected === "number" && actual === "integer");
}

/** A scalar as messages show it: strings bare, others as JSON. */
function scalarText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

const YAML_SPECIAL = /^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?(?:\.?\d.*|\.inf|\.nan))$/i;

/** A scalar as YAML source text: a string quoted when YAML would read it as something else. */
export function yamlScalar(v: unknown): string {
  if (typeof v !== "string") return v === undefined ? "null" : JSON.stringify(v);
  return /^[A-Za-z_/][\w./-]*(?: [\w./-]+)*$/.test(v) && !YAML_SPECIAL.test(v) ? v : JSON.stringify(v);
}

/** Follows a local `$ref` (#/$defs/x, #/definitions/x) against `root`; other refs are left alone. */
function deref(schema: unknown, root: unknown, depth = 0): Json | undefined {
  if (!isObject(schema)) return undefined;
  const ref = schema.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#") || depth > 20) return schema;
  let target: unknown = root;
  for (const part of ref.slice(1).split("/").filter(Boolean)) {
    const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
    target = isObject(target) ? target[key] : undefined;
  }
  const resolved = deref(target, root, depth + 1);
  if (!resolved) return undefined;
  // keywords next to $ref (draft 2019+) apply too
  const { $ref: _ref, ...rest } = schema;
  return Object.keys(rest).length ? { ...resolved, ...rest } : resolved;
}

function typesOf(s: Json): string[] {
  return Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === "string" ? [s.type] : [];
}

function alternativesOf(s: Json): unknown[] | undefined {
  const alts = s.anyOf ?? s.oneOf;
  return Array.isArray(alts) ? alts : undefined;
}

/** `allOf` folded into one schema (properties merged, required concatenated); others as they are. */
function merged(schema: unknown, root: unknown): Json | undefined {
  const s = deref(schema, root);
  if (!s || !Array.isArray(s.allOf)) return s;
  const { allOf, ...rest } = s;
  const out: Json = {};
  for (const part of [...(allOf as unknown[]).map((a) => merged(a, root)), rest]) {
    if (!part) continue;
    for (const [k, v] of Object.entries(part)) {
      if (k === "properties" && isObject(v)) out.properties = { ...(isObject(out.properties) ? out.properties : {}), ...v };
      else if (k === "required" && Array.isArray(v)) out.required = [...(Array.isArray(out.required) ? out.required : []), ...v];
      else out[k] = v;
    }
  }
  return out;
}

/** "an integer between 1 and 10", "a string", "one of 'a', 'b'", "a map", ... */
function describeType(schema: unknown, root: unknown = schema): string {
  const s = merged(schema, root);
  if (!s) return "any value";
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((e) => `'${scalarText(e)}'`).join(", ")}`;
  if ("const" in s) return `'${scalarText(s.const)}'`;
  const alts = alternativesOf(s);
  if (alts) return [...new Set(alts.map((a) => describeType(a, root)))].join(" or ");
  const types = typesOf(s);
  if (types.length === 0) return isObject(s.properties) ? "a map" : "any value";
  return types
    .map((t) => {
      const base = t === "integer" ? "an integer" : t === "number" ? "a number" : t === "string" ? "a string" : t === "boolean" ? "true or false"
        : t === "array" ? "a list" : t === "object" ? "a map" : t === "null" ? "null" : t;
      if (t === "integer" || t === "number") {
        const lo = typeof s.minimum === "number" ? s.minimum : undefined;
        const hi = typeof s.maximum === "number" ? s.maximum : undefined;
        if (lo !== undefined && hi !== undefined) return `${base} between ${lo} and ${hi}`;
        if (lo !== undefined) return `${base} >= ${lo}`;
        if (hi !== undefined) return `${base} <= ${hi}`;
        if (typeof s.exclusiveMinimum === "number") return `${base} > ${s.exclusiveMinimum}`;
        if (typeof s.exclusiveMaximum === "number") return `${base} < ${s.exclusiveMaximum}`;
      }
      return base;
    })
    .join(" or ");
}

function nameOf(path: SchemaPath, rootName: string): string {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === "string") return `\`${path.slice(i).map((p, j) => (typeof p === "number" ? `[${p}]` : j ? `.${p}` : p)).join("")}\``;
  return rootName;
}

export interface CheckOptions {
  /** How to name the value in messages ("op config"). */
  rootName?: string;
  /** Where the value sits, for messages about unknown keys ("ops.my_op.config"). */
  location?: string;
}

/** Checks `value` against `schema`; problems carry paths relative to `value`. Never throws. */
export function checkJsonSchema(schema: unknown, value: unknown, options: CheckOptions = {}): SchemaProblem[] {
  const rootName = options.rootName ?? "the value";
  const root = schema;

  const check = (raw: unknown, v: unknown, path: SchemaPath): SchemaProblem[] => {
    const s = merged(raw, root);
    if (!s || v === undefined) return [];
    const out: SchemaProblem[] = [];
    const invalid = (message: string, allowed?: string[]) => {
      const p: SchemaProblem = { path, message: `${nameOf(path, rootName)} ${message}, got ${show(v)}`, code: "invalid-value", severity: "error" };
      if (allowed) p.allowed = allowed;
      out.push(p);
    };
    const alts = alternativesOf(s);
    if (alts) {
      const results = alts.map((a) => check(a, v, path));
      if (results.some((r) => r.length === 0)) return out;
      // the alternative that matches the value's type decides (a map → the map branch)
      const actual = typeOf(v);
      const typed = alts
        .map((a, i) => ({ a: deref(a, root), r: results[i] }))
        .filter(({ a }) => a && typesOf(a).some((t) => typeMatches(t, actual)) && !Array.isArray(a.enum) && !("const" in a));
      if (typed.length === 1) out.push(...typed[0].r);
      else {
        const enums = alts.flatMap((a) => {
          const d = deref(a, root);
          return d && Array.isArray(d.enum) ? d.enum.map(yamlScalar) : d && "const" in d ? [yamlScalar(d.const)] : [];
        });
        invalid(`must be ${describeType(s, root)}`, enums.length ? enums : undefined);
      }
      return out;
    }
    if (Array.isArray(s.enum)) {
      if (!s.enum.some((e) => e === v)) invalid(`must be ${describeType(s, root)}`, s.enum.map(yamlScalar));
      return out;
    }
    if ("const" in s) {
      if (s.const !== v) invalid(`must be ${describeType(s, root)}`, [yamlScalar(s.const)]);
      return out;
    }
    const actual = typeOf(v);
    const types = typesOf(s);
    if (types.length > 0 && !types.some((t) => typeMatches(t, actual))) {
      invalid(`must be ${describeType(s, root)}`);
      return out;
    }
    if (typeof v === "number") {
      const tooLow = (typeof s.minimum === "number" && v < s.minimum) || (typeof s.exclusiveMinimum === "number" && v <= s.exclusiveMinimum);
      const tooHigh = (typeof s.maximum === "number" && v > s.maximum) || (typeof s.exclusiveMaximum === "number" && v >= s.exclusiveMaximum);
      if (tooLow || tooHigh) invalid(`must be ${describeType(s, root)}`);
      if (typeof s.multipleOf === "number" && s.multipleOf > 0 && Math.abs(v / s.multipleOf - Math.round(v / s.multipleOf)) > 1e-9) invalid(`must be a multiple of ${s.multipleOf}`);
    }
    if (typeof v === "string") {
      if (typeof s.minLength === "number" && v.length < s.minLength) invalid(s.minLength === 1 ? "must not be empty" : `must have at least ${s.minLength} characters`);
      if (typeof s.maxLength === "number" && v.length > s.maxLength) invalid(`must have at most ${s.maxLength} characters`);
      if (typeof s.pattern === "string") {
        let re: RegExp | undefined;
        try {
          re = new RegExp(s.pattern, "u");
        } catch {
          re = undefined;
        }
        if (re && !re.test(v)) invalid(`must match /${s.pattern}/`);
      }
    }
    if (Array.isArray(v)) {
      if (typeof s.minItems === "number" && v.length < s.minItems) invalid(`must have at least ${s.minItems} item(s)`);
      if (typeof s.maxItems === "number" && v.length > s.maxItems) invalid(`must have at most ${s.maxItems} item(s)`);
      const tuple = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : undefined;
      v.forEach((item, i) => {
        const itemSchema = tuple ? (i < tuple.length ? tuple[i] : isObject(s.items) ? s.items : s.additionalItems) : s.items;
        if (isObject(itemSchema)) out.push(...check(itemSchema, item, [...path, i]));
      });
    }
    if (isObject(v)) {
      const props = isObject(s.properties) ? s.properties : {};
      const keys = Object.keys(props);
      for (const req of Array.isArray(s.required) ? (s.required as string[]) : []) {
        if (req in v) continue;
        const prop = deref(props[req], root);
        if (prop && "default" in prop) continue;
        out.push({
          path: [...path, req],
          message: `missing required key \`${req}\`${prop ? `, which must be ${describeType(prop, root)}` : ""}`,
          code: "missing-key",
          severity: "error",
        });
      }
      for (const [k, x] of Object.entries(v)) {
        if (Object.prototype.hasOwnProperty.call(props, k)) out.push(...check(props[k], x, [...path, k]));
        else if (s.additionalProperties === false) {
          const suggestion = suggest(k, keys);
          const where = path.length ? `\`${[options.location, ...path.map(String)].filter(Boolean).join(".")}\`` : options.location ? `\`${options.location}\`` : rootName;
          const p: SchemaProblem = {
            path: [...path, k],
            message: `unknown key \`${k}\` in ${where}: the op's config schema does not have it.${suggestion ? ` Did you mean \`${suggestion}\`?` : ""} Valid keys: ${keys.join(", ") || "(none)"}.`,
            code: "unknown-key",
            severity: "warning",
            allowed: keys,
          };
          if (suggestion) p.suggestion = suggestion;
          out.push(p);
        } else if (isObject(s.additionalProperties)) out.push(...check(s.additionalProperties, x, [...path, k]));
      }
      const count = Object.keys(v).length;
      if (typeof s.minProperties === "number" && count < s.minProperties) invalid(`must have at least ${s.minProperties} key(s)`);
      if (typeof s.maxProperties === "number" && count > s.maxProperties) invalid(`must have at most ${s.maxProperties} key(s)`);
    }
    return out;
  };
  try {
    return check(schema, value, []);
  } catch {
    return [];
  }
}

// ---- lookups for hover and completion ----

export interface SchemaDoc {
  description?: string;
  /** "an integer >= 1", "one of 'a', 'b'" */
  type: string;
  hasDefault: boolean;
  default?: unknown;
  /** Enum (or const) values, as YAML source text. */
  allowed?: string[];
  /** Property names of a map value. */
  keys: string[];
  /** The value is a map / a list (for completions that open a block). */
  isMap: boolean;
  isList: boolean;
  isBoolean: boolean;
}

/** The schema of the child `seg`, through $ref, anyOf/oneOf/allOf, properties, items, additionalProperties. */
function childOf(schema: unknown, seg: string | number, root: unknown): Json | undefined {
  const s = deref(schema, root);
  if (!s) return undefined;
  for (const key of ["allOf", "anyOf", "oneOf"]) {
    const alts = s[key];
    if (Array.isArray(alts))
      for (const a of alts) {
        const c = childOf(a, seg, root);
        if (c) return c;
      }
  }
  if (typeof seg === "number") {
    if (Array.isArray(s.prefixItems) && seg < s.prefixItems.length) return deref(s.prefixItems[seg], root);
    if (Array.isArray(s.items)) return seg < s.items.length ? deref(s.items[seg], root) : undefined;
    return isObject(s.items) ? deref(s.items, root) : undefined;
  }
  if (isObject(s.properties) && Object.prototype.hasOwnProperty.call(s.properties, seg)) return deref(s.properties[seg], root);
  return isObject(s.additionalProperties) ? deref(s.additionalProperties, root) : undefined;
}

function jsonSchemaAt(schema: unknown, path: SchemaPath): Json | undefined {
  let s: Json | undefined = deref(schema, schema);
  for (const seg of path) {
    if (!s) return undefined;
    s = childOf(s, seg, schema);
  }
  return s;
}

/** All the alternatives a schema stands for (through $ref and anyOf/oneOf/allOf). */
function flatten(schema: unknown, root: unknown, depth = 0): Json[] {
  const s = deref(schema, root);
  if (!s || depth > 10) return [];
  const out = [s];
  for (const key of ["allOf", "anyOf", "oneOf"]) {
    const alts = s[key];
    if (Array.isArray(alts)) for (const a of alts) out.push(...flatten(a, root, depth + 1));
  }
  return out;
}

/** Hover and completion data for the value at `path` of `schema`; undefined when the path leaves the schema. */
export function describeJsonSchema(schema: unknown, path: SchemaPath): SchemaDoc | undefined {
  const s = jsonSchemaAt(schema, path);
  if (!s) return undefined;
  const all = flatten(s, schema);
  const description = all.map((a) => a.description).find((d): d is string => typeof d === "string");
  const withDefault = all.find((a) => "default" in a);
  const allowed = [...new Set(all.flatMap((a) => (Array.isArray(a.enum) ? a.enum.map(yamlScalar) : "const" in a ? [yamlScalar(a.const)] : [])))];
  const keys = [...new Set(all.flatMap((a) => (isObject(a.properties) ? Object.keys(a.properties) : [])))];
  const types = new Set(all.flatMap(typesOf));
  return {
    description,
    type: describeType(s, schema),
    hasDefault: !!withDefault,
    default: withDefault?.default,
    allowed: allowed.length ? allowed : undefined,
    keys,
    isMap: types.has("object") || keys.length > 0,
    isList: types.has("array"),
    isBoolean: types.has("boolean"),
  };
}
