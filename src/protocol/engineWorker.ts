// Messages between the VS Code extension host and its engine worker thread
// (src/extension/engine/engineWorker.ts, run with `worker_threads`). The worker holds the
// Instance (the owner of `.sluice`, or a client of the process that owns it), the daemons and the
// job-file watcher; the host sees it only through these messages, so that no sql.js work and no
// definitions load ever runs on the host's main thread.
//
// - host → worker: `call` (one request, one `result`), `shutdown`;
// - worker → host: `result`, and notifications pushed as state changes (`status`, `definitions`,
//   `runs`, `pools`, `activity`, `webviewChange`, `log`, `output`, `closed`).
// Both sides validate what they receive with these schemas (each side is our own code, but they
// are built separately and a version skew or a bug must fail loudly, not corrupt the views).
// Large engine records (definitions snapshots, runs, events) are checked at their top level only.
import { z } from "zod";

// ---------------------------------------------------------------------------------------------
// host → worker

/** What the worker is started with (`workerData`). */
export const workerInitSchema = z.object({
  workspace: z.string().min(1),
  /** Debounce of the job-file watcher, ms (default 300). */
  debounceMs: z.number().int().min(0).max(10_000).optional(),
  /** How long one job file may take to import (default: the engine's, 10 s). */
  importTimeoutMs: z.number().int().min(100).max(600_000).optional(),
  /** Turn the watcher off (tests that drive reloads themselves). */
  watch: z.boolean().optional(),
  /** How often a client (another process owns `.sluice`) looks for changes in the store, ms. */
  clientPollMs: z.number().int().min(20).max(60_000).optional(),
});
export type WorkerInit = z.infer<typeof workerInitSchema>;

const runId = z.string().min(1).max(200);
const tags = z.record(z.string(), z.string());
const selection = z.array(z.string().max(10_000)).max(1000);

export const engineLaunchSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("job"),
    jobName: z.string().min(1),
    opSelection: selection.optional(),
    runConfigFile: z.string().optional(),
    runConfig: z.record(z.string(), z.unknown()).optional(),
    /** The launchpad's YAML, for positioned run config errors. */
    runConfigYaml: z.string().optional(),
    tags: tags.optional(),
  }),
  z.object({ kind: z.literal("assets"), assetKeys: z.array(z.string().min(1)).min(1), withUpstream: z.boolean().optional(), tags: tags.optional() }),
]);
export type EngineLaunch = z.infer<typeof engineLaunchSchema>;

export const reexecuteRequestSchema = z.union([z.enum(["all", "fromFailure"]), z.object({ selection })]);

/** Every method the worker answers, with its parameters. */
export const engineMethods = {
  /** The definitions snapshot (reload: load job files again first). */
  definitions: z.object({ reload: z.boolean().optional() }),
  runs: z.object({
    limit: z.number().int().min(1).max(100_000).optional(),
    statuses: z.array(z.string()).optional(),
    jobName: z.string().optional(),
  }),
  run: z.object({ runId }),
  events: z.object({ runId, afterId: z.number().int().min(0).optional(), limit: z.number().int().min(1).optional(), stepKey: z.string().optional() }),
  /** The tail of a step's captured stdout/stderr. */
  computeLogs: z.object({ runId, stepKey: z.string(), maxBytes: z.number().int().min(1).max(64 * 1024 * 1024) }),
  /** Incremental read for a run's log document: events after `afterId`, compute log text from per-file offsets. */
  runLog: z.object({ runId, afterId: z.number().int().min(0), offsets: z.record(z.string(), z.number().int().min(0)), maxBytes: z.number().int().min(1).optional() }),
  concurrency: z.object({}),
  info: z.object({}),
  launch: z.object({ request: engineLaunchSchema }),
  cancel: z.object({ runId }),
  reexecute: z.object({ runId, request: reexecuteRequestSchema }),
  setPoolLimit: z.object({ pool: z.string().min(1), limit: z.number().int() }),
  validateRunConfig: z.object({ jobName: z.string(), yaml: z.string().max(1_000_000), selection: selection.optional() }),
  /** Reload job files and sluice.yaml now (the Refresh command). */
  reload: z.object({}),
  /** The panel subscribes to change notifications (`webviewChange`) while it has a subscription. */
  webviewSubscribe: z.object({ subscribe: z.boolean() }),
} as const;
export type EngineMethod = keyof typeof engineMethods;
export type EngineParams<M extends EngineMethod> = z.infer<(typeof engineMethods)[M]>;

