// Job files that could not be loaded because they hang (an endless loop at import time) or kill
// the code-location process get a notification, once per problem, besides their diagnostic and
// their entry in the Definitions view: the user may not have the file open.
import { relative } from "node:path";
import { Position, Range, Uri, type Disposable } from "vscode";
import { executeCommand } from "../common/commandApis";
import { RunMessages } from "../common/localize";
import { showWarningMessage } from "../common/windowApis";
import type { DefinitionsUpdate } from "./port";

/** Load errors worth a notification: the engine had to stop the import. */
export function isHangOrCrash(e: { kind: string; message: string }): boolean {
  return e.kind === "timeout" || (e.kind === "import" && /killed the code-location process/.test(e.message));
}

export class LoadErrorNotifier implements Disposable {
  private shown = new Set<string>();
  private readonly sub: { dispose(): unknown };

  constructor(onDefinitions: (l: (u: DefinitionsUpdate) => void) => { dispose(): unknown }, private readonly workspaceRoot: () => string | undefined) {
    this.sub = onDefinitions((u) => this.update(u));
  }

  /** Notifies new hang/crash errors; forgets fixed ones (so that they are told again if they come back). */
  update(u: DefinitionsUpdate): string[] {
    const now = new Set<string>();
    const told: string[] = [];
    for (const e of u.snapshot.errors) {
      if (!isHangOrCrash(e)) continue;
      const key = `${e.file}\u0000${e.kind}`;
      now.add(key);
      if (this.shown.has(key)) continue;
      const root = this.workspaceRoot();
      const shown = root ? relative(root, e.file) : e.file;
      const text = RunMessages.hungJobFile(shown, e.message);
      told.push(text);
      void showWarningMessage(text, RunMessages.openFile()).then((choice) => {
        if (!choice) return;
        const pos = new Position(Math.max(0, e.line - 1), Math.max(0, e.column - 1));
        void executeCommand("vscode.open", Uri.file(e.file), { selection: new Range(pos, pos) });
      });
    }
    this.shown = now;
    return told;
  }

  dispose(): void {
    this.sub.dispose();
  }
}
