// Step timeline from a run's events: per step, the time it waited for a pool slot or a tag limit
// (ENGINE_EVENT "Step blocked by concurrency limit …" until it starts), each attempt's running
// time, the pause before a retry (STEP_UP_FOR_RETRY → STEP_RESTARTED), and the outcome.
import type { EventView } from "../../src/protocol/webview";

export type SegmentKind = "waiting" | "running" | "retry-wait";
export type Outcome = "success" | "failure" | "retry" | "skipped" | "running" | "canceled";

export interface Segment {
  kind: SegmentKind;
  start: number;
  /** null while it lasts (drawn up to "now"). */
  end: number | null;
  attempt: number;
  outcome?: Outcome;
  /** What was waited for (pool name or the limit's description). */
  reason?: string;
}

export interface TimelineRow {
  step: string;
  segments: Segment[];
  attempts: number;
  state: Outcome | "waiting" | "pending";
  waitedMs: number;
  ranMs: number;
}

export interface Timeline {
  rows: TimelineRow[];
  start: number;
  end: number;
  runStart: number | null;
  runEnd: number | null;
}

export function isBlocked(e: EventView): boolean {
  return e.type === "ENGINE_EVENT" && !!e.stepKey && (e.data?.blocked === true || /\bblocked by\b.*\blimit\b/i.test(e.message));
}

const RUN_END = new Set(["RUN_SUCCESS", "RUN_FAILURE", "RUN_CANCELED"]);

export function computeTimeline(events: readonly EventView[], stepOrder: readonly string[], now: number): Timeline {
  const rows = new Map<string, TimelineRow>();
  const row = (step: string): TimelineRow => {
    let r = rows.get(step);
    if (!r) rows.set(step, (r = { step, segments: [], attempts: 0, state: "pending", waitedMs: 0, ranMs: 0 }));
    return r;
  };
  for (const s of stepOrder) row(s);
  let runStart: number | null = null;
  let runEnd: number | null = null;
  let first = Infinity;
  const open = (r: TimelineRow) => r.segments.find((s) => s.end === null);
  const close = (r: TimelineRow, t: number, outcome?: Outcome) => {
    const s = open(r);
    if (s) {
      s.end = Math.max(s.start, t);
      if (outcome) s.outcome = outcome;
    }
  };
  for (const e of events) {
    first = Math.min(first, e.timestamp);
    if (e.type === "RUN_START" || e.type === "RUN_STARTING") runStart ??= e.timestamp;
    if (RUN_END.has(e.type)) runEnd = e.timestamp;
    const k = e.stepKey;
    if (!k) continue;
    const r = row(k);
    if (isBlocked(e)) {
      const cur = open(r);
      if (cur?.kind === "waiting") continue; // "still blocked": same wait
      if (cur) close(r, e.timestamp);
      const reason = typeof e.data?.pool === "string" ? `pool ${e.data.pool}` : typeof e.data?.concurrency_key === "string" ? `pool ${e.data.concurrency_key}` : e.message;
      r.segments.push({ kind: "waiting", start: e.timestamp, end: null, attempt: r.attempts + 1, reason });
      r.state = "waiting";
      continue;
    }
    switch (e.type) {
      case "STEP_START":
      case "STEP_RESTARTED":
        close(r, e.timestamp);
        r.attempts++;
        r.segments.push({ kind: "running", start: e.timestamp, end: null, attempt: r.attempts, outcome: "running" });
        r.state = "running";
        break;
      case "STEP_UP_FOR_RETRY":
        close(r, e.timestamp, "retry");
        r.segments.push({ kind: "retry-wait", start: e.timestamp, end: null, attempt: r.attempts + 1 });
        r.state = "retry";
        break;
      case "STEP_SUCCESS":
        close(r, e.timestamp, "success");
        r.state = "success";
        break;
      case "STEP_FAILURE":
        close(r, e.timestamp, "failure");
        r.state = "failure";
        break;
      case "STEP_SKIPPED":
        close(r, e.timestamp, "skipped");
        r.state = "skipped";
        break;
      default:
        break;
    }
  }
  // A finished run leaves nothing open: what was still waiting or running ended with it.
  for (const r of rows.values()) {
    const s = open(r);
    if (s && runEnd !== null) {
      s.end = Math.max(s.start, runEnd);
      if (s.kind === "running") s.outcome = "canceled";
      if (r.state === "running" || r.state === "waiting" || r.state === "retry") r.state = "canceled";
    }
    for (const seg of r.segments) {
      const d = (seg.end ?? now) - seg.start;
      if (seg.kind === "waiting") r.waitedMs += d;
      else if (seg.kind === "running") r.ranMs += d;
    }
  }
  const all = [...rows.values()];
  const starts = all.flatMap((r) => r.segments.map((s) => s.start));
  const start = Math.min(runStart ?? Infinity, first, ...starts);
  const end = runEnd ?? Math.max(now, ...all.flatMap((r) => r.segments.map((s) => s.end ?? now)));
  // Steps with activity first in the order they began; then the rest in plan order.
  const firstStart = (r: TimelineRow) => (r.segments.length ? r.segments[0].start : Infinity);
  const order = new Map(stepOrder.map((s, i) => [s, i]));
  all.sort((a, b) => firstStart(a) - firstStart(b) || (order.get(a.step) ?? 1e9) - (order.get(b.step) ?? 1e9));
  return { rows: all, start: Number.isFinite(start) ? start : now, end: Math.max(end, Number.isFinite(start) ? start + 1 : now + 1), runStart, runEnd };
}
