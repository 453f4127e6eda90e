// How the CLI shows things: stable JSON for machines, aligned text for people.
import { relative } from "node:path";
import type { DefinitionsSnapshot } from "../engine/definitions/snapshot";
import { formatLoadError } from "../engine/definitions/snapshot";
import type { RunRecord, StoredEvent } from "../engine/events";
import type { PreparedRun } from "../engine/instance";
import type { PoolInfo } from "../engine/pools/poolStore";
import type { InstanceInfo } from "../engine/rpc/api";
import type { InputSource } from "../engine/execution/plan";

export function print(text: string): void {
  if (text.length > 0) process.stdout.write(text.endsWith("\n") ? text : text + "\n");
}

function time(ms: number | null | undefined): string {
  return ms ? new Date(ms).toISOString() : "-";
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

function table(rows: string[][]): string {
  if (rows.length === 0) return "";
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join("  ")).join("\n");
}

export function jobListJson(defs: DefinitionsSnapshot): string {
  return JSON.stringify(
    {
      jobs: defs.jobs.map((j) => ({
        name: j.name,
        kind: j.kind,
        implicit: j.implicit ?? false,
        description: j.description ?? null,
        tags: j.tags,
        executor: j.executor.name,
        source: j.source,
        ops: j.steps.map((s) => ({ key: s.key, op: s.opName, pool: s.pool, tags: s.tags, upstream: [...new Set(s.inputs.flatMap((i) => i.sources.map((x) => x.step)))] })),
        pools: [...new Set(j.steps.flatMap((s) => (s.pool ? [s.pool] : [])))],
        assets: j.assetKeys ?? [],
      })),
      assets: defs.assets.map((a) => ({ key: a.key, kind: a.kind, deps: a.deps, group: a.group ?? null, pool: a.pool, tags: a.tags, source: a.source })),
      errors: defs.errors,
    },
    null,
    2,
  );
}

export function jobListText(defs: DefinitionsSnapshot, workspace: string): string {
  const lines: string[] = [];
  const jobs = defs.jobs.filter((j) => !j.implicit);
  if (jobs.length === 0) lines.push("No jobs.");
  else {
    lines.push("Jobs:");
    lines.push(
      table(
        jobs.map((j) => {
          const pools = [...new Set(j.steps.flatMap((s) => (s.pool ? [s.pool] : [])))];
          const tags = Object.entries(j.tags).map(([k, v]) => `${k}=${v}`);
          return [
            `  ${j.name}`,
            j.kind === "assetJob" ? "asset job" : "job",
            `${j.steps.length} step${j.steps.length === 1 ? "" : "s"}: ${j.steps.map((s) => s.key).join(", ")}`,
            [pools.length ? `pools: ${pools.join(", ")}` : "", tags.length ? `tags: ${tags.join(", ")}` : ""].filter(Boolean).join("; "),
            `${relative(workspace, j.source.file)}:${j.source.line}`,
          ];
        }),
      ),
    );
  }
  if (defs.assets.length > 0) {
    lines.push("", "Assets:");
    lines.push(table(defs.assets.map((a) => [`  ${a.key}`, a.deps.length ? `deps: ${a.deps.join(", ")}` : "", a.pool ? `pool: ${a.pool}` : "", `${relative(workspace, a.source.file)}:${a.source.line}`])));
  }
  if (defs.errors.length > 0) {
    lines.push("", "Errors:");
    for (const e of defs.errors) lines.push(`  ${formatLoadError(e, workspace)}`);
  }
  return lines.join("\n");
}

function describeSource(s: InputSource): string {
  switch (s.kind) {
    case "step":
      return `${s.step}.${s.output}`;
    case "config":
      return `run config (${JSON.stringify(s.value)})`;
    case "run":
      return `${s.step}.${s.output} of earlier run ${s.runId}${s.assetKey ? ` (asset ${s.assetKey})` : ""}`;
  }
}

