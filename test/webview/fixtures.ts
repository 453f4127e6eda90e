// Recorded data for the panel's tests: a realistic workspace snapshot (op jobs with pools, tags,
// retry policies and config schemas; assets in groups, a graph asset; an asset job), runs in every
// state (queued with the reasons the queue records), a live run with retries and a pool wait, a
// failed run with a stack, compute logs, pools. A data source over them records what it is asked.
import type { AssetSnapshot, DefinitionsSnapshot, JobSnapshot, StepSnapshot } from "../../src/engine/definitions/snapshot";
import type { RunRecord, RunStatus, StoredEvent, EventType, LogLevel } from "../../src/engine/events";
import type { ConcurrencyView, ConfigIssueView } from "../../src/protocol/webview";
import type { DataChange, WebviewDataSource, WebviewLaunchRequest } from "../../src/extension/webview/dataSource";

const WS = "/home/dev/shop";
const src = (file: string, line: number) => ({ file: `${WS}/pipelines/${file}`, line, column: 14 });

function step(key: string, o: Partial<StepSnapshot> & { upstream?: string[] } = {}): StepSnapshot {
  const upstream = o.upstream ?? [];
  return {
    key,
    node: o.node ?? key,
    opName: o.opName ?? key.split(".").pop()!,
    description: o.description,
    inputs: upstream.map((u, i) => ({ name: upstream.length === 1 ? "input" : `in_${i}`, sources: [{ step: u, output: "result" }], fanIn: false })),
    outputs: [{ name: "result", isRequired: true }],
    tags: o.tags ?? {},
    pool: o.pool ?? null,
    retryPolicy: o.retryPolicy ?? null,
    configSchema: o.configSchema ?? null,
    source: o.source ?? src("etl.ts", 10),
    assetKey: o.assetKey,
  };
}

const loadSchema = {
  type: "object",
  properties: {
    batch_size: { type: "integer", minimum: 1, default: 500, description: "Rows per INSERT." },
    mode: { type: "string", enum: ["append", "replace"], default: "append" },
    table: { type: "string", description: "Target table." },
  },
  required: ["batch_size", "mode", "table"],
  additionalProperties: false,
};

function etlJob(): JobSnapshot {
  const steps = [
    step("extract_orders", { description: "Pull yesterday's orders from the shop API.", tags: { source: "shop-api" }, retryPolicy: { maxRetries: 3, delay: 1, backoff: "EXPONENTIAL" as never, jitter: null }, source: src("etl.ts", 12) }),
    step("clean_orders", { upstream: ["extract_orders"], description: "Drop test orders and duplicates.", source: src("etl.ts", 24) }),
    step("validate_orders", { upstream: ["extract_orders"], tags: { team: "data-quality" }, retryPolicy: { maxRetries: 2, delay: 0.5, backoff: null, jitter: null }, source: src("etl.ts", 33) }),
    step("load_warehouse", { upstream: ["clean_orders", "validate_orders"], pool: "warehouse", tags: { "sluice/priority": "2", owner: "platform" }, configSchema: loadSchema, description: "Bulk-load into the warehouse.", source: src("etl.ts", 45) }),
    step("notify_slack", { upstream: ["load_warehouse"], tags: { channel: "#data" }, source: src("etl.ts", 61) }),
  ];
  return {
    name: "etl_job",
    kind: "job",
    description: "Nightly orders ETL.",
    tags: { team: "data" },
    source: src("etl.ts", 70),
    executor: { name: "multi_or_in_process", builtin: "multi_or_in_process" },
    opRetryPolicy: null,
    steps,
    nodes: steps.map((s) => ({ name: s.key, upstream: [...new Set(s.inputs.flatMap((i) => i.sources.map((x) => x.step)))] })),
    defaultRunConfig: { execution: { config: { multiprocess: { max_concurrent: 4 } } } },
  };
}

function myJob(): JobSnapshot {
  const steps = [
    step("return_one", { source: src("hello.ts", 4) }),
    step("add_two", { upstream: ["return_one"], tags: { "sluice/priority": "2" }, pool: "database", source: src("hello.ts", 8) }),
    step("multi_three", { upstream: ["add_two"], configSchema: { type: "object", properties: { factor: { type: "number", default: 3 } }, required: ["factor"] }, retryPolicy: { maxRetries: 3, delay: 0.2, backoff: "LINEAR" as never, jitter: null }, source: src("hello.ts", 12) }),
  ];
  return {
    name: "my_job",
    kind: "job",
    description: "return_one → add_two → multi_three",
    tags: {},
    source: src("hello.ts", 22),
    executor: { name: "multi_or_in_process", builtin: "multi_or_in_process" },
    opRetryPolicy: null,
    steps,
    nodes: steps.map((s) => ({ name: s.key, upstream: s.inputs.flatMap((i) => i.sources.map((x) => x.step)) })),
  };
}

