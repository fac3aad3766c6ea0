// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The handshake driver used by connect() and Listener.
 *
 * @module
 */
import { authenticate, type AuthOptions } from "./authenticate.ts";
import type { Connection } from "./connection.ts";
import type { HandshakeRole } from "./handshake.ts";
import { ProtocolError } from "./errors.ts";
import { deadlineSignal as timeoutSignal } from "../_internal/abort.ts";

/** Runs the handshake with a timeout; closes `conn` on any failure. */
export async function runHandshake(
  conn: Connection<unknown>,
  role: HandshakeRole,
  options: AuthOptions,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (options.authkey === undefined) return;
  const authkey = typeof options.authkey === "string"
    ? new TextEncoder().encode(options.authkey)
    : options.authkey;
  const ms = options.handshakeTimeout ?? 5000;
  const t = timeoutSignal(ms, signal);
  try {
    await authenticate(conn, role, {
      authkey,
      ...(options.digest !== undefined ? { digest: options.digest } : {}),
      ...(options.allowLegacy !== undefined
        ? { allowLegacy: options.allowLegacy }
        : {}),
      ...(options.protocol !== undefined ? { protocol: options.protocol } : {}),
      signal: t.signal,
    });
  } catch (e) {
    await conn.close().catch(() => {});
    if (t.timedOut() && e === t.signal.reason) {
      throw new ProtocolError(
        `Cannot authenticate: handshake timed out after ${ms} ms`,
        {
          cause: e,
        },
      );
    }
    throw e;
  } finally {
    t.clear();
  }
}
