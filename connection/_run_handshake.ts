// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The handshake driver used by connect() and Listener.
 *
 * @module
 */
import { authenticate, type AuthOptions } from "./authenticate.ts";
import type { Connection } from "./connection.ts";
import {
  Handshake,
  type HandshakeOptions,
  type HandshakeRole,
} from "./handshake.ts";
import { ProtocolError } from "./errors.ts";
import { deadlineSignal as timeoutSignal } from "../_internal/abort.ts";

function handshakeOptions(options: AuthOptions): HandshakeOptions | null {
  if (options.authkey === undefined) return null;
  const authkey = typeof options.authkey === "string"
    ? new TextEncoder().encode(options.authkey)
    : options.authkey;
  return {
    authkey,
    ...(options.digest !== undefined ? { digest: options.digest } : {}),
    ...(options.allowLegacy !== undefined
      ? { allowLegacy: options.allowLegacy }
      : {}),
    ...(options.protocol !== undefined ? { protocol: options.protocol } : {}),
  };
}

/**
 * Throws the `TypeError` that every handshake would fail with (a key that
 * is not a `Uint8Array` or a string, an unknown digest, conflicting
 * choices), so that a `Listener` refuses such options at once instead of
 * failing each connection.
 */
export function checkAuthOptions(options: AuthOptions): void {
  const hs = handshakeOptions(options);
  if (hs !== null) new Handshake("listener", hs);
}

/** Runs the handshake with a timeout; closes `conn` on any failure. */
export async function runHandshake(
  conn: Connection<unknown>,
  role: HandshakeRole,
  options: AuthOptions,
  signal: AbortSignal | undefined,
): Promise<void> {
  const hs = handshakeOptions(options);
  if (hs === null) return;
  const ms = options.handshakeTimeout ?? 5000;
  const t = timeoutSignal(ms, signal);
  try {
    await authenticate(conn, role, { ...hs, signal: t.signal });
  } catch (e) {
    await conn.close().catch(() => {});
    if (t.timedOut() && e === t.signal.reason) {
      throw new ProtocolError(
        `Cannot authenticate: handshake timed out after ${ms} ms`,
        { cause: e, code: "HANDSHAKE_TIMEOUT" },
      );
    }
    throw e;
  } finally {
    t.clear();
  }
}
