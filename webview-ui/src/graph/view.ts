// Draws a laid-out graph as SVG with pan (drag), zoom (wheel, buttons, keys), fit, and a minimap
// (canvas) for large graphs. Status, selection highlight and the selected node are classes on the
// existing elements, so live updates never rebuild the drawing. Text is hidden below a zoom level
// (and for huge graphs until zoomed in) to keep thousands of nodes fluid.
import { esc } from "../dom";
import type { LayoutResult } from "./layoutCore";
import type { GraphModel, NodeRunInfo } from "./model";

export interface Viewport {
  x: number;
  y: number;
  k: number;
}

const SVG_NS = "http://www.w3.org/2000/svg";
const MIN_K = 0.02;
const MAX_K = 2.5;
const TEXT_MIN_K = 0.45;
/** Above this many nodes: lazy text and merged edge paths. */
const HUGE = 400;

function truncate(s: string, maxChars: number): string {
  return s.length <= maxChars ? s : s.slice(0, Math.max(1, maxChars - 1)) + "…";
}

function edgePath(pts: number[], curved: boolean): string {
  if (pts.length < 4) return "";
  const r = (v: number) => Math.round(v * 10) / 10;
  if (pts.length === 4 || curved) {
    // Two points (edges between parts): a horizontal S-curve.
    const [x0, y0] = [pts[0], pts[1]];
    const [x1, y1] = [pts[pts.length - 2], pts[pts.length - 1]];
    const dx = Math.max(30, Math.abs(x1 - x0) / 2);
    return `M${r(x0)},${r(y0)}C${r(x0 + dx)},${r(y0)} ${r(x1 - dx)},${r(y1)} ${r(x1)},${r(y1)}`;
  }
  // Smooth through dagre's points: quadratic segments between midpoints.
  let d = `M${r(pts[0])},${r(pts[1])}`;
  for (let i = 2; i < pts.length - 2; i += 2) {
    const mx = (pts[i] + pts[i + 2]) / 2;
    const my = (pts[i + 1] + pts[i + 3]) / 2;
    d += `Q${r(pts[i])},${r(pts[i + 1])} ${r(mx)},${r(my)}`;
  }
  d += `L${r(pts[pts.length - 2])},${r(pts[pts.length - 1])}`;
  return d;
}

export interface GraphViewEvents {
  onNodeClick(id: string): void;
  onNodeDoubleClick(id: string): void;
  onBackgroundClick(): void;
  onViewport(v: Viewport): void;
}

export class GraphView {
  readonly el: HTMLElement;
  private readonly svg: SVGSVGElement;
  private readonly root: SVGGElement;
  private readonly minimap: HTMLCanvasElement;
  private minimapImage: HTMLCanvasElement | undefined;
  private model: GraphModel | undefined;
  private layout: LayoutResult | undefined;
  private nodeEls: SVGGElement[] = [];
  private edgeEls: SVGPathElement[] = [];
  private vp: Viewport = { x: 0, y: 0, k: 1 };
  private statuses = new Map<string, NodeRunInfo>();
  private highlight: Set<string> | null = null;
  private selected: string | null = null;
  private raf = 0;
  private drag: { x: number; y: number; vx: number; vy: number; moved: boolean; target: EventTarget | null } | undefined;
  private resizeObserver: ResizeObserver | undefined;
  private lastPressed: EventTarget | null = null;
  private huge = false;
  private labeled = new Uint8Array(0);
  private edgePaths: string[] = [];
  /** Time the last setGraph took until the browser painted (ms), for the bench. */
  lastDrawMs = 0;

  constructor(private readonly events: GraphViewEvents, opts: { minimap?: boolean; testid?: string } = {}) {
    this.el = document.createElement("div");
    this.el.className = "graph-view";
    if (opts.testid) this.el.dataset.testid = opts.testid;
    this.el.tabIndex = 0;
    this.svg = document.createElementNS(SVG_NS, "svg");
    this.svg.setAttribute("class", "graph-svg");
    this.svg.setAttribute("role", "img");
    this.root = document.createElementNS(SVG_NS, "g");
    this.root.setAttribute("class", "viewport");
    this.svg.append(this.root);
    this.el.append(this.svg);
    this.minimap = document.createElement("canvas");
    this.minimap.className = "minimap";
    this.minimap.width = 200;
    this.minimap.height = 130;
    this.minimap.hidden = true;
    this.minimap.dataset.testid = "minimap";
    if (opts.minimap !== false) this.el.append(this.minimap);
    this.bind();
  }

