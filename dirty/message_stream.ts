// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * A `TransformStream` from bytes to dirty protocol frames.
 *
 * @module
 */

import type { DirtyFrame } from "./message.ts";
import {
  type DirtyMessageDecodeOptions,
  DirtyMessageDecoder,
} from "./message_decoder.ts";

/**
 * Decodes a byte stream (e.g. a socket's `readable`) into frames. Each
 * header is validated as soon as it is complete and the payload size is
 * checked against `maxMessageSize` before its buffer is allocated. A stream
 * that ends inside a message errors with `Incomplete header` /
 * `Incomplete payload`; malformed input errors the stream with a
 * {@linkcode DirtyProtocolError}.
 *
 * @example Usage
 * ```ts
 * import { DirtyMessageDecoderStream, encodeChunk, encodeEnd } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([...encodeChunk(5n, "tok0"), ...encodeEnd(5n)]);
 * const frames = await Array.fromAsync(
 *   ReadableStream.from([bytes.subarray(0, 7), bytes.subarray(7)])
 *     .pipeThrough(new DirtyMessageDecoderStream({ dict: "object" })),
 * );
 * assert.deepEqual(frames.map((f) => [f.type, f.payload]), [
 *   ["chunk", { data: "tok0" }],
 *   ["end", {}],
 * ]);
 * ```
 */
export class DirtyMessageDecoderStream
  extends TransformStream<Uint8Array, DirtyFrame> {
  /**
   * Creates the stream.
   *
   * @param options Payload representation and the maximum message size.
   */
  constructor(options: DirtyMessageDecodeOptions = {}) {
    const decoder = new DirtyMessageDecoder(options);
    super({
      transform(chunk, controller) {
        for (const frame of decoder.push(chunk)) controller.enqueue(frame);
      },
      flush() {
        decoder.finish();
      },
    });
  }
}
