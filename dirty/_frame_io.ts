// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Frame plumbing for the arbiter and its workers: a splitter that cuts a
 * byte stream into whole raw frames (header validated by the codec, payload
 * left encoded so the arbiter can forward it without decoding), request id
 * patching, and a writer that coalesces frames into few writes.
 *
 * @module
 */

import { DirtyProtocolError } from "./errors.ts";
import {
  decodeHeader,
  type DirtyMessageType,
  HEADER_SIZE,
  MAX_MESSAGE_SIZE,
} from "./header.ts";

/** One whole frame, still encoded. */
export interface RawFrame {
  /** The message type. */
  type: DirtyMessageType;
  /** The whole frame (header and payload); owned by the receiver. */
  bytes: Uint8Array<ArrayBuffer>;
}

/**
 * Cuts a byte stream into whole frames. Header checks (and their messages)
 * are the codec's; the payload is not decoded.
 */
export class RawFrameSplitter {
  #buf: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  #fill = 0;
  #limit: number;

  constructor(maxMessageSize = MAX_MESSAGE_SIZE) {
    this.#limit = maxMessageSize;
  }

  /** Feeds bytes; returns the frames they complete. */
  push(chunk: Uint8Array): RawFrame[] {
    const out: RawFrame[] = [];
    let data: Uint8Array;
    if (this.#fill === 0) {
      data = chunk;
    } else {
      this.#ensure(this.#fill + chunk.length);
      this.#buf.set(chunk, this.#fill);
      this.#fill += chunk.length;
      data = this.#buf.subarray(0, this.#fill);
    }
    let i = 0;
    const n = data.length;
    while (n - i >= HEADER_SIZE) {
      const h = decodeHeader(data.subarray(i, i + HEADER_SIZE), {
        maxMessageSize: this.#limit,
      });
      const end = i + HEADER_SIZE + h.length;
      if (end > n) break;
      out.push({ type: h.type, bytes: data.slice(i, end) });
      i = end;
    }
    const rest = n - i;
    if (rest === 0) {
      this.#fill = 0;
    } else if (data === chunk) {
      this.#ensure(rest);
      this.#buf.set(chunk.subarray(i), 0);
      this.#fill = rest;
    } else {
      this.#buf.copyWithin(0, i, n);
      this.#fill = rest;
    }
    return out;
  }

  #ensure(size: number): void {
    if (this.#buf.length >= size) return;
    let cap = Math.max(4096, this.#buf.length * 2);
    while (cap < size) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#fill));
    this.#buf = next;
  }

  /** Throws if the stream ended inside a frame. */
  finish(): void {
    if (this.#fill !== 0) {
      throw new DirtyProtocolError(
        this.#fill < HEADER_SIZE
          ? `Incomplete header: got ${this.#fill} bytes, expected ${HEADER_SIZE}`
          : "Incomplete payload",
      );
    }
  }
}

/** Reads the 8 id bytes of a frame as a copy. */
export function idBytes(frame: Uint8Array): Uint8Array {
  return frame.slice(8, 16);
}

/** Overwrites a frame's request id with a safe integer. */
export function setIdNumber(frame: Uint8Array, id: number): void {
  const hi = Math.floor(id / 4294967296);
  const lo = id - hi * 4294967296;
  frame[8] = hi >>> 24;
  frame[9] = (hi >>> 16) & 0xff;
  frame[10] = (hi >>> 8) & 0xff;
  frame[11] = hi & 0xff;
  frame[12] = lo >>> 24;
  frame[13] = (lo >>> 16) & 0xff;
  frame[14] = (lo >>> 8) & 0xff;
  frame[15] = lo & 0xff;
}

/** Reads a frame's request id as a number (exact below 2^53). */
export function getIdNumber(frame: Uint8Array): number {
  const hi = ((frame[8]! << 24) | (frame[9]! << 16) | (frame[10]! << 8) |
    frame[11]!) >>> 0;
  const lo = ((frame[12]! << 24) | (frame[13]! << 16) | (frame[14]! << 8) |
    frame[15]!) >>> 0;
  return hi * 4294967296 + lo;
}

/** Something frames can be written to. */
export interface ByteSink {
  /** Writes some bytes, returns how many. */
  write(p: Uint8Array): Promise<number>;
}

/**
 * Queues frames and writes them in as few `write` calls as possible, in
 * order. A failed write fails every later one (the sink is then dead).
 */
export class FrameWriter {
  #sink: ByteSink;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #flushing: Promise<void> | null = null;
  #error: unknown = undefined;

  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  /** Bytes waiting to be written. */
  get pending(): number {
    return this.#queued;
  }

  /** The write error, once one happened. */
  get error(): unknown {
    return this.#error;
  }

  /** Queues a frame; the promise settles when it was written. */
  write(bytes: Uint8Array): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (this.#flushing === null) {
      this.#flushing = this.#flush();
      // Callers may not all wait; the error is kept in #error anyway.
      this.#flushing.catch(() => {});
    }
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    // Let callers in the same tick add their frames first.
    await Promise.resolve();
    try {
      while (this.#queue.length > 0) {
        const parts = this.#queue;
        const total = this.#queued;
        this.#queue = [];
        this.#queued = 0;
        let data: Uint8Array;
        if (parts.length === 1) {
          data = parts[0]!;
        } else {
          data = new Uint8Array(total);
          let at = 0;
          for (const p of parts) {
            data.set(p, at);
            at += p.length;
          }
        }
        let off = 0;
        while (off < data.length) {
          off += await this.#sink.write(data.subarray(off));
        }
      }
    } catch (e) {
      this.#error = e;
      this.#queue = [];
      this.#queued = 0;
      throw e;
    } finally {
      this.#flushing = null;
    }
  }
}
