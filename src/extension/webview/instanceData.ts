// A WebviewDataSource over the engine's Instance, ready for the engine adapter to use:
//
//   const engine: SluiceEngine = { ..., webview: instanceWebviewData(instance, { reexecute, onDefinitionsChanged }) };
//
// The instance is typed structurally (InstanceLike) so that this file needs nothing of the engine
// at runtime beyond the config helpers (positions for run config errors) and the tail reader of
// compute logs. Everything here runs in the extension host; keep each call short (the Instance's
// reads are sql.js queries; validation that needs user code goes to the code-location process).
import { statSync } from "node:fs";
import { issueAt, parseYaml, type ConfigIssue } from "../../engine/config/yamlPositions";
import type { ResolvedInstanceConfig } from "../../engine/config/instanceSchema";
import type { DefinitionsSnapshot } from "../../engine/definitions/snapshot";
import { NOT_FINISHED_STATUSES, type EventsQuery, type RunRecord, type RunRecordsOptions, type RunsFilter, type StoredEvent } from "../../engine/events";
import { readTail } from "../../engine/execution/computeLogs";
import type { PoolInfo } from "../../engine/pools/poolStore";
import type { ConfigIssueView } from "../../protocol/webview";
import type { DataChange, WebviewDataSource, WebviewLaunchRequest } from "./dataSource";
import { concurrencyView, isBlockedEvent, issueView } from "./models";

/** The parts of Instance (src/engine/instance.ts) the panel uses. */
export interface InstanceLike {
  definitions(): Promise<DefinitionsSnapshot>;
  runs(filter?: RunsFilter, options?: RunRecordsOptions): RunRecord[];
  run(runId: string): RunRecord;
  events(runId: string, query?: EventsQuery): StoredEvent[];
  concurrencyInfo(pool?: string): Promise<PoolInfo[]>;
  info(): Promise<{ config: { values: ResolvedInstanceConfig } }>;
  prepare(request: { jobName: string; selection?: string[]; runConfig?: Record<string, unknown> }): Promise<unknown>;
  launch(request: { jobName: string; selection?: string[]; runConfig?: Record<string, unknown>; tags?: Record<string, string> }): Promise<{ run: RunRecord }>;
  cancel(runId: string): Promise<unknown>;
  setConcurrencyLimit(pool: string, limit: number): Promise<unknown>;
  onEvents(listener: (events: StoredEvent[]) => void): () => void;
}

export interface InstanceDataOptions {
  /** Re-execution (`sluice run reexecute`): not on the Instance yet; the adapter supplies it. */
  reexecute?(runId: string, strategy: "all" | "fromFailure"): Promise<{ runId: string }>;
  /** Fires when job files or sluice.yaml were reloaded. */
  onDefinitionsChanged?(listener: () => void): { dispose(): unknown };
  /** Queue reasons and pool claims change without events: re-read runs and pools this often while subscribed (ms; 0 = never). Default 2000. */
  pollMs?: number;
}

const RUN_EVENTS = new Set(["RUN_ENQUEUED", "RUN_DEQUEUED", "RUN_STARTING", "RUN_START", "RUN_SUCCESS", "RUN_FAILURE", "RUN_CANCELING", "RUN_CANCELED"]);
const SLOT_EVENTS = new Set(["STEP_START", "STEP_RESTARTED", "STEP_SUCCESS", "STEP_FAILURE", "STEP_UP_FOR_RETRY", "STEP_SKIPPED"]);

/** Issues the engine reports by key path (line 0) placed on the launchpad's YAML. */
function positioned(issues: ConfigIssue[], yaml: string | undefined): ConfigIssueView[] {
  const parsed = yaml ? parseYaml(yaml, "launchpad") : undefined;
  return issues.map((i) => issueView(i.line > 0 || !parsed ? i : issueAt(parsed, "launchpad", i.path, { code: i.code, message: i.message, target: "value" })));
}