const methodNames = Object.keys(engineMethods) as [EngineMethod, ...EngineMethod[]];

export const hostMessageSchema = z.discriminatedUnion("t", [
  z.object({ t: z.literal("call"), id: z.number().int(), method: z.enum(methodNames), params: z.unknown() }),
  /** Stop the daemons and interrupt runs in progress, close the store, release `.sluice`; then `closed`. */
  z.object({ t: z.literal("shutdown") }),
]);
export type HostMessage = z.infer<typeof hostMessageSchema>;

/** Validates a call's parameters against its method's schema. */
export function parseParams<M extends EngineMethod>(method: M, params: unknown): EngineParams<M> {
  return engineMethods[method].parse(params ?? {}) as EngineParams<M>;
}

// ---------------------------------------------------------------------------------------------
// worker → host

export const engineErrorSchema = z.object({
  /** input: bad input from the user (shown as is); internal: a bug or an environment problem. */
  kind: z.enum(["input", "internal", "unavailable"]),
  message: z.string(),
  issues: z.array(z.unknown()).optional(),
});
export type EngineError = z.infer<typeof engineErrorSchema>;

const record = z.record(z.string(), z.unknown());

export const ownerStatusSchema = z.object({
  /** owner: this window owns `.sluice` and runs the daemons; client: another process does (requests go to it). */
  mode: z.enum(["owner", "client"]),
  home: z.string(),
  ownerPid: z.number().int(),
  ownerRole: z.string(),
  /** The lock's token while we own it (the host removes a lock left behind by a worker it had to kill). */
  lockToken: z.string().optional(),
});
export type OwnerStatus = z.infer<typeof ownerStatusSchema>;

export const runConfigFileSchema = z.object({ jobName: z.string(), file: z.string() });
export type RunConfigFile = z.infer<typeof runConfigFileSchema>;

export const poolSummarySchema = z.object({ name: z.string(), limit: z.number().nullable(), used: z.number().int().optional(), pending: z.number().int().optional() });
export type PoolSummary = z.infer<typeof poolSummarySchema>;

export const configStateSchema = z.object({
  file: z.string(),
  exists: z.boolean(),
  valid: z.boolean(),
  usingLastValid: z.boolean(),
  issues: z.array(z.object({ file: z.string(), line: z.number(), column: z.number(), keyPath: z.string(), message: z.string() })),
});
export type ConfigState = z.infer<typeof configStateSchema>;

export const workerMessageSchema = z.discriminatedUnion("t", [
  z.object({
    t: z.literal("result"),
    id: z.number().int(),
    ok: z.boolean(),
    /** when ok */
    value: z.unknown().optional(),
    /** when not ok */
    error: engineErrorSchema.optional(),
  }),
  /** Who owns `.sluice` (sent when the worker is up and whenever it changes). */
  z.object({ t: z.literal("status"), status: ownerStatusSchema }),
  /** The worker could not start an engine (the message says why). */
  z.object({ t: z.literal("failed"), message: z.string() }),
  /** A definitions load finished (at start, on file changes, on reload). */
  z.object({
    t: z.literal("definitions"),
    snapshot: record,
    runConfigFiles: z.array(runConfigFileSchema),
    config: configStateSchema.nullable(),
    /** Files the watcher saw change since the previous load (empty for the first load and explicit reloads). */
    changed: z.array(z.string()),
  }),
  /** Every run not finished plus the newest finished ones (for the Runs view and status bar). */
  z.object({ t: z.literal("runs"), runs: z.array(record) }),
  z.object({ t: z.literal("pools"), pools: z.array(poolSummarySchema) }),
  /** Runs whose events grew (throttled): open log documents of these runs read again. */
  z.object({ t: z.literal("activity"), runIds: z.array(z.string()) }),
  z.object({ t: z.literal("webviewChange"), change: record }),
  z.object({ t: z.literal("log"), level: z.enum(["trace", "debug", "info", "warn", "error"]), message: z.string() }),
  /** What run workers print outside of captured steps. */
  z.object({ t: z.literal("output"), runId: z.string(), text: z.string(), stream: z.enum(["stdout", "stderr"]) }),
  z.object({ t: z.literal("closed") }),
]);
export type WorkerMessage = z.infer<typeof workerMessageSchema>;
