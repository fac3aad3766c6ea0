// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * An hgrpc server over a TCP or Unix listener ({@linkcode serve}), or over
 * this process's stdin and stdout ({@linkcode serveStdio}); each
 * connection is served by {@linkcode serveConnection}.
 *
 * @module
 */
import { connChannel, stdioChannel } from "./_conn_channel.ts";
import {
  type CommandHandler,
  serveConnection,
  type ServeConnectionOptions,
} from "./serve_connection.ts";

/** Where {@linkcode serve} listens. */
export type ServeOptions =
  | { transport?: "tcp"; hostname?: string; port: number }
  | { transport: "unix"; path: string };

/** A running listener from {@linkcode serve}. */
export interface FramingServer extends AsyncDisposable {
  /** The bound address. */
  readonly addr: Deno.Addr;
  /** Resolves when the listener and all connections are done. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting, closes open connections and waits for them.
   *
   * @returns Resolves when everything is closed.
   */
  close(): Promise<void>;
}

/**
 * Listens on TCP or a Unix socket and serves every connection.
 *
 * Permissions: `--allow-net` (TCP) or `--allow-read --allow-write` (Unix).
 *
 * @param address Where to listen (`port: 0` picks a free port).
 * @param handlers Command handlers by name.
 * @param options Per-connection options.
 * @returns The running server.
 *
 * @example Usage
 * ```ts ignore
 * import { connect, serve } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * await using server = serve({ hostname: "127.0.0.1", port: 0 }, { *hello() { yield "hi"; } });
 * const { port } = server.addr as Deno.NetAddr;
 * await using client = await connect({ port });
 * assert.equal((await Array.fromAsync(client.call("hello"))).length, 1);
 * ```
 */
export function serve(
  address: ServeOptions,
  handlers: Readonly<Record<string, CommandHandler>>,
  options: ServeConnectionOptions = {},
): FramingServer {
  const listener = address.transport === "unix"
    ? Deno.listen({ transport: "unix", path: address.path })
    : Deno.listen({
      hostname: address.hostname ?? "127.0.0.1",
      port: address.port,
    });
  const conns = new Set<Deno.Conn>();
  const running = new Set<Promise<void>>();
  let closing = false;
  const finished = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        break;
      }
      if (closing) {
        conn.close();
        break;
      }
      conns.add(conn);
      const p = serveConnection(connChannel(conn), handlers, options).catch(
        () => {},
      )
        .finally(() => {
          conns.delete(conn);
          try {
            conn.close();
          } catch {
            // Closed by its streams already.
          }
        });
      running.add(p);
      p.finally(() => running.delete(p));
    }
    await Promise.all([...running]);
  })();
  async function close(): Promise<void> {
    if (!closing) {
      closing = true;
      try {
        listener.close();
      } catch {
        // Already closed.
      }
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // Already closed.
        }
      }
    }
    await finished;
  }
  return { addr: listener.addr, finished, close, [Symbol.asyncDispose]: close };
}

/**
 * Serves one connection over this process's stdin and stdout (for a
 * server started as a child process, as Mercurial's tools do).
 *
 * Permissions: none beyond stdio.
 *
 * @param handlers Command handlers by name.
 * @param options Per-connection options.
 * @returns Resolves when stdin ended and every response was written;
 * rejects with the error that ended the connection (a protocol error
 * carries Mercurial's message where Mercurial has one, e.g. `frame length
 * error: expected 25; got 2`), so that a script ending in `await
 * serveStdio(...)` exits non-zero with it, as Mercurial's server does.
 *
 * @example Usage
 * ```ts ignore
 * import { serveStdio } from "@sidecar/ipc/framing";
 *
 * await serveStdio({ *hello() { yield "hi"; } });
 * ```
 */
export function serveStdio(
  handlers: Readonly<Record<string, CommandHandler>>,
  options: ServeConnectionOptions = {},
): Promise<void> {
  return serveConnection(stdioChannel(), handlers, options);
}
