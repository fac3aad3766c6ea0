// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Reading frames: an incremental decoder that takes bytes in any pieces,
 * checks every announced length before buffering anything, and reports
 * input that ends inside a frame with Mercurial's `readframe` messages.
 *
 * @module
 */
import { allocBytes } from "./_byte_pool.ts";
import { ProtocolError } from "./errors.ts";
import {
  type Frame,
  FRAME_FLAG,
  FRAME_HEADER_SIZE,
  FRAME_TYPE,
  type FrameHeader,
  MAX_PAYLOAD_SIZE_24,
  MAX_WIRE_PAYLOAD_SIZE,
  STREAM_FLAG,
} from "./frame_codec.ts";

/** Options of {@linkcode FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * Largest payload accepted; a larger length is refused from the header
   * alone, before anything is buffered.
   *
   * @default {65535}
   */
  maxPayloadSize?: number;
  /**
   * Largest payload accepted in a frame that may carry an error, which
   * Mercurial never splits however long the error: an `error-response`
   * frame, and a `command-response` frame with `eos` whose stream is not
   * encoded (a command error is one such frame, e.g. 70,048 bytes for an
   * argument of 70,000). The default takes any frame Mercurial can write
   * (its lengths have 24 bits).
   *
   * @default {16777215}
   */
  maxErrorPayloadSize?: number;
  /**
   * What a frame over its limit does: `"throw"` a
   * {@linkcode ProtocolError} (code `"FRAME_TOO_LARGE"`) from `push()`,
   * or `"skip"` it: its payload is not kept, and `push()` returns it as
   * {@linkcode OversizedFrame} pieces instead (one per pushed chunk it
   * spans), so that the frames after it still decode and a reader can
   * fail just the request it belongs to.
   *
   * @default {"throw"}
   */
  oversized?: "throw" | "skip";
}

/**
 * A piece of a frame over its limit, from a {@linkcode FrameDecoder} made
 * with `oversized: "skip"`: the header's fields and the payload bytes of
 * one pushed chunk (a view of it; the bytes are not kept). A reader fails
 * the frame's request and, for an encoded stream, still passes the pieces
 * through the stream's decoder so that the stream stays in step.
 *
 * @example Usage
 * ```ts
 * import { FrameDecoder, OversizedFrame } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const d = new FrameDecoder({ maxPayloadSize: 2, oversized: "skip" });
 * // A command-response continuation of 3 bytes, in two pushes.
 * const [piece] = d.push(Uint8Array.of(3, 0, 0, 1, 0, 2, 0, 0x31, 7, 7));
 * assert.ok(piece instanceof OversizedFrame);
 * assert.deepEqual([piece.payloadLength, piece.isFirst, piece.isLast], [3, true, false]);
 * // Its last byte, then a frame within the limit.
 * const [last, next] = d.push(Uint8Array.of(7, 0, 0, 0, 3, 0, 2, 0, 0x32));
 * assert.ok(last instanceof OversizedFrame && last.isLast);
 * assert.equal(next?.payload.length, 0);
 * ```
 */
export class OversizedFrame implements Frame {
  /** Request id. */
  readonly requestId: number;
  /** Stream id. */
  readonly streamId: number;
  /** Stream flags. */
  readonly streamFlags: number;
  /** Frame type. */
  readonly type: number;
  /** Frame flags. */
  readonly flags: number;
  /** This piece of the payload. */
  readonly payload: Uint8Array;
  /** The payload length the header announced. */
  readonly payloadLength: number;
  /** Where this piece starts in the payload. */
  readonly offset: number;
  /** The limit the frame is over. */
  readonly limit: number;
  /** Whether this is the frame's first piece (it may be empty). */
  readonly isFirst: boolean;
  /** Whether this is the frame's last piece. */
  readonly isLast: boolean;

