// Graph page: the workspace asset graph or a job's op graph, live status, a selection box that
// highlights what a Dagster-syntax query selects as you type and launches it, node details.
import type { PartName } from "../../../src/protocol/webview";
import type { App, PageView } from "../app";
import { append, button, clear, debounce, h, icon, replace, select } from "../dom";
import { ago, duration, shortId, STATUS_LABEL, statusClass } from "../format";
import { LayoutClient } from "../graph/layoutClient";
import { assetGraph, jobGraph, layoutInputOf, nodeStatuses, previewSelection, runsOfNode, type GraphModel, type GraphNode } from "../graph/model";
import { GraphView } from "../graph/view";
import { request, RequestError } from "../vscode";

export const layoutClient = new LayoutClient();

export function schemaSummary(schema: Record<string, unknown> | null | undefined): HTMLElement {
  if (!schema) return h("span", { class: "muted" }, "none");
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const keys = Object.keys(props);
  if (keys.length === 0) return h("code", { class: "schema" }, JSON.stringify(schema));
  return h(
    "ul",
    { class: "schema" },
    keys.map((k) => {
      const p = props[k];
      const type = Array.isArray(p.enum) ? p.enum.map((v) => JSON.stringify(v)).join(" | ") : String(p.type ?? (p.anyOf ? "union" : "any"));
      return h(
        "li",
        null,
        h("code", null, k),
        h("span", { class: "muted" }, `: ${type}`),
        required.has(k) && !("default" in p) ? h("span", { class: "req" }, " required") : null,
        "default" in p ? h("span", { class: "muted" }, ` = ${JSON.stringify(p.default)}`) : null,
        typeof p.description === "string" ? h("div", { class: "muted small" }, p.description) : null,
      );
    }),
  );
}

export class GraphPage implements PageView {
  readonly el = h("section", { class: "graph-page" });
  private readonly view: GraphView;
  private readonly graphPicker = h("span", { class: "picker" });
  private readonly query = h("input", { class: "query", type: "text", placeholder: "Op selection, e.g. *add_two, orders+, a, b++", spellcheck: "false", "data-testid": "selection-input", "aria-label": "Op selection" });
  private readonly queryStatus = h("span", { class: "query-status", "data-testid": "selection-status" });
  private readonly launchBtn: HTMLButtonElement;
  private readonly details = h("aside", { class: "details", hidden: true, "data-testid": "node-details" });
  private readonly empty = h("div", { class: "empty", hidden: true });
  private readonly stats = h("span", { class: "stats muted", "data-testid": "graph-stats" });
  private model: GraphModel | undefined;
  private modelSource: unknown;
  private drawnKey = "";
  private layoutToken = 0;

  constructor(private readonly app: App) {
    this.view = new GraphView(
      {
        onNodeClick: (id) => this.selectNode(id),
        onNodeDoubleClick: (id) => this.openSource(id),
        onBackgroundClick: () => this.selectNode(undefined),
        onViewport: (v) => {
          if (!this.model) return;
          const st = (this.app.ui.graph[this.model.key] ??= { x: 0, y: 0, k: 1 });
          Object.assign(st, v);
          this.app.save();
        },
      },
      { testid: "graph" },
    );
    this.launchBtn = button("Launch", { icon: "play", kind: "primary", onClick: () => void this.launch(), testid: "launch-selection", title: "Launch the selected ops (or the whole job)" });
    const onQuery = debounce(() => this.applyQuery(), 60);
    this.query.addEventListener("input", onQuery);
    this.query.addEventListener("keydown", (e) => {
      if (e.key === "Enter") void this.launch();
      if (e.key === "Escape") {
        this.query.value = "";
        this.applyQuery();
      }
    });
    const toolbar = h(
      "div",
      { class: "toolbar" },
      this.graphPicker,
      h("span", { class: "query-box" }, icon("filter"), this.query),
      this.queryStatus,
      this.launchBtn,
      h("span", { class: "spacer" }),
      this.stats,
      button("Zoom out", { icon: "zoom-out", kind: "icon", onClick: () => this.view.zoomBy(0.8) }),
      button("Zoom in", { icon: "zoom-in", kind: "icon", onClick: () => this.view.zoomBy(1.25) }),
      button("Fit", { icon: "screen-full", kind: "icon", onClick: () => this.view.fit(), testid: "fit" }),
    );
    const legend = h(
      "div",
      { class: "legend" },
      ...(["materialized", "succeeded", "running", "waiting", "failed", "stale", "none"] as const).map((s) => h("span", { class: `lg s-${s}` }, h("i"), s === "none" ? "never run" : s)),
    );
    this.el.append(toolbar, h("div", { class: "graph-body" }, this.view.el, this.empty, this.details), legend);
  }

