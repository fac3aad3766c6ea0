// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Decoders of gunicorn 26's dirty messages: {@linkcode decodeMessage} for
 * one whole message and the push decoder {@linkcode DirtyMessageDecoder}
 * for a byte stream, both validating in gunicorn's order with gunicorn's
 * messages, and checking the payload size before allocating.
 *
 * @module
 */

import { DirtyProtocolError } from "./errors.ts";
import type { TlvDecodeOptions } from "./tlv.ts";
import { decodePayload } from "./_payload.ts";
import {
  decodeHeader,
  type DirtyHeader,
  HEADER_SIZE,
  maxSize,
} from "./header.ts";
import type { DirtyFrame } from "./message.ts";

const EMPTY = new Uint8Array(0);

/** Options of the decoders. */
export interface DirtyMessageDecodeOptions extends TlvDecodeOptions {
  /**
   * Largest payload accepted, at most {@linkcode MAX_MESSAGE_SIZE}; checked
   * against the header before anything is allocated.
   *
   * @default {67108864}
   */
  maxMessageSize?: number;
}

/**
 * Decodes exactly one whole message, like gunicorn's
 * `BinaryProtocol.decode_message`, with the same checks and messages.
 * Unlike gunicorn, bytes after the message are rejected.
 *
 * @param data One complete message.
 * @param options Payload representation and size limit.
 * @returns The frame.
 * @throws {DirtyProtocolError} On any malformed input.
 *
 * @example Usage
 * ```ts
 * import { decodeMessage, encodeChunk } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const frame = decodeMessage(encodeChunk(12n, "Hello"));
 * assert.equal(frame.type, "chunk");
 * assert.deepEqual(frame.payload, new Map([["data", "Hello"]]));
 * ```
 */
export function decodeMessage(
  data: Uint8Array,
  options: DirtyMessageDecodeOptions = {},
): DirtyFrame {
  const { type, id, length } = decodeHeader(data, options);
  if (data.length < HEADER_SIZE + length) {
    throw new DirtyProtocolError(
      `Incomplete message: expected ${
        HEADER_SIZE + length
      } bytes, got ${data.length}`,
      { rawData: data.subarray(0, 50) },
    );
  }
  if (data.length > HEADER_SIZE + length) {
    throw new DirtyProtocolError(
      `Trailing data after message: ${
        data.length - HEADER_SIZE - length
      } bytes`,
      {
        rawData: data.subarray(HEADER_SIZE + length, HEADER_SIZE + length + 20),
      },
    );
  }
  const payload = decodePayload(
    data.subarray(HEADER_SIZE, HEADER_SIZE + length),
    options,
  );
  return { type, id, payload };
}

/**
 * Push decoder: feed it bytes as they arrive, get whole frames back. The
 * header is validated as soon as its 16 bytes are in (gunicorn's order);
 * the payload buffer is allocated only after the length passed the limit.
 * After an error the decoder stays failed and rethrows it.
 *
 * @example Usage
 * ```ts
 * import { DirtyMessageDecoder, encodeChunk, encodeEnd } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([...encodeChunk(5n, "tok0"), ...encodeEnd(5n)]);
 * const dec = new DirtyMessageDecoder();
 * const frames = [...dec.push(bytes.subarray(0, 20)), ...dec.push(bytes.subarray(20))];
 * assert.deepEqual(frames.map((f) => f.type), ["chunk", "end"]);
 * dec.finish();
 * ```
 */
export class DirtyMessageDecoder {
  #options: DirtyMessageDecodeOptions;
  #limit: number;
  #head = new Uint8Array(HEADER_SIZE);
  #headFill = 0;
  #header: DirtyHeader | null = null;
  #payload: Uint8Array | null = null;
  #payloadFill = 0;
  #error: unknown = null;

  /**
   * Creates a decoder.
   *
   * @param options Payload representation and size limit.
   */
  constructor(options: DirtyMessageDecodeOptions = {}) {
    this.#options = options;
    this.#limit = maxSize(options.maxMessageSize);
  }

