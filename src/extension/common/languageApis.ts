// Thin wrappers over `vscode.languages`.
import { languages, type CodeLensProvider, type Disposable, type DocumentSelector } from "vscode";

export function registerCodeLensProvider(selector: DocumentSelector, provider: CodeLensProvider): Disposable {
  return languages.registerCodeLensProvider(selector, provider);
}
