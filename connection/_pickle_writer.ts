// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// The pickler's output: one growable buffer (kept between calls), the
// protocol 4+ frames (CPython's framing: a frame is closed at the first
// object boundary after 64 KiB, payloads of 64 KiB or more go outside any
// frame), references to large payloads instead of copies, and the ways to
// hand the result out (a fresh copy, into a caller's buffer, as chunks).
// connection.md section 4.5. _pickle_encoder.ts decides what to write.

import { growBytes } from "../_internal/bytes.ts";
import { OP } from "./_pickle_opcodes.ts";

const FRAME_TARGET = 65536;
const FRAME_MIN = 4;
/** FRAME opcode and its 8-byte length. */
const HEADER = 9;
/** Buffers larger than this are not kept between calls. */
const MAX_KEPT_BUFFER = 4 * 1024 * 1024;

/** The output buffer of one pickle, with its frames. */
export class PickleWriter {
  buf: Uint8Array<ArrayBuffer>;
  view: DataView;
  pos = 0;
  /** Whether frames are written (protocol 4+, outside large payloads). */
  framing = false;
  /** Where the open frame's header is, or -1. */
  frameStart = -1;
  /** Payloads kept by reference, and where each goes in the output. */
  ext: Uint8Array[] = [];
  extAt: number[] = [];

  constructor() {
    this.buf = new Uint8Array(16384);
    this.view = new DataView(this.buf.buffer);
  }

  /** Starts a new pickle. */
  resetOutput(): void {
    this.pos = 0;
    this.framing = false;
    this.frameStart = -1;
  }

  /** Drops the references to the caller's payloads; keeps a small buffer. */
  releaseOutput(): void {
    this.ext.length = 0;
    this.extAt.length = 0;
    if (this.buf.length > MAX_KEPT_BUFFER) {
      this.buf = new Uint8Array(16384);
      this.view = new DataView(this.buf.buffer);
    }
  }

  grow(n: number): void {
    this.buf = growBytes(this.buf, this.pos, this.pos + n);
    this.view = new DataView(this.buf.buffer);
  }

  /**
   * Makes room for `n` bytes at `pos`, opening a frame first when framing;
   * returns the buffer to write them into.
   */
  ensure(n: number): Uint8Array<ArrayBuffer> {
    if (this.frameStart < 0 && this.framing) {
      if (this.pos + HEADER > this.buf.length) this.grow(HEADER);
      this.frameStart = this.pos;
      this.pos += HEADER;
    }
    if (this.pos + n > this.buf.length) this.grow(n);
    return this.buf;
  }

  /** Closes the open frame (a frame under 4 bytes is dropped: CPython). */
  commitFrame(): void {
    const start = this.frameStart;
    if (start < 0) return;
    const len = this.pos - start - HEADER;
    if (len >= FRAME_MIN) {
      this.buf[start] = OP.FRAME;
      this.view.setUint32(start + 1, len % 2 ** 32, true);
      this.view.setUint32(start + 5, Math.floor(len / 2 ** 32), true);
    } else {
      this.buf.copyWithin(start, start + HEADER, this.pos);
      this.pos -= HEADER;
    }
    this.frameStart = -1;
  }

  /** Start of saving one object: CPython's `_Pickler_OpcodeBoundary`. */
  boundary(): void {
    if (
      this.frameStart >= 0 &&
      this.pos - this.frameStart - HEADER >= FRAME_TARGET
    ) {
      this.commitFrame();
    }
  }

  /**
   * The position from which boundary() closes the open frame: an object
   * starting before it needs no boundary() check. 0 when no frame is open
   * (then ensure() opens one first).
   */
  frameLimit(): number {
    const start = this.frameStart;
    if (start >= 0) return start + HEADER + FRAME_TARGET;
    return this.framing ? 0 : Infinity;
  }

  op(code: number): void {
    this.ensure(1)[this.pos++] = code;
  }

