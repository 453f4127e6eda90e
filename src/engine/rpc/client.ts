// A `sluice` process talking to the owner of its home over the owner socket.
import { connect, type Socket } from "node:net";
import type { RpcError, RpcResponse } from "./protocol";

export class RpcRemoteError extends Error {
  constructor(readonly error: RpcError) {
    super(error.message);
    this.name = "RpcRemoteError";
  }
}

/** The connection dropped before the answer came (the owner exited or crashed). */
export class OwnerGoneError extends Error {
  constructor(message = "the owner process went away") {
    super(message);
    this.name = "OwnerGoneError";
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  onNotify?(data: unknown): void;
}

export class OwnerClient {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private buffer = "";
  private gone = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.onData(chunk));
    const onGone = () => this.fail(new OwnerGoneError());
    socket.on("close", onGone);
    socket.on("error", onGone);
  }

  static connect(path: string, timeoutMs = 2000): Promise<OwnerClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new OwnerGoneError(`timed out connecting to ${path}`));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        resolve(new OwnerClient(socket));
      });
      socket.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  call<T = unknown>(method: string, params?: unknown, onNotify?: (data: unknown) => void): Promise<T> {
    if (this.gone) return Promise.reject(new OwnerGoneError());
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onNotify });
      this.socket.write(JSON.stringify({ id, method, params }) + "\n");
    });
  }

  close(): void {
    this.gone = true;
    this.socket.end();
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (!line.trim()) continue;
      let message: RpcResponse;
      try {
        message = JSON.parse(line) as RpcResponse;
      } catch {
        continue;
      }
      const p = this.pending.get(message.id);
      if (!p) continue;
      if ("notify" in message) p.onNotify?.(message.notify);
      else {
        this.pending.delete(message.id);
        if ("error" in message) p.reject(new RpcRemoteError(message.error));
        else p.resolve(message.result);
      }
    }
  }

  private fail(error: Error): void {
    this.gone = true;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
