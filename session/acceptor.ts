// Copyright 2026 the @sidecar/ipc authors. MIT license.

import {
  acceptSocket,
  closeFd,
  EAGAIN,
  EINTR,
  errno,
  libc,
  openSocket,
  P,
  setIntOption,
  socketName,
  sysError,
} from "./_libc.ts";
import { deadlineSignal } from "../_internal/abort.ts";
import { checkDuration, setLongTimeout } from "../_internal/timers.ts";
import { acceptErrorAction, nextBackoff } from "./_accept.ts";
import { poller } from "./_poller.ts";
import { SocketSessionError } from "./errors.ts";
import type { SocketSessionForwarder } from "./forwarder.ts";
import { MAX_DATA_SIZE } from "./session_header.ts";
import {
  decodeSockaddr,
  encodeSockaddr,
  type SocketAddress,
} from "./sockaddr.ts";

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

class Acceptor implements SessionAcceptor {
  #fd: number;
  #addr: SocketAddress;
  #controller: AbortController;
  #finished: Promise<void>;
  #forwarded = 0;
  #pending: () => number;

  constructor(
    fd: number,
    controller: AbortController,
    run: (count: () => void) => Promise<void>,
    pending: () => number = () => 0,
  ) {
    this.#fd = fd;
    this.#pending = pending;
    this.#addr = decodeSockaddr(socketName(fd, false));
    this.#controller = controller;
    this.#finished = run(() => this.#forwarded++).finally(() => {
      // Also unhooks the caller's signal (see controllerFor).
      controller.abort(closedReason());
      poller.cancelAndClose(this.#fd, closedReason());
      this.#fd = -1;
    });
    // A caller that never looks at `finished` (errors also reach onError)
    // must not die of an unhandled rejection; awaiting it still rejects.
    this.#finished.catch(() => {});
  }

  get addr(): SocketAddress {
    return this.#addr;
  }

  get forwarded(): number {
    return this.#forwarded;
  }

  get pending(): number {
    return this.#pending();
  }

  get finished(): Promise<void> {
    return this.#finished;
  }

  async close(): Promise<void> {
    this.#controller.abort(closedReason());
    await this.#finished.catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function bindSocket(options: AcceptorOptions, type: number): number {
  const sa = encodeSockaddr({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
  });
  const family = sa.length === 16 ? P.AF_INET : P.AF_INET6;
  if (options.dualStack && family !== P.AF_INET6) {
    throw new TypeError(
      `Cannot start acceptor: dualStack needs an IPv6 hostname, not "${options.hostname}"`,
    );
  }
  const fd = openSocket(family, type);
  try {
    setIntOption(fd, P.SOL_SOCKET, P.SO_REUSEADDR, 1);
    if (family === P.AF_INET6) {
      setIntOption(
        fd,
        P.IPPROTO_IPV6,
        P.IPV6_V6ONLY,
        options.dualStack ? 0 : 1,
      );
    }
    if (libc.bind(fd, sa, sa.length) < 0) throw sysError("bind acceptor");
    if (
      type === P.SOCK_STREAM && libc.listen(fd, options.backlog ?? 1024) < 0
    ) {
      throw sysError("listen for connections");
    }
  } catch (err) {
    closeFd(fd);
    throw err;
  }
  return fd;
}

function closedReason(): Error {
  return new Error("Cannot accept connection: the acceptor was closed");
}

/** A controller that follows `signal` until either one aborts. */
function controllerFor(signal: AbortSignal | undefined): AbortController {
  const c = new AbortController();
  if (signal?.aborted) c.abort(signal.reason);
  else if (signal !== undefined) {
    const follow = (): void => c.abort(signal.reason);
    signal.addEventListener("abort", follow, { once: true });
    c.signal.addEventListener(
      "abort",
      () => signal.removeEventListener("abort", follow),
      { once: true },
    );
  }
  return c;
}

/**
 * Resolves after `ms` milliseconds (never when `null`), when `signal`
 * aborts, or when the returned `wake` is called, whichever comes first.
 */
function pause(
  ms: number | null,
  signal: AbortSignal,
): { done: Promise<void>; wake: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  const cancel = setLongTimeout(() => wake(), ms ?? Infinity);
  const wake = (): void => {
    cancel();
    signal.removeEventListener("abort", wake);
    resolve();
  };
  signal.addEventListener("abort", wake, { once: true });
  if (signal.aborted) wake();
  return { done: promise, wake };
}

function pendingLimit(options: AcceptorOptions): number {
  const max = options.maxPendingConnections ?? 256;
  if (!Number.isInteger(max) || max < 1) {
    throw new RangeError(
      `Cannot start acceptor: maxPendingConnections ${max} is not a positive integer`,
    );
  }
  return max;
}

