// The graphs the panel draws, built from the definitions snapshot: a job's op graph (its top-level
// nodes) or the workspace asset graph; node status from the runs; selection through the engine's
// own Dagster-syntax resolver (src/engine/selection, pure and bundled here).
import { previewOpSelection, splitCliSelection } from "../../../src/engine/selection";
import type { AssetView, DefinitionsView, GraphNodeView, JobView, RunView, StepState, StepView } from "../../../src/protocol/webview";
import type { LayoutInput } from "./layoutCore";

export type NodeStatus = "materialized" | "succeeded" | "failed" | "running" | "waiting" | "stale" | "none";

export interface GraphNode {
  id: string;
  label: string;
  kind: "op" | "asset" | "graph";
  pool: string | null;
  tags: Record<string, string>;
  group?: string;
  description?: string;
  width: number;
  height: number;
  /** Step keys of this node (several for a graph asset / graph node). */
  steps: string[];
  asset?: AssetView;
  step?: StepView;
  children?: GraphNodeView[];
}

export interface GraphModel {
  /** "assets" or "job:<name>" */
  key: string;
  title: string;
  /** Job to launch a selection with. */
  launchJob: string | null;
  nodes: GraphNode[];
  edges: { from: string; to: string }[];
  index: Map<string, number>;
  /** For the selection resolver. */
  selectable: { nodes: GraphNodeView[] };
}

export const NODE_HEIGHT = 62;
const CHAR_W = 7.4;

export function nodeWidth(label: string): number {
  return Math.round(Math.max(150, Math.min(300, 34 + label.length * CHAR_W)));
}

export function assetGraph(defs: DefinitionsView): GraphModel {
  const byKey = new Map(defs.assets.map((a) => [a.key, a]));
  const seen = new Map<string, GraphNode>();
  for (const a of defs.assets) {
    const existing = seen.get(a.node);
    if (existing) {
      existing.steps.push(a.outputStep);
      continue;
    }
    seen.set(a.node, {
      id: a.node,
      label: a.kind === "graphAsset" ? a.node : a.key,
      kind: a.kind === "graphAsset" ? "graph" : "asset",
      pool: a.pool,
      tags: a.tags,
      group: a.group,
      description: a.description,
      width: nodeWidth(a.kind === "graphAsset" ? a.node : a.key),
      height: NODE_HEIGHT,
      steps: [a.outputStep],
      asset: a,
    });
  }
  const nodes = [...seen.values()];
  const edgeSet = new Set<string>();
  const edges: { from: string; to: string }[] = [];
  const upstream = new Map<string, string[]>();
  for (const a of defs.assets) {
    for (const d of a.deps) {
      const from = byKey.get(d)?.node;
      if (!from || from === a.node) continue;
      const k = `${from}>${a.node}`;
      if (edgeSet.has(k)) continue;
      edgeSet.add(k);
      edges.push({ from, to: a.node });
      const list = upstream.get(a.node) ?? [];
      list.push(from);
      upstream.set(a.node, list);
    }
  }
  return {
    key: "assets",
    title: "Asset graph",
    launchJob: defs.assetJobName,
    nodes,
    edges,
    index: new Map(nodes.map((n, i) => [n.id, i])),
    selectable: { nodes: nodes.map((n) => ({ name: n.id, upstream: upstream.get(n.id) ?? [] })) },
  };
}

export function jobGraph(job: JobView): GraphModel {
  const stepsByNode = new Map<string, StepView[]>();
  for (const s of job.steps) {
    const list = stepsByNode.get(s.node) ?? [];
    list.push(s);
    stepsByNode.set(s.node, list);
  }
  const nodes: GraphNode[] = job.nodes.map((n) => {
    const steps = stepsByNode.get(n.name) ?? [];
    const single = steps.length === 1 && steps[0].key === n.name ? steps[0] : undefined;
    const pools = [...new Set(steps.map((s) => s.pool).filter((p): p is string => !!p))];
    return {
      id: n.name,
      label: n.name,
      kind: n.children ? "graph" : "op",
      pool: single?.pool ?? (pools.length ? pools.join(", ") : null),
      tags: single?.tags ?? {},
      description: single?.description ?? steps[0]?.description,
      width: nodeWidth(n.name),
      height: NODE_HEIGHT,
      steps: steps.map((s) => s.key),
      step: single ?? steps[0],
      children: n.children,
    };
  });
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const edges: { from: string; to: string }[] = [];
  for (const n of job.nodes) for (const u of new Set(n.upstream)) if (index.has(u) && u !== n.name) edges.push({ from: u, to: n.name });
  return { key: `job:${job.name}`, title: job.name, launchJob: job.name, nodes, edges, index, selectable: { nodes: job.nodes } };
}

