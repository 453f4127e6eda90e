// DESIGN.md rule 3: exactly one process owns a `.sluice` home at a time. The owner writes its pid
// into a lock file; a lock whose pid is gone is stale and taken over.
import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";

export interface OwnerInfo {
  pid: number;
  startedAt: number;
  /** What kind of process owns it ("cli", "dev", "vscode"). */
  role: string;
}

export class InstanceOwnedError extends Error {
  constructor(readonly owner: OwnerInfo, home: string) {
    super(`The Sluice instance in ${home} is in use by another process (pid ${owner.pid}, ${owner.role}, since ${new Date(owner.startedAt).toISOString()}).`);
    this.name = "InstanceOwnedError";
  }
}

export interface Ownership {
  readonly info: OwnerInfo;
  release(): void;
}

export function lockPath(home: string): string {
  return join(home, "owner.lock");
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function readOwner(home: string): OwnerInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(lockPath(home), "utf8")) as OwnerInfo;
    return typeof info.pid === "number" ? info : undefined;
  } catch {
    return undefined;
  }
}

/** The live owner of a home, if any. */
export function currentOwner(home: string): OwnerInfo | undefined {
  const owner = readOwner(home);
  return owner && owner.pid !== process.pid && isAlive(owner.pid) ? owner : undefined;
}

export function acquireOwnership(home: string, role = "cli"): Ownership {
  mkdirSync(home, { recursive: true });
  const path = lockPath(home);
  const info: OwnerInfo = { pid: process.pid, startedAt: Date.now(), role };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      // O_EXCL: of two processes racing for the lock, exactly one creates it.
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, JSON.stringify(info));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        if (readOwner(home)?.pid === process.pid) {
          try {
            unlinkSync(path);
          } catch {
            // already gone
          }
        }
      };
      process.once("exit", release);
      return { info, release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const owner = readOwner(home);
      if (owner && owner.pid !== process.pid && isAlive(owner.pid)) throw new InstanceOwnedError(owner, home);
      // Stale (dead owner or unreadable): remove and try again.
      try {
        unlinkSync(path);
      } catch {
        // someone else removed it first
      }
    }
  }
  throw new Error(`could not acquire the instance lock ${path}`);
}
