// The Runs tree view and its badge: the number of runs that failed since the user last looked.
import type { Disposable, Memento, TreeView } from "vscode";
import { executeCommand } from "../common/commandApis";
import { revealInTree } from "../common/documentApis";
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

  /**
   * Shows the Runs view with the run selected: at once if the view knows the run, else as soon as
   * the engine's next runs push has it (at most `waitMs`).
   */
  async revealRun(runId: string, waitMs = 10_000): Promise<boolean> {
    void executeCommand(`${Views.runs}.focus`);
    const find = () => this.host.getRuns().find((r) => r.runId === runId);
    let run = find();
    if (!run) {
      run = await new Promise((resolve) => {
        const timer = setTimeout(() => {
          sub.dispose();
          resolve(undefined);
        }, waitMs);
        const sub = this.host.onDidChangeRuns(() => {
          const found = find();
          if (!found) return;
          clearTimeout(timer);
          sub.dispose();
          resolve(found);
        });
      });
    }
    if (!run) return false;
    try {
      await revealInTree<RunsTreeNode>(this.view, { kind: "run", run }, { select: true, focus: false, expand: true });
      return true;
    } catch {
      return false; // the view is not visible (yet); the run is listed anyway
    }
  }

  dispose(): void {
    for (const d of this.subscriptions.splice(0)) d.dispose();
  }
}
