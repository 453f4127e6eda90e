// Shared by integration tests: temporary workspaces with real job files, and the real CLI.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

export const REPO = resolve(__dirname, "../..");
export const CLI = join(REPO, "dist", "cli.js");

export interface Workspace {
  dir: string;
  write(path: string, text: string): string;
  remove(): void;
}

/** A fresh workspace folder with the given files (paths relative to it). */
export function makeWorkspace(files: Record<string, string> = {}, from?: string): Workspace {
  const dir = mkdtempSync(join(tmpdir(), "sluice-test-"));
  if (from) cpSync(from, dir, { recursive: true });
  const ws: Workspace = {
    dir,
    write(path, text) {
      const full = join(dir, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, text);
      return full;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const [p, t] of Object.entries(files)) ws.write(p, t);
  return ws;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `sluice ARGS --workspace DIR` synchronously. */
export function sluice(ws: Workspace | string, args: string[], env: Record<string, string> = {}): CliResult {
  const dir = typeof ws === "string" ? ws : ws.dir;
  const r = spawnSync(process.execPath, [CLI, ...args, "--workspace", dir], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `sluice ARGS --workspace DIR` and resolves when it exits. */
export function sluiceAsync(ws: Workspace, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [CLI, ...args, "--workspace", ws.dir], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** The last line of stdout parsed as JSON (`job execute --json` ends with {runId, status}). */
export function lastJson<T = Record<string, unknown>>(r: CliResult): T {
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as T;
}

export function json<T = unknown>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}
