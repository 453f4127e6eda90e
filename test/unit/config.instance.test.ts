import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConfigError, describeSources, formatIssue, instanceConfigSchema, instanceKeyInfo, loadInstanceConfig, parseYaml,
  resolveInstanceConfig, validateInstanceConfig, validateInstanceYaml,
} from "../../src/engine/config";
import { keysOf, schemaAt } from "../../src/engine/config/fields";
import { getIn } from "../../src/engine/config/yamlPositions";
import { expectations, fixtureFiles, header } from "../fixtures/config/helpers";

const DEFAULTS = {
  concurrency: {
    runs: { max_concurrent_runs: 10, tag_concurrency_limits: [] },
    pools: { default_limit: null, granularity: "op", op_granularity_run_buffer: 0 },
  },
  run_queue: {
    dequeue_interval_seconds: 5, dequeue_use_threads: false, dequeue_num_workers: null, max_user_code_failure_retries: 0,
    user_code_failure_retry_delay: 60, block_op_concurrency_limited_runs: { enabled: true },
  },
  run_monitoring: {
    enabled: false, start_timeout_seconds: 180, cancel_timeout_seconds: 180, max_runtime_seconds: 0, max_resume_run_attempts: 0,
    poll_interval_seconds: 120, cancellation_thread_poll_interval_seconds: 10, free_slots_after_run_end_seconds: null,
  },
  run_retries: { enabled: false, max_retries: 0, retry_on_asset_or_op_failure: true },
  schedules: { max_catchup_runs: 5, max_tick_retries: 0 },
  sensors: { default_minimum_interval_seconds: 30 },
};

test("the brief's example: position, key path and message", () => {
  const r = validateInstanceYaml("# limits\nconcurrency:\n  runs:\n    max_concurrent_runs: -2\n");
  assert.equal(r.config, undefined);
  assert.equal(r.issues.length, 1);
  const i = r.issues[0];
  assert.deepEqual([i.line, i.column, i.endLine, i.endColumn, i.code], [4, 26, 4, 28, "invalid-value"]);
  assert.deepEqual(i.path, ["concurrency", "runs", "max_concurrent_runs"]);
  assert.equal(formatIssue(i), "sluice.yaml:4:26: concurrency.runs.max_concurrent_runs: `max_concurrent_runs` must be -1 (unlimited) or >= 0, got -2");
});

const invalid = fixtureFiles("instance/invalid");
test("there are dozens of invalid sluice.yaml fixtures", () => assert.ok(invalid.length >= 50, String(invalid.length)));

for (const f of invalid) {
  test(`invalid sluice.yaml: ${f.name}`, () => {
    const want = expectations(f.text);
    assert.ok(want.length > 0, "fixture has no # expect: header");
    const r = validateInstanceYaml(f.text, "sluice.yaml");
    assert.equal(r.config, undefined);
    assert.equal(r.sources, undefined);
    const got = r.issues.map(formatIssue).join("\n");
    assert.equal(r.issues.length, want.length, got);
    r.issues.forEach((i, k) => {
      const w = want[k];
      assert.equal(`${i.line}:${i.column} ${i.keyPath}`, `${w.line}:${w.column} ${w.keyPath}`, got);
      for (const s of w.substrings) assert.ok(i.message.includes(s), `${JSON.stringify(i.message)} should contain ${JSON.stringify(s)}`);
      assert.ok(i.endLine === i.line && i.endColumn > i.column, `range ${i.line}:${i.column}-${i.endLine}:${i.endColumn}`);
      assert.ok(formatIssue(i).startsWith(`sluice.yaml:${w.line}:${w.column}: `));
    });
  });
}

for (const f of fixtureFiles("instance/valid")) {
  test(`valid sluice.yaml: ${f.name}`, () => {
    const r = validateInstanceYaml(f.text, "sluice.yaml");
    assert.deepEqual(r.issues.map(formatIssue), []);
    assert.ok(r.config && r.sources);
    for (const line of header(f.text, "value")) {
      const m = /^(\S+) = (.*) @ (\S+)$/.exec(line);
      assert.ok(m, line);
      assert.deepEqual(getIn(r.config, m[1].split(".")), JSON.parse(m[2]), m[1]);
      assert.equal(r.sources[m[1]], m[3], `source of ${m[1]}`);
    }
  });
}

test("an empty file, a comment-only file and no file are all the defaults", () => {
  for (const text of ["", "# nothing\n", "\n\n", "---\n"]) {
    const r = validateInstanceYaml(text);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.config, DEFAULTS);
    assert.ok(Object.values(r.sources!).every((s) => s === "default"));
  }
  assert.deepEqual(resolveInstanceConfig(), DEFAULTS);
  assert.deepEqual(resolveInstanceConfig({}), DEFAULTS);
});

