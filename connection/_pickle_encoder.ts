// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// The pickler: writes the same bytes as CPython's C pickler (3.8-3.14) for
// the same value at protocols 2-5: memo, batches of 1000 (with CPython's
// single-item and empty-trailing-batch quirks) and frames (connection.md
// sections 4.3-4.5).

import { OP } from "./_pickle_opcodes.ts";
import { utf8Length, writeUtf8 } from "./_pickle_utf8.ts";
import { ByteArray, FrozenSet, PyFloat, Tuple } from "./pickle_types.ts";
import { pickleReduce, PyGlobal, PyReduce } from "./pickle_reduce.ts";

/** Encoder settings with every default filled in. */
export interface EncoderSettings {
  protocol: 2 | 3 | 4 | 5;
  maxDepth: number;
}

const BATCH = 1000;
/** Plain objects with at most this many keys share equal keys (saveKey). */
const MAX_SHARED_KEYS = 64;
const FRAME_TARGET = 65536;
const FRAME_MIN = 4;
const HEADER = 9;

// Identities of the globals and constants CPython memoizes once per pickle.
const G_CODECS_ENCODE = { module: "_codecs", name: "encode" };
const G_BYTES = { module: "builtins", name: "bytes" };
const G_BYTEARRAY = { module: "builtins", name: "bytearray" };
const G_SET = { module: "builtins", name: "set" };
const G_FROZENSET = { module: "builtins", name: "frozenset" };
type GlobalId = typeof G_BYTES;
type Reducible = { [pickleReduce](): unknown };
const LATIN1 = { str: "latin1" };

const PYFLOAT_PROTO: object = PyFloat.prototype;

let spare: Encoder | null = null;
const MAX_KEPT_BUFFER = 4 * 1024 * 1024;

/** The value of the lower-case hex digit with char code `c`. */
function hexDigit(c: number): number {
  return c <= 0x39 ? c - 0x30 : c - 0x57;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value as object).constructor?.name ?? "object";
}

/** Pickles `value`; throws `TypeError`/`RangeError` for what it cannot. */
export function encodePickle(
  value: unknown,
  settings: EncoderSettings,
): Uint8Array<ArrayBuffer> {
  return withEncoder(value, settings, (enc) => enc.result());
}

/**
 * Pickles `value` into `target` and returns the number of bytes written;
 * throws a `RangeError` naming the size needed when `target` is too small
 * (then `target` is left unchanged).
 */
export function encodePickleInto(
  value: unknown,
  settings: EncoderSettings,
  target: Uint8Array,
): number {
  return withEncoder(value, settings, (enc) => enc.resultInto(target));
}

/**
 * Pickles `value` as chunks whose concatenation is the pickle: payloads of
 * 64 KiB or more (bytes, bytearray) are views of the caller's buffers, not
 * copies; the bytes between them are fresh copies.
 */
export function encodePickleChunks(
  value: unknown,
  settings: EncoderSettings,
): Uint8Array[] {
  return withEncoder(value, settings, (enc) => enc.chunks());
}

function withEncoder<R>(
  value: unknown,
  settings: EncoderSettings,
  finish: (enc: Encoder) => R,
): R {
  // One encoder (and its buffer) is reused; a reentrant call (a getter
  // calling dumps()) gets its own.
  const enc = spare ?? new Encoder(new Uint8Array(16384));
  spare = null;
  enc.reset(settings);
  try {
    enc.dump(value);
    return finish(enc);
  } finally {
    enc.release();
    spare = enc;
  }
}

class Encoder {
  buf: Uint8Array<ArrayBuffer>;
  view: DataView;
  pos = 0;
  proto: number;
  framing = false;
  frameStart = -1;
  memo: Map<object, number> = new Map();
  /** Dict keys (str) already written, by value: see saveKey(). */
  keyMemo: Map<string, number> = new Map();
  memoLen = 0;
  depth = 0;
  ext: Uint8Array[] = [];
  extAt: number[] = [];
  maxDepth = 0;

  constructor(buf: Uint8Array<ArrayBuffer>) {
    this.buf = buf;
    this.view = new DataView(buf.buffer);
    this.proto = 4;
  }

  reset(s: EncoderSettings): void {
    this.proto = s.protocol;
    this.maxDepth = s.maxDepth;
    this.pos = 0;
    this.framing = false;
    this.frameStart = -1;
    this.memoLen = 0;
    this.depth = 0;
  }

