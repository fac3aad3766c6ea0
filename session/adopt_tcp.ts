// Copyright 2026 the @sidecar/ipc authors. MIT license.

import { EAGAIN, EINTR, errno, libc, P, sysError } from "./_libc.ts";
import { poller } from "./_poller.ts";
import { SocketSessionError } from "./errors.ts";
import type { SocketSession } from "./socket_session.ts";
import type { SocketAddress } from "./sockaddr.ts";

/** Bytes one `read()` of the readable asks for. */
const CHUNK = 64 * 1024;

function closedError(): SocketSessionError {
  return new SocketSessionError(
    "CLOSED",
    "Cannot use connection: it was closed",
  );
}

function netAddr(a: SocketAddress): Deno.NetAddr {
  return { transport: "tcp", hostname: a.hostname, port: a.port };
}

/**
 * A received TCP session's socket, shaped like `Deno.Conn`:
 * {@linkcode TcpSessionConn.read} / {@linkcode TcpSessionConn.write} /
 * {@linkcode TcpSessionConn.closeWrite}, or Web streams
 * ({@linkcode TcpSessionConn.readable}, {@linkcode TcpSessionConn.writable},
 * made on first use). It also keeps the session's endpoints and
 * {@linkcode TcpSessionConn.data}, the first bytes the forwarder read.
 *
 * Each call is a non-blocking `recv`/`send` through FFI on the socket; only
 * a call that would block waits, through the process's one shared poller.
 * That makes a short exchange (read a request, write an answer, close) a
 * few system calls, several times cheaper than adopting the fd into
 * `node:net` (see {@linkcode adoptNetSocket} for when that is wanted).
 *
 * The connection is half-open capable: after the client half-closed
 * (`read()` resolves `null`, the readable ends) writing still works until
 * {@linkcode TcpSessionConn.closeWrite} or close.
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
 *   await conn.write(new TextEncoder().encode("pong:" + new TextDecoder().decode(conn.data)));
 * }
 * assert.equal(await new Response(client.readable).text(), "pong:ping");
 * ```
 */
export class TcpSessionConn implements AsyncDisposable, Disposable {
  #fd: number;
  #readable: ReadableStream<Uint8Array<ArrayBuffer>> | null = null;
  #writable: WritableStream<Uint8Array> | null = null;
  #session: SocketSession;
  /** The first bytes, which came with the session. */
  readonly data: Uint8Array<ArrayBuffer>;

  /**
   * Takes a TCP session's fd (use {@linkcode adoptTcpSession}).
   *
   * @param session A session of type `SOCK_STREAM`.
   * @throws {TypeError} When the session is not TCP or its fd was taken.
   */
  constructor(session: SocketSession) {
    if (session.type !== P.SOCK_STREAM) {
      throw new TypeError(
        `Cannot adopt session: socket type ${session.type} is not SOCK_STREAM`,
      );
    }
    this.#session = session;
    this.data = session.data;
    this.#fd = session.takeFd();
  }

  /**
   * The local endpoint (the address the client connected to).
   *
   * @returns The address.
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
   * using client = await Deno.connect({ hostname: "127.0.0.1", port: acceptor.addr.port });
   * await client.write(new Uint8Array([1]));
   * await using conn = adoptTcpSession(await receiver.pop());
   * assert.equal(conn.local.port, acceptor.addr.port);
   * ```
   */
  get local(): SocketAddress {
    return this.#session.local;
  }

  /**
   * The client's endpoint.
   *
   * @returns The address.
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
   * using client = await Deno.connect({ hostname: "127.0.0.1", port: acceptor.addr.port });
   * await client.write(new Uint8Array([1]));
   * await using conn = adoptTcpSession(await receiver.pop());
   * assert.equal(conn.remote.port, (client.localAddr as Deno.NetAddr).port);
   * ```
   */
  get remote(): SocketAddress {
    return this.#session.remote;
  }

  /**
   * The socket's fd (-1 once closed).
   *
   * @returns The fd.
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
   * using client = await Deno.connect({ hostname: "127.0.0.1", port: acceptor.addr.port });
   * await client.write(new Uint8Array([1]));
   * const conn = adoptTcpSession(await receiver.pop());
   * assert.ok(conn.fd >= 0);
   * await conn.close();
   * assert.equal(conn.fd, -1);
   * ```
   */
  get fd(): number {
    return this.#fd;
  }

