import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { deserializeValue, serializeValue } from "./values";

/** Where step outputs live: Dagster's IO manager, reduced to what Sluice needs. */
export interface OutputStore {
  write(runId: string, stepKey: string, output: string, value: unknown): { path?: string; bytes: number };
  read(runId: string, stepKey: string, output: string): unknown;
  has(runId: string, stepKey: string, output: string): boolean;
}

/** `.sluice/storage/<run>/<step>/<output>`: readable by other processes and by later runs. */
export class FileOutputStore implements OutputStore {
  constructor(private readonly root: string) {}

  pathOf(runId: string, stepKey: string, output: string): string {
    return join(this.root, runId, stepKey, output);
  }

  write(runId: string, stepKey: string, output: string, value: unknown): { path: string; bytes: number } {
    const path = this.pathOf(runId, stepKey, output);
    const text = serializeValue(value);
    mkdirSync(join(this.root, runId, stepKey), { recursive: true });
    // Write then rename so a reader in another process never sees half a value.
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, path);
    return { path, bytes: Buffer.byteLength(text) };
  }

  read(runId: string, stepKey: string, output: string): unknown {
    return deserializeValue(readFileSync(this.pathOf(runId, stepKey, output), "utf8"));
  }

  has(runId: string, stepKey: string, output: string): boolean {
    return existsSync(this.pathOf(runId, stepKey, output));
  }
}

/** For `executeInProcess`: values stay in memory, as Dagster's mem IO manager keeps them. */
export class MemoryOutputStore implements OutputStore {
  private readonly values = new Map<string, unknown>();
  write(runId: string, stepKey: string, output: string, value: unknown): { bytes: number } {
    this.values.set(`${runId}\u0000${stepKey}\u0000${output}`, value);
    return { bytes: 0 };
  }
  read(runId: string, stepKey: string, output: string): unknown {
    const key = `${runId}\u0000${stepKey}\u0000${output}`;
    if (!this.values.has(key)) throw new Error(`no stored output ${output} of step ${stepKey} in run ${runId}`);
    return this.values.get(key);
  }
  has(runId: string, stepKey: string, output: string): boolean {
    return this.values.has(`${runId}\u0000${stepKey}\u0000${output}`);
  }
}
