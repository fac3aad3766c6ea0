// Copyright 2026 the @sidecar/ipc authors. MIT license.

import net from "node:net";
import { P } from "./_libc.ts";
import type { SocketSession } from "./socket_session.ts";
import type { SocketAddress } from "./sockaddr.ts";

/** A received TCP connection adopted by Deno's `node:net`, as Web streams. */
export interface AdoptedConnection extends AsyncDisposable {
  /** The `node:net` socket that owns the fd. */
  socket: net.Socket;
  /** Bytes from the client after the session's data. */
  readable: ReadableStream<Uint8Array>;
  /**
   * Bytes to the client; closing it half-closes the connection. It stays
   * open after the client half-closed (the readable ended), so an answer
   * can follow a request that ended with the client's FIN.
   */
  writable: WritableStream<Uint8Array>;
  /** The local endpoint. */
  local: SocketAddress;
  /** The client's endpoint. */
  remote: SocketAddress;
  /** The first bytes, which came with the session. */
  data: Uint8Array;
  /** Destroys the socket (closing the fd) and waits for it to close. */
  close(): Promise<void>;
}

/**
 * Hands a received TCP session's fd to `node:net` (`new Socket({ fd })`,
 * which needs no `--allow-net`) and exposes it as Web streams. The session
 * gives up its fd; `await using` closes the connection.
 *
 * The socket is half-open capable (`allowHalfOpen: true`): when the client
 * half-closes first (`shutdown(SHUT_WR)`, `Deno.Conn.closeWrite()`), the
 * readable ends and the writable stays usable until it is closed. (With
 * `node:net`'s default, Deno's polyfill swaps `socket.write` for a function
 * that fails with `EPIPE` once the client's FIN was read, as Node does.)
 *
 * @param session A session of type `SOCK_STREAM`.
 * @returns The adopted connection.
 * @throws {TypeError} When the session is not TCP or its fd was taken.
 *
 * @example Usage
 * ```ts
 * import { adoptTcpSession, forwardTcpConnections, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/t.sock`;
 * using listener = SocketSessionListener.listen(path);
 * await using forwarder = new SocketSessionForwarder(path);
 * forwarder.connect();
 * using receiver = await listener.accept();
 * await using acceptor = forwardTcpConnections({ forwarder });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: acceptor.addr.port });
 * await client.write(new TextEncoder().encode("ping"));
 * {
 *   await using conn = adoptTcpSession(await receiver.pop());
 *   const writer = conn.writable.getWriter();
 *   await writer.write(new TextEncoder().encode("pong:" + new TextDecoder().decode(conn.data)));
 *   await writer.close();
 * }
 * const reply = await new Response(client.readable).text();
 * assert.equal(reply, "pong:ping");
 * ```
 */
export function adoptTcpSession(session: SocketSession): AdoptedConnection {
  if (session.type !== P.SOCK_STREAM) {
    throw new TypeError(
      `Cannot adopt session: socket type ${session.type} is not SOCK_STREAM`,
    );
  }
  const fd = session.takeFd();
  // allowHalfOpen: node:net's default (false) ends our side as soon as the
  // client's FIN is read and makes later writes fail with EPIPE ("This
  // socket has been ended by the other party"); a client that half-closes
  // after its request must still get the answer.
  const socket = new net.Socket({
    fd,
    readable: true,
    writable: true,
    allowHalfOpen: true,
  });
  socket.pause();
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      socket.on("data", (chunk: Uint8Array) => {
        try {
          controller.enqueue(new Uint8Array(chunk));
        } catch {
          return;
        }
        if ((controller.desiredSize ?? 0) <= 0) socket.pause();
      });
      // After a cancel the controller is closed already: ignore then.
      socket.once("end", () => {
        try {
          controller.close();
        } catch { /* cancelled */ }
      });
      socket.once("error", (err) => {
        try {
          controller.error(err);
        } catch { /* cancelled */ }
      });
    },
    pull() {
      socket.resume();
    },
    cancel() {
      socket.destroy();
    },
  }, { highWaterMark: 4 });
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      return new Promise((resolve, reject) => {
        socket.write(chunk, (err) => err ? reject(err) : resolve());
      });
    },
    close() {
      return new Promise((resolve) => socket.end(() => resolve()));
    },
    abort(reason) {
      socket.destroy(reason instanceof Error ? reason : undefined);
    },
  });
  const closed = new Promise<void>((resolve) =>
    socket.once("close", () => resolve())
  );
  const close = async (): Promise<void> => {
    if (!socket.destroyed) socket.destroy();
    await closed;
  };
  return {
    socket,
    readable,
    writable,
    local: session.local,
    remote: session.remote,
    data: session.data,
    close,
    [Symbol.asyncDispose]: close,
  };
}
