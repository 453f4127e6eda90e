import type { RunStatus } from "../../src/engine/events";
import type { StepState } from "../../src/protocol/webview";

export function shortId(runId: string): string {
  return runId.slice(0, 8);
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s - m * 60)}s`;
  const hh = Math.floor(m / 60);
  return `${hh}h ${m - hh * 60}m`;
}

export function time(ms: number | null | undefined): string {
  if (!ms) return "–";
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function timeMs(ms: number): string {
  const d = new Date(ms);
  return `${time(ms)}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

export function dateTime(ms: number | null | undefined): string {
  if (!ms) return "–";
  const d = new Date(ms);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay ? time(ms) : `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")} ${time(ms)}`;
}

export function ago(ms: number, now = Date.now()): string {
  const d = now - ms;
  if (d < 45_000) return "just now";
  if (d < 3_600_000) return `${Math.round(d / 60_000)} min ago`;
  if (d < 86_400_000) return `${Math.round(d / 3_600_000)} h ago`;
  return `${Math.round(d / 86_400_000)} d ago`;
}

export const STATUS_ICON: Record<RunStatus, string> = {
  QUEUED: "clock",
  NOT_STARTED: "circle-outline",
  MANAGED: "circle-outline",
  STARTING: "loading",
  STARTED: "sync",
  SUCCESS: "pass",
  FAILURE: "error",
  CANCELING: "loading",
  CANCELED: "circle-slash",
};

export const STATUS_LABEL: Record<RunStatus, string> = {
  QUEUED: "Queued",
  NOT_STARTED: "Not started",
  MANAGED: "Managed",
  STARTING: "Starting",
  STARTED: "Running",
  SUCCESS: "Success",
  FAILURE: "Failure",
  CANCELING: "Canceling",
  CANCELED: "Canceled",
};

export function statusClass(s: RunStatus): string {
  return `st-${s.toLowerCase()}`;
}

export const STEP_LABEL: Record<StepState, string> = {
  waiting: "waiting",
  running: "running",
  retrying: "retrying",
  succeeded: "succeeded",
  failed: "failed",
  skipped: "skipped",
  canceled: "canceled",
};
