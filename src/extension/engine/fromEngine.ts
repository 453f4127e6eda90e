// Maps the engine's records onto the port's view models: what the Instance adapter will use when
// the engine is wired. Type-only imports: nothing of the engine is bundled into the extension here.
import type { DefinitionsSnapshot } from "../../engine/definitions/snapshot";
import type { RunRecord } from "../../engine/events";
import type { DefinitionsModel, PoolInfo, RunSummary } from "./port";

export function runSummaryFromRecord(r: RunRecord): RunSummary {
  const reason = r.meta?.queueReason;
  return {
    runId: r.runId,
    jobName: r.jobName,
    status: r.status,
    createTime: r.createTime,
    startTime: r.startTime,
    endTime: r.endTime,
    tags: r.tags,
    queueReason: typeof reason === "string" && reason ? reason : undefined,
  };
}

/** Jobs (without the implicit asset job), assets and load errors of a snapshot; pools come from the instance. */
export function definitionsFromSnapshot(snapshot: DefinitionsSnapshot, pools: PoolInfo[] = []): DefinitionsModel {
  return {
    jobs: snapshot.jobs
      .filter((j) => !j.implicit)
      .map((j) => ({ name: j.name, kind: j.kind, description: j.description, opCount: j.steps.length, source: j.source })),
    assets: snapshot.assets.map((a) => ({ key: a.key, kind: a.kind, group: a.group, description: a.description, source: a.source })),
    pools,
    schedules: [],
    sensors: [],
    problems: snapshot.errors.map((e) => ({ file: e.file, line: e.line, column: e.column, message: e.message })),
  };
}
