// Types of run-exthost-tests.mjs, for the TypeScript tests that drive it.
export const EXTHOST_OUT: string;
export const ENTRIES: string[];
export function buildExthostTests(): Promise<string>;

export interface RunOptions {
  entry: string;
  workspace: string;
  extensionsDir: string;
  trusted?: boolean;
  timeoutSec?: number;
  verbose?: boolean;
  echo?: boolean;
}
export interface RunResult {
  exitCode: number;
  output: string;
  startMs: number;
  testsMs: number;
}
export function runExtensionHostTests(options: RunOptions): Promise<RunResult>;
