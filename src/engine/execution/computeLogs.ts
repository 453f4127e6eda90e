// Compute logs: what a step prints on stdout and stderr, kept in
// `.sluice/logs/<runId>/<stepKey>.out|.err` and readable while the step runs.
//
// How the bytes get there depends on where the step runs:
// - spawn step workers: the worker's stdout/stderr file descriptors ARE the files (the OS writes
//   them; child processes and native code are captured too);
// - forkserver step workers and the in-process executor: process.stdout/stderr `write` is redirected
//   to the step's files while the step runs (JavaScript writes only; one step at a time per process).
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, statSync, writeSync } from "node:fs";
import { join, sep } from "node:path";

export interface ComputeLogPaths {
  dir: string;
  stdout: string;
  stderr: string;
}

/** File names are step keys with anything that is not a plain file-name character replaced. */
export function safeLogName(stepKey: string): string {
  return stepKey.replace(/[^A-Za-z0-9_.-]/g, "_");
}

export function computeLogPaths(logsDir: string, runId: string, stepKey: string): ComputeLogPaths {
  const dir = join(logsDir, runId);
  // A safe name has no separator to normalize: concatenation is join's result, for less per step.
  const base = dir + sep + safeLogName(stepKey);
  return { dir, stdout: `${base}.out`, stderr: `${base}.err` };
}

/** Data of the LOGS_CAPTURED event announcing where a step's output goes. */
export function logsCapturedData(paths: ComputeLogPaths, stepKey: string, runId: string): Record<string, unknown> {
  return { stepKeys: [stepKey], logKey: `${runId}/${safeLogName(stepKey)}`, stdoutPath: paths.stdout, stderrPath: paths.stderr };
}

type Write = typeof process.stdout.write;

/**
 * Redirects `process.stdout.write` / `process.stderr.write` of this process into one step's log
 * files between `begin` and `end`. The writers are replaced on the first `begin` and stay: between
 * steps they pass writes through, so a step costs no patching. Files are opened on the first write
 * (a step that prints nothing creates none), in append mode, so a retried step adds to what its
 * earlier attempts printed.
 */
class StepLogCapture {
  private paths: ComputeLogPaths | (() => ComputeLogPaths) | undefined;
  private outFd: number | undefined;
  private errFd: number | undefined;
  private installed = false;

  /** `paths` may be a function, called on the first write only. */
  begin(paths: ComputeLogPaths | (() => ComputeLogPaths)): void {
    this.end();
    this.install();
    this.paths = paths;
  }

  /** Writes pass through again; the step's files are closed. */
  end(): void {
    this.paths = undefined;
    for (const fd of [this.outFd, this.errFd]) {
      if (fd !== undefined) {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      }
    }
    this.outFd = this.errFd = undefined;
  }

  private install(): void {
    if (this.installed) return;
    this.installed = true;
    process.stdout.write = this.writer("out", process.stdout.write);
    process.stderr.write = this.writer("err", process.stderr.write);
  }

  private fd(which: "out" | "err"): number {
    if (typeof this.paths === "function") this.paths = this.paths();
    const paths = this.paths!;
    if (which === "out") return (this.outFd ??= open(paths, paths.stdout));
    return (this.errFd ??= open(paths, paths.stderr));
  }

  private writer(which: "out" | "err", original: Write): Write {
    const self = this;
    return function write(this: unknown, chunk: unknown, encodingOrCb?: unknown, cb?: unknown): boolean {
      // eslint-disable-next-line prefer-rest-params
      if (self.paths === undefined) return Reflect.apply(original, this, arguments) as boolean;
      const callback = (typeof encodingOrCb === "function" ? encodingOrCb : cb) as ((err?: Error | null) => void) | undefined;
      const encoding = typeof encodingOrCb === "string" ? (encodingOrCb as BufferEncoding) : undefined;
      try {
        if (typeof chunk === "string") writeSync(self.fd(which), chunk, null, encoding ?? "utf8");
        else if (chunk instanceof Uint8Array) writeSync(self.fd(which), chunk);
        else writeSync(self.fd(which), String(chunk));
      } catch (e) {
        if (callback) process.nextTick(callback, e as Error);
        return true;
      }
      if (callback) process.nextTick(callback);
      return true;
    } as Write;
  }
}

/** The one capture of this process (forkserver step workers and the in-process executor run one step at a time). */
export const stepLogCapture = new StepLogCapture();

const madeDirs = new Set<string>();

function open(paths: ComputeLogPaths, file: string): number {
  if (!madeDirs.has(paths.dir)) {
    mkdirSync(paths.dir, { recursive: true });
    madeDirs.add(paths.dir);
  }
  return openSync(file, "a");
}

/** Opens (creating) a step's two log files for a child's stdio; the caller closes them after forking. */
export function openLogFiles(paths: ComputeLogPaths): { out: number; err: number } {
  return { out: open(paths, paths.stdout), err: open(paths, paths.stderr) };
}

/** The last `bytes` of a file ("" if it does not exist). */
export function readTail(file: string, bytes = 4096): string {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return "";
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(bytes, size);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** Bytes of a file from `offset` to its current end (for following a log while it grows). */
export function readFrom(file: string, offset: number): { text: string; next: number } {
  if (!existsSync(file)) return { text: "", next: offset };
  const size = statSync(file).size;
  if (size <= offset) return { text: "", next: size < offset ? size : offset };
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(size - offset);
    const n = readSync(fd, buf, 0, buf.length, offset);
    // Do not split a UTF-8 character: an incomplete last character waits for the next read.
    const end = completeUtf8Length(buf, n);
    return { text: buf.subarray(0, end).toString("utf8"), next: offset + end };
  } finally {
    closeSync(fd);
  }
}

/** Length of the longest prefix of buf[0..n) that does not end inside a UTF-8 character. */
function completeUtf8Length(buf: Buffer, n: number): number {
  let i = n - 1;
  let continuation = 0;
  while (i >= 0 && continuation < 3 && (buf[i] & 0xc0) === 0x80) {
    i--;
    continuation++;
  }
  if (i < 0) return n;
  const lead = buf[i];
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return n - i >= need ? n : i;
}
