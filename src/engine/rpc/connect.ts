// How a `sluice` command reaches its home's owner: if a live process owns the home, talk to it
// over its socket; otherwise become the owner (open the instance as the writer). Races between
// two commands starting at once end with one owner and one client.
import { resolve } from "node:path";
import { Instance, type InstanceOptions } from "../instance";
import { currentOwner, InstanceOwnedError, ownerAlive, type OwnerInfo } from "../ownership";
import { instanceHome } from "../paths";
import type { OwnerApi } from "./api";
import { OwnerClient } from "./client";
import { socketPathFor } from "./protocol";
import { RemoteOwner } from "./remote";

export type OwnerSession =
  | { kind: "local"; api: Instance; instance: Instance; close(): Promise<void> }
  | { kind: "remote"; api: RemoteOwner; owner: OwnerInfo; close(): Promise<void> };

const CONNECT_PATIENCE_MS = 5_000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Connects to the live owner of `home`, if there is one (waits a little for an owner still starting to listen). */
export async function connectToOwner(home: string): Promise<{ api: RemoteOwner; owner: OwnerInfo } | undefined> {
  const deadline = Date.now() + CONNECT_PATIENCE_MS;
  for (;;) {
    const owner = currentOwner(home);
    if (!owner) return undefined;
    try {
      const client = await OwnerClient.connect(owner.socket ?? socketPathFor(home));
      return { api: new RemoteOwner(client, owner.pid), owner };
    } catch (e) {
      if (!ownerAlive(owner)) continue;
      if (Date.now() > deadline) {
        throw new Error(`The Sluice instance in ${home} is owned by pid ${owner.pid} (${owner.role}), but its socket does not answer: ${(e as Error).message}`);
      }
      await sleep(50);
    }
  }
}

/** The owner's API for this workspace: the running owner's, or this process's after becoming the owner. */
export async function openOwnerSession(workspace: string, options: InstanceOptions & { preferLocal?: boolean } = {}): Promise<OwnerSession> {
  const home = instanceHome(resolve(workspace));
  for (let attempt = 0; ; attempt++) {
    const remote = await connectToOwner(home);
    if (remote) return { kind: "remote", api: remote.api, owner: remote.owner, close: async () => remote.api.close() };
    try {
      const instance = await Instance.open(workspace, { ...options, readOnly: false });
      return { kind: "local", api: instance, instance, close: () => instance.close() };
    } catch (e) {
      if (!(e instanceof InstanceOwnedError) || attempt > 20) throw e;
      // Someone became the owner between our look and our try: talk to them instead.
      await sleep(20);
    }
  }
}

export type { OwnerApi };