const ASSETS: { key: string; deps: string[]; group: string; pool?: string; tags?: Record<string, string>; description?: string; graph?: boolean; config?: boolean }[] = [
  { key: "raw_orders", deps: [], group: "ingest", pool: "warehouse", description: "Orders as the shop API returns them." },
  { key: "raw_customers", deps: [], group: "ingest", pool: "warehouse" },
  { key: "raw_payments", deps: [], group: "ingest" },
  { key: "stg_orders", deps: ["raw_orders"], group: "staging" },
  { key: "stg_customers", deps: ["raw_customers"], group: "staging" },
  { key: "stg_payments", deps: ["raw_payments"], group: "staging" },
  { key: "orders_enriched", deps: ["stg_orders", "stg_customers", "stg_payments"], group: "marts", graph: true, description: "Graph asset: join + dedupe." },
  { key: "daily_revenue", deps: ["orders_enriched"], group: "marts", config: true, tags: { owner: "analytics" } },
  { key: "customer_ltv", deps: ["orders_enriched", "stg_customers"], group: "marts", tags: { owner: "analytics" } },
  { key: "revenue_dashboard", deps: ["daily_revenue", "customer_ltv"], group: "reporting", tags: { tier: "gold" } },
];

export function fixtureDefinitions(): DefinitionsSnapshot {
  const assets: AssetSnapshot[] = ASSETS.map((a, i) => ({
    key: a.key,
    node: a.key,
    kind: a.graph ? "graphAsset" : "asset",
    deps: a.deps,
    group: a.group,
    description: a.description,
    tags: a.tags ?? {},
    pool: a.pool ?? null,
    source: src("assets.ts", 5 + i * 9),
    outputStep: a.graph ? `${a.key}.dedupe` : a.key,
  }));
  const assetSteps: StepSnapshot[] = ASSETS.flatMap((a, i) => {
    const upstream = a.deps.map((d) => (ASSETS.find((x) => x.key === d)?.graph ? `${d}.dedupe` : d));
    if (a.graph) {
      return [
        step(`${a.key}.join`, { node: a.key, opName: "join", upstream, source: src("assets.ts", 5 + i * 9) }),
        step(`${a.key}.dedupe`, { node: a.key, opName: "dedupe", upstream: [`${a.key}.join`], assetKey: a.key, source: src("assets.ts", 7 + i * 9) }),
      ];
    }
    return [
      step(a.key, {
        upstream,
        pool: a.pool ?? null,
        tags: a.tags ?? {},
        assetKey: a.key,
        configSchema: a.config ? { type: "object", properties: { currency: { type: "string", enum: ["EUR", "USD"], default: "EUR" } } } : null,
        retryPolicy: a.pool ? { maxRetries: 2, delay: 5, backoff: null, jitter: "FULL" as never } : null,
        source: src("assets.ts", 5 + i * 9),
      }),
    ];
  });
  const assetNodes = ASSETS.map((a) => ({ name: a.key, upstream: a.deps, ...(a.graph ? { children: [{ name: "join", upstream: [] }, { name: "dedupe", upstream: ["join"] }] } : {}) }));
  const implicit: JobSnapshot = {
    name: "__ASSET_JOB",
    kind: "assetJob",
    implicit: true,
    description: "Materialize any selection of the workspace's assets.",
    tags: {},
    source: src("assets.ts", 1),
    executor: { name: "multi_or_in_process", builtin: "multi_or_in_process" },
    opRetryPolicy: null,
    steps: assetSteps,
    nodes: assetNodes,
    assetKeys: ASSETS.map((a) => a.key),
  };
  const allAssets: JobSnapshot = { ...implicit, name: "all_assets", implicit: false, description: undefined, tags: { "sluice/max_retries": "2" }, source: src("assets.ts", 99) };
  return {
    workspace: WS,
    loadedAt: Date.now(),
    files: [],
    jobs: [etlJob(), myJob(), allAssets, implicit],
    assets,
    errors: [],
  };
}

// ---------------------------------------------------------------------------------------------
// runs and events

export const NOW = Date.now();
const S = 1000;

