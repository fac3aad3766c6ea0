// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// The pickler's scalars, byte for byte as CPython writes them: ints
// (BININT1/BININT2/BININT, LONG1/LONG4 in minimal two's complement), floats
// (BINFLOAT), strs (SHORT_BINUNICODE/BINUNICODE/BINUNICODE8, surrogatepass
// UTF-8) and the memo opcodes. _pickle_encoder.ts decides what to write.

import { OP } from "./_pickle_opcodes.ts";
import { utf8Length, writeUtf8 } from "./_pickle_utf8.ts";
import { PickleWriter } from "./_pickle_writer.ts";

/** The value of the lower-case hex digit with char code `c`. */
function hexDigit(c: number): number {
  return c <= 0x39 ? c - 0x30 : c - 0x57;
}

/**
 * Writes a str of under 86 chars at protocol 4+ (SHORT_BINUNICODE, its
 * UTF-8, MEMOIZE) at `p` in `buf`, which has room for `3 + 3 * s.length`
 * bytes; returns the position after it. The caller counts the memo entry.
 */
export function writeShortStr(s: string, buf: Uint8Array, p: number): number {
  const start = p + 2;
  let q = start;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      q = writeUtf8(s, buf, q, i);
      break;
    }
    buf[q++] = c;
  }
  buf[p] = OP.SHORT_BINUNICODE;
  buf[p + 1] = q - start;
  buf[q] = OP.MEMOIZE;
  return q + 1;
}

/** Writes the scalar opcodes into a {@linkcode PickleWriter}. */
export class ScalarWriter extends PickleWriter {
  /** The protocol, 2 to 5. */
  proto = 4;
  /** The number of memo entries so far (the next memo index). */
  memoLen = 0;

  /** The memo put of the object just made (MEMOIZE, or BINPUT at < 4). */
  memoNew(): void {
    const idx = this.memoLen++;
    if (this.proto >= 4) this.op(OP.MEMOIZE);
    else this.memoOp(OP.BINPUT, OP.LONG_BINPUT, idx);
  }

  /** `code`, which makes a new object, then that object's memo put. */
  opMemoized(code: number): void {
    const idx = this.memoLen++;
    if (this.proto >= 4) {
      const buf = this.ensure(2);
      buf[this.pos++] = code;
      buf[this.pos++] = OP.MEMOIZE;
    } else {
      this.op(code);
      this.memoOp(OP.BINPUT, OP.LONG_BINPUT, idx);
    }
  }

  memoGet(idx: number): void {
    this.memoOp(OP.BINGET, OP.LONG_BINGET, idx);
  }

  saveInt(v: number): void {
    if (v >= 0) {
      if (v <= 0xff) {
        const buf = this.ensure(2);
        buf[this.pos++] = OP.BININT1;
        buf[this.pos++] = v;
        return;
      }
      if (v <= 0xffff) {
        const buf = this.ensure(3);
        buf[this.pos++] = OP.BININT2;
        buf[this.pos++] = v & 0xff;
        buf[this.pos++] = v >> 8;
        return;
      }
    }
    if (v >= -0x80000000 && v <= 0x7fffffff) {
      this.ensure(5)[this.pos++] = OP.BININT;
      this.view.setInt32(this.pos, v, true);
      this.pos += 4;
      return;
    }
    this.saveLongNumber(v);
  }

  saveBigInt(v: bigint): void {
    if (v >= -0x80000000n && v <= 0x7fffffffn) this.saveInt(Number(v));
    else if (v >= -9007199254740991n && v <= 9007199254740991n) {
      this.saveLongNumber(Number(v));
    } else this.saveLong(v);
  }

