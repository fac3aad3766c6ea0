// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Where a `Connection` parses what it receives, without I/O: bytes read
 * from the transport go into {@linkcode ReadBuffer.space} and whole
 * messages come out, framed by `decodeHeader`.
 *
 * Small messages are handed out as views into the buffer, which is never
 * written again once it has handed one out (later bytes go to a fresh
 * buffer). A payload that is not buffered whole is assembled in its own
 * buffer, allocated once its length has been checked against the limit of
 * the receive that reads it; the assembly (a {@linkcode PartialMessage})
 * survives an aborted receive, so the next receive continues it.
 *
 * @module
 */
import { EOFError, ProtocolError } from "./errors.ts";
import { decodeHeader, type MessageHeader } from "./message_codec.ts";

/** The size of the read buffer, and of each fresh one. */
export const READ_BUFFER_SIZE = 64 * 1024;
/** A read into the buffer is worth making only with this much room. */
const MIN_ROOM = 4096;

/** A message whose payload is being assembled, its header consumed. */
export interface PartialMessage {
  /** The payload length. */
  readonly size: number;
  /** Where the payload goes. */
  readonly out: Uint8Array;
  /** How many payload bytes `out` holds. */
  filled: number;
}

/** The receive buffer and message assembly of a connection. */
export class ReadBuffer {
  #buf = new Uint8Array(READ_BUFFER_SIZE);
  /** Set once a view into #buf was handed out: it is never written again. */
  #shared = false;
  #start = 0;
  #end = 0;
  #partial: PartialMessage | null = null;

  /** Bytes buffered and not consumed. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** The size of the buffer reads go into. */
  get capacity(): number {
    return this.#buf.length;
  }

  /** The message being assembled, if any. */
  get partial(): PartialMessage | null {
    return this.#partial;
  }

  /**
   * Whether a receive would find something: a buffered byte, or a message
   * an aborted receive assembled in full.
   */
  get hasData(): boolean {
    const p = this.#partial;
    return this.#end > this.#start || (p !== null && p.filled === p.size);
  }

