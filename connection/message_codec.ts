// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Sans-I/O length-prefix framing of `multiprocessing.connection`: a 4-byte
 * signed big-endian length, or `-1` followed by an unsigned 64-bit
 * big-endian length for payloads over `0x7fffffff` bytes.
 *
 * @module
 */
import { ProtocolError } from "./errors.ts";

/** The largest payload length written with the 4-byte header (`0x7fffffff`). */
export const MAX_SHORT_LENGTH = 0x7fffffff;

/**
 * The default maximum payload size accepted by decoders and connections:
 * 256 MiB. CPython has no limit; pass `Infinity` to lift ours.
 */
export const DEFAULT_MAX_MESSAGE_SIZE: number = 256 * 1024 * 1024;

/** A decoded message header. */
export interface MessageHeader {
  /** The payload length in bytes. */
  size: number;
  /** The header length in bytes: 4, or 12 with the 64-bit extension. */
  headerLength: number;
}

/**
 * Encodes the header for a payload of `size` bytes. The 64-bit extension is
 * written only when `size > 0x7fffffff`, as CPython 3.8+ does.
 *
 * @param size The payload length.
 * @returns The 4-byte or 12-byte header.
 *
 * @example Usage
 * ```ts
 * import { encodeHeader } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeHeader(5), new Uint8Array([0, 0, 0, 5]));
 * assert.equal(encodeHeader(2 ** 31).length, 12);
 * ```
 */
export function encodeHeader(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size <= MAX_SHORT_LENGTH ? 4 : 12);
  encodeHeaderInto(size, out);
  return out;
}

/**
 * Writes the header for a payload of `size` bytes into `target` at
 * `offset`, as {@linkcode encodeHeader} encodes it, without allocating.
 *
 * @param size The payload length.
 * @param target Where to write (4 bytes, or 12 when `size > 0x7fffffff`).
 * @param offset Where the header starts.
 * @returns The header length: 4 or 12.
 *
 * @example Usage
 * ```ts
 * import { encodeHeaderInto } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const frame = new Uint8Array(6);
 * assert.equal(encodeHeaderInto(2, frame), 4);
 * frame.set([7, 8], 4);
 * assert.deepEqual(frame, new Uint8Array([0, 0, 0, 2, 7, 8]));
 * ```
 */
export function encodeHeaderInto(
  size: number,
  target: Uint8Array,
  offset = 0,
): 4 | 12 {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`Cannot encode header: invalid length ${size}`);
  }
  if (size <= MAX_SHORT_LENGTH) {
    if (target.length - offset < 4) throw headerRoom(4);
    writeUint32(target, offset, size);
    return 4;
  }
  if (target.length - offset < 12) throw headerRoom(12);
  writeUint32(target, offset, 0xffffffff);
  writeUint32(target, offset + 4, Math.floor(size / 0x100000000));
  writeUint32(target, offset + 8, size >>> 0);
  return 12;
}

function headerRoom(n: number): RangeError {
  return new RangeError(`Cannot encode header: ${n} bytes of room needed`);
}

/**
 * Encodes one complete message (header and payload) in a new buffer.
 *
 * @param payload The payload.
 * @returns The framed message.
 *
 * @example Usage
 * ```ts
 * import { encodeMessage } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const frame = encodeMessage(new TextEncoder().encode("hello"));
 * assert.deepEqual(frame, new Uint8Array([0, 0, 0, 5, 104, 101, 108, 108, 111]));
 * ```
 */
export function encodeMessage(payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const n = payload.length;
  if (n <= MAX_SHORT_LENGTH) {
    const out = new Uint8Array(4 + n);
    writeUint32(out, 0, n);
    out.set(payload, 4);
    return out;
  }
  const header = encodeHeader(n);
  const out = new Uint8Array(header.length + n);
  out.set(header, 0);
  out.set(payload, header.length);
  return out;
}

/**
 * Decodes a header at `offset`. Returns `undefined` when more bytes are
 * needed. The `-1` + uint64 form is accepted for any size, as CPython does.
 *
 * @param bytes The buffered bytes.
 * @param offset Where the header starts.
 * @param end Where the buffered bytes end (default `bytes.length`).
 * @returns The header, or `undefined` if incomplete.
 * @throws {ProtocolError} For a negative length other than `-1` (CPython
 * reads it as an empty message) or a 64-bit length over 2^53 - 1.
 *
 * @example Usage
 * ```ts
 * import { decodeHeader } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeHeader(new Uint8Array([0, 0, 1, 0])), { size: 256, headerLength: 4 });
 * assert.equal(decodeHeader(new Uint8Array([0, 0])), undefined);
 * ```
 */
export function decodeHeader(
  bytes: Uint8Array,
  offset = 0,
  end: number = bytes.length,
): MessageHeader | undefined {
  if (end - offset < 4) return undefined;
  const first = readUint32(bytes, offset);
  if (first <= MAX_SHORT_LENGTH) return { size: first, headerLength: 4 };
  if (first !== 0xffffffff) {
    throw new ProtocolError(
      `Cannot decode message header: negative length ${first | 0}`,
      { code: "BAD_LENGTH" },
    );
  }
  if (end - offset < 12) return undefined;
  const hi = readUint32(bytes, offset + 4);
  const lo = readUint32(bytes, offset + 8);
  if (hi > 0x1fffff) {
    throw new ProtocolError(
      `Cannot decode message header: 64-bit length 0x${hi.toString(16)}${
        lo.toString(16).padStart(8, "0")
      } is too large`,
      { code: "BAD_LENGTH" },
    );
  }
  return { size: hi * 0x100000000 + lo, headerLength: 12 };
}

