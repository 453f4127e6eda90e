// Snapshots: the whole database file, replaced atomically so a crash leaves either the old or the
// new one, never a mix.
import * as fs from "node:fs";
import * as path from "node:path";

export const SNAPSHOT_FILE = "sluice.sqlite";

/** temp file → fsync → rename over the target → fsync the directory (so the rename itself is durable). */
export function writeFileAtomically(file: string, bytes: Uint8Array): void {
  const tmp = temporaryPathFor(file);
  const fd = fs.openSync(tmp, "w");
  try {
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDirectory(path.dirname(file));
}

export function temporaryPathFor(file: string): string {
  return `${file}.tmp`;
}

/** The snapshot's bytes, or undefined when there is none yet. */
export function readSnapshot(file: string): Uint8Array | undefined {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Makes created, renamed and deleted names in `dir` durable. Not supported on Windows: skipped there. */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EBADF") throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
