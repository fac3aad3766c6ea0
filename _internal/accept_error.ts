// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * What a long-running accept loop does after `accept()` (or, for a UDP
 * acceptor, `recvfrom()`) fails, as real servers do (nginx, Kea,
 * gunicorn): only an error that means the listening socket itself is
 * unusable ends the loop. Shared by every accept loop of the package.
 *
 * It takes what the loop has in hand: the error `Deno.Listener.accept()`
 * threw, or an errno name (`"ECONNABORTED"`) from an FFI `accept()`.
 * Deno 2.9.6 reports accept failures as:
 *
 * | cause | what `Deno.Listener.accept()` throws |
 * | --- | --- |
 * | a TCP client reset before it was accepted | `Deno.errors.NotConnected`, `code` `"ENOTCONN"` (Deno's `getpeername()` on the accepted socket fails; the socket is closed) |
 * | fd table full | a plain `Error`, `code` `"EMFILE"`, message `"Too many open files (os error 24)"` |
 * | the listener was closed | `Deno.errors.BadResource`, no `code` (`"Listener has been closed"`) |
 * | the socket stopped listening (`shutdown()`) | a `TypeError`, `code` `"EINVAL"` |
 *
 * @module
 */

/**
 * - `"skip"`: the failure belonged to one pending connection (which the
 *   kernel or the runtime dropped), or was an interrupted call, or an ICMP
 *   error queued on a UDP socket (reported once): go on at once.
 * - `"backoff"`: out of fds, buffers or memory, or an error nobody
 *   expected: wait (see {@linkcode nextBackoff}), then try again, so that
 *   the loop does not spin on a listener that stays readable.
 * - `"stop"`: the listening socket is gone or was never listening.
 */
export type AcceptErrorAction = "skip" | "backoff" | "stop";

/**
 * Failures of one pending connection: those Linux `accept(2)` passes on
 * from the new socket ("Error handling"), a client reset before Deno read
 * its address (`ENOTCONN`, `ECONNRESET`), firewall refusals (`EPERM`), and
 * ICMP errors that a UDP socket reports once (`ECONNREFUSED`, ...). An
 * interrupted or would-block call is retried at once as well.
 */
const SKIP: ReadonlySet<string> = new Set([
  "ECONNABORTED",
  "ECONNRESET",
  "ENOTCONN",
  "EPROTO",
  "EPERM",
  "ENETDOWN",
  "ENOPROTOOPT",
  "EHOSTDOWN",
  "ENONET",
  "EHOSTUNREACH",
  "EOPNOTSUPP",
  "ENETUNREACH",
  "ETIMEDOUT",
  "ECONNREFUSED",
  "ESOCKTNOSUPPORT",
  "EPROTONOSUPPORT",
  "EINTR",
  "EAGAIN",
  "EWOULDBLOCK",
]);

/** The listening socket is unusable: bad fd, not a socket, not listening. */
const STOP: ReadonlySet<string> = new Set([
  "EBADF",
  "EINVAL",
  "ENOTSOCK",
  "EFAULT",
]);

/**
 * Deno's error classes for accept failures that carry no `code`, by the
 * errno they stand for. `BadResource` is Deno's "the listener was closed".
 */
const DENO_CLASSES: Readonly<Record<string, string>> = {
  NotConnected: "ENOTCONN",
  ConnectionReset: "ECONNRESET",
  ConnectionAborted: "ECONNABORTED",
  ConnectionRefused: "ECONNREFUSED",
  TimedOut: "ETIMEDOUT",
  Interrupted: "EINTR",
  WouldBlock: "EAGAIN",
  BadResource: "EBADF",
};

const ERRNO_NAME = /^E[A-Z0-9]+$/;
const ERRNO_IN_MESSAGE = /\b(E[A-Z][A-Z0-9]+)\b/;

/**
 * The errno name an accept failure stands for: the string itself, else the
 * error's `code` (Deno and Node set it on OS errors), else the errno its
 * Deno error class stands for (`NotConnected` is `"ENOTCONN"`,
 * `BadResource` is `"EBADF"`), else an errno name in its message.
 *
 * @param error An errno name, or what `accept()` threw.
 * @returns The errno name, or `undefined` when none can be found.
 */
export function acceptErrorName(error: unknown): string | undefined {
  if (typeof error === "string") return error;
  if (typeof error !== "object" || error === null) return undefined;
  const { code, name, message } = error as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
  };
  if (typeof code === "string" && ERRNO_NAME.test(code)) return code;
  if (typeof name === "string" && Object.hasOwn(DENO_CLASSES, name)) {
    return DENO_CLASSES[name];
  }
  if (typeof message === "string") return ERRNO_IN_MESSAGE.exec(message)?.[1];
  return undefined;
}

/**
 * Classifies an `accept()` (or UDP `recvfrom()`) failure. Errors of one
 * pending connection are skipped; errors of the listening socket itself
 * (`EBADF`, `EINVAL`, `ENOTSOCK`, `EFAULT`, Deno's `BadResource`) stop the
 * loop; everything else (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`, and any
 * error nobody expected) backs off and tries again.
 *
 * @param error An errno name (`"ECONNABORTED"`), or what
 * `Deno.Listener.accept()` threw.
 * @returns What to do next.
 */
export function classifyAcceptError(error: unknown): AcceptErrorAction {
  const name = acceptErrorName(error);
  if (name === undefined) return "backoff";
  if (STOP.has(name)) return "stop";
  if (SKIP.has(name)) return "skip";
  return "backoff";
}

/** First back-off after a resource error, in milliseconds. */
export const ACCEPT_BACKOFF_MIN = 10;
/** Longest back-off, in milliseconds. */
export const ACCEPT_BACKOFF_MAX = 100;

/**
 * The next back-off: 10 ms, then doubling up to 100 ms.
 *
 * @param previousMs The last back-off (0 after a success).
 * @returns Milliseconds to wait.
 */
export function nextBackoff(previousMs: number): number {
  return previousMs > 0
    ? Math.min(ACCEPT_BACKOFF_MAX, previousMs * 2)
    : ACCEPT_BACKOFF_MIN;
}
