// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * A growable byte buffer for decoders: bytes are appended at the end and
 * consumed from the front. Growth doubles and consumed space is reclaimed
 * by moving the rest down only when fewer bytes are held than were
 * consumed since the last move, so any sequence of appends and consumes
 * costs time linear in the bytes appended, and memory at most about twice
 * the most bytes held at once.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);

/** A growable byte buffer: append at the end, consume from the front. */
export class ByteBuffer {
  #buf: Uint8Array<ArrayBuffer>;
  #start = 0;
  #end = 0;

  /**
   * @param capacity Bytes to allocate now (more are allocated as needed).
   */
  constructor(capacity = 0) {
    this.#buf = capacity > 0 ? new Uint8Array(capacity) : EMPTY;
  }

  /** Bytes held. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** Bytes allocated. */
  get capacity(): number {
    return this.#buf.length;
  }

  /**
   * The bytes held, as a view: valid until the next call that changes the
   * buffer (`append`, `reserve`, `consume`, `clear`).
   */
  get bytes(): Uint8Array<ArrayBuffer> {
    return this.#buf.subarray(this.#start, this.#end);
  }

  /**
   * Appends a copy of `chunk`.
   *
   * @param chunk The bytes.
   */
  append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    this.reserve(n);
    this.#buf.set(chunk, this.#end);
    this.#end += n;
  }

  /**
   * Makes room for `n` more bytes and returns that room, to be filled (for
   * example by a read) and then kept with {@linkcode ByteBuffer.commit}.
   *
   * @param n How many bytes of room.
   * @returns A view of the free room (at least `n` bytes).
   */
  reserve(n: number): Uint8Array<ArrayBuffer> {
    if (this.#buf.length - this.#end < n) this.#makeRoom(n);
    return this.#buf.subarray(this.#end);
  }

  /**
   * Keeps `n` bytes written into the room {@linkcode ByteBuffer.reserve}
   * returned.
   *
   * @param n How many bytes were written.
   */
  commit(n: number): void {
    if (n < 0 || this.#end + n > this.#buf.length) {
      throw new RangeError(`Cannot commit ${n} bytes: not reserved`);
    }
    this.#end += n;
  }

  /**
   * Drops `n` bytes from the front.
   *
   * @param n How many (at most {@linkcode ByteBuffer.length}).
   */
  consume(n: number): void {
    if (n < 0 || n > this.length) {
      throw new RangeError(
        `Cannot consume ${n} bytes: the buffer holds ${this.length}`,
      );
    }
    this.#start += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /**
   * Removes `n` bytes from the front and returns them as a new array.
   *
   * @param n How many (at most {@linkcode ByteBuffer.length}).
   * @returns A copy of them.
   */
  take(n: number): Uint8Array<ArrayBuffer> {
    if (n < 0 || n > this.length) {
      throw new RangeError(
        `Cannot take ${n} bytes: the buffer holds ${this.length}`,
      );
    }
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.consume(n);
    return out;
  }

  /**
   * Drops every byte; with `release`, frees the memory too.
   *
   * @param release Whether to let go of the allocation.
   */
  clear(release = false): void {
    this.#start = this.#end = 0;
    if (release) this.#buf = EMPTY;
  }

  #makeRoom(n: number): void {
    const held = this.#end - this.#start;
    const cap = this.#buf.length;
    if (held + n <= cap && this.#start >= held) {
      // Moving the rest down costs no more than the bytes consumed since
      // the last move (#start), so the total stays linear.
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      let next = Math.max(64, cap * 2);
      while (next < held + n) next *= 2;
      const grown = new Uint8Array(next);
      grown.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = grown;
    }
    this.#start = 0;
    this.#end = held;
  }
}
