// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// The pickler's plain objects (dicts with str keys): batches of 1000 as
// CPython writes them, and equal keys of small records written once and
// then fetched from the memo, as CPython does for the interned keys that
// dict literals and attributes share. _pickle_encoder.ts walks the value.

import { OP } from "./_pickle_opcodes.ts";
import { ScalarWriter, writeShortStr } from "./_pickle_scalars.ts";

/** Items per MARK ... APPENDS/SETITEMS/ADDITEMS batch (CPython's). */
export const BATCH = 1000;
/** Plain objects with at most this many keys share equal keys (saveKey). */
const MAX_SHARED_KEYS = 64;

/** The keys of a record written before, and the memo index of each. */
interface KeyShape {
  keys: string[];
  indices: number[];
}

/** Writes plain objects; the encoder supplies save() for the values. */
export abstract class RecordWriter extends ScalarWriter {
  /** Dict keys (str) already written, by value: see saveKey(). */
  keyMemo: Map<string, number> = new Map();
  /**
   * Key lists of small records, by first key: a record with the same keys
   * as an earlier one fetches them all from the memo without a lookup each.
   */
  keyShapes: Map<string, KeyShape> = new Map();

  /** Pickles one value (the encoder's dispatch). */
  abstract save(v: unknown): void;

  /** Drops the keys of this pickle (new maps: see the encoder's release). */
  releaseKeys(): void {
    if (this.keyMemo.size > 0) this.keyMemo = new Map();
    if (this.keyShapes.size > 0) this.keyShapes = new Map();
  }

  /**
   * A str dict key of a plain object of at most MAX_SHARED_KEYS keys. Equal
   * keys are written once and then fetched from the memo, as CPython does
   * for the keys it shares (the interned identifiers of dict literals and
   * of objects' attributes): `[{"host": 1}, {"host": 2}]` gives the same
   * bytes as in CPython.
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

  /** The items of a plain object (a dict with str keys). */
  saveRecordItems(rec: Record<string, unknown>): void {
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
    if (size <= MAX_SHARED_KEYS) {
      // Records (few keys, repeated across many dicts) share their keys;
      // a big dict's keys rarely repeat elsewhere: no lookup for them.
      this.saveSharedKeyItems(rec, keys);
      return;
    }
    if (this.proto >= 4) {
      this.saveBigRecordItems(rec, keys);
      return;
    }
    let i = 0;
    let count: number;
    do {
      this.op(OP.MARK);
      count = 0;
      while (i < size) {
        const k = keys[i++]!;
        this.boundary();
        this.saveStr(k);
        this.save(rec[k]);
        if (++count === BATCH) break;
      }
      this.op(OP.SETITEMS);
    } while (count === BATCH);
  }

  /**
   * The items of a plain object of more than MAX_SHARED_KEYS keys at
   * protocol 4+. Keys of under 86 chars and float values are written in
   * this loop, with the output position in a local; the rest (and any item
   * that would need a new frame or more room) goes through saveStr() and
   * save().
   */
  saveBigRecordItems(rec: Record<string, unknown>, keys: string[]): void {
    const size = keys.length;
    let i = 0;
    let count: number;
    do {
      this.op(OP.MARK);
      const stop = Math.min(size, i + BATCH);
      count = stop - i;
      let buf = this.buf;
      let p = this.pos;
      let limit = this.frameLimit();
      for (; i < stop; i++) {
        const k = keys[i]!;
        const v = rec[k];
        const n = k.length;
        if (n >= 86 || p >= limit || p + 3 * n + 12 > buf.length) {
          this.pos = p;
          this.boundary();
          this.saveStr(k);
          this.save(v);
          buf = this.buf;
          p = this.pos;
          limit = this.frameLimit();
          continue;
        }
        p = writeShortStr(k, buf, p);
        this.memoLen++;
        if (typeof v === "number" && !Number.isInteger(v) && p < limit) {
          buf[p] = OP.BINFLOAT;
          this.view.setFloat64(p + 1, v, false);
          p += 9;
        } else {
          this.pos = p;
          this.save(v);
          buf = this.buf;
          p = this.pos;
          limit = this.frameLimit();
        }
      }
      this.pos = p;
      this.op(OP.SETITEMS);
    } while (count === BATCH);
  }

  /** The 2 to MAX_SHARED_KEYS items of a record, its keys shared. */
  saveSharedKeyItems(rec: Record<string, unknown>, keys: string[]): void {
    const size = keys.length;
    this.op(OP.MARK);
    const shape = this.keyShapes.get(keys[0]!);
    if (shape !== undefined && sameKeys(shape.keys, keys)) {
      // Every key was written before: fetch each from its memo index. The
      // values come from a for-in loop, where V8 reads each by its slot in
      // the object (rec[k] elsewhere is a megamorphic keyed load); a key
      // that is not the expected one (an inherited enumerable property, a
      // getter changing the object) ends that loop.
      const indices = shape.indices;
      let i = 0;
      for (const k in rec) {
        if (i === size || k !== keys[i]) break;
        this.boundary();
        this.memoGet(indices[i++]!);
        this.save(rec[k]);
      }
      for (; i < size; i++) {
        this.boundary();
        this.memoGet(indices[i]!);
        this.save(rec[keys[i]!]);
      }
    } else {
      for (let i = 0; i < size; i++) {
        const k = keys[i]!;
        this.boundary();
        this.saveKey(k);
        this.save(rec[k]);
      }
      const keyMemo = this.keyMemo;
      this.keyShapes.set(keys[0]!, {
        keys,
        indices: keys.map((k) => keyMemo.get(k)!),
      });
    }
    this.op(OP.SETITEMS);
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
