// Copyright 2026 the @sidecar/ipc authors. MIT license.

import {
  type CancelTimer,
  checkDuration,
  setLongTimeout,
} from "../_internal/timers.ts";
import { nextBackoff } from "../_internal/accept_error.ts";
import {
  Acceptor,
  bindSocket,
  closedReason,
  controllerFor,
  dataLimit,
  errorReporter,
  pause,
  pendingLimit,
  survive,
} from "./_acceptor.ts";
import {
  acceptSocket,
  closeFd,
  EAGAIN,
  EINTR,
  errno,
  libc,
  P,
  socketName,
  sysError,
} from "./_libc.ts";
import { poller } from "./_poller.ts";
import type { AcceptorOptions, SessionAcceptor } from "./acceptor.ts";
import { SocketSessionError } from "./errors.ts";
import { decodeSockaddr } from "./sockaddr.ts";

/** A connection waiting for its first bytes. */
interface Waiting {
  fd: number;
  /** `performance.now()` at which it times out. */
  deadline: number;
  timedOut: boolean;
}

/**
 * The first-data deadlines of one acceptor: every connection gets the same
 * timeout, so accept order is deadline order, and one timer (for the
 * oldest) serves them all instead of one timer per connection. A deadline
 * that passes cancels the connection's wait in the poller.
 */
class FirstDataClock {
  #ms: number;
  /** In accept order (a `Set` iterates in insertion order). */
  #waiting = new Set<Waiting>();
  #timer: CancelTimer | null = null;

  constructor(ms: number) {
    this.#ms = ms;
  }

  start(fd: number): Waiting {
    const w: Waiting = {
      fd,
      deadline: performance.now() + this.#ms,
      timedOut: false,
    };
    this.#waiting.add(w);
    this.#arm();
    return w;
  }

  stop(w: Waiting): void {
    this.#waiting.delete(w);
  }

  /** Cancels every wait (the acceptor closes). */
  cancelAll(reason: unknown): void {
    for (const w of this.#waiting) poller.cancel(w.fd, () => reason);
    this.#waiting.clear();
    this.#timer?.();
    this.#timer = null;
  }

  #arm(): void {
    if (this.#timer !== null || this.#ms === Infinity) return;
    for (const w of this.#waiting) {
      this.#timer = setLongTimeout(
        () => this.#sweep(),
        Math.max(0, w.deadline - performance.now()),
      );
      return;
    }
  }

  #sweep(): void {
    this.#timer = null;
    const now = performance.now();
    for (const w of this.#waiting) {
      if (w.deadline > now) break;
      this.#waiting.delete(w);
      w.timedOut = true;
      poller.cancel(
        w.fd,
        () =>
          new SocketSessionError(
            "TIMEOUT",
            `Cannot forward connection: no data within ${this.#ms} ms`,
          ),
      );
    }
    this.#arm();
  }
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
  const clock = new FirstDataClock(
    checkDuration(
      options.firstDataTimeout ?? 10000,
      "firstDataTimeout",
      "start acceptor",
    ),
  );
  const fd = bindSocket(options, P.SOCK_STREAM);
  const controller = controllerFor(options.signal);
  const signal = controller.signal;
  signal.addEventListener("abort", () => clock.cancelAll(closedReason()), {
    once: true,
  });
  const { report, rethrow } = errorReporter(options, controller);
  const forwarder = options.forwarder;
  const buf = new Uint8Array(max);
  // Bound to one address, every connection's local address is the
  // listener's; bound to a wildcard, each is read from its socket.
  const listenerAddr = socketName(fd, false);
  const { hostname } = decodeSockaddr(listenerAddr);
  const sharedLocal = hostname === "0.0.0.0" || hostname === "::"
    ? null
    : listenerAddr;
  const peer = new Uint8Array(128);
  const peerLength = new Uint32Array(1);
  let inFlight = 0;
  let allDone: (() => void) | null = null;
  // Wakes the accept loop when a connection in flight is done (a slot and
  // an fd are free again).
  let wakeAccept: (() => void) | null = null;

  const handle = async (
    conn: number,
    remote: Uint8Array,
    count: () => void,
  ): Promise<void> => {
    let waiting: Waiting | null = null;
    try {
      while (true) {
        const n = Number(
          libc.recvfrom(conn, buf, BigInt(max), P.MSG_DONTWAIT, null, null),
        );
        if (n === 0) return;
        if (n > 0) {
          if (waiting !== null) clock.stop(waiting);
          // send() copies the bytes before it returns or waits.
          await forwarder.send({
            fd: conn,
            type: P.SOCK_STREAM,
            protocol: 6,
            local: sharedLocal ?? socketName(conn, false),
            remote,
            data: buf.subarray(0, n),
          }, { signal });
          count();
          return;
        }
        const e = errno();
        if (e === EINTR) continue;
        if (e !== EAGAIN) throw sysError("read first bytes", e);
        waiting ??= clock.start(conn);
        await poller.wait(conn, P.POLLIN);
      }
    } catch (err) {
      if (signal.aborted && !waiting?.timedOut) return;
      report(err);
    } finally {
      if (waiting !== null) clock.stop(waiting);
      closeFd(conn);
    }
  };

  const done = (): void => {
    inFlight--;
    wakeAccept?.();
    if (inFlight === 0) allDone?.();
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
        if (inFlight >= maxPending) {
          await idle(null);
          continue;
        }
        peerLength[0] = peer.length;
        const conn = acceptSocket(fd, true, peer, peerLength);
        if (conn >= 0) {
          backoff = 0;
          inFlight++;
          handle(
            conn,
            peer.slice(0, Math.min(peerLength[0]!, peer.length)),
            count,
          ).finally(done);
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
      if (inFlight > 0) {
        await new Promise<void>((resolve) => allDone = resolve);
      }
    }
    rethrow();
  }, () => inFlight);
}
