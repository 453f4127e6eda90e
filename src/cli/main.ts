// The `sluice` command: a thin adapter over the Instance. Exit codes: 0 success, 1 the run failed,
// 2 bad input (with a message naming file, line and key).
import { resolve as resolvePath } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError, formatIssue } from "../engine/config";
import { InputError, Instance, type LaunchRequest } from "../engine/instance";
import { currentOwner, InstanceOwnedError } from "../engine/ownership";
import { splitCliSelection } from "../engine/selection";
import { RUN_STATUSES, type RunRecord, type RunStatus, type StoredEvent } from "../engine/events";
import { instanceHome } from "../engine/paths";
import { OwnerGoneError } from "../engine/rpc/client";
import { connectToOwner, openOwnerSession, type OwnerSession } from "../engine/rpc/connect";
import type { LaunchResult, OwnerApi } from "../engine/rpc/api";
import type { ReexecuteRequest } from "../engine/execution/reexecution";
import * as out from "./output";
import { runLogs } from "./runLogs";

const USAGE = `Usage: sluice [--workspace DIR] [--json] <command>

Commands:
  job list                                   jobs, assets and asset jobs with their ops, pools and tags
  job plan -j JOB [-s SEL] [-c FILE]         the execution plan (steps in order, where inputs come from)
  job execute -j JOB [-s SEL] [-c FILE] [--tag k=v]...
                                             run now in the foreground; exit 0 on success, 1 on failure
  job launch -j JOB [-s SEL] [-c FILE] [--tag k=v]... [--wait]
                                             submit to the run queue (QUEUED); --wait blocks until the
                                             run is finished and exits like execute
  run list [--status S]... [--job J] [--tag k=v]... [--limit N]
  run show ID | run events ID
  run logs ID [--step K] [--follow]          log messages and the captured stdout/stderr of each step;
                                             --follow tails them while the run is in progress
  run cancel ID                              cancel a queued or running run
  run reexecute ID [--from-failure | --all-steps | -s SEL] [--wait]
                                             a new run of a finished run's job with its run config and
                                             tags: all of its steps (default), only the steps that did not
                                             succeed and their downstream (--from-failure), or a new op
                                             selection; queued like launch (--wait as for launch)
  instance info                              the resolved sluice.yaml (defaults filled, where each value came from)
  instance concurrency set POOL N            set a pool's limit (0-1000)
  instance concurrency get [POOL | --all]    slots, which run/step holds them, steps waiting in order
  instance concurrency free RUN_ID           free every slot and pending claim of a run
  dev                                        own the instance and run the daemons (run queue) until Ctrl-C

While another process owns the instance (\`sluice dev\`, VS Code, a running command), commands that
change it are sent to that owner over its socket in .sluice/.

Selections use Dagster's syntax: "*add_two", "orders+", "a, b++" (comma-separated clauses).
Global options: --workspace DIR (default: current directory), --json (machine-readable output).`;

type Options = NonNullable<ParseArgsConfig["options"]>;

const GLOBAL: Options = {
  workspace: { type: "string", short: "w" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

const JOB_RUN: Options = {
  ...GLOBAL,
  job: { type: "string", short: "j" },
  select: { type: "string", short: "s" },
  "op-selection": { type: "string" },
  config: { type: "string", short: "c" },
  tag: { type: "string", multiple: true },
  wait: { type: "boolean" },
};

function parse(args: string[], options: Options) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new InputError(`${(e as Error).message}\n\n${USAGE}`);
  }
}

function parseTags(values: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const raw of (values as string[] | undefined) ?? []) {
    const eq = raw.indexOf("=");
    if (eq <= 0) throw new InputError(`--tag must be key=value, got "${raw}"`);
    tags[raw.slice(0, eq)] = raw.slice(eq + 1);
  }
  return tags;
}

function requireJob(values: Record<string, unknown>): string {
  const job = values.job as string | undefined;
  if (!job) throw new InputError("Missing -j/--job JOB.");
  return job;
}

function selectionOf(values: Record<string, unknown>): string[] | undefined {
  const text = (values.select ?? values["op-selection"]) as string | undefined;
  return text === undefined ? undefined : splitCliSelection(text);
}

