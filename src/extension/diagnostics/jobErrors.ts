// Where a load error of a job file goes in the editor. The snapshot names a 1-based line and column
// (a syntax error's exact character, or the call of `job(...)`/`asset(...)`/`defineAssetJob(...)`
// that defines the broken definition). No vscode here.
import type { LoadError } from "../../engine/definitions/snapshot";

/** A 0-based range on one line. */
export interface LineRange {
  line: number;
  start: number;
  end: number;
}

/** Stable diagnostic code of a load error: `job-syntax`, `job-import`, `job-timeout`, `job-duplicate`, ... */
export function loadErrorCode(e: Pick<LoadError, "kind">): string {
  return `job-${e.kind}`;
}

const WORD = /[\w$]/;

/** The line's text without its trailing whitespace, from its first non-blank character. */
function nonBlank(line: number, text: string): LineRange {
  const start = text.length - text.trimStart().length;
  const end = text.trimEnd().length;
  return end > start ? { line, start, end } : { line, start: 0, end: text.length };
}

/** The token at `col` (0-based): an identifier, a string literal, or the one character there. */
function tokenAt(line: number, text: string, col: number): LineRange | undefined {
  const ch = text[col];
  if (ch === undefined || /\s/.test(ch)) return undefined;
  if (WORD.test(ch)) {
    let s = col;
    let e = col + 1;
    while (s > 0 && WORD.test(text[s - 1])) s--;
    while (e < text.length && WORD.test(text[e])) e++;
    return { line, start: s, end: e };
  }
  if (ch === '"' || ch === "'" || ch === "`") {
    let e = col + 1;
    while (e < text.length && text[e] !== ch) e += text[e] === "\\" ? 2 : 1;
    return { line, start: col, end: Math.min(e + 1, text.length) };
  }
  return { line, start: col, end: col + 1 };
}

/** The string literal of property `prop` (e.g. `name: "orders_job"`) within a few lines from `from`. */
function propertyLiteral(lines: string[], from: number, prop: string, value?: string): LineRange | undefined {
  const re = new RegExp(`\\b${prop}\\s*:\\s*(["'\`])`);
  for (let l = from; l < Math.min(lines.length, from + 15); l++) {
    if (l > from && /^\s*export\b/.test(lines[l])) break; // the next definition
    const m = re.exec(lines[l]);
    if (!m) continue;
    const start = m.index + m[0].length - 1;
    const tok = tokenAt(l, lines[l], start);
    if (tok && (value === undefined || lines[l].slice(tok.start + 1, tok.end - 1) === value)) return tok;
  }
  return undefined;
}

/**
 * The range of a load error in its file's text: a syntax error on the token at its column; a bad
 * selection on the `selection:` string of the asset job; a duplicate name on the `name:` string;
 * everything else on the whole line (its non-blank part).
 */
export function loadErrorRange(e: Pick<LoadError, "kind" | "line" | "column" | "name">, text: string): LineRange {
  const lines = text.split(/\r?\n/);
  const line = Math.min(Math.max(0, e.line - 1), Math.max(0, lines.length - 1));
  const lineText = lines[line] ?? "";
  if (e.kind === "syntax") {
    const col = Math.max(0, e.column - 1);
    return tokenAt(line, lineText, col) ?? nonBlank(line, lineText);
  }
  if (e.kind === "selection") return propertyLiteral(lines, line, "selection") ?? nonBlank(line, lineText);
  if (e.kind === "duplicate" && e.name) return propertyLiteral(lines, line, "name", e.name) ?? nonBlank(line, lineText);
  return nonBlank(line, lineText);
}
