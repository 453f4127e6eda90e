// Makes sure the build outputs a test needs exist; `npm test` builds first, this covers running a
// single file with `node scripts/run-tests.mjs extension`.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./paths";

const OUTPUTS = ["dist/extension.js", "dist/ts-plugin.js", "dist/sdk/index.d.ts", "node_modules/sluice-ts-plugin/index.js"];

export function ensureBuilt(): void {
  if (OUTPUTS.every((f) => fs.existsSync(path.join(ROOT, f)))) return;
  const r = spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`npm run build failed (${r.status})`);
}
