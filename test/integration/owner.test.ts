// One owner per `.sluice` home (DESIGN.md rule 3): the lock and its safe takeover, forwarding of
// a second command to the owner over its socket, `launch --wait` with and without an owner, and
// what happens to runs when their owner dies. Build first (`node esbuild.mjs`).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive, lockPath, readOwner } from "../../src/engine/ownership";
import { json, lastJson, REPO, sluice, sluiceAsync } from "../helpers/workspace";
import { launch, queueWorkspace, runIdOf, startDev, starts, waitFor, type Dev, type QueueWorkspace } from "../fixtures/queue/helpers";

interface RunShow { runId: string; status: string; tags: Record<string, string>; meta: Record<string, unknown> }

function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("the owner lock", () => {
  let ws: QueueWorkspace;
  before(() => (ws = queueWorkspace()));
  after(() => ws.remove());

  it("takes over a lock left by a dead owner, and one whose pid now belongs to another process", () => {
    const home = join(ws.dir, ".sluice");
    mkdirSync(home, { recursive: true });
    writeFileSync(lockPath(home), JSON.stringify({ pid: deadPid(), startedAt: Date.now() - 60_000, role: "dev", token: "dead" }));
    let r = sluice(ws, ["instance", "concurrency", "set", "db", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "Set concurrency limit for db to 2.");
    assert.equal(existsSync(lockPath(home)), false, "released on exit");
    // A live pid whose process started at another time (pid reuse) is not the owner either.
    writeFileSync(lockPath(home), JSON.stringify({ pid: process.pid, procStart: 1, startedAt: Date.now() - 60_000, role: "dev", token: "reused" }));
    r = sluice(ws, ["instance", "concurrency", "set", "db", "3"]);
    assert.equal(r.code, 0, r.stderr);
  });

  it("of many processes racing for a stale lock (one of them dying while it owns it), never two own it at once", async () => {
    const home = join(ws.dir, ".sluice");
    writeFileSync(lockPath(home), JSON.stringify({ pid: deadPid(), startedAt: 0, role: "cli", token: "stale" }));
    const log = join(ws.dir, "owners.log");
    const script = `
      const { acquireOwnership, InstanceOwnedError } = require(${JSON.stringify(join(REPO, "src/engine/ownership.ts"))});
      const { appendFileSync } = require("node:fs");
      const me = Number(process.argv[1]);
      const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      let done = 0;
      while (done < 4) {
        let o;
        try { o = acquireOwnership(${JSON.stringify(home)}, "cli"); } catch (e) { if (e instanceof InstanceOwnedError) { sleep(1 + Math.random() * 5); continue; } throw e; }
        const start = process.hrtime.bigint();
        if (me === 0 && done === 1) { appendFileSync(${JSON.stringify(log)}, JSON.stringify({ me, start: String(start), end: null }) + "\\n"); process.kill(process.pid, "SIGKILL"); }
        sleep(15);
        const end = process.hrtime.bigint();
        appendFileSync(${JSON.stringify(log)}, JSON.stringify({ me, start: String(start), end: String(end) }) + "\\n");
        o.release();
        done++;
      }`;
    const children = Array.from({ length: 5 }, (_, i) =>
      new Promise<number | null>((resolve) => spawn(process.execPath, ["--import", "tsx", "-e", script, String(i)], { cwd: REPO, stdio: "inherit" }).on("exit", (code) => resolve(code))),
    );
    const codes = await Promise.all(children);
    assert.deepEqual(codes.slice(1), [0, 0, 0, 0]);
    const spans = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { me: number; start: string; end: string | null });
    assert.equal(spans.filter((s) => s.end !== null).length, 4 * 4 + 1, "every acquisition happened");
    const closed = spans.filter((s) => s.end !== null).map((s) => [BigInt(s.start), BigInt(s.end!)] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    for (let i = 1; i < closed.length; i++) assert.ok(closed[i][0] >= closed[i - 1][1], "ownership intervals never overlap");
  });
});

describe("a second command talks to the owner", () => {
  let ws: QueueWorkspace;
  let dev: Dev;
  before(async () => {
    ws = queueWorkspace();
    dev = await startDev(ws);
  });
  after(async () => {
    await dev?.stop();
    ws?.remove();
  });

  it("instance info, concurrency set/get and job execute are answered by `sluice dev`, over a socket only the user can use", async () => {
    const info = json<{ owner: { pid: number; role: string; daemons: boolean; socket: string } }>(sluice(ws, ["instance", "info", "--json"]));
    assert.equal(info.owner.pid, dev.pid);
    assert.equal(info.owner.role, "dev");
    assert.equal(info.owner.daemons, true);
    assert.equal(statSync(info.owner.socket).mode & 0o777, 0o600);
    assert.equal(sluice(ws, ["instance", "concurrency", "set", "db", "3"]).code, 0);
    assert.equal(json<{ limit: number }>(sluice(ws, ["instance", "concurrency", "get", "db", "--json"])).limit, 3);
    const exec = sluice(ws, ["job", "execute", "-j", "plain", "--tag", "nap_ms=50", "--json"]);
    assert.equal(exec.code, 0, exec.stderr);
    const { runId, status } = lastJson<{ runId: string; status: string }>(exec);
    assert.equal(status, "SUCCESS");
    assert.ok(exec.stdout.includes('"RUN_SUCCESS"'), "events were streamed back");
    const run = json<RunShow>(sluice(ws, ["run", "show", runId, "--json"]));
    assert.equal(run.meta.ownerPid, dev.pid, "the owner ran it");
    const waited = await launch(ws, "plain", { nap_ms: "50" }, ["--wait"]);
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal(json<RunShow>(sluice(ws, ["run", "show", runIdOf(waited), "--json"])).meta.ownerPid, dev.pid);
  });

  it("an invalid sluice.yaml never stops the owner: the last valid config stays in force and the errors are positioned", async () => {
    type Info = { config: { valid: boolean; usingLastValid: boolean; issues: { line: number; column: number; keyPath: string; message: string }[]; values: { concurrency: { runs: { max_concurrent_runs: number } } }; sources: Record<string, string> } };
    ws.setConfig("concurrency:\n  runs:\n    max_concurrent_runs: 3\n");
    await new Promise((r) => setTimeout(r, 250));
    let info = json<Info>(sluice(ws, ["instance", "info", "--json"]));
    assert.equal(info.config.values.concurrency.runs.max_concurrent_runs, 3);
    assert.match(info.config.sources["concurrency.runs.max_concurrent_runs"], /sluice\.yaml:3$/);
    ws.setConfig("concurrency:\n  runs:\n    max_concurrent_runs: -2\n");
    await new Promise((r) => setTimeout(r, 250));
    info = json<Info>(sluice(ws, ["instance", "info", "--json"]));
    assert.equal(info.config.valid, false);
    assert.equal(info.config.usingLastValid, true);
    assert.equal(info.config.values.concurrency.runs.max_concurrent_runs, 3, "the last valid value stays in force");
    assert.deepEqual([info.config.issues[0].line, info.config.issues[0].keyPath], [3, "concurrency.runs.max_concurrent_runs"]);
    assert.match(info.config.issues[0].message, /-1 \(unlimited\) or >= 0/);
    assert.match(sluice(ws, ["instance", "info"]).stdout, /INVALID/);
    const run = await launch(ws, "plain", { nap_ms: "10" }, ["--wait"]);
    assert.equal(run.code, 0, "runs still launch");
    assert.match(dev.output(), /max_concurrent_runs/);
    ws.setConfig("");
  });
});

describe("job launch --wait without an owner, and an owner that dies", () => {
  let ws: QueueWorkspace;
  before(() => (ws = queueWorkspace()));
  after(() => ws.remove());

  it("becomes the owner, runs the queue until its run is finished, and exits like execute", async () => {
    const ok = await launch(ws, "plain", { nap_ms: "50" }, ["--wait"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /RUN_SUCCESS/);
    assert.match(ok.stdout, /SUCCESS in/);
    const bad = await launch(ws, "failing", {}, ["--wait"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /FAILURE in/);
    assert.equal(readOwner(join(ws.dir, ".sluice")), undefined, "the lock was released");
  });

  it("a run whose owner is killed fails as UNEXPECTED_TERMINATION; a waiting client takes over", async () => {
    const dev = await startDev(ws);
    assert.equal(sluice(ws, ["instance", "concurrency", "set", "db", "1"]).code, 0);
    const id = runIdOf(await launch(ws, "pooled", { nap_ms: "60000" }));
    const started = await waitFor("the long op", () => starts(ws).find((s) => s.run === id));
    // This one waits in the queue for the pool slot the long run holds.
    const waiter = sluiceAsync(ws, ["job", "launch", "-j", "pooled", "--tag", "nap_ms=50", "--wait"]);
    await waitFor("the waiter's run to be queued", () => /queued \(owner pid/.test(sluice(ws, ["run", "list"]).stdout) || sluice(ws, ["run", "list", "--status", "QUEUED", "--json"]).stdout.includes("pool db"));
    dev.child.kill("SIGKILL");
    await dev.stop();
    await waitFor("its worker to end with its owner", () => !isAlive(started.pid), 5_000);
    const r = await waiter;
    assert.equal(r.code, 0, `the waiting client became the owner and ran its run:\n${r.stdout}\n${r.stderr}`);
    const run = json<RunShow>(sluice(ws, ["run", "show", id, "--json"]));
    assert.equal(run.status, "FAILURE");
    assert.equal(run.tags["sluice/failure_reason"], "UNEXPECTED_TERMINATION");
    const events = json<{ message: string }[]>(sluice(ws, ["run", "events", id, "--json"]));
    assert.ok(events.some((e) => e.message.includes(`its owner (pid ${dev.pid}) ended`)), "says why");
    assert.deepEqual(json<{ claimed: unknown[] }>(sluice(ws, ["instance", "concurrency", "get", "db", "--json"])).claimed ?? [], []);
  });
});
