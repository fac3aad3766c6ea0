// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The receiver's stream of socket sessions, without I/O: bytes of the Unix
 * stream arrive in reads of any size (several sessions per read), each
 * read with the fds that came with it, and complete sessions come out with
 * their fd.
 *
 * Which session an fd belongs to follows from how Linux delivers them on a
 * stream socket: a read stops right after the segment that carries fds, so
 * the fds of a read came with its last segment. They belong to the session
 * whose first (dummy) byte this read holds; a session whose first byte came
 * in a read without fds has none (`"NO_FD"`), and fds that came with a read
 * that ended inside a session are `"EXTRA_FDS"`. With BIND 10's forwarder
 * (the fd on the dummy byte alone, then header and data) and with ours (one
 * `sendmsg` per session), every session gets its own fd.
 *
 * Errors are typed {@linkcode SocketSessionError}s (BIND 10's checks, via
 * `decodeSessionHeader`); after one the stream is dead and
 * {@linkcode SessionStream.releaseFds} hands every fd it holds to the caller
 * to close.
 *
 * @module
 */

import { SocketSessionError } from "./errors.ts";
import {
  checkHeaderLength,
  decodeSessionHeader,
  MAX_DATA_SIZE,
  MAX_HEADER_LENGTH,
  type SessionHeader,
} from "./session_header.ts";

/** A complete session from the stream, with its fd. */
export interface StreamSession extends SessionHeader {
  /** The fd that came with the session (the caller owns it now). */
  fd: number;
  /** The data (a copy). */
  data: Uint8Array<ArrayBuffer>;
}

/** The longest session on the wire: dummy byte, length, header, data. */
export const MAX_SESSION_BYTES = 1 + 2 + MAX_HEADER_LENGTH + MAX_DATA_SIZE;

/** A read that came with fds (or with a truncated control message). */
interface FdMark {
  /** Stream offset of the read's first byte. */
  start: number;
  /** Stream offset after the read's last byte. */
  end: number;
  fds: number[];
  truncated: boolean;
}

/** What {@linkcode SessionStream.next} returns at a clean end of stream. */
export const END: unique symbol = Symbol("end");

/**
 * Sessions out of a byte stream read in pieces of any size. The I/O layer
 * writes reads into {@linkcode SessionStream.buffer} at
 * {@linkcode SessionStream.end} (after {@linkcode SessionStream.reserve}),
 * reports each with {@linkcode SessionStream.append}, then takes sessions
 * with {@linkcode SessionStream.next}.
 */
export class SessionStream {
  #buf: Uint8Array<ArrayBuffer>;
  /** Stream offset of `#buf[0]`. */
  #base = 0;
  /** Index of the current session's first byte. */
  #start = 0;
  /** Index after the last byte received. */
  #end = 0;
  #marks: FdMark[] = [];
  /** The current session's fd, once its first byte was seen (-1: none yet). */
  #fd = -1;
  #header: SessionHeader | null = null;
  #eof = false;
  #error: unknown = null;

  /**
   * Creates the stream.
   *
   * @param capacity Buffer size: one longest session plus the room the
   * caller reads into at once.
   */
  constructor(capacity: number) {
    if (capacity < MAX_SESSION_BYTES + 1) {
      throw new RangeError(
        `Cannot create session stream: capacity ${capacity} is below ${
          MAX_SESSION_BYTES + 1
        }`,
      );
    }
    this.#buf = new Uint8Array(new ArrayBuffer(capacity));
  }

  /**
   * The buffer that reads go into.
   *
   * @returns The buffer.
   */
  get buffer(): Uint8Array<ArrayBuffer> {
    return this.#buf;
  }

  /**
   * Index in the buffer where the next read goes.
   *
   * @returns The index.
   */
  get end(): number {
    return this.#end;
  }

  /**
   * True when no byte of a next session has arrived: an end of stream, a
   * timeout or an abort here loses nothing.
   *
   * @returns Whether the stream is between sessions.
   */
  get atBoundary(): boolean {
    return this.#start === this.#end && this.#fd < 0;
  }

  /**
   * Makes at least `min` bytes free after {@linkcode SessionStream.end}
   * (moving the unread bytes to the front when needed).
   *
   * @param min Bytes wanted (at most the capacity minus one longest session).
   * @returns The free bytes after `end`.
   */
  reserve(min: number): number {
    if (this.#buf.length - this.#end < min && this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#base += this.#start;
      this.#end -= this.#start;
      this.#start = 0;
    }
    return this.#buf.length - this.#end;
  }

