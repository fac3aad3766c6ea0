// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The plug point between message bytes and application values.
 *
 * @module
 */

/**
 * Turns application values into message payloads and back. `Connection`
 * uses it in `send()`, `recv()`, its streams and its async iterator;
 * `sendBytes()` and `recvBytes()` never use it.
 *
 * @typeParam T The application value type.
 *
 * @example Usage
 * ```ts
 * import type { MessageCodec } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const textCodec: MessageCodec<string> = {
 *   encode: (value) => new TextEncoder().encode(value),
 *   decode: (bytes) => new TextDecoder().decode(bytes),
 * };
 * assert.equal(textCodec.decode(textCodec.encode("hi")), "hi");
 * ```
 */
export interface MessageCodec<T = unknown> {
  /**
   * Encodes one value as one message payload.
   *
   * @param value The value to encode.
   * @returns The payload bytes.
   */
  encode(value: T): Uint8Array;
  /**
   * Optional: encodes one value as the parts of one payload, in order,
   * their concatenation being what `encode` returns. Large parts may be
   * views of the value's own memory: `Connection.send()` prefers this
   * method and writes such parts without copying them (then it resolves
   * only once they are written, so the value must not change before).
   *
   * @param value The value to encode.
   * @returns The payload's parts.
   */
  encodeChunks?(value: T): Uint8Array[];
  /**
   * Decodes one message payload.
   *
   * @param bytes The payload bytes.
   * @returns The decoded value.
   */
  decode(bytes: Uint8Array): T;
}

/**
 * The identity codec: values are the payload bytes themselves.
 *
 * @example Usage
 * ```ts
 * import { bytesCodec } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([1, 2, 3]);
 * assert.equal(bytesCodec.decode(bytesCodec.encode(bytes)), bytes);
 * ```
 */
export const bytesCodec: MessageCodec<Uint8Array> = {
  encode(value: Uint8Array): Uint8Array {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot encode message: expected a Uint8Array, got ${typeof value}`,
      );
    }
    return value;
  },
  decode(bytes: Uint8Array): Uint8Array {
    return bytes;
  },
};
