// Executor building blocks without processes: ActiveExecution's acceptance cases of reference 2.4,
// executor definitions and their requirements, the step worker protocol's validation, compute log
// capture, and per-step limit tags.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ActiveExecution } from "../../src/engine/execution/active";
import { computeLogPaths, readFrom, stepLogCapture } from "../../src/engine/execution/computeLogs";
import { fromWireEvent, RunEvents, toWireEvent } from "../../src/engine/execution/emit";
import type { SluiceEvent } from "../../src/engine/events";
import { checkExecutorRequirements, effectiveExecutionConfig, validateExecutorConfig } from "../../src/engine/execution/customExecutor";
import type { ExecutionPlan, PlanStep } from "../../src/engine/execution/plan";
import { stepLimits } from "../../src/engine/execution/stepWorkerLimits";
import { parseStepWorkerMessage, stepWorkerMessageSchema } from "../../src/protocol/worker";
import { executeInProcess, executor, inProcessExecutor, job, multiprocessExecutor, op, z } from "../../src/sdk/index";

function step(key: string, tags: Record<string, string> = {}, upstream: string[] = []): PlanStep {
  const raw = tags["priority"];
  return {
    key,
    node: key,
    opName: key,
    upstream,
    inputs: upstream.map((u) => ({ name: u, fanIn: false, sources: [{ kind: "step" as const, step: u, output: "result" }] })),
    outputs: [{ name: "result", isRequired: true }],
    tags,
    pool: null,
    priority: raw === undefined ? 0 : Number(raw),
    retryPolicy: null,
  };
}

function plan(...steps: PlanStep[]): ExecutionPlan {
  return { jobName: "j", steps };
}

describe("ActiveExecution (reference 2.4 acceptance cases)", () => {
  it("orders by priority 5, 4, 3, 2, none (0), -1", () => {
    const active = new ActiveExecution(
      plan(step("pri_neg_1", { priority: "-1" }), step("pri_none"), step("pri_2", { priority: "2" }), step("pri_3", { priority: "3" }), step("pri_4", { priority: "4" }), step("pri_5", { priority: "5" })),
    );
    assert.deepEqual(active.getStepsToExecute(10).map((s) => s.key), ["pri_5", "pri_4", "pri_3", "pri_2", "pri_none", "pri_neg_1"]);
  });

  it("tag limits [{database, tiny, 1}, {database, large, 2}]: no head-of-line blocking; a freed slot releases the next", () => {
    const active = new ActiveExecution(
      plan(
        step("tiny_p5", { database: "tiny", priority: "5" }),
        step("large_p4", { database: "large", priority: "4" }),
        step("tiny_p3", { database: "tiny", priority: "3" }),
        step("large_p2", { database: "large", priority: "2" }),
        step("pri_neg_1", { priority: "-1" }),
        step("pri_none"),
      ),
      {
        tagConcurrencyLimits: [
          { key: "database", value: "tiny", limit: 1 },
          { key: "database", value: "large", limit: 2 },
        ],
      },
    );
    const blocked: string[] = [];
    assert.deepEqual(active.getStepsToExecute(10, (s) => blocked.push(s.key)).map((s) => s.key), ["tiny_p5", "large_p4", "large_p2", "pri_none", "pri_neg_1"]);
    assert.deepEqual(blocked, ["tiny_p3"]);
    assert.deepEqual(active.getStepsToExecute(10), []);
    active.markSuccess("tiny_p5");
    assert.deepEqual(active.getStepsToExecute(10).map((s) => s.key), ["tiny_p3"]);
  });

  it("key-only and per-unique-value limits, and max_concurrent", () => {
    const active = new ActiveExecution(
      plan(step("a1", { team: "a" }), step("b1", { team: "b" }), step("eu1", { region: "eu" }), step("eu2", { region: "eu" }), step("us1", { region: "us" }), step("x"), step("y")),
      {
        maxConcurrent: 4,
        tagConcurrencyLimits: [
          { key: "team", limit: 1 },
          { key: "region", value: { applyLimitPerUniqueValue: true }, limit: 1 },
        ],
      },
    );
    assert.deepEqual(active.getStepsToExecute(10).map((s) => s.key), ["a1", "eu1", "us1", "x"]);
    active.markSuccess("x");
    assert.deepEqual(active.getStepsToExecute(10).map((s) => s.key), ["y"], "b1 and eu2 wait for their tags");
    active.markSuccess("a1");
    active.markSuccess("eu1");
    assert.deepEqual(active.getStepsToExecute(10).map((s) => s.key), ["b1", "eu2"]);
  });

  it("a retry waits its seconds; a failed step's downstream is abandoned, not skipped", () => {
    let now = 1_000;
    const active = new ActiveExecution(plan(step("a"), step("b", {}, ["a"])), { now: () => now });
    assert.deepEqual(active.getStepsToExecute(1).map((s) => s.key), ["a"]);
    active.markUpForRetry("a", 2);
    assert.equal(active.attemptsOf("a"), 1);
    assert.deepEqual(active.getStepsToExecute(1), []);
    assert.equal(active.sleepInterval(), 2000);
    now += 2000;
    assert.deepEqual(active.getStepsToExecute(1).map((s) => s.key), ["a"]);
    active.markFailed("a");
    assert.deepEqual(active.takeAbandons().map((s) => s.key), ["b"]);
    assert.deepEqual(active.takeSkips(), []);
    assert.ok(active.isComplete);
  });
});

