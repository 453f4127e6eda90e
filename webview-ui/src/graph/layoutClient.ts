// Lays out graphs off the webview's UI thread: a small pool of Web Workers (one per core, at most
// two) created from the worker bundle that esbuild embeds in main.js (CSP: `worker-src blob:`).
// Large graphs are partitioned here and their parts laid out in parallel; results are cached by
// graph hash, so live status updates (same graph) never lay out again. Without workers (a CSP
// without worker-src, or no Worker at all) it falls back to this thread, part by part, yielding
// between parts so the page keeps painting.
import workerSource from "virtual:layout-worker";
import { assemble, layoutHash, layoutSingle, partInput, partition, SINGLE_MAX, type LayoutInput, type LayoutResult } from "./layoutCore";

interface Pending {
  resolve(r: LayoutResult): void;
  reject(e: Error): void;
}

class WorkerSlot {
  private readonly pending = new Map<number, Pending>();
  busy = 0;
  constructor(readonly worker: Worker) {
    worker.onmessage = (e: MessageEvent<{ id: number; result?: LayoutResult; error?: string }>) => {
      const p = this.pending.get(e.data.id);
      if (!p) return;
      this.pending.delete(e.data.id);
      this.busy--;
      if (e.data.result) p.resolve(e.data.result);
      else p.reject(new Error(e.data.error ?? "layout failed"));
    };
    worker.onerror = (e) => {
      for (const p of this.pending.values()) p.reject(new Error(e.message || "layout worker error"));
      this.pending.clear();
      this.busy = 0;
    };
  }
  run(id: number, input: LayoutInput, mode: "all" | "single"): Promise<LayoutResult> {
    this.busy++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, input, mode });
    });
  }
}

export interface LayoutStats {
  hash: string;
  cached: boolean;
  ms: number;
  where: "worker" | "main";
  workers: number;
  mode: LayoutResult["mode"];
}

export class LayoutClient {
  private slots: WorkerSlot[] | undefined;
  private nextId = 1;
  private readonly cache = new Map<string, LayoutResult>();
  private readonly inflight = new Map<string, Promise<LayoutResult>>();
  lastStats: LayoutStats | undefined;

  constructor(private readonly maxWorkers = Math.max(1, Math.min(2, (typeof navigator !== "undefined" && navigator.hardwareConcurrency) || 2))) {}

  private workers(): WorkerSlot[] {
    if (this.slots) return this.slots;
    this.slots = [];
    try {
      if (typeof Worker === "undefined" || typeof Blob === "undefined") return this.slots;
      const url = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
      for (let i = 0; i < this.maxWorkers; i++) this.slots.push(new WorkerSlot(new Worker(url, { name: `sluice-layout-${i}` })));
    } catch {
      this.slots = [];
    }
    return this.slots;
  }

  cached(input: LayoutInput): LayoutResult | undefined {
    return this.cache.get(layoutHash(input));
  }

  async layout(input: LayoutInput): Promise<LayoutResult> {
    const hash = layoutHash(input);
    const hit = this.cache.get(hash);
    if (hit) {
      this.cache.delete(hash);
      this.cache.set(hash, hit);
      this.lastStats = { hash, cached: true, ms: 0, where: "worker", workers: this.slots?.length ?? 0, mode: hit.mode };
      return hit;
    }
    let p = this.inflight.get(hash);
    if (!p) {
      p = this.compute(input, hash).finally(() => this.inflight.delete(hash));
      this.inflight.set(hash, p);
    }
    return p;
  }

  private async compute(input: LayoutInput, hash: string): Promise<LayoutResult> {
    const t0 = performance.now();
    const slots = this.workers();
    let result: LayoutResult;
    let where: LayoutStats["where"] = "worker";
    try {
      if (slots.length === 0) throw new Error("no workers");
      if (input.nodes.length <= SINGLE_MAX) {
        result = await this.pick(slots).run(this.nextId++, input, "single");
      } else {
        const parts = partition(input);
        // Longest first onto the least busy worker (LPT), so that both cores finish together.
        const order = parts.parts.map((nodes, k) => ({ k, size: nodes.length })).sort((a, b) => b.size - a.size);
        const results: LayoutResult[] = new Array(parts.parts.length);
        const loads = slots.map(() => 0);
        const assigned: { k: number; slot: number }[] = order.map(({ k, size }) => {
          const slot = loads.indexOf(Math.min(...loads));
          loads[slot] += size;
          return { k, slot };
        });
        await Promise.all(assigned.map(({ k, slot }) => slots[slot].run(this.nextId++, partInput(input, parts.parts[k]), "single").then((r) => (results[k] = r))));
        result = assemble(input, parts, results, t0);
      }
    } catch {
      where = "main";
      result = await this.onMainThread(input, t0);
    }
    result.ms = performance.now() - t0;
    this.cache.set(hash, result);
    while (this.cache.size > 24) this.cache.delete(this.cache.keys().next().value as string);
    this.lastStats = { hash, cached: false, ms: result.ms, where, workers: slots.length, mode: result.mode };
    return result;
  }

  private pick(slots: WorkerSlot[]): WorkerSlot {
    return slots.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  private async onMainThread(input: LayoutInput, t0: number): Promise<LayoutResult> {
    const pause = () => new Promise<void>((r) => setTimeout(r, 0));
    if (input.nodes.length <= SINGLE_MAX) return layoutSingle(input);
    const parts = partition(input);
    const results: LayoutResult[] = [];
    for (const nodes of parts.parts) {
      results.push(layoutSingle(partInput(input, nodes)));
      await pause();
    }
    return assemble(input, parts, results, t0);
  }

  dispose(): void {
    for (const s of this.slots ?? []) s.worker.terminate();
    this.slots = undefined;
  }
}