  /** A memo opcode: the 1-byte index form below 256, else the 4-byte one. */
  memoOp(short: number, long: number, idx: number): void {
    if (idx < 256) {
      const buf = this.ensure(2);
      buf[this.pos++] = short;
      buf[this.pos++] = idx;
    } else {
      this.ensure(5)[this.pos++] = long;
      this.view.setUint32(this.pos, idx, true);
      this.pos += 4;
    }
  }

  /**
   * Writes the opcode and length of a payload of `len` bytes and makes room
   * for `reserve` bytes. A payload of 64 KiB or more goes outside any frame
   * (CPython's `_Pickler_write_bytes`); the caller writes the payload and
   * then turns `framing` back on when it was turned off here.
   */
  writeLarge(
    code: number,
    len: number,
    lenSize: 1 | 4 | 8,
    reserve: number = len,
  ): void {
    if (this.framing && len >= FRAME_TARGET) {
      this.commitFrame();
      this.framing = false;
    }
    const buf = this.ensure(1 + lenSize + reserve);
    buf[this.pos++] = code;
    if (lenSize === 1) {
      buf[this.pos++] = len;
    } else if (lenSize === 4) {
      this.view.setUint32(this.pos, len, true);
      this.pos += 4;
    } else {
      this.view.setUint32(this.pos, len % 2 ** 32, true);
      this.view.setUint32(this.pos + 4, Math.floor(len / 2 ** 32), true);
      this.pos += 8;
    }
  }

  /** A bytes-like payload with its opcode and length. */
  writePayload(code: number, lenSize: 1 | 4 | 8, b: Uint8Array): void {
    const wasFraming = this.framing;
    if (b.length >= FRAME_TARGET) {
      // Large payloads are outside any frame: keep a reference and copy
      // them once, straight into the result.
      this.writeLarge(code, b.length, lenSize, 0);
      this.extAt.push(this.pos);
      this.ext.push(b);
    } else {
      this.writeLarge(code, b.length, lenSize);
      this.buf.set(b, this.pos);
      this.pos += b.length;
    }
    this.framing = wasFraming;
  }

  /** The pickle's length: the buffer plus the payloads kept outside it. */
  size(): number {
    let total = this.pos;
    for (const e of this.ext) total += e.length;
    return total;
  }

  /** The pickle in a fresh buffer. */
  result(): Uint8Array<ArrayBuffer> {
    if (this.ext.length === 0) return this.buf.slice(0, this.pos);
    const out = new Uint8Array(this.size());
    this.copyTo(out);
    return out;
  }

  /** Writes the pickle into `target`; returns its length. */
  resultInto(target: Uint8Array): number {
    const total = this.size();
    if (total > target.length) {
      throw new RangeError(
        `Cannot pickle value into buffer: ${total} bytes are needed, the buffer has ${target.length}`,
      );
    }
    this.copyTo(target);
    return total;
  }

  /** The pickle as chunks: copies of the buffer, views of the payloads. */
  chunks(): Uint8Array[] {
    const { buf, pos, ext, extAt } = this;
    const out: Uint8Array[] = [];
    let prev = 0;
    for (let i = 0; i < ext.length; i++) {
      const at = extAt[i]!;
      if (at > prev) out.push(buf.slice(prev, at));
      out.push(ext[i]!);
      prev = at;
    }
    out.push(buf.slice(prev, pos));
    return out;
  }

  /** Writes the whole pickle at the start of `out` (large enough). */
  copyTo(out: Uint8Array): void {
    const { buf, pos, ext, extAt } = this;
    let o = 0;
    let prev = 0;
    for (let i = 0; i < ext.length; i++) {
      const at = extAt[i]!;
      out.set(buf.subarray(prev, at), o);
      o += at - prev;
      out.set(ext[i]!, o);
      o += ext[i]!.length;
      prev = at;
    }
    out.set(buf.subarray(prev, pos), o);
  }
}
