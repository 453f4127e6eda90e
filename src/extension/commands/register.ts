// Registers every command of the manifest. Engine-backed commands go through `withEngine`, which
// refuses politely when the workspace is untrusted, the engine is starting, or it is not available
// (this build); the rest work on their own.
import type { Disposable } from "vscode";
import { executeCommand, registerCommand } from "../common/commandApis";
import { Actions, ArgMessages, Common, EngineMessages, OpSelectionMessages, RunMessages } from "../common/localize";
import { getLogChannel, traceError, traceInfo } from "../common/log";
import { setStatusBarMessage, showErrorMessage, showInformationMessage, showWarningMessage } from "../common/windowApis";
import { writeClipboard } from "../common/workspaceApis";
import { Commands, Views, type CommandId } from "../constants";
import type { EngineHost } from "../engine/engineHost";
import type { ReexecuteStrategy, SluiceEngine } from "../engine/port";
import type { Route } from "../../protocol/webview";
import { assetKeyOf, jobNameOf, runConfigFileOf, runIdOf } from "./args";
import { newJobFile } from "./newJobFile";
import { askOpSelection } from "./opSelection";

export interface CommandDeps {
  host: EngineHost;
  /** Re-reads the views' data. */
  refreshViews(): void;
  /** The Sluice panel (webview/panelHost.ts); without it the panel commands say "not yet". */
  panel?: { show(route?: Route): void };
  /** Run log documents (logs/runLogDocuments.ts); without them "Open run logs" says "not yet". */
  logs?: { open(runId: string): Promise<unknown> };
  /** Shows a run in the Runs view (selects it once the view has it). */
  revealRun?(runId: string): void;
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

export function createCommandHandlers({ host, refreshViews, panel, logs, revealRun }: CommandDeps): CommandHandlers {
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
  /** After a launch: say so, and show the run in the Runs view. */
  const launched = (jobName: string, { runId, status }: { runId: string; status?: string }) => {
    const queued = (status ?? host.engine?.getRuns().find((r) => r.runId === runId)?.status ?? "QUEUED") === "QUEUED";
    void setStatusBarMessage(queued ? RunMessages.launchedQueued(jobName, runId.slice(0, 8)) : RunMessages.launchedNow(jobName, runId.slice(0, 8)), 5000);
    if (revealRun) revealRun(runId);
    else void revealRuns();
  };
  /** Op selection typed last per job (this session). */
  const lastSelection = new Map<string, string>();

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
      void setStatusBarMessage(RunMessages.reexecuted(runId.slice(0, 8), newRunId.slice(0, 8)), 5000);
      if (revealRun) revealRun(newRunId);
      else void revealRuns();
      return newRunId;
    });

  return {
    [Commands.runJob]: withEngine(Actions.runJob, async (engine, arg: unknown) => {
      const jobName = jobNameOf(arg);
      if (!jobName) return void showInformationMessage(ArgMessages.noJob());
      const runConfigFile = runConfigFileOf(arg);
      const run = await engine.launchRun({ kind: "job", jobName, runConfigFile });
      launched(jobName, run);
      return run.runId;
    }),
    [Commands.runOpSelection]: withEngine(Actions.runOpSelection, async (engine, arg: unknown) => {
      const jobName = jobNameOf(arg);
      if (!jobName) return void showInformationMessage(ArgMessages.noJob());
      const job = engine.snapshot?.jobs.find((j) => j.name === jobName);
      if (!job) return void showInformationMessage(OpSelectionMessages.notLoaded(jobName));
      const picked = await askOpSelection(job, lastSelection.get(jobName) ?? "");
      if (!picked) return undefined;
      lastSelection.set(jobName, picked.clauses?.join(", ") ?? "");
      const run = await engine.launchRun({ kind: "job", jobName, opSelection: picked.clauses });
      launched(jobName, run);
      return run.runId;
    }),
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
      const run = await engine.launchRun({ kind: "assets", assetKeys: [key] });
      launched(key, run);
      return run.runId;
    }),
    [Commands.materializeWithUpstream]: withEngine(Actions.materializeWithUpstream, async (engine, arg: unknown) => {
      const key = assetKeyOf(arg);
      if (!key) return void showInformationMessage(ArgMessages.noAsset());
      const run = await engine.launchRun({ kind: "assets", assetKeys: [key], withUpstream: true });
      launched(key, run);
      return run.runId;
    }),
    [Commands.openRunLogs]: logs
      ? withEngine(Actions.openRunLogs, async (_engine, arg: unknown) => {
          const runId = runIdOf(arg);
          if (!runId) return void showInformationMessage(ArgMessages.noRun());
          await logs.open(runId);
          return runId;
        })
      : notYet(Actions.openRunLogs),
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
      else if (host.state === "unavailable") {
        void setStatusBarMessage(RunMessages.restarting(), 3000);
        await host.restart();
      }
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
