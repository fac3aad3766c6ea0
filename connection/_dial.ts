// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The two steps of a client connection, apart: opening the socket (the
 * only step a `retry` option repeats) and the handshake on it (run once).
 * `connect()` runs both; the manager client runs them with its own
 * deadline in between.
 *
 * @module
 */
import type { Address } from "./address.ts";
import type { AuthOptions } from "./authenticate.ts";
import { Connection, type ConnectionOptions } from "./connection.ts";
import { runHandshake } from "./_run_handshake.ts";
import { requireDeno } from "../_internal/deno_version.ts";
import { connectWithRetry, type RetryOptions } from "../_internal/retry.ts";

async function openOnce(address: Address): Promise<Deno.Conn> {
  if (typeof address === "string") {
    return await Deno.connect({ transport: "unix", path: address });
  }
  const tcp = await Deno.connect({
    hostname: address.hostname ?? "127.0.0.1",
    port: address.port,
  });
  tcp.setNoDelay(true);
  return tcp;
}

/**
 * Opens a socket to `address`: a Unix socket path (or `"\0abstract"`) or
 * TCP (no delay). With `retry`, tries again while nobody listens yet
 * (`ConnectionRefused`, or `NotFound` for a socket file not there yet).
 *
 * @throws {TypeError} `address` is neither a path nor `{ hostname, port }`.
 * @throws The connect error (the last one, with `retry`), or `signal`'s
 * reason; an `UNSUPPORTED_DENO` error on a Deno older than the floor.
 */
export async function openSocket(
  address: Address,
  retry: boolean | RetryOptions | undefined,
  signal: AbortSignal | undefined,
  action = "connect",
): Promise<Deno.Conn> {
  requireDeno(action);
  if (
    typeof address !== "string" &&
    !(typeof address === "object" && address !== null &&
      Number.isInteger(address.port))
  ) {
    throw new TypeError(
      `Cannot ${action}: address must be a path or { hostname, port }`,
    );
  }
  return await connectWithRetry(() => openOnce(address), retry, action, {
    signal,
  });
}

/**
 * Makes a {@linkcode Connection} of `socket` and runs the client's side of
 * the handshake on it once (when `options.authkey` is set); the socket is
 * closed when the handshake fails.
 */
export async function handshakeOn<T>(
  socket: Deno.Conn,
  options: ConnectionOptions<T> & AuthOptions,
  signal: AbortSignal | undefined,
): Promise<Connection<T>> {
  let conn: Connection<T>;
  try {
    conn = new Connection<T>(socket, options);
  } catch (e) {
    socket.close();
    throw e;
  }
  await runHandshake(conn as Connection<unknown>, "client", options, signal);
  return conn;
}