/**
 * Calls `onError`; if that throws, stops the acceptor and keeps the error
 * for `finished` (instead of an unhandled rejection in a connection task).
 */
function errorReporter(
  options: AcceptorOptions,
  controller: AbortController,
): { report: (error: unknown) => void; rethrow: () => void } {
  let failure: { error: unknown } | null = null;
  return {
    report(error) {
      try {
        options.onError?.(error);
      } catch (e) {
        failure ??= { error: e };
        controller.abort(e);
      }
    },
    rethrow() {
      if (failure !== null) throw failure.error;
    },
  };
}

/**
 * Reports a failed `accept()`/`recvfrom()` and says whether to go on at once
 * or after a back-off; throws when the failure stops the acceptor.
 */
function survive(
  action: string,
  e: number,
  report: (error: unknown) => void,
): "retry" | "backoff" {
  const err = sysError(action, e);
  const next = acceptErrorAction(err.code);
  report(err);
  if (next === "stop") throw err;
  return next;
}

function dataLimit(options: AcceptorOptions): number {
  const max = options.maxData ?? MAX_DATA_SIZE;
  if (!Number.isInteger(max) || max < 1 || max > MAX_DATA_SIZE) {
    throw new RangeError(
      `Cannot start acceptor: maxData ${max} is not in 1..${MAX_DATA_SIZE}`,
    );
  }
  return max;
}

/**
 * Accepts TCP connections on `hostname:port`, reads each one's first bytes
 * (what is there when it first becomes readable), forwards the connection
 * with them, and closes its own copy. Connections that close or stay silent
 * past `firstDataTimeout` are closed. At most `maxPendingConnections` are
 * held at once: past that the acceptor leaves new ones in the kernel
 * backlog until one is forwarded or closed.
 *
 * The acceptor survives `accept()` failures, as long-running servers do:
 * those of one pending connection (`ECONNABORTED`, `EPROTO`, `EPERM`,
 * network errors) are skipped at once; running out of fds or memory
 * (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) waits 10 ms, doubling up to
 * 100 ms, or until one of its own connections is closed, then accepts
 * again. Each goes to `onError`. Only errors that mean the listening socket
 * is unusable (`EBADF`, `EINVAL`, `ENOTSOCK`) stop it: `finished` rejects.
 *
 * @param options Address, forwarder, limits.
 * @returns The running acceptor.
 *
 * @example Usage
 * ```ts
 * import { forwardTcpConnections, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/a.sock`;
 * using listener = SocketSessionListener.listen(path);
 * await using forwarder = new SocketSessionForwarder(path);
 * forwarder.connect();
 * using receiver = await listener.accept();
 * await using acceptor = forwardTcpConnections({ forwarder });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: acceptor.addr.port });
 * await client.write(new TextEncoder().encode("GET /"));
 * using session = await receiver.pop();
 * assert.equal(new TextDecoder().decode(session.data), "GET /");
 * client.close();
 * ```
 */
export function forwardTcpConnections(
  options: AcceptorOptions,
): SessionAcceptor {
  const max = dataLimit(options);
  const maxPending = pendingLimit(options);
  const firstData = checkDuration(
    options.firstDataTimeout ?? 10000,
    "firstDataTimeout",
    "start acceptor",
  );
  const fd = bindSocket(options, P.SOCK_STREAM);
  const controller = controllerFor(options.signal);
  const signal = controller.signal;
  const { report, rethrow } = errorReporter(options, controller);
  const buf = new Uint8Array(max);
  const inFlight = new Set<Promise<void>>();
  // Wakes the accept loop when a connection in flight is done (a slot and
  // an fd are free again).
  let wakeAccept: (() => void) | null = null;

  const handle = async (conn: number, count: () => void): Promise<void> => {
    const deadline = deadlineSignal(firstData, signal);
    const wait = deadline.signal;
    try {
      while (true) {
        const n = Number(
          libc.recvfrom(conn, buf, BigInt(max), P.MSG_DONTWAIT, null, null),
        );
        if (n === 0) return;
        if (n > 0) {
          const data = buf.slice(0, n);
          await options.forwarder.send({
            fd: conn,
            type: P.SOCK_STREAM,
            protocol: 6,
            local: socketName(conn, false),
            remote: socketName(conn, true),
            data,
          }, { signal });
          count();
          return;
        }
        const e = errno();
        if (e === EINTR) continue;
        if (e !== EAGAIN) throw sysError("read first bytes", e);
        await poller.wait(conn, P.POLLIN, { signal: wait });
      }
    } catch (err) {
      if (signal.aborted) return;
      report(
        deadline.timedOut()
          ? new SocketSessionError(
            "TIMEOUT",
            `Cannot forward connection: no data within ${firstData} ms`,
          )
          : err,
      );
    } finally {
      deadline.clear();
      closeFd(conn);
    }
  };

  const idle = async (ms: number | null): Promise<void> => {
    const p = pause(ms, signal);
    wakeAccept = p.wake;
    await p.done;
    wakeAccept = null;
  };

  return new Acceptor(fd, controller, async (count) => {
    let backoff = 0;
    try {
      while (!signal.aborted) {
        if (inFlight.size >= maxPending) {
          await idle(null);
          continue;
        }
        const conn = acceptSocket(fd, true);
        if (conn >= 0) {
          backoff = 0;
          const p = handle(conn, count).finally(() => {
            inFlight.delete(p);
            wakeAccept?.();
          });
          inFlight.add(p);
          continue;
        }
        const e = errno();
        if (e === EINTR) continue;
        if (e !== EAGAIN) {
          if (survive("accept connection", e, report) === "backoff") {
            await idle(backoff = nextBackoff(backoff));
          }
          continue;
        }
        try {
          await poller.wait(fd, P.POLLIN, { signal });
        } catch (err) {
          if (signal.aborted) break;
          throw err;
        }
      }
    } finally {
      await Promise.allSettled([...inFlight]);
    }
    rethrow();
  }, () => inFlight.size);
}

