// Starts one run worker (a child process per run) and relays its events to the owner.
import { fork, type ChildProcess } from "node:child_process";
import type { SluiceEvent } from "../events";
import { childMessageSchema, type ChildMessage, type OwnerMessage, type RunWorkerRequest } from "../../protocol/worker";
import { workerEntry } from "../paths";

export type ClaimMessage = Extract<ChildMessage, { t: "claim" }>;

export interface RunWorkerHandlers {
  onEvents(events: SluiceEvent[]): void;
  /** Answers read-only instance questions from ops (ctx.instance). */
  onQuery?(method: string, args: unknown[]): Promise<unknown>;
  /** What the worker (and user code) prints outside of captured steps. */
  onOutput?(text: string, stream: "stdout" | "stderr"): void;
  /** A step asks for a pool slot; answer with `send({t: "claimResult", ...})`. */
  onClaim?(message: ClaimMessage): void;
  /** A step is done with its pool slot. */
  onRelease?(stepKey: string): void;
}

export interface RunWorkerExit {
  /** The worker said it finished (it sent its last events). */
  finished: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  pid: number;
}

/** After the process exits, how long to wait for IPC messages still in flight before reporting the exit. */
const DRAIN_AFTER_EXIT_MS = 250;

export class RunWorkerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<RunWorkerExit>;
  private readonly detached: boolean;

  constructor(request: RunWorkerRequest, handlers: RunWorkerHandlers, options: { detached?: boolean } = {}) {
    this.detached = options.detached ?? false;
    this.child = fork(workerEntry(), ["run"], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "advanced",
      // Detached: the worker leads its own process group, so that the whole group (its step
      // workers too) can be signalled, and a Ctrl-C meant for the owner's terminal does not hit it.
      detached: this.detached,
    });
    const child = this.child;
    child.stdout!.on("data", (d: Buffer) => handlers.onOutput?.(d.toString(), "stdout"));
    child.stderr!.on("data", (d: Buffer) => handlers.onOutput?.(d.toString(), "stderr"));
    let finished = false;
    child.on("message", (raw: unknown) => {
      const parsed = childMessageSchema.safeParse(raw);
      if (!parsed.success) {
        handlers.onOutput?.(`ignored an invalid message from run worker ${child.pid}: ${parsed.error.issues[0]?.message}\n`, "stderr");
        return;
      }
      const m = parsed.data;
      if (m.t === "ready") this.send({ t: "run", request });
      else if (m.t === "events") handlers.onEvents(m.events as SluiceEvent[]);
      else if (m.t === "done") finished = true;
      else if (m.t === "claim") {
        if (handlers.onClaim) handlers.onClaim(m);
        else this.send({ t: "claimResult", stepKey: m.stepKey, pool: m.pool, status: "UNLIMITED" });
      } else if (m.t === "release") handlers.onRelease?.(m.stepKey);
      else if (m.t === "query") {
        const answer = handlers.onQuery ? handlers.onQuery(m.method, m.args) : Promise.reject(new Error("no instance to query"));
        answer.then(
          (result) => this.send({ t: "queryResult", id: m.id, result }),
          (e: unknown) => this.send({ t: "queryResult", id: m.id, error: e instanceof Error ? e.message : String(e) }),
        );
      }
    });
    // 'exit' can be seen before the last IPC messages are read: report the exit only once the
    // channel is closed too (all its messages delivered), or after a short grace period.
    this.exited = new Promise((resolve) => {
      let disconnected = false;
      let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let done = false;
      const settle = () => {
        if (done || !exitInfo) return;
        done = true;
        resolve({ finished, code: exitInfo.code, signal: exitInfo.signal, pid: child.pid ?? -1 });
      };
      child.on("disconnect", () => {
        disconnected = true;
        settle();
      });
      child.on("exit", (code, signal) => {
        exitInfo = { code, signal };
        if (disconnected || !child.connected) settle();
        else setTimeout(settle, DRAIN_AFTER_EXIT_MS);
      });
      child.on("error", () => {
        // spawn failure: 'exit' may never come
        exitInfo ??= { code: null, signal: null };
        setTimeout(settle, DRAIN_AFTER_EXIT_MS);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  send(message: OwnerMessage): void {
    if (this.child.connected) {
      try {
        this.child.send(message);
      } catch {
        // the channel closed under us; the exit handler reports it
      }
    }
  }

  interrupt(reason: "cancel" | "shutdown"): void {
    if (this.child.connected) this.send({ t: "interrupt", reason });
    else this.kill("SIGTERM");
  }

  /** Signals the worker, and with a detached worker its whole process group (its step workers). */
  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (!this.running) return;
    if (this.detached && this.pid > 0) {
      try {
        process.kill(-this.pid, signal);
        return;
      } catch {
        // no such group (already gone): fall through to the process itself
      }
    }
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Words for how a worker ended, for the event that records it. */
export function describeExit(exit: Pick<RunWorkerExit, "code" | "signal">): string {
  if (exit.signal === "SIGKILL") return `was killed (SIGKILL${exit.code === null ? "" : `, exit code ${exit.code}`}), for example by the out-of-memory killer or \`kill -9\``;
  if (exit.signal) return `was terminated by signal ${exit.signal}`;
  if (exit.code === 134) return "aborted (exit code 134), often a JavaScript heap out of memory";
  if (exit.code === 137) return "exited with code 137 (its owner went away, or it was killed)";
  return `exited with code ${exit.code}`;
}
