// Thin wrappers over `vscode.workspace` and `vscode.env`.
import {
  env,
  FileType,
  Uri,
  workspace,
  type Disposable,
  type FileSystemWatcher,
  type GlobPattern,
  type TextDocument,
  type TextDocumentChangeEvent,
  type WorkspaceFolder,
} from "vscode";

export function getWorkspaceFolders(): readonly WorkspaceFolder[] {
  return workspace.workspaceFolders ?? [];
}

export function getWorkspaceFolder(uri: Uri): WorkspaceFolder | undefined {
  return workspace.getWorkspaceFolder(uri);
}

export function isWorkspaceTrusted(): boolean {
  return workspace.isTrusted;
}

export function onDidGrantWorkspaceTrust(listener: () => void): Disposable {
  return workspace.onDidGrantWorkspaceTrust(listener);
}

/** The type of the file or folder at `uri`, or undefined when nothing is there. */
export async function statType(uri: Uri): Promise<FileType | undefined> {
  try {
    return (await workspace.fs.stat(uri)).type;
  } catch {
    return undefined;
  }
}

/** Writes a file, creating its parent folders (workspace.fs.writeFile does). */
export async function writeFile(uri: Uri, content: string): Promise<void> {
  await workspace.fs.writeFile(uri, new TextEncoder().encode(content));
}

export async function writeClipboard(text: string): Promise<void> {
  await env.clipboard.writeText(text);
}

/** Reads a file as UTF-8 text; undefined when it cannot be read. */
export async function readTextFile(uri: Uri): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await workspace.fs.readFile(uri));
  } catch {
    return undefined;
  }
}

export function getTextDocuments(): readonly TextDocument[] {
  return workspace.textDocuments;
}

export function onDidOpenTextDocument(listener: (d: TextDocument) => void): Disposable {
  return workspace.onDidOpenTextDocument(listener);
}

export function onDidChangeTextDocument(listener: (e: TextDocumentChangeEvent) => void): Disposable {
  return workspace.onDidChangeTextDocument(listener);
}

export function onDidSaveTextDocument(listener: (d: TextDocument) => void): Disposable {
  return workspace.onDidSaveTextDocument(listener);
}

export function onDidCloseTextDocument(listener: (d: TextDocument) => void): Disposable {
  return workspace.onDidCloseTextDocument(listener);
}

export function findFiles(include: GlobPattern, exclude?: GlobPattern, maxResults?: number): Thenable<Uri[]> {
  return workspace.findFiles(include, exclude, maxResults);
}

export function createFileSystemWatcher(pattern: GlobPattern): FileSystemWatcher {
  return workspace.createFileSystemWatcher(pattern);
}

export { FileType, Uri };
