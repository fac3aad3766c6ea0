// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Error classes of the `connection` module and how they map to the errors
 * CPython's `multiprocessing.connection` raises.
 *
 * | situation | CPython | here | `code` |
 * | --- | --- | --- | --- |
 * | HMAC challenge failed, wrong key, bad challenge | `AuthenticationError` | {@linkcode AuthenticationError} | `AUTHENTICATION_FAILED` |
 * | `recv_bytes_into` buffer too small | `BufferTooShort(message)` | {@linkcode BufferTooShort} (`.bytes` holds the whole message, which is consumed) | `BUFFER_TOO_SHORT` |
 * | peer closed cleanly at a message boundary | `EOFError` | {@linkcode EOFError} | `EOF` |
 * | EOF inside a header or a payload | `OSError("got end of file during message")` (EOF right after a complete header is an `EOFError` in CPython) | {@linkcode ProtocolError} (stricter: any EOF after a non-empty header is truncation) | `TRUNCATED` |
 * | length over `maxlength` | `OSError("bad message length")`, the connection becomes write-only | {@linkcode ProtocolError}, the connection becomes write-only | `MESSAGE_TOO_LARGE` |
 * | negative length other than `-1` | silently an empty message | {@linkcode ProtocolError} (stricter) | `BAD_LENGTH` |
 * | receive after such an error | `OSError("connection is write-only")` | {@linkcode ConnectionError} | `WRITE_ONLY` |
 * | use after `close()` | `OSError("handle is closed")` | {@linkcode ConnectionError} | `CONNECTION_CLOSED` |
 * | the socket failed | `OSError(errno)` | {@linkcode ConnectionError} carrying the error as `cause` | its errno name (`EPIPE`, ...), else `TRANSPORT_FAILED` |
 * | handshake timeout | (CPython waits forever) | {@linkcode ProtocolError} carrying the abort reason as `cause` | `HANDSHAKE_TIMEOUT` |
 *
 * @module
 */

/**
 * The `code` of a connection error, stable across releases, to switch on
 * as with Node's `err.code`:
 *
 * - `"CONNECTION_CLOSED"`: the connection was closed by its owner (use
 *   after `close()`, a receive pending when it closed, a send that
 *   `close()` past `closeTimeout` or `writable.abort()` dropped);
 * - `"WRITE_ONLY"`: a receive or `poll()` on a connection that a
 *   {@linkcode ProtocolError} left write-only (the `cause` is that error);
 * - an errno name (`"EPIPE"`, `"ECONNRESET"`, ...): reading from or
 *   writing to the transport failed with that system error (the `cause`);
 * - `"TRANSPORT_FAILED"`: the transport failed with an error that carries
 *   no errno name (a stream pair's error, the `cause`);
 * - `"AUTHENTICATION_FAILED"`: {@linkcode AuthenticationError};
 * - `"BUFFER_TOO_SHORT"`: {@linkcode BufferTooShort};
 * - `"EOF"`: {@linkcode EOFError};
 * - `"MESSAGE_TOO_LARGE"`: a length over `maxLength` or `maxMessageSize`
 *   ({@linkcode ProtocolError});
 * - `"TRUNCATED"`: the stream ended inside a header or a payload
 *   ({@linkcode ProtocolError});
 * - `"BAD_LENGTH"`: a negative length other than `-1`, or a 64-bit length
 *   over 2^53 - 1 ({@linkcode ProtocolError});
 * - `"HANDSHAKE_TIMEOUT"`: the handshake did not finish within
 *   `handshakeTimeout` ({@linkcode ProtocolError}, the abort reason as
 *   `cause`);
 * - `"PROTOCOL_ERROR"`: the default of a {@linkcode ProtocolError} (for
 *   example a handshake that broke the protocol);
 * - `"CONNECTION_ERROR"`: the default of a {@linkcode ConnectionError}
 *   made without a code.
 */
export type ConnectionErrorCode =
  | "CONNECTION_CLOSED"
  | "WRITE_ONLY"
  | "TRANSPORT_FAILED"
  | "AUTHENTICATION_FAILED"
  | "BUFFER_TOO_SHORT"
  | "EOF"
  | "MESSAGE_TOO_LARGE"
  | "TRUNCATED"
  | "BAD_LENGTH"
  | "HANDSHAKE_TIMEOUT"
  | "PROTOCOL_ERROR"
  | "CONNECTION_ERROR"
  | (string & Record<never, never>);

/** Options of the connection error classes. */
export interface ConnectionErrorOptions extends ErrorOptions {
  /**
   * The error's code; each class has its own default.
   *
   * @default {undefined}
   */
  code?: ConnectionErrorCode;
}

function causeOf(options: ConnectionErrorOptions | undefined): ErrorOptions {
  return options !== undefined && "cause" in options
    ? { cause: options.cause }
    : {};
}

