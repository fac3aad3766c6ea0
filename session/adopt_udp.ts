// Copyright 2026 the @sidecar/ipc authors. MIT license.

import {
  closeFd,
  drainErrorQueue,
  EAGAIN,
  EINTR,
  errno,
  libc,
  P,
  socketName,
  sysError,
} from "./_libc.ts";
import { poller } from "./_poller.ts";
import { SocketSessionError } from "./errors.ts";
import type { SocketSession } from "./socket_session.ts";
import {
  decodeSockaddr,
  encodeSockaddr,
  type SocketAddress,
} from "./sockaddr.ts";

/** Options for {@linkcode UdpSessionConn.receive}. */
export interface ReceiveOptions {
  /** Cancels the wait; it rejects with `signal.reason`. @default {undefined} */
  signal?: AbortSignal;
}

/** A datagram's sender or destination: a `Deno.NetAddr`, or any address. */
export type DatagramAddress = Deno.NetAddr | SocketAddress;

function checkDgram(session: SocketSession, action: string): void {
  if (session.type !== P.SOCK_DGRAM) {
    throw new TypeError(
      `Cannot ${action}: socket type ${session.type} is not SOCK_DGRAM`,
    );
  }
}

function netAddr(sa: Uint8Array): Deno.NetAddr {
  const a = decodeSockaddr(sa);
  return { transport: "udp", hostname: a.hostname, port: a.port };
}

function sendTo(
  fd: number,
  data: Uint8Array,
  sa: Uint8Array<ArrayBuffer>,
): number {
  let n: number;
  do {
    n = Number(
      libc.sendto(
        fd,
        data,
        BigInt(data.length),
        P.MSG_DONTWAIT | P.MSG_NOSIGNAL,
        sa,
        sa.length,
      ),
    );
  } while (n < 0 && errno() === EINTR);
  return n;
}

/** Largest UDP payload: what `receive()` reads when given no buffer. */
const MAX_DATAGRAM = 65535;

/**
 * A received UDP session's socket as a datagram connection, shaped like
 * `Deno.DatagramConn`: {@linkcode UdpSessionConn.receive} waits for the
 * next datagram and its sender, {@linkcode UdpSessionConn.send} answers
 * any address, `for await` yields datagrams until closed. It also keeps the
 * session's {@linkcode UdpSessionConn.remote} (the client of the forwarded
 * datagram) and {@linkcode UdpSessionConn.data} (that datagram).
 *
 * Waiting goes through the process's one shared poller. The socket is the
 * same one the forwarder received on: if the forwarder keeps its copy and
 * goes on reading it (as {@linkcode forwardUdpDatagrams} does), each
 * datagram reaches one of the two readers, never both. Multicast is not
 * offered.
 *
 * @example Usage
 * ```ts
 * import { adoptUdpSession, forwardUdpDatagrams, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
 * import dgram from "node:dgram";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/u.sock`;
 * using listener = SocketSessionListener.listen(path);
 * await using forwarder = new SocketSessionForwarder(path);
 * forwarder.connect();
 * using receiver = await listener.accept();
 * const acceptor = forwardUdpDatagrams({ forwarder });
 * const client = dgram.createSocket("udp4");
 * client.send("hi", acceptor.addr.port, "127.0.0.1");
 * const session = await receiver.pop();
 * await acceptor.close(); // the forwarder no longer reads the socket
 * await using conn = adoptUdpSession(session);
 * assert.equal(new TextDecoder().decode(conn.data), "hi");
 * client.send("more", acceptor.addr.port, "127.0.0.1");
 * const [data, from] = await conn.receive();
 * assert.equal(new TextDecoder().decode(data), "more");
 * assert.equal(from.port, conn.remote.port);
 * client.close();
 * ```
 */