export function planJson(p: PreparedRun): string {
  return JSON.stringify(
    {
      job: p.job.name,
      executor: p.executor.kind,
      steps: p.plan.steps.map((s) => ({
        key: s.key,
        upstream: s.upstream,
        priority: s.priority,
        pool: s.pool,
        inputs: s.inputs.map((i) => ({ name: i.name, sources: i.sources })),
      })),
    },
    null,
    2,
  );
}

export function planText(p: PreparedRun): string {
  const lines = [`Plan for job "${p.job.name}" (${p.plan.steps.length} step${p.plan.steps.length === 1 ? "" : "s"}, ${p.executor.kind} executor):`];
  p.plan.steps.forEach((s, n) => {
    const extras = [s.priority !== 0 ? `priority ${s.priority}` : "", s.pool ? `pool ${s.pool}` : ""].filter(Boolean).join(", ");
    lines.push(`  ${n + 1}. ${s.key}${extras ? `  (${extras})` : ""}`);
    for (const i of s.inputs) lines.push(`       ${i.name} ← ${i.sources.map(describeSource).join(", ") || "nothing"}`);
  });
  return lines.join("\n");
}

export function eventJson(e: StoredEvent) {
  return { type: e.type, stepKey: e.stepKey ?? null, timestamp: e.timestamp, message: e.message, level: e.level, data: e.data ?? null };
}

export function eventLine(e: StoredEvent): string {
  const err = e.data?.error as { stack?: string; message?: string } | undefined;
  const head = `${clock(e.timestamp)}  ${e.level.padEnd(7)} ${e.type.padEnd(20)} ${(e.stepKey ?? "").padEnd(16)} ${e.message}`;
  if (e.type === "STEP_FAILURE" && err?.stack) return `${head}\n${indent(err.stack)}`;
  return head;
}

function indent(text: string): string {
  return text.split("\n").map((l) => `      ${l}`).join("\n");
}

export function runJson(r: RunRecord) {
  return {
    runId: r.runId,
    jobName: r.jobName,
    status: r.status,
    tags: r.tags,
    createTime: r.createTime,
    startTime: r.startTime,
    endTime: r.endTime,
    // Why a queued run still waits, in words and as data (see daemons/queueCoordinator.ts).
    queueReason: r.status === "QUEUED" ? ((r.meta?.queueReason as string | undefined) ?? null) : null,
    queueBlock: r.status === "QUEUED" ? (r.meta?.queueBlock ?? null) : null,
  };
}

