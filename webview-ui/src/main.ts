// Entry point of the panel's webview (bundled to dist/webview/main.js, loaded by nonce).
import "./zodJitless";
import { App } from "./app";
import { ConcurrencyPage } from "./pages/concurrency";
import { GraphPage } from "./pages/graph";
import { LaunchpadPage } from "./pages/launchpad";
import { RunDetailPage } from "./pages/runDetail";
import { RunsPage } from "./pages/runs";

const root = document.getElementById("app");
if (root) {
  const app = new App(root, {
    graph: (a) => new GraphPage(a),
    runs: (a) => new RunsPage(a),
    run: (a) => new RunDetailPage(a),
    launchpad: (a) => new LaunchpadPage(a),
    concurrency: (a) => new ConcurrencyPage(a),
  });
  (window as unknown as { sluiceApp?: App }).sluiceApp = app;
}
