// Where the cursor is in a block-style YAML document, read from indentation alone, so that it works
// while the user is typing (half-typed keys make the YAML invalid, and a parser then says little).
// Handles keys, nested maps, block sequences (`- key: v`, also at the parent's indentation), quoted
// keys, comments and block scalars; flow collections (`{a: 1}`) are treated as values.
import type { ConfigPath } from "../../engine/config/fields";

export interface CursorContext {
  /** key: a key is being typed in the map at `path`; value: the value of the key at `path`. */
  on: "key" | "value";
  path: ConfigPath;
  /** The text typed so far (before the cursor) of the key or value. */
  partial: string;
  /** 0-based columns on the cursor's line of what a completion replaces. */
  replaceStart: number;
  replaceEnd: number;
  /** Column where the key starts (for indenting what a completion inserts below it). */
  keyCol: number;
  /** Value: the column just after the key's colon. */
  colonEnd?: number;
  /** Keys already present in the map (for `on: "key"`). */
  present: Set<string>;
}

interface LineInfo {
  indent: number;
  /** Columns of the `- ` sequence markers at the start of the line. */
  dashes: number[];
  keyCol: number;
  key?: string;
  /** Text after the key's colon (trimmed), when there is a key. */
  value?: string;
}

interface Frame {
  col: number;
  seg: string | number | undefined;
  kind: "root" | "key" | "item";
  items: number;
  keys: Set<string>;
}

const KEY = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#:'"[\]{},-][^#:]*?|-[^\s#:][^#:]*?)\s*:(?=\s|$)/;

function unquote(k: string): string {
  if (k.startsWith('"')) {
    try {
      return JSON.parse(k) as string;
    } catch {
      return k.slice(1, -1);
    }
  }
  return k.startsWith("'") ? k.slice(1, -1).replace(/''/g, "'") : k;
}

/** Parses the start of a line; undefined for blank and comment lines. */
function lineInfo(text: string): LineInfo | undefined {
  let i = text.length - text.trimStart().length;
  if (i >= text.length || text[i] === "#") return undefined;
  const indent = i;
  const dashes: number[] = [];
  while (text[i] === "-" && (i + 1 === text.length || text[i + 1] === " ")) {
    dashes.push(i);
    i++;
    while (text[i] === " ") i++;
  }
  const rest = text.slice(i);
  const m = KEY.exec(rest);
  if (!m) return { indent, dashes, keyCol: i };
  return { indent, dashes, keyCol: i, key: unquote(m[1]), value: rest.slice(m[0].length).replace(/\s#.*$/, "").trim() };
}

class Stack {
  readonly frames: Frame[] = [{ col: -1, seg: undefined, kind: "root", items: 0, keys: new Set() }];

  get top(): Frame {
    return this.frames[this.frames.length - 1];
  }

  item(col: number): void {
    // a sequence may sit at its parent key's indentation (`key:\n- a`): that key stays
    while (this.frames.length > 1 && (this.top.col > col || (this.top.col === col && this.top.kind === "item"))) this.frames.pop();
    const parent = this.top;
    this.frames.push({ col, seg: parent.items++, kind: "item", items: 0, keys: new Set() });
  }

  key(col: number, key: string): void {
    this.popTo(col);
    this.top.keys.add(key);
    this.frames.push({ col, seg: key, kind: "key", items: 0, keys: new Set() });
  }

  popTo(col: number): void {
    while (this.frames.length > 1 && this.top.col >= col) this.frames.pop();
  }

  path(): ConfigPath {
    return this.frames.slice(1).map((f) => f.seg as string | number);
  }
}

/** The context at (line, character), 0-based; undefined inside comments, flow collections, block scalars or odd lines. */
export function cursorContext(text: string, line: number, character: number): CursorContext | undefined {
  const lines = text.split(/\r?\n/);
  if (line >= lines.length) return undefined;
  const stack = new Stack();
  let blockScalarCol: number | undefined;
  for (let l = 0; l < line; l++) {
    const info = lineInfo(lines[l]);
    if (!info) continue;
    if (blockScalarCol !== undefined) {
      if (info.indent > blockScalarCol) continue;
      blockScalarCol = undefined;
    }
    if (info.indent === 0 && /^(---|\.\.\.)(\s|$)/.test(lines[l])) continue;
    for (const d of info.dashes) stack.item(d);
    if (info.key !== undefined) {
      stack.key(info.keyCol, info.key);
      if (/^[|>][-+0-9]*$/.test(info.value ?? "")) blockScalarCol = info.keyCol;
    }
  }
  const full = lines[line];
  const before = full.slice(0, character);
  if (blockScalarCol !== undefined && before.length - before.trimStart().length > blockScalarCol) return undefined;
  if (/(^|\s)#/.test(before)) return undefined;
  // the line's start up to the cursor: indentation, `- ` markers, then a key or `key: value`
  let i = before.length - before.trimStart().length;
  const dashes: number[] = [];
  while (before[i] === "-" && (i + 1 === before.length ? false : before[i + 1] === " ")) {
    dashes.push(i);
    i++;
    while (before[i] === " ") i++;
  }
  const rest = before.slice(i);
  const keyCol = i;
  const isNewItem = dashes.length > 0;
  for (const d of dashes) stack.item(d);
  // a key being typed
  if (/^[^\s:#'"[\]{},]*$/.test(rest)) {
    stack.popTo(keyCol);
    let end = character;
    while (end < full.length && /[^\s:#]/.test(full[end])) end++;
    const present = new Set(isNewItem ? [] : stack.top.keys);
    // keys below the cursor in the same map
    for (let l = line + 1; l < lines.length; l++) {
      const info = lineInfo(lines[l]);
      if (!info) continue;
      const first = info.dashes.length ? info.dashes[0] : info.keyCol;
      if (first < keyCol) break;
      if (info.keyCol === keyCol && info.dashes.length === 0 && info.key !== undefined) present.add(info.key);
    }
    return { on: "key", path: stack.path(), partial: rest, replaceStart: character - rest.length, replaceEnd: end, keyCol, present };
  }
  // a value being typed: `key: partial`
  const m = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#:'"[\]{},][^#:]*?)\s*:(\s*)([^\s{}[\],#]*)$/.exec(rest);
  if (!m) return undefined;
  const key = unquote(m[1]);
  stack.key(keyCol, key);
  const partial = m[3];
  let end = character;
  while (end < full.length && /[^\s#,\]}]/.test(full[end])) end++;
  const colonEnd = keyCol + m[0].length - m[2].length - partial.length;
  return { on: "value", path: stack.path(), partial, replaceStart: character - partial.length, replaceEnd: end, keyCol, colonEnd, present: new Set() };
}