function run(id: string, jobName: string, status: RunStatus, t: { create: number; start?: number; end?: number }, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    runId: id,
    jobName,
    status,
    tags: extra.tags ?? {},
    runConfig: {},
    opSelection: extra.opSelection ?? null,
    stepKeysToExecute: extra.stepKeysToExecute ?? null,
    assetSelection: extra.assetSelection ?? null,
    parentRunId: extra.parentRunId ?? null,
    rootRunId: extra.rootRunId ?? null,
    storageId: 0,
    createTime: NOW + t.create,
    updateTime: NOW + (t.end ?? t.start ?? t.create),
    startTime: t.start !== undefined ? NOW + t.start : null,
    endTime: t.end !== undefined ? NOW + t.end : null,
    meta: extra.meta ?? {},
  };
}

export const LIVE_RUN = "7f3a9c2e-1b4d-4e8f-9a6b-2c1d0e9f8a7b";
export const FAILED_RUN = "c4e1b7a0-55aa-4c3e-8d2f-7b6a5c4d3e2f";

export function fixtureRuns(): RunRecord[] {
  const runs = [
    run("q1b2c3d4-0000-4000-8000-000000000001", "etl_job", "QUEUED", { create: -20 * S }, { tags: { team: "data" }, meta: { queueReason: "pool warehouse 1/1, 1 step waiting (op granularity)" } }),
    run("q1b2c3d4-0000-4000-8000-000000000002", "my_job", "QUEUED", { create: -12 * S }, { meta: { queueReason: "max_concurrent_runs 2 reached" } }),
    run("q1b2c3d4-0000-4000-8000-000000000003", "all_assets", "QUEUED", { create: -6 * S }, { tags: { team: "analytics" }, meta: { queueReason: "tag team=analytics 1/1" } }),
    run("s1b2c3d4-0000-4000-8000-000000000004", "my_job", "STARTING", { create: -3 * S, start: -1 * S }),
    run(LIVE_RUN, "etl_job", "STARTED", { create: -15 * S, start: -14 * S }, { tags: { team: "data", "sluice/priority": "2" } }),
    run("x1b2c3d4-0000-4000-8000-000000000006", "my_job", "CANCELING", { create: -40 * S, start: -38 * S }),
    run("a5a5a5a5-0000-4000-8000-000000000007", "__ASSET_JOB", "SUCCESS", { create: -300 * S, start: -299 * S, end: -280 * S }, { assetSelection: ASSETS.map((a) => a.key) }),
    run(FAILED_RUN, "etl_job", "FAILURE", { create: -900 * S, start: -899 * S, end: -880 * S }, { tags: { team: "data" } }),
    run("d9d9d9d9-0000-4000-8000-000000000009", "my_job", "CANCELED", { create: -1200 * S, start: -1199 * S, end: -1190 * S }),
    run("e1e1e1e1-0000-4000-8000-000000000010", "__ASSET_JOB", "SUCCESS", { create: -60 * S, start: -59 * S, end: -50 * S }, { assetSelection: ["raw_orders"], opSelection: ["raw_orders"] }),
    run("f2f2f2f2-0000-4000-8000-000000000011", "my_job", "SUCCESS", { create: -2000 * S, start: -1999 * S, end: -1990 * S }),
  ];
  return runs.sort((a, b) => b.createTime - a.createTime);
}

let nextId = 1;
function ev(runId: string, t: number, type: EventType, stepKey: string | null, message: string, level: LogLevel = "INFO", data?: Record<string, unknown>): StoredEvent {
  return { id: nextId++, runId, type, stepKey, timestamp: NOW + t, level, message, data };
}

