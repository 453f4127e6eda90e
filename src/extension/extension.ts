// Sluice's VS Code extension: the composition root. It builds the log channel, the views, the
// status bar and the commands over an EngineHost, and returns a small API for tests and other
// extensions. The engine runs in a worker thread (engine/workerEngine.ts → dist/engineWorker.js);
// EngineHost starts it once the workspace is trusted.
import { existsSync } from "node:fs";
import * as path from "node:path";
import { version as vscodeVersion, type Event, type ExtensionContext } from "vscode";
import { registerLogChannel, traceDebug, traceError, traceInfo, traceTrace, traceWarn } from "./common/log";
import { createLogOutputChannel, createTreeView, showInformationMessage, showTextDocument } from "./common/windowApis";
import { RunMessages } from "./common/localize";
import { getWorkspaceFolders, isWorkspaceTrusted, onDidCloseTextDocument } from "./common/workspaceApis";
import { openTextDocument, registerDocumentLinkProvider, registerTextDocumentContentProvider, setTextDocumentLanguage } from "./common/documentApis";
import { DefinitionCodeLensProvider, JOB_FILE_SELECTOR } from "./codelens/definitionLenses";
import { registerCommands } from "./commands/register";
import { registerCodeLensProvider } from "./common/languageApis";
import { OUTPUT_CHANNEL_NAME, Views } from "./constants";
import { EngineHost } from "./engine/engineHost";
import { registerLanguageFeatures } from "./language/register";
import type { EngineFactory, EngineState, RunSummary } from "./engine/port";
import { LoadErrorNotifier } from "./engine/loadNotifications";
import { WorkerEngine } from "./engine/workerEngine";
import { openRunLog, RUN_LOG_SCHEME, RunLogDocuments } from "./logs/runLogDocuments";
import type { RunRecord } from "../engine/events";
import { DefinitionsTreeDataProvider } from "./views/definitionsTree";
import { RunsView } from "./views/runsView";
import { StatusBarController } from "./views/statusBar";
import { engineWebviewData } from "./webview/engineData";
import { registerSluicePanel } from "./webview/vscodePlatform";

/** What `vscode.extensions.getExtension("sluice.sluice").exports` offers. */
export interface SluiceExtensionApi {
  readonly apiVersion: 1;
  readonly engineState: EngineState;
  readonly onDidChangeEngineState: Event<EngineState>;
  /** Resolves once the engine has settled (ready, unavailable or untrusted). */
  whenSettled(): Promise<EngineState>;
  /** The runs the Runs view shows (every run not finished, the newest finished ones). */
  getRuns(): readonly RunSummary[];
  /** One run as stored now (read from the engine's store), or undefined. */
  readRun(runId: string): Promise<RunRecord | undefined>;
  /** Names of the jobs and assets the last definitions load found (empty before it). */
  getDefinitionNames(): { jobs: string[]; assets: string[]; errors: string[] };
}

const engineLog = { trace: traceTrace, debug: traceDebug, info: traceInfo, warn: traceWarn, error: traceError };

/** The engine: a worker thread next to this bundle (dist/engineWorker.js) that owns `.sluice` or reaches its owner. */
const engineFactory: EngineFactory = async (root) => {
  const workerScript = path.join(__dirname, "engineWorker.js");
  if (!existsSync(workerScript)) throw new Error(`The engine bundle ${workerScript} is missing (npm run build makes it).`);
  const engine = await WorkerEngine.start(root, { workerScript, log: (level, message) => engineLog[level](message) });
  // `sluice dev` (or another window) owns .sluice: say once that runs go there
  if (engine.status?.mode === "client") void showInformationMessage(RunMessages.clientMode(engine.status.ownerPid, engine.status.ownerRole));
  return engine;
};

let host: EngineHost | undefined;