  /**
   * Made by {@linkcode FrameDecoder}.
   *
   * @param header The frame's header fields.
   * @param payload This piece.
   * @param offset Where the piece starts in the payload.
   * @param limit The limit the frame is over.
   * @param isFirst Whether this is the first piece.
   */
  constructor(
    header: Omit<FrameHeader, "payloadOffset">,
    payload: Uint8Array,
    offset: number,
    limit: number,
    isFirst: boolean,
  ) {
    this.requestId = header.requestId;
    this.streamId = header.streamId;
    this.streamFlags = header.streamFlags;
    this.type = header.type;
    this.flags = header.flags;
    this.payloadLength = header.payloadLength;
    this.payload = payload;
    this.offset = offset;
    this.limit = limit;
    this.isFirst = isFirst;
    this.isLast = offset + payload.length === header.payloadLength;
  }
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

/** Whether a frame may carry an error that Mercurial never splits. */
function mayCarryError(streamFlags: number, typeFlags: number): boolean {
  const type = typeFlags >> 4;
  if (type === FRAME_TYPE.ERROR_RESPONSE) return true;
  return type === FRAME_TYPE.COMMAND_RESPONSE &&
    (typeFlags & FRAME_FLAG.COMMAND_RESPONSE_EOS) !== 0 &&
    (streamFlags & STREAM_FLAG.ENCODED) === 0;
}

function tooLarge(n: number, limit: number): ProtocolError {
  return new ProtocolError(
    `Cannot read frame: payload of ${n} bytes exceeds the maximum of ${limit} bytes`,
    { code: "FRAME_TOO_LARGE" },
  );
}

function clampLimit(value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !(v >= 0)) {
    throw new RangeError(
      `Cannot create frame decoder: limit ${String(v)} is not a number >= 0`,
    );
  }
  return Math.min(v, MAX_PAYLOAD_SIZE_24);
}

const enum State {
  /** Between frames. */
  Idle,
  /** Inside a header. */
  Head,
  /** Header done, inside the payload. */
  Body,
  /** Skipping the payload of a frame over its limit. */
  Skip,
}