export function fixtureEvents(): Map<string, StoredEvent[]> {
  nextId = 1;
  const m = new Map<string, StoredEvent[]>();
  const L = LIVE_RUN;
  const base = -14 * S;
  m.set(L, [
    ev(L, -15 * S, "RUN_ENQUEUED", null, "Run enqueued."),
    ev(L, base, "RUN_STARTING", null, "Run starting."),
    ev(L, base + 300, "RUN_START", null, 'Started execution of run for "etl_job".'),
    ev(L, base + 500, "STEP_START", "extract_orders", 'Started execution of step "extract_orders".'),
    ev(L, base + 900, "LOG_MESSAGE", "extract_orders", "GET /orders?since=2026-11-20 → 502 Bad Gateway", "WARNING"),
    ev(L, base + 1200, "STEP_UP_FOR_RETRY", "extract_orders", 'Execution of step "extract_orders" failed and has requested a retry in 1 seconds.', "WARNING", { secondsToWait: 1, attempt: 1, error: { name: "Error", message: "502 Bad Gateway", stack: "Error: 502 Bad Gateway\n    at extract_orders (pipelines/etl.ts:18:11)" } }),
    ev(L, base + 2200, "STEP_RESTARTED", "extract_orders", 'Started re-execution (attempt # 2) of step "extract_orders".'),
    ev(L, base + 3300, "STEP_OUTPUT", "extract_orders", 'Yielded output "result" of type "Any".'),
    ev(L, base + 3400, "STEP_SUCCESS", "extract_orders", 'Finished execution of step "extract_orders" in 1.2s.'),
    ev(L, base + 3500, "STEP_START", "clean_orders", 'Started execution of step "clean_orders".'),
    ev(L, base + 3500, "STEP_START", "validate_orders", 'Started execution of step "validate_orders".'),
    ev(L, base + 4200, "STEP_UP_FOR_RETRY", "validate_orders", 'Execution of step "validate_orders" failed and has requested a retry in 0.5 seconds.', "WARNING", { secondsToWait: 0.5, attempt: 1 }),
    ev(L, base + 4700, "STEP_RESTARTED", "validate_orders", 'Started re-execution (attempt # 2) of step "validate_orders".'),
    ev(L, base + 5100, "STEP_SUCCESS", "clean_orders", 'Finished execution of step "clean_orders" in 1.6s.'),
    ev(L, base + 5600, "STEP_SUCCESS", "validate_orders", 'Finished execution of step "validate_orders" in 0.9s.'),
    ev(L, base + 5800, "ENGINE_EVENT", "load_warehouse", "Step blocked by concurrency limit for key warehouse", "INFO", { concurrency_key: "warehouse", pool: "warehouse", blocked: true }),
    ev(L, base + 6800, "ENGINE_EVENT", "load_warehouse", "Step still blocked by concurrency limit for key warehouse", "INFO", { concurrency_key: "warehouse", pool: "warehouse", blocked: true }),
    ev(L, base + 9300, "STEP_START", "load_warehouse", 'Started execution of step "load_warehouse".'),
    ev(L, base + 9400, "LOGS_CAPTURED", "load_warehouse", 'Started capturing logs for step "load_warehouse" (pid: 4242).'),
    ev(L, base + 10_500, "LOG_MESSAGE", "load_warehouse", "inserted 12000 rows into orders", "INFO"),
  ]);
  const F = FAILED_RUN;
  const fb = -899 * S;
  m.set(F, [
    ev(F, fb, "RUN_STARTING", null, "Run starting."),
    ev(F, fb + 200, "RUN_START", null, 'Started execution of run for "etl_job".'),
    ev(F, fb + 400, "STEP_START", "extract_orders", 'Started execution of step "extract_orders".'),
    ev(F, fb + 2400, "STEP_SUCCESS", "extract_orders", 'Finished execution of step "extract_orders".'),
    ev(F, fb + 2500, "STEP_START", "clean_orders", 'Started execution of step "clean_orders".'),
    ev(F, fb + 2500, "STEP_START", "validate_orders", 'Started execution of step "validate_orders".'),
    ev(F, fb + 3500, "STEP_SUCCESS", "clean_orders", "Finished."),
    ev(F, fb + 3900, "STEP_SUCCESS", "validate_orders", "Finished."),
    ev(F, fb + 4000, "STEP_START", "load_warehouse", 'Started execution of step "load_warehouse".'),
    ev(F, fb + 9000, "STEP_FAILURE", "load_warehouse", 'Execution of step "load_warehouse" failed: relation "orders" does not exist', "ERROR", { error: { name: "Error", message: 'relation "orders" does not exist', stack: 'Error: relation "orders" does not exist\n    at load (pipelines/etl.ts:52:9)\n    at async Object.fn (pipelines/etl.ts:47:5)' } }),
    ev(F, fb + 9100, "STEP_SKIPPED", "notify_slack", 'Skipped execution of step "notify_slack".'),
    ev(F, fb + 9500, "RUN_FAILURE", null, 'Execution of run for "etl_job" failed. Steps failed: ["load_warehouse"].', "ERROR"),
  ]);
  const A = "a5a5a5a5-0000-4000-8000-000000000007";
  const ab = -299 * S;
  m.set(
    A,
    ASSETS.flatMap((a, i) => {
      const key = a.graph ? `${a.key}.dedupe` : a.key;
      return [
        ev(A, ab + i * 1500, "STEP_START", key, `Started execution of step "${key}".`),
        ev(A, ab + i * 1500 + 1200, "STEP_SUCCESS", key, `Finished execution of step "${key}".`),
        ev(A, ab + i * 1500 + 1250, "ASSET_MATERIALIZATION", key, `Materialized value ${a.key}.`, "INFO", { assetKey: a.key }),
      ];
    }),
  );
  const E = "e1e1e1e1-0000-4000-8000-000000000010";
  m.set(E, [
    ev(E, -59 * S, "STEP_START", "raw_orders", 'Started execution of step "raw_orders".'),
    ev(E, -52 * S, "STEP_SUCCESS", "raw_orders", "Finished."),
    ev(E, -52 * S + 10, "ASSET_MATERIALIZATION", "raw_orders", "Materialized value raw_orders.", "INFO", { assetKey: "raw_orders" }),
  ]);
  return m;
}

