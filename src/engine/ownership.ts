// DESIGN.md rule 3: exactly one process owns a `.sluice` home at a time.
//
// The owner's lock is `<home>/owner.lock`, a small JSON file (pid, process start time, role, a
// random token, the owner's socket). How it stays exclusive:
//  - it is created by writing a private temp file and hard-linking it into place: link() fails if
//    the lock exists, so of two processes racing for a free home exactly one wins, and nobody can
//    ever read a half-written lock;
//  - a lock whose process is gone (pid dead, or pid reused by a process that started later) is
//    stale. Taking it over happens under a second, short-lived lock (`owner.lock.takeover`,
//    created the same way), and under it the lock is read again and only replaced if it is still
//    the very stale lock seen before (same token): two processes that both saw the stale lock
//    cannot both take it over. A takeover lock left by a process that died mid-takeover is itself
//    stale after its pid is gone and is renamed away, checking the renamed file is the one seen;
//  - after taking the lock the winner reads it back and checks its token (re-verify).
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

export interface OwnerInfo {
  pid: number;
  startedAt: number;
  /** What kind of process owns it ("cli", "dev", "vscode"). */
  role: string;
  /** Random per acquisition: tells two locks of the same pid apart. */
  token?: string;
  /** Process start time in clock ticks since boot (Linux /proc), to detect pid reuse. */
  procStart?: number;
  /** Where the owner listens for other processes' requests (see src/engine/rpc). */
  socket?: string;
}

export class InstanceOwnedError extends Error {
  constructor(readonly owner: OwnerInfo, home: string) {
    super(`The Sluice instance in ${home} is in use by another process (pid ${owner.pid}, ${owner.role}, since ${new Date(owner.startedAt).toISOString()}).`);
    this.name = "InstanceOwnedError";
  }
}

export interface Ownership {
  readonly info: OwnerInfo;
  /** True while the lock file still names this acquisition. */
  verify(): boolean;
  release(): void;
}

export function lockPath(home: string): string {
  return join(home, "owner.lock");
}

function takeoverPath(home: string): string {
  return join(home, "owner.lock.takeover");
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat); undefined where unknown. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: fields follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** The process the info describes is still running (not merely a new process with the same pid). */
export function ownerAlive(info: Pick<OwnerInfo, "pid" | "procStart">): boolean {
  if (!isAlive(info.pid)) return false;
  if (info.procStart === undefined) return true;
  const now = processStartTime(info.pid);
  return now === undefined || now === info.procStart;
}

function readInfo(path: string): OwnerInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path, "utf8")) as OwnerInfo;
    return info && typeof info.pid === "number" ? info : undefined;
  } catch {
    return undefined;
  }
}

export function readOwner(home: string): OwnerInfo | undefined {
  return readInfo(lockPath(home));
}

/** The live owner of a home, if any (never this process). */
export function currentOwner(home: string): OwnerInfo | undefined {
  const owner = readOwner(home);
  return owner && owner.pid !== process.pid && ownerAlive(owner) ? owner : undefined;
}

/** Writes `info` to a private temp file and links it to `path`; false if `path` exists. */
function createExclusively(path: string, info: OwnerInfo): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, JSON.stringify(info));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Removes a stale file only if it is still the one whose content was read (same token/pid). */
function removeIfSame(path: string, seen: OwnerInfo | undefined): void {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it
  }
  const moved = readInfo(aside);
  const same = seen === undefined ? moved === undefined : moved?.token === seen.token && moved?.pid === seen.pid;
  if (!same) {
    // We moved a fresh file that is not the one we judged stale: put it back if nothing replaced it.
    try {
      linkSync(aside, path);
    } catch {
      // a newer file is in place; ours stays aside
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // gone
  }
}

export interface AcquireOptions {
  role?: string;
  /** Where this owner will listen (stored in the lock for other processes). */
  socket?: string;
}

export function acquireOwnership(home: string, roleOrOptions: string | AcquireOptions = "cli"): Ownership {
  const options = typeof roleOrOptions === "string" ? { role: roleOrOptions } : roleOrOptions;
  mkdirSync(home, { recursive: true });
  const path = lockPath(home);
  const info: OwnerInfo = {
    pid: process.pid,
    startedAt: Date.now(),
    role: options.role ?? "cli",
    token: randomBytes(8).toString("hex"),
    procStart: processStartTime(process.pid),
    socket: options.socket,
  };
  for (let attempt = 0; attempt < 50; attempt++) {
    if (createExclusively(path, info)) return owned(home, info);
    const seen = readOwner(home);
    if (seen === undefined) {
      // Unreadable: an older Sluice may be writing it right now; give it a moment before judging.
      sleepSync(20);
      const again = readOwner(home);
      if (again === undefined && attempt >= 3) {
        if (takeOver(home, undefined, info)) return owned(home, info);
      }
      continue;
    }
    if (seen.pid === process.pid && seen.token === info.token) return owned(home, info);
    if (ownerAlive(seen)) throw new InstanceOwnedError(seen, home);
    if (takeOver(home, seen, info)) return owned(home, info);
    sleepSync(5 + Math.random() * 20);
  }
  const owner = currentOwner(home);
  if (owner) throw new InstanceOwnedError(owner, home);
  throw new Error(`could not acquire the instance lock ${path}`);
}

/** Replaces the stale lock `seen` with ours, under the takeover lock. True when we own the home. */
function takeOver(home: string, seen: OwnerInfo | undefined, info: OwnerInfo): boolean {
  const mutex = takeoverPath(home);
  const mine: OwnerInfo = { ...info, role: "takeover" };
  let acquired = false;
  for (let i = 0; i < 100 && !acquired; i++) {
    acquired = createExclusively(mutex, mine);
    if (acquired) break;
    const holder = readInfo(mutex);
    if (holder === undefined || !ownerAlive(holder)) removeIfSame(mutex, holder);
    else sleepSync(5);
  }
  if (!acquired) return false;
  try {
    const current = readOwner(home);
    const stillStale = seen === undefined ? current === undefined : current !== undefined && current.token === seen.token && current.pid === seen.pid && !ownerAlive(current);
    if (!stillStale) {
      if (current && ownerAlive(current) && current.token !== info.token) throw new InstanceOwnedError(current, home);
      return false;
    }
    const path = lockPath(home);
    const aside = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.stale`;
    try {
      renameSync(path, aside);
    } catch {
      return false;
    }
    const ok = createExclusively(path, info);
    try {
      unlinkSync(aside);
    } catch {
      // gone
    }
    return ok && readOwner(home)?.token === info.token;
  } finally {
    if (readInfo(mutex)?.token === mine.token) {
      try {
        unlinkSync(mutex);
      } catch {
        // gone
      }
    }
  }
}

function owned(home: string, info: OwnerInfo): Ownership {
  const path = lockPath(home);
  // Re-verify: the lock on disk must be ours.
  if (readOwner(home)?.token !== info.token) throw new Error(`lost the instance lock ${path} right after taking it`);
  let released = false;
  const verify = () => readOwner(home)?.token === info.token;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    if (verify()) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  };
  process.once("exit", release);
  return { info, verify, release };
}
