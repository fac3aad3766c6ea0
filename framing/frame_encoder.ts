// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Writing frames: one frame, a frame as header and payload, a batch as
 * one buffer or as chunks (large payloads by reference), and a reusable
 * encoder.
 *
 * @module
 */
import { growBytes } from "../_internal/bytes.ts";
import { allocBytes } from "./_byte_pool.ts";
import { copyInto, putHeader, sizeError } from "./_frame_header.ts";
import {
  type Frame,
  FRAME_HEADER_SIZE,
  MAX_PAYLOAD_SIZE_24,
  MAX_WIRE_PAYLOAD_SIZE,
} from "./frame_codec.ts";

/**
 * Writes a frame header into `out` at `offset`.
 *
 * @param out The destination.
 * @param offset Where the 8 header bytes go.
 * @param frame The frame fields; `payloadLength` is written as the length.
 * @param payloadLength The payload length.
 *
 * @example Usage
 * ```ts
 * import { writeFrameHeader } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const h = new Uint8Array(8);
 * writeFrameHeader(h, 0, { requestId: 1, streamId: 1, streamFlags: 1, type: 1, flags: 1 }, 25);
 * assert.deepEqual([...h], [0x19, 0, 0, 1, 0, 1, 1, 0x11]);
 * ```
 */
export function writeFrameHeader(
  out: Uint8Array,
  offset: number,
  frame: Omit<Frame, "payload">,
  payloadLength: number,
): void {
  putHeader(out, offset, frame, payloadLength);
}

/**
 * Encodes one frame (header and payload). A small frame's bytes may be a
 * region of a larger shared buffer (like Node's `Buffer` pool): use
 * `byteOffset` and `byteLength` with `.buffer`, and copy (`slice()`)
 * before transferring it.
 *
 * @param frame The frame.
 * @param maxPayloadSize Largest payload allowed; never above 65535 unless
 * the peer is known to read 24-bit lengths correctly.
 * @returns The frame's bytes.
 * @throws {RangeError} When a field is out of range or the payload is
 * larger than `maxPayloadSize`.
 *
 * @example Usage
 * ```ts
 * import { encodeFrame, FRAME_TYPE } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrame({
 *   requestId: 1, streamId: 2, streamFlags: 0, type: FRAME_TYPE.COMMAND_RESPONSE,
 *   flags: 2, payload: new Uint8Array(0),
 * });
 * assert.deepEqual([...bytes], [0, 0, 0, 1, 0, 2, 0, 0x32]);
 * ```
 */
export function encodeFrame(
  frame: Frame,
  maxPayloadSize: number = MAX_WIRE_PAYLOAD_SIZE,
): Uint8Array {
  const p = frame.payload;
  const n = p.length;
  if (n > maxPayloadSize || n > MAX_PAYLOAD_SIZE_24) {
    throw sizeError(n, maxPayloadSize);
  }
  const out = allocBytes(FRAME_HEADER_SIZE + n);
  putHeader(out, 0, frame, n);
  copyInto(out, FRAME_HEADER_SIZE, p);
  return out;
}

/**
 * Encodes a frame as two parts, its 8-byte header and its payload (the
 * caller's bytes, not copied): write both in order, e.g. with vectored
 * I/O. {@linkcode FrameDecoder} takes the payload as a view when it
 * arrives in one piece after its header. The header may be a region of a
 * larger shared buffer, as with {@linkcode encodeFrame}.
 *
 * @param frame The frame.
 * @param maxPayloadSize Largest payload allowed.
 * @returns `[header, payload]`.
 *
 * @example Usage
 * ```ts
 * import { encodeFrameParts } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const payload = new Uint8Array(32768);
 * const [header, body] = encodeFrameParts({ requestId: 1, streamId: 2, streamFlags: 4, type: 3, flags: 1, payload });
 * assert.equal(header.length, 8);
 * assert.equal(body, payload);
 * ```
 */
export function encodeFrameParts(
  frame: Frame,
  maxPayloadSize: number = MAX_WIRE_PAYLOAD_SIZE,
): [Uint8Array, Uint8Array] {
  const n = frame.payload.length;
  if (n > maxPayloadSize || n > MAX_PAYLOAD_SIZE_24) {
    throw sizeError(n, maxPayloadSize);
  }
  const header = allocBytes(FRAME_HEADER_SIZE);
  putHeader(header, 0, frame, n);
  return [header, frame.payload];
}

