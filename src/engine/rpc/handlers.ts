// The owner's answers to requests from other processes (the OwnerApi over the socket).
import { ConfigError } from "../config";
import type { StoredEvent } from "../events";
import { InputError, type Instance, type LaunchRequest } from "../instance";
import type { ReexecuteRequest } from "../execution/reexecution";
import { OwnerInputError } from "../launcher/owner";
import type { RpcError } from "./protocol";
import type { RpcContext, RpcHandler } from "./server";

export function toRpcError(e: unknown): RpcError {
  if (e instanceof InputError) return { kind: "input", message: e.message, issues: e.issues };
  if (e instanceof OwnerInputError) return { kind: "input", message: e.message };
  if (e instanceof ConfigError) return { kind: "input", message: e.message, issues: e.issues };
  return { kind: "internal", message: e instanceof Error ? e.stack ?? e.message : String(e) };
}

type P = Record<string, unknown>;

/** Aborts when the client goes away (or asks to stop). */
function abortOnClose(ctx: RpcContext): AbortController {
  const abort = new AbortController();
  ctx.onClose(() => abort.abort());
  return abort;
}

export function ownerHandlers(instance: Instance): Record<string, RpcHandler> {
  const executions = new Map<string, AbortController>();
  const stream = (ctx: RpcContext) => (events: StoredEvent[]) => ctx.notify({ events });
  return {
    hello: async () => instance.hello(),
    launch: async (params) => instance.launch((params as P).request as LaunchRequest),
    reexecute: async (params) => instance.reexecute((params as P).runId as string, (params as P).request as ReexecuteRequest),
    execute: async (params, ctx) => {
      const { request, token } = params as { request: LaunchRequest; token: string };
      // Like `dagster job execute`: the run belongs to the command; if it goes away, the run is interrupted.
      const abort = abortOnClose(ctx);
      executions.set(token, abort);
      try {
        return await instance.execute(request, {
          signal: abort.signal,
          onEvents: stream(ctx),
          onOutput: (text, s) => ctx.notify({ output: text, stream: s }),
        });
      } finally {
        executions.delete(token);
      }
    },
    interrupt: async (params) => {
      executions.get((params as P).token as string)?.abort();
      return null;
    },
    watch: async (params, ctx) => {
      const { runId, afterId } = params as { runId: string; afterId?: number };
      return instance.watchRun(runId, { afterId, onEvents: stream(ctx), signal: abortOnClose(ctx).signal });
    },
    cancel: async (params) => instance.cancel((params as P).runId as string),
    "concurrency.set": async (params) => instance.setConcurrencyLimit((params as P).pool as string, (params as P).limit as number),
    "concurrency.get": async (params) => instance.concurrencyInfo(((params as P | undefined)?.pool as string | undefined) ?? undefined),
    "concurrency.free": async (params) => instance.freeConcurrencySlots((params as P).runId as string),
    info: async () => instance.info(),
  };
}
