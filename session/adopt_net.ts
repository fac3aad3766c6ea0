// Copyright 2026 the @sidecar/ipc authors. MIT license.

import net from "node:net";
import { P } from "./_libc.ts";
import type { SocketSession } from "./socket_session.ts";

/**
 * Hands a received TCP session's fd to Deno's `node:net` (`new Socket({ fd
 * })`, which needs no `--allow-net`), for code that wants a `net.Socket`:
 * to give the connection to a `node:http` server (`server.emit("connection",
 * socket)`), or for `node:net`'s timeouts and keep-alive. The session gives
 * up its fd; `socket.destroy()` closes it. (For plain reading and writing,
 * {@linkcode adoptTcpSession} is several times cheaper per connection.)
 *
 * The socket is half-open capable (`allowHalfOpen: true`): when the client
 * half-closes first (`shutdown(SHUT_WR)`, `Deno.Conn.closeWrite()`), `end`
 * is emitted and writing still works until `socket.end()`. (With
 * `node:net`'s default, Deno's polyfill swaps `socket.write` for a function
 * that fails with `EPIPE` once the client's FIN was read, as Node does.)
 * The session's data was already read from the socket: it is not emitted.
 *
 * @param session A session of type `SOCK_STREAM`.
 * @returns The socket, paused (call `resume()` or add a `data` listener).
 * @throws {TypeError} When the session is not TCP or its fd was taken.
 *
 * @example Usage
 * ```ts
 * import { adoptNetSocket, forwardTcpConnections, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/n.sock`;
 * using listener = SocketSessionListener.listen(path);
 * await using forwarder = new SocketSessionForwarder(path);
 * forwarder.connect();
 * using receiver = await listener.accept();
 * await using acceptor = forwardTcpConnections({ forwarder });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: acceptor.addr.port });
 * await client.write(new TextEncoder().encode("ping"));
 * const session = await receiver.pop();
 * const socket = adoptNetSocket(session);
 * await new Promise<void>((resolve) =>
 *   socket.end(`pong:${new TextDecoder().decode(session.data)}`, () => resolve())
 * );
 * assert.equal(await new Response(client.readable).text(), "pong:ping");
 * socket.destroy();
 * ```
 */
export function adoptNetSocket(session: SocketSession): net.Socket {
  if (session.type !== P.SOCK_STREAM) {
    throw new TypeError(
      `Cannot adopt session: socket type ${session.type} is not SOCK_STREAM`,
    );
  }
  const socket = new net.Socket({
    fd: session.takeFd(),
    readable: true,
    writable: true,
    allowHalfOpen: true,
  });
  socket.pause();
  return socket;
}
