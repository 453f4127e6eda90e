// The Runs view: runs grouped In progress / Queued / Recent, each with a status icon, its job,
// duration or why it waits, and a contextValue that the manifest's menus match on
// ("sluiceRun cancelable", "sluiceRun finished failed", ...).
import {
  EventEmitter,
  MarkdownString,
  ThemeColor,
  ThemeIcon,
  TreeItem,
  TreeItemCollapsibleState,
  type Disposable,
  type Event,
  type TreeDataProvider,
} from "vscode";
import { Actions, RunsViewLabels } from "../common/localize";
import { Commands, ItemContext } from "../constants";
import type { RunsSource } from "../engine/engineHost";
import type { RunStatus, RunSummary } from "../engine/port";
import { formatDuration, formatTimestamp, shortRunId } from "./format";

export type RunGroupId = "inProgress" | "queued" | "recent";

/** Which group a status belongs to; exhaustive over the engine's statuses. */
export const GROUP_OF_STATUS: Record<RunStatus, RunGroupId> = {
  QUEUED: "queued",
  NOT_STARTED: "queued",
  MANAGED: "inProgress",
  STARTING: "inProgress",
  STARTED: "inProgress",
  CANCELING: "inProgress",
  SUCCESS: "recent",
  FAILURE: "recent",
  CANCELED: "recent",
};

const CANCELABLE: ReadonlySet<RunStatus> = new Set<RunStatus>(["QUEUED", "NOT_STARTED", "STARTING", "STARTED"]);

const ICON_OF_STATUS: Record<RunStatus, [icon: string, color?: string]> = {
  QUEUED: ["clock", "charts.yellow"],
  NOT_STARTED: ["circle-outline"],
  MANAGED: ["circle-outline"],
  STARTING: ["loading~spin"],
  STARTED: ["sync~spin", "charts.blue"],
  CANCELING: ["loading~spin", "charts.orange"],
  SUCCESS: ["pass", "testing.iconPassed"],
  FAILURE: ["error", "testing.iconFailed"],
  CANCELED: ["circle-slash", "disabledForeground"],
};

/** How many finished runs the Recent group lists. */
export const RECENT_LIMIT = 50;

export interface RunGroupNode {
  readonly kind: "runGroup";
  readonly group: RunGroupId;
  readonly runs: readonly RunSummary[];
}

export interface RunNode {
  readonly kind: "run";
  readonly run: RunSummary;
}

export type RunsTreeNode = RunGroupNode | RunNode;

/** Context value of a run item: "sluiceRun" plus flags the menus test with `=~ /\bflag\b/`. */
export function runContextValue(status: RunStatus): string {
  const flags: string[] = [ItemContext.run];
  if (CANCELABLE.has(status)) flags.push("cancelable");
  if (GROUP_OF_STATUS[status] === "recent") flags.push("finished");
  if (status === "FAILURE") flags.push("failed");
  return flags.join(" ");
}

/** Groups runs, newest first in each group; empty groups are left out. */
export function groupRuns(runs: readonly RunSummary[]): RunGroupNode[] {
  const by: Record<RunGroupId, RunSummary[]> = { inProgress: [], queued: [], recent: [] };
  for (const r of runs) by[GROUP_OF_STATUS[r.status] ?? "recent"].push(r);
  const newest = (a: RunSummary, b: RunSummary) =>
    (b.endTime ?? b.startTime ?? b.createTime) - (a.endTime ?? a.startTime ?? a.createTime);
  by.inProgress.sort(newest);
  // the queue is FIFO: show the run that goes next first
  by.queued.sort((a, b) => a.createTime - b.createTime);
  by.recent.sort(newest);
  by.recent = by.recent.slice(0, RECENT_LIMIT);
  return (["inProgress", "queued", "recent"] as const)
    .filter((g) => by[g].length > 0)
    .map((group) => ({ kind: "runGroup", group, runs: by[group] }));
}

