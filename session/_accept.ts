// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * What a long-running acceptor does after `accept()` fails, by errno name,
 * as real servers do (nginx, Kea, the dirty arbiter): only errors that mean
 * the listening socket itself is unusable stop it.
 *
 * @module
 */

/**
 * - `"retry"`: the failure belonged to one pending connection (which the
 *   kernel dropped); accept the next one at once.
 * - `"backoff"`: out of fds or memory (or an unknown error); wait a little,
 *   then try again, so the acceptor does not spin on a listener that stays
 *   readable.
 * - `"stop"`: the listener is gone or was never listening.
 */
export type AcceptErrorAction = "retry" | "backoff" | "stop";

/** Failures of one pending connection (Linux `accept(2)`, "Error handling"). */
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
]);

/** The listener is unusable: bad fd, not a socket, not listening. */
const LISTENER_GONE = new Set(["EBADF", "EINVAL", "ENOTSOCK", "EFAULT"]);

/**
 * Classifies an `accept()` failure.
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
