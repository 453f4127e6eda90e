// Commands are invoked from tree items (with the item's node), from CodeLens (with plain values)
// and from other extensions or tests (with strings): these helpers accept all three.

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

/** A run id from a string, `{ runId }`, or a Runs view node. */
export function runIdOf(arg: unknown): string | undefined {
  if (typeof arg === "string" && arg.length > 0) return arg;
  if (!isObject(arg)) return undefined;
  if (typeof arg.runId === "string") return arg.runId;
  if (arg.kind === "run" && isObject(arg.run) && typeof arg.run.runId === "string") return arg.run.runId;
  return undefined;
}

/** A job name from a string, `{ jobName }`, or a Definitions view node of a job. */
export function jobNameOf(arg: unknown): string | undefined {
  if (typeof arg === "string" && arg.length > 0) return arg;
  if (!isObject(arg)) return undefined;
  if (typeof arg.jobName === "string") return arg.jobName;
  if (arg.kind === "definition" && isObject(arg.entry) && arg.entry.kind === "job" && isObject(arg.entry.info)) {
    const name = arg.entry.info.name;
    return typeof name === "string" ? name : undefined;
  }
  return undefined;
}

/** An asset key from a string, `{ assetKey }`, or a Definitions view node of an asset. */
export function assetKeyOf(arg: unknown): string | undefined {
  if (typeof arg === "string" && arg.length > 0) return arg;
  if (!isObject(arg)) return undefined;
  if (typeof arg.assetKey === "string") return arg.assetKey;
  if (arg.kind === "definition" && isObject(arg.entry) && arg.entry.kind === "asset" && isObject(arg.entry.info)) {
    const key = arg.entry.info.key;
    return typeof key === "string" ? key : undefined;
  }
  return undefined;
}

/** The run config file of a "Run with <file>" CodeLens (`{ jobName, runConfigFile }`). */
export function runConfigFileOf(arg: unknown): string | undefined {
  return isObject(arg) && typeof arg.runConfigFile === "string" && arg.runConfigFile.length > 0 ? arg.runConfigFile : undefined;
}
