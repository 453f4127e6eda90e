import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  instanceJsonSchema, nodeAt, parseYaml, rangeOf, runConfigJsonSchema, suggest, validateInstanceConfig, validateInstanceYaml,
  validateRunConfig, validateRunConfigObject,
} from "../../src/engine/config";
import { GENERATED, render } from "../../schemas/generate";
import { fixtureFiles, testJob } from "../fixtures/config/helpers";

const TEXT = [
  "concurrency:",                   // 1
  "  runs:",                        // 2
  "    max_concurrent_runs: 5",     // 3
  "    tag_concurrency_limits:",    // 4
  "      - key: db",                // 5
  "        limit: 1",               // 6
  "  pools:",                       // 7
  "    granularity: ",              // 8
  "    ",                           // 9
  "run_monitoring:",                // 10
  "  enabled: true",                // 11
  "",
].join("\n");
const at = (line: number, col: number) => TEXT.split("\n").slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0) + col - 1;

test("nodeAt: keys, values, list items, an empty value, a key being typed", () => {
  const p = parseYaml(TEXT, "sluice.yaml");
  assert.deepEqual(nodeAt(p, at(3, 7)), { path: ["concurrency", "runs", "max_concurrent_runs"], on: "key", range: [at(3, 5), at(3, 24)] });
  assert.deepEqual(nodeAt(p, at(3, 26))?.path, ["concurrency", "runs", "max_concurrent_runs"]);
  assert.equal(nodeAt(p, at(3, 26))?.on, "value");
  assert.deepEqual(nodeAt(p, at(5, 11)), { path: ["concurrency", "runs", "tag_concurrency_limits", 0, "key"], on: "key", range: [at(5, 9), at(5, 12)] });
  assert.deepEqual(nodeAt(p, at(6, 16))?.path, ["concurrency", "runs", "tag_concurrency_limits", 0, "limit"]);
  assert.deepEqual(nodeAt(p, at(8, 18)), { path: ["concurrency", "pools", "granularity"], on: "value", range: [at(8, 18), at(8, 18)] });
  assert.deepEqual(nodeAt(p, at(9, 5)), { path: ["concurrency", "pools", ""], on: "key", range: [at(9, 5), at(9, 5)] });
  assert.deepEqual(nodeAt(p, at(11, 5)), { path: ["run_monitoring", "enabled"], on: "key", range: [at(11, 3), at(11, 10)] });
  const blank = parseYaml("run_retries:\n  enabled: true\nrun", "sluice.yaml");
  assert.deepEqual(nodeAt(blank, blank.text.length)?.path, ["run"]);
});

test("rangeOf: value, key, missing paths fall back to the nearest ancestor", () => {
  const p = parseYaml(TEXT, "sluice.yaml");
  assert.deepEqual(rangeOf(p, ["concurrency", "runs", "max_concurrent_runs"]), [at(3, 26), at(3, 27)]);
  assert.deepEqual(rangeOf(p, ["concurrency", "runs", "max_concurrent_runs"], "key"), [at(3, 5), at(3, 24)]);
  assert.deepEqual(rangeOf(p, ["concurrency", "pools", "granularity"]), [at(8, 5), at(8, 16)]);
  assert.deepEqual(rangeOf(p, ["concurrency", "pools", "default_limit"]), [at(7, 3), at(7, 8)]);
  assert.deepEqual(rangeOf(p, ["nope", "deeper"]), [0, TEXT.length]);
});

test("suggest: typos, camelCase, hyphens; nothing when far", () => {
  assert.equal(suggest("max_concurent_runs", ["max_concurrent_runs", "tag_concurrency_limits"]), "max_concurrent_runs");
  assert.equal(suggest("maxConcurrentRuns", ["max_concurrent_runs"]), "max_concurrent_runs");
  assert.equal(suggest("run-queue", ["run_queue", "run_retries"]), "run_queue");
  assert.equal(suggest("zzz", ["max_concurrent_runs"]), undefined);
  assert.equal(suggest("a", []), undefined);
});

test("the generated JSON Schemas are up to date (run `node --import tsx schemas/generate.ts`)", () => {
  for (const [name, make] of Object.entries(GENERATED)) {
    assert.equal(readFileSync(join(__dirname, "../../schemas", name), "utf8"), render(make()), `schemas/${name} is stale`);
  }
});

