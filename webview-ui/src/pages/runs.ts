// Runs page: the queue (with the reason each run waits), runs in progress, and history; filters by
// status, job and tag; cancel and re-execute.
import { CANCELABLE_STATUSES, FINISHED_STATUSES, IN_PROGRESS_STATUSES, type RunStatus } from "../../../src/engine/events";
import type { PartName, RunView } from "../../../src/protocol/webview";
import type { App, PageView } from "../app";
import { button, clear, debounce, h, icon, replace, select } from "../dom";
import { ago, dateTime, duration, shortId, STATUS_ICON, STATUS_LABEL, statusClass } from "../format";
import { request, RequestError } from "../vscode";

export function runActions(app: App, r: RunView, onError: (msg: string) => void): HTMLElement {
  const act = (p: Promise<{ runId: string }>, navigateTo: boolean) =>
    p.then((res) => navigateTo && app.navigate({ page: "run", runId: res.runId })).catch((e) => onError(e instanceof RequestError ? e.message : String(e)));
  return h(
    "span",
    { class: "row-actions" },
    CANCELABLE_STATUSES.includes(r.status)
      ? button("Cancel", { icon: "debug-stop", kind: "icon", testid: `cancel-${r.runId}`, onClick: () => void act(request({ kind: "cancel", runId: r.runId }), false) })
      : null,
    FINISHED_STATUSES.includes(r.status)
      ? button("Re-execute all steps", { icon: "debug-rerun", kind: "icon", testid: `reexecute-${r.runId}`, onClick: () => void act(request({ kind: "reexecute", runId: r.runId, strategy: "all" }), true) })
      : null,
    r.status === "FAILURE"
      ? button("Re-execute from failure", { icon: "debug-restart", kind: "icon", testid: `reexecute-failure-${r.runId}`, onClick: () => void act(request({ kind: "reexecute", runId: r.runId, strategy: "fromFailure" }), true) })
      : null,
  );
}

export function statusBadge(s: RunStatus): HTMLElement {
  return h("span", { class: `badge ${statusClass(s)}` }, icon(STATUS_ICON[s], s === "STARTED" || s === "STARTING" || s === "CANCELING" ? "codicon-modifier-spin" : ""), STATUS_LABEL[s]);
}

function selectionText(r: RunView): string {
  if (r.opSelection?.length) return r.opSelection.join(", ");
  if (r.assetSelection?.length) return r.assetSelection.length > 3 ? `${r.assetSelection.slice(0, 3).join(", ")} +${r.assetSelection.length - 3}` : r.assetSelection.join(", ");
  if (r.stepKeysToExecute?.length) return `${r.stepKeysToExecute.length} steps`;
  return "all";
}

const STATUS_FILTERS = [
  { value: "all", label: "All statuses" },
  { value: "queued", label: "Queued" },
  { value: "progress", label: "In progress" },
  { value: "finished", label: "Finished" },
  { value: "SUCCESS", label: "Success" },
  { value: "FAILURE", label: "Failure" },
  { value: "CANCELED", label: "Canceled" },
];

export class RunsPage implements PageView {
  readonly el = h("section", { class: "runs-page" });
  private readonly filters = h("div", { class: "toolbar" });
  private readonly body = h("div", { class: "runs-body" });
  private readonly error = h("div", { class: "error-line", hidden: true, role: "alert" });
  private readonly tagInput = h("input", { type: "text", placeholder: "tag key=value", "aria-label": "Tag filter", "data-testid": "runs-tag-filter" });
  private readonly searchInput = h("input", { type: "search", placeholder: "Search run id", "aria-label": "Search runs" });

  constructor(private readonly app: App) {
    const f = app.ui.runs;
    this.tagInput.value = f.tag;
    this.searchInput.value = f.search;
    const onText = debounce(() => {
      f.tag = this.tagInput.value.trim();
      f.search = this.searchInput.value.trim();
      app.save();
      this.render();
    }, 120);
    this.tagInput.addEventListener("input", onText);
    this.searchInput.addEventListener("input", onText);
    this.el.append(this.filters, this.error, this.body);
  }

  update(changed: ReadonlySet<PartName | "route">): void {
    if (changed.has("runs") || changed.has("definitions") || changed.has("route")) this.render();
  }

  private showError(msg: string): void {
    this.error.hidden = false;
    this.error.textContent = msg;
    setTimeout(() => (this.error.hidden = true), 8000);
  }