function duration(r: RunRecord): string {
  if (!r.startTime) return "-";
  const ms = (r.endTime ?? Date.now()) - r.startTime;
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

export function runSummaryLine(r: RunRecord): string {
  return `Run ${r.runId} of "${r.jobName}": ${r.status} in ${duration(r)}`;
}

export function runListText(runs: RunRecord[]): string {
  if (runs.length === 0) return "No runs.";
  return table([
    ["RUN ID", "JOB", "STATUS", "CREATED", "DURATION", "WAITING ON"],
    ...runs.map((r) => [r.runId, r.jobName, r.status, time(r.createTime), duration(r), r.status === "QUEUED" ? ((r.meta?.queueReason as string | undefined) ?? "") : ""]),
  ]);
}

export function runShowText(r: RunRecord, events: StoredEvent[]): string {
  const steps = new Map<string, string>();
  for (const e of events) {
    if (!e.stepKey) continue;
    if (e.type === "STEP_START" || e.type === "STEP_RESTARTED") steps.set(e.stepKey, "RUNNING");
    if (e.type === "STEP_SUCCESS") steps.set(e.stepKey, "SUCCESS");
    if (e.type === "STEP_FAILURE") steps.set(e.stepKey, "FAILURE");
    if (e.type === "STEP_SKIPPED") steps.set(e.stepKey, "SKIPPED");
    if (e.type === "STEP_UP_FOR_RETRY") steps.set(e.stepKey, "UP_FOR_RETRY");
    if (e.type === "ENGINE_EVENT" && e.data?.abandoned) steps.set(e.stepKey, "NOT_EXECUTED");
  }
  const lines = [
    `Run ${r.runId}`,
    `  job:      ${r.jobName}`,
    `  status:   ${r.status}`,
    `  created:  ${time(r.createTime)}`,
    `  started:  ${time(r.startTime)}`,
    `  ended:    ${time(r.endTime)}`,
    `  duration: ${duration(r)}`,
  ];
  if (r.status === "QUEUED") lines.push(`  waiting:  ${(r.meta?.queueReason as string | undefined) ?? "for the queue daemon (\`sluice dev\`, VS Code or \`sluice job launch --wait\`) to look at it"}`);
  if (Object.keys(r.tags).length) lines.push(`  tags:     ${Object.entries(r.tags).map(([k, v]) => `${k}=${v}`).join(", ")}`);
  if (r.opSelection) lines.push(`  selection: ${r.opSelection.join(", ")}`);
  if (steps.size > 0) {
    lines.push("  steps:");
    for (const [k, s] of steps) lines.push(`    ${s.padEnd(13)} ${k}`);
  }
  const failure = events.find((e) => e.type === "RUN_FAILURE");
  if (failure) lines.push(`  failure:  ${failure.message}`);
  return lines.join("\n");
}

export function logsText(events: StoredEvent[]): string {
  if (events.length === 0) return "No log messages.";
  return events.map(eventLine).join("\n");
}

/** `sluice instance info`: every resolved key with its value and where it came from. */
export function instanceInfoText(info: InstanceInfo): string {
  const lines = [`Instance ${info.home}`, `  workspace: ${info.workspace}`];
  if (info.owner) {
    lines.push(`  owner:     pid ${info.owner.pid} (${info.owner.role}) since ${time(info.owner.startedAt)}${info.owner.daemons === false ? ", no daemons" : info.owner.daemons ? ", daemons running" : ""}`);
  } else lines.push("  owner:     none (no process owns the instance; queued runs wait for `sluice dev`)");
  lines.push(`  runs:      ${info.runs.queued} queued, ${info.runs.inProgress} in progress`);
  lines.push("");
  const state = !info.config.exists ? "not found, all defaults" : info.config.valid ? "valid" : "INVALID";
  lines.push(`Config ${info.config.file} (${state})`);
  if (info.config.errorText) lines.push(...info.config.errorText.split("\n").map((l) => `  ${l}`));
  const rows: string[][] = [];
  const walk = (value: unknown, path: string[]) => {
    const key = path.join(".");
    if (value !== null && typeof value === "object" && !Array.isArray(value) && !(key in info.config.sources)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(v, [...path, k]);
      return;
    }
    rows.push([`  ${key}`, JSON.stringify(value), info.config.sources[key] ?? "default"]);
  };
  walk(info.config.values, []);
  lines.push(table([["  KEY", "VALUE", "FROM"], ...rows]));
  if (info.pools.length > 0) {
    lines.push("", "Pools:");
    lines.push(table(info.pools.map((p) => [`  ${p.pool}`, p.limit === null ? "unlimited" : `${p.claimed}/${p.limit} slots occupied`, p.pending ? `${p.pending} waiting` : ""])));
  }
  return lines.join("\n");
}

/** `sluice instance concurrency get`: Dagster's `"pool": claimed / slots slots occupied`, then holders and waiters. */
export function concurrencyText(infos: PoolInfo[], all: boolean): string {
  if (infos.length === 0) return all ? "No pools have limits or claims." : "";
  const lines: string[] = [];
  for (const p of infos) {
    if (p.limit === null) lines.push(`"${p.pool}": no limit (unlimited)`);
    else lines.push(`"${p.pool}": ${p.claimed.length} / ${p.limit} slots occupied${p.usingDefault ? " (default_limit)" : ""}`);
    for (const c of p.claimed) lines.push(`  slot held by run ${c.runId} step ${c.stepKey}${c.deleted ? " (above the current limit; goes away when freed)" : ""}`);
    const waiting = p.pending.filter((x) => !x.assigned);
    waiting.forEach((w, i) => lines.push(`  waiting #${i + 1}: run ${w.runId} step ${w.stepKey} (priority ${w.priority}, since ${time(w.createTime)})`));
  }
  return lines.join("\n");
}
