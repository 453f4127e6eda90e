// The status bar item: "$(sync~spin) 2 running · 3 queued" while runs go, the last failure when
// one is recent, otherwise a quiet "Sluice". Clicking it shows the Runs view.
import { StatusBarAlignment, ThemeColor, type Disposable, type StatusBarItem } from "vscode";
import { StatusBarLabels } from "../common/localize";
import { createStatusBarItem } from "../common/windowApis";
import { Views } from "../constants";
import type { EngineHost } from "../engine/engineHost";
import type { EngineState, RunSummary } from "../engine/port";
import { GROUP_OF_STATUS } from "./runsTree";

export interface StatusBarContent {
  text: string;
  tooltip: string;
  /** Theme color id of the background, for failures. */
  background?: string;
  visible: boolean;
}

/** How long a failure stays in the status bar when nothing else happens. */
export const FAILURE_SHOWN_FOR_MS = 30 * 60 * 1000;

export function statusBarContent(state: EngineState, runs: readonly RunSummary[], now: number): StatusBarContent {
  switch (state) {
    case "untrusted":
      return { text: "", tooltip: "", visible: false };
    case "starting":
      return { text: `$(loading~spin) ${StatusBarLabels.idle()}`, tooltip: StatusBarLabels.tooltipStarting(), visible: true };
    case "unavailable":
      return { text: `$(circle-slash) ${StatusBarLabels.idle()}`, tooltip: StatusBarLabels.tooltipUnavailable(), visible: true };
    case "ready":
      break;
  }
  const running = runs.filter((r) => GROUP_OF_STATUS[r.status] === "inProgress").length;
  const queued = runs.filter((r) => GROUP_OF_STATUS[r.status] === "queued").length;
  const tooltip = StatusBarLabels.tooltipReady();
  if (running > 0) return { text: `$(sync~spin) ${StatusBarLabels.running(running, queued)}`, tooltip, visible: true };
  if (queued > 0) return { text: `$(clock) ${StatusBarLabels.queuedOnly(queued)}`, tooltip, visible: true };
  const last = [...runs]
    .filter((r) => GROUP_OF_STATUS[r.status] === "recent")
    .sort((a, b) => (b.endTime ?? b.createTime) - (a.endTime ?? a.createTime))[0];
  if (last?.status === "FAILURE" && now - (last.endTime ?? last.createTime) < FAILURE_SHOWN_FOR_MS) {
    return { text: `$(error) ${StatusBarLabels.lastFailed(last.jobName)}`, tooltip, background: "statusBarItem.errorBackground", visible: true };
  }
  return { text: `$(pass) ${StatusBarLabels.idle()}`, tooltip, visible: true };
}

export class StatusBarController implements Disposable {
  private readonly item: StatusBarItem;
  private readonly subscriptions: Disposable[] = [];

  constructor(private readonly host: EngineHost, private readonly now: () => number = Date.now) {
    this.item = createStatusBarItem("sluice.status", StatusBarAlignment.Left, 50);
    this.item.name = StatusBarLabels.name();
    this.item.command = `${Views.runs}.focus`;
    this.subscriptions.push(this.item, host.onDidChangeState(() => this.update()), host.onDidChangeRuns(() => this.update()));
    this.update();
  }

  update(): void {
    const c = statusBarContent(this.host.state, this.host.getRuns(), this.now());
    this.item.text = c.text;
    this.item.tooltip = c.tooltip;
    this.item.backgroundColor = c.background ? new ThemeColor(c.background) : undefined;
    if (c.visible) this.item.show();
    else this.item.hide();
  }

  dispose(): void {
    for (const d of this.subscriptions.splice(0)) d.dispose();
  }
}