  private render(): void {
    const f = this.app.ui.runs;
    const runs = this.app.parts.runs ?? [];
    const jobs = [...new Set([...(this.app.parts.definitions?.jobs.map((j) => j.name) ?? []), ...runs.map((r) => r.jobName)])].sort();
    replace(
      this.filters,
      select(STATUS_FILTERS, f.status, (v) => {
        f.status = v;
        this.app.save();
        this.render();
      }, { "data-testid": "runs-status-filter", "aria-label": "Status" }),
      select([{ value: "", label: "All jobs" }, ...jobs.map((j) => ({ value: j, label: j }))], f.job, (v) => {
        f.job = v;
        this.app.save();
        this.render();
      }, { "data-testid": "runs-job-filter", "aria-label": "Job" }),
      this.tagInput,
      this.searchInput,
      h("span", { class: "spacer" }),
      h("span", { class: "muted" }, `${runs.length} runs`),
    );
    const [tk, tv] = f.tag.includes("=") ? [f.tag.slice(0, f.tag.indexOf("=")).trim(), f.tag.slice(f.tag.indexOf("=") + 1).trim()] : [f.tag, undefined];
    const filtered = runs.filter((r) => {
      if (f.job && r.jobName !== f.job) return false;
      if (f.search && !r.runId.startsWith(f.search) && !r.runId.includes(f.search)) return false;
      if (tk && !(tk in r.tags && (tv === undefined || tv === "" || r.tags[tk] === tv))) return false;
      switch (f.status) {
        case "queued":
          return r.status === "QUEUED";
        case "progress":
          return IN_PROGRESS_STATUSES.includes(r.status);
        case "finished":
          return FINISHED_STATUSES.includes(r.status);
        case "all":
          return true;
        default:
          return r.status === f.status;
      }
    });
    const queued = filtered.filter((r) => r.status === "QUEUED" || r.status === "NOT_STARTED").sort((a, b) => a.createTime - b.createTime);
    const progress = filtered.filter((r) => IN_PROGRESS_STATUSES.includes(r.status));
    const finished = filtered.filter((r) => FINISHED_STATUSES.includes(r.status));
    clear(this.body);
    const now = Date.now();
    const section = (title: string, ic: string, list: RunView[], kind: "queued" | "progress" | "finished") => {
      if (list.length === 0 && kind !== "finished") return null;
      return h(
        "section",
        { class: `run-group g-${kind}`, "data-testid": `runs-${kind}` },
        h("h2", null, icon(ic), `${title} `, h("span", { class: "count" }, String(list.length))),
        list.length === 0
          ? h("p", { class: "muted" }, "No runs match.")
          : h(
              "table",
              { class: "grid" },
              h(
                "thead",
                null,
                h("tr", null, h("th", null, "Status"), h("th", null, "Run"), h("th", null, "Job"), h("th", null, "Selection"), h("th", null, "Tags"), h("th", null, kind === "queued" ? "Queued" : "Started"), h("th", null, kind === "queued" ? "Waiting for" : "Duration"), h("th", null, "")),
              ),
              h(
                "tbody",
                null,
                list.map((r) => {
                  const tags = Object.entries(r.tags).filter(([k]) => !k.startsWith("sluice/root") && !k.startsWith("sluice/parent"));
                  const tr = h(
                    "tr",
                    { class: "run-row", "data-run": r.runId, tabindex: 0 },
                    h("td", null, statusBadge(r.status)),
                    h("td", null, h("code", null, shortId(r.runId))),
                    h("td", null, r.jobName),
                    h("td", { class: "sel" }, selectionText(r)),
                    h("td", null, h("span", { class: "chips" }, tags.slice(0, 4).map(([k, v]) => h("span", { class: "chip", title: `${k}=${v}` }, `${k}=${v}`)), tags.length > 4 ? h("span", { class: "muted" }, `+${tags.length - 4}`) : null)),
                    h("td", { title: dateTime(kind === "queued" ? r.createTime : r.startTime ?? r.createTime) }, kind === "queued" ? ago(r.createTime, now) : dateTime(r.startTime ?? r.createTime)),
                    kind === "queued"
                      ? h("td", { class: "reason", "data-testid": "queue-reason" }, r.queueReason ? h("span", null, icon("watch"), " ", r.queueReason) : h("span", { class: "muted" }, "waiting for the queue daemon"))
                      : h("td", null, duration((r.endTime ?? now) - (r.startTime ?? r.createTime))),
                    h("td", null, runActions(this.app, r, (m) => this.showError(m))),
                  );
                  tr.addEventListener("click", () => this.app.navigate({ page: "run", runId: r.runId }));
                  tr.addEventListener("keydown", (e) => {
                    if (e.key === "Enter") this.app.navigate({ page: "run", runId: r.runId });
                  });
                  return tr;
                }),
              ),
            ),
      );
    };
    this.body.append(
      ...[section("Queued", "clock", queued, "queued"), section("In progress", "sync", progress, "progress"), section("Finished", "history", finished, "finished")].filter((x): x is HTMLElement => !!x),
    );
  }
}
