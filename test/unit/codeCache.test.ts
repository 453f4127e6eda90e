// The V8 code caches step workers load their code through (src/engine/execution/codeCache.ts), in
// fresh Node processes as a step worker would: the first writes the cache once it has run the code,
// the next one is compiled from it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const codeCache = resolve(__dirname, "../../src/engine/execution/codeCache.ts");

function run(script: string): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { encoding: "utf8" });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr };
}

describe("step worker code cache", () => {
  it("is written after the code ran, then used by the next process; a broken cache falls back to a plain compile", () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-code-cache-"));
    try {
      const mod = join(dir, "mod.js");
      writeFileSync(mod, "exports.later = function later(n) { return [1, 2, 3].map((x) => x * n).join(','); };\n");
      const cacheDir = join(dir, "v8");
      const script = (extra: string) => `
        const { requireWithCodeCache, saveCodeCaches } = require(${JSON.stringify(codeCache)});
        const m = requireWithCodeCache(${JSON.stringify(mod)}, ${JSON.stringify(cacheDir)});
        const pending = globalThis[Symbol.for("sluice.codeCaches")];
        console.log(JSON.stringify({ value: m.later(2), again: requireWithCodeCache(${JSON.stringify(mod)}, "unused") === m, needsCache: pending.size }));
        ${extra}`;

      const first = run(script("saveCodeCaches();"));
      assert.equal(first.status, 0, first.err);
      assert.deepEqual(JSON.parse(first.out), { value: "2,4,6", again: true, needsCache: 1 });
      const files = readdirSync(cacheDir);
      assert.equal(files.length, 1);
      assert.match(files[0], /^[0-9a-f]{16}\.bin$/);

      const second = run(script(""));
      assert.equal(second.status, 0, second.err);
      assert.deepEqual(JSON.parse(second.out), { value: "2,4,6", again: true, needsCache: 0 });

      writeFileSync(join(cacheDir, files[0]), "not a code cache");
      const third = run(script(""));
      assert.equal(third.status, 0, third.err);
      assert.deepEqual(JSON.parse(third.out), { value: "2,4,6", again: true, needsCache: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
