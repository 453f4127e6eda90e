// Types of run-exthost-tests.mjs, for the TypeScript tests that drive it.
export const ENTRIES: string[];
export interface Bundles {
  dir: string;
  harness: string;
  cleanup(): void;
}
export function buildExthostTests(): Promise<Bundles>;

export interface RunOptions {
  bundles: Bundles;
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
