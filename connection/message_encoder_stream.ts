// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Messages to bytes as a `TransformStream`.
 *
 * @module
 */
import { encodeMessage } from "./message_codec.ts";

/**
 * Frames each payload written to it (length prefix + payload, one output
 * chunk per message), the byte layout CPython's `send_bytes` writes.
 *
 * @example Usage
 * ```ts
 * import { MessageEncoderStream } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const out = await Array.fromAsync(
 *   ReadableStream.from([new Uint8Array([9])]).pipeThrough(new MessageEncoderStream()),
 * );
 * assert.deepEqual(out, [new Uint8Array([0, 0, 0, 1, 9])]);
 * ```
 */
export class MessageEncoderStream
  extends TransformStream<Uint8Array, Uint8Array> {
  /** Creates the stream. */
  constructor() {
    super({
      transform(payload, controller): void {
        controller.enqueue(encodeMessage(payload));
      },
    });
  }
}
