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

/** Where {@linkcode connect} connects. */
export type ConnectOptions =
  | { transport?: "tcp"; hostname?: string; port: number }
  | { transport: "unix"; path: string };

/**
 * Connects to an hgrpc server over TCP or a Unix socket.
 *
 * Permissions: `--allow-net` (TCP) or `--allow-read --allow-write` (Unix).
 *
 * @param options The address.
 * @param clientOptions Client options; `onClose` runs after the socket is
 * closed.
 * @returns A connected client, which closes the socket when it closes.
 *
 * @example Usage
 * ```ts ignore
 * import { connect } from "@sidecar/ipc/framing";
 *
 * await using client = await connect({ hostname: "127.0.0.1", port: 8000 });
 * for await (const obj of client.call("heads")) console.log(obj);
 * ```
 */
export async function connect(
  options: ConnectOptions,
  clientOptions: FramingClientOptions = {},
): Promise<FramingClient> {
  const conn = options.transport === "unix"
    ? await Deno.connect({ transport: "unix", path: options.path })
    : await Deno.connect({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port,
    });
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
