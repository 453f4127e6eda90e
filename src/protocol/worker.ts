// Messages between the instance owner and its child processes (code location, run worker).
// Everything a child sends is validated on arrival: a child runs user code and may misbehave.
import { z } from "zod";
import { EVENT_TYPES } from "../engine/events";

const position = { file: z.string(), line: z.number(), column: z.number() };

export const loadErrorSchema = z.object({
  kind: z.enum(["syntax", "import", "timeout", "duplicate", "cycle", "definition", "selection", "internal"]),
  ...position,
  message: z.string(),
  name: z.string().optional(),
});

export const eventSchema = z.object({
  runId: z.string(),
  type: z.enum(EVENT_TYPES),
  stepKey: z.string().nullable().optional(),
  timestamp: z.number(),
  level: z.enum(["DEBUG", "INFO", "WARNING", "ERROR"]),
  message: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
});

/** Child → owner. */
export const childMessageSchema = z.discriminatedUnion("t", [
  z.object({ t: z.literal("ready") }),
  z.object({ t: z.literal("loading"), file: z.string() }),
  // The snapshot is large and produced by our own code in the child; its shape is checked where used.
  z.object({ t: z.literal("snapshot"), snapshot: z.record(z.string(), z.unknown()) }),
  z.object({ t: z.literal("validated"), id: z.number(), issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })) }),
  z.object({ t: z.literal("events"), events: z.array(eventSchema) }),
  z.object({ t: z.literal("query"), id: z.number(), method: z.literal("getRunRecords"), args: z.array(z.unknown()) }),
  z.object({ t: z.literal("done"), status: z.string() }),
  // Pool slots (op granularity): a step about to run asks the owner for a slot of its pool;
  // `holding` lists the run's steps that hold slots and may still be running (see PoolStore.claim).
  z.object({ t: z.literal("claim"), stepKey: z.string(), pool: z.string(), priority: z.number().int(), holding: z.array(z.string()) }),
  // The step is done with its slot (success, failure, or before a retry).
  z.object({ t: z.literal("release"), stepKey: z.string() }),
  z.object({ t: z.literal("error"), message: z.string() }),
]);
export type ChildMessage = z.infer<typeof childMessageSchema>;

/** Owner → child. Built by our own code, so typed but not validated. */
export type OwnerMessage =
  | { t: "load"; workspace: string; home: string; skip: string[] }
  | { t: "validate"; id: number; job: string; runConfig: Record<string, unknown> }
  | { t: "run"; request: RunWorkerRequest }
  | { t: "queryResult"; id: number; result?: unknown; error?: string }
  | { t: "interrupt"; reason: "cancel" | "shutdown" }
  /** Answer to a claim: CLAIMED/UNLIMITED = go; BLOCKED = wait for `slotGranted`. */
  | { t: "claimResult"; stepKey: string; pool: string; status: "CLAIMED" | "BLOCKED" | "UNLIMITED" }
  /** A blocked step got its slot (someone released one, or the limit was raised). */
  | { t: "slotGranted"; stepKey: string; pool: string };

/** How the run worker treats pools: "op" = steps claim slots from the owner; "off" = never claim (run granularity). */
export type PoolClaimMode = "op" | "off";

export interface RunWorkerRequest {
  runId: string;
  jobName: string;
  workspace: string;
  home: string;
  /** The files (and bundles) of the definitions snapshot the run was planned against. */
  files: { path: string; ok: boolean; bundle?: string }[];
  plan: unknown;
  runConfig: Record<string, unknown>;
  runTags: Record<string, string>;
  executor: unknown;
  /** Foreground runs (`sluice job execute`) end with their owner. */
  exitWithOwner: boolean;
  /** Pool slot claims (absent = "off"). */
  pools?: PoolClaimMode;
}

// ---------------------------------------------------------------------------------------------
// Run worker ↔ step worker (multiprocess executor). One step worker runs one step at a time: a
// fresh process per step (`spawn`) or a reused pre-started one (`forkserver`). The run worker
// validates everything a step worker sends (it runs user code); what it sends is typed only.

const stepOutcomeSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("success"), outputs: z.array(z.string()) }),
  z.object({ kind: z.literal("failure") }),
  z.object({ kind: z.literal("retry"), seconds: z.number().nonnegative() }),
]);

const LEVEL_VALUES = ["DEBUG", "INFO", "WARNING", "ERROR"] as const;

/**
 * An event of the current step as a step worker sends it: [type, timestamp, message, data, level].
 * The run id and step key are not sent: they are the run worker's (a worker only ever reports on
 * the step it was handed). `data` is null when absent; `level` is left out when it is the type's
 * default. Steps of a few milliseconds send several events each, so their size is most of the cost
 * of a forkserver step's report.
 */
export const wireEventSchema = z.union([
  z.tuple([z.enum(EVENT_TYPES), z.number(), z.string(), z.record(z.string(), z.unknown()).nullable()]),
  z.tuple([z.enum(EVENT_TYPES), z.number(), z.string(), z.record(z.string(), z.unknown()).nullable(), z.enum(LEVEL_VALUES)]),
]);
export type WireEvent = z.infer<typeof wireEventSchema>;