export function activate(context: ExtensionContext): SluiceExtensionApi {
  const channel = createLogOutputChannel(OUTPUT_CHANNEL_NAME);
  registerLogChannel(channel);
  context.subscriptions.push(channel, { dispose: () => registerLogChannel(undefined) });
  const version = (context.extension.packageJSON as { version?: string }).version ?? "?";
  traceInfo(`Sluice ${version} activating in VS Code ${vscodeVersion}; workspace trusted: ${isWorkspaceTrusted()}.`);

  host = new EngineHost(engineFactory);
  const engineHost = host;
  context.subscriptions.push({ dispose: () => void engineHost.dispose() });

  const runs = new RunsView(engineHost, context.workspaceState);
  const definitions = new DefinitionsTreeDataProvider(engineHost);
  const definitionsView = createTreeView(Views.definitions, { treeDataProvider: definitions, showCollapseAll: true });
  const status = new StatusBarController(engineHost);
  const lenses = new DefinitionCodeLensProvider(engineHost);
  context.subscriptions.push(runs, definitions, definitionsView, status, lenses, registerCodeLensProvider(JOB_FILE_SELECTOR, lenses));
  // Diagnostics, hover, completion and quick fixes for sluice.yaml and run config files (no engine
  // needed); job files' load errors come with each definitions snapshot of the engine (onDefinitions).
  const language = registerLanguageFeatures();
  context.subscriptions.push(language, engineHost.onDefinitions((u) => void language.diagnostics.updateDefinitions(u.snapshot)));
  // The Sluice panel (graph, runs, run detail, launchpad, concurrency); its serializer restores it after a reload.
  const panel = registerSluicePanel(context, engineWebviewData(engineHost));
  // Run logs as live read-only documents (sluice-run:), with clickable source positions in stacks.
  const workspaceRoot = () => getWorkspaceFolders()[0]?.uri.fsPath;
  const logs = new RunLogDocuments(engineHost, workspaceRoot);
  context.subscriptions.push(
    logs,
    registerTextDocumentContentProvider(RUN_LOG_SCHEME, logs),
    registerDocumentLinkProvider({ scheme: RUN_LOG_SCHEME }, logs),
    onDidCloseTextDocument((d) => logs.forget(d)),
    new LoadErrorNotifier(engineHost.onDefinitions, workspaceRoot),
  );

  context.subscriptions.push(
    ...registerCommands({
      host: engineHost,
      panel,
      logs: {
        open: (runId) =>
          openRunLog(runId, engineHost.getRuns().find((r) => r.runId === runId)?.jobName, { openTextDocument, setTextDocumentLanguage, showTextDocument }),
      },
      revealRun: (runId) => void runs.revealRun(runId),
      refreshViews: () => {
        runs.refresh();
        definitions.refresh();
      },
    }),
  );

  void engineHost.start().catch((e) => traceError("The Sluice engine failed to start:", e));
  // "starting" is the only transient state: ready, unavailable and untrusted are settled
  const settled = new Promise<EngineState>((resolve) => {
    const check = () => engineHost.state !== "starting" && (resolve(engineHost.state), true);
    if (!check()) {
      const sub = engineHost.onDidChangeState(() => check() && sub.dispose());
      context.subscriptions.push(sub);
    }
  });

  return {
    apiVersion: 1,
    get engineState() {
      return engineHost.state;
    },
    onDidChangeEngineState: engineHost.onDidChangeState,
    whenSettled: () => settled,
    getRuns: () => engineHost.getRuns(),
    readRun: async (runId) => (await engineHost.engine?.webview?.run?.(runId)) ?? undefined,
    getDefinitionNames: () => {
      const snap = engineHost.definitionsUpdate?.snapshot;
      return {
        jobs: (snap?.jobs ?? []).filter((j) => !j.implicit).map((j) => j.name),
        assets: (snap?.assets ?? []).map((a) => a.key),
        errors: (snap?.errors ?? []).map((e) => `${e.file}:${e.line}: ${e.message}`),
      };
    },
  };
}

export async function deactivate(): Promise<void> {
  await host?.dispose();
  host = undefined;
}
