// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * What the TCP and UDP acceptors share: the running acceptor object, the
 * bound socket, option checks, error reporting and the back-off pause.
 *
 * @module
 */

import { MAX_TIMER_DELAY, setLongTimeout } from "../_internal/timers.ts";
import { classifyAcceptError } from "../_internal/accept_error.ts";
import {
  closeFd,
  libc,
  openSocket,
  P,
  setIntOption,
  socketName,
  sysError,
} from "./_libc.ts";
import { poller } from "./_poller.ts";
import type { AcceptorOptions, SessionAcceptor } from "./acceptor.ts";
import { SocketSessionError } from "./errors.ts";
import { MAX_DATA_SIZE } from "./session_header.ts";
import {
  decodeSockaddr,
  encodeSockaddr,
  type SocketAddress,
} from "./sockaddr.ts";
import { requireDeno } from "../_internal/deno_version.ts";

export class Acceptor implements SessionAcceptor {
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
      poller.cancelAndClose(this.#fd, closedReason);
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

export function bindSocket(options: AcceptorOptions, type: number): number {
  requireDeno("start acceptor");
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
    if (type === P.SOCK_STREAM && (options.deferAccept ?? true)) {
      const ms = Math.min(options.firstDataTimeout ?? 10000, MAX_TIMER_DELAY);
      setIntOption(
        fd,
        P.IPPROTO_TCP,
        P.TCP_DEFER_ACCEPT,
        Math.max(1, Math.ceil(ms / 1000)),
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

export function closedReason(): SocketSessionError {
  return new SocketSessionError(
    "CLOSED",
    "Cannot accept connection: the acceptor was closed",
  );
}

/** A controller that follows `signal` until either one aborts. */
export function controllerFor(
  signal: AbortSignal | undefined,
): AbortController {
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
export function pause(
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

export function pendingLimit(options: AcceptorOptions): number {
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
export function errorReporter(
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
 * or after a back-off (`_internal/accept_error.ts` decides); throws when the
 * failure stops the acceptor.
 */
export function survive(
  action: string,
  e: number,
  report: (error: unknown) => void,
): "skip" | "backoff" {
  const err = sysError(action, e);
  const next = classifyAcceptError(err.code);
  report(err);
  if (next === "stop") throw err;
  return next;
}

export function dataLimit(options: AcceptorOptions): number {
  const max = options.maxData ?? MAX_DATA_SIZE;
  if (!Number.isInteger(max) || max < 1 || max > MAX_DATA_SIZE) {
    throw new RangeError(
      `Cannot start acceptor: maxData ${max} is not in 1..${MAX_DATA_SIZE}`,
    );
  }
  return max;
}
