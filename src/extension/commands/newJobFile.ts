// `Sluice: New Job File`: asks for a path (default `pipelines/hello_job.ts`), writes the example
// job file there and opens it. Invoked from the Explorer's context menu on a folder, the path is
// relative to that folder. Tests and other callers may pass `{ folder, path }` to skip the prompt.
import type { Uri, WorkspaceFolder } from "vscode";
import { NewJobFileMessages } from "../common/localize";
import { traceInfo } from "../common/log";
import { showErrorMessage, showInputBox, showTextDocument, showWorkspaceFolderPick } from "../common/windowApis";
import { FileType, getWorkspaceFolder, getWorkspaceFolders, statType, Uri as UriClass, writeFile } from "../common/workspaceApis";
import { flavorOf, JOB_FILE_EXTENSIONS, jobFileTemplate, jobNameForFile } from "./jobFileTemplate";

export interface NewJobFileArgs {
  /** Folder the path is relative to (default: the workspace folder). */
  folder?: Uri;
  /** Relative path of the file; when given, no prompt is shown. */
  path?: string;
  /** Open the file in an editor (default true). */
  open?: boolean;
}

/** Why `relPath` is not acceptable as a new job file's path, or undefined when it is. */
export function validateJobFilePath(relPath: string): string | undefined {
  const p = relPath.trim();
  if (p.startsWith("/") || p.startsWith("\\") || /^[A-Za-z]:/.test(p) || p.split(/[\\/]/).includes("..")) {
    return NewJobFileMessages.absolute();
  }
  if (!JOB_FILE_EXTENSIONS.some((ext) => p.endsWith(ext))) return NewJobFileMessages.badExtension();
  const base = p.split(/[\\/]/).pop() ?? "";
  if (!/^[A-Za-z][A-Za-z0-9_-]*\.[a-z]+$/.test(base)) return NewJobFileMessages.badName();
  return undefined;
}

function isUri(v: unknown): v is Uri {
  return typeof v === "object" && v !== null && "scheme" in v && "fsPath" in v;
}

async function exists(uri: Uri): Promise<boolean> {
  return (await statType(uri)) !== undefined;
}

/** `pipelines/hello_job.ts`, or `pipelines/hello_job_2.ts` ... when taken. */
async function defaultPath(folder: Uri, inWorkspaceRoot: boolean): Promise<string> {
  const dir = inWorkspaceRoot ? "pipelines/" : "";
  for (let i = 1; ; i++) {
    const candidate = `${dir}hello${i === 1 ? "" : `_${i}`}_job.ts`;
    if (!(await exists(UriClass.joinPath(folder, candidate)))) return candidate;
  }
}

async function pickFolder(arg: unknown): Promise<{ folder: Uri; isRoot: boolean } | undefined> {
  if (isUri(arg)) {
    const type = await statType(arg);
    const folder = type === FileType.Directory ? arg : UriClass.joinPath(arg, "..");
    const ws = getWorkspaceFolder(folder);
    return { folder, isRoot: ws !== undefined && ws.uri.toString() === folder.toString() };
  }
  const folders = getWorkspaceFolders();
  if (folders.length === 0) return undefined;
  let ws: WorkspaceFolder | undefined = folders[0];
  if (folders.length > 1) ws = await showWorkspaceFolderPick({ placeHolder: NewJobFileMessages.pickFolder() });
  return ws ? { folder: ws.uri, isRoot: true } : undefined;
}

/** Returns the new file's Uri, or undefined when cancelled or refused. */
export async function newJobFile(arg?: Uri | NewJobFileArgs): Promise<Uri | undefined> {
  const args: NewJobFileArgs = isUri(arg) ? { folder: arg } : (arg ?? {});
  if (getWorkspaceFolders().length === 0) {
    void showErrorMessage(NewJobFileMessages.noFolder());
    return undefined;
  }
  const picked = await pickFolder(args.folder);
  if (!picked) return undefined;
  const { folder } = picked;

  let relPath = args.path;
  if (relPath === undefined) {
    const value = await defaultPath(folder, picked.isRoot);
    const start = value.lastIndexOf("/") + 1;
    relPath = await showInputBox({
      prompt: NewJobFileMessages.promptIn(folder.path.split("/").pop() ?? folder.path),
      value,
      valueSelection: [start, value.lastIndexOf(".")],
      validateInput: async (v) => validateJobFilePath(v) ?? ((await exists(UriClass.joinPath(folder, v.trim()))) ? NewJobFileMessages.exists(v.trim()) : undefined),
    });
    if (relPath === undefined) return undefined;
  }
  relPath = relPath.trim();
  const problem = validateJobFilePath(relPath);
  if (problem) {
    void showErrorMessage(problem);
    return undefined;
  }
  const target = UriClass.joinPath(folder, relPath);
  if (await exists(target)) {
    void showErrorMessage(NewJobFileMessages.exists(relPath));
    return undefined;
  }
  const jobName = jobNameForFile(relPath);
  await writeFile(target, jobFileTemplate(jobName, flavorOf(relPath)));
  traceInfo(`New job file ${target.fsPath} (job ${jobName}).`);
  if (args.open !== false) await showTextDocument(target, { preview: false });
  return target;
}
