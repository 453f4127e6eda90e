// `sluice job execute` killed with SIGKILL in the middle of a 2,000-step run: the store reopens,
// keeps every event older than the flush window, and the run shows as not finished.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { CLI, json, makeWorkspace, sluice, type Workspace } from "../helpers/workspace";

const FLUSH_WINDOW_MS = 200;

let ws: Workspace;
before(() => {
  ws = makeWorkspace({
    "long.ts": `
import { op, job } from "sluice";
const first = op(function first() { return 0; });
const tick = op(function tick(ctx, prev: number) { const until = Date.now() + 5; while (Date.now() < until) {} return prev + 1; });
export const long_job = job({ name: "long_job", config: { execution: { config: { in_process: {} } } } }, () => {
  let last = first();
  for (let i = 1; i < 2000; i++) last = tick(last);
});
`,
  });
});
after(() => ws.remove());

interface Seen { type: string; stepKey: string | null; timestamp: number; at: number }

it("keeps every event older than the flush window after SIGKILL, and the run is not finished", async () => {
  const child = spawn(process.execPath, [CLI, "job", "execute", "-j", "long_job", "--json", "--workspace", ws.dir]);
  const seen: Seen[] = [];
  let buffer = "";
  let successes = 0;
  const killedAt = await new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith("{")) continue;
        const e = JSON.parse(line) as Seen;
        if (!e.type) continue;
        seen.push({ ...e, at: Date.now() });
        // Kill well inside the run (2,000 steps of 5 ms): after 300 steps have been reported.
        if (e.type === "STEP_SUCCESS" && ++successes === 300) {
          setTimeout(() => {
            const t = Date.now();
            child.kill("SIGKILL");
            resolve(t);
          }, 300);
        }
      }
    });
    child.on("exit", () => reject(new Error("execute finished before it could be killed")));
  });
  await new Promise((r) => child.on("exit", r));

  // Every event printed (printing happens after it was stored) more than one flush window before the kill must be there.
  const mustHave = seen.filter((e) => e.at < killedAt - FLUSH_WINDOW_MS);
  assert.ok(mustHave.length > 300, `enough events before the kill (${mustHave.length})`);
  const runs = json<{ runId: string; status: string }[]>(sluice(ws, ["run", "list", "--json"]));
  assert.equal(runs.length, 1, "the run did not vanish");
  assert.ok(!["SUCCESS", "FAILURE", "CANCELED"].includes(runs[0].status), `run is not finished (${runs[0].status})`);
  const stored = json<{ type: string; stepKey: string | null; timestamp: number }[]>(sluice(ws, ["run", "events", runs[0].runId, "--json"]));
  const key = (e: { type: string; stepKey: string | null; timestamp: number }) => `${e.type}|${e.stepKey}|${e.timestamp}`;
  const storedKeys = new Set(stored.map(key));
  const lost = mustHave.filter((e) => !storedKeys.has(key(e)));
  assert.equal(lost.length, 0, `lost ${lost.length} events, first: ${lost[0] && key(lost[0])}`);

  // The worker died with its owner: nothing more is written after the kill.
  await new Promise((r) => setTimeout(r, 500));
  const again = json<unknown[]>(sluice(ws, ["run", "events", runs[0].runId, "--json"]));
  assert.equal(again.length, stored.length);

  // A new owner opens the same store and can run again.
  const next = sluice(ws, ["run", "list", "--json"]);
  assert.equal(next.code, 0);
});
