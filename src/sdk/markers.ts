// Definitions are recognised by a registered symbol rather than `instanceof`: the engine's worker
// and the SDK a job file imports may be two copies of this code, and both must agree.
export const KIND = Symbol.for("sluice.kind");

export type DefinitionKind = "op" | "job" | "asset" | "graphAsset" | "assetJob" | "executor" | "output";

export function kindOf(value: unknown): DefinitionKind | undefined {
  if ((typeof value === "object" || typeof value === "function") && value !== null) {
    const k = (value as Record<symbol, unknown>)[KIND];
    return typeof k === "string" ? (k as DefinitionKind) : undefined;
  }
  return undefined;
}

/** Where a definition was written, so editors and errors can point at it. Lines and columns are 1-based. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** An error in how something was defined (bad options, bad wiring). Carries the position to blame. */
export class DefinitionError extends Error {
  constructor(message: string, readonly source?: SourcePosition) {
    super(message);
    this.name = "DefinitionError";
  }
}
