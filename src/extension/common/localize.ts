// Every user-facing string of the extension's code, through `vscode.l10n.t` (manifest strings live
// in package.nls.json). Keep each message a literal first argument of `l10n.t`: the l10n bundle
// (l10n/bundle.l10n.json) is checked against this file by test/extension/l10n.test.ts.
import { l10n } from "vscode";

export const Common = {
  manageTrust: () => l10n.t("Manage Workspace Trust"),
  showLog: () => l10n.t("Show Log"),
  commandFailed: (error: string) => l10n.t("Sluice: {0}", error),
};

export const EngineMessages = {
  notAvailable: (action: string) =>
    l10n.t("{0}: the Sluice engine is not running (see the Sluice log; Refresh starts it again).", action),
  notYetImplemented: (action: string) => l10n.t("{0} is not available yet.", action),
  untrusted: (action: string) =>
    l10n.t("{0}: Sluice runs nothing in a workspace that you have not trusted.", action),
  starting: (action: string) => l10n.t("{0}: the Sluice engine is still starting, try again in a moment.", action),
  failedToStart: (error: string) => l10n.t("The Sluice engine failed to start: {0}", error),
  cancelRequested: (runId: string) => l10n.t("Cancelling run {0}…", runId),
};

export const Actions = {
  runJob: () => l10n.t("Run job"),
  runOpSelection: () => l10n.t("Run op selection"),
  openLaunchpad: () => l10n.t("Open launchpad"),
  showInGraph: () => l10n.t("Show in graph"),
  openGraph: () => l10n.t("Open graph"),
  openRuns: () => l10n.t("Open runs"),
  openRunDetail: () => l10n.t("Open run detail"),
  openConcurrency: () => l10n.t("Open concurrency"),
  materializeAsset: () => l10n.t("Materialize asset"),
  materializeWithUpstream: () => l10n.t("Materialize with upstream"),
  openRunLogs: () => l10n.t("Open run logs"),
  cancelRun: () => l10n.t("Cancel run"),
  reexecuteRun: () => l10n.t("Re-execute run"),
  reexecuteFromFailure: () => l10n.t("Re-execute from failure"),
};

export const CodeLensLabels = {
  runJob: () => l10n.t("▶ Run job"),
  runOpSelection: () => l10n.t("Run op selection…"),
  openLaunchpad: () => l10n.t("Open launchpad"),
  showInGraph: () => l10n.t("Show in graph"),
  materialize: () => l10n.t("Materialize"),
  materializeWithUpstream: () => l10n.t("Materialize with upstream"),
  runWith: (file: string) => l10n.t("Run with {0}", file),
};

export const OpSelectionMessages = {
  title: (job: string) => l10n.t("Run op selection of {0}", job),
  placeholder: () => l10n.t("Dagster op selection, e.g. *add_two, orders+, a, b++ (empty: the whole job)"),
  help: () => l10n.t("Clauses: name, *name (all upstream), name+ (one level down), +name+; separate them with commas."),
  wholeJob: (total: number) => l10n.t("Empty: all {0} op(s) of the job. Press Enter to launch.", total),
  selects: (count: number, total: number, names: string) => l10n.t("Selects {0} of {1} op(s): {2}. Press Enter to launch.", count, total, names),
  nothingSelected: () => l10n.t("The query selects no ops."),
  notLoaded: (job: string) => l10n.t("The definitions of {0} are not loaded yet (see the Definitions view).", job),
};

export const RunMessages = {
  launchedQueued: (job: string, runId: string) => l10n.t("Queued {0} (run {1}).", job, runId),
  launchedNow: (job: string, runId: string) => l10n.t("Started {0} (run {1}).", job, runId),
  reexecuted: (runId: string, newRunId: string) => l10n.t("Re-executing run {0} as run {1}.", runId, newRunId),
  hungJobFile: (file: string, message: string) => l10n.t("Sluice could not load {0}: {1}", file, message),
  openFile: () => l10n.t("Open File"),
  clientMode: (pid: number, role: string) =>
    l10n.t("Another process owns this workspace's .sluice (pid {0}, {1}): Sluice sends its runs there and follows them.", pid, role),
  restarting: () => l10n.t("Restarting the Sluice engine…"),
};