/**
 * Incremental frame reader: feed bytes in any pieces, get whole frames.
 * A frame that lies inside one pushed chunk gets a zero-copy view of that
 * chunk as its payload (do not reuse a pushed buffer while its frames are
 * in use), as does a payload pushed whole after its header; a frame
 * otherwise spanning chunks gets its own copy (a small one may be a region
 * of a larger shared buffer, as with `encodeFrame`). Every length is
 * checked against its limit from the header alone, before anything is
 * buffered; time and memory are linear in the input whatever it holds.
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
  #maxError: number;
  /** The smaller limit: lengths up to it need no further check. */
  #low: number;
  #skip: boolean;
  #state = State.Idle;
  /** Header bytes of the incomplete frame. */
  #head = new Uint8Array(FRAME_HEADER_SIZE);
  /** How many of them arrived. */
  #headLen = 0;
  /** Payload length of the incomplete frame. */
  #length = 0;
  /** Payload of the incomplete frame, once its bytes span chunks. */
  #body: Uint8Array | null = null;
  /** How many payload bytes arrived (or were skipped). */
  #bodyLen = 0;
  /** The limit an oversized frame being skipped is over. */
  #skipLimit = 0;
  /** The error thrown for an oversized frame: every later call throws it. */
  #error: ProtocolError | null = null;

  /**
   * Creates a reader.
   *
   * @param options Limits, and what a frame over them does.
   */
  constructor(options: FrameDecoderOptions = {}) {
    this.#max = clampLimit(options.maxPayloadSize, MAX_WIRE_PAYLOAD_SIZE);
    this.#maxError = clampLimit(
      options.maxErrorPayloadSize,
      MAX_PAYLOAD_SIZE_24,
    );
    this.#low = Math.min(this.#max, this.#maxError);
    this.#skip = options.oversized === "skip";
  }

  /**
   * Number of buffered bytes of an incomplete frame (a frame being
   * skipped holds none of its payload).
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
    return this.#state === State.Skip
      ? this.#headLen
      : this.#headLen + this.#bodyLen;
  }

  /** The limit of a frame with these header bytes. */
  #limitFor(streamFlags: number, typeFlags: number): number {
    return mayCarryError(streamFlags, typeFlags) ? this.#maxError : this.#max;
  }

  /**
   * Feeds bytes; returns the frames they complete.
   *
   * @param chunk The next bytes.
   * @returns Completed frames, in order (and, with `oversized: "skip"`,
   * {@linkcode OversizedFrame} pieces in their place).
   * @throws {ProtocolError} Code `"FRAME_TOO_LARGE"` when a header
   * announces a payload above its limit (unless such frames are skipped);
   * the decoder then throws it again on every call.
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
    if (this.#error !== null) throw this.#error;
    const frames: Frame[] = [];
    const end = chunk.length;
    let pos = 0;
    if (this.#state !== State.Idle) {
      pos = this.#continue(chunk, 0, frames);
      if (this.#busy()) return frames;
    }
    // Whole frames inside the chunk: payloads are views of it.
    const low = this.#low;
    const buffer = chunk.buffer;
    const base = chunk.byteOffset;
    while (end - pos >= FRAME_HEADER_SIZE) {
      const n = chunk[pos]! | (chunk[pos + 1]! << 8) | (chunk[pos + 2]! << 16);
      if (n > low) {
        const limit = this.#limitFor(chunk[pos + 6]!, chunk[pos + 7]!);
        if (n > limit) {
          // Through the slow path, which skips or throws.
          break;
        }
      }
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
    while (pos < end) {
      this.#state = State.Head;
      pos = this.#continue(chunk, pos, frames);
      if (this.#busy()) break;
    }
    return frames;
  }

  /** Whether a frame is incomplete. */
  #busy(): boolean {
    return this.#state !== State.Idle;
  }

  /**
   * Continues the incomplete frame with `chunk` from `pos`; returns where
   * it stopped. The frame is complete (and pushed) when the state is
   * `Idle` again.
   */
  #continue(chunk: Uint8Array, pos: number, frames: Frame[]): number {
    const end = chunk.length;
    const head = this.#head;
    if (this.#state === State.Head) {
      while (this.#headLen < FRAME_HEADER_SIZE && pos < end) {
        head[this.#headLen++] = chunk[pos++]!;
      }
      if (this.#headLen < FRAME_HEADER_SIZE) return pos;
      const n = head[0]! | (head[1]! << 8) | (head[2]! << 16);
      this.#length = n;
      this.#bodyLen = 0;
      this.#body = null;
      const limit = this.#limitFor(head[6]!, head[7]!);
      if (n > limit) {
        if (!this.#skip) throw this.#error = tooLarge(n, limit);
        this.#state = State.Skip;
        this.#skipLimit = limit;
        return this.#skipPiece(chunk, pos, frames, true);
      }
      this.#state = State.Body;
    }
    if (this.#state === State.Skip) {
      return this.#skipPiece(chunk, pos, frames, false);
    }
    const n = this.#length;
    let body = this.#body;
    if (body === null) {
      if (end - pos >= n) {
        // The rest of the chunk holds the whole payload (as when header
        // and payload are written separately): take a view, no copy.
        this.#emit(
          frames,
          new Uint8Array(chunk.buffer, chunk.byteOffset + pos, n),
        );
        return pos + n;
      }
      // Only the header so far: wait for the payload before copying.
      if (pos === end) return pos;
      body = this.#body = allocBytes(n);
    }
    const take = Math.min(n - this.#bodyLen, end - pos);
    body.set(chunk.subarray(pos, pos + take), this.#bodyLen);
    this.#bodyLen += take;
    pos += take;
    if (this.#bodyLen === n) {
      this.#body = null;
      this.#emit(frames, body);
    }
    return pos;
  }

  /** Passes on the next piece of a skipped frame. */
  #skipPiece(
    chunk: Uint8Array,
    pos: number,
    frames: Frame[],
    first: boolean,
  ): number {
    const take = Math.min(this.#length - this.#bodyLen, chunk.length - pos);
    if (take === 0 && !first) return pos;
    const h = this.#head;
    frames.push(
      new OversizedFrame(
        {
          requestId: h[3]! | (h[4]! << 8),
          streamId: h[5]!,
          streamFlags: h[6]!,
          type: h[7]! >> 4,
          flags: h[7]! & 0x0f,
          payloadLength: this.#length,
        },
        chunk.subarray(pos, pos + take),
        this.#bodyLen,
        this.#skipLimit,
        first,
      ),
    );
    this.#bodyLen += take;
    if (this.#bodyLen === this.#length) {
      this.#headLen = 0;
      this.#bodyLen = 0;
      this.#state = State.Idle;
    }
    return pos + take;
  }

  #emit(frames: Frame[], payload: Uint8Array): void {
    const h = this.#head;
    this.#headLen = 0;
    this.#bodyLen = 0;
    this.#state = State.Idle;
    frames.push(makeFrame(h[3]! | (h[4]! << 8), h[5]!, h[6]!, h[7]!, payload));
  }

  /**
   * Checks that input ended on a frame boundary.
   *
   * @throws {ProtocolError} Code `"INCOMPLETE_FRAME"`, with Mercurial's
   * `readframe` messages, when bytes of an incomplete frame are left.
   *
   * @example Usage
   * ```ts
   * import { FrameDecoder, ProtocolError } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const d = new FrameDecoder();
   * d.push(Uint8Array.of(0x19, 0, 0, 1, 0, 1, 1, 0x11, 0xa2, 0x44));
   * assert.throws(() => d.finish(), (e) =>
   *   e instanceof ProtocolError && e.code === "INCOMPLETE_FRAME" &&
   *   e.message === "frame length error: expected 25; got 2");
   * ```
   */
  finish(): void {
    if (this.#error !== null) throw this.#error;
    if (this.#state === State.Idle) return;
    if (this.#state === State.Head) {
      throw new ProtocolError(
        `received incomplete frame: got ${this.#headLen} bytes: ${
          escapeBytes(this.#head, this.#headLen)
        }`,
        { code: "INCOMPLETE_FRAME" },
      );
    }
    throw new ProtocolError(
      `frame length error: expected ${this.#length}; got ${this.#bodyLen}`,
      { code: "INCOMPLETE_FRAME" },
    );
  }
}

/**
 * The bytes Mercurial prints after `got N bytes:` (its 8-byte header
 * buffer, zero-filled past what arrived), escaped as Python escapes bytes.
 */
function escapeBytes(head: Uint8Array, n: number): string {
  let out = "";
  for (let i = 0; i < FRAME_HEADER_SIZE; i++) {
    const b = i < n ? head[i]! : 0;
    out += b >= 0x20 && b < 0x7f && b !== 0x5c
      ? String.fromCharCode(b)
      : `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/**
 * Decodes a buffer holding whole frames only.
 *
 * @param bytes The bytes.
 * @param options Limits.
 * @returns The frames.
 * @throws {ProtocolError} On a truncated frame (`"INCOMPLETE_FRAME"`) or
 * an oversized length (`"FRAME_TOO_LARGE"`).
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

/**
 * Visits the complete frames at the start of a buffer without allocating:
 * `visit` gets one reused header object per frame (read it, do not keep
 * it). Stops at the first incomplete frame.
 *
 * @param bytes The buffer.
 * @param visit Called for each complete frame.
 * @param maxPayloadSize Largest payload accepted.
 * @returns The number of bytes consumed (whole frames only).
 * @throws {ProtocolError} Code `"FRAME_TOO_LARGE"` when a header
 * announces a payload above the limit.
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
    if (n > maxPayloadSize) throw tooLarge(n, maxPayloadSize);
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