/** Options of {@linkcode MessageDecoder}. */
export interface MessageDecoderOptions {
  /**
   * The largest payload accepted. Checked on the header, before the payload
   * is buffered or allocated.
   *
   * @default {256 * 1024 * 1024}
   */
  maxMessageSize?: number;
}

/**
 * A push decoder: feed it chunks of any size, get back the complete
 * payloads. Payloads that lie inside one chunk are returned as views into
 * that chunk (no copy); payloads spread over chunks are assembled in a
 * buffer allocated once at the announced size.
 *
 * @example Usage
 * ```ts
 * import { MessageDecoder } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const decoder = new MessageDecoder();
 * assert.deepEqual(decoder.push(new Uint8Array([0, 0, 0, 2, 7])), []);
 * assert.deepEqual(decoder.push(new Uint8Array([8, 0, 0, 0, 0])), [
 *   new Uint8Array([7, 8]),
 *   new Uint8Array([]),
 * ]);
 * decoder.finish(); // at a message boundary: no error
 * ```
 */
export class MessageDecoder {
  #max: number;
  #header = new Uint8Array(12);
  #headerLen = 0;
  #payload: Uint8Array | null = null;
  #filled = 0;

  /**
   * Creates a decoder.
   *
   * @param options The decoder options.
   */
  constructor(options: MessageDecoderOptions = {}) {
    this.#max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (!(this.#max >= 0)) {
      throw new RangeError(
        `Cannot create decoder: invalid maxMessageSize ${this.#max}`,
      );
    }
  }

  /**
   * True when no partial message is buffered.
   *
   * @returns Whether the decoder is at a message boundary.
   *
   * @example Usage
   * ```ts
   * import { MessageDecoder } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const decoder = new MessageDecoder();
   * decoder.push(new Uint8Array([0, 0]));
   * assert.equal(decoder.atBoundary, false);
   * ```
   */
  get atBoundary(): boolean {
    return this.#headerLen === 0 && this.#payload === null;
  }

  /**
   * Feeds bytes and returns every message they complete, in order.
   *
   * @param chunk The next bytes of the stream.
   * @returns The completed payloads (possibly none).
   * @throws {ProtocolError} On a bad length or one over `maxMessageSize`.
   *
   * @example Usage
   * ```ts
   * import { MessageDecoder } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const out = new MessageDecoder().push(new Uint8Array([0, 0, 0, 1, 42]));
   * assert.deepEqual(out, [new Uint8Array([42])]);
   * ```
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      if (this.#payload !== null) {
        const want = this.#payload.length - this.#filled;
        const take = Math.min(want, n - pos);
        this.#payload.set(chunk.subarray(pos, pos + take), this.#filled);
        this.#filled += take;
        pos += take;
        if (this.#filled === this.#payload.length) {
          out.push(this.#payload);
          this.#payload = null;
          this.#filled = 0;
        }
        continue;
      }
      let header: MessageHeader | undefined;
      if (this.#headerLen === 0) {
        header = decodeHeader(chunk, pos, n);
        if (header !== undefined) {
          pos += header.headerLength;
        } else {
          const take = Math.min(4, n - pos);
          this.#header.set(chunk.subarray(pos, pos + take), 0);
          this.#headerLen = take;
          pos += take;
          // Could be an incomplete extended header: keep collecting below.
          if (take === 4) {
            const ext = Math.min(8, n - pos);
            this.#header.set(chunk.subarray(pos, pos + ext), 4);
            this.#headerLen += ext;
            pos += ext;
          }
          continue;
        }
      } else {
        const need = this.#headerLen < 4 ? 4 : 12;
        const take = Math.min(need - this.#headerLen, n - pos);
        this.#header.set(chunk.subarray(pos, pos + take), this.#headerLen);
        this.#headerLen += take;
        pos += take;
        header = decodeHeader(this.#header, 0, this.#headerLen);
        if (header === undefined) continue;
        this.#headerLen = 0;
      }
      this.#checkSize(header.size);
      if (header.size === 0) {
        out.push(new Uint8Array(0));
      } else if (n - pos >= header.size) {
        out.push(chunk.subarray(pos, pos + header.size));
        pos += header.size;
      } else {
        this.#payload = new Uint8Array(header.size);
        this.#filled = 0;
      }
    }
    return out;
  }

  /**
   * Declares the end of the stream.
   *
   * @throws {ProtocolError} If the stream ended inside a header or payload.
   *
   * @example Usage
   * ```ts
   * import { MessageDecoder, ProtocolError } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const decoder = new MessageDecoder();
   * decoder.push(new Uint8Array([0, 0, 0, 3, 1]));
   * assert.throws(() => decoder.finish(), ProtocolError);
   * ```
   */
  finish(): void {
    if (this.#payload !== null) {
      throw new ProtocolError(
        `Cannot decode message: stream ended after ${this.#filled} of ${this.#payload.length} payload bytes`,
        { code: "TRUNCATED" },
      );
    }
    if (this.#headerLen !== 0) {
      throw new ProtocolError(
        `Cannot decode message: stream ended inside a header after ${this.#headerLen} bytes`,
        { code: "TRUNCATED" },
      );
    }
  }

  #checkSize(size: number): void {
    if (size > this.#max) {
      throw new ProtocolError(
        `Cannot decode message: length ${size} exceeds the maximum of ${this.#max} bytes`,
        { code: "MESSAGE_TOO_LARGE" },
      );
    }
  }
}

function readUint32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>>
    0;
}

function writeUint32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