  /**
   * Bytes held for an incomplete message.
   *
   * @returns The count.
   *
   * @example Usage
   * ```ts
   * import { DirtyMessageDecoder } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const dec = new DirtyMessageDecoder();
   * dec.push(Uint8Array.of(0x47, 0x44));
   * assert.equal(dec.buffered, 2);
   * ```
   */
  get buffered(): number {
    return this.#headFill + this.#payloadFill;
  }

  /**
   * Feeds bytes and returns every message they complete.
   *
   * @param chunk The next bytes.
   * @returns Complete frames, possibly none.
   * @throws {DirtyProtocolError} On malformed input.
   *
   * @example Usage
   * ```ts
   * import { DirtyMessageDecoder, encodeStatus } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const [frame] = new DirtyMessageDecoder().push(encodeStatus(13n));
   * assert.equal(frame?.type, "status");
   * ```
   */
  push(chunk: Uint8Array): DirtyFrame[] {
    if (this.#error !== null) throw this.#error;
    try {
      return this.#push(chunk);
    } catch (e) {
      this.#error = e;
      throw e;
    }
  }

  #push(chunk: Uint8Array): DirtyFrame[] {
    const out: DirtyFrame[] = [];
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#header === null) {
        if (this.#headFill === 0 && n - i >= HEADER_SIZE) {
          // Fast path: header (and maybe payload) fully inside the chunk.
          const h = decodeHeader(
            chunk.subarray(i, i + HEADER_SIZE),
            this.#options,
          );
          if (n - i - HEADER_SIZE >= h.length) {
            const body = chunk.subarray(
              i + HEADER_SIZE,
              i + HEADER_SIZE + h.length,
            );
            out.push({
              type: h.type,
              id: h.id,
              payload: decodePayload(body, this.#options),
            });
            i += HEADER_SIZE + h.length;
            continue;
          }
          this.#header = h;
          this.#payload = new Uint8Array(h.length);
          i += HEADER_SIZE;
          continue;
        }
        const take = Math.min(HEADER_SIZE - this.#headFill, n - i);
        this.#head.set(chunk.subarray(i, i + take), this.#headFill);
        this.#headFill += take;
        i += take;
        if (this.#headFill < HEADER_SIZE) break;
        const h = decodeHeader(this.#head, this.#options);
        this.#headFill = 0;
        if (h.length === 0) {
          out.push({
            type: h.type,
            id: h.id,
            payload: decodePayload(EMPTY, this.#options),
          });
          continue;
        }
        this.#header = h;
        this.#payload = new Uint8Array(h.length);
        continue;
      }
      const payload = this.#payload!;
      const take = Math.min(payload.length - this.#payloadFill, n - i);
      payload.set(chunk.subarray(i, i + take), this.#payloadFill);
      this.#payloadFill += take;
      i += take;
      if (this.#payloadFill === payload.length) {
        const h = this.#header;
        this.#header = null;
        this.#payload = null;
        this.#payloadFill = 0;
        out.push({
          type: h.type,
          id: h.id,
          payload: decodePayload(payload, this.#options),
        });
      }
    }
    return out;
  }

  /**
   * Declares the end of input; throws if a message was cut short, with
   * gunicorn's async reader messages (`Incomplete header: got N bytes,
   * expected 16` / `Incomplete payload: got N bytes, expected L`).
   *
   * @throws {DirtyProtocolError} If bytes of an incomplete message remain.
   *
   * @example Usage
   * ```ts
   * import { DirtyMessageDecoder, DirtyProtocolError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const dec = new DirtyMessageDecoder();
   * dec.push(Uint8Array.of(0x47, 0x44, 1));
   * assert.throws(() => dec.finish(), DirtyProtocolError);
   * ```
   */
  finish(): void {
    if (this.#error !== null) throw this.#error;
    if (this.#header !== null) {
      const got = this.#payloadFill;
      this.#error = new DirtyProtocolError(
        `Incomplete payload: got ${got} bytes, expected ${this.#header.length}`,
        { rawData: this.#payload!.subarray(0, Math.min(got, 100)) },
      );
      throw this.#error;
    }
    if (this.#headFill > 0) {
      this.#error = new DirtyProtocolError(
        `Incomplete header: got ${this.#headFill} bytes, expected ${HEADER_SIZE}`,
        { rawData: this.#head.subarray(0, this.#headFill) },
      );
      throw this.#error;
    }
  }
}
