// Registers Sluice's editor features for sluice.yaml and run config files: the diagnostics controller
// (which also shows job files' load errors once the engine hands it definitions), hover, completion
// and quick fixes. Like the rest of Sluice, only in a trusted workspace: in an untrusted one nothing
// is registered until trust is granted. The YAML checks need neither user code nor the engine.
import type { Disposable } from "vscode";
import { registerCodeActionsProvider, registerCompletionItemProvider, registerHoverProvider } from "../common/languageApis";
import { traceInfo } from "../common/log";
import { isWorkspaceTrusted, onDidGrantWorkspaceTrust } from "../common/workspaceApis";
import { DiagnosticsController, type DiagnosticsControllerOptions } from "../diagnostics/controller";
import { SLUICE_YAML_SELECTOR } from "../diagnostics/documents";
import { SluiceCodeActionProvider } from "./codeActions";
import { COMPLETION_TRIGGERS, SluiceCompletionProvider } from "./completion";
import { SluiceHoverProvider } from "./hover";

export interface LanguageFeatures extends Disposable {
  /** Give it each new definitions snapshot (`updateDefinitions`); reuse `validateRunConfig` for the launchpad. */
  readonly diagnostics: DiagnosticsController;
}

export function registerLanguageFeatures(options: DiagnosticsControllerOptions = {}): LanguageFeatures {
  const diagnostics = new DiagnosticsController(options);
  const disposables: Disposable[] = [];
  let registered = false;
  const register = () => {
    if (registered) return;
    registered = true;
    disposables.push(
      registerHoverProvider(SLUICE_YAML_SELECTOR, new SluiceHoverProvider(diagnostics)),
      registerCompletionItemProvider(SLUICE_YAML_SELECTOR, new SluiceCompletionProvider(diagnostics), ...COMPLETION_TRIGGERS),
      registerCodeActionsProvider(SLUICE_YAML_SELECTOR, new SluiceCodeActionProvider(diagnostics), SluiceCodeActionProvider.metadata),
    );
    diagnostics.start();
  };
  if (isWorkspaceTrusted()) register();
  else {
    traceInfo("Workspace is not trusted: Sluice's sluice.yaml and run config checks start once it is.");
    const sub = onDidGrantWorkspaceTrust(() => {
      sub.dispose();
      register();
    });
    disposables.push(sub);
  }
  return {
    diagnostics,
    dispose() {
      for (const d of disposables.splice(0)) d.dispose();
      diagnostics.dispose();
    },
  };
}