/**
 * Receives UDP datagrams on `hostname:port` and forwards each as a session
 * whose fd is the bound UDP socket itself (the receiver answers with
 * `sendto` on its copy), its local address and the sender's address.
 *
 * Like the TCP acceptor it survives receive errors: an ICMP error queued on
 * the socket (`ECONNREFUSED`, ..., reported when a receiver turned on
 * `IP_RECVERR` on its copy and answered a closed port) goes to `onError`
 * and receiving goes on; `ENOMEM`/`ENOBUFS` back off as for TCP; only
 * `EBADF`, `EINVAL` or `ENOTSOCK` stop it (`finished` rejects).
 *
 * @param options Address, forwarder, limits.
 * @returns The running acceptor.
 *
 * @example Usage
 * ```ts
 * import { forwardUdpDatagrams, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
 * import dgram from "node:dgram";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/u.sock`;
 * using listener = SocketSessionListener.listen(path);
 * await using forwarder = new SocketSessionForwarder(path);
 * forwarder.connect();
 * using receiver = await listener.accept();
 * await using acceptor = forwardUdpDatagrams({ forwarder });
 * const client = dgram.createSocket("udp4");
 * client.send("query", acceptor.addr.port, "127.0.0.1");
 * using session = await receiver.pop();
 * assert.equal(new TextDecoder().decode(session.data), "query");
 * assert.equal(session.type, 2);
 * client.close();
 * ```
 */
export function forwardUdpDatagrams(options: AcceptorOptions): SessionAcceptor {
  const max = dataLimit(options);
  const fd = bindSocket(options, P.SOCK_DGRAM);
  const controller = controllerFor(options.signal);
  const signal = controller.signal;
  const { report, rethrow } = errorReporter(options, controller);
  const local = socketName(fd, false);
  const buf = new Uint8Array(MAX_DATA_SIZE);
  const from = new Uint8Array(128);
  const fromLen = new Uint32Array(1);
  return new Acceptor(fd, controller, async (count) => {
    let backoff = 0;
    while (!signal.aborted) {
      fromLen[0] = 128;
      const n = Number(
        libc.recvfrom(
          fd,
          buf,
          BigInt(buf.length),
          P.MSG_DONTWAIT,
          from,
          fromLen,
        ),
      );
      if (n > 0) {
        backoff = 0;
        try {
          await options.forwarder.send({
            fd,
            type: P.SOCK_DGRAM,
            protocol: 17,
            local,
            remote: from.slice(0, fromLen[0]!),
            data: buf.slice(0, Math.min(n, max)),
          }, { signal });
          count();
        } catch (err) {
          if (signal.aborted) break;
          report(err);
        }
        continue;
      }
      if (n === 0) continue;
      const e = errno();
      if (e === EINTR) continue;
      if (e !== EAGAIN) {
        if (survive("receive datagram", e, report) === "backoff") {
          await pause(backoff = nextBackoff(backoff), signal).done;
        }
        continue;
      }
      try {
        await poller.wait(fd, P.POLLIN, { signal });
      } catch (err) {
        if (signal.aborted) break;
        throw err;
      }
    }
    rethrow();
  });
}
