// Thin wrappers over `vscode.window`.
import {
  window,
  type InputBoxOptions,
  type LogOutputChannel,
  type MessageItem,
  type StatusBarAlignment,
  type StatusBarItem,
  type TextDocument,
  type TextDocumentShowOptions,
  type TextEditor,
  type TreeView,
  type TreeViewOptions,
  type Uri,
  type WorkspaceFolder,
  type WorkspaceFolderPickOptions,
} from "vscode";

export function createLogOutputChannel(name: string): LogOutputChannel {
  return window.createOutputChannel(name, { log: true });
}

export function createTreeView<T>(viewId: string, options: TreeViewOptions<T>): TreeView<T> {
  return window.createTreeView(viewId, options);
}

export function createStatusBarItem(id: string, alignment: StatusBarAlignment, priority: number): StatusBarItem {
  return window.createStatusBarItem(id, alignment, priority);
}

export function showInformationMessage(message: string, ...items: string[]): Thenable<string | undefined> {
  return window.showInformationMessage(message, ...items);
}

export function showWarningMessage(message: string, ...items: string[]): Thenable<string | undefined> {
  return window.showWarningMessage(message, ...items);
}

export function showErrorMessage(message: string, ...items: string[]): Thenable<string | undefined> {
  return window.showErrorMessage(message, ...items);
}

export function showInputBox(options: InputBoxOptions): Thenable<string | undefined> {
  return window.showInputBox(options);
}

export function showWorkspaceFolderPick(options?: WorkspaceFolderPickOptions): Thenable<WorkspaceFolder | undefined> {
  return window.showWorkspaceFolderPick(options);
}

export function showTextDocument(document: TextDocument | Uri, options?: TextDocumentShowOptions): Thenable<TextEditor> {
  return window.showTextDocument(document as TextDocument, options);
}

export type { MessageItem };

export function setStatusBarMessage(text: string, hideAfterMs: number): { dispose(): unknown } {
  return window.setStatusBarMessage(text, hideAfterMs);
}
