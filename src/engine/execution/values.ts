// Step outputs cross processes and runs as files, so values must survive a trip through text.
// Plain JSON loses Dates, Maps, Sets, BigInts, binary data, undefined and non-finite numbers;
// those are written as tagged objects and restored on read.
const TAG = "$sluice";

type Tagged = { [TAG]: string; v?: unknown };

function encode(value: unknown, seen: Set<object>): unknown {
  if (value === undefined) return { [TAG]: "undefined" };
  if (typeof value === "bigint") return { [TAG]: "BigInt", v: value.toString() };
  if (typeof value === "number") {
    if (Number.isFinite(value)) return Object.is(value, -0) ? { [TAG]: "Number", v: "-0" } : value;
    return { [TAG]: "Number", v: String(value) };
  }
  if (typeof value !== "object" || value === null) {
    if (typeof value === "function" || typeof value === "symbol") {
      throw new TypeError(`cannot store a ${typeof value} as an output value`);
    }
    return value;
  }
  if (seen.has(value)) throw new TypeError("cannot store an output value that contains a cycle");
  seen.add(value);
  try {
    if (value instanceof Date) return { [TAG]: "Date", v: Number.isNaN(value.getTime()) ? null : value.toISOString() };
    if (Buffer.isBuffer(value)) return { [TAG]: "Buffer", v: value.toString("base64") };
    if (value instanceof Uint8Array) return { [TAG]: "Uint8Array", v: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
    if (value instanceof Map) return { [TAG]: "Map", v: [...value].map(([k, v]) => [encode(k, seen), encode(v, seen)]) };
    if (value instanceof Set) return { [TAG]: "Set", v: [...value].map((v) => encode(v, seen)) };
    if (value instanceof RegExp) return { [TAG]: "RegExp", v: [value.source, value.flags] };
    if (value instanceof Error) return { [TAG]: "Error", v: { name: value.name, message: value.message, stack: value.stack } };
    if (Array.isArray(value)) return value.map((v) => encode(v, seen));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === "function" || typeof v === "symbol") continue;
      out[k] = encode(v, seen);
    }
    // An object that happens to use our tag key is escaped so decoding cannot mistake it.
    return TAG in out ? { [TAG]: "Object", v: out } : out;
  } finally {
    seen.delete(value);
  }
}

function decode(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(decode);
  const obj = value as Record<string, unknown>;
  if (typeof obj[TAG] === "string") {
    const { [TAG]: tag, v } = obj as Tagged;
    switch (tag) {
      case "undefined": return undefined;
      case "BigInt": return BigInt(v as string);
      case "Number": return v === "-0" ? -0 : Number(v);
      case "Date": return new Date(v === null ? NaN : (v as string));
      case "Buffer": return Buffer.from(v as string, "base64");
      case "Uint8Array": return new Uint8Array(Buffer.from(v as string, "base64"));
      case "Map": return new Map((v as [unknown, unknown][]).map(([k, x]) => [decode(k), decode(x)]));
      case "Set": return new Set((v as unknown[]).map(decode));
      case "RegExp": return new RegExp(...(v as [string, string]));
      case "Error": {
        const e = v as { name: string; message: string; stack?: string };
        return Object.assign(new Error(e.message), { name: e.name, stack: e.stack });
      }
      case "Object": return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, decode(x)]));
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = decode(v);
  return out;
}

export function serializeValue(value: unknown): string {
  // Strings, booleans, null and plain numbers are their own JSON (most small outputs).
  if (typeof value === "string" || typeof value === "boolean" || value === null) return JSON.stringify(value);
  if (typeof value === "number" && Number.isFinite(value) && !Object.is(value, -0)) return JSON.stringify(value);
  return JSON.stringify(encode(value, new Set()));
}

export function deserializeValue(text: string): unknown {
  return decode(JSON.parse(text));
}
