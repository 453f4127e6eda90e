// The owner's side of the owner socket: dispatches requests to handlers.
import { chmodSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { isMainThread } from "node:worker_threads";
import type { RpcError, RpcRequest, RpcResponse } from "./protocol";

export interface RpcContext {
  /** Sends a notification for this request (e.g. events of a run being watched). */
  notify(data: unknown): void;
  /** Called when the client goes away before the request finished. */
  onClose(callback: () => void): void;
  readonly closed: boolean;
}

export type RpcHandler = (params: unknown, ctx: RpcContext) => Promise<unknown>;

export class OwnerServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly handlers: Record<string, RpcHandler>,
    private readonly toError: (e: unknown) => RpcError,
  ) {}

  /** Listens on `path`, readable and writable only by this user. */
  listen(path: string): Promise<void> {
    rmSync(path, { force: true }); // left by a dead owner (we hold the lock, so it is not anyone's)
    // A worker thread (the VS Code extension's engine) cannot set the umask: it listens in a private
    // folder instead and moves the socket, already 0600, into place.
    if (!isMainThread) return this.listenPrivately(path);
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      const previous = process.umask(0o177);
      try {
        server.listen(path, () => {
          server.off("error", reject);
          try {
            chmodSync(path, 0o600);
          } catch {
            // best effort: the umask already made it 0600
          }
          resolve();
        });
      } finally {
        process.umask(previous);
      }
    });
  }

  private async listenPrivately(path: string): Promise<void> {
    const dir = mkdtempSync(join(dirname(path), ".sock-")); // 0700
    const tmp = join(dir, "s");
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(tmp, () => {
          server.off("error", reject);
          resolve();
        });
      });
      chmodSync(tmp, 0o600);
      renameSync(tmp, path);
      this.movedTo = path;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Where a privately created socket was moved (its file is removed on close). */
  private movedTo: string | undefined;

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.movedTo) rmSync(this.movedTo, { force: true });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setEncoding("utf8");
    let buffer = "";
    const closeCallbacks: (() => void)[] = [];
    let closed = false;
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim()) this.handle(line, socket, closeCallbacks, () => closed);
      }
    });
    const onGone = () => {
      if (closed) return;
      closed = true;
      this.sockets.delete(socket);
      for (const cb of closeCallbacks.splice(0)) {
        try {
          cb();
        } catch {
          // a handler's cleanup must not break the others
        }
      }
    };
    socket.on("close", onGone);
    socket.on("error", onGone);
  }

  private handle(line: string, socket: Socket, closeCallbacks: (() => void)[], isClosed: () => boolean): void {
    let request: RpcRequest;
    try {
      request = JSON.parse(line) as RpcRequest;
    } catch {
      return;
    }
    const write = (response: RpcResponse) => {
      if (!socket.destroyed && socket.writable) socket.write(JSON.stringify(response) + "\n");
    };
    const handler = Object.prototype.hasOwnProperty.call(this.handlers, request.method) ? this.handlers[request.method] : undefined;
    if (!handler) {
      write({ id: request.id, error: { kind: "input", message: `The owner does not understand "${request.method}" (is it an older Sluice?).` } });
      return;
    }
    const ctx: RpcContext = {
      notify: (data) => write({ id: request.id, notify: data }),
      onClose: (cb) => closeCallbacks.push(cb),
      get closed() {
        return isClosed();
      },
    };
    handler(request.params, ctx).then(
      (result) => write({ id: request.id, result: result ?? null }),
      (e: unknown) => write({ id: request.id, error: this.toError(e) }),
    );
  }
}
