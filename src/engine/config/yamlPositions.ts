// YAML with positions: parse keeping every node's source range, validate with a zod schema, and
// turn each problem into a ConfigIssue that names file, line, column, key path and the allowed values.
import { LineCounter, parseDocument, isMap, isSeq, isScalar, isPair, isCollection } from "yaml";
import type { Document, Pair, Node as YamlNode } from "yaml";
import type { z } from "zod";
import { type ConfigPath, childSchema, infoOf, keysOf, schemaAt, show, suggest } from "./fields";

export type { ConfigPath } from "./fields";

export interface ConfigIssue {
  file: string;
  /** 1-based; 0 when the value did not come from a file (no positions). */
  line: number;
  column: number;
  /** 1-based, exclusive (the column just after the last character); a range never spans past its first line. */
  endLine: number;
  endColumn: number;
  path: ConfigPath;
  /** e.g. "concurrency.runs.max_concurrent_runs", "ops.my_op.config.factor", "concurrency.runs.tag_concurrency_limits[0].limit" */
  keyPath: string;
  message: string;
  /** Stable id: yaml-syntax, duplicate-key, not-a-map, invalid-value, unknown-key, missing-key, conflict, selector, op-config, read-error */
  code: string;
  /** Enum values or valid keys (for quick fixes). */
  allowed?: string[];
  /** The closest valid key or name for an unknown one ("did you mean"). */
  suggestion?: string;
}

export interface ParsedYaml {
  file: string;
  text: string;
  doc: Document;
  lineCounter: LineCounter;
  /** The plain value (undefined when the YAML has syntax errors; null for an empty document). */
  value: unknown;
  /** YAML syntax errors (duplicate keys and tabs included). */
  issues: ConfigIssue[];
}

export function keyPathOf(path: ConfigPath): string {
  let s = "";
  for (const seg of path) s += typeof seg === "number" ? `[${seg}]` : s ? `.${seg}` : seg;
  return s;
}

/** `sluice.yaml:4:26: concurrency.runs.max_concurrent_runs: <message>` */
export function formatIssue(i: ConfigIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}:${i.column}` : i.file;
  return `${where}: ${i.keyPath ? i.keyPath + ": " : ""}${i.message}`;
}

/** Thrown by the programmatic resolve functions when given invalid config. */
export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "ConfigError";
  }
}

export function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues
    .filter((i) => {
      const k = `${i.keyPath}\0${i.message}\0${i.line}:${i.column}`;
      return seen.has(k) ? false : (seen.add(k), true);
    })
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

// ---- plain-value helpers ----

export function isPlainMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function getIn(value: unknown, path: ConfigPath): unknown {
  let v = value;
  for (const seg of path) {
    if (Array.isArray(v) && typeof seg === "number") v = v[seg];
    else if (isPlainMap(v) && Object.prototype.hasOwnProperty.call(v, seg)) v = v[seg];
    else return undefined;
  }
  return v;
}

/** True when the last key of `path` is present (even with an empty value). */
export function hasIn(value: unknown, path: ConfigPath): boolean {
  if (path.length === 0) return value !== undefined;
  const parent = getIn(value, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent)) return typeof last === "number" && last < parent.length;
  return isPlainMap(parent) && Object.prototype.hasOwnProperty.call(parent, last);
}

// ---- parsing and positions ----

export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const parsed: ParsedYaml = { file, text, doc, lineCounter, value: undefined, issues: [] };
  for (const e of doc.errors) {
    const at = e.code === "DUPLICATE_KEY" ? nodeAt(parsed, e.pos[0]) : undefined;
    if (at?.on === "key") {
      const message = `duplicate key \`${at.path[at.path.length - 1]}\`: a key may appear only once in a map`;
      parsed.issues.push(makeIssue(parsed, file, at.path, { code: "duplicate-key", message }, at.range));
      continue;
    }
    // An error at the end of the text (unclosed bracket or quote) is shown on the last character.
    let start = e.pos[0];
    if (start >= text.trimEnd().length) start = Math.max(0, text.trimEnd().length - 1);
    const message = e.message.split("\n")[0] + (e.code === "TAB_AS_INDENT" ? " (indent with spaces)" : "");
    parsed.issues.push(makeIssue(parsed, file, [], { code: "yaml-syntax", message }, [start, Math.max(e.pos[1], start + 1)]));
  }
  if (parsed.issues.length === 0) {
    try {
      parsed.value = doc.toJS({ maxAliasCount: 1000 }) ?? null;
    } catch (err) {
      parsed.issues.push(makeIssue(parsed, file, [], { code: "yaml-syntax", message: String((err as Error)?.message ?? err) }, [0, 1]));
    }
  }
  parsed.issues = sortIssues(parsed.issues);
  return parsed;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function rangeOfNode(n: unknown): [number, number] | undefined {
  const r = (n as YamlNode | null)?.range;
  return r ? [r[0], r[1]] : undefined;
}

