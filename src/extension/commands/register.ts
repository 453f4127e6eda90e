// Registers every command of the manifest. Engine-backed commands go through `withEngine`, which
// refuses politely when the workspace is untrusted, the engine is starting, or it is not available
// (this build); the rest work on their own.
import type { Disposable } from "vscode";
import { executeCommand, registerCommand } from "../common/commandApis";
import { Actions, ArgMessages, Common, EngineMessages } from "../common/localize";
import { getLogChannel, traceError, traceInfo } from "../common/log";
import { setStatusBarMessage, showErrorMessage, showInformationMessage, showWarningMessage } from "../common/windowApis";
import { writeClipboard } from "../common/workspaceApis";
import { Commands, Views, type CommandId } from "../constants";
import type { EngineHost } from "../engine/engineHost";
import type { ReexecuteStrategy, SluiceEngine } from "../engine/port";
import type { Route } from "../../protocol/webview";
import { assetKeyOf, jobNameOf, runIdOf } from "./args";
import { newJobFile } from "./newJobFile";

export interface CommandDeps {
  host: EngineHost;
  /** Re-reads the views' data. */
  refreshViews(): void;
  /** The Sluice panel (webview/panelHost.ts); without it the panel commands say "not yet". */
  panel?: { show(route?: Route): void };
}

export type CommandHandlers = Record<CommandId, (...args: any[]) => unknown>;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Returns the engine when it can serve `action`, otherwise tells the user why not. */
export function requireEngine(host: EngineHost, action: string): SluiceEngine | undefined {
  switch (host.state) {
    case "ready":
      if (host.engine) return host.engine;
      break;
    case "untrusted":
      traceInfo(`${action}: refused, the workspace is not trusted.`);
      void showWarningMessage(EngineMessages.untrusted(action), Common.manageTrust()).then((choice) => {
        if (choice) void executeCommand("workbench.trust.manage");
      });
      return undefined;
    case "starting":
      void showInformationMessage(EngineMessages.starting(action));
      return undefined;
    case "unavailable":
      break;
  }
  traceInfo(`${action}: the engine is not available.`);
  void showInformationMessage(EngineMessages.notAvailable(action));
  return undefined;
}

