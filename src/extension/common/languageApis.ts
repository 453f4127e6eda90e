// Thin wrappers over `vscode.languages`.
import {
  languages,
  type CodeActionProvider,
  type CodeActionProviderMetadata,
  type CodeLensProvider,
  type CompletionItemProvider,
  type DiagnosticCollection,
  type Disposable,
  type DocumentSelector,
  type HoverProvider,
} from "vscode";

export function registerCodeLensProvider(selector: DocumentSelector, provider: CodeLensProvider): Disposable {
  return languages.registerCodeLensProvider(selector, provider);
}

export function createDiagnosticCollection(name: string): DiagnosticCollection {
  return languages.createDiagnosticCollection(name);
}

export function registerHoverProvider(selector: DocumentSelector, provider: HoverProvider): Disposable {
  return languages.registerHoverProvider(selector, provider);
}

export function registerCompletionItemProvider(selector: DocumentSelector, provider: CompletionItemProvider, ...triggerCharacters: string[]): Disposable {
  return languages.registerCompletionItemProvider(selector, provider, ...triggerCharacters);
}

export function registerCodeActionsProvider(selector: DocumentSelector, provider: CodeActionProvider, metadata?: CodeActionProviderMetadata): Disposable {
  return languages.registerCodeActionsProvider(selector, provider, metadata);
}
