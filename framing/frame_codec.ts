// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The hgrpc frame: an 8-byte header (`length:u24le | requestId:u16le |
 * streamId:u8 | streamFlags:u8 | type<<4 | flags`) and a payload. Our reader
 * decodes the 24-bit length correctly (Mercurial misreads lengths of 65536
 * and above); our writer never puts more than 65535 payload bytes in a frame.
 *
 * @module
 */
import { allocBytes } from "./_byte_pool.ts";
import { nameOf, splitFlags } from "./_flag_names.ts";
import { FramingError } from "./errors.ts";

/**
 * Size of a frame header in bytes.
 *
 * @example Usage
 * ```ts
 * import { FRAME_HEADER_SIZE } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(FRAME_HEADER_SIZE, 8);
 * ```
 */
export const FRAME_HEADER_SIZE = 8;
/**
 * Mercurial's split size for payloads (`DEFAULT_MAX_FRAME_SIZE`).
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_MAX_FRAME_SIZE } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_MAX_FRAME_SIZE, 32768);
 * ```
 */
export const DEFAULT_MAX_FRAME_SIZE = 32768;
/**
 * Largest payload ever written, so that Mercurial can read every frame
 * (it misreads lengths of 65536 and above).
 *
 * @example Usage
 * ```ts
 * import { MAX_WIRE_PAYLOAD_SIZE } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_WIRE_PAYLOAD_SIZE, 65535);
 * ```
 */
export const MAX_WIRE_PAYLOAD_SIZE = 65535;
/**
 * Largest payload the 24-bit length can express.
 *
 * @example Usage
 * ```ts
 * import { MAX_PAYLOAD_SIZE_24 } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_PAYLOAD_SIZE_24, 2 ** 24 - 1);
 * ```
 */
export const MAX_PAYLOAD_SIZE_24 = 0xffffff;

/**
 * Frame type ids of the released protocol.
 *
 * @example Usage
 * ```ts
 * import { FRAME_TYPE } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(FRAME_TYPE.COMMAND_RESPONSE, 3);
 * ```
 */
export const FRAME_TYPE = {
  COMMAND_REQUEST: 0x01,
  COMMAND_DATA: 0x02,
  COMMAND_RESPONSE: 0x03,
  ERROR_RESPONSE: 0x05,
  TEXT_OUTPUT: 0x06,
  PROGRESS: 0x07,
  SENDER_PROTOCOL_SETTINGS: 0x08,
  STREAM_SETTINGS: 0x09,
} as const;

/**
 * Stream flags (header byte 6).
 *
 * @example Usage
 * ```ts
 * import { STREAM_FLAG } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(STREAM_FLAG.ENCODED, 4);
 * ```
 */
export const STREAM_FLAG = {
  BEGIN: 0x01,
  END: 0x02,
  ENCODED: 0x04,
} as const;

/**
 * Frame flags, per frame type (low nibble of header byte 7).
 *
 * @example Usage
 * ```ts
 * import { FRAME_FLAG } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(FRAME_FLAG.COMMAND_RESPONSE_EOS, 2);
 * ```
 */
export const FRAME_FLAG = {
  COMMAND_REQUEST_NEW: 0x01,
  COMMAND_REQUEST_CONTINUATION: 0x02,
  COMMAND_REQUEST_MORE_FRAMES: 0x04,
  COMMAND_REQUEST_EXPECT_DATA: 0x08,
  COMMAND_DATA_CONTINUATION: 0x01,
  COMMAND_DATA_EOS: 0x02,
  COMMAND_RESPONSE_CONTINUATION: 0x01,
  COMMAND_RESPONSE_EOS: 0x02,
  SENDER_PROTOCOL_SETTINGS_CONTINUATION: 0x01,
  SENDER_PROTOCOL_SETTINGS_EOS: 0x02,
  STREAM_SETTINGS_CONTINUATION: 0x01,
  STREAM_SETTINGS_EOS: 0x02,
} as const;

/**
 * Frame type names as Mercurial spells them (`FRAME_TYPES`).
 *
 * @example Usage
 * ```ts
 * import { FRAME_TYPE_NAMES } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(FRAME_TYPE_NAMES["stream-settings"], 9);
 * ```
 */
