// The app shell: the snapshot parts the host sent, the UI state (persisted with setState), the
// tabs, and the pages. Pages are created once and kept (hidden when not shown) so that a tab switch
// keeps their scroll, inputs and graph viewport.
import type { HostMessage, PartName, Route, SnapshotParts } from "../../src/protocol/webview";
import { mergeChunks } from "../../src/protocol/webviewShared";
import { h, icon, replace } from "./dom";
import { getState, logToHost, onHostMessage, post, PROTOCOL, setState } from "./vscode";

export type Parts = Partial<SnapshotParts>;

export interface UiState {
  route: Route;
  /** Per graph key: viewport and selected node. */
  graph: Record<string, { x: number; y: number; k: number; node?: string; query?: string } | undefined>;
  runs: { status: string; job: string; tag: string; search: string };
  run: { step: string; type: string; level: string; search: string; logStream: "stdout" | "stderr" };
  launchpad: { job?: string; selection: string; yaml: Record<string, string>; tags: [string, string][] };
}

export const DEFAULT_UI: UiState = {
  route: { page: "graph" },
  graph: {},
  runs: { status: "all", job: "", tag: "", search: "" },
  run: { step: "", type: "", level: "", search: "", logStream: "stdout" },
  launchpad: { selection: "", yaml: {}, tags: [] },
};

export interface PageContext {
  app: App;
}

export interface PageView {
  readonly el: HTMLElement;
  /** Called after parts changed (or the route did) while the page is shown. */
  update(changed: ReadonlySet<PartName | "route">): void;
  /** The page became visible. */
  shown?(): void;
}

const TABS: { page: Route["page"]; label: string; icon: string }[] = [
  { page: "graph", label: "Graph", icon: "type-hierarchy-sub" },
  { page: "runs", label: "Runs", icon: "history" },
  { page: "run", label: "Run", icon: "pulse" },
  { page: "launchpad", label: "Launchpad", icon: "rocket" },
  { page: "concurrency", label: "Concurrency", icon: "dashboard" },
];

export class App {
  parts: Parts = {};
  ui: UiState;
  private readonly pages = new Map<Route["page"], PageView>();
  private readonly tabs = new Map<Route["page"], HTMLButtonElement>();
  private readonly main: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly chunks = new Map<PartName, { seq: number; items: unknown[]; count: number }>();
  private readonly changed = new Set<PartName | "route">();
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private focusKey = "";
  /** Set by the host's first snapshot. */
  received = false;

  constructor(
    readonly root: HTMLElement,
    private readonly factories: Record<Route["page"], (app: App) => PageView>,
  ) {
    const saved = getState<Partial<UiState>>();
    this.ui = { ...DEFAULT_UI, ...(saved ?? {}), route: saved?.route ?? DEFAULT_UI.route };
    const nav = h("nav", { class: "tabs", role: "tablist" });
    for (const t of TABS) {
      const b = h("button", { class: "tab", role: "tab", type: "button", "data-page": t.page, "data-testid": `tab-${t.page}` }, icon(t.icon), h("span", null, t.label));
      b.addEventListener("click", () => this.navigate({ ...this.routeFor(t.page) }));
      this.tabs.set(t.page, b);
      nav.append(b);
    }
    this.banner = h("div", { class: "banner", hidden: true, role: "status" });
    this.main = h("main", { class: "pages" });
    replace(root, h("header", { class: "topbar" }, nav, this.banner), this.main);
    root.removeAttribute("aria-busy");
    onHostMessage((m) => this.onMessage(m));
    window.addEventListener("error", (e) => logToHost("error", `${e.message} (${e.filename}:${e.lineno})`));
    window.addEventListener("unhandledrejection", (e) => logToHost("error", `unhandled rejection: ${String((e as PromiseRejectionEvent).reason)}`));
    this.show();
    post({ type: "ready", protocol: PROTOCOL });
  }