interface Walk {
  node: unknown;
  /** The pair whose value is `node` (undefined for a list item or the root). */
  pair?: Pair;
  found: boolean;
}

function walk(doc: Document, path: ConfigPath): Walk {
  let node: unknown = doc.contents;
  let pair: Pair | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const p = node.items.find((it) => keyText(it.key) === String(seg));
      if (!p) return { node, pair, found: false };
      [node, pair] = [p.value, p];
    } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
      [node, pair] = [node.items[seg], undefined];
    } else return { node, pair, found: false };
  }
  return { node, pair, found: true };
}

/**
 * Where a key path is in the file: `value` = its value node, `key` = its key, `map` = the key of the
 * map at `path` (for a missing key of that map). A path that is not (fully) in the file resolves to
 * its deepest ancestor that is; an empty value resolves to its key.
 */
export function rangeOf(parsed: ParsedYaml, path: ConfigPath, target: "value" | "key" | "map" = "value"): [number, number] {
  const w = walk(parsed.doc, path);
  const keyRange = w.pair ? rangeOfNode(w.pair.key) : undefined;
  const valueRange = rangeOfNode(w.node);
  let r: [number, number] | undefined;
  if (!w.found || target === "key" || target === "map") r = keyRange ?? valueRange;
  else r = valueRange && valueRange[1] > valueRange[0] ? valueRange : keyRange ?? valueRange;
  return r ?? [0, 0];
}

function position(parsed: ParsedYaml, [start, end]: [number, number]) {
  const s = parsed.lineCounter.linePos(start);
  const nl = parsed.text.indexOf("\n", start);
  let stop = Math.min(end, parsed.text.length);
  if (nl >= 0 && nl < stop) stop = nl > start && parsed.text[nl - 1] === "\r" ? nl - 1 : nl;
  if (stop <= start) stop = Math.min(start + 1, Math.max(parsed.text.length, start));
  const e = parsed.lineCounter.linePos(stop);
  return { line: s.line, column: s.col, endLine: s.line, endColumn: e.line === s.line ? e.col : s.col + 1 };
}

export interface IssueInit {
  code: string;
  message: string;
  target?: "value" | "key" | "map";
  allowed?: string[];
  suggestion?: string;
}

function makeIssue(parsed: ParsedYaml | undefined, file: string, path: ConfigPath, init: IssueInit, range?: [number, number]): ConfigIssue {
  const pos = parsed ? position(parsed, range ?? rangeOf(parsed, path, init.target)) : { line: 0, column: 0, endLine: 0, endColumn: 0 };
  const issue: ConfigIssue = { file, ...pos, path, keyPath: keyPathOf(path), message: init.message, code: init.code };
  if (init.allowed) issue.allowed = init.allowed;
  if (init.suggestion) issue.suggestion = init.suggestion;
  return issue;
}

/** A ConfigIssue at `path` (positioned when `parsed` is given). */
export function issueAt(parsed: ParsedYaml | undefined, file: string, path: ConfigPath, init: IssueInit): ConfigIssue {
  return makeIssue(parsed, file, path, init);
}

export interface NodeAt {
  /** Key path of the key or value under the offset. On a key being typed, the last element is the partial key ("" on a blank line). */
  path: ConfigPath;
  on: "key" | "value";
  /** Source range [start, end) of the node under the offset. */
  range: [number, number];
}

