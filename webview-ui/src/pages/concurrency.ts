// Concurrency: pools (limit, slots in use by which run/step, pending steps in order; edit a limit,
// the same as `sluice instance concurrency set`) and run-level limits from sluice.yaml with counts.
import type { ConcurrencyView, PartName, PoolView } from "../../../src/protocol/webview";
import type { App, PageView } from "../app";
import { button, clear, h, icon } from "../dom";
import { ago, shortId } from "../format";
import { request, RequestError } from "../vscode";

function meter(used: number, limit: number | null): HTMLElement {
  const m = h("div", { class: "meter", role: "meter", "aria-valuenow": String(used), "aria-valuemax": String(limit ?? used) });
  const fill = h("div", { class: `fill${limit !== null && used >= limit ? " full" : ""}` });
  fill.style.width = limit === null ? (used > 0 ? "100%" : "0%") : `${limit === 0 ? 100 : Math.min(100, (used / limit) * 100)}%`;
  m.append(fill);
  return m;
}

export class ConcurrencyPage implements PageView {
  readonly el = h("section", { class: "concurrency-page" });
  private last: ConcurrencyView | undefined;
  private editing = new Set<string>();

  constructor(private readonly app: App) {}

  update(changed: ReadonlySet<PartName | "route">): void {
    const c = this.app.parts.concurrency;
    if (!c) {
      this.el.textContent = "Loading…";
      return;
    }
    if (c === this.last && !changed.has("route")) return;
    // Don't re-render under the user's cursor while a limit is being edited.
    if (this.editing.size > 0 && this.el.contains(document.activeElement)) return;
    this.last = c;
    this.render(c);
  }

  private runLink(runId: string, step?: string): HTMLElement {
    return h("a", { href: "#", class: "link", onclick: ((e: Event) => { e.preventDefault(); this.app.navigate({ page: "run", runId, step }); }) as EventListener }, h("code", null, shortId(runId)), step ? ` · ${step}` : "");
  }

  private render(c: ConcurrencyView): void {
    clear(this.el);
    const r = c.runs;
    this.el.append(
      h("h2", { class: "section-title" }, icon("run-all"), "Runs"),
      h(
        "div",
        { class: "card", "data-testid": "run-limits" },
        h("div", { class: "limit-row" }, h("span", { class: "k" }, "max_concurrent_runs"), meter(r.inProgress, r.maxConcurrentRuns < 0 ? null : r.maxConcurrentRuns), h("span", null, `${r.inProgress} in progress / ${r.maxConcurrentRuns < 0 ? "unlimited" : r.maxConcurrentRuns}`), h("span", { class: "muted" }, ` · ${r.queued} queued`)),
        r.tagLimits.length === 0
          ? h("div", { class: "muted" }, "No run tag_concurrency_limits in sluice.yaml.")
          : h(
              "table",
              { class: "grid" },
              h("thead", null, h("tr", null, h("th", null, "Tag"), h("th", null, "Limit"), h("th", null, "Runs now"))),
              h(
                "tbody",
                null,
                r.tagLimits.map((t) =>
                  h(
                    "tr",
                    null,
                    h("td", null, h("code", null, typeof t.value === "string" ? `${t.key}=${t.value}` : t.value ? `${t.key}=* (per value)` : t.key)),
                    h("td", null, String(t.limit)),
                    h("td", null, t.current.length === 0 ? h("span", { class: "muted" }, "0") : t.current.map((cur) => h("div", { class: "limit-row" }, cur.value !== undefined && typeof t.value !== "string" ? h("code", null, cur.value) : null, meter(cur.count, t.limit), h("span", null, `${cur.count}/${t.limit}`)))),
                  ),
                ),
              ),
            ),
      ),
      h("h2", { class: "section-title" }, icon("database"), "Pools", h("span", { class: "muted small" }, ` granularity: ${c.granularity} · default limit: ${c.defaultPoolLimit ?? "none"}`)),
      c.pools.length === 0 ? h("p", { class: "muted" }, "No pools yet. Ops with `pool: \"name\"` create them when they run.") : h("div", { class: "pools" }, c.pools.map((p) => this.pool(p))),
    );
  }

  private pool(p: PoolView): HTMLElement {
    const input = h("input", { type: "number", min: "0", max: "1000", step: "1", value: p.limit === null ? "" : String(p.limit), placeholder: "none", "aria-label": `Limit of pool ${p.pool}`, "data-testid": `pool-limit-${p.pool}` });
    const msg = h("span", { class: "muted small" });
    input.addEventListener("focus", () => this.editing.add(p.pool));
    input.addEventListener("blur", () => setTimeout(() => this.editing.delete(p.pool), 200));
    const save = async () => {
      const limit = Number(input.value);
      if (!Number.isInteger(limit) || limit < 0 || limit > 1000) {
        msg.className = "error small";
        msg.textContent = "A whole number from 0 to 1000.";
        return;
      }
      try {
        await request({ kind: "setPoolLimit", pool: p.pool, limit });
        msg.className = "muted small";
        msg.textContent = `Limit set to ${limit}.`;
        this.editing.delete(p.pool);
      } catch (e) {
        msg.className = "error small";
        msg.textContent = e instanceof RequestError ? e.message : String(e);
      }
    };
    input.addEventListener("keydown", (e) => e.key === "Enter" && void save());
    return h(
      "div",
      { class: "card pool", "data-pool": p.pool },
      h("div", { class: "pool-head" }, h("h3", null, icon("database"), p.pool), meter(p.claimed.length, p.limit), h("span", { "data-testid": `pool-usage-${p.pool}` }, `${p.claimed.length} / ${p.limit ?? "∞"} slots in use`), p.usingDefault ? h("span", { class: "muted small" }, " (default limit)") : null),
      h("div", { class: "limit-edit" }, h("label", null, "Limit "), input, button("Set", { icon: "check", onClick: () => void save(), testid: `pool-set-${p.pool}` }), msg),
      h(
        "div",
        { class: "pool-cols" },
        h("div", null, h("h4", null, "In use"), p.claimed.length ? h("ul", null, p.claimed.map((c) => h("li", null, this.runLink(c.runId, c.stepKey)))) : h("p", { class: "muted" }, "No slot in use.")),
        h(
          "div",
          null,
          h("h4", null, `Waiting (${p.pending.length})`),
          p.pending.length
            ? h("ol", null, p.pending.map((x) => h("li", null, this.runLink(x.runId, x.stepKey), x.priority ? h("span", { class: "chip" }, `priority ${x.priority}`) : null, h("span", { class: "muted" }, ` since ${ago(x.createTime)}`))))
            : h("p", { class: "muted" }, "No step waiting."),
        ),
      ),
    );
  }
}