/**
 * Payloads of this size and more are passed by reference by
 * {@linkcode encodeFrameChunks} and {@linkcode FrameEncoderStream}: copying
 * them costs more than handing the sink one more chunk.
 *
 * @example Usage
 * ```ts
 * import { ZERO_COPY_MIN_PAYLOAD } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ZERO_COPY_MIN_PAYLOAD, 16384);
 * ```
 */
export const ZERO_COPY_MIN_PAYLOAD = 16384;

/**
 * {@linkcode encodeFrameChunks} starts a new buffer rather than grow one
 * past this size: bounded chunks suit a socket's writes, and small fresh
 * buffers cost less than one large one.
 */
const MAX_COPY_CHUNK = 65536;

/**
 * Encodes frames as a list of chunks to write in order (vectored I/O):
 * headers and payloads under {@linkcode ZERO_COPY_MIN_PAYLOAD} bytes are
 * copied, back to back, into buffers of at most 64 KiB (a frame is never
 * split; one small frame always fits); each larger payload is the
 * caller's own bytes, not copied, as a chunk of its own after the chunk
 * that ends with its header. Small frames thus cost one buffer per 64 KiB,
 * and large ones no copy at all, as with {@linkcode encodeFrameParts}. {@linkcode FrameDecoder} takes a payload
 * that arrives in one piece after its header as a view, so the chunks
 * decode without a copy either.
 *
 * The chunks refer to the large payloads: do not change those until the
 * chunks are written. A chunk may be a region of a larger shared buffer,
 * as with {@linkcode encodeFrame}.
 *
 * @param frames The frames.
 * @param maxPayloadSize Largest payload allowed per frame.
 * @returns The chunks, in order; empty for no frames.
 * @throws {RangeError} When a payload is too large or a field is out of
 * range.
 *
 * @example Usage
 * ```ts
 * import { encodeFrameChunks, FrameDecoder } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const small = { requestId: 1, streamId: 2, streamFlags: 0, type: 3, flags: 1, payload: new Uint8Array(10) };
 * const large = { ...small, payload: new Uint8Array(32768) };
 * const chunks = encodeFrameChunks([small, small, large, small]);
 * // [2 small frames + 1 header], the large payload itself, [1 small frame]
 * assert.deepEqual(chunks.map((c) => c.length), [44, 32768, 18]);
 * assert.equal(chunks[1], large.payload);
 *
 * const d = new FrameDecoder();
 * const frames = chunks.flatMap((c) => d.push(c));
 * assert.deepEqual(frames.map((f) => f.payload.length), [10, 10, 32768, 10]);
 * ```
 */
export function encodeFrameChunks(
  frames: Iterable<Frame>,
  maxPayloadSize: number = MAX_WIRE_PAYLOAD_SIZE,
): Uint8Array[] {
  const list = Array.isArray(frames) ? frames as readonly Frame[] : [...frames];
  const limit = Math.min(maxPayloadSize, MAX_PAYLOAD_SIZE_24);
  // Pass 1: every size is checked before anything is encoded.
  for (let i = 0; i < list.length; i++) {
    const n = list[i]!.payload.length;
    if (n > limit) throw sizeError(n, maxPayloadSize);
  }
  // Pass 2, per run of copied bytes: find where it ends (at a large
  // payload or at MAX_COPY_CHUNK bytes), then fill one buffer for it.
  const chunks: Uint8Array[] = [];
  let i = 0;
  while (i < list.length) {
    let size = 0;
    let j = i;
    let large: Uint8Array | null = null;
    while (j < list.length) {
      const p = list[j]!.payload;
      const big = p.length >= ZERO_COPY_MIN_PAYLOAD;
      const add = FRAME_HEADER_SIZE + (big ? 0 : p.length);
      if (size > 0 && size + add > MAX_COPY_CHUNK) break;
      size += add;
      j++;
      if (big) {
        large = p;
        break;
      }
    }
    const out = allocBytes(size);
    let o = 0;
    for (let k = i; k < j; k++) {
      const f = list[k]!;
      const p = f.payload;
      putHeader(out, o, f, p.length);
      o += FRAME_HEADER_SIZE;
      if (p !== large) {
        copyInto(out, o, p);
        o += p.length;
      }
    }
    chunks.push(out);
    if (large !== null) chunks.push(large);
    i = j;
  }
  return chunks;
}

