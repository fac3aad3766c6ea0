// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Runs the mutual HMAC challenge of `multiprocessing.connection` over a
 * {@linkcode Connection}.
 *
 * @module
 */
import type { Connection, WaitOptions } from "./connection.ts";
import {
  type Digest,
  Handshake,
  HANDSHAKE_MAX_MESSAGE_SIZE,
  type HandshakeOptions,
  type HandshakeRole,
} from "./handshake.ts";

/** Options of {@linkcode authenticate}. */
export interface AuthenticateOptions extends HandshakeOptions, WaitOptions {}

/**
 * Runs one side of the handshake: a `"listener"` delivers a challenge and
 * then answers one, a `"client"` answers and then delivers (CPython's
 * `Listener.accept()` and `Client()`). Every handshake read is limited to
 * 256 bytes. On failure the `#FAILURE#` reply (if any) is sent before the
 * error is thrown; the connection is left open for the caller to close.
 *
 * @param conn The connection, right after connecting.
 * @param role Which side this is.
 * @param options The key, digest choices and an abort signal.
 * @returns Resolves when both sides are authenticated.
 * @throws {AuthenticationError} Wrong key or unsupported challenge/response.
 * @throws {ProtocolError} A handshake message over 256 bytes or truncated.
 *
 * @example Over an in-memory pipe
 * ```ts
 * import { authenticate, pipe } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const authkey = new TextEncoder().encode("secret");
 * const [server, client] = pipe();
 * await Promise.all([
 *   authenticate(server, "listener", { authkey }),
 *   authenticate(client, "client", { authkey }),
 * ]);
 * await client.sendBytes(new Uint8Array([1]));
 * assert.deepEqual(await server.recvBytes(), new Uint8Array([1]));
 * await server.close();
 * await client.close();
 * ```
 */
export async function authenticate(
  conn: Connection<unknown>,
  role: HandshakeRole,
  options: AuthenticateOptions,
): Promise<void> {
  const hs = new Handshake(role, options);
  const signal = options.signal;
  let step = hs.start();
  while (true) {
    for (const m of step.send) await conn.sendBytes(m, 0, m.length, { signal });
    if (step.error !== undefined) throw step.error;
    if (step.done) return;
    const message = await conn.recvBytes(HANDSHAKE_MAX_MESSAGE_SIZE, {
      signal,
    });
    step = hs.receive(message);
  }
}

/** Authentication settings shared by {@linkcode connect} and {@linkcode Listener}. */
export interface AuthOptions {
  /**
   * The shared key (Python's `authkey`; a string is UTF-8 encoded). No
   * handshake runs when it is undefined, as in CPython when `authkey=None`.
   * The empty key runs the handshake (CPython 3.12.10+ and 3.13 do too).
   *
   * @default {undefined}
   */
  authkey?: Uint8Array | string;
  /**
   * The digest our challenge asks for.
   *
   * @default {"sha256"}
   */
  digest?: Digest;
  /**
   * Accept MD5 peers (CPython 3.11 and older).
   *
   * @default {true}
   */
  allowLegacy?: boolean;
  /**
   * Behave as CPython 3.12+ (`"modern"`) or as 3.11 and older (`"legacy"`).
   *
   * @default {"modern"}
   */
  protocol?: "modern" | "legacy";
  /**
   * Milliseconds the whole handshake may take (`Infinity` for no limit).
   * CPython has no limit and hangs on a silent peer (gh-123736); we raise a
   * `ProtocolError` of code `"HANDSHAKE_TIMEOUT"`. A
   * `Listener` runs each connection's handshake on its own, so a slow or
   * silent client holds only its own slot (see `maxPendingHandshakes`),
   * never another client.
   *
   * @default {5000}
   */
  handshakeTimeout?: number;
}
