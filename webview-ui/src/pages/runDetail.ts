// Run detail: header with actions, a Gantt timeline of steps (pool/tag-limit waits, attempts,
// retries), the event log (filter by step, type, level; search; virtualised) and the selected
// step's captured stdout/stderr, all live while the run goes.
import { NOT_FINISHED_STATUSES } from "../../../src/engine/events";
import type { EventView, PartName, RunDetailView } from "../../../src/protocol/webview";
import type { App, PageView } from "../app";
import { button, clear, debounce, h, icon, replace, select } from "../dom";
import { dateTime, duration, shortId, timeMs } from "../format";
import { computeTimeline, isBlocked, type Segment } from "../timeline";
import { runActions, statusBadge } from "./runs";

const ROW_H = 22;
const LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"];

const TYPE_GROUPS: { value: string; label: string; test: (e: EventView) => boolean }[] = [
  { value: "", label: "All types", test: () => true },
  { value: "step", label: "Step events", test: (e) => e.type.startsWith("STEP_") },
  { value: "run", label: "Run events", test: (e) => e.type.startsWith("RUN_") },
  { value: "log", label: "Log messages", test: (e) => e.type === "LOG_MESSAGE" },
  { value: "asset", label: "Asset events", test: (e) => e.type.startsWith("ASSET_") },
  { value: "engine", label: "Engine events", test: (e) => e.type === "ENGINE_EVENT" },
  { value: "wait", label: "Concurrency waits", test: (e) => isBlocked(e) },
  { value: "errors", label: "Failures and retries", test: (e) => e.type === "STEP_FAILURE" || e.type === "RUN_FAILURE" || e.type === "STEP_UP_FOR_RETRY" || e.level === "ERROR" },
];

export class RunDetailPage implements PageView {
  readonly el = h("section", { class: "run-page" });
  private readonly header = h("div", { class: "run-header" });
  private readonly timelineEl = h("div", { class: "timeline", "data-testid": "timeline" });
  private readonly logFilters = h("div", { class: "toolbar" });
  private readonly searchInput = h("input", { type: "search", placeholder: "Search events", "aria-label": "Search events", "data-testid": "event-search" });
  private readonly list = h("div", { class: "event-list", "data-testid": "event-log", tabindex: 0 });
  private readonly spacer = h("div", { class: "event-spacer" });
  private readonly rows = h("div", { class: "event-rows" });
  private readonly eventDetail = h("pre", { class: "event-detail", hidden: true, "data-testid": "event-detail" });
  private readonly logsEl = h("div", { class: "logs", "data-testid": "compute-logs" });
  private readonly empty = h("div", { class: "empty" });
  private filtered: EventView[] = [];
  private selectedEvent: number | undefined;
  private tick: ReturnType<typeof setInterval> | undefined;
  private lastDetail: RunDetailView | null | undefined;
  private follow = true;

  constructor(private readonly app: App) {
    this.searchInput.value = app.ui.run.search;
    this.searchInput.addEventListener(
      "input",
      debounce(() => {
        app.ui.run.search = this.searchInput.value;
        app.save();
        this.renderLog();
      }, 120),
    );
    this.list.append(this.spacer, this.rows);
    this.list.addEventListener("scroll", () => {
      this.follow = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - ROW_H * 2;
      this.renderRows();
    });
    this.el.append(
      this.empty,
      this.header,
      h("h3", { class: "section-title" }, icon("graph-left"), "Timeline"),
      this.timelineEl,
      h("div", { class: "split" }, h("div", { class: "log-pane" }, h("h3", { class: "section-title" }, icon("list-flat"), "Events"), this.logFilters, this.list, this.eventDetail), h("div", { class: "out-pane" }, this.logsEl)),
    );
  }

  private get runId(): string | undefined {
    return this.app.ui.route.runId;
  }

  shown(): void {
    this.requestFocus();
    this.tick ??= setInterval(() => {
      const d = this.detail();
      if (d && NOT_FINISHED_STATUSES.includes(d.run.status) && !this.el.hidden) this.renderTimeline(d);
    }, 1000);
  }

  private requestFocus(): void {
    const id = this.runId ?? null;
    this.app.focus(id, id ? this.app.ui.run.step || this.defaultLogStep() : null);
  }

