// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Frame plumbing for the arbiter and its workers: a splitter that cuts a
 * byte stream into whole raw frames (header validated by the codec, payload
 * left encoded so the arbiter can forward it without decoding), request id
 * patching, and a worker's connection to the arbiter and the frames it
 * reads there. Frames are written through `_internal/write_queue.ts`.
 *
 * @module
 */

import { ByteBuffer } from "../_internal/byte_buffer.ts";
import { DirtyProtocolError } from "./errors.ts";
import type { WorkerConfig } from "./_worker_protocol.ts";
import {
  decodeHeader,
  type DirtyMessageType,
  HEADER_SIZE,
  headerLength,
  MAX_MESSAGE_SIZE,
  validHeaderType,
} from "./header.ts";

/** One whole frame, still encoded. */
export interface RawFrame {
  /** The message type. */
  type: DirtyMessageType;
  /**
   * The whole frame (header and payload): a copy, or a view valid only
   * while the receiver's callback runs (as its producer says).
   */
  bytes: Uint8Array<ArrayBuffer>;
}

/**
 * Cuts a byte stream into whole frames. Header checks (and their messages)
 * are the codec's; the payload is not decoded. A frame that arrives whole
 * in one chunk is copied out of it once, or handed on as a view of it;
 * only the bytes of an incomplete
 * frame are kept (in a {@linkcode ByteBuffer}), so the cost stays linear in
 * the input however it is split.
 */
export class RawFrameSplitter {
  readonly #rest = new ByteBuffer();
  readonly #limit: number;
  /** The payload length of the header #type() last read. */
  #length = 0;

  constructor(maxMessageSize = MAX_MESSAGE_SIZE) {
    this.#limit = maxMessageSize;
  }

  /** Bytes held of an incomplete frame. */
  get buffered(): number {
    return this.#rest.length;
  }

  /**
   * Feeds bytes and hands each frame they complete to `onFrame`, in order,
   * as it is cut. With `copy` false, a frame that lies whole in `chunk` is
   * a view of it, valid only until `onFrame` returns (for a receiver that
   * decodes at once); a frame completed from earlier chunks is always a
   * fresh buffer.
   *
   * @param chunk The bytes.
   * @param copy Whether each frame is a copy the receiver may keep.
   * @param onFrame Receives each frame's type and bytes, and whether the
   * bytes are the receiver's own (a fresh buffer) or a view of `chunk`.
   */
  split(
    chunk: Uint8Array,
    copy: boolean,
    onFrame: (
      type: DirtyMessageType,
      bytes: Uint8Array<ArrayBuffer>,
      owned: boolean,
    ) => void,
  ): void {
    const rest = this.#rest;
    let data: Uint8Array;
    if (rest.length === 0) {
      data = chunk;
    } else {
      // Complete the pending header first, so that a hostile length is
      // refused before its bytes are buffered.
      if (rest.length < HEADER_SIZE) {
        const take = Math.min(HEADER_SIZE - rest.length, chunk.length);
        rest.append(chunk.subarray(0, take));
        chunk = chunk.subarray(take);
        if (rest.length < HEADER_SIZE) return;
      }
      const type = this.#type(rest.bytes, 0);
      const need = HEADER_SIZE + this.#length - rest.length;
      if (chunk.length < need) {
        rest.append(chunk);
        return;
      }
      rest.append(chunk.subarray(0, need));
      onFrame(type, rest.take(rest.length), true);
      data = chunk.subarray(need);
    }
    let i = 0;
    const n = data.length;
    while (n - i >= HEADER_SIZE) {
      const type = this.#type(data, i);
      const end = i + HEADER_SIZE + this.#length;
      if (end > n) break;
      onFrame(
        type,
        (copy ? data.slice(i, end) : data.subarray(i, end)) as Uint8Array<
          ArrayBuffer
        >,
        copy,
      );
      i = end;
    }
    if (i < n) rest.append(data.subarray(i));
  }

  /** The type of the valid header at `at`; its length goes to #length. */
  #type(bytes: Uint8Array, at: number): DirtyMessageType {
    const type = validHeaderType(bytes, at, this.#limit);
    if (type !== undefined) {
      this.#length = headerLength(bytes, at);
      return type;
    }
    // Not valid: the codec says why, in gunicorn's words (it throws).
    const h = decodeHeader(bytes.subarray(at, at + HEADER_SIZE), {
      maxMessageSize: this.#limit,
    });
    this.#length = h.length;
    return h.type;
  }

  /** Throws if the stream ended inside a frame. */
  finish(): void {
    const held = this.#rest.length;
    if (held !== 0) {
      throw new DirtyProtocolError(
        held < HEADER_SIZE
          ? `Incomplete header: got ${held} bytes, expected ${HEADER_SIZE}`
          : "Incomplete payload",
      );
    }
  }
}

/**
 * Reads the frames of a worker's connection to the arbiter and hands each
 * to `onFrame` as it is cut (no promise per frame), until the connection
 * ends or a read fails (both end it quietly), or a malformed frame arrives
 * (logged to stderr, then the end). An error thrown by `onFrame` ends the
 * reading and rejects. The frame given to `onFrame`, and its bytes (most
 * often a view of the read buffer, not a copy), are valid only until it
 * returns: it decodes what it needs at once.
 *
 * @param conn The connection.
 * @param readSize Bytes read at a time.
 * @param onFrame Receives each frame, in order.
 * @returns Resolves at the end.
 */
export async function readArbiterFrames(
  conn: Deno.Conn,
  readSize: number,
  onFrame: (frame: RawFrame) => void,
): Promise<void> {
  const splitter = new RawFrameSplitter();
  const buf = new Uint8Array(readSize);
  const frame: RawFrame = { type: "request", bytes: buf };
  let failure = null as { error: unknown } | null;
  const each = (type: DirtyMessageType, bytes: Uint8Array<ArrayBuffer>) => {
    frame.type = type;
    frame.bytes = bytes;
    try {
      onFrame(frame);
    } catch (error) {
      failure = { error };
      throw error;
    }
  };
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      n = null;
    }
    if (n === null) return;
    try {
      splitter.split(buf.subarray(0, n), false, each);
    } catch (e) {
      if (failure !== null) throw failure.error;
      console.error(`[dirty worker ${Deno.pid}] bad frame from arbiter:`, e);
      return;
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

/**
 * Sends the thread's console output to stderr (next to the arbiter's log
 * lines) and connects to the arbiter's socket for workers; on failure,
 * says so on stderr and returns `null`.
 *
 * @param config The worker's config.
 * @returns The connection, or `null`.
 */
export async function connectToArbiter(
  config: WorkerConfig,
): Promise<Deno.UnixConn | null> {
  for (const name of ["log", "info", "debug", "table", "dir", "dirxml"]) {
    (console as unknown as Record<string, unknown>)[name] = console.error;
  }
  try {
    return await Deno.connect({ transport: "unix", path: config.socket });
  } catch (e) {
    console.error(
      `[dirty worker ${Deno.pid}] cannot reach the arbiter at ${config.socket}: ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
    return null;
  }
}
