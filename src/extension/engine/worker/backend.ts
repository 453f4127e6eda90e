// The engine as the worker thread uses it, in one of two modes (DESIGN.md rule 3, one writer):
// - owner: this VS Code window owns `.sluice` (the Instance with role "vscode", daemons running);
// - client: another process owns it (`sluice dev` in a terminal, another window, a running CLI
//   command): changes go to that owner over its socket, reads come from a read-only view of the
//   store that is opened again whenever the owner's journal grows, and job files are loaded by our
//   own code-location process (read-only Instance).
// Both offer the same Backend interface, which is also the webview's InstanceLike.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ReexecuteRequest } from "../../../engine/execution/reexecution";
import type { DefinitionsSnapshot } from "../../../engine/definitions/snapshot";
import type { EventsQuery, RunRecord, RunRecordsOptions, RunsFilter, StoredEvent } from "../../../engine/events";
import { findRun, type Instance, type LaunchRequest } from "../../../engine/instance";
import type { CancelResult } from "../../../engine/launcher/owner";
import type { OwnerInfo } from "../../../engine/ownership";
import type { PoolInfo } from "../../../engine/pools/poolStore";
import type { InstanceInfo, LaunchResult, OwnerApi } from "../../../engine/rpc/api";
import type { RemoteOwner } from "../../../engine/rpc/remote";
import { Store } from "../../../engine/storage/store";
import type { OwnerStatus } from "../../../protocol/engineWorker";
import type { InstanceLike } from "../../webview/instanceData";

export interface Backend extends InstanceLike {
  readonly mode: "owner" | "client";
  readonly home: string;
  status(): OwnerStatus;
  definitions(reload?: boolean): Promise<DefinitionsSnapshot>;
  launch(request: LaunchRequest): Promise<LaunchResult>;
  reexecute(runId: string, request: ReexecuteRequest): Promise<LaunchResult>;
  cancel(runId: string): Promise<CancelResult>;
  info(): Promise<InstanceInfo>;
  concurrencyInfo(pool?: string): Promise<PoolInfo[]>;
  close(): Promise<void>;
}

/**
 * What both modes do alike: definitions and launch checks come from an Instance of our own, owner
 * requests go to the owner's API (the Instance itself, or the owner's socket).
 */
abstract class BackendBase {
  constructor(
    protected readonly reader: Instance,
    protected readonly api: OwnerApi,
  ) {}

  get home(): string {
    return this.reader.home;
  }
  definitions(reload = false): Promise<DefinitionsSnapshot> {
    return this.reader.definitions(reload);
  }
  prepare(request: LaunchRequest): Promise<unknown> {
    return this.reader.prepare(request);
  }
  concurrencyInfo(pool?: string): Promise<PoolInfo[]> {
    return this.api.concurrencyInfo(pool);
  }
  info(): Promise<InstanceInfo> {
    return this.api.info();
  }
  launch(request: LaunchRequest): Promise<LaunchResult> {
    return this.api.launch(request);
  }
  reexecute(runId: string, request: ReexecuteRequest): Promise<LaunchResult> {
    return this.api.reexecute(runId, request);
  }
  cancel(runId: string): Promise<CancelResult> {
    return this.api.cancel(runId);
  }
  setConcurrencyLimit(pool: string, limit: number): Promise<string> {
    return this.api.setConcurrencyLimit(pool, limit);
  }
}

/** This window owns `.sluice`: the Instance itself. */
export class OwnerBackend extends BackendBase implements Backend {
  readonly mode = "owner";

  constructor(
    readonly instance: Instance,
    private readonly lockToken: string | undefined,
  ) {
    super(instance, instance);
  }

  status(): OwnerStatus {
    return { mode: "owner", home: this.home, ownerPid: process.pid, ownerRole: "vscode", lockToken: this.lockToken };
  }

  runs(filter?: RunsFilter, options?: RunRecordsOptions): RunRecord[] {
    return this.instance.runs(filter, options);
  }
  run(runId: string): RunRecord {
    return this.instance.run(runId);
  }
  events(runId: string, query?: EventsQuery): StoredEvent[] {
    return this.instance.events(runId, query);
  }
  onEvents(listener: (events: StoredEvent[]) => void): () => void {
    return this.instance.onEvents(listener);
  }
  close(): Promise<void> {
    return this.instance.close();
  }
}

/** What changed in the db folder: names, sizes and times of its files. */
function dbSignature(home: string): string {
  const dir = join(home, "db");
  try {
    return readdirSync(dir)
      .sort()
      .map((f) => {
        try {
          const st = statSync(join(dir, f));
          return `${f}:${st.size}:${st.mtimeMs}`;
        } catch {
          return f;
        }
      })
      .join("|");
  } catch {
    return "";
  }
}

/** Another process owns `.sluice`: requests go to it, reads come from a refreshed read-only store. */
export class ClientBackend extends BackendBase implements Backend {
  readonly mode = "client";
  private store: Store;
  private signature: string;
  private lastEventId: number;
  private readonly listeners = new Set<(events: StoredEvent[]) => void>();
  private refreshing: Promise<boolean> | undefined;
  private closed = false;

  private constructor(
    /** Read-only Instance: definitions (own code-location process) and validation. */
    reader: Instance,
    private readonly remote: RemoteOwner,
    readonly owner: OwnerInfo,
    store: Store,
  ) {
    super(reader, remote);
    this.store = store;
    this.signature = dbSignature(reader.home);
    this.lastEventId = store.latestEventId();
  }

  static async open(reader: Instance, remote: RemoteOwner, owner: OwnerInfo): Promise<ClientBackend> {
    const store = await Store.open({ home: reader.home, readOnly: true, log: () => undefined });
    return new ClientBackend(reader, remote, owner, store);
  }

  status(): OwnerStatus {
    return { mode: "client", home: this.home, ownerPid: this.owner.pid, ownerRole: this.owner.role };
  }

  /**
   * Opens the store again if the owner wrote to it since the last look; new events go to the
   * listeners. True when something changed. One refresh at a time.
   */
  refresh(): Promise<boolean> {
    if (this.refreshing) return this.refreshing;
    const sig = dbSignature(this.home);
    if (sig === this.signature || this.closed) return Promise.resolve(false);
    this.refreshing = (async () => {
      try {
        const fresh = await Store.open({ home: this.home, readOnly: true, log: () => undefined });
        if (this.closed) {
          fresh.close();
          return false;
        }
        const old = this.store;
        this.store = fresh;
        this.signature = sig;
        old.close();
        const events = fresh.getEventsAfter(this.lastEventId, 100_000);
        if (events.length > 0) {
          this.lastEventId = events[events.length - 1].id;
          for (const l of [...this.listeners]) l(events);
        }
        return true;
      } catch {
        return false; // a snapshot being replaced: the next look reads again
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  runs(filter?: RunsFilter, options?: RunRecordsOptions): RunRecord[] {
    return this.store.getRunRecords(filter, options);
  }
  run(runId: string): RunRecord {
    return findRun(this.store, runId);
  }
  events(runId: string, query?: EventsQuery): StoredEvent[] {
    return this.store.getEvents(this.run(runId).runId, query);
  }
  onEvents(listener: (events: StoredEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async close(): Promise<void> {
    this.closed = true;
    this.remote.close();
    this.store.close();
    await this.reader.close();
  }
}