  private bind(): void {
    this.svg.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      this.drag = { x: e.clientX, y: e.clientY, vx: this.vp.x, vy: this.vp.y, moved: false, target: e.target };
      this.lastPressed = e.target;
      this.svg.setPointerCapture(e.pointerId);
    });
    this.svg.addEventListener("pointermove", (e) => {
      if (!this.drag) return;
      const dx = e.clientX - this.drag.x;
      const dy = e.clientY - this.drag.y;
      if (!this.drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      this.drag.moved = true;
      this.svg.classList.add("panning");
      this.setViewport({ x: this.drag.vx + dx, y: this.drag.vy + dy, k: this.vp.k });
    });
    const endDrag = (e: PointerEvent) => {
      const d = this.drag;
      this.drag = undefined;
      this.svg.classList.remove("panning");
      if (this.svg.hasPointerCapture(e.pointerId)) this.svg.releasePointerCapture(e.pointerId);
      // Pointer capture retargets pointerup to the svg: the node is the one pressed.
      if (d && !d.moved && e.type === "pointerup") this.clickAt(d.target);
    };
    this.svg.addEventListener("pointerup", endDrag);
    this.svg.addEventListener("pointercancel", endDrag);
    this.svg.addEventListener("dblclick", (e) => {
      const id = this.nodeAt(this.lastPressed ?? e.target);
      if (id) this.events.onNodeDoubleClick(id);
    });
    this.svg.addEventListener(
      "wheel",
      (e) => {
        e.preventDefault();
        const rect = this.svg.getBoundingClientRect();
        const factor = Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015));
        this.zoomAt(factor, e.clientX - rect.left, e.clientY - rect.top);
      },
      { passive: false },
    );
    this.el.addEventListener("keydown", (e) => {
      if (e.target !== this.el) return;
      if (e.key === "+" || e.key === "=") this.zoomBy(1.25);
      else if (e.key === "-") this.zoomBy(0.8);
      else if (e.key === "0") this.fit();
      else return;
      e.preventDefault();
    });
    const onMinimap = (e: PointerEvent) => {
      if (!this.layout || (e.type === "pointermove" && e.buttons !== 1)) return;
      const r = this.minimap.getBoundingClientRect();
      const { scale, ox, oy } = this.minimapTransform();
      const gx = (e.clientX - r.left - ox) / scale;
      const gy = (e.clientY - r.top - oy) / scale;
      const { width, height } = this.size();
      this.setViewport({ x: width / 2 - gx * this.vp.k, y: height / 2 - gy * this.vp.k, k: this.vp.k });
    };
    this.minimap.addEventListener("pointerdown", (e) => {
      this.minimap.setPointerCapture(e.pointerId);
      onMinimap(e);
    });
    this.minimap.addEventListener("pointermove", onMinimap);
    if (typeof ResizeObserver !== "undefined") {
      this.resizeObserver = new ResizeObserver(() => this.schedule());
      this.resizeObserver.observe(this.el);
    }
  }

  private clickAt(target: EventTarget | null): void {
    const id = this.nodeAt(target);
    if (id) this.events.onNodeClick(id);
    else this.events.onBackgroundClick();
    this.el.focus({ preventScroll: true });
  }

  private nodeAt(target: EventTarget | null): string | undefined {
    const g = (target as Element | null)?.closest?.("g.node") as SVGGElement | null;
    if (!g || !this.model) return undefined;
    const i = Number(g.dataset.i);
    return this.model.nodes[i]?.id;
  }

  size(): { width: number; height: number } {
    const r = this.el.getBoundingClientRect();
    return { width: Math.max(1, r.width), height: Math.max(1, r.height) };
  }

  get viewport(): Viewport {
    return { ...this.vp };
  }

  get hasGraph(): boolean {
    return this.layout !== undefined;
  }

  /** Replaces the drawing. Resolves after the browser painted it. */
  setGraph(model: GraphModel, layout: LayoutResult, viewport?: Viewport): Promise<void> {
    const t0 = performance.now();
    this.model = model;
    this.layout = layout;
    // Huge graphs: nodes start as boxes (text is added for the nodes in view once zoomed in) and
    // the edges are one path (highlights are extra paths), so the first draw stays light.
    const huge = model.nodes.length > HUGE;
    this.huge = huge;
    this.labeled = new Uint8Array(model.nodes.length);
    this.edgePaths = model.edges.map((_, i) => {
      const pts = layout.edges[i];
      return pts && pts.length >= 4 ? edgePath(pts, layout.mode === "partitioned" && pts.length === 4) : "";
    });
    const parts: string[] = [];
    for (const p of layout.parts) {
      parts.push(`<g class="part"><rect x="${p.x}" y="${p.y}" width="${p.width}" height="${p.height}" rx="8"></rect>${p.label ? `<text class="part-label" x="${p.x + 12}" y="${p.y - 6}">${esc(p.label)}</text>` : ""}</g>`);
    }
    const isCross = new Uint8Array(model.edges.length);
    for (const i of layout.cross ?? []) isCross[i] = 1;
    const edges = huge
      ? `<path class="edge all cross" d="${this.edgePaths.filter((_, i) => isCross[i]).join("")}"></path>` +
        `<path class="edge all" d="${this.edgePaths.filter((_, i) => !isCross[i]).join("")}"></path>` +
        `<path class="edge hit-all" d=""></path><path class="edge adjacent-all" d=""></path>`
      : this.edgePaths.map((d, i) => `<path class="edge${isCross[i] ? " cross" : ""}" data-e="${i}" d="${d}"></path>`).join("");
    const nodes: string[] = [];
    model.nodes.forEach((n, i) => {
      const x = layout.positions[2 * i] - n.width / 2;
      const y = layout.positions[2 * i + 1] - n.height / 2;
      nodes.push(
        `<g class="node k-${n.kind} s-none" data-i="${i}" data-id="${esc(n.id)}" transform="translate(${Math.round(x)},${Math.round(y)})">` +
          `<rect class="box" width="${n.width}" height="${n.height}" rx="5"></rect>` +
          `<rect class="stripe" width="5" height="${n.height}" rx="2"></rect>` +
          (huge ? "" : this.labelMarkup(i)) +
          `</g>`,
      );
      if (!huge) this.labeled[i] = 1;
    });
    this.root.innerHTML = `<g class="parts">${parts.join("")}</g><g class="edges">${edges}</g><g class="nodes">${nodes.join("")}</g>`;
    this.nodeEls = Array.from(this.root.querySelectorAll<SVGGElement>("g.nodes > g.node"));
    this.edgeEls = huge ? [] : Array.from(this.root.querySelectorAll<SVGPathElement>("g.edges > path"));
    this.svg.classList.toggle("huge", huge);
    this.minimap.hidden = model.nodes.length < 25;
    this.minimapImage = undefined;
    this.applyStatuses();
    this.applyHighlight();
    this.applySelected();
    if (viewport) this.setViewport(viewport);
    else this.fit();
    return new Promise((resolve) =>
      requestAnimationFrame(() =>
        setTimeout(() => {
          this.lastDrawMs = performance.now() - t0;
          resolve();
        }, 0),
      ),
    );
  }

  private labelMarkup(i: number): string {
    const n = this.model!.nodes[i];
    const chars = Math.floor((n.width - 22) / 7.2);
    const tagText = Object.entries(n.tags)
      .filter(([k]) => !k.startsWith("sluice/") && !k.startsWith("dagster/"))
      .slice(0, 2)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    const meta = [n.pool ? `pool ${n.pool}` : "", tagText].filter(Boolean).join(" · ") || (n.kind === "asset" ? n.group ?? "" : n.kind === "graph" ? (n.asset ? "graph asset" : `graph · ${n.steps.length} step${n.steps.length === 1 ? "" : "s"}`) : "");
    const st = this.statuses.get(n.id)?.status ?? "none";
    return (
      `<text class="name" x="14" y="20">${esc(truncate(n.label, chars))}</text>` +
      `<text class="meta" x="14" y="37">${esc(truncate(meta, Math.floor(chars * 1.15)))}</text>` +
      `<text class="state" x="14" y="53">${st === "none" ? "never run" : st}</text>`
    );
  }

  /** Huge graphs: adds the text of the nodes in view (a batch per frame) once it is readable. */
  private labelVisible(): void {
    if (!this.huge || !this.model || !this.layout || this.vp.k < TEXT_MIN_K) return;
    const { width, height } = this.size();
    const x0 = -this.vp.x / this.vp.k - 150;
    const y0 = -this.vp.y / this.vp.k - 80;
    const x1 = x0 + width / this.vp.k + 300;
    const y1 = y0 + height / this.vp.k + 160;
    const pos = this.layout.positions;
    let budget = 400;
    for (let i = 0; i < this.model.nodes.length && budget > 0; i++) {
      if (this.labeled[i]) continue;
      const x = pos[2 * i];
      const y = pos[2 * i + 1];
      if (x < x0 || x > x1 || y < y0 || y > y1) continue;
      this.nodeEls[i]?.insertAdjacentHTML("beforeend", this.labelMarkup(i));
      this.labeled[i] = 1;
      budget--;
    }
    if (budget === 0) this.schedule();
  }

  clearGraph(): void {
    this.model = undefined;
    this.layout = undefined;
    this.root.innerHTML = "";
    this.nodeEls = [];
    this.edgeEls = [];
    this.minimap.hidden = true;
  }

  setStatuses(statuses: Map<string, NodeRunInfo>): void {
    this.statuses = statuses;
    this.applyStatuses();
    this.minimapImage = undefined;
    this.schedule();
  }

  private applyStatuses(): void {
    if (!this.model) return;
    this.model.nodes.forEach((n, i) => {
      const el = this.nodeEls[i];
      if (!el) return;
      const st = this.statuses.get(n.id)?.status ?? "none";
      const cls = `s-${st}`;
      if (el.dataset.st === cls) return;
      if (el.dataset.st) el.classList.remove(el.dataset.st);
      else el.classList.remove("s-none");
      el.classList.add(cls);
      el.dataset.st = cls;
      if (this.labeled[i]) {
        const label = el.querySelector("text.state");
        if (label) label.textContent = st === "none" ? "never run" : st;
      }
    });
  }

  /** Highlights the nodes a selection query selects (null: no query). */
  setHighlight(ids: Set<string> | null): void {
    this.highlight = ids;
    this.applyHighlight();
  }

  private applyHighlight(): void {
    if (!this.model) return;
    const h = this.highlight;
    this.svg.classList.toggle("querying", h !== null);
    this.model.nodes.forEach((n, i) => this.nodeEls[i]?.classList.toggle("hit", !!h && h.has(n.id)));
    if (this.huge) {
      const d = h ? this.model.edges.map((e, i) => (h.has(e.from) && h.has(e.to) ? this.edgePaths[i] : "")).join("") : "";
      this.root.querySelector("path.hit-all")?.setAttribute("d", d);
      return;
    }
    this.model.edges.forEach((e, i) => this.edgeEls[i]?.classList.toggle("hit", !!h && h.has(e.from) && h.has(e.to)));
  }

  setSelected(id: string | null): void {
    this.selected = id;
    this.applySelected();
  }

  private applySelected(): void {
    if (!this.model) return;
    const idx = this.selected !== null ? this.model.index.get(this.selected) : undefined;
    for (const el of this.root.querySelectorAll("g.node.selected")) el.classList.remove("selected");
    for (const el of this.root.querySelectorAll("path.edge.adjacent")) el.classList.remove("adjacent");
    if (this.huge) {
      const d = idx === undefined ? "" : this.model.edges.map((e, i) => (e.from === this.selected || e.to === this.selected ? this.edgePaths[i] : "")).join("");
      this.root.querySelector("path.adjacent-all")?.setAttribute("d", d);
    }
    if (idx === undefined) return;
    this.nodeEls[idx]?.classList.add("selected");
    if (this.huge) return;
    this.model.edges.forEach((e, i) => {
      if (e.from === this.selected || e.to === this.selected) this.edgeEls[i]?.classList.add("adjacent");
    });
  }

  /** Pans so that a node is in view (keeping the zoom unless it is too small to read). */
  reveal(id: string): void {
    if (!this.model || !this.layout) return;
    const i = this.model.index.get(id);
    if (i === undefined) return;
    const { width, height } = this.size();
    const k = Math.max(this.vp.k, 0.8);
    this.setViewport({ x: width / 2 - this.layout.positions[2 * i] * k, y: height / 2 - this.layout.positions[2 * i + 1] * k, k });
  }

  fit(): void {
    if (!this.layout) return;
    const { width, height } = this.size();
    const w = Math.max(1, this.layout.width);
    const hgt = Math.max(1, this.layout.height);
    const k = Math.max(MIN_K, Math.min(1.2, Math.min((width - 32) / w, (height - 32) / hgt)));
    this.setViewport({ x: (width - w * k) / 2, y: (height - hgt * k) / 2, k });
  }

  zoomBy(f: number): void {
    const { width, height } = this.size();
    this.zoomAt(f, width / 2, height / 2);
  }

  private zoomAt(f: number, cx: number, cy: number): void {
    const k = Math.max(MIN_K, Math.min(MAX_K, this.vp.k * f));
    const r = k / this.vp.k;
    this.setViewport({ x: cx - (cx - this.vp.x) * r, y: cy - (cy - this.vp.y) * r, k });
  }

  setViewport(v: Viewport): void {
    if (!Number.isFinite(v.x) || !Number.isFinite(v.y) || !Number.isFinite(v.k) || v.k <= 0) return;
    this.vp = { x: v.x, y: v.y, k: Math.max(MIN_K, Math.min(MAX_K, v.k)) };
    this.schedule();
    this.events.onViewport(this.viewport);
  }

  private schedule(): void {
    if (this.raf) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      this.root.setAttribute("transform", `translate(${this.vp.x.toFixed(1)},${this.vp.y.toFixed(1)}) scale(${this.vp.k.toFixed(4)})`);
      this.svg.classList.toggle("no-text", this.vp.k < TEXT_MIN_K);
      this.svg.style.setProperty("--sl-inv-k", (1 / this.vp.k).toFixed(3));
      this.labelVisible();
      this.drawMinimap();
    });
  }

  private minimapTransform(): { scale: number; ox: number; oy: number } {
    const l = this.layout!;
    const scale = Math.min((this.minimap.width - 8) / Math.max(1, l.width), (this.minimap.height - 8) / Math.max(1, l.height));
    return { scale, ox: (this.minimap.width - l.width * scale) / 2, oy: (this.minimap.height - l.height * scale) / 2 };
  }

  private drawMinimap(): void {
    if (this.minimap.hidden || !this.layout || !this.model) return;
    const ctx = this.minimap.getContext("2d");
    if (!ctx) return;
    const { scale, ox, oy } = this.minimapTransform();
    if (!this.minimapImage) {
      const img = document.createElement("canvas");
      img.width = this.minimap.width;
      img.height = this.minimap.height;
      const c = img.getContext("2d")!;
      const css = getComputedStyle(this.el);
      const color = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
      const colors: Record<string, string> = {
        none: color("--sl-node-border", "#888"),
        materialized: color("--sl-ok", "#3c3"),
        succeeded: color("--sl-ok", "#3c3"),
        failed: color("--sl-fail", "#c33"),
        running: color("--sl-run", "#39f"),
        waiting: color("--sl-wait", "#aa3"),
        stale: color("--sl-stale", "#c93"),
      };
      c.fillStyle = color("--sl-minimap-bg", "rgba(0,0,0,.2)");
      c.fillRect(0, 0, img.width, img.height);
      this.model.nodes.forEach((n, i) => {
        c.fillStyle = colors[this.statuses.get(n.id)?.status ?? "none"];
        const x = ox + (this.layout!.positions[2 * i] - n.width / 2) * scale;
        const y = oy + (this.layout!.positions[2 * i + 1] - n.height / 2) * scale;
        c.fillRect(x, y, Math.max(1, n.width * scale), Math.max(1, n.height * scale));
      });
      this.minimapImage = img;
    }
    ctx.clearRect(0, 0, this.minimap.width, this.minimap.height);
    ctx.drawImage(this.minimapImage, 0, 0);
    const { width, height } = this.size();
    const css = getComputedStyle(this.el);
    ctx.strokeStyle = css.getPropertyValue("--sl-focus").trim() || "#0af";
    ctx.lineWidth = 1.5;
    ctx.strokeRect(ox + (-this.vp.x / this.vp.k) * scale, oy + (-this.vp.y / this.vp.k) * scale, (width / this.vp.k) * scale, (height / this.vp.k) * scale);
  }

  dispose(): void {
    this.resizeObserver?.disconnect();
    if (this.raf) cancelAnimationFrame(this.raf);
  }
}
