// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Bytes to messages as a `TransformStream`.
 *
 * @module
 */
import { MessageDecoder, type MessageDecoderOptions } from "./message_codec.ts";

/**
 * Splits a byte stream into message payloads (4-byte big-endian length, or
 * `-1` and a 64-bit length). The maximum size is checked on the header,
 * before anything is allocated. The stream errors with a
 * {@linkcode ProtocolError} on a bad length, a length over the maximum, or
 * input that ends inside a message.
 *
 * @example Usage
 * ```ts
 * import { MessageDecoderStream } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const bytes = ReadableStream.from([
 *   new Uint8Array([0, 0, 0, 3, 1, 2]),
 *   new Uint8Array([3, 0, 0, 0, 0]),
 * ]);
 * const messages = await Array.fromAsync(bytes.pipeThrough(new MessageDecoderStream()));
 * assert.deepEqual(messages, [new Uint8Array([1, 2, 3]), new Uint8Array(0)]);
 * ```
 */
export class MessageDecoderStream
  extends TransformStream<Uint8Array, Uint8Array> {
  /**
   * Creates the stream.
   *
   * @param options The maximum message size.
   */
  constructor(options: MessageDecoderOptions = {}) {
    const decoder = new MessageDecoder(options);
    super({
      transform(chunk, controller): void {
        for (const m of decoder.push(chunk)) controller.enqueue(m);
      },
      flush(): void {
        decoder.finish();
      },
    });
  }
}
