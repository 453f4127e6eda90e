// The panel inside the extension: the commands open it on the right page (once the engine is
// ready; before, they refuse like every engine-backed command), and the engine-backed data source
// shows the engine's state until the engine is there, then its data.
import "../extension/helpers/vscodeStub";
import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createCommandHandlers } from "../../src/extension/commands/register";
import { Commands } from "../../src/extension/constants";
import type { EngineHost } from "../../src/extension/engine/engineHost";
import type { EngineState, SluiceEngine } from "../../src/extension/engine/port";
import { engineWebviewData } from "../../src/extension/webview/engineData";
import type { Route } from "../../src/protocol/webview";
import { FixtureDataSource } from "./fixtures";

function fakeHost(state: EngineState, webview?: FixtureDataSource) {
  const listeners = new Set<(s: EngineState) => unknown>();
  const host = {
    state,
    engine: webview ? ({ webview } as unknown as SluiceEngine) : undefined,
    onDidChangeState: (l: (s: EngineState) => unknown) => {
      listeners.add(l);
      return { dispose: () => listeners.delete(l) };
    },
    set(s: EngineState, w?: FixtureDataSource) {
      host.state = s;
      host.engine = w ? ({ webview: w } as unknown as SluiceEngine) : undefined;
      for (const l of listeners) l(s);
    },
  };
  return host;
}

describe("panel wiring", () => {
  test("commands open the panel on their page with the argument they were given", async () => {
    const shown: (Route | undefined)[] = [];
    const host = fakeHost("ready", new FixtureDataSource());
    const h = createCommandHandlers({ host: host as unknown as EngineHost, refreshViews: () => undefined, panel: { show: (r) => void shown.push(r) } });
    await h[Commands.openGraph]();
    await h[Commands.showInGraph]({ jobName: "etl_job" });
    await h[Commands.showInGraph]({ assetKey: "daily_revenue" });
    await h[Commands.openLaunchpad]("etl_job");
    await h[Commands.openRuns]();
    await h[Commands.openRunDetail]({ runId: "7f3a" });
    await h[Commands.openConcurrency]();
    assert.deepEqual(shown, [
      { page: "graph" },
      { page: "graph", job: "etl_job" },
      { page: "graph", node: "daily_revenue" },
      { page: "launchpad", job: "etl_job" },
      { page: "runs" },
      { page: "run", runId: "7f3a" },
      { page: "concurrency" },
    ]);
  });

  test("without a ready engine the panel commands refuse and open nothing", async () => {
    const shown: unknown[] = [];
    const h = createCommandHandlers({ host: fakeHost("unavailable") as unknown as EngineHost, refreshViews: () => undefined, panel: { show: (r) => void shown.push(r) } });
    await h[Commands.openGraph]();
    await h[Commands.openLaunchpad]("etl_job");
    assert.deepEqual(shown, []);
  });

  test("the engine-backed data source: the engine's state until it is ready, then its data and changes", async () => {
    const host = fakeHost("starting");
    const data = engineWebviewData(host);
    assert.deepEqual(data.status?.(), { engine: "starting", message: "The Sluice engine is starting…" });
    assert.deepEqual(await data.runs(10), []);
    assert.throws(() => data.cancel("x"), /not available/);
    const changes: unknown[] = [];
    data.onChange((c) => changes.push(c));
    const fixtures = new FixtureDataSource();
    host.set("ready", fixtures);
    assert.equal(changes.length, 1, "a state change re-sends everything");
    assert.deepEqual(data.status?.(), { engine: "ready" });
    assert.equal((await data.runs(3)).length, 3);
    fixtures.emit({ runs: true });
    assert.deepEqual(changes.at(-1), { runs: true }, "the engine's own changes come through");
    await data.cancel("r1");
    assert.deepEqual(fixtures.recorded.cancels, ["r1"]);
  });
});
