// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// The pickler's Python objects other than lists, dicts and tuples, byte for
// byte as CPython writes them: bytes (and protocol 2's `_codecs.encode`
// call), globals, dicts with any keys (Map), sets, frozensets, bytearrays
// and reduce calls, with the identity memo they share. _pickle_encoder.ts
// walks the value and decides which of these to call.

import { OP } from "./_pickle_opcodes.ts";
import { BATCH, RecordWriter } from "./_pickle_records.ts";
import type { ByteArray, FrozenSet } from "./pickle_types.ts";
import { pickleReduce, PyGlobal, PyReduce } from "./pickle_reduce.ts";

// Identities of the globals and constants CPython memoizes once per pickle.
const G_CODECS_ENCODE = { module: "_codecs", name: "encode" };
const G_BYTES = { module: "builtins", name: "bytes" };
const G_BYTEARRAY = { module: "builtins", name: "bytearray" };
const G_SET = { module: "builtins", name: "set" };
const G_FROZENSET = { module: "builtins", name: "frozenset" };
/** A global (module and name), memoized by identity. */
export type GlobalId = typeof G_BYTES;
/** An object with a `[pickleReduce]()` method. */
export type Reducible = { [pickleReduce](): unknown };
const LATIN1 = { str: "latin1" };

/** How an error message names a value that cannot be pickled. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value as object).constructor?.name ?? "object";
}

/** Writes the Python objects; the encoder supplies save() and batchList(). */
export abstract class PyObjectWriter extends RecordWriter {
  /** Memo indices of the objects saved so far (tuples: see the encoder). */
  memo: Map<object, number> = new Map();

  /** The items of a list (the encoder's). */
  abstract batchList(a: readonly unknown[]): void;

  /** The memo put of the object just made; `obj` is found again. */
  memoPut(obj: object | null): void {
    if (obj !== null) this.memo.set(obj, this.memoLen);
    this.memoNew();
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
