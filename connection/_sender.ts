// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The send side of a `Connection`: frames each message, its header encoded
 * in place in the batch buffer of the package's one `WriteQueue`
 * (`_internal/write_queue.ts`), which is the only place a connection
 * writes its socket.
 *
 * A payload of at most 16 KiB is copied into the batch, so its send
 * resolves at once (or once the queue is back under its high-water mark);
 * messages queued while a write is in flight go out together in the next
 * write. A larger payload, and the chunks a codec hands over as views of
 * the caller's memory, are written from that memory, and their send
 * resolves once they are written.
 *
 * @module
 */
import { race } from "../_internal/abort.ts";
import { asBytes } from "../_internal/bytes.ts";
import { type ByteSink, WriteQueue } from "../_internal/write_queue.ts";
import { ConnectionError } from "./errors.ts";
import { encodeHeaderInto, MAX_SHORT_LENGTH } from "./message_codec.ts";
import { transportError } from "./_transport.ts";

/** Payloads up to this size are copied into the write batch. */
export const COPY_LIMIT = 16 * 1024;
const RESOLVED: Promise<void> = Promise.resolve();
const EMPTY = new Uint8Array(0);

/** Frames and queues a connection's messages. */
export class Sender {
  #q: WriteQueue;
  #closed = false;

  /**
   * @param sink Where the bytes go.
   * @param highWaterMark Queued bytes above which sends wait.
   */
  constructor(sink: ByteSink, highWaterMark: number) {
    this.#q = new WriteQueue(sink, {
      highWaterMark,
      copyLimit: COPY_LIMIT,
      mapError: (e) => transportError("send", e),
    });
  }

  /** Whether a send would be queued (not closed, no failed write). */
  get open(): boolean {
    return !this.#closed && !this.#q.failed;
  }

  /**
   * Queues a payload of at most {@linkcode COPY_LIMIT} bytes (a copy) when
   * {@linkcode Sender.open}: the hot path, with no checks.
   *
   * @param payload The payload.
   * @returns Resolves once the queue is under its high-water mark.
   */
  sendSmall(payload: Uint8Array): Promise<void> {
    const q = this.#q;
    const n = payload.length;
    const o = q.reserve(n + 4);
    const b = q.buffer;
    // n <= COPY_LIMIT: the first two bytes of the length are 0.
    b[o] = 0;
    b[o + 1] = 0;
    b[o + 2] = n >>> 8;
    b[o + 3] = n & 0xff;
    if (n <= 32) {
      for (let i = 0; i < n; i++) b[o + 4 + i] = payload[i]!;
    } else {
      b.set(payload, o + 4);
    }
    q.kick();
    return q.full ? q.ready() : RESOLVED;
  }

  /**
   * Sends `buf[offset, offset + size)` as one message, with Python's
   * `send_bytes` argument rules.
   *
   * @param buf The bytes.
   * @param offset Where the message starts.
   * @param size Its length (default: to the end).
   * @param signal Aborts the wait only.
   * @returns Resolves when queued (small) or written (large).
   */
  sendBytes(
    buf: ArrayBufferView | ArrayBuffer,
    offset: number,
    size: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const bytes = asBytes(buf);
    if (bytes === undefined) {
      return Promise.reject(
        new TypeError("Cannot send bytes: expected a buffer"),
      );
    }
    if (!Number.isInteger(offset) || offset < 0) {
      return Promise.reject(
        new RangeError(
          `Cannot send bytes: offset ${offset} is negative or not an integer`,
        ),
      );
    }
    if (offset > bytes.length) {
      return Promise.reject(
        new RangeError(
          `Cannot send bytes: buffer length ${bytes.length} < offset ${offset}`,
        ),
      );
    }
    const n = size ?? bytes.length - offset;
    if (!Number.isInteger(n) || n < 0) {
      return Promise.reject(
        new RangeError(
          `Cannot send bytes: size ${n} is negative or not an integer`,
        ),
      );
    }
    if (offset + n > bytes.length) {
      return Promise.reject(
        new RangeError(
          `Cannot send bytes: buffer length ${bytes.length} < offset + size ${
            offset + n
          }`,
        ),
      );
    }
    const refused = this.#refusal(signal);
    if (refused !== undefined) return Promise.reject(refused);
    const payload = bytes.subarray(offset, offset + n);
    const q = this.#q;
    if (n <= COPY_LIMIT) {
      const o = q.reserve(n + 4);
      encodeHeaderInto(n, q.buffer, o);
      q.buffer.set(payload, o + 4);
      q.kick();
      return q.full ? q.ready(signal) : RESOLVED;
    }
    // Large: the header goes with the batch, the payload is written from
    // the caller's buffer; resolve when written.
    this.#header(n);
    const written = q.write(payload);
    return signal === undefined ? written : race(written, { signal });
  }

  /**
   * Sends the concatenation of `chunks` as one message, without copying
   * the chunks over 16 KiB (they are written from their memory).
   *
   * @param chunks The payload's parts, in order.
   * @param signal Aborts the wait only.
   * @returns Resolves once every chunk is written.
   */
  sendChunks(
    chunks: readonly Uint8Array[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const refused = this.#refusal(signal);
    if (refused !== undefined) return Promise.reject(refused);
    let n = 0;
    for (const c of chunks) n += c.length;
    const q = this.#q;
    this.#header(n);
    for (const c of chunks) q.push(c);
    // Resolves once everything queued before it is written.
    const written = q.write(EMPTY);
    return signal === undefined ? written : race(written, { signal });
  }

  /**
   * Waits until everything queued is written, at most `timeout` ms or
   * until `signal` aborts. Never rejects.
   *
   * @param timeout Milliseconds (`Infinity`: no limit).
   * @param signal Cuts the wait short.
   * @returns Whether the queue went idle (or failed: nothing is left to
   * write either way).
   */
  async flush(
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const q = this.#q;
    if (!q.busy) return true;
    if (signal?.aborted) return false;
    try {
      await race(q.flush(), { signal, timeout });
      return true;
    } catch {
      return q.failed;
    }
  }

  /** Refuses later sends with a `CONNECTION_CLOSED` error. */
  close(): void {
    this.#closed = true;
  }

  /**
   * Drops every message not written yet: their sends reject with a
   * `CONNECTION_CLOSED` error saying `message`.
   *
   * @param message The error's message.
   * @param cause Why, if another error says it.
   * @returns The error.
   */
  discard(message: string, cause?: unknown): ConnectionError {
    const err = new ConnectionError(message, {
      code: "CONNECTION_CLOSED",
      ...(cause === undefined ? {} : { cause }),
    });
    this.#q.discard(err);
    return err;
  }

  /** Settles once the write in flight, if any, has ended. */
  get settled(): Promise<void> {
    return this.#q.settled;
  }

  /** Why a send cannot be queued now, if it cannot. */
  #refusal(signal: AbortSignal | undefined): unknown {
    if (this.#closed) {
      return new ConnectionError("Cannot send: connection is closed", {
        code: "CONNECTION_CLOSED",
      });
    }
    if (this.#q.failed) return this.#q.error;
    if (signal?.aborted) return signal.reason;
    return undefined;
  }

  /** Queues the header of an `n`-byte message, encoded in the batch. */
  #header(n: number): void {
    const o = this.#q.reserve(n > MAX_SHORT_LENGTH ? 12 : 4);
    encodeHeaderInto(n, this.#q.buffer, o);
  }
}
