// The one facade over an instance (a workspace and its `.sluice` home): definitions, plans, runs,
// events. The CLI and the extension are thin adapters over this class.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseYaml, formatIssue, type ConfigIssue } from "./config";
import { issueAt } from "./config/yamlPositions";
import { resolveExecutorConfig, validateRunConfig, validateRunConfigObject, type RunConfigJob } from "./config/runConfigSchema";
import { CodeLocation } from "./definitions/codeLocation";
import { formatLoadError, type DefinitionsSnapshot, type JobSnapshot } from "./definitions/snapshot";
import type { EventsQuery, RunRecord, RunRecordsOptions, RunsFilter, SluiceEvent, StoredEvent } from "./events";
import { effectiveExecutionConfig, retriesOf } from "./execution/customExecutor";
import { mergeRunConfig } from "./execution/opConfig";
import { FileOutputStore } from "./execution/outputs";
import { buildPlan, PlanError, type ExecutionPlan } from "./execution/plan";
import type { ResolvedExecutor } from "./execution/run";
import { describeExit, RunWorkerProcess } from "./launcher/runWorkerProcess";
import { acquireOwnership, type Ownership } from "./ownership";
import { instanceHome } from "./paths";
import { suggest } from "./config/fields";
import { Store } from "./storage/store";

/** Bad input from the user: the CLI prints the message and exits 2. */
export class InputError extends Error {
  constructor(message: string, readonly issues: ConfigIssue[] = []) {
    super(message);
    this.name = "InputError";
  }
}

export interface LaunchRequest {
  jobName: string;
  /** Op selection clauses (already split on commas). */
  selection?: string[];
  /** Explicit step keys (re-execution). */
  stepKeys?: string[];
  /** Run config as YAML text with the file it came from (for positioned errors)... */
  runConfigFile?: string;
  /** ...or as an object. */
  runConfig?: Record<string, unknown>;
  tags?: Record<string, string>;
}

export interface PreparedRun {
  job: JobSnapshot;
  plan: ExecutionPlan;
  runConfig: Record<string, unknown>;
  executor: ResolvedExecutor;
  tags: Record<string, string>;
  selection?: string[];
}

export interface InstanceOptions {
  /** Only read: for commands that must not take the instance from its owner. */
  readOnly?: boolean;
  importTimeoutMs?: number;
}

export class Instance {
  private definitionsSnapshot: DefinitionsSnapshot | undefined;
  private readonly codeLocation: CodeLocation;
  readonly outputs: FileOutputStore;

  private constructor(
    readonly workspace: string,
    readonly home: string,
    readonly store: Store,
    private readonly ownership: Ownership | undefined,
    options: InstanceOptions,
  ) {
    this.codeLocation = new CodeLocation(workspace, home, { importTimeoutMs: options.importTimeoutMs });
    this.outputs = new FileOutputStore(join(home, "storage"));
  }

  static async open(workspaceDir: string, options: InstanceOptions = {}): Promise<Instance> {
    const workspace = resolve(workspaceDir);
    const home = instanceHome(workspace);
    const ownership = options.readOnly ? undefined : acquireOwnership(home);
    try {
      const store = await Store.open({ home, readOnly: options.readOnly });
      return new Instance(workspace, home, store, ownership, options);
    } catch (e) {
      ownership?.release();
      throw e;
    }
  }

  async close(): Promise<void> {
    this.codeLocation.dispose();
    this.store.close();
    this.ownership?.release();
  }

  // -------------------------------------------------------------------------------------------
  // definitions

  async definitions(reload = false): Promise<DefinitionsSnapshot> {
    if (!this.definitionsSnapshot || reload) this.definitionsSnapshot = await this.codeLocation.load();
    return this.definitionsSnapshot;
  }