async function withInstance<T>(values: Record<string, unknown>, readOnly: boolean, body: (instance: Instance) => Promise<T>): Promise<T> {
  const instance = await Instance.open((values.workspace as string | undefined) ?? process.cwd(), { readOnly });
  try {
    return await body(instance);
  } finally {
    await instance.close();
  }
}

function launchRequestOf(values: Record<string, unknown>): LaunchRequest {
  return {
    jobName: requireJob(values),
    selection: selectionOf(values),
    runConfigFile: values.config as string | undefined,
    tags: parseTags(values.tag),
  };
}

function workspaceOf(values: Record<string, unknown>): string {
  return (values.workspace as string | undefined) ?? process.cwd();
}

/** Runs `body` against the home's owner: the live one over its socket, or this process as the new owner. */
async function withOwner<T>(values: Record<string, unknown>, body: (api: OwnerApi, session: OwnerSession) => Promise<T>): Promise<T> {
  const session = await openOwnerSession(workspaceOf(values));
  try {
    return await body(session.api, session);
  } finally {
    await session.close();
  }
}

/** Reads from the owner when one is alive (fresh state), else from the files, read-only, without becoming the owner. */
async function withReader<T>(values: Record<string, unknown>, body: (api: OwnerApi) => Promise<T>): Promise<T> {
  const home = instanceHome(resolvePath(workspaceOf(values)));
  const remote = currentOwner(home) ? await connectToOwner(home).catch(() => undefined) : undefined;
  if (remote) {
    try {
      return await body(remote.api);
    } finally {
      remote.api.close();
    }
  }
  return withInstance(values, true, body);
}

function printEvents(values: Record<string, unknown>, events: StoredEvent[]): void {
  for (const e of events) out.print(values.json ? JSON.stringify(out.eventJson(e)) : out.eventLine(e));
}

/** First Ctrl-C aborts the signal, the second exits. */
function interruptOnSigint(message: string): { signal: AbortSignal; dispose(): void } {
  const abort = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(`\n${message}\n`);
      abort.abort();
    } else process.exit(130);
  };
  process.on("SIGINT", onSigint);
  return { signal: abort.signal, dispose: () => process.off("SIGINT", onSigint) };
}

/**
 * `sluice job launch`: submit to the queue. With --wait, follow the run to its end; without an
 * owner running the daemons, this process becomes the owner and runs them itself until its run is
 * finished (and the runs it launched meanwhile have ended). If the owner goes away while we wait,
 * we take over.
 */
async function launchCommand(values: Record<string, unknown>, submit: (api: OwnerApi) => Promise<LaunchResult>): Promise<number> {
  const wait = values.wait === true;
  let session = await openOwnerSession(workspaceOf(values));
  let run: RunRecord;
  let lastEventId = 0;
  const onEvents = (events: StoredEvent[]) => {
    const fresh = events.filter((e) => e.id > lastEventId);
    if (fresh.length === 0) return;
    lastEventId = fresh[fresh.length - 1].id;
    if (wait) printEvents(values, fresh);
  };
  try {
    if (session.kind === "local" && wait) session.instance.startDaemons();
    const launched = await submit(session.api);
    run = launched.run;
    if (!wait) {
      if (values.json) out.print(JSON.stringify({ ...out.runJson(run), daemonRunning: launched.daemonRunning }));
      else {
        out.print(`Run ${run.runId} of "${run.jobName}": ${run.status}.`);
        if (!launched.daemonRunning) {
          out.print(`No daemon is running for this instance, so the run stays queued until one starts: \`sluice dev\` (or \`sluice job launch --wait\`, or VS Code).`);
        }
      }
      return 0;
    }
    if (!values.json) process.stderr.write(`Run ${run.runId} of "${run.jobName}" queued${session.kind === "remote" ? ` (owner pid ${session.owner.pid})` : ""}.\n`);
  } catch (e) {
    await session.close();
    throw e;
  }
  const interrupts = interruptOnSigint(
    session.kind === "remote"
      ? "Stopped waiting; the run goes on in its owner (cancel it with `sluice run cancel`)."
      : "Stopping: this process owns the instance, so the runs it launched are interrupted.",
  );
  try {
    for (;;) {
      if (interrupts.signal.aborted) return 130;
      try {
        if (session.kind === "local") {
          const instance = session.instance;
          instance.startDaemons();
          const finished = await Promise.race([
            instance.watchRun(run.runId, { onEvents, afterId: lastEventId }),
            new Promise<undefined>((r) => interrupts.signal.addEventListener("abort", () => r(undefined))),
          ]);
          if (!finished) return 130;
          run = finished;
          // Launch nothing more; let the runs this process started finish (they end with it).
          const others = instance.activeRuns.filter((id) => id !== run.runId).length;
          if (others > 0 && !values.json) process.stderr.write(`Waiting for ${others} other run(s) this process launched (they end with it)...\n`);
          await instance.drain();
        } else {
          const finished = await Promise.race([
            session.api.watchRun(run.runId, { onEvents, afterId: lastEventId }),
            new Promise<undefined>((r) => interrupts.signal.addEventListener("abort", () => r(undefined))),
          ]);
          if (!finished) return 130;
          run = finished;
        }
        break;
      } catch (e) {
        if (!(e instanceof OwnerGoneError)) throw e;
        // The owner went away while we waited: become the owner (or reach the new one) and go on.
        await session.close();
        session = await openOwnerSession(workspaceOf(values));
      }
    }
  } finally {
    interrupts.dispose();
    await session.close();
  }
  out.print(values.json ? JSON.stringify({ runId: run.runId, status: run.status }) : out.runSummaryLine(run));
  return run.status === "SUCCESS" ? 0 : 1;
}

