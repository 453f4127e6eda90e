// Thin wrappers over `vscode.workspace` and `vscode.env`.
import { env, FileType, Uri, workspace, type Disposable, type WorkspaceFolder } from "vscode";

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

export { FileType, Uri };