  async job(name: string): Promise<JobSnapshot> {
    const defs = await this.definitions();
    const job = defs.jobs.find((j) => j.name === name);
    if (job) return job;
    const names = defs.jobs.filter((j) => !j.implicit).map((j) => j.name);
    const hint = suggest(name, names);
    const lines = [`Unknown job "${name}".${hint ? ` Did you mean "${hint}"?` : ""}`];
    lines.push(names.length > 0 ? `Jobs in ${this.workspace}: ${names.join(", ")}` : `No jobs found in ${this.workspace}.`);
    if (defs.errors.length > 0) {
      lines.push("Some job files could not be loaded:");
      for (const e of defs.errors) lines.push(`  ${formatLoadError(e, this.workspace)}`);
    }
    throw new InputError(lines.join("\n"));
  }

  // -------------------------------------------------------------------------------------------
  // planning

  /** Validates selection and run config and builds the plan; every problem is an InputError. */
  async prepare(request: LaunchRequest): Promise<PreparedRun> {
    const job = await this.job(request.jobName);
    const given = this.readRunConfig(job, request);
    const runConfig = mergeRunConfig(job.defaultRunConfig, given.value);
    let plan: ExecutionPlan;
    try {
      plan = buildPlan(job, {
        selection: request.selection,
        stepKeys: request.stepKeys,
        runConfig,
        findEarlierOutput: (step, output, assetKey) => this.findEarlierOutput(job.name, step, output, assetKey),
      });
    } catch (e) {
      if (e instanceof PlanError) throw new InputError(e.message);
      throw e;
    }
    const opIssues = await this.codeLocation.validateOpConfig(job.name, runConfig);
    const planned = new Set(plan.steps.flatMap((s) => [s.key, s.node]));
    const relevant = opIssues.filter((i) => i.path[0] !== "ops" || planned.has(String(i.path[1])));
    if (relevant.length > 0) {
      const issues = relevant.map((i) => issueAt(given.parsed, given.file, i.path, { code: "op-config", message: i.message, target: "value" }));
      throw new InputError(`Invalid run config for job "${job.name}":\n${issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`, issues);
    }
    let executor: ResolvedExecutor | undefined;
    const executionConfig = effectiveExecutionConfig(job.executor, runConfig);
    try {
      executor = job.executor.builtin ? resolveExecutorConfig({ execution: { config: executionConfig } }, job.executor.builtin) : undefined;
    } catch (e) {
      throw new InputError(`Invalid executor config for job "${job.name}": ${e instanceof Error ? e.message : String(e)}`);
    }
    // A custom executor's config was checked against its schema by the code location (above).
    executor ??= { kind: "custom", name: job.executor.name, config: executionConfig, retries: retriesOf(executionConfig) };
    return { job, plan, runConfig, executor, tags: { ...job.tags, ...request.tags }, selection: request.selection };
  }

