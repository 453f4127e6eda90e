// Launchpad: choose a job, an op selection (validated and previewed on the job's graph), a YAML run
// config with positioned diagnostics (the engine's own run config validation, bundled here; op
// config checked against each op's JSON Schema, then by the engine through the host), tags, launch.
import { stringify as toYaml } from "yaml";
import { validateRunConfig } from "../../../src/engine/config/runConfigSchema";
import type { ConfigIssueView, JobView, PartName } from "../../../src/protocol/webview";
import { checkOpConfig, runConfigShapeOf } from "../../../src/protocol/webviewShared";
import type { App, PageView } from "../app";
import { button, clear, debounce, h, icon, replace, select } from "../dom";
import { jobGraph, layoutInputOf, nodeStatuses, previewSelection, type GraphModel } from "../graph/model";
import { GraphView } from "../graph/view";
import { request, RequestError } from "../vscode";
import { layoutClient } from "./graph";

/**
 * Local validation: the run config's shape with positions, and op config against JSON Schema, for
 * the selected ops only (as the engine checks only the steps it will run; `selected` = nodes).
 */
export function validateLocally(job: JobView, yaml: string, selected?: ReadonlySet<string>): ConfigIssueView[] {
  const schemas = new Map(job.steps.map((s) => [s.key, s.configSchema]));
  const nodeOf = new Map(job.steps.map((s) => [s.key, s.node]));
  const shape = {
    ...runConfigShapeOf(job),
    validateOpConfig: (op: string, value: unknown) => (selected && !selected.has(nodeOf.get(op) ?? op) ? [] : checkOpConfig(schemas.get(op), value)),
  };
  return validateRunConfig(yaml, "launchpad", shape).issues.map((i) => ({ line: i.line, column: i.column, endLine: i.endLine, endColumn: i.endColumn, keyPath: i.keyPath, message: i.message, code: i.code }));
}

function exampleFromSchema(schema: Record<string, unknown>): unknown {
  if ("default" in schema) return schema.default;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  switch (schema.type) {
    case "object": {
      const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, exampleFromSchema(v)]));
    }
    case "array":
      return [];
    case "number":
    case "integer":
      return 0;
    case "boolean":
      return false;
    case "string":
      return "";
    default:
      return null;
  }
}

/** A run config scaffold: the job's defaults plus every op's config from its schema. */
export function scaffold(job: JobView): string {
  const ops: Record<string, unknown> = {};
  for (const s of job.steps) if (s.configSchema) ops[s.key] = { config: exampleFromSchema(s.configSchema) };
  const base = Object.keys(ops).length ? toYaml({ ops }) : "";
  return (job.defaultRunConfigYaml ?? "") + base || "# This job takes no config.\n";
}

export class LaunchpadPage implements PageView {
  readonly el = h("section", { class: "launchpad-page" });
  private readonly jobPicker = h("span");
  private readonly selection = h("input", { type: "text", class: "query", placeholder: "Op selection (empty = all ops)", spellcheck: "false", "data-testid": "lp-selection", "aria-label": "Op selection" });
  private readonly selStatus = h("div", { class: "query-status", "data-testid": "lp-selection-status" });
  private readonly preview: GraphView;
  private readonly gutter = h("div", { class: "gutter", "aria-hidden": "true" });
  private readonly editor = h("textarea", { class: "yaml", spellcheck: "false", wrap: "off", "data-testid": "lp-yaml", "aria-label": "Run config (YAML)" });
  private readonly issuesEl = h("ul", { class: "issues", "data-testid": "lp-issues" });
  private readonly tagsEl = h("div", { class: "tags-editor" });
  private readonly launchBtn: HTMLButtonElement;
  private readonly result = h("div", { class: "result", role: "status", "data-testid": "lp-result" });
  private issues: ConfigIssueView[] = [];
  private hostIssues: ConfigIssueView[] = [];
  private job: JobView | undefined;
  private model: GraphModel | undefined;
  private validateSeq = 0;