describe("ActiveExecution: steps taken ahead of time", () => {
  it("peekReady shows the step getStepsToExecute takes next; a requeued step gets its old place back", () => {
    const active = new ActiveExecution(plan(step("a"), step("b"), step("c"), step("d", {}, ["a"])));
    assert.equal(active.peekReady()?.key, "a");
    assert.deepEqual(active.getStepsToExecute(2).map((s) => s.key), ["a", "b"]);
    assert.equal(active.peekReady()?.key, "c");
    active.settle("a", { kind: "success", outputs: ["result"] }); // d becomes ready behind c
    active.requeue("b"); // b never started: it goes before c and d again
    assert.deepEqual(active.getStepsToExecute(3).map((s) => s.key), ["b", "c", "d"]);
    active.requeue("zzz"); // not in flight: nothing happens
    for (const k of ["b", "c", "d"]) active.markSuccess(k);
    assert.ok(active.isComplete);
    active.stop();
    assert.equal(active.peekReady(), undefined);
  });
});

describe("executor definitions", () => {
  it("executor() validates its options; configured() pins config and may rename", () => {
    assert.throws(() => executor({ name: "bad name" }, () => ({ execute: async () => ({ failed: [], interrupted: false, unfinished: [] }) })), /valid `name`/);
    assert.throws(() => executor({ name: "in_process" }, () => ({ execute: async () => ({ failed: [], interrupted: false, unfinished: [] }) })), /built-in executor/);
    assert.throws(() => executor({ name: "x", requirements: ["GPU" as never] }, () => ({ execute: async () => ({ failed: [], interrupted: false, unfinished: [] }) })), /Unknown executor requirement "GPU"/);
    assert.throws(() => executor({ name: "x", configSchema: { type: "object" } }, () => ({ execute: async () => ({ failed: [], interrupted: false, unfinished: [] }) })), /zod schema/);
    const mine = executor({ name: "mine", configSchema: z.object({ n: z.number() }) }, () => ({ execute: async () => ({ failed: [], interrupted: false, unfinished: [] }) }));
    const pinned = mine.configured({ n: 1 }).configured({ m: 2 }, "mine_two");
    assert.equal(pinned.name, "mine_two");
    assert.deepEqual(pinned.pinnedConfig, { n: 1, m: 2 });
    assert.equal(pinned.init, mine.init);
    const mp = multiprocessExecutor.configured({ max_concurrent: 3 }, "three");
    assert.equal(mp.builtin, "multiprocess");
    assert.deepEqual(mp.requirements, multiprocessExecutor.requirements);
  });

  it("run config over pinned config; the default executor's other branch replaces the pinned one", () => {
    assert.deepEqual(effectiveExecutionConfig({ pinnedConfig: { a: 1, b: { c: 2 } } }, { execution: { config: { b: { d: 3 } } } }), { a: 1, b: { c: 2, d: 3 } });
    assert.deepEqual(
      effectiveExecutionConfig({ builtin: "multi_or_in_process", pinnedConfig: { multiprocess: { max_concurrent: 2 } } }, { execution: { config: { in_process: {} } } }),
      { in_process: {} },
    );
    const mine = executor({ name: "mine", configSchema: z.object({ n: z.number() }) }, () => ({ execute: async () => ({ failed: [], interrupted: false, unfinished: [] }) }));
    assert.deepEqual(validateExecutorConfig(mine, { n: "x" }).map((i) => i.path.join(".")), ["execution.config.n"]);
    assert.deepEqual(validateExecutorConfig(mine, { n: 1 }), []);
  });

  it("requirement checks say which requirement fails, why, and what to do", () => {
    assert.throws(
      () => checkExecutorRequirements(multiprocessExecutor, { reconstructable: false, persistentInstance: false }, "executeInProcess"),
      /The multiprocess executor cannot run in executeInProcess: RECONSTRUCTABLE_JOB \(.*\); NON_EPHEMERAL_INSTANCE \(.*\); PERSISTENT_OUTPUTS .*use the in-process executor/,
    );
    assert.doesNotThrow(() => checkExecutorRequirements(inProcessExecutor, { reconstructable: false, persistentInstance: false }, "executeInProcess"));
  });

  it("executeInProcess refuses the multiprocess executor (also configured and renamed) and explains why", async () => {
    const one = op({ name: "one" }, () => 1);
    for (const ex of [multiprocessExecutor, multiprocessExecutor.configured({ max_concurrent: 2 }, "renamed")]) {
      await assert.rejects(executeInProcess(job({ name: "mp", executor: ex }, () => { one(); })), /ephemeral instance with nothing to share between processes/);
    }
    const r = await executeInProcess(job({ name: "ip", executor: inProcessExecutor }, () => { one(); }));
    assert.equal(r.status, "SUCCESS");
  });
});

