import type { SourcePosition } from "./markers";

// Frames inside the SDK itself (bundled or from source, source-mapped or not) are never the
// definition site.
const SDK_FRAME = /[\\/](?:src[\\/]sdk|dist[\\/]sdk)[\\/]/;
const FRAME = /\(?((?:file:\/\/)?[^()\s]+?):(\d+):(\d+)\)?$/;

/** The first stack frame outside the SDK: the user's call to op()/job()/asset(). */
export function captureSource(): SourcePosition {
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