export function fixtureConcurrency(): ConcurrencyView {
  return {
    pools: [
      { pool: "warehouse", limit: 1, usingDefault: false, claimed: [{ runId: LIVE_RUN, stepKey: "load_warehouse" }], pending: [{ runId: "q1b2c3d4-0000-4000-8000-000000000001", stepKey: "load_warehouse", priority: 2, createTime: NOW - 20 * S }] },
      { pool: "database", limit: 4, usingDefault: true, claimed: [{ runId: "s1b2c3d4-0000-4000-8000-000000000004", stepKey: "add_two" }], pending: [] },
    ],
    defaultPoolLimit: 4,
    granularity: "op",
    runs: { maxConcurrentRuns: 2, inProgress: 3, queued: 3, tagLimits: [{ key: "team", value: "analytics", limit: 1, current: [{ value: "analytics", count: 1 }] }, { key: "team", value: { applyLimitPerUniqueValue: true }, limit: 2, current: [{ value: "data", count: 2 }] }] },
  };
}

export const LOGS: Record<string, { stdout: string; stderr: string }> = {
  load_warehouse: { stdout: "connecting to warehouse…\nCOPY orders FROM STDIN (12000 rows)\ninserted 12000 rows into orders\n", stderr: "warning: table orders has no primary key\n" },
  extract_orders: { stdout: "GET /orders?since=2026-11-20\nattempt 1: 502 Bad Gateway\nattempt 2: 200 OK (12000 orders)\n", stderr: "" },
};

export interface Recorded {
  launches: WebviewLaunchRequest[];
  cancels: string[];
  reexecutes: { runId: string; strategy: string }[];
  poolLimits: { pool: string; limit: number }[];
  logsAsked: { runId: string; step: string }[];
}

/** The fixtures as a WebviewDataSource; `emit` simulates engine changes. */
export class FixtureDataSource implements WebviewDataSource {
  defs = fixtureDefinitions();
  runList = fixtureRuns();
  eventMap = fixtureEvents();
  conc = fixtureConcurrency();
  readonly recorded: Recorded = { launches: [], cancels: [], reexecutes: [], poolLimits: [], logsAsked: [] };
  private listeners = new Set<(c: DataChange) => void>();
  hostValidation: ((job: string, yaml: string) => ConfigIssueView[]) | undefined;

  definitions() {
    return this.defs;
  }
  runs(limit: number) {
    return this.runList.slice(0, limit);
  }
  run(runId: string) {
    return this.runList.find((r) => r.runId === runId);
  }
  eventsOf(runId: string) {
    return this.eventMap.get(runId) ?? [];
  }
  events(runId: string, afterId = 0, limit = 1e9) {
    return this.eventsOf(runId).filter((e) => e.id > afterId).slice(0, limit);
  }
  computeLogs(runId: string, stepKey: string) {
    this.recorded.logsAsked.push({ runId, step: stepKey });
    const l = LOGS[stepKey] ?? { stdout: "", stderr: "" };
    return { ...l, truncated: false };
  }
  concurrency() {
    return this.conc;
  }
  launch(r: WebviewLaunchRequest) {
    this.recorded.launches.push(r);
    return { runId: `launched-${this.recorded.launches.length}` };
  }
  cancel(runId: string) {
    this.recorded.cancels.push(runId);
    return undefined;
  }
  reexecute(runId: string, strategy: "all" | "fromFailure") {
    this.recorded.reexecutes.push({ runId, strategy });
    return { runId: `reexec-${this.recorded.reexecutes.length}` };
  }
  setPoolLimit(pool: string, limit: number) {
    this.recorded.poolLimits.push({ pool, limit });
    const p = this.conc.pools.find((x) => x.pool === pool);
    if (p) {
      this.conc = { ...this.conc, pools: this.conc.pools.map((x) => (x === p ? { ...x, limit, usingDefault: false } : x)) };
    }
    return undefined;
  }
  validateRunConfig(job: string, yaml: string) {
    return this.hostValidation?.(job, yaml) ?? [];
  }
  onChange(listener: (c: DataChange) => void) {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
  emit(c: DataChange): void {
    for (const l of this.listeners) l(c);
  }
}
