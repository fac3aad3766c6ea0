// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// The pickler: writes the same bytes as CPython's C pickler (3.8-3.14) for
// the same value at protocols 2-5: memo, batches of 1000 (with CPython's
// single-item and empty-trailing-batch quirks) and frames (connection.md
// sections 4.3-4.5). This file walks the value: the plain kinds inline in
// save(), lists, tuples and the memo of objects; _pickle_pyobjects.ts
// writes bytes, globals, Maps, sets and reduce calls, _pickle_records.ts
// plain objects (shared keys), _pickle_scalars.ts numbers and strings,
// _pickle_writer.ts holds the output buffer and its frames.

import { OP } from "./_pickle_opcodes.ts";
import { BATCH } from "./_pickle_records.ts";
import {
  describe,
  PyObjectWriter,
  type Reducible,
} from "./_pickle_pyobjects.ts";
import { writeShortStr } from "./_pickle_scalars.ts";
import { memoIndexOf, stampMemoIndex, Tuple } from "./_pickle_tuple.ts";
import { ByteArray, FrozenSet, PyFloat } from "./pickle_types.ts";
import { pickleReduce, PyGlobal, PyReduce } from "./pickle_reduce.ts";

/** Encoder settings with every default filled in. */
export interface EncoderSettings {
  protocol: 2 | 3 | 4 | 5;
  maxDepth: number;
}

const PYFLOAT_PROTO: object = PyFloat.prototype;
const TUPLE_PROTO: object = Tuple.prototype;
const OBJECT_PROTO: object = Object.prototype;
const ARRAY_PROTO: object = Array.prototype;
/** Map.prototype.getOrInsert (one hash lookup instead of get + set). */
const GET_OR_INSERT = typeof Map.prototype.getOrInsert === "function";

/** The encoder kept for the next top-level call. */
let spare: Encoder | null = null;
/** Whether a top-level call is running (a nested one gets its own). */
let encoding = false;
/** Numbers the top-level pickles, for the tuples' memo stamps. */
let pickles = 0;

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
  // One encoder (and its buffer) is reused. A nested call (a getter calling
  // dumps()) gets its own, which memoizes tuples in its Map: only the
  // top-level pickle stamps tuples.
  const top = !encoding;
  const enc = (top ? spare : null) ?? new Encoder();
  if (top) {
    spare = null;
    encoding = true;
  }
  enc.reset(settings, top ? ++pickles : 0);
  try {
    enc.dump(value);
    return finish(enc);
  } finally {
    enc.release();
    if (top) {
      spare = enc;
      encoding = false;
    }
  }
}

class Encoder extends PyObjectWriter {
  depth = 0;
  maxDepth = 0;
  /**
   * This pickle's number when it stamps tuples with their memo index
   * (see _pickle_tuple.ts), or 0 when tuples go in `memo` too.
   */
  pickle = 0;

  reset(s: EncoderSettings, pickle: number): void {
    this.proto = s.protocol;
    this.maxDepth = s.maxDepth;
    this.pickle = pickle;
    this.resetOutput();
    this.memoLen = 0;
    this.depth = 0;
  }

  /**
   * Drops every reference to the caller's values; keeps a small buffer.
   * The maps are replaced, not cleared: V8 fills a cleared Map (kept in the
   * old generation) about twice as slowly as a new one.
   */
  release(): void {
    if (this.memo.size > 0) this.memo = new Map();
    this.releaseKeys();
    this.releaseOutput();
  }

  dump(value: unknown): void {
    const buf = this.ensure(2);
    buf[this.pos++] = OP.PROTO;
    buf[this.pos++] = this.proto;
    if (this.proto >= 4) this.framing = true;
    this.save(value);
    this.op(OP.STOP);
    this.commitFrame();
    this.framing = false;
  }