  /** The route a tab opens: the page's last state (e.g. the last run shown). */
  private routeFor(page: Route["page"]): Route {
    if (page === this.ui.route.page) return this.ui.route;
    if (page === "run") return { page, runId: this.lastRunId };
    if (page === "launchpad") return { page, job: this.ui.launchpad.job };
    if (page === "graph") return { page, job: this.lastGraphJob };
    return { page };
  }
  private lastRunId: string | undefined;
  private lastGraphJob: string | undefined;

  navigate(route: Route): void {
    if (route.page === "run") this.lastRunId = route.runId ?? this.lastRunId;
    if (route.page === "graph") this.lastGraphJob = route.job;
    if (route.page === "launchpad" && route.job) this.ui.launchpad.job = route.job;
    this.ui.route = route.page === "run" && !route.runId && this.lastRunId ? { ...route, runId: this.lastRunId } : route;
    this.save();
    post({ type: "route", route: this.ui.route });
    this.changed.add("route");
    this.show();
  }

  /** Persists UI state (debounced). */
  save(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => setState(this.ui), 150);
  }

  /** Tells the host what detail to send (the run shown and the step whose logs are open). */
  focus(runId: string | null, logStep: string | null): void {
    const key = `${runId}|${logStep}`;
    if (key === this.focusKey) return;
    this.focusKey = key;
    post({ type: "focus", runId, logStep });
  }

  private page(p: Route["page"]): PageView {
    let view = this.pages.get(p);
    if (!view) {
      view = this.factories[p](this);
      view.el.classList.add("page");
      view.el.dataset.page = p;
      this.pages.set(p, view);
      this.main.append(view.el);
    }
    return view;
  }

  private show(): void {
    const current = this.ui.route.page;
    for (const [p, b] of this.tabs) {
      b.classList.toggle("active", p === current);
      b.setAttribute("aria-selected", String(p === current));
    }
    const view = this.page(current);
    for (const [p, v] of this.pages) v.el.hidden = p !== current;
    if (current !== "run") this.focus(null, null);
    // A page may have missed updates while hidden: it re-checks everything (cheap: pages compare identities).
    for (const part of ["status", "definitions", "runs", "concurrency", "runDetail"] as const) this.changed.add(part);
    view.shown?.();
    this.render();
  }

  private render(): void {
    const view = this.page(this.ui.route.page);
    const changed = new Set(this.changed);
    this.changed.clear();
    this.renderBanner();
    view.update(changed);
  }

  private renderBanner(): void {
    const s = this.parts.status;
    const errors = this.parts.definitions?.errors ?? [];
    const msgs: string[] = [];
    if (s && s.engine !== "ready") msgs.push(s.message ?? `The Sluice engine is ${s.engine}.`);
    if (errors.length) msgs.push(`${errors.length} job file problem${errors.length > 1 ? "s" : ""}: ${errors[0].message}`);
    this.banner.hidden = msgs.length === 0;
    this.banner.textContent = msgs.join(" · ");
  }

  private onMessage(m: Exclude<HostMessage, { type: "response" }>): void {
    switch (m.type) {
      case "init":
        if (m.route) this.navigate(m.route);
        return;
      case "navigate":
        this.navigate(m.route);
        return;
      case "part": {
        let entry = this.chunks.get(m.name);
        if (!entry || entry.seq !== m.seq || m.index === 0) entry = { seq: m.seq, items: [], count: m.count };
        entry.items[m.index] = m.value;
        this.chunks.set(m.name, entry);
        if (entry.items.filter((x) => x !== undefined).length === entry.count) {
          (this.parts as Record<string, unknown>)[m.name] = mergeChunks(entry.items);
          this.chunks.delete(m.name);
          this.changed.add(m.name);
        }
        if (m.last) {
          this.received = true;
          document.body.dataset.snapshot = String(m.seq);
          this.render();
        }
        return;
      }
    }
  }
}
