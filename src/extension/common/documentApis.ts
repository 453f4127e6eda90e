// Thin wrappers over the `vscode` API for virtual documents (the run log documents), document
// links, and quick input boxes: the logic above them is exercised against the stubbed `vscode`.
import {
  languages,
  window,
  workspace,
  type Disposable,
  type DocumentLinkProvider,
  type DocumentSelector,
  type InputBox,
  type TextDocument,
  type TextDocumentContentProvider,
  type TreeView,
  type Uri,
} from "vscode";

export function registerTextDocumentContentProvider(scheme: string, provider: TextDocumentContentProvider): Disposable {
  return workspace.registerTextDocumentContentProvider(scheme, provider);
}

export function registerDocumentLinkProvider(selector: DocumentSelector, provider: DocumentLinkProvider): Disposable {
  return languages.registerDocumentLinkProvider(selector, provider);
}

export function openTextDocument(uri: Uri): Thenable<TextDocument> {
  return workspace.openTextDocument(uri);
}

export function setTextDocumentLanguage(document: TextDocument, languageId: string): Thenable<TextDocument> {
  return languages.setTextDocumentLanguage(document, languageId);
}

export function createInputBox(): InputBox {
  return window.createInputBox();
}

export function revealInTree<T>(view: TreeView<T>, element: T, options: { select?: boolean; focus?: boolean; expand?: boolean }): Thenable<void> {
  return view.reveal(element, options);
}
