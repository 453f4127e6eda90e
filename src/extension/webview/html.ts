// The panel's HTML: a shell that loads the bundled app by nonce and nothing else. No data is ever
// inlined (it arrives by postMessage after the ready handshake), no inline script or style.
import { randomBytes } from "node:crypto";

export interface PanelHtmlOptions {
  /** `webview.cspSource`: the origin the webview may load its own files from. */
  cspSource: string;
  nonce: string;
  /** asWebviewUri of dist/webview/main.js, main.css and codicon.css. */
  scriptUri: string;
  styleUri: string;
  codiconUri: string;
  title: string;
}

export function newNonce(): string {
  return randomBytes(18).toString("base64").replace(/[^A-Za-z0-9]/g, "");
}

/**
 * The Content-Security-Policy. `default-src 'none'` and then only:
 * - scripts: ours, by nonce (no 'unsafe-inline', no 'unsafe-eval');
 * - styles, fonts, images: the webview's own resources (`cspSource`), no inline styles;
 * - workers: `blob:` only — the graph layout worker is built from code already in our nonce'd
 *   bundle (VS Code serves webview resources from another origin, from which a worker cannot be
 *   started directly).
 */
export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource}`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "worker-src blob:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

function attr(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function panelHtml(o: PanelHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=]+$/.test(o.nonce)) throw new Error("invalid nonce");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${attr(panelCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${attr(o.codiconUri)}">
<link rel="stylesheet" href="${attr(o.styleUri)}">
<title>${attr(o.title)}</title>
</head>
<body>
<div id="app" role="application" aria-busy="true"></div>
<script nonce="${o.nonce}" src="${attr(o.scriptUri)}"></script>
</body>
</html>
`;
}