export function layoutInputOf(g: GraphModel, rankdir: "LR" | "TB" = "LR"): LayoutInput {
  return { nodes: g.nodes.map((n) => ({ id: n.id, width: n.width, height: n.height, group: n.group })), edges: g.edges, rankdir };
}

// ---------------------------------------------------------------------------------------------
// status

export interface NodeRunInfo {
  status: NodeStatus;
  runId?: string;
  at?: number;
}

function stepToStatus(s: StepState | undefined): NodeStatus | undefined {
  switch (s) {
    case "running":
    case "retrying":
      return "running";
    case "waiting":
      return "waiting";
    case "succeeded":
      return "succeeded";
    case "failed":
      return "failed";
    default:
      return undefined;
  }
}

/** Latest status of every node: the newest run that touched it decides. Assets: stale when an upstream asset was materialised after it. */
export function nodeStatuses(g: GraphModel, runs: readonly RunView[]): Map<string, NodeRunInfo> {
  const out = new Map<string, NodeRunInfo>();
  const isAssets = g.key === "assets";
  const jobName = g.key.startsWith("job:") ? g.key.slice(4) : undefined;
  const stepToNode = new Map<string, string>();
  for (const n of g.nodes) for (const s of n.steps) stepToNode.set(s, n.id);
  const assetToNode = new Map<string, string>();
  if (isAssets) for (const n of g.nodes) if (n.asset) assetToNode.set(n.asset.key, n.id);
  // newest first (runs arrive newest first; sort to be safe)
  const sorted = [...runs].sort((a, b) => b.createTime - a.createTime);
  for (const r of sorted) {
    if (!isAssets && r.jobName !== jobName) continue;
    const at = r.endTime ?? r.startTime ?? r.createTime;
    if (isAssets) {
      for (const key of r.materialized ?? []) {
        const id = assetToNode.get(key);
        if (id && !out.has(id)) out.set(id, { status: "materialized", runId: r.runId, at });
      }
      for (const key of r.failedAssets ?? []) {
        const id = assetToNode.get(key);
        if (id && !out.has(id)) out.set(id, { status: "failed", runId: r.runId, at });
      }
    }
    for (const [step, state] of Object.entries(r.steps ?? {})) {
      const id = stepToNode.get(step);
      if (!id || out.has(id)) continue;
      const st = stepToStatus(state);
      if (!st) continue;
      // An asset whose step succeeded is materialised (the ASSET_MATERIALIZATION may be pending).
      out.set(id, { status: isAssets && st === "succeeded" ? "materialized" : st, runId: r.runId, at });
    }
  }
  if (isAssets) {
    // stale: materialised before one of its upstream assets was (Dagster's "upstream changed").
    const up = new Map(g.selectable.nodes.map((n) => [n.name, n.upstream]));
    for (const n of g.nodes) {
      const mine = out.get(n.id);
      if (!mine || mine.status !== "materialized" || mine.at === undefined) continue;
      for (const u of up.get(n.id) ?? []) {
        const theirs = out.get(u);
        if (theirs?.status === "materialized" && theirs.at !== undefined && theirs.at > mine.at) {
          out.set(n.id, { ...mine, status: "stale" });
          break;
        }
      }
    }
  }
  return out;
}

/** Runs that touched a node, newest first. */
export function runsOfNode(g: GraphModel, node: GraphNode, runs: readonly RunView[], limit = 8): { run: RunView; state?: StepState }[] {
  const out: { run: RunView; state?: StepState }[] = [];
  const jobName = g.key.startsWith("job:") ? g.key.slice(4) : undefined;
  for (const r of runs) {
    if (jobName && r.jobName !== jobName) continue;
    const state = node.steps.map((s) => r.steps?.[s]).find((x) => x !== undefined);
    const touched = state !== undefined || (node.asset && (r.materialized?.includes(node.asset.key) || r.assetSelection?.includes(node.asset.key))) || (jobName && !r.steps && (!r.stepKeysToExecute || node.steps.some((s) => r.stepKeysToExecute!.includes(s))));
    if (!touched) continue;
    out.push({ run: r, state });
    if (out.length >= limit) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// selection

export type SelectionPreview = { ok: true; empty: boolean; selected: Set<string>; clauses: string[] } | { ok: false; error: string };

export function previewSelection(g: GraphModel, text: string): SelectionPreview {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: true, empty: true, selected: new Set(g.nodes.map((n) => n.id)), clauses: [] };
  const r = previewOpSelection(g.selectable, trimmed);
  if (!r.ok) return { ok: false, error: r.error };
  return { ok: true, empty: false, selected: new Set(r.selected.map((s) => s.split(".")[0])), clauses: splitCliSelection(trimmed) };
}
