// Entry of the engine's worker thread (dist/engineWorker.js): the extension host starts it with
// `new Worker(...)` and talks to it only through src/protocol/engineWorker.ts. Nothing here imports
// `vscode`; everything that touches sql.js, the owner lock, the daemons and the file watcher runs
// on this thread, never on the extension host's main thread.
import { parentPort, workerData } from "node:worker_threads";
import { hostMessageSchema, workerInitSchema, type WorkerMessage } from "../../protocol/engineWorker";
import { EngineService } from "./worker/service";

const port = parentPort;
if (!port) throw new Error("engineWorker.js runs only as a worker thread");

const post = (m: WorkerMessage) => port.postMessage(m);
const init = workerInitSchema.safeParse(workerData);
if (!init.success) {
  post({ t: "failed", message: `invalid worker data: ${init.error.issues.map((i) => i.message).join("; ")}` });
} else {
  const service = new EngineService(init.data, post);
  port.on("message", (raw: unknown) => {
    const parsed = hostMessageSchema.safeParse(raw);
    if (!parsed.success) {
      service.log("error", `Ignored an invalid message from the extension host: ${parsed.error.issues[0]?.message ?? "?"}`);
      return;
    }
    void service.handle(parsed.data);
  });
  service.start().catch((e: unknown) => post({ t: "failed", message: e instanceof Error ? e.message : String(e) }));
  process.on("unhandledRejection", (e) => service.log("error", `Unhandled rejection in the engine: ${e instanceof Error ? e.stack ?? e.message : String(e)}`));
}