async function instanceCommand(sub: string | undefined, rest: string[]): Promise<number> {
  switch (sub) {
    case "info": {
      const { values } = parse(rest, GLOBAL);
      return withReader(values, async (api) => {
        const info = await api.info();
        out.print(values.json ? JSON.stringify(info, null, 2) : out.instanceInfoText(info));
        return 0;
      });
    }
    case "concurrency": {
      // A negative limit ("set db -1") is a value, not an option: pass it after "--" so that it
      // reaches the limit check (which explains what is allowed).
      const negative = rest.filter((a) => /^-\d+$/.test(a));
      const args0 = negative.length ? [...rest.filter((a) => !/^-\d+$/.test(a)), "--", ...negative] : rest;
      const { values, positionals } = parse(args0, { ...GLOBAL, all: { type: "boolean" } });
      const [action, ...args] = positionals;
      switch (action) {
        case "set": {
          const [pool, raw] = args;
          if (!pool || raw === undefined) throw new InputError("Usage: sluice instance concurrency set POOL N");
          const limit = Number(raw);
          if (!/^[+-]?\d+$/.test(raw.trim()) || !Number.isSafeInteger(limit)) throw new InputError(`The limit must be a whole number, got "${raw}".`);
          return withOwner(values, async (api) => {
            const message = await api.setConcurrencyLimit(pool, limit);
            out.print(values.json ? JSON.stringify({ pool, limit, message }) : message);
            return 0;
          });
        }
        case "get": {
          const pool = values.all ? undefined : args[0];
          return withReader(values, async (api) => {
            const infos = await api.concurrencyInfo(pool);
            out.print(values.json ? JSON.stringify(pool ? infos[0] : infos, null, 2) : out.concurrencyText(infos, !pool));
            return 0;
          });
        }
        case "free": {
          const [runId] = args;
          if (!runId) throw new InputError("Usage: sluice instance concurrency free RUN_ID");
          return withOwner(values, async (api) => {
            const result = await api.freeConcurrencySlots(runId);
            out.print(values.json ? JSON.stringify(result) : result.message);
            return 0;
          });
        }
        default:
          throw new InputError(`Unknown command "instance concurrency ${action ?? ""}".\n\n${USAGE}`);
      }
    }
    default:
      throw new InputError(`Unknown command "instance ${sub ?? ""}".\n\n${USAGE}`);
  }
}