  private defaultLogStep(): string | null {
    const d = this.detail();
    if (!d) return null;
    const failed = d.events.find((e) => e.type === "STEP_FAILURE" && e.stepKey)?.stepKey;
    const last = [...d.events].reverse().find((e) => (e.type === "STEP_START" || e.type === "STEP_RESTARTED") && e.stepKey)?.stepKey;
    return failed ?? last ?? d.stepKeys[0] ?? null;
  }

  private detail(): RunDetailView | null {
    const d = this.app.parts.runDetail;
    return d && d.run.runId === this.runId ? d : null;
  }

  update(changed: ReadonlySet<PartName | "route">): void {
    if (changed.has("route")) {
      if (this.app.ui.route.step !== undefined) this.app.ui.run.step = this.app.ui.route.step;
      this.requestFocus();
      this.follow = true;
    }
    const d = this.detail();
    if (!this.runId) {
      this.showEmpty("No run selected. Open one from the Runs page.");
      return;
    }
    if (!d) {
      this.showEmpty(this.app.parts.runDetail === undefined || changed.has("route") ? `Loading run ${shortId(this.runId)}…` : `Run ${this.runId} not found.`);
      return;
    }
    this.empty.hidden = true;
    for (const c of Array.from(this.el.children)) if (c !== this.empty) (c as HTMLElement).hidden = false;
    if (d === this.lastDetail && !changed.has("route")) return;
    this.lastDetail = d;
    if (!this.app.ui.run.step) this.requestFocus();
    this.renderHeader(d);
    this.renderTimeline(d);
    this.renderFilters(d);
    this.renderLog();
    this.renderLogs(d);
  }

  private showEmpty(text: string): void {
    this.empty.hidden = false;
    this.empty.textContent = text;
    for (const c of Array.from(this.el.children)) if (c !== this.empty) (c as HTMLElement).hidden = true;
  }

  private renderHeader(d: RunDetailView): void {
    const r = d.run;
    const kv = (k: string, v: string | Node) => h("span", { class: "kv-inline" }, h("span", { class: "k" }, k), v);
    replace(
      this.header,
      h("div", { class: "title-row" }, h("h2", null, h("code", { "data-testid": "run-id" }, shortId(r.runId)), " ", r.jobName), statusBadge(r.status), h("span", { class: "spacer" }), runActions(this.app, r, (m) => alertLine(this.header, m))),
      h(
        "div",
        { class: "facts" },
        kv("Run", h("code", { title: r.runId }, r.runId)),
        kv("Created", dateTime(r.createTime)),
        kv("Started", dateTime(r.startTime)),
        kv("Duration", duration(r.startTime ? (r.endTime ?? Date.now()) - r.startTime : null)),
        r.opSelection?.length ? kv("Selection", r.opSelection.join(", ")) : null,
        r.parentRunId ? kv("Re-execution of", h("a", { href: "#", class: "link", onclick: ((e: Event) => { e.preventDefault(); this.app.navigate({ page: "run", runId: r.parentRunId! }); }) as EventListener }, shortId(r.parentRunId))) : null,
        r.queueReason ? kv("Waiting for", r.queueReason) : null,
        Object.keys(r.tags).length ? kv("Tags", h("span", { class: "chips" }, Object.entries(r.tags).map(([k, v]) => h("span", { class: "chip" }, `${k}=${v}`)))) : null,
      ),
      d.eventsTruncated ? h("div", { class: "muted" }, "Only the newest events are shown.") : null,
    );
  }