  constructor(private readonly app: App) {
    this.preview = new GraphView({ onNodeClick: (id) => this.toggleNode(id), onNodeDoubleClick: () => undefined, onBackgroundClick: () => undefined, onViewport: () => undefined }, { minimap: false, testid: "lp-graph" });
    this.launchBtn = button("Launch run", { icon: "rocket", kind: "primary", onClick: () => void this.launch(), testid: "lp-launch" });
    this.selection.addEventListener(
      "input",
      debounce(() => {
        app.ui.launchpad.selection = this.selection.value;
        app.save();
        this.applySelection();
        this.validate(false);
      }, 60),
    );
    const localCheck = debounce(() => this.validate(false), 150);
    const hostCheck = debounce(() => this.validate(true), 600);
    this.editor.addEventListener("input", () => {
      if (this.job) app.ui.launchpad.yaml[this.job.name] = this.editor.value;
      app.save();
      this.renderGutter();
      localCheck();
      hostCheck();
    });
    this.editor.addEventListener("scroll", () => (this.gutter.scrollTop = this.editor.scrollTop));
    this.editor.addEventListener("keydown", (e) => {
      if (e.key === "Tab") {
        e.preventDefault();
        const { selectionStart: s, selectionEnd: t, value } = this.editor;
        this.editor.value = value.slice(0, s) + "  " + value.slice(t);
        this.editor.selectionStart = this.editor.selectionEnd = s + 2;
        this.editor.dispatchEvent(new Event("input"));
      }
    });
    this.el.append(
      h("div", { class: "toolbar" }, h("label", null, "Job "), this.jobPicker, h("span", { class: "spacer" }), this.launchBtn),
      this.result,
      h(
        "div",
        { class: "lp-grid" },
        h(
          "div",
          { class: "lp-left" },
          h("h3", { class: "section-title" }, icon("filter"), "Op selection"),
          this.selection,
          this.selStatus,
          h("div", { class: "lp-preview" }, this.preview.el),
          h("h3", { class: "section-title" }, icon("tag"), "Tags"),
          this.tagsEl,
        ),
        h(
          "div",
          { class: "lp-right" },
          h("h3", { class: "section-title" }, icon("settings"), "Run config (YAML)", h("span", { class: "spacer" }), button("Scaffold", { icon: "wand", onClick: () => this.fillScaffold(), title: "Fill with the job's defaults and every op's config" })),
          h("div", { class: "editor" }, this.gutter, this.editor),
          this.issuesEl,
        ),
      ),
    );
  }

  update(changed: ReadonlySet<PartName | "route">): void {
    const defs = this.app.parts.definitions;
    if (!defs) return;
    const ui = this.app.ui.launchpad;
    if (changed.has("route")) {
      if (this.app.ui.route.job) ui.job = this.app.ui.route.job;
      if (this.app.ui.route.selection !== undefined) ui.selection = this.app.ui.route.selection;
    }
    const jobs = defs.jobs;
    const name = ui.job && jobs.some((j) => j.name === ui.job) ? ui.job : jobs[0]?.name;
    replace(this.jobPicker, jobs.length ? select(jobs.map((j) => ({ value: j.name, label: j.name })), name ?? "", (v) => this.app.navigate({ page: "launchpad", job: v }), { "data-testid": "lp-job", "aria-label": "Job" }) : h("span", { class: "muted" }, "No jobs."));
    const job = jobs.find((j) => j.name === name);
    if (!job) return;
    const jobChanged = job !== this.job;
    this.job = job;
    ui.job = job.name;
    if (jobChanged || changed.has("route")) {
      this.selection.value = ui.selection;
      this.editor.value = ui.yaml[job.name] ?? job.defaultRunConfigYaml ?? "";
      this.model = jobGraph(job);
      void layoutClient.layout(layoutInputOf(this.model)).then((l) => this.model && this.preview.setGraph(this.model, l).then(() => this.applySelection()));
      this.preview.setStatuses(nodeStatuses(this.model, this.app.parts.runs ?? []));
      this.renderTags();
      this.renderGutter();
      this.validate(false);
      this.validate(true);
    }
    if (changed.has("runs") && this.model) this.preview.setStatuses(nodeStatuses(this.model, this.app.parts.runs ?? []));
    this.applySelection();
  }

  private toggleNode(id: string): void {
    const parts = this.selection.value.split(",").map((s) => s.trim()).filter(Boolean);
    const i = parts.indexOf(id);
    if (i >= 0) parts.splice(i, 1);
    else parts.push(id);
    this.selection.value = parts.join(", ");
    this.selection.dispatchEvent(new Event("input"));
  }

  private selectionOk = true;

  private applySelection(): void {
    if (!this.model) return;
    const p = previewSelection(this.model, this.selection.value);
    this.selectionOk = p.ok;
    this.selection.classList.toggle("invalid", !p.ok);
    if (!p.ok) {
      this.selStatus.className = "query-status error";
      this.selStatus.textContent = p.error;
      this.preview.setHighlight(new Set());
    } else {
      this.selStatus.className = "query-status";
      this.selStatus.textContent = p.empty ? `All ${this.model.nodes.length} ops.` : `${p.selected.size} op${p.selected.size === 1 ? "" : "s"}: ${[...p.selected].join(", ")}`;
      this.preview.setHighlight(p.empty ? null : p.selected);
    }
    this.updateLaunchState();
  }

  private fillScaffold(): void {
    if (!this.job) return;
    this.editor.value = scaffold(this.job);
    this.editor.dispatchEvent(new Event("input"));
  }

  private renderGutter(): void {
    const lines = this.editor.value.split("\n").length;
    const bad = new Set(this.issues.concat(this.hostIssues).filter((i) => i.line > 0).map((i) => i.line));
    clear(this.gutter);
    for (let i = 1; i <= lines; i++) this.gutter.append(h("div", { class: bad.has(i) ? "ln bad" : "ln" }, String(i)));
    this.gutter.scrollTop = this.editor.scrollTop;
  }

