// Entry of the in-host tests in an untrusted workspace (bundled to .vscode-test/exthost/untrusted.js).
import { runSuites } from "./mochaRunner";
import { untrustedSuite } from "./untrusted.suite";

export function run(): Promise<void> {
  return runSuites("untrusted", [untrustedSuite]);
}
