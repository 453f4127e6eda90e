// Identifiers shared by the manifest (package.json `contributes`) and the code. A unit test checks
// that both sides list the same commands and views.

export const EXTENSION_ID = "sluice.sluice";
export const OUTPUT_CHANNEL_NAME = "Sluice";

export const Commands = {
  runJob: "sluice.runJob",
  runOpSelection: "sluice.runOpSelection",
  openLaunchpad: "sluice.openLaunchpad",
  showInGraph: "sluice.showInGraph",
  materializeAsset: "sluice.materializeAsset",
  materializeWithUpstream: "sluice.materializeWithUpstream",
  openRunLogs: "sluice.openRunLogs",
  cancelRun: "sluice.cancelRun",
  reexecuteRun: "sluice.reexecuteRun",
  reexecuteFromFailure: "sluice.reexecuteFromFailure",
  copyRunId: "sluice.copyRunId",
  newJobFile: "sluice.newJobFile",
  showOutput: "sluice.showOutput",
  refresh: "sluice.refresh",
  openGraph: "sluice.openGraph",
  openRuns: "sluice.openRuns",
  openRunDetail: "sluice.openRunDetail",
  openConcurrency: "sluice.openConcurrency",
} as const;
export type CommandId = (typeof Commands)[keyof typeof Commands];

export const Views = {
  container: "sluice",
  runs: "sluice.runs",
  definitions: "sluice.definitions",
} as const;

/** Context keys used in `when` clauses of the manifest. */
export const ContextKeys = {
  /** One of EngineState: "starting" | "ready" | "unavailable" | "untrusted". */
  engineState: "sluice.engineState",
} as const;

/** `contextValue` prefixes of tree items; menus match them with `viewItem =~ /^sluiceRun\b/`. */
export const ItemContext = {
  run: "sluiceRun",
  runGroup: "sluiceRunGroup",
  job: "sluiceJob",
  asset: "sluiceAsset",
  definitionGroup: "sluiceDefinitionGroup",
  definition: "sluiceDefinition",
} as const;