function withPositions(e: unknown, yaml: string | undefined): never {
  const issues = (e as { issues?: ConfigIssue[] })?.issues;
  if (Array.isArray(issues) && issues.length > 0) throw Object.assign(new Error((e as Error).message), { issues: positioned(issues, yaml) });
  throw e;
}

export function instanceWebviewData(instance: InstanceLike, options: InstanceDataOptions = {}): WebviewDataSource {
  return {
    definitions: () => instance.definitions(),
    runs: (limit) => instance.runs({}, { limit }),
    run: (runId) => {
      try {
        return instance.run(runId);
      } catch {
        return undefined;
      }
    },
    events: (runId, afterId, limit) => instance.events(runId, { afterId, limit }),
    computeLogs(runId, stepKey, maxBytes) {
      const captured = instance.events(runId, { types: ["LOGS_CAPTURED"], stepKey }).at(-1);
      const paths = captured?.data as { stdoutPath?: string; stderrPath?: string } | undefined;
      const read = (file: string | undefined) => {
        if (!file) return { text: "", truncated: false };
        let size = 0;
        try {
          size = statSync(file).size;
        } catch {
          return { text: "", truncated: false };
        }
        return { text: readTail(file, maxBytes), truncated: size > maxBytes };
      };
      const out = read(paths?.stdoutPath);
      const err = read(paths?.stderrPath);
      return { stdout: out.text, stderr: err.text, truncated: out.truncated || err.truncated };
    },
    async concurrency() {
      const [pools, info] = await Promise.all([instance.concurrencyInfo(), instance.info()]);
      return concurrencyView(pools, info.config.values, instance.runs({ statuses: [...NOT_FINISHED_STATUSES] }, { limit: 10_000 }));
    },
    async launch(r: WebviewLaunchRequest) {
      try {
        const { run } = await instance.launch({ jobName: r.jobName, selection: r.selection, runConfig: r.runConfig, tags: r.tags });
        return { runId: run.runId };
      } catch (e) {
        return withPositions(e, r.runConfigYaml);
      }
    },
    cancel: (runId) => instance.cancel(runId),
    reexecute(runId, strategy) {
      if (!options.reexecute) throw new Error("Re-execution is not available yet.");
      return options.reexecute(runId, strategy);
    },
    setPoolLimit: (pool, limit) => instance.setConcurrencyLimit(pool, limit),
    async validateRunConfig(jobName, yaml, selection) {
      const parsed = parseYaml(yaml, "launchpad");
      if (parsed.issues.length > 0) return parsed.issues.map(issueView);
      const runConfig = parsed.value && typeof parsed.value === "object" ? (parsed.value as Record<string, unknown>) : undefined;
      try {
        // The same checks as a launch (op config by the code location), without submitting.
        await instance.prepare({ jobName, selection, runConfig });
        return [];
      } catch (e) {
        const issues = (e as { issues?: ConfigIssue[] })?.issues;
        if (Array.isArray(issues) && issues.length > 0) return positioned(issues, yaml);
        // Not a config problem (e.g. a selection error): the launchpad shows the selection's own message.
        return [];
      }
    },
    onChange(listener: (c: DataChange) => void) {
      const offEvents = instance.onEvents((events) => {
        const runIds = [...new Set(events.map((e) => e.runId))];
        const change: DataChange = { events: runIds };
        if (events.some((e) => RUN_EVENTS.has(e.type))) change.runs = true;
        if (events.some((e) => RUN_EVENTS.has(e.type) || SLOT_EVENTS.has(e.type) || isBlockedEvent(e))) change.concurrency = true;
        listener(change);
      });
      const defs = options.onDefinitionsChanged?.(() => listener({ definitions: true }));
      const pollMs = options.pollMs ?? 2000;
      const timer = pollMs > 0 ? setInterval(() => listener({ runs: true, concurrency: true }), pollMs) : undefined;
      timer?.unref?.();
      return {
        dispose: () => {
          offEvents();
          defs?.dispose();
          if (timer) clearInterval(timer);
        },
      };
    },
  };
}
