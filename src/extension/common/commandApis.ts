// Thin wrappers over `vscode.commands`: the rest of the extension calls these, so the logic above
// them can be exercised against a stubbed `vscode` module.
import { commands, type Disposable } from "vscode";

export function registerCommand(id: string, handler: (...args: any[]) => unknown): Disposable {
  return commands.registerCommand(id, handler);
}

export function executeCommand<T = unknown>(id: string, ...args: unknown[]): Thenable<T> {
  return commands.executeCommand<T>(id, ...args);
}

/** Sets a context key for `when` clauses. */
export function setContext(key: string, value: unknown): Thenable<unknown> {
  return commands.executeCommand("setContext", key, value);
}
