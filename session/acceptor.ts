// Copyright 2026 the @sidecar/ipc authors. MIT license.

import type { SocketSessionForwarder } from "./forwarder.ts";
import type { SocketAddress } from "./sockaddr.ts";

/** Options for {@linkcode forwardTcpConnections} and {@linkcode forwardUdpDatagrams}. */
export interface AcceptorOptions {
  /** The forwarder that sessions go to (connected). */
  forwarder: SocketSessionForwarder;
  /** Numeric address to bind. @default {"127.0.0.1"} */
  hostname?: string;
  /**
   * IPv6 hostnames only: also take IPv4 clients (clears `IPV6_V6ONLY`), so
   * that an acceptor on `"::"` serves both families; their addresses then
   * read `::ffff:192.0.2.1`. By default an IPv6 acceptor sets `IPV6_V6ONLY`
   * (whatever the system's `net.ipv6.bindv6only` says) and takes IPv6
   * clients only: bind a second acceptor on `"0.0.0.0"` for IPv4 ones.
   * @default {false}
   */
  dualStack?: boolean;
  /** Port to bind; 0 picks one. @default {0} */
  port?: number;
  /**
   * TCP: milliseconds to wait for a connection's first bytes (any length:
   * there is no 2^31 ms cliff); `Infinity` waits without a limit, bounded
   * only by `maxPendingConnections`. Negative or NaN is a `RangeError`.
   * @default {10000}
   */
  firstDataTimeout?: number;
  /**
   * TCP: let the kernel hand over a connection only once its first bytes
   * arrived (`TCP_DEFER_ACCEPT`, for about `firstDataTimeout`, rounded up
   * to seconds). The acceptor forwards a connection only with its first
   * bytes anyway; this way it reads and forwards each one at once, with no
   * readiness wake-up to wait for them, which makes it about half as
   * costly per connection, and a client that connects and stays silent
   * holds no fd meanwhile (nor a `maxPendingConnections` slot). One still
   * silent after that is handed over anyway and gets `firstDataTimeout` as
   * usual, so it is closed after about twice `firstDataTimeout`. `false`
   * accepts every connection at once and waits for its bytes in the
   * acceptor (then silent clients count against `maxPendingConnections`).
   * @default {true}
   */
  deferAccept?: boolean;
  /** Most bytes read before forwarding (1..65535). @default {65535} */
  maxData?: number;
  /** TCP `listen()` backlog. @default {1024} */
  backlog?: number;
  /**
   * TCP: most connections accepted but not yet forwarded or closed (still
   * waiting for their first bytes, or for room in the forwarder). At the
   * cap the acceptor stops accepting until one of them is forwarded or
   * dropped; the kernel backlog holds new connections meanwhile. This bounds
   * the fds that clients that connect and stay silent can pin.
   * @default {256}
   */
  maxPendingConnections?: number;
  /** Stops the acceptor. @default {undefined} */
  signal?: AbortSignal;
  /**
   * Called with each per-connection error (the connection is closed), such
   * as a `SocketSessionError` of code `"TIMEOUT"` for a silent client, and
   * with each `accept()` (TCP) or `recvfrom()` (UDP) failure the acceptor
   * survives (a `SocketSessionError` whose code is the errno name:
   * `"ECONNABORTED"`, `"EPROTO"`, `"EPERM"`, `"EMFILE"`, `"ENFILE"`,
   * `"ENOBUFS"`, `"ENOMEM"`, `"ECONNREFUSED"`, ...), and with the failure
   * that stops it (`"EBADF"`, `"EINVAL"`, `"ENOTSOCK"`), which `finished`
   * also rejects with. If it throws, the acceptor stops and `finished`
   * rejects with what it threw. (`finished` never rejects unhandled.)
   * @default {undefined}
   */
  onError?: (error: unknown) => void;
}

/**
 * A running acceptor: it accepts TCP connections (or receives UDP
 * datagrams) through FFI and forwards each with its first bytes.
 *
 * @example Usage
 * ```ts
 * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
 * import { forwardTcpConnections } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/x.sock`;
 * using listener = SocketSessionListener.listen(path);
 * await using forwarder = new SocketSessionForwarder(path);
 * forwarder.connect();
 * using receiver = await listener.accept();
 * await using acceptor = forwardTcpConnections({ forwarder });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: acceptor.addr.port });
 * await client.write(new Uint8Array([42]));
 * using got = await receiver.pop();
 * assert.deepEqual([...got.data], [42]);
 * client.close();
 * ```
 */
export interface SessionAcceptor extends AsyncDisposable {
  /** The bound address (with the port picked when 0 was asked for). */
  readonly addr: SocketAddress;
  /** Sessions forwarded so far. */
  readonly forwarded: number;
  /**
   * TCP: connections accepted and not yet forwarded or closed (at most
   * `maxPendingConnections`); always 0 for UDP.
   */
  readonly pending: number;
  /**
   * Settles when the acceptor stopped; rejects when accepting or receiving
   * fails for good, or with what `onError` threw. (Forwarding errors go to
   * `onError`, per connection.)
   */
  readonly finished: Promise<void>;
  /** Stops accepting, waits for connections in flight, closes the socket. */
  close(): Promise<void>;
}
