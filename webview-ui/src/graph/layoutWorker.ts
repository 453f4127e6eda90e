// The layout worker: dagre runs here, off the webview's UI thread (and, being in the webview, far
// from the extension host). Messages: { id, input: LayoutInput, mode: "all" | "single" } → { id, result } | { id, error }.
import { layoutAll, layoutSingle, type LayoutInput } from "./layoutCore";

interface Req {
  id: number;
  input: LayoutInput;
  mode: "all" | "single";
}

const ctx = self as unknown as { onmessage: ((e: MessageEvent<Req>) => void) | null; postMessage(m: unknown): void };
ctx.onmessage = (e) => {
  const { id, input, mode } = e.data;
  try {
    const result = mode === "single" ? layoutSingle(input) : layoutAll(input);
    ctx.postMessage({ id, result });
  } catch (err) {
    ctx.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
