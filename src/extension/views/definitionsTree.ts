// The Definitions view: the workspace's jobs, assets, pools, schedules and sensors, plus the
// problems found while loading job files. Clicking an item opens its source.
import {
  EventEmitter,
  Position,
  Range,
  ThemeColor,
  ThemeIcon,
  TreeItem,
  TreeItemCollapsibleState,
  Uri,
  type Disposable,
  type Event,
  type TreeDataProvider,
} from "vscode";
import { DefinitionsViewLabels } from "../common/localize";
import { ItemContext } from "../constants";
import type { DefinitionsSource } from "../engine/engineHost";
import type {
  AssetInfo,
  DefinitionProblem,
  DefinitionsModel,
  JobInfo,
  PoolInfo,
  ScheduleInfo,
  SensorInfo,
  SourceLocation,
} from "../engine/port";

export type DefinitionGroupId = "jobs" | "assets" | "pools" | "schedules" | "sensors" | "problems";

export type DefinitionEntry =
  | { kind: "job"; info: JobInfo }
  | { kind: "asset"; info: AssetInfo }
  | { kind: "pool"; info: PoolInfo }
  | { kind: "schedule"; info: ScheduleInfo }
  | { kind: "sensor"; info: SensorInfo }
  | { kind: "problem"; info: DefinitionProblem };

export interface DefinitionGroupNode {
  readonly kind: "definitionGroup";
  readonly group: DefinitionGroupId;
  readonly entries: readonly DefinitionEntry[];
}

export interface DefinitionNode {
  readonly kind: "definition";
  readonly entry: DefinitionEntry;
}

export type DefinitionsTreeNode = DefinitionGroupNode | DefinitionNode;

const byName = <T>(key: (t: T) => string) => (a: T, b: T) => key(a).localeCompare(key(b));

/** Groups the model; empty groups are left out, so an empty model shows the welcome content. */
export function groupDefinitions(model: DefinitionsModel): DefinitionGroupNode[] {
  const groups: DefinitionGroupNode[] = [
    { kind: "definitionGroup", group: "problems", entries: model.problems.map((info) => ({ kind: "problem", info })) },
    { kind: "definitionGroup", group: "jobs", entries: [...model.jobs].sort(byName((j) => j.name)).map((info) => ({ kind: "job", info })) },
    { kind: "definitionGroup", group: "assets", entries: [...model.assets].sort(byName((a) => a.key)).map((info) => ({ kind: "asset", info })) },
    { kind: "definitionGroup", group: "pools", entries: [...model.pools].sort(byName((p) => p.name)).map((info) => ({ kind: "pool", info })) },
    { kind: "definitionGroup", group: "schedules", entries: [...model.schedules].sort(byName((s) => s.name)).map((info) => ({ kind: "schedule", info })) },
    { kind: "definitionGroup", group: "sensors", entries: [...model.sensors].sort(byName((s) => s.name)).map((info) => ({ kind: "sensor", info })) },
  ];
  // Schedules are not supported yet: their group stays visible (empty, saying so) once anything is defined.
  const anything = model.jobs.length + model.assets.length > 0;
  return groups.filter((g) => g.entries.length > 0 || (g.group === "schedules" && anything));
}

const GROUP_ICON: Record<DefinitionGroupId, string> = {
  jobs: "run-all",
  assets: "database",
  pools: "server-process",
  schedules: "calendar",
  sensors: "radio-tower",
  problems: "warning",
};

export function entryName(entry: DefinitionEntry): string {
  switch (entry.kind) {
    case "asset":
      return entry.info.key;
    case "problem":
      return entry.info.message;
    default:
      return entry.info.name;
  }
}

export function entryDescription(entry: DefinitionEntry): string | undefined {
  switch (entry.kind) {
    case "job": {
      const parts: string[] = [];
      if (entry.info.kind === "assetJob") parts.push(DefinitionsViewLabels.assetJob());
      if (entry.info.opCount !== undefined) parts.push(DefinitionsViewLabels.ops(entry.info.opCount));
      return parts.join(" · ") || undefined;
    }
    case "asset":
      return entry.info.group;
    case "pool": {
      const { limit, used } = entry.info;
      if (limit === null) return DefinitionsViewLabels.poolUnlimited();
      return used !== undefined ? DefinitionsViewLabels.poolUsage(used, limit) : DefinitionsViewLabels.poolLimit(limit);
    }
    case "schedule":
    case "sensor": {
      const state = entry.info.running === undefined ? undefined : entry.info.running ? DefinitionsViewLabels.running() : DefinitionsViewLabels.stopped();
      const cron = entry.kind === "schedule" ? entry.info.cron : undefined;
      return [cron, entry.info.jobName, state].filter(Boolean).join(" · ") || undefined;
    }
    case "problem":
      return `${baseName(entry.info.file)}:${entry.info.line}`;
  }
}

