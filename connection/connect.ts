// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `connect()`: the client side, like Python's `multiprocessing.connection.Client`.
 *
 * @module
 */
import type { Address } from "./address.ts";
import type { AuthOptions } from "./authenticate.ts";
import type { Connection, ConnectionOptions } from "./connection.ts";
import { checkNumericOptions } from "./_options.ts";
import { handshakeOn, openSocket } from "./_dial.ts";
import type { RetryOptions } from "../_internal/retry.ts";

export type { RetryEvent, RetryOptions } from "../_internal/retry.ts";

/** Options of {@linkcode connect}. */
export interface ConnectOptions<T = unknown>
  extends ConnectionOptions<T>, AuthOptions {
  /**
   * Aborts connecting (waits for a retry included) and the handshake.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Wait for a listener that is not there yet (a sidecar still starting):
   * the connect step is tried again while nobody listens
   * (`ConnectionRefused`) or the Unix socket does not exist yet
   * (`NotFound`). `true` for the defaults (10 s budget, pauses of 50 ms
   * doubling to 1 s), or a {@linkcode RetryOptions}. Nothing else is
   * retried: a missing permission fails at once, and the handshake runs
   * once, on the connection that was made, so a wrong `authkey` fails
   * after one attempt with an `AuthenticationError`. Without it, one
   * attempt.
   *
   * @default {false}
   */
  retry?: boolean | RetryOptions;
}

/**
 * Connects to a listener (a CPython `Listener` or ours) over TCP or a Unix
 * socket and, when `authkey` is set, answers then delivers the challenge,
 * as CPython's `Client()` does. On a failed handshake the socket is closed.
 * With `retry`, it waits for a listener that is still starting.
 *
 * Permissions: `--allow-net=<host>` for TCP; for a Unix socket path,
 * `--allow-net=unix:<path> --allow-read=<path> --allow-write=<path>`.
 * Needs Deno 2.9.0 or later (an older Deno gets an error naming both
 * versions, `code` `"UNSUPPORTED_DENO"`).
 *
 * @typeParam T The value type of `send()`/`recv()`.
 * @param address `{ hostname, port }`, a socket path or `"\0abstract"`.
 * @param options Key, codec, limits, timeout, signal and retry.
 * @returns The authenticated connection.
 * @throws {Deno.errors.ConnectionRefused} Nobody listens (after the retry
 * budget, with `retry`); `NotFound` for a missing Unix socket.
 * @throws {AuthenticationError} The keys differ (never retried).
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
 *
 * @example A Python sidecar that is still starting
 * ```ts ignore
 * import { connect } from "@sidecar/ipc/connection";
 *
 * // Python (started a moment ago): Listener("/tmp/worker.sock", authkey=b"k")
 * await using conn = await connect("/tmp/worker.sock", {
 *   authkey: "k",
 *   retry: { timeout: 5_000 },
 * });
 * ```
 */
export async function connect<T = unknown>(
  address: Address,
  options: ConnectOptions<T> = {},
): Promise<Connection<T>> {
  checkNumericOptions(options, "connect");
  const signal = options.signal;
  if (signal?.aborted) throw signal.reason;
  const socket = await openSocket(address, options.retry, signal);
  return await handshakeOn<T>(socket, options, signal);
}
