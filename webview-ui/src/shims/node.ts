// Stands in for node:fs, node:path and node:os in the browser bundle. The engine's config module
// imports them for helpers that read files or count CPUs, which the webview never calls; if one
// ever were called, it fails loudly here instead of silently returning nothing.
function unavailable(..._args: unknown[]): never {
  throw new Error("not available in the webview");
}
export const readFileSync = unavailable;
export const existsSync = unavailable;
export const statSync = unavailable;
export const resolve = unavailable;
export const join = unavailable;
export const dirname = unavailable;
export const availableParallelism = (): number => 1;
export const cpus = (): unknown[] => [];
export default {};
