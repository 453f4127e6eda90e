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
  z.object({ t: z.literal("error"), message: z.string() }),
]);
export type ChildMessage = z.infer<typeof childMessageSchema>;

/** Owner → child. Built by our own code, so typed but not validated. */
export type OwnerMessage =
  | { t: "load"; workspace: string; home: string; skip: string[] }
  | { t: "validate"; id: number; job: string; runConfig: Record<string, unknown> }
  | { t: "run"; request: RunWorkerRequest }
  | { t: "queryResult"; id: number; result?: unknown; error?: string }
  | { t: "interrupt"; reason: "cancel" | "shutdown" };

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
}