/**
 * Base class of every error this module raises on purpose. Catch it to
 * handle any connection failure; it plays the role of Python's `OSError`
 * for the connection's own checks (closed handle, write-only connection).
 *
 * @example Usage
 * ```ts
 * import { ConnectionError, EOFError } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * assert.ok(new EOFError() instanceof ConnectionError);
 * const err = new ConnectionError("Cannot send: connection is closed", {
 *   code: "CONNECTION_CLOSED",
 * });
 * assert.equal(err.code, "CONNECTION_CLOSED");
 * ```
 */
export class ConnectionError extends Error {
  /** What went wrong, stable across releases (see {@linkcode ConnectionErrorCode}). */
  readonly code: ConnectionErrorCode;

  /**
   * Creates the error.
   *
   * @param message The error message.
   * @param options The code (default `"CONNECTION_ERROR"`) and the cause.
   */
  constructor(message: string, options?: ConnectionErrorOptions) {
    super(message, causeOf(options));
    this.name = "ConnectionError";
    this.code = options?.code ?? "CONNECTION_ERROR";
  }
}

/**
 * The mutual HMAC challenge failed: wrong key, a challenge or response of an
 * unsupported form, a `#FAILURE#` reply, or a digest refused by
 * `allowLegacy: false`. Same meaning as Python's
 * `multiprocessing.AuthenticationError`.
 *
 * @example Usage
 * ```ts
 * import { AuthenticationError } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const err = new AuthenticationError("Cannot authenticate: digest sent was rejected");
 * assert.equal(err.name, "AuthenticationError");
 * assert.equal(err.code, "AUTHENTICATION_FAILED");
 * ```
 */
export class AuthenticationError extends ConnectionError {
  /**
   * Creates the error.
   *
   * @param message The error message.
   * @param options The code (default `"AUTHENTICATION_FAILED"`) and the
   * cause.
   */
  constructor(message: string, options?: ConnectionErrorOptions) {
    super(message, {
      ...causeOf(options),
      code: options?.code ?? "AUTHENTICATION_FAILED",
    });
    this.name = "AuthenticationError";
  }
}

/**
 * `recvBytesInto()` got a message larger than the space left in the buffer.
 * As in Python (`BufferTooShort(message)`), the message is consumed and the
 * whole of it is carried in {@linkcode BufferTooShort.bytes}.
 *
 * @example Usage
 * ```ts
 * import { BufferTooShort } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const err = new BufferTooShort(new Uint8Array([1, 2, 3]), 2);
 * assert.deepEqual(err.bytes, new Uint8Array([1, 2, 3]));
 * assert.equal(err.code, "BUFFER_TOO_SHORT");
 * ```
 */
export class BufferTooShort extends ConnectionError {
  /** The complete message that did not fit. */
  readonly bytes: Uint8Array;

  /**
   * Creates the error.
   *
   * @param bytes The complete message.
   * @param space The number of bytes that were available.
   */
  constructor(bytes: Uint8Array, space: number) {
    super(
      `Cannot receive into buffer: message of ${bytes.length} bytes exceeds the ${space} bytes available`,
      { code: "BUFFER_TOO_SHORT" },
    );
    this.name = "BufferTooShort";
    this.bytes = bytes;
  }
}

/**
 * The peer closed the connection cleanly at a message boundary (no byte of
 * a next message was received). Python raises `EOFError` in the same case.
 * A connection reset by the peer (ECONNRESET) counts as a clean close too,
 * because CPython's `close()` resets the socket when unread data is left.
 *
 * @example Usage
 * ```ts
 * import { EOFError } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new EOFError().name, "EOFError");
 * assert.equal(new EOFError().code, "EOF");
 * ```
 */
export class EOFError extends ConnectionError {
  /**
   * Creates the error.
   *
   * @param message The error message.
   * @param options The code (default `"EOF"`) and the cause.
   */
  constructor(
    message = "Cannot receive: the peer closed the connection",
    options?: ConnectionErrorOptions,
  ) {
    super(message, { ...causeOf(options), code: options?.code ?? "EOF" });
    this.name = "EOFError";
  }
}

/**
 * The byte stream broke the framing rules: truncated header or payload
 * (Python: `OSError("got end of file during message")`), a negative length
 * other than `-1` (Python silently returns an empty message; we refuse),
 * a length over the allowed maximum (Python: `OSError("bad message
 * length")`), or a handshake that did not finish in time.
 *
 * @example Usage
 * ```ts
 * import { MessageDecoder, ProtocolError } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const decoder = new MessageDecoder();
 * assert.throws(
 *   () => decoder.push(new Uint8Array([0xff, 0xff, 0xff, 0xfe])),
 *   (e) => e instanceof ProtocolError && e.code === "BAD_LENGTH",
 * );
 * ```
 */
export class ProtocolError extends ConnectionError {
  /**
   * Creates the error.
   *
   * @param message The error message.
   * @param options The code (default `"PROTOCOL_ERROR"`; `"MESSAGE_TOO_LARGE"`,
   * `"TRUNCATED"` and `"BAD_LENGTH"` say more) and the cause.
   */
  constructor(message: string, options?: ConnectionErrorOptions) {
    super(message, {
      ...causeOf(options),
      code: options?.code ?? "PROTOCOL_ERROR",
    });
    this.name = "ProtocolError";
  }
}
