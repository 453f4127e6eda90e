// Entry of the in-host tests in a trusted workspace (bundled to .vscode-test/exthost/trusted.js).
import { diagnosticsSuite } from "./diagnostics.suite";
import { manifestSuite } from "./manifest.suite";
import { newJobFileSuite } from "./newJobFile.suite";
import { runSuites } from "./mochaRunner";
import { sdkTypesSuite } from "./sdkTypes.suite";

export function run(): Promise<void> {
  return runSuites("trusted", [manifestSuite, sdkTypesSuite, newJobFileSuite, diagnosticsSuite]);
}