  /**
   * Takes the next message if it is buffered whole and at most `max` bytes
   * long: a view into the buffer, or a copy in `into` when that is given
   * and large enough (then the result is `into`'s first bytes). Nothing
   * while a message is being assembled.
   *
   * @param max The receive's limit (a longer message is left in place).
   * @param into Where to copy the payload, if it fits.
   * @returns The payload, or `undefined` if there is none to take.
   * @throws {ProtocolError} The next header is malformed.
   */
  take(max: number, into?: Uint8Array): Uint8Array | undefined {
    const b = this.#buf;
    const s = this.#start;
    const avail = this.#end - s;
    if (avail < 4 || this.#partial !== null) return undefined;
    let size = (b[s]! << 24 | b[s + 1]! << 16 | b[s + 2]! << 8 | b[s + 3]!) >>>
      0;
    let headerLength = 4;
    if (size > 0x7fffffff) {
      const h = decodeHeader(b, s, this.#end);
      if (h === undefined) return undefined;
      size = h.size;
      headerLength = h.headerLength;
    }
    if (size > max || avail - headerLength < size) return undefined;
    const start = s + headerLength;
    this.#start = start + size;
    if (into !== undefined && into.length >= size) {
      const out = into.subarray(0, size);
      out.set(b.subarray(start, start + size));
      return out;
    }
    this.#shared = true;
    return new Uint8Array(b.buffer, b.byteOffset + start, size);
  }

  /**
   * The next message's header, not consumed.
   *
   * @returns The header, or `undefined` while it is incomplete.
   * @throws {ProtocolError} It is malformed.
   */
  header(): MessageHeader | undefined {
    return decodeHeader(this.#buf, this.#start, this.#end);
  }

  /**
   * Consumes the header `h` (from {@linkcode ReadBuffer.header}) after
   * checking its length against `max`. Returns the payload if it is
   * buffered whole (as {@linkcode ReadBuffer.take} does); otherwise starts
   * assembling it, in `into` if that is large enough, else in a new buffer.
   *
   * @param h The header.
   * @param max The receive's limit.
   * @param into Where the payload may go.
   * @returns The payload, or `undefined` if it is being assembled.
   * @throws {ProtocolError} The length is over `max` (nothing consumed).
   */
  begin(
    h: MessageHeader,
    max: number,
    into?: Uint8Array,
  ): Uint8Array | undefined {
    const size = h.size;
    if (size > max) throw tooLarge(size, max);
    this.#start += h.headerLength;
    const have = this.#end - this.#start;
    const target = into !== undefined && into.length >= size
      ? into.subarray(0, size)
      : undefined;
    const start = this.#start;
    if (have >= size) {
      this.#start = start + size;
      if (target === undefined) {
        this.#shared = true;
        return new Uint8Array(
          this.#buf.buffer,
          this.#buf.byteOffset + start,
          size,
        );
      }
      target.set(this.#buf.subarray(start, start + size));
      return target;
    }
    const out = target ?? new Uint8Array(size);
    out.set(this.#buf.subarray(start, this.#end));
    // Consumed: space() decides whether it can be reused.
    this.#start = this.#end;
    this.#partial = { size, out, filled: have };
    return undefined;
  }

  /**
   * Checks the message an aborted receive left half assembled against the
   * limit of the receive that now continues it; over the limit, it is
   * dropped, as a fresh receive would refuse it.
   *
   * @param max The receive's limit.
   * @throws {ProtocolError} Its length is over `max`.
   */
  resume(max: number): void {
    const p = this.#partial;
    if (p !== null && p.size > max) {
      this.#partial = null;
      throw tooLarge(p.size, max);
    }
  }

  /**
   * Moves buffered bytes into the message being assembled.
   *
   * @returns Whether it is complete.
   */
  assemble(): boolean {
    const p = this.#partial!;
    const want = p.size - p.filled;
    const have = this.#end - this.#start;
    if (want > 0 && have > 0) {
      const take = want < have ? want : have;
      p.out.set(this.#buf.subarray(this.#start, this.#start + take), p.filled);
      this.#start += take;
      p.filled += take;
    }
    return p.filled === p.size;
  }

  /**
   * Ends the assembly of a complete message.
   *
   * @returns Its payload.
   */
  finish(): Uint8Array {
    const out = this.#partial!.out;
    this.#partial = null;
    return out;
  }

  /**
   * The error for the end of the stream here: an {@linkcode EOFError} at
   * a message boundary, otherwise a {@linkcode ProtocolError} (`TRUNCATED`);
   * a message being assembled is dropped.
   *
   * @returns The error to raise.
   */
  endOfStream(): EOFError | ProtocolError {
    const p = this.#partial;
    if (p !== null) {
      this.#partial = null;
      return new ProtocolError(
        `Cannot receive: connection closed after ${p.filled} of ${p.size} payload bytes`,
        { code: "TRUNCATED" },
      );
    }
    const have = this.#end - this.#start;
    if (have === 0) return new EOFError();
    return new ProtocolError(
      `Cannot receive: connection closed inside a message header after ${have} bytes`,
      { code: "TRUNCATED" },
    );
  }

  /** Drops the message being assembled (the connection failed). */
  drop(): void {
    this.#partial = null;
  }

  /**
   * The free room to read into next, after the buffered bytes. Reclaims
   * consumed space, or moves the buffered bytes to a fresh buffer when the
   * buffer handed out views (or is too small for them).
   *
   * @returns Where the next read should go; keep what it read with
   * {@linkcode ReadBuffer.commit}.
   */
  space(): Uint8Array {
    const left = this.#end - this.#start;
    if (left === 0 && !this.#shared) {
      this.#start = this.#end = 0;
    } else if (this.#buf.length - this.#end < MIN_ROOM) {
      if (this.#shared || left > this.#buf.length - MIN_ROOM) {
        const fresh = new Uint8Array(Math.max(READ_BUFFER_SIZE, left * 2));
        fresh.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = fresh;
        this.#shared = false;
      } else {
        this.#buf.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = left;
    }
    return this.#buf.subarray(this.#end);
  }

  /**
   * Keeps `n` bytes read into the room {@linkcode ReadBuffer.space} gave.
   *
   * @param n How many bytes were read.
   */
  commit(n: number): void {
    this.#end += n;
  }
}

function tooLarge(size: number, max: number): ProtocolError {
  return new ProtocolError(
    `Cannot receive: message length ${size} exceeds the maximum of ${max} bytes`,
    { code: "MESSAGE_TOO_LARGE" },
  );
}
