// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `connect()`: the client side, like Python's `multiprocessing.connection.Client`.
 *
 * @module
 */
import type { Address } from "./address.ts";
import type { AuthOptions } from "./authenticate.ts";
import { runHandshake } from "./_run_handshake.ts";
import { Connection, type ConnectionOptions } from "./connection.ts";
import { raceResource } from "../_internal/abort.ts";
import { checkNumericOptions } from "./_options.ts";

/** Options of {@linkcode connect}. */
export interface ConnectOptions<T = unknown>
  extends ConnectionOptions<T>, AuthOptions {
  /**
   * Aborts connecting and the handshake.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Connects to a listener (a CPython `Listener` or ours) over TCP or a Unix
 * socket and, when `authkey` is set, answers then delivers the challenge,
 * as CPython's `Client()` does. On a failed handshake the socket is closed.
 *
 * Permissions: `--allow-net=<host>` for TCP; for a Unix socket path,
 * `--allow-net=unix:<path> --allow-read=<path> --allow-write=<path>`.
 *
 * @typeParam T The value type of `send()`/`recv()`.
 * @param address `{ hostname, port }`, a socket path or `"\0abstract"`.
 * @param options Key, codec, limits, timeout and signal.
 * @returns The authenticated connection.
 *
 * @example Usage
 * ```ts
 * import { connect, Listener } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * await using listener = new Listener({ hostname: "127.0.0.1", port: 0 }, { authkey: "k" });
 * const accepted = listener.accept();
 * await using client = await connect(listener.address, { authkey: "k" });
 * await using server = await accepted;
 * await client.sendBytes(new Uint8Array([42]));
 * assert.deepEqual(await server.recvBytes(), new Uint8Array([42]));
 * ```
 */
export async function connect<T = unknown>(
  address: Address,
  options: ConnectOptions<T> = {},
): Promise<Connection<T>> {
  checkNumericOptions(options, "connect");
  const signal = options.signal;
  if (signal?.aborted) throw signal.reason;
  let denoConn: Deno.Conn;
  if (typeof address === "string") {
    denoConn = await raceResource(
      Deno.connect({ transport: "unix", path: address }),
      { signal },
    );
  } else if (
    typeof address === "object" && address !== null &&
    Number.isInteger(address.port)
  ) {
    const tcp = await raceResource(
      Deno.connect({
        hostname: address.hostname ?? "127.0.0.1",
        port: address.port,
      }),
      { signal },
    );
    tcp.setNoDelay(true);
    denoConn = tcp;
  } else {
    throw new TypeError(
      "Cannot connect: address must be a path or { hostname, port }",
    );
  }
  const conn = new Connection<T>(denoConn, options);
  await runHandshake(conn as Connection<unknown>, "client", options, signal);
  return conn;
}
