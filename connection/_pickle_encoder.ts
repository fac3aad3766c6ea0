// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// The pickler: writes the same bytes as CPython's C pickler (3.8-3.14) for
// the same value at protocols 2-5: memo, batches of 1000 (with CPython's
// single-item and empty-trailing-batch quirks) and frames (connection.md
// sections 4.3-4.5). This file walks the value: containers and the memo
// of objects; _pickle_records.ts writes plain objects (shared keys),
// _pickle_scalars.ts numbers and strings, _pickle_writer.ts holds the
// output buffer and its frames.

import { OP } from "./_pickle_opcodes.ts";
import { BATCH, RecordWriter } from "./_pickle_records.ts";
import { memoIndexOf, stampMemoIndex, Tuple } from "./_pickle_tuple.ts";
import { ByteArray, FrozenSet, PyFloat } from "./pickle_types.ts";
import { pickleReduce, PyGlobal, PyReduce } from "./pickle_reduce.ts";

/** Encoder settings with every default filled in. */
export interface EncoderSettings {
  protocol: 2 | 3 | 4 | 5;
  maxDepth: number;
}

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

class Encoder extends RecordWriter {
  /** Memo indices of the objects saved so far (tuples: see `pickle`). */
  memo: Map<object, number> = new Map();
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

  /** The memo put of the object just made; `obj` is found again. */
  memoPut(obj: object | null): void {
    if (obj !== null) this.memo.set(obj, this.memoLen);
    this.memoNew();
  }

  save(v: unknown): void {
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
    let idx: number | undefined;
    if (isArray || proto === OBJECT_PROTO) {
      // A record or a list: memoized right after its first opcode, so it
      // can take its memo entry now, in the same lookup that finds it.
      const next = this.memoLen;
      if (GET_OR_INSERT) idx = this.memo.getOrInsert(o, next);
      else {
        idx = this.memo.get(o);
        if (idx === undefined) this.memo.set(o, idx = next);
      }
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
