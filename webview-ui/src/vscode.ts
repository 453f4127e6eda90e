// The webview's end of the protocol: acquireVsCodeApi once, typed post/request, and the host's
// messages delivered to one handler. UI state goes through getState/setState only.
import type { HostMessage, RequestResults, Route, WebviewMessage, WebviewRequest } from "../../src/protocol/webview";

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api: VsCodeApi =
  typeof acquireVsCodeApi === "function"
    ? acquireVsCodeApi()
    : { postMessage: () => undefined, getState: () => undefined, setState: () => undefined };

export const PROTOCOL = 1;

export function post(m: WebviewMessage): void {
  api.postMessage(m);
}

export function getState<T>(): T | undefined {
  return (api.getState() as T | undefined) ?? undefined;
}

export function setState(state: unknown): void {
  api.setState(state);
}

export class RequestError extends Error {
  constructor(
    message: string,
    readonly issues?: Extract<HostMessage, { type: "response"; ok: false }>["issues"],
  ) {
    super(message);
    this.name = "RequestError";
  }
}

let nextId = 1;
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

/** Sends a request; resolves with the host's result or rejects with a RequestError. */
export function request<K extends WebviewRequest["kind"]>(req: Extract<WebviewRequest, { kind: K }>): Promise<RequestResults[K]> {
  const id = nextId++;
  return new Promise<RequestResults[K]>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    post({ type: "request", id, request: req } as WebviewMessage);
  });
}

export function onHostMessage(handler: (m: Exclude<HostMessage, { type: "response" }>) => void): void {
  window.addEventListener("message", (e: MessageEvent) => {
    const m = e.data as HostMessage;
    if (!m || typeof m !== "object" || typeof (m as { type?: unknown }).type !== "string") return;
    if (m.type === "response") {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new RequestError(m.error, m.issues));
      return;
    }
    handler(m);
  });
}

export function logToHost(level: "info" | "warn" | "error", message: string): void {
  post({ type: "log", level, message: message.slice(0, 20000) });
}

export type { Route };
