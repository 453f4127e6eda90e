// Runs only in child processes (code location, run worker): bundles job files with esbuild and
// requires them. User code never runs in the process that owns the instance.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import type { LoadError, LoadedFile } from "./snapshot";

export interface LoadedModule {
  file: string;
  exports: Record<string, unknown>;
}

/** Bundles one job file into `bundleDir`; the "sluice" import stays external, pointing at `sdkPath`. */
export async function bundleJobFile(file: string, workspace: string, bundleDir: string, sdkPath: string): Promise<{ bundle: string } | { error: LoadError }> {
  const esbuild = await import("esbuild");
  let text: string;
  try {
    const result = await esbuild.build({
      entryPoints: [file],
      absWorkingDir: workspace,
      bundle: true,
      write: false,
      platform: "node",
      target: "node20",
      format: "cjs",
      sourcemap: "inline",
      // Op and job names default to function names: keep them exactly as written.
      keepNames: true,
      sourcesContent: false,
      logLevel: "silent",
      outfile: join(bundleDir, "out.cjs"),
      plugins: [
        {
          name: "sluice-sdk",
          setup(build) {
            build.onResolve({ filter: /^sluice$/ }, () => ({ path: sdkPath, external: true }));
          },
        },
      ],
    });
    text = result.outputFiles[0].text;
  } catch (e) {
    const first = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors?.[0];
    if (first) {
      const loc = first.location;
      return {
        error: {
          kind: "syntax",
          file: loc ? join(workspace, loc.file) : file,
          line: loc?.line ?? 1,
          column: (loc?.column ?? 0) + 1,
          message: first.text,
        },
      };
    }
    return { error: { kind: "syntax", file, line: 1, column: 1, message: e instanceof Error ? e.message : String(e) } };
  }
  // Content-addressed: a run keeps using the bundle it started with while the file changes.
  const hash = createHash("sha1").update(text).digest("hex").slice(0, 12);
  const name = relative(workspace, file).replace(/[\\/]/g, "__").replace(/\.[^.]+$/, "");
  const bundle = join(bundleDir, `${name}.${hash}.cjs`);
  if (!existsSync(bundle)) {
    mkdirSync(bundleDir, { recursive: true });
    const tmp = `${bundle}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, bundle);
  }
  return { bundle };
}

/** Requires a bundle; an import-time throw becomes a LoadError at the user's line. */
export function requireBundle(file: string, bundle: string): { module?: LoadedModule; error?: LoadError } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exports = require(bundle) as Record<string, unknown>;
    return { module: { file, exports } };
  } catch (e) {
    return { error: importError(file, e) };
  }
}

/** Blames the innermost stack frame inside the job file (stack traces are source-mapped). */
export function importError(file: string, e: unknown): LoadError {
  const message = e instanceof Error ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}` : String(e);
  const source = (e as { source?: { file: string; line: number; column: number } } | null)?.source;
  if (source && source.file !== "<unknown>") return { kind: e instanceof Error && e.name === "DefinitionError" ? "definition" : "import", ...source, message };
  const stack = e instanceof Error ? e.stack ?? "" : "";
  const name = basename(file);
  for (const line of stack.split("\n")) {
    const m = /\(?([^()\s]+):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (m && (m[1] === file || m[1].endsWith("/" + name))) {
      return { kind: "import", file: m[1], line: Number(m[2]), column: Number(m[3]), message: `Error while importing: ${message}` };
    }
  }
  return { kind: "import", file, line: 1, column: 1, message: `Error while importing: ${message}` };
}

export interface WorkspaceLoad {
  files: LoadedFile[];
  modules: LoadedModule[];
  errors: LoadError[];
}

/** Bundles and requires job files in order; reports each file before requiring it (for hang detection). */
export async function loadJobFiles(
  files: string[],
  workspace: string,
  bundleDir: string,
  sdkPath: string,
  onLoading?: (file: string) => void,
): Promise<WorkspaceLoad> {
  const result: WorkspaceLoad = { files: [], modules: [], errors: [] };
  const bundles = await Promise.all(files.map((f) => bundleJobFile(f, workspace, bundleDir, sdkPath)));
  files.forEach((file, i) => {
    const b = bundles[i];
    if ("error" in b) {
      result.errors.push(b.error);
      result.files.push({ path: file, ok: false });
      return;
    }
    onLoading?.(file);
    const loaded = requireBundle(file, b.bundle);
    if (loaded.error) result.errors.push(loaded.error);
    if (loaded.module) result.modules.push(loaded.module);
    result.files.push({ path: file, ok: !loaded.error, bundle: b.bundle });
  });
  return result;
}

/** Re-requires bundles a snapshot already names (run workers use exactly what was planned). */
export function requireBundles(files: LoadedFile[]): WorkspaceLoad {
  const result: WorkspaceLoad = { files, modules: [], errors: [] };
  for (const f of files) {
    if (!f.ok || !f.bundle) continue;
    const loaded = requireBundle(f.path, f.bundle);
    if (loaded.error) result.errors.push(loaded.error);
    if (loaded.module) result.modules.push(loaded.module);
  }
  return result;
}