  /**
   * Adds one read: `n` bytes written into the buffer at `at` (moved to
   * {@linkcode SessionStream.end} if elsewhere), and the fds that came
   * with them. `n === 0` is the end of the stream.
   *
   * @param at Where the read wrote (at or after `end`).
   * @param n Bytes read.
   * @param fds The fds received with them (the stream owns them now).
   * @param truncated Whether the control message was cut (`MSG_CTRUNC`).
   */
  append(at: number, n: number, fds: number[], truncated: boolean): void {
    if (n === 0) {
      this.#eof = true;
      if (fds.length === 0 && !truncated) return;
    }
    if (at !== this.#end) this.#buf.copyWithin(this.#end, at, at + n);
    if (fds.length > 0 || truncated) {
      const start = this.#base + this.#end;
      this.#marks.push({ start, end: start + n, fds, truncated });
    }
    this.#end += n;
  }

  /**
   * The next complete session, if it has arrived.
   *
   * @returns The session, `null` when more bytes are needed, or
   * {@linkcode END} at a clean end of stream.
   * @throws {SocketSessionError} On a protocol error (the same one again on
   * every later call).
   */
  next(): StreamSession | null | typeof END {
    if (this.#error !== null) throw this.#error;
    try {
      return this.#next();
    } catch (err) {
      this.#error = err;
      throw err;
    }
  }

  #next(): StreamSession | null | typeof END {
    const avail = this.#end - this.#start;
    if (avail === 0 && this.#fd < 0) {
      if (this.#eof) {
        if (this.#marks.length > 0) throw extraFds("after the last session");
        return END;
      }
      return null;
    }
    const s = this.#base + this.#start;
    if (this.#fd < 0) this.#takeFd(s);
    // Reads that ended inside the session so far brought fds of their own.
    this.#checkInside(s + Math.min(avail, 3), "length");
    if (avail < 3) return this.#more("length", avail, 3);
    const buf = this.#buf;
    const o = this.#start;
    const headerLength = checkHeaderLength((buf[o + 1]! << 8) | buf[o + 2]!);
    if (headerLength === 0) {
      throw new SocketSessionError(
        "BOGUS_HEADER",
        "Cannot receive socket session: bogus header, read beyond end of 0-byte buffer",
      );
    }
    const dataStart = 3 + headerLength;
    this.#checkInside(s + Math.min(avail, dataStart), "header");
    if (avail < dataStart) return this.#more("header", avail - 3, headerLength);
    const header = this.#header ??= decodeSessionHeader(
      buf.subarray(o + 3, o + dataStart),
    );
    const total = dataStart + header.dataLength;
    this.#checkInside(s + Math.min(avail, total), "data");
    if (avail < total) {
      return this.#more("data", avail - dataStart, header.dataLength);
    }
    const session: StreamSession = {
      ...header,
      fd: this.#fd,
      data: buf.slice(o + dataStart, o + total),
    };
    this.#fd = -1;
    this.#header = null;
    this.#start += total;
    if (this.#start === this.#end) {
      // Empty: start over at the front (no bytes to move).
      this.#base += this.#end;
      this.#start = this.#end = 0;
    }
    return session;
  }

  /** The session starting at stream offset `s` takes the fds of its read. */
  #takeFd(s: number): void {
    const m = this.#marks[0];
    if (m === undefined || m.start > s) {
      throw new SocketSessionError(
        "NO_FD",
        "Cannot receive socket session: no fd forwarded",
      );
    }
    this.#marks.shift();
    if (m.truncated) {
      this.#marks.unshift(m);
      throw new SocketSessionError(
        "CONTROL_TRUNCATED",
        "Cannot receive socket session: too many fds",
      );
    }
    if (m.fds.length !== 1) {
      this.#marks.unshift(m);
      throw new SocketSessionError(
        m.fds.length === 0 ? "NO_FD" : "EXTRA_FDS",
        m.fds.length === 0
          ? "Cannot receive socket session: no fd forwarded"
          : `Cannot receive socket session: ${m.fds.length} fds forwarded, expected 1`,
      );
    }
    this.#fd = m.fds[0]!;
  }

  /** Fails if a read with fds ended at or before stream offset `bound`. */
  #checkInside(bound: number, phase: string): void {
    const m = this.#marks[0];
    if (m !== undefined && m.end <= bound) throw extraFds(`(${phase})`);
  }

  #more(phase: string, have: number, want: number): null {
    if (!this.#eof) return null;
    if (this.#marks.length > 0) throw extraFds(`(${phase})`);
    throw new SocketSessionError(
      "INCOMPLETE",
      `Cannot receive socket session: incomplete data from forwarder at ${phase} ${have}/${want}`,
    );
  }

  /**
   * Hands over every fd the stream still holds (the current session's and
   * those of reads not yet matched to a session), for the caller to close:
   * after an error, or when the receiver closes.
   *
   * @returns The fds.
   */
  releaseFds(): number[] {
    const fds = this.#marks.flatMap((m) => m.fds);
    if (this.#fd >= 0) fds.push(this.#fd);
    this.#marks = [];
    this.#fd = -1;
    return fds;
  }
}

function extraFds(where: string): SocketSessionError {
  return new SocketSessionError(
    "EXTRA_FDS",
    `Cannot receive socket session: fd inside the session ${where}`,
  );
}
