// All strings of the extension's code go through vscode.l10n.t with literal messages, and the
// English bundle for translators (l10n/bundle.l10n.json) lists exactly those messages.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { ROOT } from "./helpers/paths";

test("l10n/bundle.l10n.json is up to date (node scripts/l10n-export.mjs regenerates it)", async () => {
  const { extractMessages, bundleText, BUNDLE } = await import(pathToFileURL(path.join(ROOT, "scripts", "l10n-export.mjs")).href);
  const { messages, problems } = extractMessages();
  assert.deepEqual(problems, []);
  assert.ok(messages.length > 20);
  assert.equal(fs.readFileSync(BUNDLE, "utf8"), bundleText(messages));
});

test("only common/localize.ts calls l10n.t; other modules take their strings from it", () => {
  const dir = path.join(ROOT, "src", "extension");
  const offenders: string[] = [];
  (function walk(d: string) {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts") && !p.endsWith(path.join("common", "localize.ts")) && /\bl10n\.t\(/.test(fs.readFileSync(p, "utf8"))) offenders.push(p);
    }
  })(dir);
  assert.deepEqual(offenders, []);
});
