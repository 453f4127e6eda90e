// VS Code's side of the panel seam: creates the WebviewPanel (scripts on, resources limited to the
// built webview folder), registers the serializer that restores it after a window reload, and
// opens sources. Wiring (in the composition root, once the engine's data source exists):
//
//   const panel = registerSluicePanel(context, dataSource);
//   panel.show({ page: "graph" });                 // sluice.openGraph / sluice.showInGraph
//   panel.show({ page: "launchpad", job: name });  // sluice.openLaunchpad
//   panel.show({ page: "run", runId });            // sluice.openRunDetail
import * as path from "node:path";
import { Position, Range, Selection, Uri, ViewColumn, window, workspace, type ExtensionContext, type WebviewPanel } from "vscode";
import { traceError, traceInfo, traceWarn } from "../common/log";
import type { WebviewDataSource } from "./dataSource";
import { PANEL_VIEW_TYPE, SluicePanelHost, type PanelLike, type PanelPlatform, type PanelHostOptions } from "./panelHost";

/** Where the build puts the webview bundle, codicons and styles (esbuild.mjs → webview-ui/build.mjs). */
export function webviewRoot(extensionUri: Uri): Uri {
  return Uri.joinPath(extensionUri, "dist", "webview");
}

function adapt(panel: WebviewPanel): PanelLike {
  return {
    get webview() {
      return panel.webview;
    },
    get title() {
      return panel.title;
    },
    set title(t: string) {
      panel.title = t;
    },
    get visible() {
      return panel.visible;
    },
    reveal: () => panel.reveal(),
    onDidChangeViewState: (l) => panel.onDidChangeViewState(() => l()),
    onDidDispose: (l) => panel.onDidDispose(() => l()),
    dispose: () => panel.dispose(),
  };
}

export function panelOptions(extensionUri: Uri) {
  return {
    enableScripts: true,
    // Full snapshots after every `ready`: nothing is lost when VS Code discards a hidden webview.
    retainContextWhenHidden: false,
    localResourceRoots: [webviewRoot(extensionUri)],
    enableFindWidget: true,
  };
}

export function vscodePanelPlatform(extensionUri: Uri): PanelPlatform {
  const panels = new WeakMap<PanelLike, WebviewPanel>();
  const platform: PanelPlatform & { wrap(p: WebviewPanel): PanelLike } = {
    wrap(p: WebviewPanel): PanelLike {
      const like = adapt(p);
      panels.set(like, p);
      p.iconPath = Uri.joinPath(extensionUri, "media", "sluice.svg");
      return like;
    },
    createPanel(title: string): PanelLike {
      const p = window.createWebviewPanel(PANEL_VIEW_TYPE, title, { viewColumn: ViewColumn.Active, preserveFocus: false }, panelOptions(extensionUri));
      return platform.wrap(p);
    },
    resourceUri(panel: PanelLike, file: string): string {
      const real = panels.get(panel);
      const uri = Uri.joinPath(webviewRoot(extensionUri), file);
      return real ? real.webview.asWebviewUri(uri).toString() : uri.toString();
    },
    async openSource(file: string, line: number, column: number) {
      const uri = path.isAbsolute(file) ? Uri.file(file) : Uri.joinPath(workspace.workspaceFolders?.[0]?.uri ?? extensionUri, file);
      const doc = await workspace.openTextDocument(uri);
      const pos = new Position(Math.max(0, line - 1), Math.max(0, column - 1));
      await window.showTextDocument(doc, { viewColumn: ViewColumn.Beside, preview: true, selection: new Range(pos, pos) });
      const editor = window.activeTextEditor;
      if (editor && editor.document.uri.toString() === doc.uri.toString()) editor.selection = new Selection(pos, pos);
    },
    log(level, message) {
      if (level === "error") traceError(message);
      else if (level === "warn") traceWarn(message);
      else traceInfo(message);
    },
  };
  return platform;
}

/**
 * Creates the panel host and registers its serializer; returns the host (call `show(route)` from
 * commands). Disposed with the extension.
 */
export function registerSluicePanel(context: ExtensionContext, data: WebviewDataSource, options?: PanelHostOptions): SluicePanelHost {
  const platform = vscodePanelPlatform(context.extensionUri) as PanelPlatform & { wrap(p: WebviewPanel): PanelLike };
  const host = new SluicePanelHost(platform, data, options);
  context.subscriptions.push(
    host,
    window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: WebviewPanel) {
        // The restored panel keeps the options it was created with; re-apply ours (resource roots may move with the extension's version).
        panel.webview.options = { enableScripts: true, localResourceRoots: [webviewRoot(context.extensionUri)] };
        host.restore(platform.wrap(panel));
      },
    }),
  );
  return host;
}