  private get route() {
    return this.app.ui.route;
  }

  shown(): void {
    const q = this.route.selection;
    if (q !== undefined) this.query.value = q;
  }

  update(changed: ReadonlySet<PartName | "route">): void {
    const defs = this.app.parts.definitions;
    if (!defs) {
      this.empty.hidden = false;
      this.empty.textContent = this.app.received ? "No definitions." : "Loading definitions…";
      return;
    }
    // graph picker
    const current = this.route.job ?? "";
    const options = [{ value: "", label: `Asset graph (${defs.assets.length})` }, ...defs.jobs.map((j) => ({ value: j.name, label: `${j.kind === "assetJob" ? "Asset job" : "Job"}: ${j.name}` }))];
    replace(this.graphPicker, select(options, current, (v) => this.app.navigate({ page: "graph", job: v || undefined }), { "data-testid": "graph-picker", "aria-label": "Graph" }));

    const job = current ? defs.jobs.find((j) => j.name === current) : undefined;
    const source = job ?? defs;
    if (source !== this.modelSource || changed.has("route")) {
      if (source !== this.modelSource) {
        this.modelSource = source;
        this.model = job ? jobGraph(job) : assetGraph(defs);
      }
      void this.draw();
    }
    if (changed.has("runs") || changed.has("route")) this.refreshStatus();
    if (changed.has("route") && this.route.node) this.selectNode(this.route.node, true);
  }

  private async draw(): Promise<void> {
    const model = this.model;
    if (!model) return;
    const saved = this.app.ui.graph[model.key];
    if (saved?.query !== undefined && this.route.selection === undefined && this.drawnKey !== model.key) this.query.value = saved.query;
    if (model.nodes.length === 0) {
      this.view.clearGraph();
      this.empty.hidden = false;
      this.empty.textContent = model.key === "assets" ? "No assets in this workspace." : "This job has no ops.";
      return;
    }
    this.empty.hidden = true;
    const input = layoutInputOf(model);
    const token = ++this.layoutToken;
    const cached = layoutClient.cached(input);
    if (!cached) {
      this.empty.hidden = false;
      this.empty.textContent = `Laying out ${model.nodes.length} nodes…`;
    }
    const t0 = performance.now();
    const layout = await layoutClient.layout(input);
    if (token !== this.layoutToken || model !== this.model) return;
    this.empty.hidden = true;
    const first = this.drawnKey !== model.key || !this.view.hasGraph;
    const vp = saved && first ? { x: saved.x, y: saved.y, k: saved.k } : first ? undefined : this.view.viewport;
    await this.view.setGraph(model, layout, vp);
    this.drawnKey = model.key;
    const st = layoutClient.lastStats;
    this.stats.textContent = `${model.nodes.length} nodes · ${model.edges.length} edges · layout ${st?.cached ? "cached" : `${Math.round(st?.ms ?? performance.now() - t0)} ms (${st?.where ?? "?"})`} · draw ${Math.round(this.view.lastDrawMs)} ms`;
    // For tests and the bench: what the last drawing cost.
    document.body.dataset.layoutMs = String(Math.round(st?.cached ? 0 : st?.ms ?? 0));
    document.body.dataset.layoutMode = st?.mode ?? "";
    document.body.dataset.layoutWhere = st?.where ?? "";
    document.body.dataset.drawMs = String(Math.round(this.view.lastDrawMs));
    document.body.dataset.graphDrawn = model.key;
    this.refreshStatus();
    this.applyQuery();
    const node = this.route.node ?? saved?.node;
    if (node && model.index.has(node)) this.selectNode(node, !!this.route.node);
  }

