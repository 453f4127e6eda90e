// The manifest (package.json) against the code and package.nls.json: every command has a handler
// id in code, every menu entry names a contributed command, every %key% is translated, and the
// activation/trust settings are the intended ones.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { Commands, ContextKeys, Views } from "../../src/extension/constants";
import { ROOT } from "./helpers/paths";

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const nls: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, "package.nls.json"), "utf8"));
const contributes = pkg.contributes;
const commandIds: string[] = contributes.commands.map((c: { command: string }) => c.command);

/** Commands that VS Code itself provides and that welcome content or menus may link to. */
const BUILTIN_COMMANDS = new Set(["workbench.trust.manage"]);

describe("manifest", () => {
  test("engine, activation, trust and kind", () => {
    assert.equal(pkg.engines.vscode, "^1.100.0");
    assert.equal(pkg.devDependencies["@types/vscode"], "1.100.0");
    assert.match(pkg.devDependencies["@vscode/vsce"], /^3\.9\.\d+$/);
    assert.equal(pkg.main, "./dist/extension.js");
    assert.deepEqual([...pkg.activationEvents].sort(), [
      "onLanguage:javascript",
      "onLanguage:typescript",
      "workspaceContains:.sluice",
      "workspaceContains:sluice.yaml",
    ]);
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, false);
    assert.ok(nls[pkg.capabilities.untrustedWorkspaces.description.slice(1, -1)]);
    assert.deepEqual(pkg.extensionKind, ["workspace"]);
    assert.ok(fs.existsSync(path.join(ROOT, pkg.icon)), pkg.icon);
  });

  test("contributed commands are exactly the ones the code registers", () => {
    assert.deepEqual([...commandIds].sort(), Object.values(Commands).sort());
    assert.equal(new Set(commandIds).size, commandIds.length, "no duplicates");
    for (const c of contributes.commands) assert.equal(c.category, "%category%", c.command);
  });

  test("every menu entry references a contributed command", () => {
    for (const [menu, entries] of Object.entries(contributes.menus as Record<string, { command: string }[]>)) {
      for (const e of entries) assert.ok(commandIds.includes(e.command), `${menu}: ${e.command}`);
    }
  });

  test("run items of the Runs view have the context menu of the issue", () => {
    const runMenu = contributes.menus["view/item/context"]
      .filter((e: { when: string }) => e.when.includes("view == sluice.runs") && e.when.includes("sluiceRun"))
      .map((e: { command: string }) => e.command);
    for (const id of [Commands.openRunLogs, Commands.cancelRun, Commands.reexecuteRun, Commands.reexecuteFromFailure, Commands.copyRunId]) {
      assert.ok(runMenu.includes(id), id);
    }
  });

  test("the Sluice view container holds the Runs and Definitions views", () => {
    const [container] = contributes.viewsContainers.activitybar;
    assert.equal(container.id, Views.container);
    assert.ok(fs.existsSync(path.join(ROOT, container.icon)), container.icon);
    assert.deepEqual(contributes.views[Views.container].map((v: { id: string }) => v.id), [Views.runs, Views.definitions]);
  });

  test("each view has welcome content for every engine state", () => {
    for (const view of [Views.runs, Views.definitions]) {
      const states = contributes.viewsWelcome
        .filter((w: { view: string }) => w.view === view)
        .map((w: { when: string }) => w.when.replace(`${ContextKeys.engineState} == `, ""));
      assert.deepEqual(states.sort(), ["ready", "starting", "unavailable", "untrusted"]);
    }
  });

  test("every %key% is in package.nls.json, every nls key is used, and command links point at commands", () => {
    const text = fs.readFileSync(path.join(ROOT, "package.json"), "utf8");
    const used = new Set([...text.matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]));
    for (const key of used) assert.ok(key in nls, `missing in package.nls.json: ${key}`);
    for (const key of Object.keys(nls)) assert.ok(used.has(key), `unused in package.json: ${key}`);
    for (const value of Object.values(nls)) {
      for (const m of value.matchAll(/\(command:([\w.]+)\)/g)) {
        assert.ok(commandIds.includes(m[1]) || BUILTIN_COMMANDS.has(m[1]), `link to unknown command ${m[1]}`);
      }
    }
  });

  test("user-facing manifest strings are localized", () => {
    for (const c of contributes.commands) assert.match(c.title, /^%.+%$/, c.command);
    for (const v of contributes.views[Views.container]) assert.match(v.name, /^%.+%$/, v.id);
    for (const w of contributes.viewsWelcome) assert.match(w.contents, /^%.+%$/, w.view);
    assert.equal(pkg.l10n, "./l10n");
  });

  test("the TypeScript server plugin is contributed under the name the build produces", async () => {
    const { PLUGIN_NAME } = await import(pathToFileURL(path.join(ROOT, "scripts", "build-ts-plugin.mjs")).href);
    assert.deepEqual(contributes.typescriptServerPlugins.map((p: { name: string }) => p.name), [PLUGIN_NAME]);
  });
});