  private renderTimeline(d: RunDetailView): void {
    const now = Date.now();
    const tl = computeTimeline(d.events, d.stepKeys, now);
    const span = Math.max(1, tl.end - tl.start);
    const pct = (t: number) => `${(((t - tl.start) / span) * 100).toFixed(3)}%`;
    const width = (a: number, b: number) => `${Math.max(0.15, ((b - a) / span) * 100).toFixed(3)}%`;
    clear(this.timelineEl);
    // axis
    const axis = h("div", { class: "tl-axis" });
    const ticks = 6;
    for (let i = 0; i <= ticks; i++) {
      const t = h("span", { class: "tl-tick" }, `+${duration((span * i) / ticks)}`);
      t.style.left = `${(i / ticks) * 100}%`;
      axis.append(t);
    }
    this.timelineEl.append(h("div", { class: "tl-row tl-head" }, h("div", { class: "tl-label" }, "Step"), h("div", { class: "tl-track" }, axis), h("div", { class: "tl-sum" }, "waited · ran")));
    if (tl.rows.length === 0) this.timelineEl.append(h("div", { class: "muted tl-empty" }, "No steps yet."));
    const selected = this.app.ui.run.step;
    for (const row of tl.rows) {
      const track = h("div", { class: "tl-track" });
      for (const seg of row.segments) {
        const bar = h("div", { class: segClass(seg), title: segTitle(row.step, seg, now), "data-kind": seg.kind, "data-attempt": String(seg.attempt) });
        bar.style.left = pct(seg.start);
        bar.style.width = width(seg.start, seg.end ?? now);
        if (seg.kind === "running" && row.attempts > 1) bar.textContent = `#${seg.attempt}`;
        track.append(bar);
      }
      const label = h("div", { class: "tl-label", title: row.step }, icon(stateIcon(row.state)), h("span", null, row.step));
      const el = h(
        "div",
        { class: `tl-row${selected === row.step ? " selected" : ""}`, "data-step": row.step, tabindex: 0, role: "button" },
        label,
        track,
        h("div", { class: "tl-sum" }, row.waitedMs > 0 ? h("span", { class: "waited" }, duration(row.waitedMs)) : h("span", { class: "muted" }, "–"), " · ", row.ranMs > 0 ? duration(row.ranMs) : "–", row.attempts > 1 ? h("span", { class: "muted" }, ` (${row.attempts} attempts)`) : null),
      );
      el.addEventListener("click", () => this.selectStep(row.step));
      el.addEventListener("keydown", (e) => e.key === "Enter" && this.selectStep(row.step));
      this.timelineEl.append(el);
    }
    this.timelineEl.append(
      h("div", { class: "tl-legend" }, h("span", { class: "seg waiting" }), "waiting for a pool slot / tag limit", h("span", { class: "seg running" }), "running", h("span", { class: "seg running failure" }), "failed attempt", h("span", { class: "seg running success" }), "succeeded", h("span", { class: "seg retry-wait" }), "retry delay"),
    );
  }

  private selectStep(step: string): void {
    const ui = this.app.ui.run;
    ui.step = ui.step === step ? "" : step;
    this.app.save();
    this.app.focus(this.runId ?? null, ui.step || this.defaultLogStep());
    const d = this.detail();
    if (d) {
      this.renderTimeline(d);
      this.renderFilters(d);
      this.renderLog();
      this.renderLogs(d);
    }
  }

  private renderFilters(d: RunDetailView): void {
    const ui = this.app.ui.run;
    replace(
      this.logFilters,
      select([{ value: "", label: "All steps" }, ...d.stepKeys.map((s) => ({ value: s, label: s }))], ui.step, (v) => this.selectStep(v || ui.step), { "data-testid": "event-step-filter", "aria-label": "Step" }),
      select(TYPE_GROUPS.map((t) => ({ value: t.value, label: t.label })), ui.type, (v) => {
        ui.type = v;
        this.app.save();
        this.renderLog();
      }, { "data-testid": "event-type-filter", "aria-label": "Event type" }),
      select([{ value: "", label: "All levels" }, ...LEVELS.map((l) => ({ value: l, label: `${l} and above` }))], ui.level, (v) => {
        ui.level = v;
        this.app.save();
        this.renderLog();
      }, { "data-testid": "event-level-filter", "aria-label": "Level" }),
      this.searchInput,
      h("span", { class: "spacer" }),
      h("span", { class: "muted", "data-testid": "event-count" }, ""),
    );
  }

  private renderLog(): void {
    const d = this.detail();
    if (!d) return;
    const ui = this.app.ui.run;
    const group = TYPE_GROUPS.find((t) => t.value === ui.type) ?? TYPE_GROUPS[0];
    const minLevel = ui.level ? LEVELS.indexOf(ui.level) : 0;
    const q = ui.search.trim().toLowerCase();
    this.filtered = d.events.filter(
      (e) =>
        (!ui.step || e.stepKey === ui.step) &&
        group.test(e) &&
        LEVELS.indexOf(e.level) >= minLevel &&
        (!q || e.message.toLowerCase().includes(q) || e.type.toLowerCase().includes(q) || (e.stepKey ?? "").toLowerCase().includes(q)),
    );
    const count = this.logFilters.querySelector('[data-testid="event-count"]');
    if (count) count.textContent = `${this.filtered.length} of ${d.events.length} events`;
    this.spacer.style.height = `${this.filtered.length * ROW_H}px`;
    if (this.follow) this.list.scrollTop = this.list.scrollHeight;
    this.renderRows();
  }

