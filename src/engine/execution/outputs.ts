import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, fstatSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { deserializeValue, serializeValue } from "./values";

/** Where step outputs live: Dagster's IO manager, reduced to what Sluice needs. */
export interface OutputStore {
  write(runId: string, stepKey: string, output: string, value: unknown): { path?: string; bytes: number };
  read(runId: string, stepKey: string, output: string): unknown;
  has(runId: string, stepKey: string, output: string): boolean;
}

/** Serialized outputs up to this size share one file per run instead of a file each. */
export const PACKED_OUTPUT_MAX_BYTES = 1024;
export const PACK_FILE = "outputs.ndjson";

interface PackReader {
  offset: number;
  partial: string;
  values: Map<string, string>;
}

/**
 * Outputs of run R: `.sluice/storage/R/<step>/<output>` for values over 1 KiB; smaller ones are
 * lines of `.sluice/storage/R/outputs.ndjson`. Creating two inodes per step costs more than the
 * rest of a small step put together (about 0.3 ms here), while an append is one write. Readable by
 * other processes (step workers append to the pack concurrently: each line is one O_APPEND write)
 * and by later runs.
 */
export class FileOutputStore implements OutputStore {
  private readonly madeDirs = new Set<string>();
  private readonly packFiles = new Map<string, { fd: number; path: string }>();
  private readonly packs = new Map<string, PackReader>();

  constructor(private readonly root: string) {}

  pathOf(runId: string, stepKey: string, output: string): string {
    return join(this.root, runId, stepKey, output);
  }

  write(runId: string, stepKey: string, output: string, value: unknown): { path: string; bytes: number } {
    const text = serializeValue(value);
    const bytes = Buffer.byteLength(text);
    if (bytes <= PACKED_OUTPUT_MAX_BYTES) {
      const line = JSON.stringify([stepKey, output, text]) + "\n";
      const pack = this.packFile(runId);
      writeSync(pack.fd, line);
      this.packOf(runId).values.set(packKey(stepKey, output), text);
      return { path: pack.path, bytes };
    }
    const path = this.pathOf(runId, stepKey, output);
    this.ensureDir(join(this.root, runId), join(this.root, runId, stepKey));
    // No temp file and rename: nothing reads an output before its STEP_OUTPUT event, which is
    // only emitted once this write has returned.
    writeFileSync(path, text);
    return { path, bytes };
  }

  read(runId: string, stepKey: string, output: string): unknown {
    const packed = this.packed(runId, stepKey, output);
    if (packed !== undefined) return deserializeValue(packed);
    return deserializeValue(readFileSync(this.pathOf(runId, stepKey, output), "utf8"));
  }

  has(runId: string, stepKey: string, output: string): boolean {
    return this.packed(runId, stepKey, output) !== undefined || existsSync(this.pathOf(runId, stepKey, output));
  }

  close(): void {
    for (const { fd } of this.packFiles.values()) closeSync(fd);
    this.packFiles.clear();
  }

  private packFile(runId: string): { fd: number; path: string } {
    let pack = this.packFiles.get(runId);
    if (pack === undefined) {
      const runDir = join(this.root, runId);
      if (!this.madeDirs.has(runDir)) {
        mkdirSync(runDir, { recursive: true });
        this.madeDirs.add(runDir);
      }
      const path = join(runDir, PACK_FILE);
      pack = { fd: openSync(path, "a"), path };
      this.packFiles.set(runId, pack);
    }
    return pack;
  }

  private packOf(runId: string): PackReader {
    let pack = this.packs.get(runId);
    if (!pack) {
      pack = { offset: 0, partial: "", values: new Map() };
      this.packs.set(runId, pack);
    }
    return pack;
  }

  /** Looks a value up in the run's pack, reading only what other processes appended since last time. */
  private packed(runId: string, stepKey: string, output: string): string | undefined {
    const pack = this.packOf(runId);
    const key = packKey(stepKey, output);
    const known = pack.values.get(key);
    if (known !== undefined) return known;
    let fd: number;
    try {
      fd = openSync(join(this.root, runId, PACK_FILE), "r");
    } catch {
      return undefined;
    }
    try {
      const size = fstatSync(fd).size;
      if (size > pack.offset) {
        const buffer = Buffer.alloc(size - pack.offset);
        readSync(fd, buffer, 0, buffer.length, pack.offset);
        pack.offset = size;
        const lines = (pack.partial + buffer.toString("utf8")).split("\n");
        pack.partial = lines.pop() ?? "";
        for (const line of lines) {
          if (!line) continue;
          try {
            const [step, out, text] = JSON.parse(line) as [string, string, string];
            pack.values.set(packKey(step, out), text);
          } catch {
            // a line torn by a crash: that output was never reported, so nothing looks for it
          }
        }
      }
    } finally {
      closeSync(fd);
    }
    return pack.values.get(key);
  }

  private ensureDir(runDir: string, stepDir: string): void {
    if (this.madeDirs.has(stepDir)) return;
    if (!this.madeDirs.has(runDir)) {
      mkdirSync(runDir, { recursive: true });
      this.madeDirs.add(runDir);
    }
    try {
      mkdirSync(stepDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    this.madeDirs.add(stepDir);
  }
}

function packKey(stepKey: string, output: string): string {
  return `${stepKey}\u0000${output}`;
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