/** `sluice dev`: own the instance and run the daemons in the foreground until SIGINT/SIGTERM. */
async function devCommand(rest: string[]): Promise<number> {
  const { values } = parse(rest, GLOBAL);
  const workspace = workspaceOf(values);
  let instance: Instance | undefined;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      instance = await Instance.open(workspace, { role: "dev" });
      break;
    } catch (e) {
      if (!(e instanceof InstanceOwnedError)) throw e;
      // A long-lived owner is already running the daemons; a short-lived command will be done soon.
      if (e.owner.role !== "cli" || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const log = (line: string) => process.stderr.write(line.endsWith("\n") ? line : `${line}\n`);
  const unsubscribe = instance.onEvents((events) => {
    for (const e of events) {
      const interesting = e.type.startsWith("RUN_") || (e.type === "ENGINE_EVENT" && (e.level !== "INFO" || e.data?.blocked === true));
      if (!interesting) continue;
      out.print(values.json ? JSON.stringify({ runId: e.runId, ...out.eventJson(e) }) : `${e.runId.slice(0, 8)}  ${out.eventLine(e)}`);
    }
  });
  const info = await instance.info();
  if (info.config.errorText) log(info.config.errorText);
  log(`sluice dev: owning ${instance.home} (pid ${process.pid}); run queue running (max_concurrent_runs ${info.config.values.concurrency.runs.max_concurrent_runs}, ${info.runs.queued} queued). Ctrl-C to stop.`);
  // Load definitions now so that the first launch is quick (and report broken job files early).
  void instance.definitions().then(
    (defs) => {
      for (const e of defs.errors) log(`sluice dev: ${e.file}:${e.line}:${e.column}: ${e.message}`);
    },
    () => undefined,
  );
  instance.startDaemons();
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  const active = instance.activeRuns.length;
  log(`sluice dev: stopping${active ? `; interrupting ${active} run${active === 1 ? "" : "s"} in progress` : ""}...`);
  unsubscribe();
  await instance.close();
  return 0;
}

async function jobCommand(sub: string | undefined, rest: string[]): Promise<number> {
  switch (sub) {
    case "list": {
      const { values } = parse(rest, GLOBAL);
      return withInstance(values, true, async (instance) => {
        const defs = await instance.definitions();
        out.print(values.json ? out.jobListJson(defs) : out.jobListText(defs, instance.workspace));
        return 0;
      });
    }
    case "plan": {
      const { values } = parse(rest, JOB_RUN);
      return withInstance(values, true, async (instance) => {
        const prepared = await instance.prepare({ jobName: requireJob(values), selection: selectionOf(values), runConfigFile: values.config as string | undefined });
        out.print(values.json ? out.planJson(prepared) : out.planText(prepared));
        return 0;
      });
    }
    case "execute": {
      const { values } = parse(rest, JOB_RUN);
      const request = launchRequestOf(values);
      return withOwner(values, async (api) => {
        const interrupts = interruptOnSigint("Interrupting the run (press Ctrl-C again to stop waiting)...");
        try {
          const run = await api.execute(request, { signal: interrupts.signal, onEvents: (events) => printEvents(values, events) });
          out.print(values.json ? JSON.stringify({ runId: run.runId, status: run.status }) : out.runSummaryLine(run));
          return run.status === "SUCCESS" ? 0 : 1;
        } finally {
          interrupts.dispose();
        }
      });
    }
    case "launch": {
      const { values } = parse(rest, JOB_RUN);
      const request = launchRequestOf(values);
      return launchCommand(values, (api) => api.launch(request));
    }
    default:
      throw new InputError(`Unknown command "job ${sub ?? ""}".\n\n${USAGE}`);
  }
}

async function runCommand(sub: string | undefined, rest: string[]): Promise<number> {
  const options: Options = {
    ...GLOBAL,
    status: { type: "string", multiple: true },
    job: { type: "string", short: "j" },
    tag: { type: "string", multiple: true },
    limit: { type: "string" },
    step: { type: "string" },
    follow: { type: "boolean", short: "f" },
    ...(sub === "reexecute"
      ? { "from-failure": { type: "boolean" }, "all-steps": { type: "boolean" }, select: { type: "string", short: "s" }, wait: { type: "boolean" } }
      : {}),
  } as Options;
  const { values, positionals } = parse(rest, options);
  const needId = () => {
    if (!positionals[0]) throw new InputError(`Missing run id: sluice run ${sub} ID`);
    return positionals[0];
  };
  if (sub === "reexecute") {
    const id = needId();
    const modes = [values["from-failure"] === true, values["all-steps"] === true, values.select !== undefined].filter(Boolean).length;
    if (modes > 1) throw new InputError("Use only one of --from-failure, --all-steps and -s/--select.");
    const request: ReexecuteRequest = values["from-failure"] ? "fromFailure" : values.select !== undefined ? { selection: splitCliSelection(values.select as string) } : "all";
    return launchCommand(values, (api) => api.reexecute(id, request));
  }
  if (sub === "cancel") {
    const id = needId();
    return withOwner(values, async (api) => {
      const result = await api.cancel(id);
      out.print(values.json ? JSON.stringify(result, null, 2) : result.message);
      return 0;
    });
  }
  return withInstance(values, true, async (instance) => {
    switch (sub) {
      case "list": {
        const statuses = ((values.status as string[] | undefined) ?? []).flatMap((s) => s.split(",")).map((s) => s.trim().toUpperCase());
        const bad = statuses.filter((s) => !(RUN_STATUSES as readonly string[]).includes(s));
        if (bad.length > 0) throw new InputError(`Unknown run status ${bad.join(", ")}; use one of ${RUN_STATUSES.join(", ")}.`);
        const limit = values.limit === undefined ? undefined : Number(values.limit);
        if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new InputError(`--limit must be a positive whole number, got "${String(values.limit)}".`);
        const runs = instance.runs(
          {
            statuses: statuses.length ? (statuses as RunStatus[]) : undefined,
            jobName: values.job as string | undefined,
            tags: Object.keys(parseTags(values.tag)).length ? parseTags(values.tag) : undefined,
          },
          { limit },
        );
        out.print(values.json ? JSON.stringify(runs.map(out.runJson), null, 2) : out.runListText(runs));
        return 0;
      }
      case "show": {
        const run = instance.run(needId());
        const events = instance.events(run.runId);
        out.print(values.json ? JSON.stringify({ ...out.runJson(run), runConfig: run.runConfig, opSelection: run.opSelection, meta: run.meta }, null, 2) : out.runShowText(run, events));
        return 0;
      }
      case "events": {
        const run = instance.run(needId());
        const events = instance.events(run.runId, { stepKey: values.step as string | undefined });
        out.print(values.json ? JSON.stringify(events.map(out.eventJson), null, 2) : events.map(out.eventLine).join("\n"));
        return 0;
      }
      case "logs": {
        const run = instance.run(needId());
        const events = instance.events(run.runId);
        const stepKey = values.step as string | undefined;
        return runLogs({ home: instance.home, run, events, stepKey, json: values.json === true, follow: values.follow === true });
      }
      default:
        throw new InputError(`Unknown command "run ${sub ?? ""}".\n\n${USAGE}`);
    }
  });
}

export async function main(argv: string[]): Promise<number> {
  // Global options may come before the command: `sluice --workspace DIR job list`.
  const globals: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i].startsWith("-")) {
    globals.push(argv[i]);
    if ((argv[i] === "--workspace" || argv[i] === "-w") && i + 1 < argv.length) globals.push(argv[++i]);
    i++;
  }
  const [group, sub, ...rest] = argv.slice(i);
  if (!group || globals.includes("--help") || globals.includes("-h") || group === "help") {
    out.print(USAGE);
    return group || globals.length ? 0 : 2;
  }
  const args = [...globals, ...rest];
  if (group === "job") return jobCommand(sub, args);
  if (group === "run") return runCommand(sub, args);
  if (group === "instance") return instanceCommand(sub, args);
  if (group === "dev") return devCommand(sub === undefined ? args : [sub, ...args]);
  throw new InputError(`Unknown command "${group}".\n\n${USAGE}`);
}

function report(e: unknown): number {
  if (e instanceof InputError) {
    process.stderr.write(`sluice: ${e.message}\n`);
    return 2;
  }
  if (e instanceof ConfigError) {
    process.stderr.write(`sluice: ${e.issues.map(formatIssue).join("\n")}\n`);
    return 2;
  }
  if (e instanceof InstanceOwnedError) {
    process.stderr.write(`sluice: ${e.message}\n`);
    return 2;
  }
  process.stderr.write(`sluice: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  return 1;
}

if (require.main === module) {
  // Exit only once stdout has drained: a pipe reader must get all of a long --json output.
  const exit = (code: number) => process.stdout.write("", () => process.exit(code));
  main(process.argv.slice(2)).then(exit, (e) => exit(report(e)));
}