  private renderRows(): void {
    const first = Math.max(0, Math.floor(this.list.scrollTop / ROW_H) - 10);
    const visible = Math.ceil((this.list.clientHeight || 400) / ROW_H) + 20;
    const slice = this.filtered.slice(first, first + visible);
    this.rows.style.transform = `translateY(${first * ROW_H}px)`;
    clear(this.rows);
    for (const e of slice) {
      const row = h(
        "div",
        { class: `ev lv-${e.level.toLowerCase()} t-${e.type.toLowerCase()}${isBlocked(e) ? " blocked" : ""}${this.selectedEvent === e.id ? " selected" : ""}`, "data-id": String(e.id) },
        h("span", { class: "ev-time" }, timeMs(e.timestamp)),
        h("span", { class: "ev-level" }, e.level),
        h("span", { class: "ev-type" }, e.type),
        h("span", { class: "ev-step", title: e.stepKey ?? "" }, e.stepKey ?? ""),
        h("span", { class: "ev-msg", title: e.message }, e.message),
      );
      row.addEventListener("click", () => this.showEvent(e));
      this.rows.append(row);
    }
  }

  private showEvent(e: EventView): void {
    this.selectedEvent = this.selectedEvent === e.id ? undefined : e.id;
    this.renderRows();
    if (this.selectedEvent === undefined) {
      this.eventDetail.hidden = true;
      return;
    }
    const err = e.data?.error as { name?: string; message?: string; stack?: string } | undefined;
    this.eventDetail.hidden = false;
    this.eventDetail.textContent = [`${e.type}${e.stepKey ? ` · ${e.stepKey}` : ""} · ${timeMs(e.timestamp)}`, e.message, err?.stack ?? "", e.data ? JSON.stringify({ ...e.data, error: err ? { name: err.name, message: err.message } : undefined }, null, 2) : ""].filter(Boolean).join("\n\n");
  }

  private renderLogs(d: RunDetailView): void {
    const ui = this.app.ui.run;
    const logs = d.logs;
    const tabs = h(
      "div",
      { class: "log-tabs" },
      (["stdout", "stderr"] as const).map((s) =>
        button(s, {
          kind: "secondary",
          testid: `logs-${s}`,
          onClick: () => {
            ui.logStream = s;
            this.app.save();
            this.renderLogs(d);
          },
        }),
      ),
    );
    for (const b of Array.from(tabs.children)) b.classList.toggle("active", b.textContent === ui.logStream);
    const text = logs ? (ui.logStream === "stdout" ? logs.stdout : logs.stderr) : "";
    const pre = h("pre", { class: "log-text" }, logs ? text || `(no ${ui.logStream} output)` : "Select a step to see its output.");
    replace(this.logsEl, h("h3", { class: "section-title" }, icon("output"), logs ? `Output of ${logs.stepKey}` : "Output"), tabs, logs?.truncated ? h("div", { class: "muted" }, "Showing the end of the log.") : null, pre);
    pre.scrollTop = pre.scrollHeight;
  }
}

function segClass(s: Segment): string {
  if (s.kind === "waiting") return "seg waiting";
  if (s.kind === "retry-wait") return "seg retry-wait";
  return `seg running${s.outcome === "failure" || s.outcome === "retry" ? " failure" : s.outcome === "success" ? " success" : s.outcome === "canceled" ? " canceled" : s.end === null ? " live" : ""}`;
}

function segTitle(step: string, s: Segment, now: number): string {
  const d = duration((s.end ?? now) - s.start);
  if (s.kind === "waiting") return `${step}: waited ${d} for ${s.reason ?? "a concurrency limit"}`;
  if (s.kind === "retry-wait") return `${step}: ${d} before retry attempt ${s.attempt}`;
  return `${step}: attempt ${s.attempt}, ${d}${s.outcome && s.outcome !== "running" ? ` (${s.outcome})` : ""}`;
}

function stateIcon(s: string): string {
  switch (s) {
    case "success":
      return "pass";
    case "failure":
      return "error";
    case "running":
      return "sync";
    case "waiting":
      return "watch";
    case "retry":
      return "debug-restart";
    case "skipped":
      return "debug-step-over";
    case "canceled":
      return "circle-slash";
    default:
      return "circle-outline";
  }
}

function alertLine(parent: HTMLElement, message: string): void {
  const el = h("div", { class: "error-line", role: "alert" }, message);
  parent.append(el);
  setTimeout(() => el.remove(), 8000);
}