  /** LONG1 of a safe integer outside int32, without a BigInt. */
  saveLongNumber(v: number): void {
    if (!Number.isSafeInteger(v)) {
      this.saveLong(BigInt(v));
      return;
    }
    // 64-bit two's complement halves; exact for safe integers.
    const hi = Math.floor(v / 4294967296);
    const lo = v - hi * 4294967296;
    // Minimal length: the magnitude's bits plus a sign bit.
    const m = v < 0 ? -v - 1 : v;
    const mHi = Math.floor(m / 4294967296);
    const bits = mHi > 0 ? 64 - Math.clz32(mHi) : 32 - Math.clz32(m);
    const n = (bits >> 3) + 1;
    const buf = this.ensure(2 + 8);
    let p = this.pos;
    buf[p++] = OP.LONG1;
    buf[p++] = n;
    this.view.setUint32(p, lo, true);
    this.view.setInt32(p + 4, hi, true);
    this.pos = p + n;
  }

  /**
   * LONG1/LONG4: minimal little-endian two's complement. O(n): V8 prints a
   * bigint in hex in linear time, and the digits become bytes.
   */
  saveLong(v: bigint): void {
    const negative = v < 0n;
    // Two's complement of a negative v is the complement of -v - 1.
    const hex = (negative ? -v - 1n : v).toString(16);
    const h = hex.length;
    const top = parseInt(hex[0]!, 16);
    const bits = top === 0 ? 0 : 4 * (h - 1) + (32 - Math.clz32(top));
    const n = (bits >> 3) + 1;
    if (n < 256) {
      this.ensure(2 + n);
      this.buf[this.pos++] = OP.LONG1;
      this.buf[this.pos++] = n;
    } else {
      this.ensure(5 + n);
      this.buf[this.pos++] = OP.LONG4;
      this.view.setInt32(this.pos, n, true);
      this.pos += 4;
    }
    const buf = this.buf;
    const flip = negative ? 0xff : 0;
    const start = this.pos;
    // Byte i (little-endian) is hex digits h-2i-2 and h-2i-1.
    let i = 0;
    for (let d = h - 1; d >= 1; d -= 2, i++) {
      buf[start + i] = ((hexDigit(hex.charCodeAt(d - 1)) << 4) |
        hexDigit(hex.charCodeAt(d))) ^ flip;
    }
    if ((h & 1) === 1) buf[start + i++] = hexDigit(hex.charCodeAt(0)) ^ flip;
    for (; i < n; i++) buf[start + i] = flip;
    this.pos = start + n;
  }

  saveFloat(f: number): void {
    this.ensure(9)[this.pos++] = OP.BINFLOAT;
    this.view.setFloat64(this.pos, f, false);
    this.pos += 8;
  }

  /**
   * A str. The common case (protocol 4+, under 86 chars, ASCII) is kept
   * small, so that V8 inlines it into its callers; saveStrSlow() does the
   * rest.
   */
  saveStr(s: string): void {
    const n = s.length;
    if (n < 86 && this.proto >= 4) {
      this.pos = writeShortStr(s, this.ensure(3 + 3 * n), this.pos);
      this.memoLen++;
      return;
    }
    this.saveStrSlow(s);
  }

  /** A str of 86 chars or more, or any str at protocols 2 and 3. */
  saveStrSlow(s: string): void {
    const n = s.length;
    if (this.proto >= 4) {
      if (n < 21846) {
        const buf = this.ensure(5 + 3 * n);
        const start = this.pos + 5;
        const end = writeUtf8(s, buf, start);
        const len = end - start;
        if (len < 256) {
          buf[this.pos] = OP.SHORT_BINUNICODE;
          buf[this.pos + 1] = len;
          buf.copyWithin(this.pos + 2, start, end);
          this.pos += 2 + len;
        } else {
          buf[this.pos] = OP.BINUNICODE;
          this.view.setUint32(this.pos + 1, len, true);
          this.pos = end;
        }
      } else {
        const wasFraming = this.framing;
        this.writeLarge(OP.BINUNICODE, utf8Length(s), 4);
        this.pos = writeUtf8(s, this.buf, this.pos);
        this.framing = wasFraming;
      }
    } else {
      const buf = this.ensure(5 + 3 * n);
      const start = this.pos + 5;
      const end = writeUtf8(s, buf, start);
      buf[this.pos] = OP.BINUNICODE;
      this.view.setUint32(this.pos + 1, end - start, true);
      this.pos = end;
    }
    this.memoNew();
  }
}
