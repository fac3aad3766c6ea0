// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * What a long-running acceptor does after `accept()` (TCP) or `recvfrom()`
 * (UDP) fails, by errno name, as real servers do (nginx, Kea, the dirty
 * arbiter): only errors that mean the socket itself is unusable stop it.
 *
 * @module
 */

/**
 * - `"retry"`: the failure belonged to one pending connection (which the
 *   kernel dropped), or is an ICMP error queued on a UDP socket (reported
 *   once); go on at once.
 * - `"backoff"`: out of fds or memory (or an unknown error); wait a little,
 *   then try again, so the acceptor does not spin on a listener that stays
 *   readable.
 * - `"stop"`: the listener is gone or was never listening.
 */
export type AcceptErrorAction = "retry" | "backoff" | "stop";

/**
 * Failures of one pending connection (Linux `accept(2)`, "Error handling"),
 * and ICMP errors that a UDP socket reports once (`ECONNREFUSED`, ...) when
 * a receiver turned on `IP_RECVERR` on its copy of it.
 */
const PER_CONNECTION = new Set([
  "ECONNABORTED",
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
]);

/** The socket is unusable: bad fd, not a socket, not listening. */
const LISTENER_GONE = new Set(["EBADF", "EINVAL", "ENOTSOCK", "EFAULT"]);

/**
 * Classifies an `accept()` or `recvfrom()` failure.
 *
 * @param name The errno name (`"EMFILE"`).
 * @returns What to do next.
 */
export function acceptErrorAction(name: string): AcceptErrorAction {
  if (LISTENER_GONE.has(name)) return "stop";
  if (PER_CONNECTION.has(name)) return "retry";
  // EMFILE, ENFILE, ENOBUFS, ENOMEM and anything unexpected.
  return "backoff";
}

/** First back-off after a resource error, in milliseconds. */
export const ACCEPT_BACKOFF_MIN = 10;
/** Longest back-off, in milliseconds. */
export const ACCEPT_BACKOFF_MAX = 100;

/**
 * The next back-off: 10 ms, then doubling up to 100 ms.
 *
 * @param previous The last back-off (0 after a success).
 * @returns Milliseconds to wait.
 */
export function nextBackoff(previous: number): number {
  return previous === 0
    ? ACCEPT_BACKOFF_MIN
    : Math.min(ACCEPT_BACKOFF_MAX, previous * 2);
}
