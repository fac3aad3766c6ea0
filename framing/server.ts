// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * An hgrpc server over a TCP or Unix listener ({@linkcode serve}), or over
 * this process's stdin and stdout ({@linkcode serveStdio}); each
 * connection is served by {@linkcode serveConnection}.
 *
 * @module
 */
import { requireDeno } from "../_internal/deno_version.ts";
import { acceptLoop } from "./_accept_loop.ts";
import { connChannel, stdioChannel } from "./_conn_channel.ts";
import { FramingError } from "./errors.ts";
import {
  type CommandHandler,
  serveConnection,
  type ServeConnectionOptions,
} from "./serve_connection.ts";

/** Where {@linkcode serve} listens. */
export type ServeOptions =
  | { transport?: "tcp"; hostname?: string; port: number }
  | { transport: "unix"; path: string };

/** Options of {@linkcode serve}: each connection's, and the listener's. */
export interface ServerOptions extends ServeConnectionOptions {
  /**
   * Called with every error the server survives: an `accept()` that failed
   * for one pending connection (a client that reset before it was
   * accepted: skipped) or for lack of resources (`EMFILE`: the loop backs
   * off 10 ms, doubling up to 100 ms), and the error a connection ended
   * with (its protocol error, or a failed read or write). Each is a
   * {@linkcode FramingError} whose `code` is the errno name for accept
   * failures, with the original as its `cause`.
   *
   * @default {undefined}
   */
  onError?: (error: FramingError) => void;
}

/** A running listener from {@linkcode serve}. */
export interface FramingServer extends AsyncDisposable {
  /** The bound address. */
  readonly addr: Deno.Addr;
  /**
   * Resolves when the listener and all connections are done; rejects
   * (after the connections are done) with a {@linkcode FramingError} whose
   * `code` is the errno name when the listener itself failed (`EBADF`,
   * `EINVAL`, ...), the only accept errors that end the server.
   */
  readonly finished: Promise<void>;
  /**
   * Stops accepting, closes open connections and waits for them.
   *
   * @returns Resolves when everything is closed.
   */
  close(): Promise<void>;
}

/**
 * Listens on TCP or a Unix socket and serves every connection. No peer can
 * end the accept loop: a connection that failed before it was accepted is
 * skipped, resource errors back off, and only an error of the listening
 * socket itself ends it (see `finished`).
 *
 * Permissions: `--allow-net` (TCP) or `--allow-read --allow-write` (Unix).
 * Needs Deno 2.9.0 or later (an older Deno gets an error naming both
 * versions, `code` `"UNSUPPORTED_DENO"`).
 *
 * @param address Where to listen (`port: 0` picks a free port).
 * @param handlers Command handlers by name.
 * @param options Per-connection options, and `onError`.
 * @returns The running server.
 *
 * @example Usage
 * ```ts
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
  options: ServerOptions = {},
): FramingServer {
  requireDeno("serve");
  const listener = address.transport === "unix"
    ? Deno.listen({ transport: "unix", path: address.path })
    : Deno.listen({
      hostname: address.hostname ?? "127.0.0.1",
      port: address.port,
    });
  const { onError, ...connectionOptions } = options;
  const report = (e: unknown): void => {
    try {
      onError?.(
        e instanceof FramingError
          ? e
          : new FramingError(`Cannot serve connection: ${String(e)}`, {
            cause: e,
          }),
      );
    } catch {
      // A hook that throws does not end the server.
    }
  };
  const conns = new Set<Deno.Conn>();
  const running = new Set<Promise<void>>();
  const closing = new AbortController();
  function onConn(conn: Deno.Conn): void {
    if (closing.signal.aborted) {
      conn.close();
      return;
    }
    conns.add(conn);
    const p = serveConnection(connChannel(conn), handlers, connectionOptions)
      .catch(report)
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
  const finished = (async () => {
    let failure: FramingError | null = null;
    try {
      await acceptLoop(
        () => listener.accept(),
        onConn,
        report,
        closing.signal,
      );
    } catch (e) {
      failure = e as FramingError;
      report(failure);
      try {
        listener.close();
      } catch {
        // Already closed.
      }
    }
    await Promise.all([...running]);
    if (failure !== null) throw failure;
  })();
  // Rejects only for a caller who awaits it; never unhandled.
  finished.catch(() => {});
  async function close(): Promise<void> {
    if (!closing.signal.aborted) {
      closing.abort();
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
    await finished.catch(() => {});
  }
  return { addr: listener.addr, finished, close, [Symbol.asyncDispose]: close };
}

/**
 * Serves one connection over this process's stdin and stdout (for a
 * server started as a child process, as Mercurial's tools do).
 *
 * Permissions: none beyond stdio. Needs Deno 2.9.0 or later (an older
 * Deno gets a rejection naming both versions, `code` `"UNSUPPORTED_DENO"`).
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
  try {
    requireDeno("serve on stdio");
  } catch (e) {
    return Promise.reject(e);
  }
  return serveConnection(stdioChannel(), handlers, options);
}
