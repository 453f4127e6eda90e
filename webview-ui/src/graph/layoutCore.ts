// Graph layout with @dagrejs/dagre (ranker "tight-tree"). Pure: runs in the layout worker, or on
// the webview's main thread when no worker can be started. Never on the extension host.
//
// dagre's cost grows faster than the graph: on a 5,000-node asset graph a single dagre.layout
// takes 5–20 s here (its crossing-reduction loop alone can run for minutes on deep graphs). So:
// - up to SINGLE_MAX nodes: one dagre layout, dagre's own ordering (a fast barycenter ordering
//   replaces it only if the graph with its dummy nodes is huge);
// - larger graphs are partitioned: weakly connected components; big components by asset group,
//   then by bands of consecutive ranks; small components binned together. Each part is laid out
//   by dagre (in parallel, one worker per core), then the parts themselves are placed by dagre
//   over the graph of parts, and edges between parts are drawn as direct curves.
import { Graph, layout as dagreLayout } from "@dagrejs/dagre";

export interface LayoutNodeInput {
  id: string;
  width: number;
  height: number;
  /** Nodes of one group stay together when a large graph is partitioned. */
  group?: string;
}

export interface LayoutInput {
  nodes: LayoutNodeInput[];
  edges: { from: string; to: string }[];
  rankdir: "LR" | "TB";
}

export interface LayoutResult {
  width: number;
  height: number;
  /** Node centres, in input order: [x0, y0, x1, y1, ...]. */
  positions: number[];
  /** Per input edge: its polyline [x0, y0, x1, y1, ...] (empty for edges to unknown nodes). */
  edges: number[][];
  /** Indices of edges between parts (partitioned layouts only): drawn as plain curves. */
  cross?: number[];
  /** Part boxes (partitioned layouts only). */
  parts: { x: number; y: number; width: number; height: number; label: string }[];
  mode: "single" | "partitioned";
  ms: number;
}

export const SINGLE_MAX = 700;
export const PART_MAX = 500;
const HUGE_WITH_DUMMIES = 2500;

const GRAPH_OPTS = { nodesep: 14, ranksep: 56, edgesep: 8, marginx: 16, marginy: 16 };

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

/** FNV-1a over the layout input: equal inputs share a layout (the cache key). */
export function layoutHash(input: LayoutInput): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  const add = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    h1 = Math.imul(h1 ^ 0x1f, 0x01000193);
  };
  add(input.rankdir);
  for (const n of input.nodes) add(`${n.id}|${n.width}|${n.height}|${n.group ?? ""}`);
  for (const e of input.edges) add(`${e.from}>${e.to}`);
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0") + input.nodes.length.toString(36);
}

// ---------------------------------------------------------------------------------------------
// ordering for huge layered graphs: dagre's init order (DFS) and a fixed number of barycenter
// sweeps, on arrays. dagre's own loop repeats until 4 sweeps bring no improvement and copies the
// whole layering on every tie, which is what makes it explode on deep graphs.

type DagreGraph = Graph;