test("sources name every resolved leaf", () => {
  const r = validateInstanceYaml("run_retries:\n  enabled: true\n");
  const leaves: string[] = [];
  const walk = (v: unknown, p: string) => {
    if (v && typeof v === "object" && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(x, p ? `${p}.${k}` : k);
    else leaves.push(p);
  };
  walk(r.config, "");
  assert.deepEqual(Object.keys(r.sources!).sort(), leaves.sort());
  assert.equal(r.sources!["run_retries.enabled"], "sluice.yaml:2");
  assert.equal(r.sources!["run_retries.max_retries"], "default");
});

test("run_queue values merge into concurrency.runs; concurrency.runs wins only by being the one set", () => {
  const c = resolveInstanceConfig({ run_queue: { max_concurrent_runs: 3 }, concurrency: { pools: { granularity: "run" } } });
  assert.equal(c.concurrency.runs.max_concurrent_runs, 3);
  assert.equal(c.concurrency.pools.granularity, "run");
  const d = resolveInstanceConfig({ concurrency: { runs: { max_concurrent_runs: -1 } }, run_queue: { dequeue_interval_seconds: 1 } });
  assert.equal(d.concurrency.runs.max_concurrent_runs, -1);
  assert.equal(d.run_queue.dequeue_interval_seconds, 1);
});

test("tag limits keep their three kinds; a null value is a key limit", () => {
  const c = resolveInstanceConfig({
    concurrency: { runs: { tag_concurrency_limits: [
      { key: "a", limit: 1 }, { key: "b", value: null, limit: 2 }, { key: "c", value: "", limit: 0 },
      { key: "d", value: { applyLimitPerUniqueValue: true }, limit: 3 },
    ] } },
  });
  assert.deepEqual(c.concurrency.runs.tag_concurrency_limits, [
    { key: "a", limit: 1 }, { key: "b", limit: 2 }, { key: "c", value: "", limit: 0 },
    { key: "d", value: { applyLimitPerUniqueValue: true }, limit: 3 },
  ]);
});

test("resolveInstanceConfig throws ConfigError with the issues when invalid", () => {
  assert.throws(
    () => resolveInstanceConfig({ concurrency: { pools: { default_limit: 5000 } } }),
    (e: unknown) => e instanceof ConfigError && e.issues[0].keyPath === "concurrency.pools.default_limit" && /Expected value between 0-1000/.test(e.message),
  );
});

test("validateInstanceConfig works on plain values without positions", () => {
  const r = validateInstanceConfig({ run_monitoring: { enabled: "yes" } }, "cfg");
  assert.equal(r.issues.length, 1);
  assert.deepEqual([r.issues[0].line, r.issues[0].column], [0, 0]);
  assert.equal(formatIssue(r.issues[0]), 'cfg: run_monitoring.enabled: `enabled` must be true or false, got "yes"');
  assert.equal(validateInstanceConfig(null).config?.concurrency.runs.max_concurrent_runs, 10);
});

test("describeSources points at the line of each value's key", () => {
  const text = "concurrency:\n  pools:\n    granularity: run\n";
  const parsed = parseYaml(text, "sluice.yaml");
  const s = describeSources(parsed.value, parsed);
  assert.equal(s["concurrency.pools.granularity"], "sluice.yaml:3");
  assert.equal(s["concurrency.pools.default_limit"], "default");
  assert.deepEqual(describeSources({ concurrency: 1 }), {});
});

test("loadInstanceConfig: missing file, valid file, invalid file, unreadable file, custom fs", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-config-"));
  try {
    const none = loadInstanceConfig(dir);
    assert.equal(none.exists, false);
    assert.deepEqual(none.issues, []);
    assert.deepEqual(none.config, DEFAULTS);
    assert.equal(none.file, join(dir, "sluice.yaml"));

    writeFileSync(join(dir, "sluice.yaml"), "concurrency:\n  runs:\n    max_concurrent_runs: 2\n");
    const ok = loadInstanceConfig(dir);
    assert.equal(ok.config?.concurrency.runs.max_concurrent_runs, 2);
    assert.equal(ok.sources?.["concurrency.runs.max_concurrent_runs"], `${join(dir, "sluice.yaml")}:3`);

    writeFileSync(join(dir, "sluice.yaml"), "concurrency:\n  pools:\n    granularity: ops\n");
    const bad = loadInstanceConfig(dir);
    assert.equal(bad.config, undefined);
    assert.equal(bad.issues[0].file, join(dir, "sluice.yaml"));
    assert.match(formatIssue(bad.issues[0]), /sluice\.yaml:3:18: concurrency\.pools\.granularity: Found value `ops` for `granularity`, Expected value 'run' or 'op'\./);

    rmSync(join(dir, "sluice.yaml"));
    mkdirSync(join(dir, "sluice.yaml"));
    const unreadable = loadInstanceConfig(dir);
    assert.equal(unreadable.config, undefined);
    assert.equal(unreadable.issues[0].code, "read-error");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const fake = loadInstanceConfig("/nowhere", { readFileSync: () => "run_retries:\n  max_retries: 2\n" });
  assert.equal(fake.config?.run_retries.max_retries, 2);
});

test("every key of sluice.yaml has a description; hover data carries defaults and enum values", () => {
  const missing: string[] = [];
  const walk = (path: string[]) => {
    for (const k of keysOf(schemaAt(instanceConfigSchema, path))) {
      const p = [...path, k];
      if (!instanceKeyInfo(p)?.description) missing.push(p.join("."));
      walk(p);
    }
  };
  walk([]);
  for (const p of [["concurrency", "runs", "tag_concurrency_limits", 0]]) {
    for (const k of keysOf(schemaAt(instanceConfigSchema, p))) if (!instanceKeyInfo([...p, k])?.description) missing.push(`${p.join(".")}.${k}`);
  }
  assert.deepEqual(missing, []);
  const g = instanceKeyInfo(["concurrency", "pools", "granularity"])!;
  assert.equal(g.default, "op");
  assert.deepEqual(g.allowed, ["op", "run"]);
  assert.match(g.description!, /Default op/);
  assert.equal(instanceKeyInfo(["concurrency", "runs", "max_concurrent_runs"])!.default, 10);
  assert.deepEqual(instanceKeyInfo(["concurrency"])!.keys, ["runs", "pools", "default_op_concurrency_limit"]);
  assert.equal(instanceKeyInfo(["nope"]), undefined);
});
