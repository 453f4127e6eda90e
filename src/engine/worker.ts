// Entry point of every child process Sluice starts: `node dist/worker.js <role>`.
// code-location: bundles and loads job files, answers with the definitions snapshot.
// run: executes one run and streams its events to the owner.
import { join } from "node:path";
import { z } from "zod";
import type { RunRecord, RunsFilter, SluiceEvent } from "./events";
import { buildDefinitions } from "./definitions/build";
import { discoverJobFiles } from "./definitions/discover";
import { loadJobFiles, requireBundles } from "./definitions/load";
import type { DefinitionsSnapshot } from "./definitions/snapshot";
import { validateOpConfigs } from "./execution/opConfig";
import { FileOutputStore } from "./execution/outputs";
import type { ExecutionPlan } from "./execution/plan";
import { effectiveExecutionConfig, validateExecutorConfig } from "./execution/customExecutor";
import { executeMultiprocess, runStepInWorker } from "./execution/multiprocess";
import { executeRun, registerExecutor, registerIsolatedStepRunner, type ResolvedExecutor } from "./execution/run";
import { sdkEntry } from "./paths";
import { WorkerPoolClaims } from "./pools/workerClaims";
import type { ChildMessage, OwnerMessage, RunWorkerRequest } from "../protocol/worker";
import { PendingQueries } from "../protocol/pendingQueries";

process.setSourceMapsEnabled(true);

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });
}

/** The SDK copy job files use; its zod builds the JSON Schemas of their configs. */
function sdkZod(): { toJSONSchema: (s: unknown) => Record<string, unknown> } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require(sdkEntry()) as { z?: { toJSONSchema: (s: unknown) => Record<string, unknown> } };
  return sdk.z ?? (z as unknown as { toJSONSchema: (s: unknown) => Record<string, unknown> });
}

// ---------------------------------------------------------------------------------------------
// code location

let loaded: ReturnType<typeof buildDefinitions> | undefined;

async function loadCodeLocation(workspace: string, home: string, skip: string[]): Promise<DefinitionsSnapshot> {
  const files = discoverJobFiles(workspace).filter((f) => !skip.includes(f));
  const load = await loadJobFiles(files, workspace, join(home, "bundles"), sdkEntry(), (file) => void send({ t: "loading", file }));
  const zod = sdkZod();
  loaded = buildDefinitions(load.modules, (s) => zod.toJSONSchema(s));
  return {
    workspace,
    loadedAt: Date.now(),
    files: load.files,
    jobs: [...loaded.jobs.values()].map((j) => j.snapshot),
    assets: loaded.assets,
    errors: [...load.errors, ...loaded.errors],
  };
}

async function codeLocation(): Promise<void> {
  process.on("message", async (raw: OwnerMessage) => {
    if (raw.t === "load") {
      try {
        const snapshot = await loadCodeLocation(raw.workspace, raw.home, raw.skip);
        await send({ t: "snapshot", snapshot: snapshot as unknown as Record<string, unknown> });
      } catch (e) {
        await send({ t: "error", message: e instanceof Error ? e.stack ?? e.message : String(e) });
      }
    } else if (raw.t === "validate") {
      const job = loaded?.jobs.get(raw.job);
      const issues = job ? validateOpConfigs(job, raw.runConfig) : [{ path: [], message: `unknown job "${raw.job}"` }];
      // A custom executor's config is checked by its own schema, which lives here with the job.
      if (job?.executor && !job.executor.builtin) issues.push(...validateExecutorConfig(job.executor, effectiveExecutionConfig(job.executor, raw.runConfig)));
      await send({ t: "validated", id: raw.id, issues });
    }
  });
  process.on("disconnect", () => process.exit(0));
  await send({ t: "ready" });
}

// ---------------------------------------------------------------------------------------------
// run worker

/** Events leave in batches: one IPC message per tick instead of one per event. */
class EventBatcher {
  private batch: SluiceEvent[] = [];
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();
  private oldest = 0;

  push = (event: SluiceEvent): void => {
    if (this.batch.length === 0) this.oldest = performance.now();
    this.batch.push(event);
    // Size or age: events must reach the owner's journal within its flush window even when
    // steps are so busy that the scheduled flush cannot run.
    if (this.batch.length >= 512 || performance.now() - this.oldest > 20) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  };

  flush(): Promise<void> {
    this.scheduled = false;
    if (this.batch.length > 0) {
      const events = this.batch;
      this.batch = [];
      this.inFlight = this.inFlight.then(() => send({ t: "events", events }));
    }
    return this.inFlight;
  }
}