function fastOrder(g: DagreGraph): void {
  const ids = g.nodes();
  const index = new Map<string, number>();
  ids.forEach((v: string, i: number) => index.set(v, i));
  const n = ids.length;
  const rank = new Int32Array(n);
  let maxRank = 0;
  for (let i = 0; i < n; i++) {
    const r = (g.node(ids[i]) as { rank?: number }).rank ?? 0;
    rank[i] = r;
    if (r > maxRank) maxRank = r;
  }
  const succ: number[][] = Array.from({ length: n }, () => []);
  const pred: number[][] = Array.from({ length: n }, () => []);
  for (const e of g.edges()) {
    const a = index.get(e.v)!;
    const b = index.get(e.w)!;
    succ[a].push(b);
    pred[b].push(a);
  }
  // init order: DFS from nodes in rank order
  const layers: number[][] = Array.from({ length: maxRank + 1 }, () => []);
  const visited = new Uint8Array(n);
  const byRank = Array.from({ length: n }, (_, i) => i).sort((a, b) => rank[a] - rank[b]);
  const stack: number[] = [];
  for (const start of byRank) {
    if (visited[start]) continue;
    stack.push(start);
    while (stack.length) {
      const v = stack.pop()!;
      if (visited[v]) continue;
      visited[v] = 1;
      layers[rank[v]].push(v);
      const s = succ[v];
      for (let k = s.length - 1; k >= 0; k--) if (!visited[s[k]]) stack.push(s[k]);
    }
  }
  const pos = new Float64Array(n);
  const setPos = (layer: number[]) => layer.forEach((v, i) => (pos[v] = i));
  layers.forEach(setPos);
  const bc = new Float64Array(n);
  const sweep = (down: boolean) => {
    const order = down ? layers.keys() : [...layers.keys()].reverse();
    for (const r of order) {
      const layer = layers[r];
      for (const v of layer) {
        const nb = down ? pred[v] : succ[v];
        if (nb.length === 0) {
          bc[v] = pos[v];
          continue;
        }
        let sum = 0;
        for (const u of nb) sum += pos[u];
        bc[v] = sum / nb.length;
      }
      layer.sort((a, b) => bc[a] - bc[b] || pos[a] - pos[b]);
      setPos(layer);
    }
  };
  for (let i = 0; i < 4; i++) sweep(i % 2 === 0);
  for (const layer of layers) layer.forEach((v, i) => ((g.node(ids[v]) as { order?: number }).order = i));
}

// ---------------------------------------------------------------------------------------------
// one dagre layout

/**
 * Edges implied by a longer path (a→c when a→b→…→c exists), by index. dagre turns every edge that
 * spans several ranks into a chain of dummy nodes, and in asset graphs such shortcuts are common
 * (a model reads both a raw table and its staged form); leaving them out of the layout of a big
 * graph's parts halves dagre's work and does not change the ranks. They are drawn as plain curves.
 */
export function redundantEdges(input: LayoutInput): Set<number> {
  const n = input.nodes.length;
  const index = new Map(input.nodes.map((node, i) => [node.id, i]));
  const succ: number[][] = Array.from({ length: n }, () => []);
  const indeg = new Int32Array(n);
  const pairs: [number, number][] = input.edges.map((e) => [index.get(e.from) ?? -1, index.get(e.to) ?? -1]);
  for (const [a, b] of pairs) {
    if (a < 0 || b < 0 || a === b) continue;
    succ[a].push(b);
    indeg[b]++;
  }
  const topo: number[] = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) topo.push(i);
  for (let q = 0; q < topo.length; q++) for (const w of succ[topo[q]]) if (--indeg[w] === 0) topo.push(w);
  const out = new Set<number>();
  if (topo.length !== n) return out; // cycles: leave the graph as it is
  const words = (n + 31) >>> 5;
  const reach = Array.from({ length: n }, () => new Uint32Array(words)); // strict descendants
  for (let q = n - 1; q >= 0; q--) {
    const v = topo[q];
    const r = reach[v];
    for (const w of succ[v]) {
      r[w >>> 5] |= 1 << (w & 31);
      const rw = reach[w];
      for (let k = 0; k < words; k++) r[k] |= rw[k];
    }
  }
  pairs.forEach(([a, c], i) => {
    if (a < 0 || c < 0 || a === c) return;
    for (const b of succ[a]) if (b !== c && reach[b][c >>> 5] & (1 << (c & 31))) return void out.add(i);
  });
  return out;
}

