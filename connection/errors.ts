// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Error classes of the `connection` module and how they map to the errors
 * CPython's `multiprocessing.connection` raises.
 *
 * | situation | CPython | here |
 * | --- | --- | --- |
 * | HMAC challenge failed, wrong key, bad challenge | `AuthenticationError` | {@linkcode AuthenticationError} |
 * | `recv_bytes_into` buffer too small | `BufferTooShort(message)` | {@linkcode BufferTooShort} (`.bytes` holds the whole message, which is consumed) |
 * | peer closed cleanly at a message boundary | `EOFError` | {@linkcode EOFError} |
 * | EOF inside a header or a payload | `OSError("got end of file during message")` (EOF right after a complete header is an `EOFError` in CPython) | {@linkcode ProtocolError} (stricter: any EOF after a non-empty header is truncation) |
 * | length over `maxlength` | `OSError("bad message length")`, the connection becomes write-only | {@linkcode ProtocolError}, the connection becomes write-only |
 * | negative length other than `-1` | silently an empty message | {@linkcode ProtocolError} (stricter) |
 * | use after `close()` | `OSError("handle is closed")` | {@linkcode ConnectionError} |
 * | handshake timeout | (CPython waits forever) | {@linkcode ProtocolError} carrying the abort reason as `cause` |
 *
 * @module
 */

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
 * ```
 */
export class ConnectionError extends Error {
  /**
   * Creates the error.
   *
   * @param message The error message.
   * @param options The standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionError";
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
 * ```
 */
export class AuthenticationError extends ConnectionError {
  /**
   * Creates the error.
   *
   * @param message The error message.
   * @param options The standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
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
 * ```
 */
export class EOFError extends ConnectionError {
  /**
   * Creates the error.
   *
   * @param message The error message.
   * @param options The standard error options (`cause`).
   */
  constructor(
    message = "Cannot receive: the peer closed the connection",
    options?: ErrorOptions,
  ) {
    super(message, options);
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
 * assert.throws(() => decoder.push(new Uint8Array([0xff, 0xff, 0xff, 0xfe])), ProtocolError);
 * ```
 */
export class ProtocolError extends ConnectionError {
  /**
   * Creates the error.
   *
   * @param message The error message.
   * @param options The standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}