export class UdpSessionConn
  implements
    AsyncDisposable,
    Disposable,
    AsyncIterable<[Uint8Array<ArrayBuffer>, Deno.NetAddr]> {
  #fd: number;
  #addr: Deno.NetAddr;
  #from = new Uint8Array(128);
  #fromLength = new Uint32Array(1);
  #scratch: Uint8Array<ArrayBuffer> | null = null;
  /** The client that sent the forwarded datagram. */
  readonly remote: SocketAddress;
  /** The forwarded datagram (the session's data). */
  readonly data: Uint8Array<ArrayBuffer>;

  /**
   * Takes a UDP session's fd (use {@linkcode adoptUdpSession}).
   *
   * @param session A session of type `SOCK_DGRAM`.
   * @throws {TypeError} When the session is not UDP or its fd was taken.
   */
  constructor(session: SocketSession) {
    checkDgram(session, "adopt session");
    this.remote = session.remote;
    this.data = session.data;
    const fd = session.takeFd();
    try {
      this.#addr = netAddr(socketName(fd, false));
    } catch (err) {
      closeFd(fd);
      throw err;
    }
    this.#fd = fd;
  }

  /**
   * The socket's local address.
   *
   * @returns The address.
   *
   * @example Usage
   * ```ts
   * import { adoptUdpSession, forwardUdpDatagrams, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import dgram from "node:dgram";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/u.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * const acceptor = forwardUdpDatagrams({ forwarder });
   * const client = dgram.createSocket("udp4");
   * client.send("hi", acceptor.addr.port, "127.0.0.1");
   * const session = await receiver.pop();
   * await acceptor.close(); // from now on only `conn` reads the socket
   * await using conn = adoptUdpSession(session);
   * assert.deepEqual(conn.addr, { transport: "udp", hostname: "127.0.0.1", port: acceptor.addr.port });
   * client.close();
   * ```
   */
  get addr(): Deno.NetAddr {
    return this.#addr;
  }

  /**
   * The socket's fd (-1 once closed).
   *
   * @returns The fd.
   *
   * @example Usage
   * ```ts
   * import { adoptUdpSession, forwardUdpDatagrams, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import dgram from "node:dgram";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/u.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * const acceptor = forwardUdpDatagrams({ forwarder });
   * const client = dgram.createSocket("udp4");
   * client.send("hi", acceptor.addr.port, "127.0.0.1");
   * const session = await receiver.pop();
   * await acceptor.close(); // from now on only `conn` reads the socket
   * const conn = adoptUdpSession(session);
   * assert.ok(conn.fd >= 0);
   * await conn.close();
   * assert.equal(conn.fd, -1);
   * client.close();
   * ```
   */
  get fd(): number {
    return this.#fd;
  }

  /**
   * Waits for the next datagram.
   *
   * @param p Where to put it (a longer datagram is cut to its length, as
   * `recvfrom` does); by default a fresh buffer of the datagram's size.
   * @param options The abort signal.
   * @returns The datagram (a view of `p` when given) and its sender.
   * @throws {SocketSessionError} When the socket reports an error (an ICMP
   * error queued on it, `"ECONNREFUSED"`, ...) or was closed (`"CLOSED"`).
   *
   * @example Usage
   * ```ts
   * import { adoptUdpSession, forwardUdpDatagrams, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import dgram from "node:dgram";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/u.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * const acceptor = forwardUdpDatagrams({ forwarder });
   * const client = dgram.createSocket("udp4");
   * client.send("hi", acceptor.addr.port, "127.0.0.1");
   * const session = await receiver.pop();
   * await acceptor.close(); // from now on only `conn` reads the socket
   * await using conn = adoptUdpSession(session);
   * client.send("again", acceptor.addr.port, "127.0.0.1");
   * const [data, from] = await conn.receive(new Uint8Array(3));
   * assert.equal(new TextDecoder().decode(data), "aga"); // cut to the buffer
   * assert.equal(from.port, client.address().port);
   * client.close();
   * ```
   */
  async receive(
    p?: Uint8Array,
    options: ReceiveOptions = {},
  ): Promise<[Uint8Array<ArrayBuffer>, Deno.NetAddr]> {
    options.signal?.throwIfAborted();
    let events = 0;
    while (true) {
      const fd = this.#fd;
      if (fd < 0) throw closedError();
      const buf = p ?? (this.#scratch ??= new Uint8Array(MAX_DATAGRAM));
      this.#fromLength[0] = this.#from.length;
      const n = Number(
        libc.recvfrom(
          fd,
          buf,
          BigInt(buf.length),
          P.MSG_DONTWAIT,
          this.#from,
          this.#fromLength,
        ),
      );
      if (n >= 0) {
        const from = netAddr(
          this.#from.subarray(0, Math.min(this.#fromLength[0]!, 128)),
        );
        const data = p === undefined
          ? buf.slice(0, n)
          : new Uint8Array(p.buffer as ArrayBuffer, p.byteOffset, n);
        return [data as Uint8Array<ArrayBuffer>, from];
      }
      const e = errno();
      if (e === EINTR) continue;
      if (e !== EAGAIN) throw sysError("receive datagram", e);
      // POLLERR with nothing to read: an ICMP error queued on the socket
      // (`IP_RECVERR`), reported by the receive before: take it off, or
      // every wait would end at once.
      if ((events & P.POLLERR) !== 0) drainErrorQueue(fd);
      events = await poller.wait(fd, P.POLLIN, options);
    }
  }

  /**
   * Sends a datagram to `addr`, waiting while the socket buffer is full.
   *
   * @param p The datagram.
   * @param addr Where to: a `Deno.NetAddr` or a {@linkcode SocketAddress}
   * (numeric host).
   * @returns Bytes sent.
   * @throws {SocketSessionError} When `sendto` fails, or the socket was
   * closed (`"CLOSED"`).
   *
   * @example Usage
   * ```ts
   * import { adoptUdpSession, forwardUdpDatagrams, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import dgram from "node:dgram";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/u.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * const acceptor = forwardUdpDatagrams({ forwarder });
   * const client = dgram.createSocket("udp4");
   * client.send("hi", acceptor.addr.port, "127.0.0.1");
   * const session = await receiver.pop();
   * await acceptor.close(); // from now on only `conn` reads the socket
   * await using conn = adoptUdpSession(session);
   * const reply = new Promise<string>((r) => client.once("message", (m) => r(m.toString())));
   * assert.equal(await conn.send(new TextEncoder().encode("pong"), conn.remote), 4);
   * assert.equal(await reply, "pong");
   * client.close();
   * ```
   */
  async send(p: Uint8Array, addr: DatagramAddress): Promise<number> {
    const sa = encodeSockaddr({ hostname: addr.hostname, port: addr.port });
    while (true) {
      const fd = this.#fd;
      if (fd < 0) throw closedError();
      const n = sendTo(fd, p, sa);
      if (n >= 0) return n;
      const e = errno();
      if (e !== EAGAIN) throw sysError("send datagram", e);
      await poller.wait(fd, P.POLLOUT);
    }
  }

  /**
   * Yields `[datagram, sender]` until the socket is closed.
   *
   * @returns The iterator.
   *
   * @example Usage
   * ```ts
   * import { adoptUdpSession, forwardUdpDatagrams, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import dgram from "node:dgram";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/u.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * const acceptor = forwardUdpDatagrams({ forwarder });
   * const client = dgram.createSocket("udp4");
   * client.send("hi", acceptor.addr.port, "127.0.0.1");
   * const session = await receiver.pop();
   * await acceptor.close(); // from now on only `conn` reads the socket
   * const conn = adoptUdpSession(session);
   * client.send("one", acceptor.addr.port, "127.0.0.1");
   * for await (const [data] of conn) {
   *   assert.equal(new TextDecoder().decode(data), "one");
   *   await conn.close(); // ends the loop
   * }
   * client.close();
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterableIterator<
    [Uint8Array<ArrayBuffer>, Deno.NetAddr]
  > {
    while (this.#fd >= 0) {
      try {
        yield await this.receive();
      } catch (err) {
        if (err instanceof SocketSessionError && err.code === "CLOSED") return;
        throw err;
      }
    }
  }

  /**
   * Closes the socket; pending `receive()`s and `send()`s reject with code
   * `"CLOSED"`. Closing is synchronous: the promise is settled already.
   * Idempotent.
   *
   * @returns Once closed.
   *
   * @example Usage
   * ```ts
   * import { adoptUdpSession, forwardUdpDatagrams, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import dgram from "node:dgram";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/u.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * const acceptor = forwardUdpDatagrams({ forwarder });
   * const client = dgram.createSocket("udp4");
   * client.send("hi", acceptor.addr.port, "127.0.0.1");
   * const session = await receiver.pop();
   * await acceptor.close(); // from now on only `conn` reads the socket
   * const conn = adoptUdpSession(session);
   * const waiting = conn.receive();
   * await conn.close();
   * await assert.rejects(waiting, { code: "CLOSED" });
   * client.close();
   * ```
   */
  close(): Promise<void> {
    this[Symbol.dispose]();
    return Promise.resolve();
  }

  /**
   * Same as {@linkcode UdpSessionConn.close}, synchronously (for `using`).
   *
   * @example Usage
   * ```ts
   * import { adoptUdpSession, forwardUdpDatagrams, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import dgram from "node:dgram";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/u.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * const acceptor = forwardUdpDatagrams({ forwarder });
   * const client = dgram.createSocket("udp4");
   * client.send("hi", acceptor.addr.port, "127.0.0.1");
   * const session = await receiver.pop();
   * await acceptor.close(); // from now on only `conn` reads the socket
   * const conn = adoptUdpSession(session);
   * conn[Symbol.dispose]();
   * assert.equal(conn.fd, -1);
   * client.close();
   * ```
   */
  [Symbol.dispose](): void {
    const fd = this.#fd;
    this.#fd = -1;
    poller.cancelAndClose(fd, closedError);
  }

  /**
   * Same as {@linkcode UdpSessionConn.close} (for `await using`).
   *
   * @returns Once closed.
   *
   * @example Usage
   * ```ts
   * import { adoptUdpSession, forwardUdpDatagrams, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import dgram from "node:dgram";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/u.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * const acceptor = forwardUdpDatagrams({ forwarder });
   * const client = dgram.createSocket("udp4");
   * client.send("hi", acceptor.addr.port, "127.0.0.1");
   * const session = await receiver.pop();
   * await acceptor.close(); // from now on only `conn` reads the socket
   * const conn = adoptUdpSession(session);
   * await conn[Symbol.asyncDispose]();
   * assert.equal(conn.fd, -1);
   * client.close();
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function closedError(): SocketSessionError {
  return new SocketSessionError(
    "CLOSED",
    "Cannot use datagram socket: it was closed",
  );
}

/**
 * Takes a received UDP session's socket as a {@linkcode UdpSessionConn}
 * (the session gives up its fd): receive further datagrams and answer
 * them, as with `Deno.DatagramConn`.
 *
 * @param session A session of type `SOCK_DGRAM`.
 * @returns The connection; `await using` closes it.
 * @throws {TypeError} When the session is not UDP or its fd was taken.
 *
 * @example Usage
 * ```ts
 * import { adoptUdpSession, forwardUdpDatagrams, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
 * import dgram from "node:dgram";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/a.sock`;
 * using listener = SocketSessionListener.listen(path);
 * await using forwarder = new SocketSessionForwarder(path);
 * forwarder.connect();
 * using receiver = await listener.accept();
 * const acceptor = forwardUdpDatagrams({ forwarder });
 * const client = dgram.createSocket("udp4");
 * const reply = new Promise<string>((resolve) => client.once("message", (m) => resolve(m.toString())));
 * client.send("ping", acceptor.addr.port, "127.0.0.1");
 * const session = await receiver.pop();
 * await acceptor.close();
 * await using conn = adoptUdpSession(session);
 * await conn.send(new TextEncoder().encode("pong"), conn.remote);
 * assert.equal(await reply, "pong");
 * client.close();
 * ```
 */
export function adoptUdpSession(session: SocketSession): UdpSessionConn {
  return new UdpSessionConn(session);
}

/**
 * Sends a datagram on a received UDP session's socket, by default to the
 * session's remote endpoint (the client that sent the forwarded datagram),
 * without waiting (the session keeps its fd).
 *
 * @param session A session of type `SOCK_DGRAM`.
 * @param data The datagram.
 * @param to The destination. @default {session.remote}
 * @returns Bytes sent.
 * @throws {TypeError} When the session is not UDP.
 * @throws {SocketSessionError} When `sendto` fails (`"EAGAIN"` when the
 * socket buffer is full).
 *
 * @example Usage
 * ```ts
 * import { forwardUdpDatagrams, sendDatagram, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
 * import dgram from "node:dgram";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/d.sock`;
 * using listener = SocketSessionListener.listen(path);
 * await using forwarder = new SocketSessionForwarder(path);
 * forwarder.connect();
 * using receiver = await listener.accept();
 * await using acceptor = forwardUdpDatagrams({ forwarder });
 * const client = dgram.createSocket("udp4");
 * const reply = new Promise<string>((resolve) => client.once("message", (m) => resolve(m.toString())));
 * client.send("hi", acceptor.addr.port, "127.0.0.1");
 * using session = await receiver.pop();
 * sendDatagram(session, new TextEncoder().encode("hello"));
 * assert.equal(await reply, "hello");
 * client.close();
 * ```
 */
export function sendDatagram(
  session: SocketSession,
  data: Uint8Array,
  to?: SocketAddress,
): number {
  checkDgram(session, "send datagram");
  const sa = to === undefined ? session.remoteRaw.slice() : encodeSockaddr(to);
  const n = sendTo(session.fd, data, sa);
  if (n < 0) throw sysError("send datagram");
  return n;
}