/** `fast`: the fast barycenter ordering, and shortcut edges left out (parts of a partitioned layout). */
export function layoutSingle(input: LayoutInput, fast = false): LayoutResult {
  const t0 = now();
  const skip = fast ? redundantEdges(input) : new Set<number>();
  const g: DagreGraph = new Graph({ multigraph: false });
  g.setGraph({ rankdir: input.rankdir, ranker: "tight-tree", ...GRAPH_OPTS });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of input.nodes) g.setNode(n.id, { width: n.width, height: n.height });
  const known = new Set(input.nodes.map((n) => n.id));
  input.edges.forEach((e, i) => {
    if (!skip.has(i) && known.has(e.from) && known.has(e.to) && e.from !== e.to) g.setEdge(e.from, e.to);
  });
  dagreLayout(g, {
    customOrder: (graph: DagreGraph, order: (graph: DagreGraph, opts?: object) => void) => {
      if (fast || graph.nodeCount() > HUGE_WITH_DUMMIES) fastOrder(graph);
      else order(graph, {});
    },
  } as never);
  const positions: number[] = [];
  for (const n of input.nodes) {
    const v = g.node(n.id) as { x: number; y: number };
    positions.push(v.x, v.y);
  }
  const byId = new Map(input.nodes.map((n, i) => [n.id, i]));
  const edges = input.edges.map((e, i) => {
    if (!known.has(e.from) || !known.has(e.to) || e.from === e.to) return [];
    if (skip.has(i)) {
      const a = byId.get(e.from)!;
      const b = byId.get(e.to)!;
      const na = input.nodes[a];
      const nb = input.nodes[b];
      return input.rankdir === "LR"
        ? [positions[2 * a] + na.width / 2, positions[2 * a + 1], positions[2 * b] - nb.width / 2, positions[2 * b + 1]]
        : [positions[2 * a], positions[2 * a + 1] + na.height / 2, positions[2 * b], positions[2 * b + 1] - nb.height / 2];
    }
    const label = g.edge(e.from, e.to) as { points?: { x: number; y: number }[] } | undefined;
    return (label?.points ?? []).flatMap((p) => [p.x, p.y]);
  });
  const gl = g.graph() as { width?: number; height?: number };
  return { width: gl.width ?? 0, height: gl.height ?? 0, positions, edges, parts: [], mode: "single", ms: now() - t0 };
}

// ---------------------------------------------------------------------------------------------
// partitioning

export interface Partition {
  /** Node indices (into input.nodes) of each part. */
  parts: number[][];
  labels: string[];
}

export function partition(input: LayoutInput, partMax = PART_MAX): Partition {
  const n = input.nodes.length;
  const index = new Map<string, number>();
  input.nodes.forEach((node, i) => index.set(node.id, i));
  const succ: number[][] = Array.from({ length: n }, () => []);
  const pred: number[][] = Array.from({ length: n }, () => []);
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (const e of input.edges) {
    const a = index.get(e.from);
    const b = index.get(e.to);
    if (a === undefined || b === undefined || a === b) continue;
    succ[a].push(b);
    pred[b].push(a);
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[ra] = rb;
  }
  // longest-path rank from the sources (Kahn; nodes on cycles follow in input order)
  const rank = new Int32Array(n);
  const indeg = Int32Array.from(pred, (p) => p.length);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
  const seen = new Uint8Array(n);
  for (let qi = 0; qi < queue.length; qi++) {
    const v = queue[qi];
    seen[v] = 1;
    for (const w of succ[v]) {
      if (rank[v] + 1 > rank[w]) rank[w] = rank[v] + 1;
      if (--indeg[w] === 0) queue.push(w);
    }
  }
  const comps = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    let c = comps.get(r);
    if (!c) comps.set(r, (c = []));
    c.push(i);
  }
  const parts: number[][] = [];
  const labels: string[] = [];
  const bySize = [...comps.values()].sort((a, b) => b.length - a.length);
  let bin: number[] = [];
  const flushBin = () => {
    if (bin.length) {
      parts.push(bin);
      labels.push("");
    }
    bin = [];
  };
  const bands = (nodes: number[], label: string) => {
    const sorted = [...nodes].sort((a, b) => rank[a] - rank[b] || a - b);
    const count = Math.ceil(sorted.length / partMax);
    const size = Math.ceil(sorted.length / count);
    for (let i = 0; i < sorted.length; ) {
      let end = Math.min(sorted.length, i + size);
      // Prefer cutting between ranks when a boundary is near.
      for (let j = end; j < sorted.length && j < end + size / 5; j++) {
        if (rank[sorted[j]] !== rank[sorted[j - 1]]) {
          end = j;
          break;
        }
      }
      parts.push(sorted.slice(i, end));
      labels.push(count > 1 ? `${label}${label ? " " : ""}(${parts.length})` : label);
      i = end;
    }
  };
  for (const comp of bySize) {
    if (comp.length > partMax) {
      const groups = new Map<string, number[]>();
      for (const i of comp) {
        const gname = input.nodes[i].group ?? "";
        let list = groups.get(gname);
        if (!list) groups.set(gname, (list = []));
        list.push(i);
      }
      if (groups.size > 1) {
        for (const [gname, members] of groups) {
          if (members.length > partMax) bands(members, gname);
          else {
            parts.push(members);
            labels.push(gname);
          }
        }
      } else bands(comp, [...groups.keys()][0] ?? "");
    } else {
      if (bin.length + comp.length > partMax) flushBin();
      bin.push(...comp);
    }
  }
  flushBin();
  return { parts, labels };
}