describe("step worker protocol", () => {
  const event = ["STEP_START", 1, "m", null];
  const done = { t: "stepDone", stepKey: "s", outcome: { kind: "success", outputs: ["result"] }, events: [event], heapUsed: 0 };

  it("the quick check accepts exactly what the schema accepts", () => {
    const samples: unknown[] = [
      done,
      { ...done, outcome: { kind: "retry", seconds: 0.5 } },
      { ...done, outcome: { kind: "retry", seconds: -1 } },
      { ...done, outcome: { kind: "success", outputs: [1] } },
      { ...done, events: [["NOT_A_TYPE", 1, "m", null]] },
      { ...done, events: [["STEP_START", 1, "m", null, "LOUD"]] },
      { ...done, events: [["STEP_START", 1, "m", null, "WARNING"]] },
      { ...done, events: [["STEP_START", 1, "m", []]] },
      { ...done, events: [["STEP_START", 1, "m"]] },
      { ...done, events: [["STEP_START", 1, "m", null, "INFO", "extra"]] },
      { ...done, events: [{ runId: "r", type: "STEP_START", stepKey: "s", timestamp: 1, level: "INFO", message: "m" }] },
      { ...done, heapUsed: "x" },
      { t: "events", events: [event, ["LOG_MESSAGE", 2, "hello", { a: 1 }, "DEBUG"]] },
      { t: "events", events: [["STEP_START", "now", "m", null]] },
      { t: "ready", pid: 1, loadMs: 2 },
      { t: "query", id: 1, method: "getRunRecords", args: [] },
      { t: "nope" },
      null,
      "text",
    ];
    for (const m of samples) {
      assert.equal(parseStepWorkerMessage(m).success, stepWorkerMessageSchema.safeParse(m).success, JSON.stringify(m));
    }
    const bad = parseStepWorkerMessage({ ...done, outcome: { kind: "retry", seconds: -1 } });
    assert.ok(!bad.success && /outcome/.test(bad.error));
  });
});

