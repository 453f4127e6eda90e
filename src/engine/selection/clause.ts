// The legacy clause grammar and its resolution against a dependency graph
// (Dagster `_core/selector/subset_selector.py`; reference §1.1-1.2).

import { pyStrip } from "./pytext";

/** A graph node; `upstream` names the sibling nodes feeding any of its inputs. */
export interface SelectableNode { name: string; upstream: string[]; children?: SelectableNode[] }
export interface SelectableGraph { nodes: SelectableNode[] }
export interface DepGraph { upstream: Map<string, Set<string>>; downstream: Map<string, Set<string>> }
/** Traversal depths: 0 = none, n = n levels, Infinity for `*`. */
export interface Clause { up: number; name: string; down: number }

/** Both directions over the given nodes; every node is a key of both maps even with no edges. */
export function depGraph(nodes: SelectableNode[]): DepGraph {
  const upstream = new Map<string, Set<string>>();
  const downstream = new Map<string, Set<string>>();
  for (const n of nodes) {
    upstream.set(n.name, new Set());
    downstream.set(n.name, new Set());
  }
  for (const n of nodes) {
    for (const u of n.upstream) {
      // Edges to names outside the graph are dropped so a traversal can only reach real nodes.
      if (!upstream.has(u)) continue;
      upstream.get(n.name)!.add(u);
      downstream.get(u)!.add(n.name);
    }
  }
  return { upstream, downstream };
}

// `[*]? +* NAME +* [*]?`, anchored. NAME is Python's Unicode \w (letters, numbers, `_`) plus
// `. / [ ] ? -`; `*` and `+` cannot occur in it, so the split into parts is unambiguous.
const CLAUSE_RE = /^(\*?\+*)([\p{L}\p{N}_./[\]?-]+)(\+*\*?)$/u;

function depth(part: string): number {
  return part.includes("*") ? Infinity : part.length; // `*++` = unlimited: the star dominates
}

/** Parses one trimmed clause; null when it does not match (Dagster returns None, never throws). */
export function parseClause(clause: string): Clause | null {
  const m = CLAUSE_RE.exec(pyStrip(clause));
  return m ? { up: depth(m[1]), name: m[2], down: depth(m[3]) } : null;
}

/** Level-by-level BFS from `start`, `depth` hops at most; `start` itself is never added. */
export function traverse(g: DepGraph, start: string, depth: number, direction: "up" | "down"): Set<string> {
  const edges = direction === "up" ? g.upstream : g.downstream;
  const result = new Set<string>();
  let frontier = [start];
  for (let level = 0; level < depth && frontier.length > 0; level++) {
    const next: string[] = [];
    for (const node of frontier) {
      for (const n of edges.get(node) ?? []) {
        if (!result.has(n)) {
          result.add(n);
          next.push(n);
        }
      }
    }
    frontier = next;
  }
  return result;
}

/** The nodes one clause selects; empty when it does not parse or names no node of the graph. */
export function clauseToSubset(g: DepGraph, clause: string, toItem: (name: string) => string = (n) => n): Set<string> {
  const parsed = parseClause(clause);
  if (!parsed) return new Set();
  const item = toItem(parsed.name);
  if (!g.upstream.has(item)) return new Set();
  return new Set([item, ...traverse(g, item, parsed.up, "up"), ...traverse(g, item, parsed.down, "down")]);
}
