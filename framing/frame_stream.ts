// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Web Streams over the frame codec: bytes to frames and frames to bytes.
 *
 * @module
 */
import {
  encodeFrame,
  encodeFrameParts,
  type Frame,
  FrameDecoder,
  type FrameDecoderOptions,
  MAX_WIRE_PAYLOAD_SIZE,
} from "./frame_codec.ts";

/**
 * How many frames the frame streams let wait on each side by default: a
 * little slack, so that producer and consumer do not hand over one frame
 * at a time (the frames are references, not copies).
 */
const DEFAULT_HIGH_WATER_MARK = 16;

/** Options of {@linkcode FrameDecoderStream}. */
export interface FrameDecoderStreamOptions extends FrameDecoderOptions {
  /**
   * How many decoded frames may wait for the reader before the stream
   * stops taking bytes (one pushed chunk may complete more).
   *
   * @default {16}
   */
  highWaterMark?: number;
}

/**
 * Parses a byte stream into frames, whatever the chunking. A stream that
 * ends inside a frame errors with a `FramingError`.
 *
 * @example Usage
 * ```ts
 * import { FrameDecoderStream } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const bytes = ReadableStream.from([Uint8Array.of(1, 0, 0, 1, 0), Uint8Array.of(1, 1, 0x22, 0x61)]);
 * const frames = await Array.fromAsync(bytes.pipeThrough(new FrameDecoderStream()));
 * assert.equal(frames.length, 1);
 * assert.equal(frames[0]?.payload[0], 0x61);
 * ```
 */
export class FrameDecoderStream extends TransformStream<Uint8Array, Frame> {
  /**
   * Creates the stream.
   *
   * @param options Limits (largest payload, default 65535) and how many
   * decoded frames may wait for the reader.
   */
  constructor(options: FrameDecoderStreamOptions = {}) {
    const decoder = new FrameDecoder(options);
    super(
      {
        transform(chunk, controller) {
          const frames = decoder.push(chunk);
          for (let i = 0; i < frames.length; i++) controller.enqueue(frames[i]);
        },
        flush() {
          decoder.finish();
        },
      },
      undefined,
      { highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK },
    );
  }
}

/** Options of {@linkcode FrameEncoderStream}. */
export interface FrameEncoderStreamOptions {
  /**
   * Largest payload allowed in one frame.
   *
   * @default {65535}
   */
  maxPayloadSize?: number;
  /**
   * How many frames may wait to be encoded, and how many encoded chunks
   * may wait for the reader, before writes wait.
   *
   * @default {16}
   */
  highWaterMark?: number;
}

/**
 * Serializes frames to bytes: one chunk per frame, or for payloads of
 * 16 KiB and more the header and the payload as two chunks, so large
 * payloads are never copied. A small frame's chunk may be a region of a
 * larger shared buffer (see {@linkcode encodeFrame}).
 *
 * @example Usage
 * ```ts
 * import { FrameEncoderStream } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const frames = ReadableStream.from([{ requestId: 1, streamId: 2, streamFlags: 0, type: 3, flags: 2, payload: new Uint8Array(0) }]);
 * const [bytes] = await Array.fromAsync(frames.pipeThrough(new FrameEncoderStream()));
 * assert.deepEqual([...bytes!], [0, 0, 0, 1, 0, 2, 0, 0x32]);
 * ```
 */
export class FrameEncoderStream extends TransformStream<Frame, Uint8Array> {
  /**
   * Creates the stream.
   *
   * @param options Limits.
   */
  constructor(options: FrameEncoderStreamOptions = {}) {
    const max = options.maxPayloadSize ?? MAX_WIRE_PAYLOAD_SIZE;
    const strategy = {
      highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
    };
    super(
      {
        transform(frame, controller) {
          if (frame.payload.length >= 16384) {
            const [header, payload] = encodeFrameParts(frame, max);
            controller.enqueue(header);
            controller.enqueue(payload);
          } else {
            controller.enqueue(encodeFrame(frame, max));
          }
        },
      },
      strategy,
      strategy,
    );
  }
}
