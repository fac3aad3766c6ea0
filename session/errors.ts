// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.

/**
 * Reason codes carried by {@linkcode SocketSessionError}.
 *
 * Protocol codes follow the BIND 10 receiver's checks; system codes are the
 * errno names (`"EAGAIN"`, `"EPIPE"`, `"ECONNRESET"`, ...).
 */
export type SocketSessionErrorCode =
  | "NO_FD"
  | "EXTRA_FDS"
  | "CONTROL_TRUNCATED"
  | "INCOMPLETE"
  | "HEADER_TOO_LARGE"
  | "UNSUPPORTED_FAMILY"
  | "INVALID_LOCAL_LENGTH"
  | "INVALID_REMOTE_LENGTH"
  | "FAMILY_INCONSISTENT"
  | "INVALID_DATA_SIZE"
  | "BOGUS_HEADER"
  | "TIMEOUT"
  | "BROKEN"
  | "CLOSED"
  | "SESSIONS_LOST"
  | string;

/** Options for {@linkcode SocketSessionError}. */
export interface SocketSessionErrorOptions extends ErrorOptions {
  /** The OS errno value, for system errors. @default {undefined} */
  errno?: number;
  /** Bytes of the session already written when a send failed. @default {0} */
  bytesWritten?: number;
}

/**
 * A system or protocol error while forwarding or receiving a socket session,
 * like BIND 10's `SocketSessionError`. After it the connection is in an
 * unknown state: close it and, if needed, connect again.
 *
 * @example Usage
 * ```ts
 * import { SocketSessionError } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const err = new SocketSessionError("INCOMPLETE", "Cannot receive session: 1/2 bytes");
 * assert.equal(err.code, "INCOMPLETE");
 * assert.equal(err.name, "SocketSessionError");
 * ```
 */
export class SocketSessionError extends Error {
  /** Why it failed: a protocol code or an errno name. */
  readonly code: SocketSessionErrorCode;
  /** The OS errno value for system errors, else `undefined`. */
  readonly errno: number | undefined;
  /** Bytes of the session written before the failure (forwarder side). */
  readonly bytesWritten: number;

  /**
   * Creates the error.
   *
   * @param code The reason code.
   * @param message The message.
   * @param options errno, bytes written and the cause.
   */
  constructor(
    code: SocketSessionErrorCode,
    message: string,
    options: SocketSessionErrorOptions = {},
  ) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "SocketSessionError";
    this.code = code;
    this.errno = options.errno;
    this.bytesWritten = options.bytesWritten ?? 0;
  }
}

/**
 * Thrown by `SocketSessionForwarder.push()` when the receiver is not reading
 * fast enough: nothing was written (code `"EAGAIN"`, `bytesWritten` 0), the
 * stream is intact and the caller may retry, or `await send()`.
 *
 * @example Usage
 * ```ts
 * import { SocketSessionError, WouldBlockError } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const err = new WouldBlockError(11);
 * assert.ok(err instanceof SocketSessionError);
 * assert.equal(err.code, "EAGAIN");
 * ```
 */
export class WouldBlockError extends SocketSessionError {
  /**
   * Creates the error.
   *
   * @param errno The errno value reported (`EAGAIN`).
   */
  constructor(errno: number) {
    super(
      "EAGAIN",
      "Cannot push socket session: the receiver is not reading (would block)",
      {
        errno,
      },
    );
    this.name = "WouldBlockError";
  }
}

/**
 * Rejection of `SocketSessionForwarder.close()` and `flush()` when sessions
 * that `push()` or `send()` had accepted could not be written whole (the
 * receiver stopped reading until `closeTimeout` ran out, or the stream
 * failed): `lost` says how many. `cause` is the first failure.
 *
 * @example Usage
 * ```ts
 * import { SessionsLostError, SocketSessionError } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const err = new SessionsLostError(3, "Cannot close forwarder: 3 sessions were not sent");
 * assert.ok(err instanceof SocketSessionError);
 * assert.equal(err.code, "SESSIONS_LOST");
 * assert.equal(err.lost, 3);
 * ```
 */
export class SessionsLostError extends SocketSessionError {
  /** Sessions accepted but not written whole. */
  readonly lost: number;

  /**
   * Creates the error.
   *
   * @param lost The number of sessions lost.
   * @param message The message.
   * @param options The cause.
   */
  constructor(lost: number, message: string, options: ErrorOptions = {}) {
    super("SESSIONS_LOST", message, options);
    this.name = "SessionsLostError";
    this.lost = lost;
  }
}
