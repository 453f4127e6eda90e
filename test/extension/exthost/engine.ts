// Entry of the engine's in-host tests (bundled to .vscode-test/exthost-*/engine.js): a trusted
// workspace of its own, so that its runs and job files do not meet the other suites'.
import { engineSuite } from "./engine.suite";
import { runSuites } from "./mochaRunner";

export function run(): Promise<void> {
  return runSuites("engine", [engineSuite]);
}