  private readRunConfig(job: JobSnapshot, request: LaunchRequest): { value: Record<string, unknown>; parsed?: ReturnType<typeof parseYaml>; file: string } {
    const shape: RunConfigJob = {
      opNames: job.steps.map((s) => s.key),
      executorName: job.executor.builtin ?? job.executor.name,
      opInputs: Object.fromEntries(job.steps.map((s) => [s.key, s.inputs.map((i) => i.name)])),
    };
    if (request.runConfigFile) {
      const file = resolve(request.runConfigFile);
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (e) {
        throw new InputError(`Cannot read run config file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      const result = validateRunConfig(text, file, shape);
      if (result.issues.length > 0) {
        throw new InputError(`Invalid run config for job "${job.name}":\n${result.issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`, result.issues);
      }
      return { value: (result.value ?? {}) as Record<string, unknown>, parsed: parseYaml(text, file), file };
    }
    if (request.runConfig) {
      const result = validateRunConfigObject(request.runConfig, shape);
      if (result.issues.length > 0) {
        throw new InputError(`Invalid run config for job "${job.name}":\n${result.issues.map((i) => `  ${i.keyPath}: ${i.message}`).join("\n")}`, result.issues);
      }
      return { value: request.runConfig, file: "run config" };
    }
    return { value: {}, file: "run config" };
  }

  private findEarlierOutput(jobName: string, step: string, output: string, assetKey?: string): { runId: string } | undefined {
    if (assetKey) {
      const latest = this.store.latestMaterializations([assetKey]).get(assetKey);
      const stepKey = latest?.stepKey;
      const outputName = (latest?.data?.outputName as string | undefined) ?? output;
      if (latest && stepKey && this.outputs.has(latest.runId, stepKey, outputName)) return { runId: latest.runId };
    }
    const found = this.store.latestStepOutput(jobName, step, output);
    if (found && this.outputs.has(found.runId, step, output)) return { runId: found.runId };
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // running

  /**
   * Runs now in a run worker, bypassing the queue (`sluice job execute`). The worker ends with
   * this process: killing the CLI kills the run, as with `dagster job execute`.
   */
  async executeForeground(prepared: PreparedRun, options: { onEvents?: (events: StoredEvent[]) => void; signal?: AbortSignal } = {}): Promise<RunRecord> {
    const defs = await this.definitions();
    const runId = randomUUID();
    this.store.createRun({
      runId,
      jobName: prepared.job.name,
      tags: prepared.tags,
      runConfig: prepared.runConfig,
      opSelection: prepared.selection ?? null,
      stepKeysToExecute: prepared.selection ? prepared.plan.steps.map((s) => s.key) : null,
      assetSelection: prepared.job.kind === "assetJob" ? prepared.plan.steps.flatMap((s) => (s.assetKey ? [s.assetKey] : [])) : null,
    });
    const record = (events: SluiceEvent[]) => {
      const stored = this.store.appendEvents(events);
      options.onEvents?.(stored);
    };
    record([{ runId, type: "RUN_STARTING", timestamp: Date.now(), level: "INFO", message: `Launching run worker for run of "${prepared.job.name}".` }]);
    const worker = new RunWorkerProcess(
      {
        runId,
        jobName: prepared.job.name,
        workspace: this.workspace,
        home: this.home,
        files: defs.files,
        plan: prepared.plan,
        runConfig: prepared.runConfig,
        runTags: prepared.tags,
        executor: prepared.executor,
        exitWithOwner: true,
      },
      {
        onEvents: record,
        onQuery: async (method, args) => {
          if (method === "getRunRecords") return this.store.getRunRecords(args[0] as RunsFilter | undefined, args[1] as RunRecordsOptions | undefined);
          throw new Error(`unknown query ${method}`);
        },
        onOutput: (text) => process.stderr.write(text),
      },
    );
    this.store.setRunMeta(runId, { workerPid: worker.pid });
    const onAbort = () => worker.interrupt("shutdown");
    options.signal?.addEventListener("abort", onAbort);
    const exit = await worker.exited;
    options.signal?.removeEventListener("abort", onAbort);
    const run = this.store.getRun(runId)!;
    if (run.status !== "SUCCESS" && run.status !== "FAILURE" && run.status !== "CANCELED") {
      record([{
        runId,
        type: "RUN_FAILURE",
        timestamp: Date.now(),
        level: "ERROR",
        message: `Run worker (pid ${exit.pid}) ${describeExit(exit)} before the run finished.`,
        data: { failureReason: "UNEXPECTED_TERMINATION", exitCode: exit.code, signal: exit.signal },
      }]);
    }
    this.store.flush();
    return this.store.getRun(runId)!;
  }

  // -------------------------------------------------------------------------------------------
  // reading

  runs(filter?: RunsFilter, options?: RunRecordsOptions): RunRecord[] {
    return this.store.getRunRecords(filter, options);
  }

  run(runId: string): RunRecord {
    const run = this.store.getRun(runId) ?? this.findRunByPrefix(runId);
    if (!run) throw new InputError(`No run with id "${runId}".`);
    return run;
  }

  events(runId: string, query?: EventsQuery): StoredEvent[] {
    return this.store.getEvents(this.run(runId).runId, query);
  }

  private findRunByPrefix(prefix: string): RunRecord | undefined {
    if (prefix.length < 4) return undefined;
    const matches = this.store.getRunRecords({}, { limit: 100000 }).filter((r) => r.runId.startsWith(prefix));
    if (matches.length > 1) throw new InputError(`Run id prefix "${prefix}" is ambiguous: ${matches.slice(0, 5).map((r) => r.runId).join(", ")}...`);
    return matches[0];
  }
}
