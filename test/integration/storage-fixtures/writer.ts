// A child process that writes to a store until the test kills it.
//   node --import tsx writer.ts HOME MODE
// MODE:
//   loop-sync           append events in a loop that never yields (flushes must happen inline)
//   loop-async          append a batch, yield to the event loop, repeat (flushes come from the timer)
//   crash-before-rename take snapshots often; stop dead when a snapshot is about to be renamed into place
//   crash-after-rename  same, but stop dead right after the rename (old journal not yet deleted)
//   exit-without-close  append some events and let the process end without close()
// Progress goes to stdout as JSON lines: {"n": events appended so far, "t": Date.now() after appending them},
// and {"phase": "..."} when the process is about to stop dead.
import * as fs from "node:fs";
import type { SluiceEvent } from "../../../src/engine/events";
import { Store } from "../../../src/engine/storage/store";

const [home, mode] = process.argv.slice(2);
const RUN_ID = "run-1";

function event(n: number): SluiceEvent {
  return {
    runId: RUN_ID,
    type: "LOG_MESSAGE",
    stepKey: `op_${n % 7}`,
    timestamp: Date.now(),
    level: "INFO",
    message: `event ${n}`,
    data: { n, padding: "x".repeat(200) },
  };
}

function report(line: object): void {
  fs.writeSync(1, JSON.stringify(line) + "\n"); // synchronous: the parent must see it before we die
}

/** Parks the process forever without returning to the caller (so the parent's SIGKILL lands here). */
function stopDead(phase: string): never {
  report({ phase });
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

async function main(): Promise<void> {
  let armed = false; // the snapshot taken while opening is not the one to crash in
  if (mode === "crash-before-rename" || mode === "crash-after-rename") {
    // Patch the module object itself (the store's `import * as fs` reads through to it).
    const nodeFs = require("node:fs") as typeof fs;
    const realRename = nodeFs.renameSync;
    nodeFs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
      if (armed && String(from).endsWith(".sqlite.tmp")) {
        if (mode === "crash-before-rename") stopDead("before-rename");
        realRename(from, to);
        stopDead("after-rename");
      }
      realRename(from, to);
    }) as typeof fs.renameSync;
  }
  const crashMode = mode.startsWith("crash");
  const store = await Store.open({
    home,
    // Without close(), a long interval leaves everything to the store's exit hook.
    flushIntervalMs: mode === "exit-without-close" ? 60_000 : 50,
    snapshotEveryRecords: crashMode ? 300 : undefined,
  });
  armed = true;
  store.createRun({ runId: RUN_ID, jobName: "job" });
  store.appendEvent({ runId: RUN_ID, type: "RUN_START", timestamp: Date.now(), level: "DEBUG", message: "start" });

  let n = 0;
  if (mode === "exit-without-close") {
    for (; n < 500; n++) store.appendEvent(event(n));
    report({ n, t: Date.now() });
    return; // no close(), no flush(): the exit hook must save the tail
  }
  for (;;) {
    for (let i = 0; i < 25; i++) store.appendEvent(event(n++));
    report({ n, t: Date.now() });
    if (mode === "loop-async") await new Promise((resolve) => setImmediate(resolve));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