/** The sub-input of one part: its nodes and the edges inside it. */
export function partInput(input: LayoutInput, nodes: number[]): LayoutInput {
  const ids = new Set(nodes.map((i) => input.nodes[i].id));
  return {
    nodes: nodes.map((i) => input.nodes[i]),
    edges: input.edges.filter((e) => ids.has(e.from) && ids.has(e.to)),
    rankdir: input.rankdir,
  };
}

const PART_PAD = 24;
const PART_LABEL = 22;
const PART_GAP = 70;

/** Places laid-out parts with dagre over the graph of parts and joins everything into one result. */
export function assemble(input: LayoutInput, p: Partition, results: LayoutResult[], t0: number): LayoutResult {
  const partOf = new Int32Array(input.nodes.length);
  p.parts.forEach((nodes, k) => nodes.forEach((i) => (partOf[i] = k)));
  const index = new Map<string, number>();
  input.nodes.forEach((node, i) => index.set(node.id, i));
  const meta: LayoutInput = {
    rankdir: input.rankdir,
    nodes: results.map((r, k) => ({ id: String(k), width: r.width + 2 * PART_PAD, height: r.height + 2 * PART_PAD + PART_LABEL })),
    edges: [],
  };
  const metaEdges = new Set<string>();
  for (const e of input.edges) {
    const a = index.get(e.from);
    const b = index.get(e.to);
    if (a === undefined || b === undefined) continue;
    const pa = partOf[a];
    const pb = partOf[b];
    if (pa !== pb && !metaEdges.has(`${pa}>${pb}`) && !metaEdges.has(`${pb}>${pa}`)) {
      metaEdges.add(`${pa}>${pb}`);
      meta.edges.push({ from: String(pa), to: String(pb) });
    }
  }
  // The graph of parts is dense (every group reads from many others) and each long edge costs
  // dagre a chain of dummy nodes; its transitive reduction ranks the parts the same way.
  meta.edges = transitiveReduction(meta.nodes.length, meta.edges);
  const placed = layoutSingle(meta, true);
  // dagre orders the parts by their dependencies; a chain of groups would make a strip dozens of
  // screens long, so the parts are then packed in that order into rows of a readable width
  // (reading order follows the data flow: left to right, then the next row).
  const along = input.rankdir === "LR" ? 0 : 1;
  const order = results.map((_, k) => k).sort((a, b) => placed.positions[2 * a + along] - placed.positions[2 * b + along] || placed.positions[2 * a + 1 - along] - placed.positions[2 * b + 1 - along]);
  const area = meta.nodes.reduce((sum, m) => sum + (m.width + PART_GAP) * (m.height + PART_GAP), 0);
  const rowWidth = Math.max(...meta.nodes.map((m) => m.width), Math.sqrt(area * 1.6));
  const box = new Array<{ left: number; top: number }>(results.length);
  let cx = 0;
  let cy = 0;
  let rowH = 0;
  for (const k of order) {
    const m = meta.nodes[k];
    if (cx > 0 && cx + m.width > rowWidth) {
      cx = 0;
      cy += rowH + PART_GAP;
      rowH = 0;
    }
    box[k] = { left: cx, top: cy };
    cx += m.width + PART_GAP;
    rowH = Math.max(rowH, m.height);
  }
  let totalW = 0;
  for (const k of order) totalW = Math.max(totalW, box[k].left + meta.nodes[k].width);
  const totalH = cy + rowH;
  const positions = new Array<number>(input.nodes.length * 2).fill(0);
  const parts: LayoutResult["parts"] = [];
  results.forEach((r, k) => {
    const w = meta.nodes[k].width;
    const h = meta.nodes[k].height;
    const left = box[k].left;
    const top = box[k].top;
    parts.push({ x: left, y: top, width: w, height: h, label: p.labels[k] });
    const dx = left + PART_PAD;
    const dy = top + PART_PAD + PART_LABEL;
    p.parts[k].forEach((i, j) => {
      positions[2 * i] = r.positions[2 * j] + dx;
      positions[2 * i + 1] = r.positions[2 * j + 1] + dy;
    });
    (r as LayoutResult & { offset?: [number, number] }).offset = [dx, dy];
  });
  // Edges: inside a part, the part's routed points (shifted); between parts, a direct segment
  // from the source's side to the target's side (drawn as a curve).
  const partEdgeIndex = results.map(() => new Map<string, number>());
  results.forEach((_, k) => {
    const sub = partInput(input, p.parts[k]);
    sub.edges.forEach((e, j) => partEdgeIndex[k].set(`${e.from}>${e.to}`, j));
  });
  const cross: number[] = [];
  const edges = input.edges.map((e, ei) => {
    const a = index.get(e.from);
    const b = index.get(e.to);
    if (a === undefined || b === undefined || a === b) return [];
    const pa = partOf[a];
    const pb = partOf[b];
    if (pa === pb) {
      const j = partEdgeIndex[pa].get(`${e.from}>${e.to}`);
      const pts = j === undefined ? [] : results[pa].edges[j];
      const [dx, dy] = (results[pa] as LayoutResult & { offset?: [number, number] }).offset ?? [0, 0];
      return pts.map((v, q) => v + (q % 2 === 0 ? dx : dy));
    }
    cross.push(ei);
    const na = input.nodes[a];
    const nb = input.nodes[b];
    if (input.rankdir === "LR") return [positions[2 * a] + na.width / 2, positions[2 * a + 1], positions[2 * b] - nb.width / 2, positions[2 * b + 1]];
    return [positions[2 * a], positions[2 * a + 1] + na.height / 2, positions[2 * b], positions[2 * b + 1] - nb.height / 2];
  });
  return { width: totalW, height: totalH, positions, edges, cross, parts, mode: "partitioned", ms: now() - t0 };
}