export function createCommandHandlers({ host, refreshViews, panel }: CommandDeps): CommandHandlers {
  const withEngine =
    <A extends unknown[]>(action: () => string, fn: (engine: SluiceEngine, ...args: A) => unknown) =>
    async (...args: A) => {
      const engine = requireEngine(host, action());
      return engine ? fn(engine, ...args) : undefined;
    };
  /** Engine-backed features whose UI is not built yet. */
  const notYet = (action: () => string) =>
    withEngine(action, () => {
      void showInformationMessage(EngineMessages.notYetImplemented(action()));
      return undefined;
    });

  const revealRuns = () => executeCommand(`${Views.runs}.focus`);

  /** Panel pages need the engine's data: the same refusal as the other engine-backed commands. */
  const openPanel = (action: () => string, route: (arg: unknown) => Route | undefined) =>
    panel
      ? withEngine(action, (_engine, arg: unknown) => {
          const r = route(arg);
          if (r) panel.show(r);
          return undefined;
        })
      : notYet(action);

  const reexecute = (strategy: ReexecuteStrategy, action: () => string) =>
    withEngine(action, async (engine, arg: unknown) => {
      const runId = runIdOf(arg);
      if (!runId) return void showInformationMessage(ArgMessages.noRun());
      const { runId: newRunId } = await engine.reexecuteRun(runId, strategy);
      void revealRuns();
      return newRunId;
    });

  return {
    [Commands.runJob]: withEngine(Actions.runJob, async (engine, arg: unknown) => {
      const jobName = jobNameOf(arg);
      if (!jobName) return void showInformationMessage(ArgMessages.noJob());
      const { runId } = await engine.launchRun({ kind: "job", jobName });
      void setStatusBarMessage(EngineMessages.launched(jobName, runId), 5000);
      void revealRuns();
      return runId;
    }),
    [Commands.runOpSelection]: notYet(Actions.runOpSelection),
    [Commands.openLaunchpad]: openPanel(Actions.openLaunchpad, (arg) => ({ page: "launchpad", job: jobNameOf(arg) })),
    [Commands.showInGraph]: openPanel(Actions.showInGraph, (arg) => {
      const job = jobNameOf(arg);
      if (job) return { page: "graph", job };
      const asset = assetKeyOf(arg);
      return { page: "graph", node: asset };
    }),
    [Commands.materializeAsset]: withEngine(Actions.materializeAsset, async (engine, arg: unknown) => {
      const key = assetKeyOf(arg);
      if (!key) return void showInformationMessage(ArgMessages.noAsset());
      const { runId } = await engine.launchRun({ kind: "assets", assetKeys: [key] });
      void revealRuns();
      return runId;
    }),
    [Commands.materializeWithUpstream]: withEngine(Actions.materializeWithUpstream, async (engine, arg: unknown) => {
      const key = assetKeyOf(arg);
      if (!key) return void showInformationMessage(ArgMessages.noAsset());
      const { runId } = await engine.launchRun({ kind: "assets", assetKeys: [key], withUpstream: true });
      void revealRuns();
      return runId;
    }),
    [Commands.openRunLogs]: notYet(Actions.openRunLogs),
    [Commands.cancelRun]: withEngine(Actions.cancelRun, async (engine, arg: unknown) => {
      const runId = runIdOf(arg);
      if (!runId) return void showInformationMessage(ArgMessages.noRun());
      void setStatusBarMessage(EngineMessages.cancelRequested(runId), 5000);
      await engine.cancelRun(runId);
      return runId;
    }),
    [Commands.reexecuteRun]: reexecute("all", Actions.reexecuteRun),
    [Commands.reexecuteFromFailure]: reexecute("fromFailure", Actions.reexecuteFromFailure),
    [Commands.copyRunId]: async (arg: unknown) => {
      const runId = runIdOf(arg);
      if (!runId) return void showInformationMessage(ArgMessages.noRun());
      await writeClipboard(runId);
      void setStatusBarMessage(ArgMessages.runIdCopied(runId), 3000);
      return runId;
    },
    [Commands.newJobFile]: (arg?: unknown) => newJobFile(arg as Parameters<typeof newJobFile>[0]),
    [Commands.showOutput]: () => getLogChannel()?.show(true),
    [Commands.openGraph]: openPanel(Actions.openGraph, () => ({ page: "graph" })),
    [Commands.openRuns]: openPanel(Actions.openRuns, () => ({ page: "runs" })),
    [Commands.openRunDetail]: openPanel(Actions.openRunDetail, (arg) => {
      const runId = runIdOf(arg);
      if (!runId) void showInformationMessage(ArgMessages.noRun());
      return runId ? { page: "run", runId } : undefined;
    }),
    [Commands.openConcurrency]: openPanel(Actions.openConcurrency, () => ({ page: "concurrency" })),
    [Commands.refresh]: async () => {
      if (host.state === "ready") await host.engine?.reload();
      refreshViews();
    },
  };
}

/** Wraps a handler so that a failure is logged and shown, never swallowed silently. */
function guarded(id: string, handler: (...args: any[]) => unknown) {
  return async (...args: unknown[]) => {
    try {
      return await handler(...args);
    } catch (e) {
      traceError(`Command ${id} failed:`, e);
      void showErrorMessage(Common.commandFailed(errorText(e)), Common.showLog()).then((choice) => {
        if (choice) getLogChannel()?.show(true);
      });
      return undefined;
    }
  };
}

export function registerCommands(deps: CommandDeps): Disposable[] {
  const handlers = createCommandHandlers(deps);
  return Object.entries(handlers).map(([id, handler]) => registerCommand(id, guarded(id, handler)));
}
