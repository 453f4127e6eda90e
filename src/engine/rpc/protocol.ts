// The owner socket (DESIGN.md rule 3): a second `sluice` process on a home that already has an
// owner sends its requests to the owner instead of opening the database. Newline-delimited JSON
// over a unix socket in the home (mode 0600), one request per id; a request may receive
// notifications (streamed events) before its single result or error.
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RpcRequest {
  id: number;
  method: string;
  params?: unknown;
}

export type RpcErrorKind = "input" | "internal" | "shutdown";

export interface RpcError {
  kind: RpcErrorKind;
  message: string;
  /** Positioned config issues for input errors. */
  issues?: unknown[];
}

export type RpcResponse =
  | { id: number; result: unknown }
  | { id: number; error: RpcError }
  | { id: number; notify: unknown };

/** Longest unix socket path that is safe everywhere (sun_path is 104-108 bytes). */
const MAX_SOCKET_PATH = 100;

/** Where the owner of `home` listens: in the home, or in the temp dir when that path is too long. */
export function socketPathFor(home: string): string {
  const inHome = join(home, "owner.sock");
  if (Buffer.byteLength(inHome) <= MAX_SOCKET_PATH) return inHome;
  const hash = createHash("sha1").update(home).digest("hex").slice(0, 16);
  return join(tmpdir(), `sluice-${hash}.sock`);
}