const pendingQueries = new PendingQueries();

function queryOwner(method: "getRunRecords", args: unknown[]): Promise<unknown> {
  return pendingQueries.ask((id) => void send({ t: "query", id, method, args }));
}

async function runWorker(): Promise<void> {
  const abort = new AbortController();
  let interruptReason: "cancel" | "shutdown" | "signal" | undefined;
  const interrupt = (reason: "cancel" | "shutdown" | "signal") => {
    interruptReason ??= reason;
    abort.abort();
  };
  process.on("SIGTERM", () => interrupt("signal"));
  process.on("SIGINT", () => interrupt("signal"));
  let claims: WorkerPoolClaims | undefined;
  const request = await new Promise<RunWorkerRequest>((resolve) => {
    process.on("message", (raw: OwnerMessage) => {
      if (raw.t === "run") resolve(raw.request);
      else if (raw.t === "interrupt") interrupt(raw.reason);
      else if (raw.t === "claimResult" || raw.t === "slotGranted") claims?.onMessage(raw);
      else if (raw.t === "queryResult") pendingQueries.answer(raw);
    });
    void send({ t: "ready" });
  });
  if (request.exitWithOwner) process.on("disconnect", () => process.exit(137));

  const batcher = new EventBatcher();
  const sink = batcher.push;
  // Pool slots are claimed from the owner (op granularity); see pools/workerClaims.ts.
  if (request.pools === "op") claims = new WorkerPoolClaims(request.runId, (m) => void send(m), sink);
  const load = requireBundles(request.files);
  const zod = sdkZod();
  const defs = buildDefinitions(load.modules, (s) => zod.toJSONSchema(s));
  const job = defs.jobs.get(request.jobName);
  const plan = request.plan as ExecutionPlan;
  const missing = job ? plan.steps.filter((s) => !job.steps.has(s.key)).map((s) => s.key) : [];
  if (!job || missing.length > 0) {
    const why = !job ? `job "${request.jobName}" is no longer defined` : `steps ${missing.join(", ")} are no longer defined`;
    const detail = [...load.errors, ...defs.errors].map((e) => `${e.file}:${e.line}: ${e.message}`).join("\n");
    sink({
      runId: request.runId,
      type: "RUN_FAILURE",
      timestamp: Date.now(),
      level: "ERROR",
      message: `Run worker could not load the job: ${why}.${detail ? `\n${detail}` : ""}`,
      data: { failureReason: "JOB_INITIALIZATION_FAILURE" },
    });
    await batcher.flush();
    await send({ t: "done", status: "FAILURE" });
    process.exit(0);
  }

  const outcome = await executeRun({
    runId: request.runId,
    jobName: request.jobName,
    plan,
    job,
    runTags: request.runTags,
    runConfig: request.runConfig,
    outputs: new FileOutputStore(join(request.home, "storage")),
    instance: {
      getRunRecords: (filter?: RunsFilter, options?: { limit?: number }) => queryOwner("getRunRecords", [filter, options]) as Promise<RunRecord[]>,
    },
    sink,
    executor: request.executor as ResolvedExecutor,
    signal: abort.signal,
    reconstructable: { workspace: request.workspace, home: request.home, files: request.files },
    logsDir: join(request.home, "logs"),
    claim: claims?.claim,
    release: claims?.release,
    onClaimChange: claims?.onChange,
  });
  if (outcome.status === "INTERRUPTED") {
    if (interruptReason === "cancel") {
      sink({ runId: request.runId, type: "RUN_CANCELED", timestamp: Date.now(), level: "INFO", message: `Execution of run for "${request.jobName}" canceled.` });
    } else {
      sink({
        runId: request.runId,
        type: "RUN_FAILURE",
        timestamp: Date.now(),
        level: "ERROR",
        message: `Execution of run for "${request.jobName}" was interrupted before completing the execution plan. Steps not completed: [${outcome.unfinished.join(", ")}].`,
        data: { failureReason: "UNEXPECTED_TERMINATION" },
      });
    }
  }
  await batcher.flush();
  await send({ t: "done", status: outcome.status });
  process.exit(0);
}

// Run workers execute steps in step workers (dist/stepWorker.js) with the multiprocess executor,
// and use one for a limited step of the in-process executor.
registerExecutor("multiprocess", executeMultiprocess);
registerIsolatedStepRunner(runStepInWorker);

const role = process.argv[2];
if (role === "code-location") void codeLocation();
else if (role === "run") void runWorker();
else {
  console.error(`sluice worker: unknown role "${role}"`);
  process.exit(2);
}
