// Starts one run worker (a child process per run) and relays its events to the owner.
import { fork, type ChildProcess } from "node:child_process";
import type { SluiceEvent } from "../events";
import { childMessageSchema, type OwnerMessage, type RunWorkerRequest } from "../../protocol/worker";
import { workerEntry } from "../paths";

export interface RunWorkerHandlers {
  onEvents(events: SluiceEvent[]): void;
  /** Answers read-only instance questions from ops (ctx.instance). */
  onQuery?(method: string, args: unknown[]): Promise<unknown>;
  /** What the worker (and user code) prints outside of captured steps. */
  onOutput?(text: string, stream: "stdout" | "stderr"): void;
}

export interface RunWorkerExit {
  /** The worker said it finished (it sent its last events). */
  finished: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  pid: number;
}

export class RunWorkerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<RunWorkerExit>;

  constructor(request: RunWorkerRequest, handlers: RunWorkerHandlers, options: { detached?: boolean } = {}) {
    this.child = fork(workerEntry(), ["run"], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "advanced",
      detached: options.detached ?? false,
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
      if (m.t === "ready") child.send({ t: "run", request } satisfies OwnerMessage);
      else if (m.t === "events") handlers.onEvents(m.events as SluiceEvent[]);
      else if (m.t === "done") finished = true;
      else if (m.t === "query") {
        const answer = handlers.onQuery ? handlers.onQuery(m.method, m.args) : Promise.reject(new Error("no instance to query"));
        answer.then(
          (result) => child.connected && child.send({ t: "queryResult", id: m.id, result } satisfies OwnerMessage),
          (e: unknown) => child.connected && child.send({ t: "queryResult", id: m.id, error: e instanceof Error ? e.message : String(e) } satisfies OwnerMessage),
        );
      }
    });
    this.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => resolve({ finished, code, signal, pid: child.pid ?? -1 }));
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  interrupt(reason: "cancel" | "shutdown"): void {
    if (this.child.connected) this.child.send({ t: "interrupt", reason } satisfies OwnerMessage);
    else this.child.kill("SIGTERM");
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    this.child.kill(signal);
  }
}

/** Words for how a worker ended, for the event that records it. */
export function describeExit(exit: RunWorkerExit): string {
  if (exit.signal === "SIGKILL") return `was killed (SIGKILL${exit.code === null ? "" : `, exit code ${exit.code}`}), for example by the out-of-memory killer or \`kill -9\``;
  if (exit.signal) return `was terminated by signal ${exit.signal}`;
  if (exit.code === 134) return "aborted (exit code 134), often a JavaScript heap out of memory";
  return `exited with code ${exit.code}`;
}