  /**
   * The local endpoint as a `Deno.NetAddr`, as `Deno.Conn.localAddr`.
   *
   * @returns The address.
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
   * using client = await Deno.connect({ hostname: "127.0.0.1", port: acceptor.addr.port });
   * await client.write(new Uint8Array([1]));
   * await using conn = adoptTcpSession(await receiver.pop());
   * assert.deepEqual(conn.localAddr, { transport: "tcp", hostname: "127.0.0.1", port: acceptor.addr.port });
   * assert.deepEqual(conn.remoteAddr, { ...client.localAddr });
   * ```
   */
  get localAddr(): Deno.NetAddr {
    return netAddr(this.local);
  }

  /**
   * The client's endpoint as a `Deno.NetAddr`, as `Deno.Conn.remoteAddr`.
   *
   * @returns The address.
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
   * using client = await Deno.connect({ hostname: "127.0.0.1", port: acceptor.addr.port });
   * await client.write(new Uint8Array([1]));
   * await using conn = adoptTcpSession(await receiver.pop());
   * assert.equal(conn.remoteAddr.port, (client.localAddr as Deno.NetAddr).port);
   * ```
   */
  get remoteAddr(): Deno.NetAddr {
    return netAddr(this.remote);
  }

  /**
   * Reads what the client sent (after the session's data) into `p`,
   * waiting until something arrives.
   *
   * @param p Where to put the bytes.
   * @returns Bytes read, or `null` once the client closed its side.
   * @throws {SocketSessionError} When `recv` fails (`"ECONNRESET"`, ...),
   * or the connection was closed (`"CLOSED"`).
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
   * using client = await Deno.connect({ hostname: "127.0.0.1", port: acceptor.addr.port });
   * await client.write(new TextEncoder().encode("a"));
   * await using conn = adoptTcpSession(await receiver.pop());
   * await client.write(new TextEncoder().encode("bc"));
   * const buf = new Uint8Array(8);
   * const n = await conn.read(buf);
   * assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "bc");
   * await client.closeWrite();
   * assert.equal(await conn.read(buf), null);
   * ```
   */
  async read(p: Uint8Array): Promise<number | null> {
    if (p.length === 0) return 0;
    while (true) {
      const fd = this.#fd;
      if (fd < 0) throw closedError();
      const n = Number(
        libc.recvfrom(fd, p, BigInt(p.length), P.MSG_DONTWAIT, null, null),
      );
      if (n > 0) return n;
      if (n === 0) return null;
      const e = errno();
      if (e === EINTR) continue;
      if (e !== EAGAIN) throw sysError("read from connection", e);
      await poller.wait(fd, P.POLLIN);
    }
  }

  /**
   * Writes all of `p` to the client, waiting while the socket buffer is
   * full.
   *
   * @param p The bytes.
   * @returns `p.length`, once all of it was handed to the kernel.
   * @throws {SocketSessionError} When `send` fails (`"EPIPE"`,
   * `"ECONNRESET"`, ...), or the connection was closed (`"CLOSED"`).
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
   * await client.write(new TextEncoder().encode("q"));
   * {
   *   await using conn = adoptTcpSession(await receiver.pop());
   *   assert.equal(await conn.write(new TextEncoder().encode("answer")), 6);
   * }
   * assert.equal(await new Response(client.readable).text(), "answer");
   * ```
   */
  async write(p: Uint8Array): Promise<number> {
    let o = 0;
    while (o < p.length) {
      const fd = this.#fd;
      if (fd < 0) throw closedError();
      const part = o === 0 ? p : p.subarray(o);
      const n = Number(
        libc.sendto(
          fd,
          part,
          BigInt(part.length),
          P.MSG_DONTWAIT | P.MSG_NOSIGNAL,
          null,
          0,
        ),
      );
      if (n >= 0) {
        o += n;
        continue;
      }
      const e = errno();
      if (e === EINTR) continue;
      if (e !== EAGAIN) throw sysError("write to connection", e);
      await poller.wait(fd, P.POLLOUT);
    }
    return p.length;
  }

