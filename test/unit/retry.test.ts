// Op retries (reference section 3): the delay formula, policy validation, and the step-level
// decision (STEP_UP_FOR_RETRY / STEP_RESTARTED / "Exceeded max_retries" / retries disabled),
// with jitter off and timing read from event timestamps.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Backoff, Failure, Jitter, RetryPolicy, RetryRequested, executeInProcess, job, op, retryDelaySeconds } from "../../src/sdk/index";
import { buildDefinitions } from "../../src/engine/definitions/build";
import type { SluiceEvent } from "../../src/engine/events";
import { MemoryOutputStore } from "../../src/engine/execution/outputs";
import { buildPlan } from "../../src/engine/execution/plan";
import { executeRun } from "../../src/engine/execution/run";

describe("retry delay (calculate_delay)", () => {
  const policy = (delay: number | null, backoff: Backoff | null = null, jitter: Jitter | null = null) => ({ maxRetries: 9, delay, backoff, jitter });

  it("no backoff: the delay every time; no delay: 0", () => {
    for (let n = 1; n <= 4; n++) assert.equal(retryDelaySeconds(policy(10), n), 10);
    assert.equal(retryDelaySeconds(policy(null), 3), 0);
  });

  it("LINEAR: delay × n (10, 20, 30...) and EXPONENTIAL: delay × (2^n − 1) (10, 30, 70, 150...)", () => {
    assert.deepEqual([1, 2, 3, 4].map((n) => retryDelaySeconds(policy(10, Backoff.LINEAR), n)), [10, 20, 30, 40]);
    assert.deepEqual([1, 2, 3, 4].map((n) => retryDelaySeconds(policy(10, Backoff.EXPONENTIAL), n)), [10, 30, 70, 150]);
  });

  it("FULL jitter scales the backed-off value by uniform[0, 1); PLUS_MINUS adds uniform[−delay, +delay) of the base delay", () => {
    assert.equal(retryDelaySeconds(policy(10, Backoff.EXPONENTIAL, Jitter.FULL), 3, () => 0.5), 35);
    assert.equal(retryDelaySeconds(policy(10, Backoff.EXPONENTIAL, Jitter.FULL), 3, () => 0), 0);
    // PLUS_MINUS: 70 + (2r − 1) × 10, the range is ± the base delay, not ± the backed-off 70.
    assert.equal(retryDelaySeconds(policy(10, Backoff.EXPONENTIAL, Jitter.PLUS_MINUS), 3, () => 0), 60);
    assert.equal(retryDelaySeconds(policy(10, Backoff.EXPONENTIAL, Jitter.PLUS_MINUS), 3, () => 0.75), 75);
    assert.equal(retryDelaySeconds(policy(10, null, Jitter.PLUS_MINUS), 1, () => 0), 0, "never negative");
  });

  it("rejects backoff or jitter without a delay, and bad counts", () => {
    assert.throws(() => new RetryPolicy({ backoff: Backoff.LINEAR }), /without setting delay/);
    assert.throws(() => new RetryPolicy({ jitter: Jitter.FULL }), /without setting delay/);
    assert.throws(() => new RetryPolicy({ maxRetries: -1 }), /maxRetries/);
    assert.throws(() => new RetryPolicy({ delay: -2 }), /delay/);
    assert.equal(new RetryPolicy().maxRetries, 1);
  });
});

/** Runs a job in process (the in-process executor), with the given retry mode, and returns its events. */
async function run(jobDef: ReturnType<typeof job>, retryMode: "enabled" | "disabled" = "enabled"): Promise<SluiceEvent[]> {
  const built = buildDefinitions([{ file: "t.ts", exports: { jobDef } }], () => ({}));
  const runtime = built.jobs.get(jobDef.name)!;
  const events: SluiceEvent[] = [];
  await executeRun({
    runId: "r",
    jobName: jobDef.name,
    plan: buildPlan(runtime.snapshot),
    job: runtime,
    runTags: {},
    runConfig: {},
    outputs: new MemoryOutputStore(),
    instance: { getRunRecords: async () => [] },
    sink: (e) => events.push(e),
    executor: { kind: "in_process", maxConcurrent: 1, tagConcurrencyLimits: [], startMethod: { kind: "spawn" }, retries: retryMode },
  });
  return events;
}

const stepTypes = (events: SluiceEvent[], step: string) =>
  events.filter((e) => e.stepKey === step && ["STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_SUCCESS", "STEP_FAILURE"].includes(e.type)).map((e) => e.type);