  /** Drops every reference to the caller's values; keeps a small buffer. */
  release(): void {
    if (this.memo.size > 0) this.memo.clear();
    if (this.keyMemo.size > 0) this.keyMemo.clear();
    this.ext.length = 0;
    this.extAt.length = 0;
    if (this.buf.length > MAX_KEPT_BUFFER) {
      this.buf = new Uint8Array(16384);
      this.view = new DataView(this.buf.buffer);
    }
  }

  dump(value: unknown): void {
    this.ensure(2);
    this.buf[this.pos++] = OP.PROTO;
    this.buf[this.pos++] = this.proto;
    if (this.proto >= 4) this.framing = true;
    this.save(value);
    this.ensure(1);
    this.buf[this.pos++] = OP.STOP;
    this.commitFrame();
    this.framing = false;
  }

  grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Makes room for `n` bytes, opening a frame first when framing. */
  ensure(n: number): void {
    if (this.framing && this.frameStart < 0) {
      if (this.pos + HEADER > this.buf.length) this.grow(HEADER);
      this.frameStart = this.pos;
      this.pos += HEADER;
    }
    if (this.pos + n > this.buf.length) this.grow(n);
  }

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

  op(code: number): void {
    this.ensure(1);
    this.buf[this.pos++] = code;
  }

  memoPut(obj: object | null): void {
    const idx = this.memoLen++;
    if (obj !== null) this.memo.set(obj, idx);
    if (this.proto >= 4) this.op(OP.MEMOIZE);
    else this.memoOp(OP.BINPUT, OP.LONG_BINPUT, idx);
  }

  memoGet(idx: number): void {
    this.memoOp(OP.BINGET, OP.LONG_BINGET, idx);
  }

  /** A memo opcode: the 1-byte index form below 256, else the 4-byte one. */
  memoOp(short: number, long: number, idx: number): void {
    if (idx < 256) {
      this.ensure(2);
      this.buf[this.pos++] = short;
      this.buf[this.pos++] = idx;
    } else {
      this.ensure(5);
      this.buf[this.pos++] = long;
      this.view.setUint32(this.pos, idx, true);
      this.pos += 4;
    }
  }

  save(v: unknown): void {
    this.boundary();
    switch (typeof v) {
      case "number":
        if (Number.isInteger(v) && !(v === 0 && 1 / v < 0)) this.saveInt(v);
        else this.saveFloat(v);
        break;
      case "string":
        this.saveStr(v);
        break;
      case "boolean":
        this.ensure(1);
        this.buf[this.pos++] = v ? OP.NEWTRUE : OP.NEWFALSE;
        break;
      case "bigint":
        this.saveBigInt(v);
        break;
      case "object":
        if (v === null) {
          this.ensure(1);
          this.buf[this.pos++] = OP.NONE;
        } else {
          this.saveObject(v);
        }
        break;
      default:
        throw new TypeError(
          `Cannot pickle value: ${typeof v} has no Python equivalent`,
        );
    }
  }