  /**
   * Half-closes the connection (`shutdown(SHUT_WR)`): the client reads the
   * end of the stream; reading goes on.
   *
   * @returns Once done.
   * @throws {SocketSessionError} When `shutdown` fails, or the connection
   * was closed (`"CLOSED"`).
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
   * using client = await Deno.connect({ hostname: "127.0.0.1", port: acceptor.addr.port });
   * await client.write(new TextEncoder().encode("q"));
   * await using conn = adoptTcpSession(await receiver.pop());
   * await conn.write(new TextEncoder().encode("a"));
   * await conn.closeWrite();
   * const buf = new Uint8Array(4);
   * assert.equal(await client.read(buf), 1);
   * assert.equal(await client.read(buf), null);
   * ```
   */
  closeWrite(): Promise<void> {
    const fd = this.#fd;
    if (fd < 0) return Promise.reject(closedError());
    if (libc.shutdown(fd, P.SHUT_WR) < 0) {
      return Promise.reject(sysError("half-close connection"));
    }
    return Promise.resolve();
  }

  /**
   * The bytes the client sends after the session's data, as a stream
   * (made on first use; it ends when the client closes its side).
   *
   * @returns The stream.
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
   * using client = await Deno.connect({ hostname: "127.0.0.1", port: acceptor.addr.port });
   * await client.write(new TextEncoder().encode("x"));
   * await using conn = adoptTcpSession(await receiver.pop());
   * await client.write(new TextEncoder().encode("rest"));
   * await client.closeWrite();
   * assert.equal(await new Response(conn.readable).text(), "rest");
   * ```
   */
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    return this.#readable ??= new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull: async (controller) => {
        const buf = new Uint8Array(CHUNK);
        const n = await this.read(buf);
        if (n === null) controller.close();
        else controller.enqueue(buf.slice(0, n));
      },
      cancel: () => this.#close(),
    }, { highWaterMark: 0 });
  }

  /**
   * The bytes to the client, as a stream (made on first use): closing it
   * half-closes the connection, aborting it closes the connection.
   *
   * @returns The stream.
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
   * await client.write(new TextEncoder().encode("q"));
   * await using conn = adoptTcpSession(await receiver.pop());
   * const writer = conn.writable.getWriter();
   * await writer.write(new TextEncoder().encode("streamed"));
   * await writer.close();
   * assert.equal(await new Response(client.readable).text(), "streamed");
   * ```
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: async (chunk) => {
        await this.write(chunk);
      },
      close: () => this.closeWrite(),
      abort: () => this.#close(),
    });
  }

  #close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    poller.cancelAndClose(fd, closedError);
  }

  /**
   * Closes the connection (the fd); pending reads and writes reject with
   * code `"CLOSED"`. Closing is synchronous: the promise is settled
   * already. Idempotent.
   *
   * @returns Once closed.
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
   * await client.write(new TextEncoder().encode("q"));
   * const conn = adoptTcpSession(await receiver.pop());
   * const reading = conn.read(new Uint8Array(4));
   * await conn.close();
   * await assert.rejects(reading, { code: "CLOSED" });
   * assert.equal(await client.read(new Uint8Array(4)), null);
   * client.close();
   * ```
   */
  close(): Promise<void> {
    this.#close();
    return Promise.resolve();
  }

  /**
   * Same as {@linkcode TcpSessionConn.close}, synchronously (for `using`).
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
   * using client = await Deno.connect({ hostname: "127.0.0.1", port: acceptor.addr.port });
   * await client.write(new TextEncoder().encode("q"));
   * const conn = adoptTcpSession(await receiver.pop());
   * conn[Symbol.dispose]();
   * assert.equal(conn.fd, -1);
   * ```
   */
  [Symbol.dispose](): void {
    this.#close();
  }

  /**
   * Same as {@linkcode TcpSessionConn.close} (for `await using`).
   *
   * @returns Once closed.
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
   * using client = await Deno.connect({ hostname: "127.0.0.1", port: acceptor.addr.port });
   * await client.write(new TextEncoder().encode("q"));
   * const conn = adoptTcpSession(await receiver.pop());
   * await conn[Symbol.asyncDispose]();
   * assert.equal(conn.fd, -1);
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Takes a received TCP session's socket as a {@linkcode TcpSessionConn}
 * (the session gives up its fd): read what the client sends next, answer
 * it, close, as with a `Deno.Conn`. No `--allow-net` is needed.
 *
 * @param session A session of type `SOCK_STREAM`.
 * @returns The connection; `await using` closes it.
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
export function adoptTcpSession(session: SocketSession): TcpSessionConn {
  return new TcpSessionConn(session);
}