test("the JSON Schema carries descriptions, defaults and strictness", () => {
  const s = instanceJsonSchema() as any;
  const mcr = s.properties.concurrency.properties.runs.properties.max_concurrent_runs;
  assert.equal(mcr.default, 10);
  assert.equal(mcr.minimum, -1);
  assert.match(mcr.description, /-1 = unlimited/);
  assert.equal(s.additionalProperties, false);
  assert.deepEqual(s.properties.concurrency.properties.pools.properties.granularity.enum, ["op", "run"]);
  const r = runConfigJsonSchema({ opNames: ["a"], opConfigSchemas: { a: { type: "object", properties: { n: { type: "number" } } } } }) as any;
  assert.equal(r.properties.ops.properties.a.properties.config.properties.n.type, "number");
  assert.equal(r.properties.execution.properties.config.maxProperties, 1);
});

// ---- nothing throws ----

function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
}
const ALPHABET = "abc_: \n\t-[]{}\"'#&*!|>%@`,?0123456789.~\\\r";

function checkPositions(issues: { line: number; column: number; endLine: number; endColumn: number }[], text: string) {
  const lines = text.split("\n").length;
  for (const i of issues) {
    assert.ok(i.line >= 1 && i.line <= lines + 1 && i.column >= 1 && i.endColumn >= i.column, JSON.stringify(i));
  }
}

test("fuzz: random text never throws and every issue is positioned", () => {
  const r = rng(42);
  for (let n = 0; n < 800; n++) {
    const len = Math.floor(r() * 80);
    let text = "";
    for (let k = 0; k < len; k++) text += ALPHABET[Math.floor(r() * ALPHABET.length)];
    const a = validateInstanceYaml(text);
    checkPositions(a.issues, text);
    const b = validateRunConfig(text, "f.yaml", testJob());
    checkPositions(b.issues, text);
    const p = parseYaml(text, "f");
    for (let o = 0; o <= text.length; o += 7) nodeAt(p, o);
  }
});

test("fuzz: mutated fixtures never throw", () => {
  const r = rng(7);
  const seeds = [...fixtureFiles("instance/valid"), ...fixtureFiles("instance/invalid"), ...fixtureFiles("run/valid")].map((f) => f.text);
  for (let n = 0; n < 800; n++) {
    let text = seeds[n % seeds.length];
    for (let m = 0; m < 3; m++) {
      const pos = Math.floor(r() * (text.length + 1));
      const op = r();
      if (op < 0.4) text = text.slice(0, pos) + ALPHABET[Math.floor(r() * ALPHABET.length)] + text.slice(pos);
      else if (op < 0.8) text = text.slice(0, pos) + text.slice(pos + 1 + Math.floor(r() * 4));
      else text = text.slice(0, pos) + "\n" + " ".repeat(Math.floor(r() * 6)) + text.slice(pos);
    }
    checkPositions(validateInstanceYaml(text).issues, text);
    checkPositions(validateRunConfig(text, "f.yaml", testJob()).issues, text);
  }
});

test("fuzz: odd values never throw", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const values: unknown[] = [
    undefined, null, 0, -1, NaN, Infinity, "", "x", true, [], [1, [2]], {}, { __proto__: null }, Object.create(null), cyclic,
    { concurrency: { runs: [] } }, { concurrency: { runs: { tag_concurrency_limits: [null, 1, "x", {}] } } },
    { constructor: 1 }, { toString: 2 }, { hasOwnProperty: 3 }, { run_queue: null, run_coordinator: null },
    { execution: { config: { multiprocess: { start_method: { forkserver: { preload_modules: [1] } } } } } },
    { ops: { load: { config: cyclic } } }, new Date(0), () => 1, Symbol("s"), 10n,
  ];
  for (const v of values) {
    validateInstanceConfig(v);
    validateRunConfigObject(v, testJob());
    validateRunConfigObject(v, { opNames: ["constructor", "__proto__"], executorName: "in_process" });
  }
  for (const text of ["__proto__:\n  x: 1\n", "constructor: 1\n", "a: &a [*a]\n", "a: !!binary aGk=\n", "? [a, b]\n: 1\n", "a: !custom 1\n", "x: " + "[".repeat(2000)]) {
    validateInstanceYaml(text);
    validateRunConfig(text, "f.yaml", testJob());
  }
});
