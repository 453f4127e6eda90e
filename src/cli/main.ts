// The `sluice` command: a thin adapter over the Instance. Exit codes: 0 success, 1 the run failed,
// 2 bad input (with a message naming file, line and key).
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError, formatIssue } from "../engine/config";
import { InputError, Instance } from "../engine/instance";
import { InstanceOwnedError } from "../engine/ownership";
import { splitCliSelection } from "../engine/selection";
import { RUN_STATUSES, type RunStatus } from "../engine/events";
import * as out from "./output";

const USAGE = `Usage: sluice [--workspace DIR] [--json] <command>

Commands:
  job list                                   jobs, assets and asset jobs with their ops, pools and tags
  job plan -j JOB [-s SEL] [-c FILE]         the execution plan (steps in order, where inputs come from)
  job execute -j JOB [-s SEL] [-c FILE] [--tag k=v]...
                                             run now in the foreground; exit 0 on success, 1 on failure
  run list [--status S]... [--job J] [--tag k=v]... [--limit N]
  run show ID | run events ID | run logs ID [--step K]

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
      return withInstance(values, false, async (instance) => {
        const prepared = await instance.prepare({
          jobName: requireJob(values),
          selection: selectionOf(values),
          runConfigFile: values.config as string | undefined,
          tags: parseTags(values.tag),
        });
        const abort = new AbortController();
        let interrupts = 0;
        const onSigint = () => {
          interrupts++;
          if (interrupts === 1) {
            process.stderr.write("\nInterrupting the run (press Ctrl-C again to stop waiting)...\n");
            abort.abort();
          } else process.exit(130);
        };
        process.on("SIGINT", onSigint);
        const run = await instance.executeForeground(prepared, {
          signal: abort.signal,
          onEvents: (events) => {
            for (const e of events) out.print(values.json ? JSON.stringify(out.eventJson(e)) : out.eventLine(e));
          },
        });
        process.off("SIGINT", onSigint);
        out.print(values.json ? JSON.stringify({ runId: run.runId, status: run.status }) : out.runSummaryLine(run));
        return run.status === "SUCCESS" ? 0 : 1;
      });
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
  };
  const { values, positionals } = parse(rest, options);
  const needId = () => {
    if (!positionals[0]) throw new InputError(`Missing run id: sluice run ${sub} ID`);
    return positionals[0];
  };
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
        const events = instance.events(run.runId, { stepKey: values.step as string | undefined });
        const logs = events.filter((e) => e.type === "LOG_MESSAGE" || e.type === "STEP_FAILURE" || e.level === "ERROR");
        out.print(values.json ? JSON.stringify(logs.map(out.eventJson), null, 2) : out.logsText(logs));
        return 0;
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