  private validate(viaHost: boolean): void {
    const job = this.job;
    if (!job) return;
    const yaml = this.editor.value;
    if (!viaHost) {
      const p = this.model ? previewSelection(this.model, this.selection.value) : undefined;
      this.issues = validateLocally(job, yaml, p?.ok && !p.empty ? p.selected : undefined);
      this.renderIssues();
      return;
    }
    const seq = ++this.validateSeq;
    if (this.issues.length > 0 || yaml.trim() === "") {
      this.hostIssues = [];
      this.renderIssues();
      return;
    }
    const sel = this.model ? previewSelection(this.model, this.selection.value) : undefined;
    request({ kind: "validateRunConfig", jobName: job.name, yaml, selection: sel?.ok && !sel.empty ? sel.clauses : undefined })
      .then((r) => {
        if (seq !== this.validateSeq) return;
        this.hostIssues = r.issues.filter((hi) => !this.issues.some((li) => li.keyPath === hi.keyPath && li.message === hi.message));
        this.renderIssues();
      })
      .catch(() => undefined);
  }

  private renderIssues(): void {
    const all = [...this.issues, ...this.hostIssues];
    clear(this.issuesEl);
    if (all.length === 0) this.issuesEl.append(h("li", { class: "ok" }, icon("pass"), " Run config is valid."));
    for (const i of all) {
      const li = h("li", { class: "issue", tabindex: 0 }, icon("error"), h("span", { class: "pos" }, i.line > 0 ? `${i.line}:${i.column}` : "—"), h("code", null, i.keyPath || "(root)"), h("span", null, i.message));
      li.addEventListener("click", () => this.goTo(i));
      this.issuesEl.append(li);
    }
    this.renderGutter();
    this.updateLaunchState();
  }

  private goTo(i: ConfigIssueView): void {
    if (i.line <= 0) return;
    const lines = this.editor.value.split("\n");
    let offset = 0;
    for (let l = 1; l < i.line; l++) offset += (lines[l - 1]?.length ?? 0) + 1;
    const start = offset + Math.max(0, i.column - 1);
    const end = i.endLine === i.line ? offset + Math.max(i.column, i.endColumn - 1) : start + 1;
    this.editor.focus();
    this.editor.setSelectionRange(start, end);
  }

  private renderTags(): void {
    const ui = this.app.ui.launchpad;
    const inherited = Object.entries(this.job?.tags ?? {});
    clear(this.tagsEl);
    if (inherited.length) this.tagsEl.append(h("div", { class: "muted small" }, "From the job: ", h("span", { class: "chips" }, inherited.map(([k, v]) => h("span", { class: "chip" }, `${k}=${v}`)))));
    ui.tags.forEach(([k, v], idx) => {
      const key = h("input", { type: "text", value: k, placeholder: "key", "aria-label": "Tag key", "data-testid": `lp-tag-key-${idx}` });
      const val = h("input", { type: "text", value: v, placeholder: "value", "aria-label": "Tag value", "data-testid": `lp-tag-value-${idx}` });
      const sync = () => {
        ui.tags[idx] = [key.value, val.value];
        this.app.save();
      };
      key.addEventListener("input", sync);
      val.addEventListener("input", sync);
      this.tagsEl.append(h("div", { class: "tag-row" }, key, h("span", null, "="), val, button("Remove tag", { icon: "trash", kind: "icon", onClick: () => { ui.tags.splice(idx, 1); this.app.save(); this.renderTags(); } })));
    });
    this.tagsEl.append(button("Add tag", { icon: "add", onClick: () => { ui.tags.push(["", ""]); this.renderTags(); }, testid: "lp-add-tag" }));
  }

  private updateLaunchState(): void {
    this.launchBtn.disabled = !this.job || !this.selectionOk || this.issues.length + this.hostIssues.length > 0;
  }

  private async launch(): Promise<void> {
    const job = this.job;
    if (!job || !this.model) return;
    const p = previewSelection(this.model, this.selection.value);
    if (!p.ok) return;
    const tags = Object.fromEntries(this.app.ui.launchpad.tags.filter(([k]) => k.trim()).map(([k, v]) => [k.trim(), v]));
    this.launchBtn.disabled = true;
    this.result.className = "result";
    this.result.textContent = "Launching…";
    try {
      const r = await request({ kind: "launch", jobName: job.name, selection: p.empty ? undefined : p.clauses, runConfigYaml: this.editor.value, tags: Object.keys(tags).length ? tags : undefined });
      this.result.textContent = "";
      this.app.navigate({ page: "run", runId: r.runId });
    } catch (e) {
      this.result.className = "result error";
      this.result.textContent = e instanceof Error ? e.message : String(e);
      if (e instanceof RequestError && e.issues?.length) {
        this.hostIssues = e.issues;
        this.renderIssues();
      }
    } finally {
      this.updateLaunchState();
    }
  }
}
