// `sluice run logs ID [--step K] [--follow]`: a run's log messages (ctx.log events, failures) and
// the stdout/stderr its steps printed (compute logs, `.sluice/logs/<run>/<step>.out|.err`).
// `--follow` tails the files while the run is in progress, polling them and the run's status
// from a read-only view of the store (it never takes the instance from its owner).
import { join } from "node:path";
import { FINISHED_STATUSES, type RunRecord, type StoredEvent } from "../engine/events";
import { computeLogPaths, readFrom } from "../engine/execution/computeLogs";
import { Store } from "../engine/storage/store";
import { eventJson, eventLine, print } from "./output";

export interface RunLogsOptions {
  home: string;
  run: RunRecord;
  /** Events of the run so far (from the caller's view of the store). */
  events: StoredEvent[];
  stepKey?: string;
  json: boolean;
  follow: boolean;
  /** Poll interval of --follow, ms. */
  pollMs?: number;
}

interface StepLogs {
  stepKey: string;
  stdoutPath: string;
  stderrPath: string;
}

function isLogEvent(e: StoredEvent): boolean {
  return e.type === "LOG_MESSAGE" || e.type === "STEP_FAILURE" || e.level === "ERROR";
}

/** Steps with compute logs, in the order their capture started (or the one asked for). */
function stepsWithLogs(home: string, runId: string, events: StoredEvent[], only?: string): StepLogs[] {
  const steps = new Map<string, StepLogs>();
  for (const e of events) {
    if (e.type !== "LOGS_CAPTURED" || !e.stepKey || steps.has(e.stepKey)) continue;
    if (only !== undefined && e.stepKey !== only) continue;
    const paths = computeLogPaths(join(home, "logs"), runId, e.stepKey);
    steps.set(e.stepKey, {
      stepKey: e.stepKey,
      stdoutPath: (e.data?.stdoutPath as string | undefined) ?? paths.stdout,
      stderrPath: (e.data?.stderrPath as string | undefined) ?? paths.stderr,
    });
  }
  if (only !== undefined && !steps.has(only)) {
    const paths = computeLogPaths(join(home, "logs"), runId, only);
    steps.set(only, { stepKey: only, stdoutPath: paths.stdout, stderrPath: paths.stderr });
  }
  return [...steps.values()];
}

export async function runLogs(options: RunLogsOptions): Promise<number> {
  return options.follow ? follow(options) : once(options);
}

function once({ home, run, events, stepKey, json }: RunLogsOptions): number {
  const logs = events.filter(isLogEvent);
  const steps = stepsWithLogs(home, run.runId, events, stepKey).map((s) => ({
    ...s,
    stdout: readFrom(s.stdoutPath, 0).text,
    stderr: readFrom(s.stderrPath, 0).text,
  }));
  if (json) {
    print(JSON.stringify({ runId: run.runId, status: run.status, events: logs.map(eventJson), steps }, null, 2));
    return 0;
  }
  const parts: string[] = [];
  if (logs.length > 0) parts.push(logs.map(eventLine).join("\n"));
  for (const s of steps) {
    for (const [stream, text, path] of [["stdout", s.stdout, s.stdoutPath], ["stderr", s.stderr, s.stderrPath]] as const) {
      if (text.length === 0) continue;
      parts.push(`--- ${stream} of step ${s.stepKey} (${path}) ---\n${text.endsWith("\n") ? text.slice(0, -1) : text}`);
    }
  }
  print(parts.length > 0 ? parts.join("\n") : "No log messages and no captured output.");
  return 0;
}

async function follow(options: RunLogsOptions): Promise<number> {
  const { home, stepKey, json } = options;
  const runId = options.run.runId;
  const pollMs = options.pollMs ?? 200;
  let run = options.run;
  let events = options.events;
  let lastEventId = events.reduce((m, e) => Math.max(m, e.id), 0);
  const offsets = new Map<string, number>();
  const printed = new Set<number>();
  const multi = stepKey === undefined;
  const partial = new Map<string, string>();

  const emitText = (s: StepLogs, stream: "stdout" | "stderr", text: string) => {
    if (json) {
      process.stdout.write(`${JSON.stringify({ kind: stream, stepKey: s.stepKey, text })}\n`);
      return;
    }
    const target = stream === "stdout" ? process.stdout : process.stderr;
    if (!multi) {
      target.write(text);
      return;
    }
    // Several steps interleave: whole lines, each prefixed with its step.
    const key = `${s.stepKey}\u0000${stream}`;
    const lines = ((partial.get(key) ?? "") + text).split("\n");
    partial.set(key, lines.pop()!);
    for (const line of lines) target.write(`[${s.stepKey}] ${line}\n`);
  };
  const flushPartials = () => {
    if (json || !multi) return;
    for (const [key, rest] of partial) {
      if (rest.length === 0) continue;
      const [step, stream] = key.split("\u0000");
      (stream === "stdout" ? process.stdout : process.stderr).write(`[${step}] ${rest}\n`);
    }
    partial.clear();
  };
  const emitEvents = (list: StoredEvent[]) => {
    for (const e of list) {
      if (printed.has(e.id) || !isLogEvent(e) || (stepKey !== undefined && e.stepKey !== stepKey)) continue;
      printed.add(e.id);
      process.stdout.write(`${json ? JSON.stringify({ kind: "event", ...eventJson(e) }) : eventLine(e)}\n`);
    }
  };

  emitEvents(events);
  for (;;) {
    const finished = FINISHED_STATUSES.includes(run.status);
    let grew = false;
    for (const s of stepsWithLogs(home, runId, events, stepKey)) {
      for (const [stream, path] of [["stdout", s.stdoutPath], ["stderr", s.stderrPath]] as const) {
        const from = offsets.get(path) ?? 0;
        const { text, next } = readFrom(path, from);
        offsets.set(path, next);
        if (text.length > 0) {
          grew = true;
          emitText(s, stream, text);
        }
      }
    }
    // Done once the run has finished and its files have been read to the end after that.
    if (finished && !grew) break;
    await new Promise((r) => setTimeout(r, pollMs));
    const fresh = await readRun(home, runId, lastEventId);
    if (fresh) {
      run = fresh.run;
      if (fresh.events.length > 0) {
        events = [...events, ...fresh.events];
        lastEventId = fresh.events[fresh.events.length - 1].id;
        emitEvents(fresh.events);
      }
    }
  }
  flushPartials();
  if (json) process.stdout.write(`${JSON.stringify({ kind: "end", runId, status: run.status })}\n`);
  return 0;
}

/** The run and its newer events from a fresh read-only view of the store (the owner keeps writing it). */
async function readRun(home: string, runId: string, afterId: number): Promise<{ run: RunRecord; events: StoredEvent[] } | undefined> {
  let store: Store | undefined;
  try {
    store = await Store.open({ home, readOnly: true, log: () => undefined });
    const run = store.getRun(runId);
    if (!run) return undefined;
    return { run, events: store.getEvents(runId, { afterId }) };
  } catch {
    return undefined; // a snapshot being replaced; the next poll reads again
  } finally {
    store?.close();
  }
}
