// The text of a run's log document (`sluice-run:` scheme): a header, the event log with
// timestamps and levels, the failing steps' errors with their stacks mapped to the user's source
// (engine frames folded), and each step's captured stdout/stderr. Built incrementally from the
// engine's RunLogChunks; pure (no `vscode`), so the rendering is unit-tested as text.
import { isAbsolute, relative, resolve, sep } from "node:path";
import { FINISHED_STATUSES, type RunRecord, type StoredEvent } from "../../engine/events";
import type { RunLogChunk } from "../engine/port";
import { formatDuration, formatTimestamp } from "../views/format";

/** Per stream, at most this much captured output is kept (the tail). */
export const MAX_STREAM_CHARS = 512 * 1024;
/** At most this many events are kept (the newest). */
export const MAX_EVENTS = 20_000;

export interface StepOutput {
  stepKey: string;
  stdout: string;
  stderr: string;
  /** Bytes left out at the start (tail only). */
  skipped: number;
}

export interface RunLogState {
  runId: string;
  run: RunRecord | null;
  events: StoredEvent[];
  lastEventId: number;
  /** Next read offset per compute log file. */
  offsets: Record<string, number>;
  steps: Map<string, StepOutput>;
  /** True once a chunk has arrived. */
  loaded: boolean;
}

export function newRunLogState(runId: string): RunLogState {
  return { runId, run: null, events: [], lastEventId: 0, offsets: {}, steps: new Map(), loaded: false };
}

function keepTail(text: string, max: number): { text: string; dropped: number } {
  return text.length <= max ? { text, dropped: 0 } : { text: text.slice(text.length - max), dropped: text.length - max };
}

/** Folds a chunk into the state; true when something visible changed. */
export function applyChunk(state: RunLogState, chunk: RunLogChunk): boolean {
  let changed = !state.loaded;
  state.loaded = true;
  if (chunk.run && (state.run?.status !== chunk.run.status || state.run?.endTime !== chunk.run.endTime || !state.run)) changed = true;
  if (chunk.run) state.run = chunk.run;
  const fresh = chunk.events.filter((e) => e.id > state.lastEventId);
  if (fresh.length > 0) {
    state.events.push(...fresh);
    if (state.events.length > MAX_EVENTS) state.events.splice(0, state.events.length - MAX_EVENTS);
    state.lastEventId = fresh[fresh.length - 1].id;
    changed = true;
  }
  for (const s of chunk.steps) {
    const out = state.steps.get(s.stepKey) ?? { stepKey: s.stepKey, stdout: "", stderr: "", skipped: 0 };
    for (const stream of ["stdout", "stderr"] as const) {
      const part = s[stream];
      if (!part.path) continue;
      state.offsets[part.path] = part.next;
      if (part.skipped > 0) out.skipped += part.skipped;
      if (part.text.length > 0) {
        const kept = keepTail(out[stream] + part.text, MAX_STREAM_CHARS);
        out[stream] = kept.text;
        out.skipped += kept.dropped;
        changed = true;
      }
    }
    if (!state.steps.has(s.stepKey)) changed = true;
    state.steps.set(s.stepKey, out);
  }
  return changed;
}

export function isLive(state: RunLogState): boolean {
  return !state.run || !FINISHED_STATUSES.includes(state.run.status);
}

function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

const FRAME_RE = /^(\s*)at (?:(.*?) \()?((?:node:|file:\/\/|[A-Za-z]:)?[^():]+):(\d+):(\d+)\)?\s*$/;

/** True for a stack frame in the user's workspace (not the engine, Node or node_modules). */
function isUserFrame(file: string, workspace: string | undefined): boolean {
  if (!workspace || !isAbsolute(file)) return false;
  const rel = relative(workspace, file);
  return !rel.startsWith("..") && !isAbsolute(rel) && !rel.split(sep).includes("node_modules") && !rel.split(sep).includes(".sluice");
}

/**
 * A stack as the user reads it: the message, then frames; frames in the workspace are kept (paths
 * relative to it, so that the document links point at the job file), engine and Node frames are
 * folded into one line.
 */
export function mapStack(stack: string, workspace: string | undefined): string[] {
  const lines: string[] = [];
  let folded = 0;
  const flush = () => {
    if (folded > 0) lines.push(`    … ${folded} engine frame${folded === 1 ? "" : "s"}`);
    folded = 0;
  };
  for (const line of stack.split("\n")) {
    if (!/^\s*at /.test(line)) {
      flush();
      lines.push(line);
      continue;
    }
    const m = FRAME_RE.exec(line);
    if (!m) {
      folded++;
      continue;
    }
    const [, , fn, file, l, c] = m;
    if (isUserFrame(file, workspace)) {
      flush();
      const shown = relative(workspace!, file).split(sep).join("/");
      lines.push(`    at ${fn ? `${fn} (${shown}:${l}:${c})` : `${shown}:${l}:${c}`}`);
    } else folded++;
  }
  flush();
  return lines;
}