  private refreshStatus(): void {
    if (!this.model) return;
    this.view.setStatuses(nodeStatuses(this.model, this.app.parts.runs ?? []));
    const selected = this.app.ui.graph[this.model.key]?.node;
    if (selected && !this.details.hidden) this.renderDetails(selected);
  }

  private applyQuery(): void {
    if (!this.model) return;
    const text = this.query.value;
    const st = (this.app.ui.graph[this.model.key] ??= { x: 0, y: 0, k: 1 });
    st.query = text;
    this.app.save();
    const p = previewSelection(this.model, text);
    this.query.classList.toggle("invalid", !p.ok);
    this.launchBtn.disabled = !p.ok || !this.model.launchJob;
    if (!p.ok) {
      this.view.setHighlight(new Set());
      this.queryStatus.className = "query-status error";
      this.queryStatus.textContent = p.error;
      this.query.setAttribute("aria-invalid", "true");
      return;
    }
    this.query.removeAttribute("aria-invalid");
    this.view.setHighlight(p.empty ? null : p.selected);
    this.queryStatus.className = "query-status";
    const noun = this.model.key === "assets" ? "asset" : "op";
    this.queryStatus.textContent = p.empty ? `all ${this.model.nodes.length} ${noun}s` : `${p.selected.size} of ${this.model.nodes.length} ${noun}s selected`;
    this.launchBtn.querySelector("span:last-child")!.textContent = p.empty ? (this.model.key === "assets" ? "Materialize all" : "Launch job") : `Launch ${p.selected.size}`;
  }

  private async launch(): Promise<void> {
    if (!this.model?.launchJob) return;
    const p = previewSelection(this.model, this.query.value);
    if (!p.ok) return;
    this.launchBtn.disabled = true;
    try {
      const r = await request({ kind: "launch", jobName: this.model.launchJob, selection: p.empty ? undefined : p.clauses });
      this.app.navigate({ page: "run", runId: r.runId });
    } catch (e) {
      this.queryStatus.className = "query-status error";
      this.queryStatus.textContent = e instanceof RequestError ? e.message : String(e);
    } finally {
      this.launchBtn.disabled = false;
    }
  }

  private selectNode(id: string | undefined, reveal = false): void {
    if (!this.model) return;
    const st = (this.app.ui.graph[this.model.key] ??= { x: 0, y: 0, k: 1 });
    st.node = id;
    this.app.save();
    this.view.setSelected(id ?? null);
    if (!id || !this.model.index.has(id)) {
      this.details.hidden = true;
      return;
    }
    if (reveal) this.view.reveal(id);
    this.renderDetails(id);
  }

  private openSource(id: string): void {
    const n = this.nodeById(id);
    const src = n?.asset?.source ?? n?.step?.source;
    if (src) void request({ kind: "openSource", file: src.file, line: src.line, column: src.column }).catch(() => undefined);
  }

  private nodeById(id: string): GraphNode | undefined {
    const i = this.model?.index.get(id);
    return i === undefined ? undefined : this.model!.nodes[i];
  }