/**
 * Encodes several frames into one buffer. A small result may be a region
 * of a larger shared buffer, as with {@linkcode encodeFrame}. Every
 * payload is copied; for payloads of 16 KiB and more,
 * {@linkcode encodeFrameChunks} avoids the copy.
 *
 * @param frames The frames.
 * @param maxPayloadSize Largest payload allowed per frame.
 * @returns The concatenated frames.
 *
 * @example Usage
 * ```ts
 * import { encodeFrames } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const f = { requestId: 1, streamId: 1, streamFlags: 0, type: 2, flags: 2, payload: new Uint8Array(1) };
 * assert.equal(encodeFrames([f, f]).length, 18);
 * ```
 */
export function encodeFrames(
  frames: Iterable<Frame>,
  maxPayloadSize: number = MAX_WIRE_PAYLOAD_SIZE,
): Uint8Array {
  const list = Array.isArray(frames) ? frames as readonly Frame[] : [...frames];
  const out = allocBytes(framesSize(list, maxPayloadSize));
  fillFrames(out, list);
  return out;
}

/** Total encoded size of `frames`; throws when a payload is too large. */
function framesSize(frames: readonly Frame[], maxPayloadSize: number): number {
  const limit = Math.min(maxPayloadSize, MAX_PAYLOAD_SIZE_24);
  let total = 0;
  for (let i = 0; i < frames.length; i++) {
    const n = frames[i]!.payload.length;
    if (n > limit) throw sizeError(n, maxPayloadSize);
    total += n;
  }
  return total + FRAME_HEADER_SIZE * frames.length;
}

/** Writes `frames` back to back from the start of `out`. */
function fillFrames(out: Uint8Array, frames: readonly Frame[]): void {
  let o = 0;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    const p = f.payload;
    const n = p.length;
    putHeader(out, o, f, n);
    copyInto(out, o + FRAME_HEADER_SIZE, p);
    o += FRAME_HEADER_SIZE + n;
  }
}

/**
 * Encodes batches of frames into one reused buffer: no allocation per
 * frame and none per batch once the buffer has grown. The returned bytes
 * are a view that stays valid only until the next `encode` call (write or
 * copy them before encoding again).
 *
 * @example Usage
 * ```ts
 * import { FrameEncoder } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const enc = new FrameEncoder();
 * const f = { requestId: 1, streamId: 1, streamFlags: 0, type: 2, flags: 2, payload: Uint8Array.of(9) };
 * assert.equal(enc.encode([f, f]).length, 18);
 * ```
 */
export class FrameEncoder {
  #buf = new Uint8Array(4096);
  #limit: number;
  /**
   * Creates an encoder.
   *
   * @param maxPayloadSize Largest payload allowed per frame.
   */
  constructor(maxPayloadSize: number = MAX_WIRE_PAYLOAD_SIZE) {
    this.#limit = Math.min(maxPayloadSize, MAX_PAYLOAD_SIZE_24);
  }

  /**
   * Encodes frames.
   *
   * @param frames The frames.
   * @returns A view of the encoded bytes, valid until the next call.
   * @throws {RangeError} When a payload is too large or a field is out of
   * range.
   *
   * @example Usage
   * ```ts
   * import { FrameEncoder } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const bytes = new FrameEncoder().encode([
   *   { requestId: 1, streamId: 2, streamFlags: 0, type: 3, flags: 2, payload: new Uint8Array(0) },
   * ]);
   * assert.deepEqual([...bytes], [0, 0, 0, 1, 0, 2, 0, 0x32]);
   * ```
   */
  encode(frames: readonly Frame[]): Uint8Array {
    const total = framesSize(frames, this.#limit);
    if (this.#buf.length < total) this.#buf = growBytes(this.#buf, 0, total);
    fillFrames(this.#buf, frames);
    return this.#buf.subarray(0, total);
  }
}
