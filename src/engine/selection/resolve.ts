// Selection entry points: op selection (Dagster `parse_op_queries` + `OpSelection` dotted paths),
// re-execution step selection (`parse_step_selection`) and legacy asset strings
// (`parse_asset_selection`). Reference §1.1-1.2; messages are Dagster's, verbatim.

import { clauseToSubset, depGraph, parseClause, type DepGraph, type SelectableGraph, type SelectableNode } from "./clause";
import { pyListRepr, pyStrip } from "./pytext";

export type SelectionErrorCode = "INVALID_SUBSET" | "STEP_NOT_FOUND" | "NODE_NOT_FOUND" | "NOT_A_GRAPH";

/** `clauses` are the clauses (or, for STEP_NOT_FOUND, the step names) at fault, for highlighting. */
export class SelectionError extends Error {
  override readonly name = "SelectionError";
  readonly code: SelectionErrorCode;
  readonly clauses: string[];
  constructor(code: SelectionErrorCode, message: string, clauses: string[]) {
    super(message);
    this.code = code;
    this.clauses = clauses;
  }
}

/** Union of every clause's subset, plus the clauses that selected nothing. */
function unionOfClauses(g: DepGraph, clauses: string[]): { selected: Set<string>; empty: string[] } {
  const selected = new Set<string>();
  const empty: string[] = [];
  for (const clause of clauses) {
    const subset = clauseToSubset(g, clause);
    if (subset.size === 0) empty.push(clause);
    for (const n of subset) selected.add(n);
  }
  return { selected, empty };
}

/**
 * Selected node paths in graph order. Top-level names normally; when any clause contains a `.`
 * every clause is a literal dotted node path (Dagster switches the whole list, so `*`/`+` lose
 * their meaning there) and a graph node named by its path is selected whole.
 */
export function resolveOpSelection(graph: SelectableGraph, clauses: string[]): string[] {
  if (clauses.some((c) => c.includes("."))) return resolveNodePaths(graph, clauses);
  // Exactly one untrimmed "*" short-circuits; among other clauses "*" does not parse (empty NAME).
  if (clauses.length === 1 && clauses[0] === "*") return graph.nodes.map((n) => n.name);
  const { selected, empty } = unionOfClauses(depGraph(graph.nodes), clauses);
  // One bad clause fails the whole selection, and the message prints the whole list.
  if (empty.length > 0) {
    throw new SelectionError("INVALID_SUBSET", `No qualified ops to execute found for op_selection=${pyListRepr(clauses)}`, empty);
  }
  return graph.nodes.map((n) => n.name).filter((n) => selected.has(n));
}

/** `true` = this node is selected whole; a map = only some of its (graph) children are. */
type PathTree = Map<string, PathTree | true>;

function resolveNodePaths(graph: SelectableGraph, clauses: string[]): string[] {
  const tree: PathTree = new Map();
  for (const clause of clauses) {
    const parts = clause.split(".");
    validatePath(graph.nodes, parts, clause);
    let level = tree;
    for (const [i, part] of parts.entries()) {
      const existing = level.get(part);
      // Whole beats partial in either order (Dagster's dict merge is order-dependent here).
      if (existing === true) break;
      if (i === parts.length - 1) {
        level.set(part, true);
        break;
      }
      const sub: PathTree = existing ?? new Map();
      level.set(part, sub);
      level = sub;
    }
  }
  const out: string[] = [];
  const emit = (nodes: SelectableNode[], level: PathTree, prefix: string): void => {
    for (const node of nodes) {
      const sel = level.get(node.name);
      if (sel === true) out.push(prefix + node.name);
      else if (sel) emit(node.children ?? [], sel, `${prefix}${node.name}.`);
    }
  };
  emit(graph.nodes, tree, "");
  return out;
}

/** Walks one dotted path level by level; paths are literal, so no trimming or clause syntax. */
function validatePath(nodes: SelectableNode[], parts: string[], clause: string): void {
  let siblings = nodes;
  for (const [i, part] of parts.entries()) {
    const node = siblings.find((n) => n.name === part);
    if (!node) {
      throw new SelectionError("NODE_NOT_FOUND", `Node ${part} was selected, but no node named ${part} was found.`, [clause]);
    }
    if (i < parts.length - 1 && node.children === undefined) {
      throw new SelectionError("NOT_A_GRAPH", `Children of node ${part} were selected, but ${part} is not a graph.`, [clause]);
    }
    siblings = node.children ?? [];
  }
}

/** Step keys in `stepDeps` order. Unlike op selection there is no `"*"` shortcut (as in Dagster). */
export function resolveStepSelection(stepDeps: Map<string, string[]>, clauses: string[]): string[] {
  // Unknown names are reported first, by name, for the clauses that do parse.
  const unknown = [...new Set(clauses.map(parseClause).flatMap((c) => (c && !stepDeps.has(c.name) ? [c.name] : [])))];
  if (unknown.length > 0) {
    const noun = unknown.length > 1 ? "steps" : "step";
    throw new SelectionError("STEP_NOT_FOUND", `Step selection refers to unknown ${noun}: ${unknown.join(", ")}`, unknown);
  }
  const g = depGraph([...stepDeps].map(([name, upstream]) => ({ name, upstream })));
  const { selected, empty } = unionOfClauses(g, clauses);
  if (empty.length > 0) {
    throw new SelectionError("INVALID_SUBSET", `No qualified steps to execute found for step_selection=${pyListRepr(clauses)}`, empty);
  }
  return [...stepDeps.keys()].filter((k) => selected.has(k));
}

/** Asset keys (parts joined by `/`, matched as-is) in input order; the message names the clause. */
export function resolveAssetSelection(assets: { key: string; upstream: string[] }[], clauses: string[]): string[] {
  if (clauses.length === 1 && clauses[0] === "*") return assets.map((a) => a.key);
  const { selected, empty } = unionOfClauses(depGraph(assets.map((a) => ({ name: a.key, upstream: a.upstream }))), clauses);
  if (empty.length > 0) {
    throw new SelectionError("INVALID_SUBSET", `No qualified assets to execute found for clause='${empty[0]}'`, empty);
  }
  return assets.map((a) => a.key).filter((k) => selected.has(k));
}

/** CLI `--op-selection "a, b++"`: split on `,` and strip each piece; empty pieces stay (and fail). */
export function splitCliSelection(text: string): string[] {
  return text.split(",").map(pyStrip);
}

/**
 * Live preview of a typed selection. Empty text means "no selection", i.e. the whole job, as the
 * CLI treats an empty `--op-selection`; anything else resolves exactly as a launch would.
 */
export function previewOpSelection(graph: SelectableGraph, text: string): { ok: true; selected: string[] } | { ok: false; error: string } {
  if (text === "") return { ok: true, selected: graph.nodes.map((n) => n.name) };
  try {
    return { ok: true, selected: resolveOpSelection(graph, splitCliSelection(text)) };
  } catch (e) {
    if (e instanceof SelectionError) return { ok: false, error: e.message };
    throw e;
  }
}
