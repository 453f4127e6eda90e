import type { SourcePosition } from "./markers";

// Frames inside the SDK itself (bundled or from source, source-mapped or not) are never the
// definition site.
const SDK_FRAME = /[\\/](?:src[\\/]sdk|dist[\\/]sdk)[\\/]/;
const FRAME = /\(?((?:file:\/\/)?[^()\s]+?):(\d+):(\d+)\)?$/;

/**
 * Set (to true, on globalThis) by processes that never show where definitions were written — the
 * multiprocess executor's step workers, which rebuild the job for every step. Composing a job then
 * reads no stack traces, which would otherwise be most of a step worker's start-up.
 */
export const NO_SOURCE_POSITIONS = Symbol.for("sluice.noSourcePositions");
const UNKNOWN: SourcePosition = Object.freeze({ file: "<unknown>", line: 1, column: 1 });

/** The first stack frame outside the SDK: the user's call to op()/job()/asset(). */
export function captureSource(): SourcePosition {
  if ((globalThis as Record<symbol, unknown>)[NO_SOURCE_POSITIONS] === true) return UNKNOWN;
  const stack = new Error().stack ?? "";
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line.trim());
    if (!m) continue;
    let file = m[1];
    if (SDK_FRAME.test(file) || file.startsWith("node:") || file.includes("node_modules/tsx/")) continue;
    if (file.startsWith("file://")) file = decodeURIComponent(new URL(file).pathname);
    return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return { file: "<unknown>", line: 1, column: 1 };
}