/** What is at `offset` of the document: the key path, and whether on a key or on a value. */
export function nodeAt(parsed: ParsedYaml, offset: number): NodeAt | undefined {
  const text = parsed.text;
  const sameLine = (a: number, b: number) => !text.slice(Math.min(a, b), Math.max(a, b)).includes("\n");
  const inside = (r: [number, number] | undefined) => !!r && r[0] <= offset && offset <= r[1] && r[1] > r[0];
  const visit = (node: unknown, path: ConfigPath): NodeAt | undefined => {
    if (isMap(node)) {
      const pairs = node.items.filter(isPair);
      // Keys first: a value's range may end exactly where the next key starts.
      for (const pair of pairs) {
        const kr = rangeOfNode(pair.key);
        if (inside(kr)) return { path: [...path, keyText(pair.key)], on: "key", range: kr! };
      }
      for (const pair of pairs) {
        const k = keyText(pair.key);
        const kr = rangeOfNode(pair.key);
        const vr = rangeOfNode(pair.value);
        if (inside(vr)) {
          if (isCollection(pair.value)) return visit(pair.value, [...path, k]) ?? { path: [...path, k], on: "value", range: vr! };
          return { path: [...path, k], on: "value", range: vr! };
        }
        const empty = pair.value === null || (isScalar(pair.value) && (pair.value.value === null || pair.value.value === ""));
        if (kr && empty && offset > kr[1] && sameLine(kr[1], offset) && text.slice(kr[1], offset).trimStart().startsWith(":"))
          return { path: [...path, k], on: "value", range: [offset, offset] };
      }
    } else if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) {
        const it = node.items[i];
        const r = rangeOfNode(it);
        if (inside(r)) return isCollection(it) ? visit(it, [...path, i]) ?? { path: [...path, i], on: "value", range: r! } : { path: [...path, i], on: "value", range: r! };
      }
    }
    return undefined;
  };
  const hit = visit(parsed.doc.contents, []);
  if (hit) return hit;
  // A new key being typed: the latest block map that starts before the offset at the same indentation.
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  const m = /^(\s*(?:-\s+)?)([^\s:#]*)$/.exec(before);
  if (!m) return undefined;
  const col = m[1].length;
  let best: { path: ConfigPath; start: number } | undefined;
  const collect = (node: unknown, path: ConfigPath) => {
    if (isMap(node)) {
      const start = rangeOfNode(node)?.[0];
      if (start !== undefined && start < offset && start - (text.lastIndexOf("\n", start - 1) + 1) === col && (!best || start >= best.start)) best = { path, start };
      for (const p of node.items) if (isPair(p)) collect(p.value, [...path, keyText(p.key)]);
    } else if (isSeq(node)) node.items.forEach((it, i) => collect(it, [...path, i]));
  };
  collect(parsed.doc.contents, []);
  const mapPath = best?.path ?? (col === 0 ? [] : undefined);
  return mapPath && { path: [...mapPath, m[2]], on: "key", range: [offset - m[2].length, offset] };
}

// ---- schema validation ----

export interface ValidateOptions {
  /** The YAML the value came from (positions); without it issues have line 0. */
  parsed?: ParsedYaml;
  file: string;
  /** How to name the whole document in messages ("sluice.yaml", "run config"). */
  rootName: string;
  /** Extra advice for an unknown key (e.g. a dagster.yaml key Sluice does not use). */
  unknownKeyHint?: (path: ConfigPath, key: string) => string | undefined;
  /** What the keys of the map at `path` are, for messages ("op", "input"); default "key". */
  keyKind?: (path: ConfigPath) => string | undefined;
}

function nameOf(path: ConfigPath, rootName: string): string {
  let i = path.length - 1;
  while (i >= 0 && typeof path[i] === "number") i--;
  return i < 0 && path.length === 0 ? rootName : `\`${keyPathOf(path.slice(Math.max(i, 0)))}\``;
}

/** Validates `value` with `schema`; never throws. */
export function validateWithSchema<S extends z.ZodType>(schema: S, value: unknown, o: ValidateOptions): { data?: z.output<S>; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const at = (path: ConfigPath, init: IssueInit) => issues.push(makeIssue(o.parsed, o.file, path, init));

  const unknownKey = (path: ConfigPath, key: string) => {
    const parent = schemaAt(schema, path);
    const info = infoOf(parent);
    const valid = keysOf(parent);
    const suggestion = suggest(key, valid);
    const mean = suggestion ? ` Did you mean \`${suggestion}\`?` : "";
    let message: string;
    const what = path[path.length - 1] === "config" ? `\`${keyPathOf(path)}\`` : nameOf(path, o.rootName);
    if (info?.selector) message = `\`${key}\` is not a valid choice for ${what}: expected ${valid.map((k) => `\`${k}\``).join(" or ")}.${mean}`;
    else {
      const kind = o.keyKind?.(path) ?? "key";
      const where = path.length ? ` in \`${keyPathOf(path)}\`` : " at the top level";
      const hint = o.unknownKeyHint?.(path, key);
      message = `unknown ${kind} \`${key}\`${where}.${mean}${hint ? " " + hint : ""} Valid ${kind}s: ${valid.join(", ") || "(none)"}.`;
    }
    at([...path, key], { code: "unknown-key", message, target: "key", allowed: valid, suggestion });
  };

  const leaf = (path: ConfigPath, fallback: string) => {
    const s = schemaAt(schema, path);
    const info = infoOf(s);
    const last = path[path.length - 1];
    if (path.length > 0 && !hasIn(value, path) && typeof last === "string") {
      at(path.slice(0, -1), { code: "missing-key", message: `missing required key \`${last}\`${info ? `, which ${info.expect}` : ""}`, target: "map", allowed: [last] });
      return;
    }
    const v = getIn(value, path);
    if (info?.message) at(path, { code: "invalid-value", message: info.message(v), allowed: info.allowed });
    else if (path.length === 0 && !isPlainMap(v)) at(path, { code: "not-a-map", message: `${o.rootName} ${info?.expect ?? "must be a map"}, got ${show(v)}` });
    else at(path, { code: "invalid-value", message: `${nameOf(path, o.rootName)} ${info?.expect ?? fallback}, got ${show(v)}`, allowed: info?.allowed });
  };

  const visit = (zi: z.core.$ZodIssue, prefix: ConfigPath) => {
    const path = [...prefix, ...(zi.path as ConfigPath)];
    if (zi.code === "unrecognized_keys") for (const k of zi.keys) unknownKey(path, k);
    else if (zi.code === "invalid_union" && zi.errors.length > 0) {
      // Report the branch that matches the value's shape (a map → the map branch), else the union's expectation.
      const v = getIn(value, path);
      const typeOk = zi.errors.filter((errs) => !errs.some((e) => e.path.length === 0 && e.code === "invalid_type"));
      if (typeOk.length === 1 && v !== null && typeof v === "object") for (const e of typeOk[0]) visit(e, path);
      else leaf(path, "is invalid");
    } else leaf(path, zi.message);
  };

  const r = schema.safeParse(value);
  if (!r.success) for (const zi of r.error.issues) visit(zi, []);
  issues.push(...selectorIssues(schema, value, [], o));
  // A misspelt required key is reported once, as the unknown key with its suggestion.
  const typos = new Set(issues.filter((i) => i.code === "unknown-key" && i.suggestion).map((i) => keyPathOf([...i.path.slice(0, -1), i.suggestion!])));
  const kept = issues.filter((i) => !(i.code === "missing-key" && typos.has(keyPathOf([...i.path, i.allowed?.[0] ?? ""]))));
  const sorted = sortIssues(kept);
  return sorted.length ? { issues: sorted } : { data: r.data as z.output<S>, issues: [] };
}

/** Dagster's Selector rule: a selector map holds at most one key. */
function selectorIssues(schema: z.ZodType, value: unknown, path: ConfigPath, o: ValidateOptions): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const info = infoOf(schema);
  if (Array.isArray(value)) value.forEach((v, i) => {
    const c = childSchema(schema, i);
    if (c) out.push(...selectorIssues(c, v, [...path, i], o));
  });
  else if (isPlainMap(value)) {
    const keys = Object.keys(value);
    if (info?.selector) {
      const chosen = keys.filter((k) => info.allowed?.includes(k));
      if (chosen.length > 1)
        out.push(makeIssue(o.parsed, o.file, [...path, chosen[1]], {
          code: "selector",
          message: `${path.length ? `\`${keyPathOf(path)}\`` : o.rootName} must have exactly one of ${info.allowed!.map((k) => `\`${k}\``).join(", ")}, got ${chosen.map((k) => `\`${k}\``).join(" and ")}`,
          target: "key",
          allowed: info.allowed,
        }));
    }
    for (const k of keys) {
      const c = childSchema(schema, k);
      if (c) out.push(...selectorIssues(c, value[k], [...path, k], o));
    }
  }
  return out;
}