export const FRAME_TYPE_NAMES: Readonly<Record<string, number>> = {
  "command-request": 0x01,
  "command-data": 0x02,
  "command-response": 0x03,
  "error-response": 0x05,
  "text-output": 0x06,
  "progress": 0x07,
  "sender-protocol-settings": 0x08,
  "stream-settings": 0x09,
};

/**
 * Stream flag names as Mercurial spells them (`STREAM_FLAGS`).
 *
 * @example Usage
 * ```ts
 * import { STREAM_FLAG_NAMES } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(STREAM_FLAG_NAMES["stream-begin"], 1);
 * ```
 */
export const STREAM_FLAG_NAMES: Readonly<Record<string, number>> = {
  "stream-begin": 0x01,
  "stream-end": 0x02,
  "encoded": 0x04,
};

/**
 * Flag names per frame type (`FRAME_TYPE_FLAGS`).
 *
 * @example Usage
 * ```ts
 * import { FRAME_TYPE_FLAG_NAMES } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(FRAME_TYPE_FLAG_NAMES[1]?.["have-data"], 8);
 * ```
 */
export const FRAME_TYPE_FLAG_NAMES: Readonly<
  Record<number, Readonly<Record<string, number>>>
> = {
  0x01: { "new": 0x01, "continuation": 0x02, "more": 0x04, "have-data": 0x08 },
  0x02: { "continuation": 0x01, "eos": 0x02 },
  0x03: { "continuation": 0x01, "eos": 0x02 },
  0x05: {},
  0x06: {},
  0x07: {},
  0x08: { "continuation": 0x01, "eos": 0x02 },
  0x09: { "continuation": 0x01, "eos": 0x02 },
};

/** One frame. */
export interface Frame {
  /** Request id (u16). */
  requestId: number;
  /** Stream id (u8). Odd: client to server; even: server to client. */
  streamId: number;
  /** Stream flags (u8), see {@linkcode STREAM_FLAG}. */
  streamFlags: number;
  /** Frame type (4 bits), see {@linkcode FRAME_TYPE}. */
  type: number;
  /** Frame flags (4 bits), see {@linkcode FRAME_FLAG}. */
  flags: number;
  /** The payload, after any stream encoding. */
  payload: Uint8Array;
}

function fieldError(frame: Omit<Frame, "payload">): RangeError {
  const fields: [string, number, number][] = [
    ["request id", frame.requestId, 0xffff],
    ["stream id", frame.streamId, 0xff],
    ["stream flags", frame.streamFlags, 0xff],
    ["frame type", frame.type, 0x0f],
    ["frame flags", frame.flags, 0x0f],
  ];
  for (const [name, v, max] of fields) {
    // `v >>> 0 !== v` catches negatives, fractions, NaN and non-numbers.
    if (v >>> 0 !== v || v > max) {
      return new RangeError(
        `Cannot encode frame: ${name} ${v} is outside 0..${max}`,
      );
    }
  }
  return new RangeError("Cannot encode frame: a field is out of range");
}

function sizeError(n: number, max: number): RangeError {
  return new RangeError(
    `Cannot encode frame: payload of ${n} bytes exceeds the maximum of ${max} bytes`,
  );
}

/**
 * Writes the header of `frame` at `o`, checking every field (one masked
 * compare per field: it fails for negatives, fractions, NaN, non-numbers
 * and values too wide).
 */
function putHeader(
  out: Uint8Array,
  o: number,
  frame: Omit<Frame, "payload">,
  n: number,
): void {
  const r = frame.requestId;
  const s = frame.streamId;
  const sf = frame.streamFlags;
  const t = frame.type;
  const f = frame.flags;
  if (
    (r & 0xffff) !== r || (s & 0xff) !== s || (sf & 0xff) !== sf ||
    (t & 0x0f) !== t || (f & 0x0f) !== f
  ) {
    throw fieldError(frame);
  }
  out[o] = n;
  out[o + 1] = n >>> 8;
  out[o + 2] = n >>> 16;
  out[o + 3] = r;
  out[o + 4] = r >>> 8;
  out[o + 5] = s;
  out[o + 6] = sf;
  out[o + 7] = (t << 4) | f;
}