describe("step worker events on the wire", () => {
  it("round-trip with the run worker's run id and step key, the level only when it is not the type's default", () => {
    const events: SluiceEvent[] = [];
    const emitter = new RunEvents("run-1", (e) => events.push(e));
    emitter.emit("STEP_START", "start", { stepKey: "s" });
    emitter.emit("STEP_FAILURE", "boom", { stepKey: "s", data: { error: { name: "E", message: "boom" } } });
    emitter.emit("LOG_MESSAGE", "careful", { stepKey: "s", level: "WARNING", data: { n: 1 } });
    const wire = events.map(toWireEvent);
    assert.deepEqual(wire.map((w) => w.length), [4, 4, 5]);
    assert.ok(stepWorkerMessageSchema.safeParse({ t: "events", events: JSON.parse(JSON.stringify(wire)) }).success);
    const json = (x: unknown) => JSON.parse(JSON.stringify(x));
    assert.deepEqual(json(wire.map((w) => fromWireEvent(w, "run-1", "s"))), json(events));
  });
});

describe("compute logs", () => {
  it("redirects process.stdout/stderr writes into a step's files until it ends, appending across attempts", () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-logs-"));
    try {
      const paths = computeLogPaths(dir, "run1", "graph.step");
      for (let attempt = 1; attempt <= 2; attempt++) {
        stepLogCapture.begin(paths);
        process.stdout.write(`out ${attempt}\n`);
        console.error(`err ${attempt}`);
        process.stdout.write(Buffer.from("bytes\n"), () => undefined);
        stepLogCapture.end();
        // Between steps, writes go where they went before.
        process.stderr.write("");
      }
      assert.equal(readFileSync(paths.stdout, "utf8"), "out 1\nbytes\nout 2\nbytes\n");
      assert.equal(readFileSync(paths.stderr, "utf8"), "err 1\nerr 2\n");
      assert.ok(paths.stdout.endsWith(join("run1", "graph.step.out")));

      // Paths given as a function are worked out on the first write only; a silent step makes no files.
      let asked = 0;
      const quiet = computeLogPaths(dir, "run1", "quiet");
      stepLogCapture.begin(() => (asked++, quiet));
      stepLogCapture.end();
      assert.equal(asked, 0);
      assert.ok(!existsSync(quiet.stdout) && !existsSync(quiet.stderr));
      const loud = computeLogPaths(dir, "run1", "loud");
      stepLogCapture.begin(() => (asked++, loud));
      process.stdout.write("a");
      console.error("b");
      stepLogCapture.end();
      assert.equal(asked, 1);
      assert.equal(readFileSync(loud.stdout, "utf8"), "a");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads a growing file from an offset without splitting a UTF-8 character", () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-logs-"));
    try {
      const file = join(dir, "f");
      const bytes = Buffer.from("héllo €\n", "utf8");
      writeFileSync(file, bytes.subarray(0, 8)); // ends inside "€"
      const first = readFrom(file, 0);
      assert.equal(first.text, "héllo ");
      writeFileSync(file, bytes);
      const second = readFrom(file, first.next);
      assert.equal(first.text + second.text, "héllo €\n");
      assert.deepEqual(readFrom(join(dir, "missing"), 0), { text: "", next: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("per-step limits", () => {
  it("op tags win over run tags; dagster/ aliases work; bad values are named", () => {
    assert.deepEqual(stepLimits(step("s", { "sluice/max_memory_mb": "256" }), { "sluice/max_memory_mb": "64", "dagster/step_timeout_seconds": "1.5" }), { maxMemoryMb: 256, timeoutSeconds: 1.5 });
    assert.deepEqual(stepLimits(step("s"), {}), {});
    assert.throws(() => stepLimits(step("s", { "sluice/max_memory_mb": "lots" }), {}), /op tag sluice\/max_memory_mb of step "s" must be a whole number of megabytes >= 16, got "lots"/);
    assert.throws(() => stepLimits(step("s"), { "sluice/step_timeout_seconds": "0" }), /run tag sluice\/step_timeout_seconds .* > 0/);
  });
});