function eventLine(e: StoredEvent): string {
  return `${clock(e.timestamp)}  ${e.level.padEnd(7)} ${e.type.padEnd(20)} ${(e.stepKey ?? "").padEnd(16)} ${e.message}`;
}

function errorOf(e: StoredEvent): { message?: string; stack?: string; cause?: unknown } | undefined {
  const err = e.data?.error;
  return err && typeof err === "object" ? (err as { message?: string; stack?: string }) : undefined;
}

const RULE = "─".repeat(72);
function heading(title: string): string {
  return `── ${title} ${RULE}`.slice(0, 76);
}

/** The whole document. `workspace` maps stack frames to paths relative to it. */
export function renderRunLog(state: RunLogState, workspace: string | undefined, now = Date.now()): string {
  const out: string[] = [];
  const run = state.run;
  if (!state.loaded) return `Loading run ${state.runId}…\n`;
  if (!run) return `No run with id ${state.runId} in this workspace.\n`;
  out.push(`Run ${run.runId} · ${run.jobName} · ${run.status}${isLive(state) ? " (live)" : ""}`);
  const times = [`created ${formatTimestamp(run.createTime)}`];
  if (run.startTime) times.push(`started ${formatTimestamp(run.startTime)}`);
  if (run.startTime) times.push(`${run.endTime ? "took" : "running for"} ${formatDuration((run.endTime ?? now) - run.startTime)}`);
  out.push(times.join(" · "));
  if (run.opSelection) out.push(`Op selection: ${run.opSelection.join(", ")}`);
  if (run.parentRunId) out.push(`Re-execution of ${run.parentRunId}${run.rootRunId && run.rootRunId !== run.parentRunId ? ` (root ${run.rootRunId})` : ""}`);
  const tags = Object.entries(run.tags);
  if (tags.length > 0) out.push(`Tags: ${tags.map(([k, v]) => `${k}=${v}`).join(", ")}`);
  const queueReason = typeof run.meta?.queueReason === "string" ? run.meta.queueReason : undefined;
  if (run.status === "QUEUED" && queueReason) out.push(`Waiting: ${queueReason}`);

  // The failure first: what the user opened the log for.
  const failures = state.events.filter((e) => e.type === "STEP_FAILURE" || (e.type === "RUN_FAILURE" && !state.events.some((x) => x.type === "STEP_FAILURE")));
  if (failures.length > 0) {
    out.push("", heading("Failure"));
    for (const f of failures) {
      out.push(`${f.stepKey ? `Step ${f.stepKey}: ` : ""}${f.message}`);
      const err = errorOf(f);
      if (err?.stack) out.push(...mapStack(err.stack, workspace).map((l) => `  ${l}`));
    }
  }

  out.push("", heading(`Events (${state.events.length})`));
  for (const e of state.events) {
    out.push(eventLine(e));
    const err = errorOf(e);
    if ((e.type === "STEP_FAILURE" || e.type === "STEP_UP_FOR_RETRY") && err?.stack) out.push(...mapStack(err.stack, workspace).map((l) => `${" ".repeat(14)}${l}`));
  }
  if (isLive(state)) out.push(`${" ".repeat(14)}… waiting for more events`);

  for (const s of state.steps.values()) {
    for (const stream of ["stdout", "stderr"] as const) {
      const text = s[stream];
      if (text.length === 0) continue;
      out.push("", heading(`${stream} of step ${s.stepKey}`));
      if (s.skipped > 0) out.push(`[… earlier output left out]`);
      out.push(text.endsWith("\n") ? text.slice(0, -1) : text);
    }
  }
  if (state.steps.size > 0 && [...state.steps.values()].every((s) => !s.stdout && !s.stderr)) out.push("", "(no step printed anything to stdout or stderr)");
  return `${out.join("\n")}\n`;
}

export interface SourceLink {
  /** 0-based offsets in the line. */
  start: number;
  end: number;
  file: string;
  line: number;
  column: number;
}

const LINK_RE = /((?:[A-Za-z]:)?[\w.\-/\\@]+\.(?:ts|tsx|mts|cts|js|jsx|mjs|cjs)):(\d+):(\d+)/g;

/** `file:line:col` references in a line of the log document that name a file of the workspace. */
export function sourceLinks(lineText: string, workspace: string | undefined, exists: (file: string) => boolean): SourceLink[] {
  if (!workspace) return [];
  const links: SourceLink[] = [];
  for (const m of lineText.matchAll(LINK_RE)) {
    const file = isAbsolute(m[1]) ? m[1] : resolve(workspace, m[1]);
    if (!isUserFrame(file, workspace) || !exists(file)) continue;
    links.push({ start: m.index!, end: m.index! + m[0].length, file, line: Number(m[2]), column: Number(m[3]) });
  }
  return links;
}
