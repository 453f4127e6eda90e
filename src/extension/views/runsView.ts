// The Runs tree view and its badge: the number of runs that failed since the user last looked.
import type { Disposable, Memento, TreeView } from "vscode";
import { RunsViewLabels } from "../common/localize";
import { createTreeView } from "../common/windowApis";
import { Views } from "../constants";
import type { EngineHost } from "../engine/engineHost";
import { failedSince, RunsTreeDataProvider, type RunsTreeNode } from "./runsTree";

const LAST_LOOK_KEY = "sluice.runs.lastLook";

export class RunsView implements Disposable {
  readonly provider: RunsTreeDataProvider;
  readonly view: TreeView<RunsTreeNode>;
  private readonly subscriptions: Disposable[] = [];

  constructor(private readonly host: EngineHost, private readonly state: Memento, private readonly now: () => number = Date.now) {
    this.provider = new RunsTreeDataProvider(host, now);
    this.view = createTreeView(Views.runs, { treeDataProvider: this.provider, showCollapseAll: true });
    this.subscriptions.push(
      this.provider,
      this.view,
      this.view.onDidChangeVisibility((e) => {
        if (e.visible) void this.markSeen();
      }),
      host.onDidChangeRuns(() => this.updateBadge()),
    );
    if (this.view.visible) void this.markSeen();
  }

  private async markSeen(): Promise<void> {
    await this.state.update(LAST_LOOK_KEY, this.now());
    this.updateBadge();
  }

  updateBadge(): void {
    const lastLook = this.state.get<number>(LAST_LOOK_KEY, 0);
    const failed = this.view.visible ? 0 : failedSince(this.host.getRuns(), lastLook);
    this.view.badge = failed > 0 ? { value: failed, tooltip: RunsViewLabels.failedBadge(failed) } : undefined;
  }

  refresh(): void {
    this.provider.refresh();
    this.updateBadge();
  }

  dispose(): void {
    for (const d of this.subscriptions.splice(0)) d.dispose();
  }
}
