// Builds the .vsix the e2e and packaging tests use (.vscode-test/sluice.vsix), once per set of
// inputs: it is rebuilt when any packaged input is newer. A lock directory keeps test files that
// run in parallel from packaging at the same time.
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { ensureBuilt } from "./build";
import { ROOT } from "./paths";

export const VSIX = path.join(ROOT, ".vscode-test", "sluice.vsix");
const LOCK = path.join(ROOT, ".vscode-test", "sluice.vsix.lock");
const INPUTS = ["dist", "media", "l10n", "schemas", "package.json", "package.nls.json", ".vscodeignore", "LICENSE", "README.md", "node_modules/sluice-ts-plugin"];

function newestMtime(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const t0 = Date.now();
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch {
      if (Date.now() - t0 > 180_000) fs.rmSync(LOCK, { recursive: true, force: true }); // stale
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

export function vsixIsCurrent(): boolean {
  if (!fs.existsSync(VSIX)) return false;
  const built = fs.statSync(VSIX).mtimeMs;
  return INPUTS.every((p) => newestMtime(path.join(ROOT, p)) <= built);
}

/** Returns the path of an up-to-date .vsix, packaging it when needed. */
export async function ensureVsix(): Promise<string> {
  ensureBuilt();
  if (vsixIsCurrent()) return VSIX;
  return withLock(async () => {
    if (vsixIsCurrent()) return VSIX;
    const { packageVsix } = await import(pathToFileURL(path.join(ROOT, "scripts", "package-vsix.mjs")).href);
    await packageVsix({ out: VSIX, quiet: true });
    return VSIX;
  });
}
