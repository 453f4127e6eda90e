// Python string behaviour the selection messages depend on. Dagster strips clauses with
// str.strip() and prints selection lists with repr(), so users see the same text as in Dagster.

// str.strip() whitespace (str.isspace): differs from JS trim() by \x1c-\x1f and \x85 (Python
// strips them) and \ufeff (Python keeps it). A clause that parses here must parse in Dagster.
const PY_WS = "[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const PY_STRIP = new RegExp(`^${PY_WS}+|${PY_WS}+$`, "g");

export function pyStrip(s: string): string {
  return s.replace(PY_STRIP, "");
}

// Characters repr() escapes: everything not "printable" (Unicode C*, Z* except the plain space).
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;
const SHORT_ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** repr(str): single quotes unless the text has a ' and no ", then double quotes. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote) out += "\\" + ch;
    else if (SHORT_ESCAPES[ch]) out += SHORT_ESCAPES[ch];
    else if (ch !== " " && NON_PRINTABLE.test(ch)) {
      const [prefix, width] = cp < 0x100 ? ["\\x", 2] : cp < 0x10000 ? ["\\u", 4] : ["\\U", 8];
      out += prefix + cp.toString(16).padStart(width as number, "0");
    } else out += ch;
  }
  return out + quote;
}

/** repr(list[str]), e.g. ['*add_nums', 'a']. */
export function pyListRepr(items: readonly string[]): string {
  return `[${items.map(pyStrRepr).join(", ")}]`;
}