  private renderDetails(id: string): void {
    const n = this.nodeById(id);
    const model = this.model;
    if (!n || !model) return;
    this.details.hidden = false;
    const status = nodeStatuses(model, this.app.parts.runs ?? []).get(id);
    const step = n.step;
    const retry = n.asset?.retryPolicy ?? step?.retryPolicy ?? null;
    const src = n.asset?.source ?? step?.source;
    const kv = (k: string, v: Node | string | null) => h("div", { class: "kv" }, h("span", { class: "k" }, k), h("span", { class: "v" }, v));
    const tags = Object.entries(n.tags);
    const runs = runsOfNode(model, n, this.app.parts.runs ?? []);
    clear(this.details);
    append(this.details, [
      h(
        "div",
        { class: "details-head" },
        h("h2", null, icon(n.kind === "asset" ? "database" : n.kind === "graph" ? "type-hierarchy" : "symbol-method"), h("span", null, n.label)),
        button("Close", { icon: "close", kind: "icon", onClick: () => this.selectNode(undefined) }),
      ),
      n.description ? h("p", { class: "desc" }, n.description) : h("p", { class: "desc muted" }, "No description."),
      kv("Status", h("span", { class: `badge s-${status?.status ?? "none"}` }, status ? status.status : "never run")),
      kv("Kind", n.kind === "asset" ? `asset${n.asset?.group ? ` · group ${n.asset.group}` : ""}` : n.kind === "graph" ? `graph (${n.steps.length} steps)` : "op"),
      kv("Pool", n.pool ?? h("span", { class: "muted" }, "none")),
      kv("Tags", tags.length ? h("span", { class: "chips" }, tags.map(([k, v]) => h("span", { class: "chip" }, `${k}=${v}`))) : h("span", { class: "muted" }, "none")),
      kv(
        "Retry policy",
        retry
          ? `max ${retry.maxRetries} retr${retry.maxRetries === 1 ? "y" : "ies"}${retry.delay ? `, delay ${retry.delay}s` : ""}${retry.backoff ? `, ${retry.backoff.toLowerCase()} backoff` : ""}${retry.jitter ? `, ${retry.jitter.toLowerCase()} jitter` : ""}`
          : h("span", { class: "muted" }, "none"),
      ),
      kv("Config schema", schemaSummary(n.asset?.configSchema ?? step?.configSchema)),
      n.asset?.deps.length ? kv("Depends on", h("span", { class: "chips" }, n.asset.deps.map((d) => h("span", { class: "chip" }, d)))) : null,
      src
        ? kv(
            "Source",
            h("a", { href: "#", class: "link", "data-testid": "open-source", onclick: ((e: Event) => {
              e.preventDefault();
              this.openSource(id);
            }) as EventListener }, `${src.file.split("/").slice(-2).join("/")}:${src.line}`),
          )
        : null,
      h("h3", null, "Last runs"),
      runs.length === 0
        ? h("p", { class: "muted" }, "No runs yet.")
        : h(
            "ul",
            { class: "last-runs" },
            runs.map(({ run, state }) =>
              h(
                "li",
                null,
                h("a", { href: "#", class: "link", onclick: ((e: Event) => {
                  e.preventDefault();
                  this.app.navigate({ page: "run", runId: run.runId });
                }) as EventListener }, shortId(run.runId)),
                h("span", { class: `badge ${statusClass(run.status)}` }, state ?? STATUS_LABEL[run.status]),
                h("span", { class: "muted" }, ` ${ago(run.createTime)}`),
                run.endTime && run.startTime ? h("span", { class: "muted" }, ` · ${duration(run.endTime - run.startTime)}`) : null,
              ),
            ),
          ),
      h(
        "div",
        { class: "actions" },
        model.launchJob
          ? button(n.kind === "asset" || n.kind === "graph" ? "Materialize" : "Run this op", {
              icon: "play",
              kind: "secondary",
              onClick: () => {
                this.query.value = id;
                this.applyQuery();
                void this.launch();
              },
            })
          : null,
        button("Select upstream", { icon: "arrow-left", onClick: () => { this.query.value = `*${id}`; this.applyQuery(); } }),
        button("Select downstream", { icon: "arrow-right", onClick: () => { this.query.value = `${id}*`; this.applyQuery(); } }),
      ),
    ]);
  }
}
