// The OwnerApi of another process: every call travels over the owner socket.
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import type { RunRecord, StoredEvent } from "../events";
import type { ReexecuteRequest } from "../execution/reexecution";
import { InputError, type LaunchRequest } from "../instance";
import type { CancelResult, FreeResult } from "../launcher/owner";
import type { PoolInfo } from "../pools/poolStore";
import type { ExecuteOptions, InstanceInfo, LaunchResult, OwnerApi, OwnerHello, WatchOptions } from "./api";
import { OwnerClient, RpcRemoteError } from "./client";

function rethrow(e: unknown): never {
  if (e instanceof RpcRemoteError && e.error.kind === "input") throw new InputError(e.error.message, (e.error.issues ?? []) as never[]);
  throw e;
}

/** Paths are resolved here: the owner's working directory is not ours. */
function portable(request: LaunchRequest): LaunchRequest {
  return request.runConfigFile ? { ...request, runConfigFile: resolve(request.runConfigFile) } : request;
}

export class RemoteOwner implements OwnerApi {
  readonly remote = true;

  constructor(private readonly client: OwnerClient, readonly ownerPid: number) {}

  close(): void {
    this.client.close();
  }

  private call<T>(method: string, params?: unknown, onNotify?: (data: unknown) => void): Promise<T> {
    return this.client.call<T>(method, params, onNotify).catch(rethrow);
  }

  hello(): Promise<OwnerHello> {
    return this.call("hello");
  }

  launch(request: LaunchRequest): Promise<LaunchResult> {
    return this.call("launch", { request: portable(request) });
  }

  reexecute(runId: string, request: ReexecuteRequest): Promise<LaunchResult> {
    return this.call("reexecute", { runId, request });
  }

  async execute(request: LaunchRequest, options: ExecuteOptions = {}): Promise<RunRecord> {
    const token = randomBytes(8).toString("hex");
    const onAbort = () => void this.client.call("interrupt", { token }).catch(() => undefined);
    options.signal?.addEventListener("abort", onAbort);
    try {
      return await this.call<RunRecord>("execute", { request: portable(request), token }, (data) => {
        const d = data as { events?: StoredEvent[]; output?: string; stream?: "stdout" | "stderr" };
        if (d.events) options.onEvents?.(d.events);
        if (d.output !== undefined) (options.onOutput ?? ((t: string) => process.stderr.write(t)))(d.output, d.stream ?? "stderr");
      });
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  watchRun(runId: string, options: WatchOptions = {}): Promise<RunRecord> {
    return this.call("watch", { runId, afterId: options.afterId }, (data) => {
      const d = data as { events?: StoredEvent[] };
      if (d.events) options.onEvents?.(d.events);
    });
  }

  cancel(runId: string): Promise<CancelResult> {
    return this.call("cancel", { runId });
  }

  setConcurrencyLimit(pool: string, limit: number): Promise<string> {
    return this.call("concurrency.set", { pool, limit });
  }

  concurrencyInfo(pool?: string): Promise<PoolInfo[]> {
    return this.call("concurrency.get", { pool });
  }

  freeConcurrencySlots(runId: string): Promise<FreeResult> {
    return this.call("concurrency.free", { runId });
  }

  info(): Promise<InstanceInfo> {
    return this.call("info");
  }
}
