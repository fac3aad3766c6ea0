// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Connecting a {@linkcode FramingClient} to a server over TCP or a Unix
 * socket.
 *
 * @module
 */
import { connChannel } from "./_conn_channel.ts";
import { FramingClient } from "./client.ts";
import type { FramingClientOptions } from "./client_types.ts";
import { requireDeno } from "../_internal/deno_version.ts";
import { connectWithRetry, type RetryOptions } from "../_internal/retry.ts";

export type { RetryEvent, RetryOptions } from "../_internal/retry.ts";

/** Whether {@linkcode connect} waits for a server that is not listening yet. */
export interface ConnectRetryOptions {
  /**
   * Retry while nobody listens yet (`ConnectionRefused`, or a Unix socket
   * that does not exist yet: `NotFound`), for a sidecar still starting:
   * `true` for the defaults (10 s budget, pauses of 50 ms doubling to
   * 1 s), or a {@linkcode RetryOptions}. Other errors (a missing
   * permission) fail at once. Without it, one attempt.
   *
   * @default {false}
   */
  retry?: boolean | RetryOptions;
}

/** Where {@linkcode connect} connects. */
export type ConnectOptions =
  | (
    & { transport?: "tcp"; hostname?: string; port: number }
    & ConnectRetryOptions
  )
  | ({ transport: "unix"; path: string } & ConnectRetryOptions);

/**
 * Connects to an hgrpc server over TCP or a Unix socket.
 *
 * Permissions: `--allow-net` (TCP) or `--allow-read --allow-write` (Unix).
 * Needs Deno 2.9.0 or later (an older Deno gets an error naming both
 * versions, `code` `"UNSUPPORTED_DENO"`).
 *
 * @param options The address, and `retry` for a server still starting.
 * @param clientOptions Client options; `onClose` runs after the socket is
 * closed.
 * @returns A connected client, which closes the socket when it closes.
 * @throws {Deno.errors.ConnectionRefused} Nobody listens (after the retry
 * budget, with `retry`); `NotFound` for a missing Unix socket.
 *
 * @example Usage
 * ```ts ignore
 * import { connect } from "@sidecar/ipc/framing";
 *
 * // The server may still be starting: try for up to 5 s.
 * await using client = await connect({
 *   hostname: "127.0.0.1",
 *   port: 8000,
 *   retry: { timeout: 5_000 },
 * });
 * for await (const obj of client.call("heads")) console.log(obj);
 * ```
 */
export async function connect(
  options: ConnectOptions,
  clientOptions: FramingClientOptions = {},
): Promise<FramingClient> {
  requireDeno("connect");
  const conn = await connectWithRetry<Deno.Conn>(
    () =>
      options.transport === "unix"
        ? Deno.connect({ transport: "unix", path: options.path })
        : Deno.connect({
          hostname: options.hostname ?? "127.0.0.1",
          port: options.port,
        }),
    options.retry,
    "connect",
  );
  const onClose = clientOptions.onClose;
  return new FramingClient(connChannel(conn), {
    ...clientOptions,
    onClose: () => {
      try {
        conn.close();
      } catch {
        // Already closed by the streams.
      }
      onClose?.();
    },
  });
}