function copyInto(out: Uint8Array, o: number, p: Uint8Array): void {
  const n = p.length;
  if (n > 16) {
    out.set(p, o);
    return;
  }
  // Tiny payloads: a plain loop beats TypedArray#set's call overhead.
  for (let i = 0; i < n; i++) out[o + i] = p[i]!;
}

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

/** Options of {@linkcode FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * Largest payload accepted; a larger length is refused from the header
   * alone, before anything is buffered.
   *
   * @default {65535}
   */
  maxPayloadSize?: number;
}

/** The one place decoded frames are made, so they all share one shape. */
function makeFrame(
  requestId: number,
  streamId: number,
  streamFlags: number,
  typeFlags: number,
  payload: Uint8Array,
): Frame {
  return {
    requestId,
    streamId,
    streamFlags,
    type: typeFlags >> 4,
    flags: typeFlags & 0x0f,
    payload,
  };
}

/**
 * Incremental frame reader: feed bytes in any pieces, get whole frames.
 * A frame that lies inside one pushed chunk gets a zero-copy view of that
 * chunk as its payload (do not reuse a pushed buffer while its frames are
 * in use), as does a payload pushed whole after its header; a frame
 * otherwise spanning chunks gets its own copy (a small one may be a region
 * of a larger shared buffer, as with {@linkcode encodeFrame}).
 *
 * @example Usage
 * ```ts
 * import { FrameDecoder } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const d = new FrameDecoder();
 * assert.deepEqual(d.push(Uint8Array.of(1, 0, 0, 1, 0, 1, 1)), []);
 * const [f] = d.push(Uint8Array.of(0x22, 0x61));
 * assert.equal(f?.type, 2);
 * assert.deepEqual([...f!.payload], [0x61]);
 * ```
 */
