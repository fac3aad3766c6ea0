// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Web Streams over the frame codec: bytes to frames and frames to bytes.
 *
 * @module
 */
import { type Frame, MAX_WIRE_PAYLOAD_SIZE } from "./frame_codec.ts";
import { FrameDecoder, type FrameDecoderOptions } from "./frame_decoder.ts";
import { encodeFrameChunks } from "./frame_encoder.ts";

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

/** Options of {@linkcode FrameBatchDecoderStream}. */
export interface FrameBatchDecoderStreamOptions extends FrameDecoderOptions {
  /**
   * How many batches may wait for the reader before the stream stops
   * taking bytes.
   *
   * @default {1}
   */
  highWaterMark?: number;
}

/**
 * Parses a byte stream into batches of frames: one `Frame[]` chunk for
 * each input chunk that completes at least one frame. This is
 * {@linkcode FrameDecoderStream} without the per-frame cost of a stream
 * chunk (about a microsecond per hop, more than decoding a small frame
 * takes), for readers that take many small frames at a time. A stream
 * that ends inside a frame errors with a `FramingError`.
 *
 * Payloads are views of the input chunks where a frame arrived whole, as
 * with {@linkcode FrameDecoder}.
 *
 * @example Usage
 * ```ts
 * import { encodeFrames, FrameBatchDecoderStream } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const f = { requestId: 1, streamId: 1, streamFlags: 0, type: 2, flags: 1, payload: Uint8Array.of(7) };
 * const bytes = encodeFrames([f, f, f]);
 * const batches = await Array.fromAsync(
 *   ReadableStream.from([bytes.subarray(0, 20), bytes.subarray(20)])
 *     .pipeThrough(new FrameBatchDecoderStream()),
 * );
 * assert.deepEqual(batches.map((b) => b.length), [2, 1]);
 * ```
 */
export class FrameBatchDecoderStream
  extends TransformStream<Uint8Array, Frame[]> {
  /**
   * Creates the stream.
   *
   * @param options Limits (largest payload, default 65535) and how many
   * batches may wait for the reader.
   */
  constructor(options: FrameBatchDecoderStreamOptions = {}) {
    const decoder = new FrameDecoder(options);
    super(
      {
        transform(chunk, controller) {
          const frames = decoder.push(chunk);
          if (frames.length > 0) controller.enqueue(frames);
        },
        flush() {
          decoder.finish();
        },
      },
      undefined,
      { highWaterMark: options.highWaterMark ?? 1 },
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
   * How many frames may wait to be encoded (an array counts as its
   * frames), and how many encoded chunks may wait for the reader, before
   * writes wait.
   *
   * @default {16}
   */
  highWaterMark?: number;
}

/**
 * Serializes frames to bytes. Write one frame or an array of frames per
 * chunk: a single small frame becomes one chunk; an array becomes the
 * chunks of {@linkcode encodeFrameChunks} (small frames and headers
 * copied back to back into one buffer, so a batch of small frames costs
 * one stream chunk, not one per frame); a payload of 16 KiB and more is
 * never copied but passed on as a chunk of its own after its header. A
 * chunk may be a region of a larger shared buffer (see
 * {@linkcode encodeFrame}).
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
 *
 * @example Batches of frames
 * ```ts
 * import { FrameEncoderStream } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const f = { requestId: 1, streamId: 2, streamFlags: 0, type: 3, flags: 1, payload: new Uint8Array(64) };
 * const batches = ReadableStream.from([[f, f, f], [f]]);
 * const chunks = await Array.fromAsync(batches.pipeThrough(new FrameEncoderStream()));
 * assert.deepEqual(chunks.map((c) => c.length), [3 * 72, 72]);
 * ```
 */
export class FrameEncoderStream
  extends TransformStream<Frame | readonly Frame[], Uint8Array> {
  /**
   * Creates the stream.
   *
   * @param options Limits.
   */
  constructor(options: FrameEncoderStreamOptions = {}) {
    const max = options.maxPayloadSize ?? MAX_WIRE_PAYLOAD_SIZE;
    const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    // An array counts as its frames, so a batch is not 16 batches' worth.
    const frameCount = {
      highWaterMark,
      size: (chunk: Frame | readonly Frame[]): number =>
        isFrameList(chunk) ? Math.max(1, chunk.length) : 1,
    };
    super(
      {
        transform(input, controller) {
          const chunks = encodeFrameChunks(
            isFrameList(input) ? input : [input],
            max,
          );
          for (let i = 0; i < chunks.length; i++) {
            controller.enqueue(chunks[i]!);
          }
        },
      },
      frameCount,
      { highWaterMark },
    );
  }
}

function isFrameList(x: Frame | readonly Frame[]): x is readonly Frame[] {
  return Array.isArray(x);
}