/** Step worker → run worker. */
export const stepWorkerMessageSchema = z.discriminatedUnion("t", [
  /** Loaded the job (forkserver workers say so once; spawn workers go straight to their step). */
  z.object({ t: z.literal("ready"), pid: z.number(), loadMs: z.number() }),
  /** The job could not be rebuilt in the worker (bundle gone, job renamed, import error). */
  z.object({ t: z.literal("loadFailed"), message: z.string() }),
  /** Events of the current step, in order; sent in batches. */
  z.object({ t: z.literal("events"), events: z.array(wireEventSchema) }),
  /** The current step's attempt ended; `events` are its last events (they come before the outcome). */
  z.object({
    t: z.literal("stepDone"),
    stepKey: z.string(),
    outcome: stepOutcomeSchema,
    events: z.array(wireEventSchema),
    /** Heap in use after the step, for recycling forkserver workers close to their memory limit. */
    heapUsed: z.number(),
  }),
  z.object({ t: z.literal("query"), id: z.number(), method: z.literal("getRunRecords"), args: z.array(z.unknown()) }),
]);
export type StepWorkerMessage = z.infer<typeof stepWorkerMessageSchema>;
export type StepWorkerOutcome = z.infer<typeof stepOutcomeSchema>;

/** Everything a step worker needs to rebuild the run's job; sent once per worker. */
export interface StepWorkerInit {
  runId: string;
  jobName: string;
  workspace: string;
  home: string;
  /** Bundles of the definitions snapshot the run was planned against. */
  files: { path: string; ok: boolean; bundle?: string }[];
  runTags: Record<string, string>;
  /** `ops` section of the run config. */
  opsConfig: Record<string, unknown> | undefined;
  /** "disabled" fails retry requests; "deferred" reports STEP_UP_FOR_RETRY and lets the run worker re-queue. */
  retryMode: "deferred" | "disabled";
  /** Modules to require once before any step (forkserver `preload_modules`), resolved from the workspace. */
  preloadModules: string[];
  /**
   * How stdout/stderr reach the step's compute log files: "fd" = the worker's own stdout/stderr are
   * the files (spawn); "js" = the worker redirects process.stdout/stderr writes per step (forkserver).
   */
  capture: "fd" | "js" | "none";
  /** Where compute logs go (`.sluice/logs`); absent = not captured. */
  logsDir?: string;
  /** Flush a step's first events before its op runs (so a hard crash still shows STEP_START). */
  eagerStart: boolean;
  /** Forkserver workers get the plan's steps once and are then handed step keys. */
  steps?: unknown[];
}

/** Run worker → step worker. */
export type StepWorkerCommand =
  | { t: "init"; init: StepWorkerInit }
  /** `step` is the plan step, or its key when the init carried the steps; `eager` overrides `eagerStart`. */
  | { t: "step"; step: unknown; previousAttempts: number; eager?: boolean }
  | { t: "queryResult"; id: number; result?: unknown; error?: string }
  | { t: "shutdown" };

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);
const LEVELS: ReadonlySet<string> = new Set(LEVEL_VALUES);

function quickEvent(e: unknown): boolean {
  if (!Array.isArray(e) || (e.length !== 4 && e.length !== 5)) return false;
  const [type, timestamp, message, data, level] = e as unknown[];
  return (
    typeof type === "string" && EVENT_TYPE_SET.has(type) &&
    typeof timestamp === "number" &&
    typeof message === "string" &&
    (data === null || (typeof data === "object" && !Array.isArray(data))) &&
    (e.length === 4 || (typeof level === "string" && LEVELS.has(level)))
  );
}

function quickEvents(list: unknown): boolean {
  if (!Array.isArray(list)) return false;
  for (const e of list) if (!quickEvent(e)) return false;
  return true;
}

/**
 * Validates a step worker message. The two messages of every step (events, stepDone) are checked by
 * hand, field by field, exactly as the zod schema would; anything else, and anything the quick check
 * rejects, goes through the schema (which also explains what is wrong).
 */
export function parseStepWorkerMessage(raw: unknown): { success: true; data: StepWorkerMessage } | { success: false; error: string } {
  if (typeof raw === "object" && raw !== null) {
    const m = raw as Record<string, unknown>;
    if (m.t === "stepDone") {
      const o = m.outcome as Record<string, unknown> | null;
      const outcomeOk =
        typeof o === "object" && o !== null &&
        ((o.kind === "success" && Array.isArray(o.outputs) && (o.outputs as unknown[]).every((x) => typeof x === "string")) ||
          o.kind === "failure" ||
          (o.kind === "retry" && typeof o.seconds === "number" && o.seconds >= 0));
      if (outcomeOk && typeof m.stepKey === "string" && typeof m.heapUsed === "number" && quickEvents(m.events)) {
        return { success: true, data: m as StepWorkerMessage };
      }
    } else if (m.t === "events" && quickEvents(m.events)) {
      return { success: true, data: m as StepWorkerMessage };
    }
  }
  const parsed = stepWorkerMessageSchema.safeParse(raw);
  if (parsed.success) return { success: true, data: parsed.data };
  const issue = parsed.error.issues[0];
  return { success: false, error: `${issue?.path.join(".") || "message"}: ${issue?.message ?? "invalid"}` };
}
