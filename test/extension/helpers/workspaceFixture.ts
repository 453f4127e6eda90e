// The workspace the real-VS-Code tests open: written at test time (job files under test/ would be
// type-checked by the project's tsconfig, and these deliberately import "sluice" and contain
// errors). No node_modules, no package.json, no tsconfig: like a user's fresh folder.
import * as fs from "node:fs";
import * as path from "node:path";
import { jobFileTemplate } from "../../../src/extension/commands/jobFileTemplate";

export const FIXTURE_FILES: Record<string, string> = {
  "sluice.yaml": "# Sluice instance settings (same keys as dagster.yaml). Empty: the defaults.\n",
  "pipelines/hello.ts": jobFileTemplate("hello_job", "ts"),
  // the in-host tests wait for exactly these two errors (lines 4 and 6)
  "pipelines/types_control.ts": `// Deliberate type errors against the SDK's types: the real-VS-Code tests wait for exactly these two.
import { op, RetryPolicy } from "sluice";

const bad_name = op({ name: 42 }, () => 1);

export const policy = new RetryPolicy({ maxRetries: "3" }), rejected = bad_name;
`,
  "pipelines/legacy.js": `// A job file in plain JavaScript.
import { job, op } from "sluice";

const say_hi = op(function say_hi(ctx) {
  ctx.log.info("hi");
  return "hi";
});

export const legacy_job = job({ name: "legacy_job" }, () => {
  say_hi();
});
`,
};

export function writeFixtureWorkspace(dir: string): string {
  for (const [rel, text] of Object.entries(FIXTURE_FILES)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return dir;
}
