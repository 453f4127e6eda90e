// Runs every benchmark in this folder, one after another (they measure their own baselines in
// the same process, so ratios survive a noisy machine; absolute times do not).
// `npm run bench` or `node --import tsx bench/run.ts [name...]`.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const only = process.argv.slice(2);
const benches = readdirSync(__dirname)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts")
  .map((f) => f.replace(/\.ts$/, ""))
  .filter((name) => only.length === 0 || only.includes(name));
for (const name of benches) {
  const file = join(__dirname, `${name}.ts`);
  if (!existsSync(file)) continue;
  console.log(`\n== ${name}`);
  spawnSync(process.execPath, ["--import", "tsx", file], { stdio: "inherit" });
}
