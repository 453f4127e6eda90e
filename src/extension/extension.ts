// Sluice's VS Code extension: the composition root. It builds the log channel, the views, the
// status bar and the commands over an EngineHost, and returns a small API for tests and other
// extensions. The engine is not wired yet: EngineHost gets no factory and reports "unavailable".
import { version as vscodeVersion, type Event, type ExtensionContext } from "vscode";
import { registerLogChannel, traceError, traceInfo } from "./common/log";
import { createLogOutputChannel, createTreeView } from "./common/windowApis";
import { isWorkspaceTrusted } from "./common/workspaceApis";
import { DefinitionCodeLensProvider, JOB_FILE_SELECTOR } from "./codelens/definitionLenses";
import { registerCommands } from "./commands/register";
import { registerCodeLensProvider } from "./common/languageApis";
import { OUTPUT_CHANNEL_NAME, Views } from "./constants";
import { EngineHost } from "./engine/engineHost";
import { registerLanguageFeatures } from "./language/register";
import type { EngineFactory, EngineState } from "./engine/port";
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
}

/** Set when the engine is wired; undefined keeps every engine-backed feature off. */
const engineFactory: EngineFactory | undefined = undefined;

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
  // needed); job files' load errors appear once the engine wiring calls
  // `language.diagnostics.updateDefinitions(snapshot)` with each definitions snapshot.
  const language = registerLanguageFeatures();
  context.subscriptions.push(language);
  // The Sluice panel (graph, runs, run detail, launchpad, concurrency); its serializer restores it after a reload.
  const panel = registerSluicePanel(context, engineWebviewData(engineHost));

  context.subscriptions.push(
    ...registerCommands({
      host: engineHost,
      panel,
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
  };
}

export async function deactivate(): Promise<void> {
  await host?.dispose();
  host = undefined;
}
