// Selection: Dagster's legacy clause syntax (shared/reference/dagster-semantics.md §1.1-1.5).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import {
  clauseToSubset,
  depGraph,
  parseClause,
  previewOpSelection,
  resolveAssetSelection,
  resolveOpSelection,
  resolveStepSelection,
  SelectionError,
  splitCliSelection,
  traverse,
  type SelectableGraph,
  type SelectableNode,
} from "../../src/engine/selection";

const node = (name: string, ...upstream: string[]): SelectableNode => ({ name, upstream });
const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

/** Asserts a SelectionError with this code and exact message. */
function throwsSelection(fn: () => unknown, code: SelectionError["code"], message: string, clauses?: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SelectionError, `not a SelectionError: ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    if (clauses) assert.deepEqual(e.clauses, clauses);
    return true;
  });
}

// G1 (foo_job): return_one → add_nums ← return_two; add_nums → multiply_two → add_one.
const G1: SelectableGraph = {
  nodes: [
    node("return_one"),
    node("return_two"),
    node("add_nums", "return_one", "return_two"),
    node("multiply_two", "add_nums"),
    node("add_one", "multiply_two"),
  ],
};
const G1_STEPS = new Map(G1.nodes.map((n) => [n.name, n.upstream]));

// G2 (abstract graph of test_clause_to_subset).
const G2 = depGraph([
  node("start"),
  node("a", "start"),
  node("b"),
  node("c", "b"),
  node("d", "a", "b"),
  node("e", "c"),
  node("f", "e", "d"),
  node("final", "a", "d"),
]);

describe("parseClause (§1.1)", () => {
  const cases: [string, [number, string, number] | null][] = [
    ["some_solid", [0, "some_solid", 0]],
    ["*some_solid", [Infinity, "some_solid", 0]],
    ["some_solid+", [0, "some_solid", 1]],
    ["+some_solid+", [1, "some_solid", 1]],
    ["*some_solid++", [Infinity, "some_solid", 2]],
    ["*++name", [Infinity, "name", 0]],
    ["name++*", [0, "name", Infinity]],
    ["++name+++", [2, "name", 3]],
    ["  *name+  ", [Infinity, "name", 1]],
    ["op[?]", [0, "op[?]", 0]],
    ["op[key_1]+", [0, "op[key_1]", 1]],
    ["my-op", [0, "my-op", 0]],
    ["a/b/c*", [0, "a/b/c", Infinity]],
    ["sub.op", [0, "sub.op", 0]],
    ["données_é", [0, "données_é", 0]],
    ["+*name", null],
    ["*name*+", null],
    ["**name", null],
    ["1+some_solid", null],
    ["", null],
    ["   ", null],
    ["*", null],
    ["+", null],
    ["some,solid", null],
    ["return_one,return_two", null],
    ["a b", null],
    ["'a'", null],
    ['"a"', null],
    ["a*b", null],
    ["a+b", null],
    ["a:b", null],
  ];
  for (const [input, expected] of cases) {
    test(JSON.stringify(input), () => {
      const got = parseClause(input);
      assert.deepEqual(got && [got.up, got.name, got.down], expected);
    });
  }
  test("strips Python whitespace, not JS whitespace", () => {
    assert.equal(parseClause("\x1cname\x85")?.name, "name"); // str.strip() removes these
    assert.equal(parseClause("\ufeffname"), null); // but keeps U+FEFF
  });
});

describe("G1 dependency graph and traversal (§1.5)", () => {
  const g = depGraph(G1.nodes);
  test("upstream and downstream maps, every node a key of both", () => {
    const asObj = (m: Map<string, Set<string>>) => Object.fromEntries([...m].map(([k, v]) => [k, sorted(v)]));
    assert.deepEqual(asObj(g.upstream), {
      return_one: [],
      return_two: [],
      add_nums: ["return_one", "return_two"],
      multiply_two: ["add_nums"],
      add_one: ["multiply_two"],
    });
    assert.deepEqual(asObj(g.downstream), {
      return_one: ["add_nums"],
      return_two: ["add_nums"],
      add_nums: ["multiply_two"],
      multiply_two: ["add_one"],
      add_one: [],
    });
  });
  test("traversals", () => {
    assert.deepEqual(sorted(traverse(g, "return_one", 1, "up")), []);
    assert.deepEqual(sorted(traverse(g, "return_one", 1, "down")), ["add_nums"]);
    assert.deepEqual(sorted(traverse(g, "multiply_two", 0, "up")), []);
    assert.deepEqual(sorted(traverse(g, "multiply_two", 2, "up")), ["add_nums", "return_one", "return_two"]);
    assert.deepEqual(sorted(traverse(g, "multiply_two", 2, "down")), ["add_one"]);
    assert.deepEqual(sorted(traverse(g, "some_unknown", 3, "up")), []); // no error at this level
  });
  test("depth semantics: level by level, start excluded, Infinity = all", () => {
    assert.deepEqual(sorted(traverse(g, "add_one", 1, "up")), ["multiply_two"]);
    assert.deepEqual(sorted(traverse(g, "add_one", 2, "up")), ["add_nums", "multiply_two"]);
    assert.deepEqual(sorted(traverse(g, "add_one", Infinity, "up")), ["add_nums", "multiply_two", "return_one", "return_two"]);
    assert.deepEqual(sorted(traverse(g, "return_one", Infinity, "down")), ["add_nums", "add_one", "multiply_two"]);
    assert.deepEqual(sorted(traverse(g, "return_one", 99, "down")), ["add_nums", "add_one", "multiply_two"]);
  });
  test("edges to unknown names are dropped", () => {
    const h = depGraph([node("x", "ghost")]);
    assert.deepEqual(sorted(h.upstream.get("x")!), []);
    assert.equal(h.downstream.has("ghost"), false);
  });
  test("a cycle terminates; the start can then be re-added (as in Dagster)", () => {
    const h = depGraph([node("p", "q"), node("q", "p")]);
    assert.deepEqual(sorted(traverse(h, "p", Infinity, "down")), ["p", "q"]);
  });
});

describe("G2 clause_to_subset (§1.5)", () => {
  const cases: [string, string[]][] = [
    ["a", ["a"]],
    ["b+", ["b", "c", "d"]],
    ["+f", ["f", "d", "e"]],
    ["++f", ["f", "d", "e", "c", "a", "b"]],
    ["+++final", ["final", "a", "d", "start", "b"]],
    ["b++", ["b", "c", "d", "e", "f", "final"]],
    ["start*", ["start", "a", "d", "f", "final"]],
  ];
  for (const [clause, expected] of cases) {
    test(clause, () => assert.deepEqual(sorted(clauseToSubset(G2, clause)), sorted(expected)));
  }
  test("no parse or unknown item → empty", () => {
    assert.equal(clauseToSubset(G2, "1+a").size, 0);
    assert.equal(clauseToSubset(G2, "zzz+").size, 0);
  });
  test("toItem maps the parsed name before lookup", () => {
    assert.deepEqual(sorted(clauseToSubset(G2, "B+", (n) => n.toLowerCase())), ["b", "c", "d"]);
  });
});

describe("op selection on G1 (§1.5)", () => {
  const cases: [string[], string[]][] = [
    [["add_nums"], ["add_nums"]],
    [["add_nums*"], ["add_nums", "multiply_two", "add_one"]],
    [["*add_nums+"], ["return_one", "return_two", "add_nums", "multiply_two"]],
    [["return_one", "add_nums+"], ["return_one", "add_nums", "multiply_two"]],
    [["*add_nums", "return_one+"], ["return_one", "return_two", "add_nums"]],
    // the clause sets of the execution cases
    [["add_nums++"], ["add_nums", "multiply_two", "add_one"]],
    [["return_one", "return_two", "add_nums+"], ["return_one", "return_two", "add_nums", "multiply_two"]],
    [["return_one++", "add_nums+", "return_two"], ["return_one", "return_two", "add_nums", "multiply_two"]],
    [["*"], ["return_one", "return_two", "add_nums", "multiply_two", "add_one"]],
    [["add_one", "return_one"], ["return_one", "add_one"]], // graph order, not clause order
    [[], []],
  ];
  for (const [clauses, expected] of cases) {
    test(JSON.stringify(clauses), () => assert.deepEqual(resolveOpSelection(G1, clauses), expected));
  }
  test("one unknown clause fails the whole list; message prints the list as Python repr", () => {
    throwsSelection(
      () => resolveOpSelection(G1, ["*add_nums", "a"]),
      "INVALID_SUBSET",
      "No qualified ops to execute found for op_selection=['*add_nums', 'a']",
      ["a"],
    );
  });
  test("commas are not separators at this layer", () => {
    throwsSelection(() => resolveOpSelection(G1, ["some,solid"]), "INVALID_SUBSET", "No qualified ops to execute found for op_selection=['some,solid']");
    throwsSelection(
      () => resolveOpSelection(G1, ["return_one,return_two"]),
      "INVALID_SUBSET",
      "No qualified ops to execute found for op_selection=['return_one,return_two']",
    );
  });
  test('"*" among several clauses, and the empty clause, are errors', () => {
    throwsSelection(() => resolveOpSelection(G1, ["*", "add_one"]), "INVALID_SUBSET", "No qualified ops to execute found for op_selection=['*', 'add_one']", ["*"]);
    throwsSelection(() => resolveOpSelection(G1, [""]), "INVALID_SUBSET", "No qualified ops to execute found for op_selection=['']");
  });
  test("repr quoting and escapes follow Python", () => {
    throwsSelection(() => resolveOpSelection(G1, ["it's"]), "INVALID_SUBSET", `No qualified ops to execute found for op_selection=["it's"]`);
    throwsSelection(() => resolveOpSelection(G1, [`'"`]), "INVALID_SUBSET", `No qualified ops to execute found for op_selection=['\\'"']`);
    throwsSelection(() => resolveOpSelection(G1, ["a\\b\n\x01é"]), "INVALID_SUBSET", `No qualified ops to execute found for op_selection=['a\\\\b\\n\\x01é']`);
  });
});

describe("step selection on G1 (§1.5)", () => {
  const cases: [string[], string[]][] = [
    [["add_nums"], ["add_nums"]],
    [["add_nums*"], ["add_nums", "multiply_two", "add_one"]],
    [["*add_nums+"], ["return_one", "return_two", "add_nums", "multiply_two"]],
    [["return_one", "add_nums+"], ["return_one", "add_nums", "multiply_two"]],
    [["*add_nums", "return_one+"], ["return_one", "return_two", "add_nums"]],
  ];
  for (const [clauses, expected] of cases) {
    test(JSON.stringify(clauses), () => assert.deepEqual(resolveStepSelection(G1_STEPS, clauses), expected));
  }
  test("unknown step names are reported by name", () => {
    throwsSelection(() => resolveStepSelection(G1_STEPS, ["*add_nums", "a"]), "STEP_NOT_FOUND", "Step selection refers to unknown step: a", ["a"]);
    throwsSelection(() => resolveStepSelection(G1_STEPS, ["a+", "*b"]), "STEP_NOT_FOUND", "Step selection refers to unknown steps: a, b", ["a", "b"]);
  });
  test("a clause that does not parse", () => {
    throwsSelection(
      () => resolveStepSelection(G1_STEPS, ["1+some_solid"]),
      "INVALID_SUBSET",
      "No qualified steps to execute found for step_selection=['1+some_solid']",
      ["1+some_solid"],
    );
  });
  test("step keys may contain dots and brackets (nested and mapped steps)", () => {
    const deps = new Map([["sub.emit", []], ["work[?]", ["sub.emit"]], ["done", ["work[?]"]]]);
    assert.deepEqual(resolveStepSelection(deps, ["sub.emit+"]), ["sub.emit", "work[?]"]);
    assert.deepEqual(resolveStepSelection(deps, ["*done"]), ["sub.emit", "work[?]", "done"]);
  });
});

describe("op selection on G3 (test_op_selection.py)", () => {
  // do_it_all: return_one, return_two → adder → add_one
  const doItAll: SelectableNode[] = [node("return_one"), node("return_two"), node("adder", "return_one", "return_two"), node("add_one", "adder")];
  const G3: SelectableGraph = { nodes: doItAll };
  test('["*adder"] → 3 nodes, not add_one', () => {
    assert.deepEqual(resolveOpSelection(G3, ["*adder"]), ["return_one", "return_two", "adder"]);
  });
  test('["*"] → all 4; within a subset, "*" means all of the subset', () => {
    assert.deepEqual(resolveOpSelection(G3, ["*"]).length, 4);
    const subsetNames = new Set(resolveOpSelection(G3, ["*adder"]));
    const subset: SelectableGraph = { nodes: doItAll.filter((n) => subsetNames.has(n.name)) };
    assert.deepEqual(resolveOpSelection(subset, ["*"]), ["return_one", "return_two", "adder"]);
  });
  test("disconnected selection", () => {
    assert.deepEqual(resolveOpSelection(G3, ["return_two", "add_one"]), ["return_two", "add_one"]);
  });
  test("implicit aliases are distinct node names", () => {
    const aliased: SelectableGraph = { nodes: [node("return_one"), node("return_one_2"), node("adder", "return_one", "return_one_2")] };
    assert.deepEqual(resolveOpSelection(aliased, ["return_one_2*"]), ["return_one_2", "adder"]);
    assert.deepEqual(resolveOpSelection(aliased, ["return_one"]), ["return_one"]);
  });

  // supergraph = add_one(subgraph()), subgraph = do_it_all
  const supergraph: SelectableGraph = { nodes: [{ name: "subgraph", upstream: [], children: doItAll }, node("add_one", "subgraph")] };
  test("a graph node selected by name is selected whole", () => {
    assert.deepEqual(resolveOpSelection(supergraph, ["subgraph"]), ["subgraph"]);
    assert.deepEqual(resolveOpSelection(supergraph, ["subgraph+"]), ["subgraph", "add_one"]);
  });
  test("dotted paths select nested nodes", () => {
    assert.deepEqual(resolveOpSelection(supergraph, ["subgraph.return_one"]), ["subgraph.return_one"]);
    assert.deepEqual(resolveOpSelection(supergraph, ["add_one", "subgraph.adder", "subgraph.return_one"]), ["subgraph.return_one", "subgraph.adder", "add_one"]);
    // whole wins over partial, whichever comes first
    assert.deepEqual(resolveOpSelection(supergraph, ["subgraph.adder", "subgraph"]), ["subgraph"]);
    assert.deepEqual(resolveOpSelection(supergraph, ["subgraph", "subgraph.adder"]), ["subgraph"]);
  });
  test("deeper nesting", () => {
    const deep: SelectableGraph = { nodes: [{ name: "outer", upstream: [], children: [{ name: "inner", upstream: [], children: [node("leaf")] }, node("other")] }] };
    assert.deepEqual(resolveOpSelection(deep, ["outer.inner.leaf"]), ["outer.inner.leaf"]);
    assert.deepEqual(resolveOpSelection(deep, ["outer.other", "outer.inner"]), ["outer.inner", "outer.other"]);
  });
  test("unknown path segment", () => {
    throwsSelection(() => resolveOpSelection(supergraph, ["subgraph.nope"]), "NODE_NOT_FOUND", "Node nope was selected, but no node named nope was found.", ["subgraph.nope"]);
    throwsSelection(() => resolveOpSelection(supergraph, ["ghost.return_one"]), "NODE_NOT_FOUND", "Node ghost was selected, but no node named ghost was found.");
  });
  test("children of a non-graph", () => {
    throwsSelection(
      () => resolveOpSelection(supergraph, ["add_one.x"]),
      "NOT_A_GRAPH",
      "Children of node add_one were selected, but add_one is not a graph.",
    );
    throwsSelection(() => resolveOpSelection(supergraph, ["subgraph.adder.deeper"]), "NOT_A_GRAPH", "Children of node adder were selected, but adder is not a graph.");
  });
  test("any dot makes every clause a literal path", () => {
    throwsSelection(() => resolveOpSelection(supergraph, ["*subgraph.return_one"]), "NODE_NOT_FOUND", "Node *subgraph was selected, but no node named *subgraph was found.");
    throwsSelection(() => resolveOpSelection(supergraph, ["subgraph.adder", "add_one+"]), "NODE_NOT_FOUND", "Node add_one+ was selected, but no node named add_one+ was found.");
    throwsSelection(() => resolveOpSelection(supergraph, ["subgraph.adder", "*"]), "NODE_NOT_FOUND", "Node * was selected, but no node named * was found.");
  });
  test('["subgraph.adder", "add_one"] resolves; its unsatisfied input is the subset builder\'s error', () => {
    assert.deepEqual(resolveOpSelection(supergraph, ["subgraph.adder", "add_one"]), ["subgraph.adder", "add_one"]);
  });
});

describe("asset selection (legacy strings)", () => {
  const assets = [
    { key: "raw/orders", upstream: [] },
    { key: "raw/customers", upstream: [] },
    { key: "orders_clean", upstream: ["raw/orders"] },
    { key: "report", upstream: ["orders_clean", "raw/customers"] },
  ];
  test('single "*" = all keys', () => {
    assert.deepEqual(resolveAssetSelection(assets, ["*"]), ["raw/orders", "raw/customers", "orders_clean", "report"]);
  });
  test("keys with / match as-is, traversal over asset deps", () => {
    assert.deepEqual(resolveAssetSelection(assets, ["raw/orders*"]), ["raw/orders", "orders_clean", "report"]);
    assert.deepEqual(resolveAssetSelection(assets, ["+report"]), ["raw/customers", "orders_clean", "report"]);
    assert.deepEqual(resolveAssetSelection(assets, ["raw/customers", "orders_clean"]), ["raw/customers", "orders_clean"]);
  });
  test("per-clause message names the failing clause", () => {
    throwsSelection(() => resolveAssetSelection(assets, ["report", "x"]), "INVALID_SUBSET", "No qualified assets to execute found for clause='x'", ["x"]);
    throwsSelection(() => resolveAssetSelection(assets, ["raw"]), "INVALID_SUBSET", "No qualified assets to execute found for clause='raw'");
    throwsSelection(() => resolveAssetSelection(assets, ["*", "report"]), "INVALID_SUBSET", "No qualified assets to execute found for clause='*'");
  });
});

describe("CLI splitting and preview", () => {
  test("split on commas, strip each, keep empty pieces", () => {
    assert.deepEqual(splitCliSelection("a, b++"), ["a", "b++"]);
    assert.deepEqual(splitCliSelection(" *add_nums ,return_one+ "), ["*add_nums", "return_one+"]);
    assert.deepEqual(splitCliSelection("a,,b"), ["a", "", "b"]);
    assert.deepEqual(splitCliSelection("a,"), ["a", ""]);
    assert.deepEqual(splitCliSelection("*"), ["*"]);
  });
  test("an empty piece fails the whole selection", () => {
    throwsSelection(() => resolveOpSelection(G1, splitCliSelection("add_nums,")), "INVALID_SUBSET", "No qualified ops to execute found for op_selection=['add_nums', '']");
  });
  test("preview resolves like a launch", () => {
    assert.deepEqual(previewOpSelection(G1, "return_one, add_nums+"), { ok: true, selected: ["return_one", "add_nums", "multiply_two"] });
    assert.deepEqual(previewOpSelection(G1, " * "), { ok: true, selected: G1.nodes.map((n) => n.name) });
    assert.deepEqual(previewOpSelection(G1, "*add_nums, a"), { ok: false, error: "No qualified ops to execute found for op_selection=['*add_nums', 'a']" });
    assert.deepEqual(previewOpSelection(G1, "return_one,"), { ok: false, error: "No qualified ops to execute found for op_selection=['return_one', '']" });
  });
  test("preview: empty text = no selection = whole job; whitespace only is an empty clause", () => {
    assert.deepEqual(previewOpSelection(G1, ""), { ok: true, selected: G1.nodes.map((n) => n.name) });
    assert.deepEqual(previewOpSelection(G1, "  "), { ok: false, error: "No qualified ops to execute found for op_selection=['']" });
  });
  test("preview of dotted paths", () => {
    const g: SelectableGraph = { nodes: [{ name: "sub", upstream: [], children: [node("x")] }] };
    assert.deepEqual(previewOpSelection(g, "sub.x"), { ok: true, selected: ["sub.x"] });
    assert.deepEqual(previewOpSelection(g, "sub.y"), { ok: false, error: "Node y was selected, but no node named y was found." });
  });
});