function baseName(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

export function entrySource(entry: DefinitionEntry): SourceLocation | undefined {
  switch (entry.kind) {
    case "pool":
      return undefined;
    case "problem":
      return entry.info;
    default:
      return entry.info.source;
  }
}

function entryIcon(entry: DefinitionEntry): ThemeIcon {
  switch (entry.kind) {
    case "job":
      return new ThemeIcon(entry.info.kind === "assetJob" ? "layers" : "run-all");
    case "asset":
      return new ThemeIcon(entry.info.kind === "graphAsset" ? "type-hierarchy" : "database");
    case "pool":
      return new ThemeIcon("server-process");
    case "schedule":
      return new ThemeIcon("calendar");
    case "sensor":
      return new ThemeIcon("radio-tower");
    case "problem":
      return new ThemeIcon("error", new ThemeColor("problemsErrorIcon.foreground"));
  }
}

function entryContext(entry: DefinitionEntry): string {
  switch (entry.kind) {
    case "job":
      return `${ItemContext.job} ${entry.info.kind}`;
    case "asset":
      return `${ItemContext.asset} ${entry.info.kind}`;
    default:
      return `${ItemContext.definition} ${entry.kind}`;
  }
}

/** The command that opens a 1-based source location. */
export function openSourceCommand(loc: SourceLocation, title: string) {
  const pos = new Position(Math.max(0, loc.line - 1), Math.max(0, loc.column - 1));
  return { command: "vscode.open", title, arguments: [Uri.file(loc.file), { selection: new Range(pos, pos) }] };
}

export class DefinitionsTreeDataProvider implements TreeDataProvider<DefinitionsTreeNode>, Disposable {
  private readonly changeEmitter = new EventEmitter<DefinitionsTreeNode | undefined | void>();
  private readonly subscription: Disposable;
  readonly onDidChangeTreeData: Event<DefinitionsTreeNode | undefined | void> = this.changeEmitter.event;

  constructor(private readonly source: DefinitionsSource) {
    this.subscription = source.onDidChangeDefinitions(() => this.refresh());
  }

  refresh(): void {
    this.changeEmitter.fire();
  }

  getChildren(node?: DefinitionsTreeNode): DefinitionsTreeNode[] {
    if (!node) return groupDefinitions(this.source.getDefinitions());
    if (node.kind === "definitionGroup") return node.entries.map((entry) => ({ kind: "definition", entry }));
    return [];
  }

  getTreeItem(node: DefinitionsTreeNode): TreeItem {
    if (node.kind === "definitionGroup") {
      const empty = node.entries.length === 0;
      const item = new TreeItem(DefinitionsViewLabels[node.group](), empty ? TreeItemCollapsibleState.None : TreeItemCollapsibleState.Expanded);
      item.id = `group:${node.group}`;
      item.description = empty ? DefinitionsViewLabels.noneYet() : String(node.entries.length);
      if (empty) item.tooltip = DefinitionsViewLabels.schedulesLater();
      item.iconPath = new ThemeIcon(GROUP_ICON[node.group]);
      item.contextValue = `${ItemContext.definitionGroup} ${node.group}`;
      return item;
    }
    const { entry } = node;
    const name = entryName(entry);
    const item = new TreeItem(name, TreeItemCollapsibleState.None);
    item.id = `${entry.kind}:${entry.kind === "problem" ? `${entry.info.file}:${entry.info.line}:${entry.info.column}:${name}` : name}`;
    item.description = entryDescription(entry);
    const description = "description" in entry.info ? entry.info.description : undefined;
    item.tooltip = description ? `${name}\n\n${description}` : name;
    item.iconPath = entryIcon(entry);
    item.contextValue = entryContext(entry);
    const source = entrySource(entry);
    if (source) item.command = openSourceCommand(source, name);
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }
}