  saveInt(v: number): void {
    if (v >= 0) {
      if (v <= 0xff) {
        this.ensure(2);
        this.buf[this.pos++] = OP.BININT1;
        this.buf[this.pos++] = v;
        return;
      }
      if (v <= 0xffff) {
        this.ensure(3);
        this.buf[this.pos++] = OP.BININT2;
        this.buf[this.pos++] = v & 0xff;
        this.buf[this.pos++] = v >> 8;
        return;
      }
    }
    if (v >= -0x80000000 && v <= 0x7fffffff) {
      this.ensure(5);
      this.buf[this.pos++] = OP.BININT;
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
    this.ensure(2 + 8);
    const buf = this.buf;
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
    this.ensure(9);
    this.buf[this.pos++] = OP.BINFLOAT;
    this.view.setFloat64(this.pos, f, false);
    this.pos += 8;
  }

  saveStr(s: string): void {
    const n = s.length;
    if (this.proto >= 4) {
      if (n < 86) {
        this.ensure(2 + 3 * n);
        const start = this.pos + 2;
        const end = writeUtf8(s, this.buf, start);
        this.buf[this.pos] = OP.SHORT_BINUNICODE;
        this.buf[this.pos + 1] = end - start;
        this.pos = end;
      } else if (n < 21846) {
        this.ensure(5 + 3 * n);
        const start = this.pos + 5;
        const end = writeUtf8(s, this.buf, start);
        const len = end - start;
        if (len < 256) {
          this.buf[this.pos] = OP.SHORT_BINUNICODE;
          this.buf[this.pos + 1] = len;
          this.buf.copyWithin(this.pos + 2, start, end);
          this.pos += 2 + len;
        } else {
          this.buf[this.pos] = OP.BINUNICODE;
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
      this.ensure(5 + 3 * n);
      const start = this.pos + 5;
      const end = writeUtf8(s, this.buf, start);
      this.buf[this.pos] = OP.BINUNICODE;
      this.view.setUint32(this.pos + 1, end - start, true);
      this.pos = end;
    }
    this.memoPut(null);
  }

  /**
   * A str dict key of a plain object of at most MAX_SHARED_KEYS keys. Equal keys are written once and then
   * fetched from the memo, as CPython does for the keys it shares (the
   * interned identifiers of dict literals and of objects' attributes):
   * `[{"host": 1}, {"host": 2}]` gives the same bytes as in CPython.
   */
  saveKey(k: string): void {
    const idx = this.keyMemo.get(k);
    if (idx !== undefined) {
      this.memoGet(idx);
      return;
    }
    this.keyMemo.set(k, this.memoLen);
    this.saveStr(k);
  }

  /**
   * Writes the opcode and length of a payload of `len` bytes and makes room
   * for it. A payload of 64 KiB or more goes outside any frame (CPython's
   * `_Pickler_write_bytes`); the caller writes the payload and then turns
   * `framing` back on when it was turned off here.
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
    this.ensure(1 + lenSize + reserve);
    this.buf[this.pos++] = code;
    if (lenSize === 1) {
      this.buf[this.pos++] = len;
    } else if (lenSize === 4) {
      this.view.setUint32(this.pos, len, true);
      this.pos += 4;
    } else {
      this.view.setUint32(this.pos, len % 2 ** 32, true);
      this.view.setUint32(this.pos + 4, Math.floor(len / 2 ** 32), true);
      this.pos += 8;
    }
  }

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

  /** The pickle: the buffer with the large payloads spliced in. */
  /** The pickle's length: the buffer plus the payloads kept outside it. */
  size(): number {
    let total = this.pos;
    for (const e of this.ext) total += e.length;
    return total;
  }

  result(): Uint8Array<ArrayBuffer> {
    if (this.ext.length === 0) return this.buf.slice(0, this.pos);
    const out = new Uint8Array(this.size());
    this.copyTo(out);
    return out;
  }

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

  saveObject(o: object): void {
    const proto = Object.getPrototypeOf(o);
    if (proto === PYFLOAT_PROTO) {
      this.saveFloat((o as PyFloat).value);
      return;
    }
    const idx = this.memo.get(o);
    if (idx !== undefined) {
      this.memoGet(idx);
      return;
    }
    if (++this.depth > this.maxDepth) {
      throw new RangeError(
        `Cannot pickle value: nesting depth exceeds the maximum of ${this.maxDepth}`,
      );
    }
    if (proto === Object.prototype || proto === null) {
      this.saveRecord(o as Record<string, unknown>);
    } else if (Array.isArray(o)) this.saveList(o);
    else if (o instanceof Uint8Array) this.saveBytes(o, o);
    else if (o instanceof Tuple) this.saveTuple(o);
    else if (o instanceof Map) this.saveMap(o);
    else if (o instanceof Set) this.saveSet(o);
    else if (o instanceof FrozenSet) this.saveFrozenSet(o);
    else if (o instanceof ByteArray) this.saveByteArray(o);
    else if (o instanceof PyFloat) this.saveFloat(o.value);
    else if (o instanceof PyReduce) this.saveReduce(o);
    else if (o instanceof PyGlobal) this.saveGlobal(o);
    else if (typeof (o as Reducible)[pickleReduce] === "function") {
      this.saveReduced(o as Reducible);
    } else {
      throw new TypeError(
        `Cannot pickle value: ${describe(o)} has no Python equivalent`,
      );
    }
    this.depth--;
  }

  saveBytes(b: Uint8Array, identity: object | null): void {
    const n = b.length;
    if (this.proto >= 3) {
      if (n < 256) {
        this.ensure(2 + n);
        this.buf[this.pos++] = OP.SHORT_BINBYTES;
        this.buf[this.pos++] = n;
        this.buf.set(b, this.pos);
        this.pos += n;
      } else if (n < 2 ** 32) {
        this.writePayload(OP.BINBYTES, 4, b);
      } else {
        this.writePayload(OP.BINBYTES8, 8, b);
      }
      this.memoPut(identity);
      return;
    }
    // Protocol 2 has no bytes opcode: CPython writes a call.
    // Each boundary() below stands for one of CPython's nested save() calls.
    if (n === 0) {
      this.saveGlobal(G_BYTES);
      this.boundary();
      this.op(OP.EMPTY_TUPLE);
    } else {
      this.saveGlobal(G_CODECS_ENCODE);
      this.boundary();
      let latin1 = "";
      for (let i = 0; i < n; i += 4096) {
        latin1 += String.fromCharCode(...b.subarray(i, Math.min(n, i + 4096)));
      }
      this.boundary();
      this.saveStr(latin1);
      this.boundary();
      const k = this.memo.get(LATIN1);
      if (k !== undefined) this.memoGet(k);
      else {
        this.saveStr(LATIN1.str);
        this.memo.set(LATIN1, this.memoLen - 1);
      }
      this.op(OP.TUPLE2);
      this.memoPut(null);
    }
    this.op(OP.REDUCE);
    this.memoPut(identity);
  }

  saveGlobal(g: GlobalId): void {
    this.boundary();
    const idx = this.memo.get(g);
    if (idx !== undefined) {
      this.memoGet(idx);
    } else if (this.proto >= 4) {
      this.boundary();
      this.saveStr(g.module);
      this.boundary();
      this.saveStr(g.name);
      this.op(OP.STACK_GLOBAL);
      this.memoPut(g);
    } else {
      const module = this.proto < 3 && g.module === "builtins"
        ? "__builtin__"
        : g.module;
      const text = `${module}\n${g.name}\n`;
      this.ensure(1 + text.length);
      this.buf[this.pos++] = OP.GLOBAL;
      for (let i = 0; i < text.length; i++) {
        this.buf[this.pos++] = text.charCodeAt(i);
      }
      this.memoPut(g);
    }
  }

  saveList(a: readonly unknown[]): void {
    this.op(OP.EMPTY_LIST);
    this.memoPut(a);
    this.batchList(a);
  }

  batchList(a: readonly unknown[]): void {
    const n = a.length;
    if (n === 1) {
      this.save(a[0]);
      this.op(OP.APPEND);
      return;
    }
    let i = 0;
    while (i < n) {
      this.op(OP.MARK);
      const stop = Math.min(n, i + BATCH);
      for (; i < stop; i++) this.save(a[i]);
      this.op(OP.APPENDS);
    }
  }

  saveTuple(t: Tuple<readonly unknown[]>): void {
    const items = t.items;
    const n = items.length;
    if (n === 0) {
      this.op(OP.EMPTY_TUPLE);
      return;
    }
    if (n <= 3) {
      const before = this.memo.size;
      for (let i = 0; i < n; i++) this.save(items[i]);
      // Saving the items memoized this tuple only when they hold it (then
      // the memo grew).
      const idx = this.memo.size === before ? undefined : this.memo.get(t);
      if (idx !== undefined) {
        // Recursive: saving the items already saved this tuple.
        for (let i = 0; i < n; i++) this.op(OP.POP);
        this.memoGet(idx);
        return;
      }
      this.op(OP.TUPLE1 + n - 1);
    } else {
      this.op(OP.MARK);
      const before = this.memo.size;
      for (let i = 0; i < n; i++) this.save(items[i]);
      const idx = this.memo.size === before ? undefined : this.memo.get(t);
      if (idx !== undefined) {
        this.op(OP.POP_MARK);
        this.memoGet(idx);
        return;
      }
      this.op(OP.TUPLE);
    }
    this.memoPut(t);
  }

  /** A plain object: a dict with str keys. */
  saveRecord(rec: Record<string, unknown>): void {
    this.op(OP.EMPTY_DICT);
    this.memoPut(rec);
    const keys = Object.keys(rec);
    const size = keys.length;
    if (size === 0) return;
    if (size === 1) {
      this.boundary();
      this.saveKey(keys[0]!);
      this.save(rec[keys[0]!]);
      this.op(OP.SETITEM);
      return;
    }
    // Records (few keys, repeated across many dicts) share their keys;
    // a big dict's keys rarely repeat elsewhere: no lookup for them.
    const shareKeys = size <= MAX_SHARED_KEYS;
    let i = 0;
    let count: number;
    do {
      this.op(OP.MARK);
      count = 0;
      while (i < size) {
        const k = keys[i++]!;
        this.boundary();
        if (shareKeys) this.saveKey(k);
        else this.saveStr(k);
        this.save(rec[k]);
        if (++count === BATCH) break;
      }
      this.op(OP.SETITEMS);
    } while (count === BATCH);
  }

  /** A Map or PyDict: a dict with any keys. */
  saveMap(map: Map<unknown, unknown>): void {
    this.op(OP.EMPTY_DICT);
    this.memoPut(map);
    const size = map.size;
    if (size === 0) return;
    const entries = map.entries();
    if (size === 1) {
      const e = entries.next();
      if (!e.done) {
        this.save(e.value[0]);
        this.save(e.value[1]);
      }
      this.op(OP.SETITEM);
      return;
    }
    let count: number;
    do {
      this.op(OP.MARK);
      count = 0;
      for (let e = entries.next(); !e.done; e = entries.next()) {
        this.save(e.value[0]);
        this.save(e.value[1]);
        if (++count === BATCH) break;
      }
      this.op(OP.SETITEMS);
    } while (count === BATCH);
  }

  saveSet(set: Set<unknown>): void {
    if (this.proto < 4) {
      this.saveReduceWithList(G_SET, set, [...set]);
      return;
    }
    this.op(OP.EMPTY_SET);
    this.memoPut(set);
    if (set.size === 0) return;
    const it = set.values();
    let count: number;
    do {
      this.op(OP.MARK);
      count = 0;
      for (let e = it.next(); !e.done; e = it.next()) {
        this.save(e.value);
        if (++count === BATCH) break;
      }
      this.op(OP.ADDITEMS);
    } while (count === BATCH);
  }

  saveFrozenSet(fs: FrozenSet): void {
    if (this.proto < 4) {
      this.saveReduceWithList(G_FROZENSET, fs, [...fs]);
      return;
    }
    this.op(OP.MARK);
    for (const item of fs) this.save(item);
    const idx = this.memo.get(fs);
    if (idx !== undefined) {
      this.op(OP.POP_MARK);
      this.memoGet(idx);
      return;
    }
    this.op(OP.FROZENSET);
    this.memoPut(fs);
  }

  /** `callable((list,))` as CPython's save_reduce writes it. */
  saveReduceWithList(g: GlobalId, obj: object, items: unknown[]): void {
    this.saveGlobal(g);
    this.boundary(); // the argument tuple
    this.boundary(); // the list in it
    this.op(OP.EMPTY_LIST);
    this.memoPut(null);
    this.batchList(items);
    this.op(OP.TUPLE1);
    this.memoPut(null);
    this.op(OP.REDUCE);
    this.memoPut(obj);
  }

  /** CPython's save_reduce: the callable, the args, NEWOBJ/REDUCE, BUILD. */
  saveReduce(r: PyReduce): void {
    this.saveGlobal(r.callable);
    this.save(r.args);
    this.op(r.newobj ? OP.NEWOBJ : OP.REDUCE);
    this.memoPut(r);
    if (r.state !== undefined) {
      this.save(r.state);
      this.op(OP.BUILD);
    }
  }

  /** An object with a [pickleReduce]() method, memoized as itself. */
  saveReduced(o: Reducible): void {
    const r = o[pickleReduce]();
    if (r instanceof PyGlobal) {
      this.saveGlobal(r);
    } else if (r instanceof PyReduce) {
      this.saveReduce(r);
    } else {
      throw new TypeError(
        `Cannot pickle value: [pickleReduce]() of ${
          describe(o)
        } returned no PyReduce`,
      );
    }
    this.memo.set(o, this.memo.get(r)!);
  }

  saveByteArray(ba: ByteArray): void {
    const b = ba.bytes;
    if (!(b instanceof Uint8Array)) {
      throw new TypeError(
        "Cannot pickle value: ByteArray holds a non-Uint8Array",
      );
    }
    if (this.proto >= 5) {
      this.writePayload(OP.BYTEARRAY8, 8, b);
      this.memoPut(ba);
      return;
    }
    this.saveGlobal(G_BYTEARRAY);
    this.boundary(); // the argument tuple
    if (b.length === 0) {
      this.op(OP.EMPTY_TUPLE);
    } else {
      this.boundary(); // the bytes in it
      this.saveBytes(b, null);
      this.op(OP.TUPLE1);
      this.memoPut(null);
    }
    this.op(OP.REDUCE);
    this.memoPut(ba);
  }
}
