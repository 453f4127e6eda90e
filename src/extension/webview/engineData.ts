// The panel's data source in the extension: the engine's own WebviewDataSource (SluiceEngine.webview)
// while the engine is ready, and an empty workspace with the engine's state otherwise, so that the
// panel opens at any time and explains why it has nothing to show. Follows engine restarts.
import type { DefinitionsSnapshot } from "../../engine/definitions/snapshot";
import type { ConcurrencyView, HostStatusView } from "../../protocol/webview";
import type { EngineState, SluiceEngine } from "../engine/port";
import type { DataChange, WebviewDataSource } from "./dataSource";

export interface EngineHostLike {
  readonly state: EngineState;
  readonly engine: SluiceEngine | undefined;
  onDidChangeState(listener: (s: EngineState) => unknown): { dispose(): unknown };
}

const MESSAGES: Record<EngineState, string> = {
  starting: "The Sluice engine is starting…",
  ready: "",
  unavailable: "The Sluice engine is not available: nothing to show yet.",
  untrusted: "This workspace is not trusted: Sluice runs nothing in it. Trust the workspace to see its jobs and runs.",
};

const EMPTY_CONCURRENCY: ConcurrencyView = {
  pools: [],
  defaultPoolLimit: null,
  granularity: "op",
  runs: { maxConcurrentRuns: -1, inProgress: 0, queued: 0, tagLimits: [] },
};

function notReady(): never {
  throw new Error("The Sluice engine is not available.");
}

export function engineWebviewData(host: EngineHostLike): WebviewDataSource {
  const live = (): WebviewDataSource | undefined => (host.state === "ready" ? host.engine?.webview : undefined);
  const emptyDefinitions = (): DefinitionsSnapshot => ({ workspace: "", loadedAt: 0, files: [], jobs: [], assets: [], errors: [] });
  return {
    status(): HostStatusView {
      const d = live();
      if (d) return d.status?.() ?? { engine: "ready" };
      const state = host.state === "ready" ? "unavailable" : host.state;
      return { engine: state, message: MESSAGES[state] };
    },
    definitions: () => live()?.definitions() ?? emptyDefinitions(),
    runs: (limit) => live()?.runs(limit) ?? [],
    run: (runId) => live()?.run?.(runId),
    events: (runId, afterId, limit) => live()?.events(runId, afterId, limit) ?? [],
    computeLogs: (runId, step, max) => live()?.computeLogs(runId, step, max) ?? { stdout: "", stderr: "", truncated: false },
    concurrency: () => live()?.concurrency() ?? EMPTY_CONCURRENCY,
    launch: (r) => (live() ?? notReady()).launch(r),
    cancel: (id) => (live() ?? notReady()).cancel(id),
    reexecute: (id, s) => (live() ?? notReady()).reexecute(id, s),
    setPoolLimit: (p, l) => (live() ?? notReady()).setPoolLimit(p, l),
    validateRunConfig: (job, yaml, selection) => live()?.validateRunConfig?.(job, yaml, selection) ?? [],
    onChange(listener: (c: DataChange) => void) {
      let inner: { dispose(): unknown } | undefined;
      const attach = () => {
        inner?.dispose();
        inner = live()?.onChange(listener);
      };
      attach();
      const sub = host.onDidChangeState(() => {
        attach();
        listener({ status: true, definitions: true, runs: true, concurrency: true });
      });
      return {
        dispose: () => {
          inner?.dispose();
          sub.dispose();
        },
      };
    },
  };
}
