// The owner's handle on the code-location process: loads the workspace's definitions without
// running user code here, and survives job files that hang or crash at import time.
import { fork, type ChildProcess } from "node:child_process";
import { childMessageSchema, type ChildMessage, type OwnerMessage } from "../../protocol/worker";
import type { OpConfigIssue } from "../execution/opConfig";
import { workerEntry } from "../paths";
import type { DefinitionsSnapshot, LoadError } from "./snapshot";

export interface CodeLocationOptions {
  /** How long one job file may take to import before it is declared hung (default 10 s). */
  importTimeoutMs?: number;
  /** Receives what job files print while they load. */
  onOutput?: (text: string) => void;
}

const DEFAULT_IMPORT_TIMEOUT_MS = Number(process.env.SLUICE_IMPORT_TIMEOUT_MS) || 10_000;
const BUNDLE_TIMEOUT_MS = 120_000;

export class CodeLocation {
  private child: ChildProcess | undefined;
  private snapshot: DefinitionsSnapshot | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, (issues: OpConfigIssue[]) => void>();

  constructor(readonly workspace: string, readonly home: string, private readonly options: CodeLocationOptions = {}) {}

  get current(): DefinitionsSnapshot | undefined {
    return this.snapshot;
  }

  /** (Re)loads every job file. Hung files are killed, reported and skipped; the others still load. */
  async load(): Promise<DefinitionsSnapshot> {
    const skipped: LoadError[] = [];
    for (;;) {
      this.dispose();
      const attempt = await this.loadOnce(skipped.map((e) => e.file));
      if ("snapshot" in attempt) {
        attempt.snapshot.errors.unshift(...skipped);
        for (const e of skipped) attempt.snapshot.files.push({ path: e.file, ok: false });
        this.snapshot = attempt.snapshot;
        return attempt.snapshot;
      }
      if (attempt.hung) skipped.push(attempt.hung);
      else {
        this.dispose();
        const failed: DefinitionsSnapshot = {
          workspace: this.workspace,
          loadedAt: Date.now(),
          files: [],
          jobs: [],
          assets: [],
          errors: [...skipped, { kind: "internal", file: this.workspace, line: 1, column: 1, message: attempt.failure }],
        };
        this.snapshot = failed;
        return failed;
      }
    }
  }

  /** Validates `ops.*.config` with the ops' zod schemas (they live in the code-location process). */
  async validateOpConfig(job: string, runConfig: Record<string, unknown>): Promise<OpConfigIssue[]> {
    if (!this.child || !this.child.connected) await this.load();
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.post({ t: "validate", id, job, runConfig });
    });
  }

  dispose(): void {
    if (this.child) {
      this.child.removeAllListeners();
      if (this.child.exitCode === null) this.child.kill("SIGKILL");
      this.child = undefined;
    }
  }

  private post(message: OwnerMessage): void {
    this.child?.send(message);
  }

  private loadOnce(skip: string[]): Promise<{ snapshot: DefinitionsSnapshot } | { hung?: LoadError; failure: string }> {
    return new Promise((resolve) => {
      const child = fork(workerEntry(), ["code-location"], { stdio: ["ignore", "pipe", "pipe", "ipc"], serialization: "advanced" });
      this.child = child;
      let output = "";
      const onData = (d: Buffer) => {
        const text = d.toString();
        output = (output + text).slice(-4000);
        this.options.onOutput?.(text);
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      let currentFile: string | undefined;
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (r: { snapshot: DefinitionsSnapshot } | { hung?: LoadError; failure: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const arm = (ms: number) => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          const timeoutMs = this.options.importTimeoutMs ?? DEFAULT_IMPORT_TIMEOUT_MS;
          if (currentFile) {
            settle({
              hung: {
                kind: "timeout",
                file: currentFile,
                line: 1,
                column: 1,
                message: `Importing this file did not finish within ${timeoutMs / 1000}s (an endless loop or a blocking call at import time?); it was stopped and skipped.`,
              },
              failure: "",
            });
          } else settle({ failure: `Loading job files did not finish within ${ms / 1000}s.` });
          child.kill("SIGKILL");
        }, ms);
      };
      arm(BUNDLE_TIMEOUT_MS);
      child.on("message", (raw: unknown) => {
        const parsed = childMessageSchema.safeParse(raw);
        if (!parsed.success) return;
        const message: ChildMessage = parsed.data;
        switch (message.t) {
          case "ready":
            child.send({ t: "load", workspace: this.workspace, home: this.home, skip } satisfies OwnerMessage);
            break;
          case "loading":
            currentFile = message.file;
            arm(this.options.importTimeoutMs ?? DEFAULT_IMPORT_TIMEOUT_MS);
            break;
          case "snapshot":
            settle({ snapshot: message.snapshot as unknown as DefinitionsSnapshot });
            break;
          case "validated":
            this.waiting.get(message.id)?.(message.issues);
            this.waiting.delete(message.id);
            break;
          case "error":
            settle({ failure: `The code-location process failed: ${message.message}` });
            break;
        }
      });
      child.on("exit", (code, signal) => {
        for (const [, resolveIssues] of this.waiting) resolveIssues([{ path: [], message: "the code-location process exited" }]);
        this.waiting.clear();
        if (currentFile && !settled) {
          settle({
            hung: { kind: "import", file: currentFile, line: 1, column: 1, message: `Importing this file killed the code-location process (${signal ?? `exit code ${code}`}). ${output.trim().split("\n").slice(-3).join(" ")}`.trim() },
            failure: "",
          });
        } else settle({ failure: `The code-location process exited (${signal ?? `exit code ${code}`}) before loading finished. ${output.trim()}` });
      });
    });
  }
}
