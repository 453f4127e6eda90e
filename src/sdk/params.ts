/**
 * Parameter names of a function, read from its source text. Ops take `ctx` first and their inputs
 * after it; like Dagster, the parameter names become the input names. Destructured or otherwise
 * unnamed parameters get `input<N>`.
 */
export function parameterNames(fn: Function): string[] {
  const text = Function.prototype.toString.call(fn);
  const list = parameterListText(text);
  if (list === undefined) return [];
  return splitTopLevel(list)
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p, i) => {
      const m = /^(?:\.\.\.)?\s*([A-Za-z_$][\w$]*)/.exec(p);
      return m ? m[1] : `input${i}`;
    });
}

function parameterListText(text: string): string | undefined {
  let s = text.trimStart();
  if (s.startsWith("async")) s = s.slice(5).trimStart();
  // `x => ...` (single bare parameter)
  const bare = /^([A-Za-z_$][\w$]*)\s*=>/.exec(s);
  if (bare) return bare[1];
  const open = s.indexOf("(");
  if (open < 0) return undefined;
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) return s.slice(open + 1, i);
    } else if (c === '"' || c === "'" || c === "`") {
      i = skipString(s, i);
    }
  }
  return undefined;
}

function skipString(s: string, start: number): number {
  const quote = s[start];
  for (let i = start + 1; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === quote) return i;
  }
  return s.length;
}

function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === '"' || c === "'" || c === "`") i = skipString(list, i);
    else if (c === "," && depth === 0) {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(list.slice(start));
  return parts;
}