export class FrameDecoder {
  #max: number;
  /** Header bytes of the incomplete frame. */
  #head = new Uint8Array(FRAME_HEADER_SIZE);
  /** How many of them arrived. */
  #headLen = 0;
  /** Payload of the incomplete frame, once its header is complete. */
  #body: Uint8Array | null = null;
  /** How many payload bytes arrived. */
  #bodyLen = 0;
  /**
   * Creates a reader.
   *
   * @param options Limits.
   */
  constructor(options: FrameDecoderOptions = {}) {
    this.#max = Math.min(
      options.maxPayloadSize ?? MAX_WIRE_PAYLOAD_SIZE,
      MAX_PAYLOAD_SIZE_24,
    );
  }

  /**
   * Number of buffered bytes of an incomplete frame.
   *
   * @returns The byte count.
   *
   * @example Usage
   * ```ts
   * import { FrameDecoder } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const d = new FrameDecoder();
   * d.push(Uint8Array.of(0, 0));
   * assert.equal(d.pending, 2);
   * ```
   */
  get pending(): number {
    return this.#headLen + this.#bodyLen;
  }

  /**
   * Feeds bytes; returns the frames they complete.
   *
   * @param chunk The next bytes.
   * @returns Completed frames, in order.
   * @throws {FramingError} When a header announces a payload above the
   * limit.
   *
   * @example Usage
   * ```ts
   * import { FrameDecoder } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const d = new FrameDecoder();
   * assert.equal(d.push(new Uint8Array(16)).length, 2);
   * ```
   */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    const end = chunk.length;
    let pos = 0;
    if (this.#headLen > 0) {
      pos = this.#resume(chunk, frames);
      if (this.#headLen > 0) return frames;
    }
    // Whole frames inside the chunk: payloads are views of it.
    const max = this.#max;
    const buffer = chunk.buffer;
    const base = chunk.byteOffset;
    while (end - pos >= FRAME_HEADER_SIZE) {
      const n = chunk[pos]! | (chunk[pos + 1]! << 8) | (chunk[pos + 2]! << 16);
      if (n > max) throw this.#tooLarge(n);
      const p = pos + FRAME_HEADER_SIZE;
      if (end - p < n) break;
      frames.push(makeFrame(
        chunk[pos + 3]! | (chunk[pos + 4]! << 8),
        chunk[pos + 5]!,
        chunk[pos + 6]!,
        chunk[pos + 7]!,
        new Uint8Array(buffer, base + p, n),
      ));
      pos = p + n;
    }
    if (pos < end) this.#resume(chunk.subarray(pos), frames);
    return frames;
  }

  /**
   * Continues the incomplete frame with `chunk`; returns how many bytes
   * it used. The frame is complete (and pushed) when `#headLen` is 0 again.
   */
  #resume(chunk: Uint8Array, frames: Frame[]): number {
    const head = this.#head;
    let pos = 0;
    if (this.#headLen < FRAME_HEADER_SIZE) {
      while (this.#headLen < FRAME_HEADER_SIZE && pos < chunk.length) {
        head[this.#headLen++] = chunk[pos++]!;
      }
      if (this.#headLen < FRAME_HEADER_SIZE) return pos;
    }
    let body = this.#body;
    if (body === null) {
      // Checked here, right after the header completes and on every later
      // push, so a refused frame is never delivered.
      const n = head[0]! | (head[1]! << 8) | (head[2]! << 16);
      if (n > this.#max) throw this.#tooLarge(n);
      if (chunk.length - pos >= n) {
        // The rest of the chunk holds the whole payload (as when header
        // and payload are written separately): take a view, no copy.
        this.#emit(
          frames,
          new Uint8Array(chunk.buffer, chunk.byteOffset + pos, n),
        );
        return pos + n;
      }
      // Only the header so far: wait for the payload before copying.
      if (pos === chunk.length) return pos;
      body = this.#body = allocBytes(n);
      this.#bodyLen = 0;
    }
    const take = Math.min(body.length - this.#bodyLen, chunk.length - pos);
    if (take > 0) {
      body.set(chunk.subarray(pos, pos + take), this.#bodyLen);
      this.#bodyLen += take;
      pos += take;
    }
    if (this.#bodyLen === body.length) {
      this.#body = null;
      this.#bodyLen = 0;
      this.#emit(frames, body);
    }
    return pos;
  }

  #emit(frames: Frame[], payload: Uint8Array): void {
    const h = this.#head;
    this.#headLen = 0;
    frames.push(makeFrame(h[3]! | (h[4]! << 8), h[5]!, h[6]!, h[7]!, payload));
  }

  #tooLarge(n: number): FramingError {
    return new FramingError(
      `Cannot read frame: payload of ${n} bytes exceeds the maximum of ${this.#max} bytes`,
    );
  }

  /**
   * Checks that input ended on a frame boundary.
   *
   * @throws {FramingError} With Mercurial's `readframe` messages when bytes
   * of an incomplete frame are left.
   *
   * @example Usage
   * ```ts
   * import { FrameDecoder, FramingError } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const d = new FrameDecoder();
   * d.push(Uint8Array.of(1, 2));
   * assert.throws(() => d.finish(), FramingError);
   * ```
   */
  finish(): void {
    if (this.#headLen === 0) return;
    if (this.#headLen < FRAME_HEADER_SIZE) {
      throw new FramingError(
        `received incomplete frame: got ${this.#headLen} bytes`,
      );
    }
    throw new FramingError(
      `frame length error: expected ${
        this.#head[0]! | (this.#head[1]! << 8) | (this.#head[2]! << 16)
      }; got ${this.#bodyLen}`,
    );
  }
}

/**
 * Decodes a buffer holding whole frames only.
 *
 * @param bytes The bytes.
 * @param options Limits.
 * @returns The frames.
 * @throws {FramingError} On a truncated frame or an oversized length.
 *
 * @example Usage
 * ```ts
 * import { decodeFrames } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeFrames(new Uint8Array(8))[0]?.payload.length, 0);
 * ```
 */
export function decodeFrames(
  bytes: Uint8Array,
  options: FrameDecoderOptions = {},
): Frame[] {
  const d = new FrameDecoder(options);
  const frames = d.push(bytes);
  d.finish();
  return frames;
}

function flagNames(
  value: number,
  names: Readonly<Record<string, number>>,
): string {
  const { names: out, rest } = splitFlags(value, names);
  for (let bit = 1; bit <= 0x80; bit <<= 1) {
    if (rest & bit) {
      out.push(`<unknown 0x${bit.toString(16).padStart(2, "0")}>`);
    }
  }
  return out.join("|");
}

/**
 * Describes a frame the way Mercurial's debug output does:
 * `frame(size=N; request=R; stream=S; streamflags=...; type=...; flags=...)`.
 *
 * @param frame The frame.
 * @returns The description.
 *
 * @example Usage
 * ```ts
 * import { describeFrame } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   describeFrame({ requestId: 1, streamId: 1, streamFlags: 1, type: 1, flags: 1, payload: new Uint8Array(3) }),
 *   "frame(size=3; request=1; stream=1; streamflags=stream-begin; type=command-request; flags=new)",
 * );
 * ```
 */
export function describeFrame(frame: Frame): string {
  const typeName = nameOf(frame.type, FRAME_TYPE_NAMES) ??
    `<unknown 0x${frame.type.toString(16).padStart(2, "0")}>`;
  return `frame(size=${frame.payload.length}; request=${frame.requestId}; stream=${frame.streamId}; streamflags=${
    flagNames(frame.streamFlags, STREAM_FLAG_NAMES)
  }; type=${typeName}; flags=${
    flagNames(frame.flags, FRAME_TYPE_FLAG_NAMES[frame.type] ?? {})
  })`;
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
    if (this.#buf.length < total) {
      let size = this.#buf.length * 2;
      while (size < total) size *= 2;
      this.#buf = new Uint8Array(size);
    }
    fillFrames(this.#buf, frames);
    return this.#buf.subarray(0, total);
  }
}

/** Header fields and payload position of a frame seen by {@linkcode scanFrames}. */
export interface FrameHeader {
  /** Request id. */
  requestId: number;
  /** Stream id. */
  streamId: number;
  /** Stream flags. */
  streamFlags: number;
  /** Frame type. */
  type: number;
  /** Frame flags. */
  flags: number;
  /** Offset of the payload in the scanned buffer. */
  payloadOffset: number;
  /** Payload length. */
  payloadLength: number;
}

/**
 * Visits the complete frames at the start of a buffer without allocating:
 * `visit` gets one reused header object per frame (read it, do not keep
 * it). Stops at the first incomplete frame.
 *
 * @param bytes The buffer.
 * @param visit Called for each complete frame.
 * @param maxPayloadSize Largest payload accepted.
 * @returns The number of bytes consumed (whole frames only).
 * @throws {FramingError} When a header announces a payload above the
 * limit.
 *
 * @example Usage
 * ```ts
 * import { scanFrames } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const types: number[] = [];
 * const used = scanFrames(Uint8Array.of(1, 0, 0, 1, 0, 1, 1, 0x22, 0x61, 0, 0), (h) => types.push(h.type));
 * assert.deepEqual([types, used], [[2], 9]);
 * ```
 */
export function scanFrames(
  bytes: Uint8Array,
  visit: (header: FrameHeader) => void,
  maxPayloadSize: number = MAX_WIRE_PAYLOAD_SIZE,
): number {
  const h: FrameHeader = {
    requestId: 0,
    streamId: 0,
    streamFlags: 0,
    type: 0,
    flags: 0,
    payloadOffset: 0,
    payloadLength: 0,
  };
  const end = bytes.length;
  let pos = 0;
  while (end - pos >= FRAME_HEADER_SIZE) {
    const n = bytes[pos]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16);
    if (n > maxPayloadSize) {
      throw new FramingError(
        `Cannot read frame: payload of ${n} bytes exceeds the maximum of ${maxPayloadSize} bytes`,
      );
    }
    if (end - pos - FRAME_HEADER_SIZE < n) break;
    h.requestId = bytes[pos + 3]! | (bytes[pos + 4]! << 8);
    h.streamId = bytes[pos + 5]!;
    h.streamFlags = bytes[pos + 6]!;
    h.type = bytes[pos + 7]! >> 4;
    h.flags = bytes[pos + 7]! & 0x0f;
    h.payloadOffset = pos + FRAME_HEADER_SIZE;
    h.payloadLength = n;
    visit(h);
    pos += FRAME_HEADER_SIZE + n;
  }
  return pos;
}
