// The one facade over an instance (a workspace and its `.sluice` home): definitions, plans, runs,
// events. The CLI and the extension are thin adapters over this class.
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseYaml, formatIssue, type ConfigIssue } from "./config";
import { issueAt } from "./config/yamlPositions";
import { resolveExecutorConfig, validateRunConfig, validateRunConfigObject, type RunConfigJob } from "./config/runConfigSchema";
import { CodeLocation } from "./definitions/codeLocation";
import { formatLoadError, type DefinitionsSnapshot, type JobSnapshot } from "./definitions/snapshot";
import { FINISHED_STATUSES, IN_PROGRESS_STATUSES, systemTag, type EventsQuery, type RunRecord, type RunRecordsOptions, type RunsFilter, type SluiceEvent, type StoredEvent } from "./events";
import { effectiveExecutionConfig, retriesOf } from "./execution/customExecutor";
import { mergeRunConfig } from "./execution/opConfig";
import { FileOutputStore } from "./execution/outputs";
import { buildPlan, PlanError, type ExecutionPlan } from "./execution/plan";
import { fromFailureStepKeys, lineage, reexecutionTags, ReexecutionError, type ReexecuteRequest } from "./execution/reexecution";
import type { ResolvedExecutor } from "./execution/run";
import { InstanceOwner, OwnerInputError, type CancelResult, type FreeResult, type SubmitInput } from "./launcher/owner";
import { acquireOwnership, readOwner, ownerAlive, type Ownership } from "./ownership";
import { discoverJobFiles } from "./definitions/discover";
import { PoolStore, type PoolInfo } from "./pools/poolStore";
import { OwnerServer } from "./rpc/server";
import { socketPathFor } from "./rpc/protocol";
import { ownerHandlers, toRpcError } from "./rpc/handlers";
import type { ExecuteOptions, InstanceInfo, LaunchResult, OwnerApi, OwnerHello, WatchOptions } from "./rpc/api";
import { describeConfigIssues, InstanceConfigState } from "./daemons/instanceConfigState";
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
  /** The plan was given as explicit step keys (re-execution). */
  explicitSteps?: boolean;
}

/** Run tag that makes a launched run skip the queue and start at once (see README, "Run tags"). */
export const RUN_IMMEDIATELY_TAG = "sluice/run_immediately";

/** `sluice/run_immediately` (or its `dagster/` alias) says yes: "true", "1", "yes". */
export function runsImmediately(tags: Record<string, string>): boolean {
  const v = systemTag(tags, "run_immediately")?.trim().toLowerCase();
  return v === "true" || v === "1" || v === "yes";
}

export interface InstanceOptions {
  /** Only read: for commands that must not take the instance from its owner. */
  readOnly?: boolean;
  importTimeoutMs?: number;
  /** What kind of owner this is ("cli", "dev", "vscode"); written in the lock. Default "cli". */
  role?: string;
  /** Writers listen on the owner socket so that other processes can send requests (default true). */
  serve?: boolean;
  /** Where the owner's daemons report (default stderr). */
  log?: (message: string) => void;
  /** What run workers of queued runs print outside of captured steps (default stderr, prefixed). */
  onWorkerOutput?: (runId: string, text: string, stream: "stdout" | "stderr") => void;
}

export class Instance implements OwnerApi {
  readonly remote = false;
  private definitionsSnapshot: DefinitionsSnapshot | undefined;
  private loadingDefinitions: Promise<DefinitionsSnapshot> | undefined;
  private readonly codeLocation: CodeLocation;
  readonly outputs: FileOutputStore;
  /** Owner-only machinery (writers): event hub, pools, launcher, queue daemon. */
  private readonly owner: InstanceOwner | undefined;
  private server: OwnerServer | undefined;
  private readonly readOnlyConfig: InstanceConfigState | undefined;
  private closed = false;

  private constructor(
    readonly workspace: string,
    readonly home: string,
    readonly store: Store,
    private readonly ownership: Ownership | undefined,
    options: InstanceOptions,
  ) {
    this.codeLocation = new CodeLocation(workspace, home, { importTimeoutMs: options.importTimeoutMs });
    this.outputs = new FileOutputStore(join(home, "storage"));
    if (ownership) this.owner = new InstanceOwner({ workspace, home, store, log: options.log, onWorkerOutput: options.onWorkerOutput });
    else this.readOnlyConfig = new InstanceConfigState(workspace);
  }