  /**
   * Pickles one value. At protocol 4+, when the value starts before the
   * open frame's limit with room to spare (so it needs no boundary() and
   * no ensure()), the plain kinds are written here with the position in a
   * local: int32s, floats, strs under 86 chars, booleans, null, and the
   * opening of a list or a plain object. Everything else goes to saveAny().
   */
  save(v: unknown): void {
    let p = this.pos;
    if (
      this.proto < 4 || p >= this.frameLimit() || p + 270 > this.buf.length
    ) {
      this.saveAny(v);
      return;
    }
    const buf = this.buf;
    if (typeof v === "number") {
      if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
        if (v >= 0 && v < 256) {
          buf[p++] = OP.BININT1;
          buf[p++] = v;
        } else if (v >= 0 && v < 65536) {
          buf[p++] = OP.BININT2;
          buf[p++] = v & 0xff;
          buf[p++] = v >> 8;
        } else {
          buf[p++] = OP.BININT;
          this.view.setInt32(p, v, true);
          p += 4;
        }
        this.pos = p;
        return;
      }
      if (Number.isInteger(v) && v !== 0) {
        this.saveAny(v);
        return;
      }
      buf[p] = OP.BINFLOAT;
      this.view.setFloat64(p + 1, v, false);
      this.pos = p + 9;
      return;
    }
    if (typeof v === "string") {
      if (v.length >= 86) {
        this.saveAny(v);
        return;
      }
      this.pos = writeShortStr(v, buf, p);
      this.memoLen++;
      return;
    }
    if (typeof v === "boolean") {
      buf[p] = v ? OP.NEWTRUE : OP.NEWFALSE;
      this.pos = p + 1;
      return;
    }
    if (v === null) {
      buf[p] = OP.NONE;
      this.pos = p + 1;
      return;
    }
    if (typeof v !== "object") {
      this.saveAny(v);
      return;
    }
    const isArray = Array.isArray(v);
    if (!isArray) {
      const proto = Object.getPrototypeOf(v);
      if (proto !== OBJECT_PROTO) {
        this.saveNonPlain(v, proto);
        return;
      }
    }
    const next = this.memoLen;
    const idx = this.memoTake(v, next);
    if (idx !== next) {
      this.memoGet(idx);
      return;
    }
    this.memoLen = next + 1;
    this.deeper();
    buf[p] = isArray ? OP.EMPTY_LIST : OP.EMPTY_DICT;
    buf[p + 1] = OP.MEMOIZE;
    this.pos = p + 2;
    if (isArray) this.batchList(v);
    else this.saveRecordItems(v as Record<string, unknown>);
    this.depth--;
  }

  /**
   * The memo index of `o`, giving it `next` if it has none yet (one hash
   * lookup where Map.prototype.getOrInsert exists).
   */
  memoTake(o: object, next: number): number {
    if (GET_OR_INSERT) return this.memo.getOrInsert(o, next);
    const idx = this.memo.get(o);
    if (idx !== undefined) return idx;
    this.memo.set(o, next);
    return next;
  }

  /** save() for any value, through the general writers. */
  saveAny(v: unknown): void {
    this.boundary();
    // `typeof v === "..."` tests compile to type checks; a switch over
    // `typeof v` calls the Typeof builtin and compares strings.
    if (typeof v === "number") {
      if (Number.isInteger(v) && !(v === 0 && 1 / v < 0)) this.saveInt(v);
      else this.saveFloat(v);
    } else if (typeof v === "string") {
      this.saveStr(v);
    } else if (typeof v === "object" && v !== null) {
      this.saveObject(v);
    } else {
      this.saveOther(v);
    }
  }

  /** null, booleans, bigints; a TypeError for what Python lacks. */
  saveOther(v: unknown): void {
    if (v === null) this.ensure(1)[this.pos++] = OP.NONE;
    else if (typeof v === "boolean") {
      this.ensure(1)[this.pos++] = v ? OP.NEWTRUE : OP.NEWFALSE;
    } else if (typeof v === "bigint") {
      this.saveBigInt(v);
    } else {
      throw new TypeError(
        `Cannot pickle value: ${typeof v} has no Python equivalent`,
      );
    }
  }

  saveObject(o: object): void {
    // Arrays first: Array.isArray() is cheaper than reading the prototype.
    const isArray = Array.isArray(o);
    const proto = isArray ? ARRAY_PROTO : Object.getPrototypeOf(o);
    if (isArray || proto === OBJECT_PROTO) {
      // A record or a list: memoized right after its first opcode, so it
      // can take its memo entry now, in the same lookup that finds it.
      const next = this.memoLen;
      const idx = this.memoTake(o, next);
      if (idx !== next) {
        this.memoGet(idx);
        return;
      }
      this.deeper();
      if (isArray) {
        this.opMemoized(OP.EMPTY_LIST);
        this.batchList(o as unknown[]);
      } else {
        this.opMemoized(OP.EMPTY_DICT);
        this.saveRecordItems(o as Record<string, unknown>);
      }
      this.depth--;
      return;
    }
    this.saveNonPlain(o, proto);
  }

  /** An object that is neither a list nor a plain object. */
  saveNonPlain(o: object, proto: object | null): void {
    let idx: number;
    if (proto === TUPLE_PROTO && this.pickle !== 0) {
      // A tuple: its stamp says whether this pickle memoized it.
      idx = memoIndexOf(o as Tuple, this.pickle);
      if (idx >= 0) {
        this.memoGet(idx);
        return;
      }
      this.deeper();
      this.saveTuple(o as Tuple, true);
      this.depth--;
      return;
    }
    this.saveOtherObject(o, proto);
  }

  /** Every object but a list, a plain object and (mostly) a tuple. */
  saveOtherObject(o: object, proto: object | null): void {
    if (proto === PYFLOAT_PROTO) {
      this.saveFloat((o as PyFloat).value);
      return;
    }
    const idx = this.memo.get(o);
    if (idx !== undefined) {
      this.memoGet(idx);
      return;
    }
    this.deeper();
    if (proto === null) {
      this.op(OP.EMPTY_DICT);
      this.memoPut(o);
      this.saveRecordItems(o as Record<string, unknown>);
    } else if (o instanceof Uint8Array) this.saveBytes(o, o);
    else if (o instanceof Tuple) this.saveTuple(o, false);
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

  /** One level deeper; throws past `maxDepth`. */
  deeper(): void {
    if (++this.depth > this.maxDepth) {
      throw new RangeError(
        `Cannot pickle value: nesting depth exceeds the maximum of ${this.maxDepth}`,
      );
    }
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
      for (; i < stop; i++) {
        const v = a[i];
        // Numbers and strings without save()'s dispatch (a recursive
        // function, which V8 does not inline here).
        if (typeof v === "number") {
          this.boundary();
          if (
            v >= 0 && v <= 0xffff && (v | 0) === v && (v !== 0 || 1 / v > 0)
          ) {
            const buf = this.ensure(3);
            let p = this.pos;
            if (v <= 0xff) {
              buf[p++] = OP.BININT1;
              buf[p++] = v;
            } else {
              buf[p++] = OP.BININT2;
              buf[p++] = v & 0xff;
              buf[p++] = v >> 8;
            }
            this.pos = p;
          } else if (Number.isInteger(v) && (v !== 0 || 1 / v > 0)) {
            this.saveInt(v);
          } else this.saveFloat(v);
        } else if (typeof v === "string") {
          this.boundary();
          this.saveStr(v);
        } else {
          this.save(v);
        }
      }
      this.op(OP.APPENDS);
    }
  }

  /**
   * A tuple; `stamped`: its memo index goes in its stamp (else in `memo`).
   * Saving the items memoized the tuple itself only when they hold it
   * (a recursive tuple): then CPython pops the items and fetches it.
   */
  saveTuple(t: Tuple<readonly unknown[]>, stamped: boolean): void {
    const items = t.items;
    const n = items.length;
    if (n === 0) {
      this.op(OP.EMPTY_TUPLE);
      return;
    }
    if (n > 3) this.op(OP.MARK);
    for (let i = 0; i < n; i++) this.save(items[i]);
    const idx = stamped ? memoIndexOf(t, this.pickle) : this.memo.get(t) ?? -1;
    if (idx >= 0) {
      if (n > 3) this.op(OP.POP_MARK);
      else for (let i = 0; i < n; i++) this.op(OP.POP);
      this.memoGet(idx);
      return;
    }
    if (stamped) {
      stampMemoIndex(t, this.pickle, this.memoLen);
      this.opMemoized(n > 3 ? OP.TUPLE : OP.TUPLE1 + n - 1);
    } else {
      this.op(n > 3 ? OP.TUPLE : OP.TUPLE1 + n - 1);
      this.memoPut(t);
    }
  }
}