/** The description next to a run's job name. */
export function runDescription(run: RunSummary, now: number): string {
  const id = shortRunId(run.runId);
  switch (GROUP_OF_STATUS[run.status]) {
    case "queued":
      return run.queueReason ? `${id} · ${run.queueReason}` : `${id} · ${RunsViewLabels.queuedFor(formatDuration(now - run.createTime))}`;
    case "inProgress":
      return run.startTime ? `${id} · ${formatDuration(now - run.startTime)}` : id;
    default:
      return run.startTime && run.endTime ? `${id} · ${formatDuration(run.endTime - run.startTime)}` : id;
  }
}

export function runTooltip(run: RunSummary, now: number): MarkdownString {
  const lines = [
    `**${escape(RunsViewLabels.runTooltipStatus(run.jobName, run.status))}**`,
    "",
    escape(RunsViewLabels.runTooltipId(run.runId)),
    "",
    escape(RunsViewLabels.created(formatTimestamp(run.createTime))),
  ];
  if (run.startTime) lines.push("", escape(RunsViewLabels.started(formatTimestamp(run.startTime))));
  if (run.startTime) lines.push("", escape(RunsViewLabels.duration(formatDuration((run.endTime ?? now) - run.startTime))));
  if (run.queueReason) lines.push("", escape(RunsViewLabels.waiting(run.queueReason)));
  return new MarkdownString(lines.join("\n"));
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, "\\$&");
}

/** Failed runs that ended after `lastLook` (ms): the view's badge. */
export function failedSince(runs: readonly RunSummary[], lastLook: number): number {
  return runs.filter((r) => r.status === "FAILURE" && (r.endTime ?? r.createTime) > lastLook).length;
}

export class RunsTreeDataProvider implements TreeDataProvider<RunsTreeNode>, Disposable {
  private readonly changeEmitter = new EventEmitter<RunsTreeNode | undefined | void>();
  private readonly subscription: Disposable;
  private timer: ReturnType<typeof setInterval> | undefined;
  readonly onDidChangeTreeData: Event<RunsTreeNode | undefined | void> = this.changeEmitter.event;

  constructor(
    private readonly source: RunsSource,
    private readonly now: () => number = Date.now,
  ) {
    this.subscription = source.onDidChangeRuns(() => this.refresh());
  }

  refresh(): void {
    this.changeEmitter.fire();
    this.updateTicker();
  }

  getChildren(node?: RunsTreeNode): RunsTreeNode[] {
    if (!node) return groupRuns(this.source.getRuns());
    if (node.kind === "runGroup") return node.runs.map((run) => ({ kind: "run", run }));
    return [];
  }

  /** For TreeView.reveal: a run's parent is its group. */
  getParent(node: RunsTreeNode): RunsTreeNode | undefined {
    if (node.kind !== "run") return undefined;
    return groupRuns(this.source.getRuns()).find((g) => g.group === GROUP_OF_STATUS[node.run.status]);
  }

  getTreeItem(node: RunsTreeNode): TreeItem {
    const now = this.now();
    if (node.kind === "runGroup") {
      const item = new TreeItem(RunsViewLabels[node.group](), TreeItemCollapsibleState.Expanded);
      item.id = `group:${node.group}`;
      item.description = String(node.runs.length);
      item.contextValue = `${ItemContext.runGroup} ${node.group}`;
      return item;
    }
    const { run } = node;
    const item = new TreeItem(run.jobName, TreeItemCollapsibleState.None);
    item.id = `run:${run.runId}`;
    item.description = runDescription(run, now);
    item.tooltip = runTooltip(run, now);
    const [icon, color] = ICON_OF_STATUS[run.status] ?? ["circle-outline"];
    item.iconPath = new ThemeIcon(icon, color ? new ThemeColor(color) : undefined);
    item.contextValue = runContextValue(run.status);
    item.command = { command: Commands.openRunLogs, title: Actions.openRunLogs(), arguments: [run.runId] };
    return item;
  }

  /** While runs are in progress, durations tick: refresh every second. */
  private updateTicker(): void {
    const live = this.source.getRuns().some((r) => GROUP_OF_STATUS[r.status] !== "recent");
    if (live && !this.timer) {
      this.timer = setInterval(() => this.changeEmitter.fire(), 1000);
    } else if (!live && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }
}