  /**
   * Opens the instance of a workspace. A writer becomes the home's owner (DESIGN.md rule 3): it
   * takes the lock (InstanceOwnedError when another live process has it), cleans up after a dead
   * owner, and listens on the owner socket for other processes' requests.
   */
  static async open(workspaceDir: string, options: InstanceOptions = {}): Promise<Instance> {
    const workspace = resolve(workspaceDir);
    const home = instanceHome(workspace);
    const socket = socketPathFor(home);
    const ownership = options.readOnly ? undefined : acquireOwnership(home, { role: options.role ?? "cli", socket });
    let instance: Instance | undefined;
    try {
      const store = await Store.open({ home, readOnly: options.readOnly });
      instance = new Instance(workspace, home, store, ownership, options);
      if (instance.owner) {
        instance.owner.recoverOrphanedRuns();
        if (options.serve !== false) {
          instance.server = new OwnerServer(ownerHandlers(instance), toRpcError);
          await instance.server.listen(socket);
        }
      }
      return instance;
    } catch (e) {
      if (instance) await instance.close();
      else ownership?.release();
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.server?.close();
    if (this.owner) await this.owner.shutdown();
    this.codeLocation.dispose();
    this.store.close();
    this.ownership?.release();
  }

  /** Whether this process owns the home (a writer). */
  get isOwner(): boolean {
    return this.owner !== undefined;
  }

  private requireOwner(): InstanceOwner {
    if (!this.owner) throw new Error("this instance was opened read-only; open it as the owner to change runs");
    return this.owner;
  }

  // -------------------------------------------------------------------------------------------
  // definitions

  async definitions(reload = false): Promise<DefinitionsSnapshot> {
    // One load at a time: an owner answers many requests at once, and a new load would stop the
    // code-location process of the one in flight.
    if (this.loadingDefinitions) return this.loadingDefinitions;
    if (this.definitionsSnapshot && !reload && !this.jobFilesChanged()) return this.definitionsSnapshot;
    this.loadingDefinitions = this.codeLocation.load().then(
      (snapshot) => {
        this.definitionsSnapshot = snapshot;
        this.loadingDefinitions = undefined;
        return snapshot;
      },
      (e: unknown) => {
        this.loadingDefinitions = undefined;
        throw e;
      },
    );
    return this.loadingDefinitions;
  }

  /** An owner serves other processes too (`sluice dev`, VS Code, a CLI answering forwarded requests): it re-loads definitions when job files changed since the last load. */
  private jobFilesChanged(): boolean {
    const snap = this.definitionsSnapshot;
    if (!snap || !this.owner) return false;
    const known = new Set(snap.files.map((f) => f.path));
    const now = discoverJobFiles(this.workspace);
    if (now.length !== known.size || now.some((f) => !known.has(f))) return true;
    return now.some((f) => {
      try {
        return statSync(f).mtimeMs > snap.loadedAt;
      } catch {
        return true;
      }
    });
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
  async prepare(request: LaunchRequest, options: { outputsFrom?: string[] } = {}): Promise<PreparedRun> {
    const job = await this.job(request.jobName);
    const given = this.readRunConfig(job, request);
    const runConfig = mergeRunConfig(job.defaultRunConfig, given.value);
    let plan: ExecutionPlan;
    try {
      plan = buildPlan(job, {
        selection: request.selection,
        stepKeys: request.stepKeys,
        runConfig,
        findEarlierOutput: (step, output, assetKey) => this.findEarlierOutput(job.name, step, output, assetKey, options.outputsFrom),
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
    return { job, plan, runConfig, executor, tags: { ...job.tags, ...request.tags }, selection: request.selection, explicitSteps: request.stepKeys !== undefined };
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

  private findEarlierOutput(jobName: string, step: string, output: string, assetKey?: string, preferRuns: string[] = []): { runId: string } | undefined {
    // A re-execution reads what its parent (or an earlier ancestor) produced, as Dagster does.
    for (const runId of preferRuns) if (this.outputs.has(runId, step, output)) return { runId };
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
  async executeForeground(
    prepared: PreparedRun,
    options: { onEvents?: (events: StoredEvent[]) => void; signal?: AbortSignal; onOutput?: (text: string, stream: "stdout" | "stderr") => void } = {},
  ): Promise<RunRecord> {
    const defs = await this.definitions();
    return this.requireOwner().executeNow(this.submitInput(prepared, defs), options);
  }

  private submitInput(prepared: PreparedRun, defs: DefinitionsSnapshot) {
    return {
      jobName: prepared.job.name,
      plan: prepared.plan,
      executor: prepared.executor,
      runConfig: prepared.runConfig,
      tags: prepared.tags,
      selection: prepared.selection,
      assetJob: prepared.job.kind === "assetJob",
      files: defs.files,
      explicitSteps: prepared.explicitSteps,
    };
  }

  // -------------------------------------------------------------------------------------------
  // the owner's operations (OwnerApi: the same calls arrive from other processes over the socket)

  async hello(): Promise<OwnerHello> {
    const info = this.ownership?.info;
    return { pid: process.pid, role: info?.role ?? "reader", daemons: this.owner?.daemonsRunning ?? false, workspace: this.workspace, home: this.home };
  }

  /**
   * `sluice job launch`: validates exactly as execute does, then submits: QUEUED with RUN_ENQUEUED.
   * A run tagged `sluice/run_immediately: "true"` (job tags or launch tags) skips the queue and starts now.
   */
  async launch(request: LaunchRequest): Promise<LaunchResult> {
    this.requireOwner();
    const prepared = await this.prepare(request);
    const defs = await this.definitions();
    return this.submitPrepared(this.submitInput(prepared, defs));
  }

  private submitPrepared(input: SubmitInput): LaunchResult {
    const owner = this.requireOwner();
    const run = runsImmediately(input.tags) ? owner.submitNow(input) : owner.submit(input);
    return { run, daemonRunning: owner.daemonsRunning, owner: { pid: process.pid, role: this.ownership!.info.role } };
  }

  /**
   * `sluice run reexecute`: a new run of the same job with the parent's run config and tags, as a
   * child in its lineage (parentRunId/rootRunId and the `sluice/parent_run_id`, `sluice/root_run_id`
   * tags). "all" runs the parent's whole step selection again; "fromFailure" only the steps that did
   * not succeed and everything downstream of them (reference §7), reading the other steps' outputs
   * from the parent (or an earlier ancestor); `{ selection }` runs a new op selection of the job.
   * Submitted like `launch` (through the queue unless the tags say run immediately).
   */
  async reexecute(runId: string, request: ReexecuteRequest): Promise<LaunchResult> {
    this.requireOwner();
    const parent = this.run(runId);
    if (!FINISHED_STATUSES.includes(parent.status)) {
      throw new InputError(`Run ${parent.runId} is ${parent.status}; only finished runs (SUCCESS, FAILURE, CANCELED) can be re-executed.`);
    }
    const job = await this.job(parent.jobName);
    const fromFailure = request === "fromFailure";
    let stepKeys: string[] | undefined;
    let selection: string[] | undefined = parent.opSelection ?? undefined;
    try {
      if (fromFailure) stepKeys = fromFailureStepKeys(job, parent, this.store.getEvents(parent.runId));
      else if (request === "all") stepKeys = parent.stepKeysToExecute?.filter((k) => job.steps.some((s) => s.key === k));
      else selection = request.selection;
    } catch (e) {
      if (e instanceof ReexecutionError) throw new InputError(e.message);
      throw e;
    }
    const prepared = await this.prepare(
      { jobName: parent.jobName, selection, stepKeys, runConfig: parent.runConfig, tags: reexecutionTags(parent, fromFailure) },
      { outputsFrom: lineage(parent, (id) => this.store.getRun(id)) },
    );
    const defs = await this.definitions();
    return this.submitPrepared({ ...this.submitInput(prepared, defs), parentRunId: parent.runId, rootRunId: parent.rootRunId ?? parent.runId });
  }

  /** `sluice job execute` (also on behalf of another process). */
  async execute(request: LaunchRequest, options: ExecuteOptions = {}): Promise<RunRecord> {
    const prepared = await this.prepare(request);
    return this.executeForeground(prepared, options);
  }

  /** Streams a run's events until it is finished. */
  async watchRun(runId: string, options: WatchOptions = {}): Promise<RunRecord> {
    return this.asInput(() => this.requireOwner().watchRun(this.run(runId).runId, options));
  }

  async cancel(runId: string): Promise<CancelResult> {
    return this.asInput(() => this.requireOwner().cancel(this.run(runId).runId));
  }

  async setConcurrencyLimit(pool: string, limit: number): Promise<string> {
    return this.asInput(() => this.requireOwner().setConcurrencyLimit(pool, limit));
  }

  async concurrencyInfo(pool?: string): Promise<PoolInfo[]> {
    if (this.owner) return this.owner.concurrencyInfo(pool);
    const defaultLimit = this.readOnlyConfig!.config.concurrency.pools.default_limit;
    const pools = new PoolStore(this.store);
    return (pool ? [pool] : pools.pools()).map((p) => pools.info(p, defaultLimit));
  }

  async freeConcurrencySlots(runId: string): Promise<FreeResult> {
    const id = this.store.getRun(runId)?.runId ?? findRunByPrefix(this.store, runId)?.runId ?? runId;
    return this.asInput(() => this.requireOwner().freeConcurrencySlots(id));
  }

  /** The resolved instance config with where each value came from, the owner, and queue/pool state. */
  async info(): Promise<InstanceInfo> {
    const report = this.owner ? this.owner.configReport() : this.readOnlyConfig!.report();
    const owner = this.ownership?.info ?? readOwner(this.home);
    const live = owner && (owner.pid === process.pid || ownerAlive(owner)) ? owner : undefined;
    return {
      workspace: this.workspace,
      home: this.home,
      owner: live ? { pid: live.pid, role: live.role, startedAt: live.startedAt, socket: live.socket ?? null, daemons: live.pid === process.pid ? this.owner?.daemonsRunning ?? false : null } : null,
      config: {
        file: report.file,
        exists: report.exists,
        valid: report.issues.length === 0,
        usingLastValid: report.usingLastValid,
        issues: report.issues.map((i) => ({ file: i.file, line: i.line, column: i.column, keyPath: i.keyPath, message: i.message })),
        errorText: report.issues.length > 0 ? describeConfigIssues(report) : null,
        values: report.config,
        sources: report.sources,
      },
      runs: {
        queued: this.store.countRuns({ statuses: ["QUEUED"] }),
        inProgress: this.store.countRuns({ statuses: [...IN_PROGRESS_STATUSES] }),
      },
      pools: (await this.concurrencyInfo()).map((p) => ({ pool: p.pool, limit: p.limit, claimed: p.claimed.length, pending: p.pending.filter((x) => !x.assigned).length })),
    };
  }

  // -------------------------------------------------------------------------------------------
  // daemons and the event hub (owner only)

  /** Runs the queue daemon (and later the other daemons) in this process. */
  startDaemons(): void {
    this.requireOwner().startDaemons();
  }

  stopDaemons(): void {
    this.owner?.stopDaemons();
  }

  get daemonsRunning(): boolean {
    return this.owner?.daemonsRunning ?? false;
  }

  /** Stores events through the owner's hub (status, slot release on run end, queue wakeups, listeners). */
  recordEvents(events: SluiceEvent[]): StoredEvent[] {
    return this.requireOwner().record(events);
  }

  /** Every batch of stored events, as it is stored (owner only). Returns the unsubscribe function. */
  onEvents(listener: (events: StoredEvent[]) => void): () => void {
    return this.requireOwner().onEvents(listener);
  }

  /** Stops launching and waits until every run worker of this owner has exited. */
  async drain(): Promise<void> {
    await this.owner?.drain();
  }

  /** Run ids whose workers this owner runs. */
  get activeRuns(): string[] {
    return this.owner?.launcher.active ?? [];
  }

  private async asInput<T>(body: () => T | Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (e) {
      if (e instanceof OwnerInputError) throw new InputError(e.message);
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------
  // reading

  runs(filter?: RunsFilter, options?: RunRecordsOptions): RunRecord[] {
    return this.store.getRunRecords(filter, options);
  }

  run(runId: string): RunRecord {
    return findRun(this.store, runId);
  }

  events(runId: string, query?: EventsQuery): StoredEvent[] {
    return this.store.getEvents(this.run(runId).runId, query);
  }
}

/** The run with that id, or with that id prefix (4 characters or more); an InputError otherwise. */
export function findRun(store: Store, idOrPrefix: string): RunRecord {
  const run = store.getRun(idOrPrefix) ?? findRunByPrefix(store, idOrPrefix);
  if (!run) throw new InputError(`No run with id "${idOrPrefix}".`);
  return run;
}

function findRunByPrefix(store: Store, prefix: string): RunRecord | undefined {
  if (prefix.length < 4) return undefined;
  // Asks SQLite for the few ids that match instead of reading every run record.
  const matches = store
    .all<{ run_id: string }>("SELECT run_id FROM runs WHERE substr(run_id, 1, ?) = ? ORDER BY storage_id DESC LIMIT 6", [prefix.length, prefix])
    .map((r) => r.run_id);
  if (matches.length > 1) throw new InputError(`Run id prefix "${prefix}" is ambiguous: ${matches.slice(0, 5).join(", ")}...`);
  return matches.length === 1 ? store.getRun(matches[0]) : undefined;
}