describe("retries in a run", () => {
  it("waits the policy's delay between attempts (timestamps), restarts with the attempt number, no STEP_FAILURE in between", async () => {
    const flaky = op({ name: "flaky", retryPolicy: new RetryPolicy({ maxRetries: 3, delay: 0.05, backoff: Backoff.EXPONENTIAL }) }, (ctx) => {
      if (ctx.retryNumber < 2) throw new Error(`attempt ${ctx.retryNumber + 1}`);
      return ctx.retryNumber;
    });
    const events = await run(job({ name: "flaky_job" }, () => { flaky(); }));
    assert.deepEqual(stepTypes(events, "flaky"), ["STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_SUCCESS"]);
    const up = events.filter((e) => e.type === "STEP_UP_FOR_RETRY");
    const restarted = events.filter((e) => e.type === "STEP_RESTARTED");
    assert.deepEqual(up.map((e) => e.data?.secondsToWait), [0.05, 0.15]);
    assert.deepEqual(restarted.map((e) => e.message), ['Started re-execution (attempt # 2) of step "flaky".', 'Started re-execution (attempt # 3) of step "flaky".']);
    [50, 150].forEach((ms, i) => {
      const gap = restarted[i].timestamp - up[i].timestamp;
      assert.ok(gap >= ms - 5 && gap < ms + 500, `retry ${i + 1} after ${gap} ms, expected ${ms}`);
    });
  });

  it("fails with 'Exceeded max_retries of N' once the budget is spent, the user error as cause", async () => {
    const always = op({ name: "always", retryPolicy: new RetryPolicy({ maxRetries: 2 }) }, () => {
      throw new Error("still broken");
    });
    const events = await run(job({ name: "always_job" }, () => { always(); }));
    assert.deepEqual(stepTypes(events, "always"), ["STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_FAILURE"]);
    const failure = events.find((e) => e.type === "STEP_FAILURE")!;
    assert.equal(failure.message, "Exceeded max_retries of 2");
    assert.equal((failure.data?.error as { message: string }).message, "still broken");
  });

  it("RetryRequested uses its own budget and wait, ignoring the policy; Failure(allowRetries: false) is never retried", async () => {
    const requested = op({ name: "requested", retryPolicy: new RetryPolicy({ maxRetries: 5, delay: 30 }) }, (ctx) => {
      throw new RetryRequested({ maxRetries: 1, secondsToWait: 0.02 });
    });
    const final = op({ name: "final", retryPolicy: new RetryPolicy({ maxRetries: 5 }) }, () => {
      throw new Failure({ description: "bad input", allowRetries: false });
    });
    const events = await run(job({ name: "mixed" }, () => { requested(); final(); }));
    assert.deepEqual(stepTypes(events, "requested"), ["STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_FAILURE"]);
    assert.equal(events.find((e) => e.type === "STEP_UP_FOR_RETRY")!.data?.secondsToWait, 0.02);
    assert.equal(events.find((e) => e.type === "STEP_FAILURE" && e.stepKey === "requested")!.message, "Exceeded max_retries of 1");
    assert.deepEqual(stepTypes(events, "final"), ["STEP_START", "STEP_FAILURE"]);
    assert.match(events.find((e) => e.type === "STEP_FAILURE" && e.stepKey === "final")!.message, /bad input/);
  });

  it("with retries disabled a retry request fails the step: 'RetryRequested but retries are disabled'", async () => {
    const flaky = op({ name: "flaky2", retryPolicy: new RetryPolicy({ maxRetries: 3 }) }, () => {
      throw new Error("once");
    });
    const events = await run(job({ name: "disabled_job" }, () => { flaky(); }), "disabled");
    assert.deepEqual(stepTypes(events, "flaky2"), ["STEP_START", "STEP_FAILURE"]);
    assert.equal(events.find((e) => e.type === "STEP_FAILURE")!.message, "RetryRequested but retries are disabled");
  });

  it("policy precedence: invocation (withRetryPolicy) over op over the job's opRetryPolicy", async () => {
    const bare = op({ name: "bare" }, (ctx) => {
      if (ctx.retryNumber === 0) throw new Error("first");
      return 1;
    });
    const own = op({ name: "own", retryPolicy: new RetryPolicy({ maxRetries: 1, delay: 0.01 }) }, (ctx) => {
      if (ctx.retryNumber === 0) throw new Error("first");
      return 1;
    });
    const r = await executeInProcess(
      job({ name: "precedence", opRetryPolicy: new RetryPolicy({ maxRetries: 1, delay: 0.03 }) }, () => {
        bare();
        own();
        bare.alias("invoked").withRetryPolicy(new RetryPolicy({ maxRetries: 1, delay: 0.02 }))();
      }),
    );
    assert.equal(r.status, "SUCCESS");
    const waits = Object.fromEntries(r.events.filter((e) => e.type === "STEP_UP_FOR_RETRY").map((e) => [e.stepKey, e.data?.secondsToWait]));
    assert.deepEqual(waits, { bare: 0.03, own: 0.01, invoked: 0.02 });
  });
});