export const ArgMessages = {
  noRun: () => l10n.t("Select a run in the Runs view first."),
  noJob: () => l10n.t("Run this command from a job's CodeLens or from the Definitions view."),
  noAsset: () => l10n.t("Run this command from an asset's CodeLens or from the Definitions view."),
  runIdCopied: (runId: string) => l10n.t("Copied run ID {0}.", runId),
};

export const NewJobFileMessages = {
  noFolder: () => l10n.t("Open a folder first: Sluice writes the job file into the workspace."),
  pickFolder: () => l10n.t("Workspace folder for the new job file"),
  promptIn: (folder: string) => l10n.t("Path of the new job file, relative to {0}", folder),
  badExtension: () => l10n.t("Use a .ts, .mts, .cts, .js, .mjs or .cjs file name."),
  absolute: () => l10n.t("Use a path relative to the folder."),
  exists: (path: string) => l10n.t("{0} already exists.", path),
  badName: () => l10n.t("Start the file name with a letter; use letters, digits, '_' and '-'."),
  created: (path: string) => l10n.t("Created {0}.", path),
};

export const RunsViewLabels = {
  inProgress: () => l10n.t("In progress"),
  queued: () => l10n.t("Queued"),
  recent: () => l10n.t("Recent"),
  failedBadge: (count: number) => l10n.t("{0} failed run(s) since you last looked", count),
  runTooltipStatus: (job: string, status: string) => l10n.t("{0} — {1}", job, status),
  runTooltipId: (runId: string) => l10n.t("Run {0}", runId),
  created: (when: string) => l10n.t("Created {0}", when),
  started: (when: string) => l10n.t("Started {0}", when),
  duration: (duration: string) => l10n.t("Duration {0}", duration),
  waiting: (reason: string) => l10n.t("Waiting: {0}", reason),
  queuedFor: (duration: string) => l10n.t("queued {0}", duration),
  justNow: () => l10n.t("just now"),
  ago: (duration: string) => l10n.t("{0} ago", duration),
};

export const DefinitionsViewLabels = {
  jobs: () => l10n.t("Jobs"),
  assets: () => l10n.t("Assets"),
  pools: () => l10n.t("Pools"),
  schedules: () => l10n.t("Schedules"),
  sensors: () => l10n.t("Sensors"),
  problems: () => l10n.t("Problems"),
  assetJob: () => l10n.t("asset job"),
  ops: (count: number) => l10n.t("{0} op(s)", count),
  poolLimit: (limit: number) => l10n.t("limit {0}", limit),
  poolUnlimited: () => l10n.t("no limit"),
  poolUsage: (used: number, limit: number) => l10n.t("{0}/{1} in use", used, limit),
  running: () => l10n.t("running"),
  stopped: () => l10n.t("stopped"),
  noneYet: () => l10n.t("none yet"),
  schedulesLater: () => l10n.t("Schedules and sensors are not supported yet; run jobs from their CodeLens or this view."),
};

export const StatusBarLabels = {
  name: () => l10n.t("Sluice"),
  idle: () => l10n.t("Sluice"),
  running: (running: number, queued: number) =>
    queued > 0 ? l10n.t("{0} running · {1} queued", running, queued) : l10n.t("{0} running", running),
  queuedOnly: (queued: number) => l10n.t("{0} queued", queued),
  lastFailed: (job: string) => l10n.t("{0} failed", job),
  tooltipReady: () => l10n.t("Sluice: show the Runs view"),
  tooltipStarting: () => l10n.t("Sluice: the engine is starting"),
  tooltipUnavailable: () => l10n.t("Sluice: the engine is not running (see the Sluice log)"),
};

export const LanguageMessages = {
  unknownJob: (job: string) =>
    l10n.t("No job named `{0}` is defined in this workspace (a run config file is named after its job: `<job>.run.yaml`).", job),
  didYouMean: (name: string) => l10n.t("Did you mean `{0}`?", name),
  someFilesFailed: () => l10n.t("Some job files failed to load (see the Problems view)."),
  hoverValue: (expect: string) => l10n.t("Value: {0}", expect),
  hoverDefault: (value: string) => l10n.t("Default: {0}", value),
  hoverAllowed: (values: string) => l10n.t("Allowed values: {0}", values),
  hoverChoices: (values: string) => l10n.t("One of: {0}", values),
  completionDefault: () => l10n.t("default"),
  replaceWith: (value: string) => l10n.t("Replace with {0}", value),
  renameFileTo: (name: string) => l10n.t("Rename the file to {0}", name),
};