/** Drops every edge a→c for which another path a→…→c exists (small graphs: the graph of parts). */
export function transitiveReduction(n: number, edges: { from: string; to: string }[]): { from: string; to: string }[] {
  const succ: number[][] = Array.from({ length: n }, () => []);
  for (const e of edges) succ[Number(e.from)].push(Number(e.to));
  const reachableAvoiding = (a: number, c: number): boolean => {
    const seen = new Uint8Array(n);
    const stack = succ[a].filter((x) => x !== c);
    for (const x of stack) seen[x] = 1;
    while (stack.length) {
      const v = stack.pop()!;
      if (v === c) return true;
      for (const w of succ[v]) {
        if (!seen[w] && !(v === a && w === c)) {
          seen[w] = 1;
          stack.push(w);
        }
      }
    }
    return false;
  };
  return edges.filter((e) => !reachableAvoiding(Number(e.from), Number(e.to)));
}

/** Lays out any graph on this thread (the worker's and the fallback's entry point). */
export function layoutAll(input: LayoutInput): LayoutResult {
  const t0 = now();
  if (input.nodes.length <= SINGLE_MAX) return layoutSingle(input);
  const p = partition(input);
  const results = p.parts.map((nodes) => layoutSingle(partInput(input, nodes), true));
  return assemble(input, p, results, t0);
}
