// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// The unpickler's state and value construction: the stack, the marks, the
// memo, dicts (and their switch from plain objects to PyDicts), sets, the
// allowed globals and the nesting-depth bookkeeping. The opcode dispatch
// is in _pickle_decoder.ts.

import { opcodeName } from "./_pickle_opcodes.ts";
import { addMember } from "./_pickle_members.ts";
import { decodeUtf8 } from "./_pickle_utf8.ts";
import { cachedAscii, MAX_CACHED } from "./_pickle_ascii.ts";
import { PyDict } from "./pickle_dict.ts";
import type { PickleClass } from "./pickle_reduce.ts";
import {
  ByteArray,
  FrozenSet,
  PyFloat,
  Tuple,
  UnpicklingError,
  type UnpicklingErrorReason,
} from "./pickle_types.ts";

/** A global resolved by the caller's hook: called by REDUCE with the args. */
export type GlobalFunction = (args: unknown[]) => unknown;

/** Decoder settings with every default filled in. */
export interface DecoderSettings {
  maxBytes: number;
  maxDepth: number;
  maxMemo: number;
  maxContainerLength: number;
  dicts: "object" | "map";
  floats: "number" | "wrap";
  bytesViewThreshold: number;
  resolveGlobal:
    | ((module: string, name: string) => GlobalFunction | undefined)
    | undefined;
  reconstruct:
    | ((module: string, name: string) => PickleClass | undefined)
    | undefined;
}

type BuiltinKind = "set" | "frozenset" | "bytearray" | "bytes" | "encode";

/** A global on the stack; only REDUCE may consume it. */
export class GlobalRef {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly builtin: BuiltinKind | undefined,
    readonly fn: GlobalFunction | undefined,
    readonly cls?: PickleClass,
  ) {}
}

const BUILTIN_GLOBALS: Record<string, BuiltinKind> = {
  "builtins.set": "set",
  "builtins.frozenset": "frozenset",
  "builtins.bytearray": "bytearray",
  "builtins.bytes": "bytes",
  "_codecs.encode": "encode",
};

export function isPlainDict(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null &&
    Object.getPrototypeOf(x) === Object.prototype;
}

function setStringKey(
  obj: Record<string, unknown>,
  key: string,
  value: unknown,
): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}

function negZero(): PyFloat {
  return new PyFloat(-0);
}

/**
 * Adds `items[from, to)` to `set`, keeping a `-0` member (Python's -0.0).
 */
export function addMembers(
  set: Set<unknown>,
  items: readonly unknown[],
  from: number,
  to: number = items.length,
): void {
  for (let i = from; i < to; i++) addMember(set, items[i], negZero);
}

/**
 * An array of `n` empty slots that already holds any kind of value: every
 * stack and memo array then has the same V8 elements kind, so that stores
 * into them stay monomorphic (arrays that started as small integers and
 * changed kind on the way made them megamorphic).
 */
function anyArray(n: number): unknown[] {
  const a = new Array<unknown>(n);
  a[0] = null;
  return a;
}

/** The stack and memo sizes of the last pickle decoded (bounded). */
const sizeHint = { stack: 0, memo: 0 };
const MAX_HINT = 16384;

/** The unpickler's state; `Decoder` adds the opcode loop. */
export class DecoderBase {
  data: Uint8Array;
  view: DataView;
  end: number;
  s: DecoderSettings;
  /**
   * The stack is `stack[0, sp)`: an explicit height, so that popping never
   * shrinks the array (V8 trims a shrunk array, and pushes regrow it).
   * Slots at and above `sp` may hold stale values until overwritten.
   */
  stack: unknown[];
  sp = 0;
  /** The highest `sp` seen at the end of a batch (a size hint only). */
  high = 0;
  marks: number[] = [];
  /** Memo slots 0..memoLen-1, set in order (the usual case). */
  memo: unknown[];
  memoLen = 0;
  /** Any other memo slots: the cost never depends on the index's size. */
  sparseMemo: Map<number, unknown> | undefined;
  memoSize = 0;
  depth: Map<object, number> = new Map();
  globalsOnStack = 0;
  /**
   * "object" dict mode: the plain dicts that got a non-string key, and the
   * PyDict that replaced each. Other references to them (in the memo,
   * elsewhere on the stack, in containers) are mapped when used and
   * swapped at STOP.
   */
  replaced: Map<object, PyDict> | undefined;
  /** Pairs set so far per plain dict, on inputs big enough to need it. */
  dictSizes: Map<object, number> | undefined;
  /** Objects made by an allowed class (`reconstruct`): BUILD targets. */
  made: Map<object, PickleClass> | undefined;
  opPos = 0;
  op = 0;

  constructor(data: Uint8Array, s: DecoderSettings) {
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.end = data.length;
    this.s = s;
    // Room for as much stack and memo as the previous pickle used (bounded),
    // so that a series of similar pickles does not regrow them each time.
    // No more than this input can fill (each item and memo entry takes a
    // byte or more): a small pickle after a big one allocates little.
    this.stack = anyArray(Math.min(sizeHint.stack, this.end));
    this.memo = anyArray(Math.min(sizeHint.memo, this.end >> 1));
  }

  fail(reason: UnpicklingErrorReason, what: string, cause?: unknown): never {
    const name = opcodeName(this.op);
    throw new UnpicklingError(
      `Cannot unpickle: ${what} (${name} at offset ${this.opPos})`,
      reason,
      this.opPos,
      name,
      cause === undefined ? undefined : { cause },
    );
  }

  need(pos: number, n: number): void {
    if (n > this.end - pos) this.fail("truncated", "pickle data was truncated");
  }

  /**
   * Reads the unsigned little-endian byte count of `width` bytes at `pos`
   * and checks that the input holds that many bytes after it.
   */
  counted(pos: number, width: 1 | 4 | 8): number {
    this.need(pos, width);
    const view = this.view;
    const n = width === 1
      ? this.data[pos]!
      : width === 4
      ? view.getUint32(pos, true)
      : view.getUint32(pos, true) + view.getUint32(pos + 4, true) * 2 ** 32;
    this.need(pos + width, n);
    return n;
  }

  readLine(pos: number): number {
    const nl = this.data.indexOf(0x0a, pos);
    if (nl < 0) this.fail("truncated", "pickle data was truncated");
    return nl;
  }

  popMark(): number {
    const m = this.marks.pop();
    if (m === undefined) this.fail("invalid", "could not find MARK");
    return m;
  }

  /** The stack height at the innermost MARK (0 without one). */
  base(): number {
    const marks = this.marks;
    return marks.length > 0 ? marks[marks.length - 1]! : 0;
  }

  push(v: unknown): void {
    this.stack[this.sp++] = v;
  }

  depthOf(v: unknown): number {
    return typeof v === "object" && v !== null ? this.depth.get(v) ?? 1 : 0;
  }

  /**
   * Records that `container` now holds `items[from, to)`; enforces
   * `maxDepth`.
   */
  deepen(
    container: object,
    items: readonly unknown[],
    from: number,
    to: number,
  ): void {
    let d = 0;
    for (let i = from; i < to; i++) {
      const v = items[i];
      if (typeof v === "object" && v !== null) {
        const e = this.depth.get(v) ?? 1;
        if (e > d) d = e;
      }
    }
    if (d === 0) return;
    d += 1;
    if (d > (this.depth.get(container) ?? 1)) {
      if (d > this.s.maxDepth) {
        this.fail(
          "limit",
          `nesting depth exceeds the maximum of ${this.s.maxDepth}`,
        );
      }
      this.depth.set(container, d);
    }
  }

  checkLength(n: number): void {
    if (n > this.s.maxContainerLength) {
      this.fail(
        "limit",
        `container length ${n} exceeds the maximum of ${this.s.maxContainerLength}`,
      );
    }
  }

  /** Refuses a global among `stack[from, sp)`. */
  noGlobals(from: number): void {
    if (this.globalsOnStack === 0) return;
    const stack = this.stack;
    for (let i = from; i < this.sp; i++) {
      if (stack[i] instanceof GlobalRef) {
        this.fail("refused", "a global can only be called by REDUCE");
      }
    }
  }

  /** Refuses a global among `items`. */
  noGlobalsIn(items: readonly unknown[]): void {
    if (this.globalsOnStack === 0) return;
    for (let i = 0; i < items.length; i++) {
      if (items[i] instanceof GlobalRef) {
        this.fail("refused", "a global can only be called by REDUCE");
      }
    }
  }

  popped(v: unknown): void {
    if (v instanceof GlobalRef) this.globalsOnStack--;
  }

  memoAt(i: number): unknown {
    return i < this.memoLen ? this.memo[i] : this.sparseMemo?.get(i);
  }

  pushFromMemo(i: number): void {
    const v = this.memoAt(i);
    if (v === undefined) {
      this.fail("invalid", `memo value not found at index ${i}`);
    }
    if (typeof v === "object") {
      if (v instanceof GlobalRef) this.globalsOnStack++;
      else if (this.replaced !== undefined) {
        this.stack[this.sp++] = this.replaced.get(v!) ?? v;
        return;
      }
    }
    this.stack[this.sp++] = v;
  }

  setMemo(i: number, v: unknown): void {
    if (i < this.memoLen) {
      this.memo[i] = v;
    } else if (i === this.memoLen && this.sparseMemo === undefined) {
      this.memo[this.memoLen++] = v;
      this.memoSize++;
    } else {
      const sparse = this.sparseMemo ??= new Map();
      if (!sparse.has(i)) this.memoSize++;
      sparse.set(i, v);
    }
  }

  put(i: number): void {
    const sp = this.sp;
    const marks = this.marks;
    if (sp === 0 || (marks.length > 0 && sp === marks[marks.length - 1])) {
      this.fail("invalid", "empty stack");
    }
    if (i >= this.s.maxMemo) {
      this.fail(
        "limit",
        `memo index ${i} exceeds the maximum of ${this.s.maxMemo}`,
      );
    }
    this.setMemo(i, this.stack[sp - 1]);
  }

  top(): unknown {
    const sp = this.sp;
    if (sp === 0 || sp === this.base()) this.fail("invalid", "stack underflow");
    return this.stack[sp - 1];
  }

  pop(): unknown {
    const sp = this.sp;
    if (sp === 0 || sp === this.base()) this.fail("invalid", "stack underflow");
    const v = this.stack[--this.sp];
    this.popped(v);
    return v;
  }

  /**
   * Adds the key/value pairs `stack[from, sp)` to the dict `target`;
   * returns the dict that holds them (a PyDict replaces a plain dict that
   * gets a non-string key). The caller puts it in the target's slot.
   */
  setItems(target: unknown, from: number): unknown {
    const items = this.stack;
    const to = this.sp;
    if ((to - from) % 2 !== 0) {
      this.fail("invalid", "odd number of items for SETITEMS");
    }
    this.noGlobals(from);
    if (this.replaced !== undefined && isPlainDict(target)) {
      // A reference kept from before the dict became a PyDict.
      target = this.replaced.get(target) ?? target;
    }
    if (isPlainDict(target) && this.s.dicts === "object") {
      const obj = target;
      let i = from;
      for (; i < to; i += 2) {
        const k = items[i];
        if (typeof k !== "string") break;
        setStringKey(obj, k, items[i + 1]);
      }
      if (i < to) {
        target = this.toPyDict(obj);
        from = i;
      } else {
        if (this.end > this.s.maxContainerLength) {
          // Counts pairs (an upper bound of the size) without walking keys.
          // Smaller inputs cannot hold a container that long.
          const sizes = this.dictSizes ??= new Map();
          const size = (sizes.get(obj) ?? 0) + (to - from) / 2;
          this.checkLength(size);
          sizes.set(obj, size);
        }
        this.deepen(obj, items, from, to);
        return obj;
      }
    }
    if (!(target instanceof PyDict)) {
      this.fail("invalid", "SETITEMS target is not a dict");
    }
    for (let i = from; i < to; i += 2) {
      try {
        target.set(items[i], items[i + 1]);
      } catch (e) {
        this.fail("invalid", "unhashable dict key", e);
      }
    }
    this.checkLength(target.size);
    this.deepen(target, items, from, to);
    return target;
  }

  /**
   * Replaces the plain dict `old` by an equal PyDict (returned). Other
   * references to it are mapped when fetched from the memo, and swapped
   * once, at STOP, by {@linkcode DecoderBase.finish}: a cost of one walk in
   * all, however many dicts change.
   */
  toPyDict(old: Record<string, unknown>): PyDict {
    const d = new PyDict<unknown, unknown>();
    for (const k of Object.keys(old)) d.set(k, old[k]);
    const depth = this.depth.get(old);
    if (depth !== undefined) this.depth.set(d, depth);
    (this.replaced ??= new Map()).set(old, d);
    return d;
  }

  /** The result, with every replaced plain dict swapped for its PyDict. */
  finish(result: unknown): unknown {
    sizeHint.stack = Math.min(this.high, MAX_HINT);
    sizeHint.memo = Math.min(this.memoLen, MAX_HINT);
    const replaced = this.replaced;
    if (replaced === undefined) return result;
    const swap = (v: unknown): unknown =>
      typeof v === "object" && v !== null ? replaced.get(v) ?? v : v;
    const root = swap(result);
    const seen = new Set<object>();
    const work: unknown[] = [root];
    const swapAll = (arr: unknown[]): void => {
      for (let i = 0; i < arr.length; i++) {
        const v = arr[i];
        if (typeof v === "object" && v !== null) {
          const r = replaced.get(v);
          if (r !== undefined) arr[i] = r;
          work.push(arr[i]);
        }
      }
    };
    while (work.length > 0) {
      const v = work.pop();
      if (typeof v !== "object" || v === null || seen.has(v)) continue;
      seen.add(v);
      if (Array.isArray(v)) swapAll(v);
      else if (v instanceof Tuple) swapAll(v.items as unknown[]);
      else if (v instanceof PyDict) {
        for (const [k, x] of v) {
          const r = swap(x);
          if (r !== x) v.set(k, r);
          work.push(k, r);
        }
      } else if (v instanceof Set || v instanceof FrozenSet) {
        const set = (v instanceof Set ? v : v.items) as Set<unknown>;
        for (const x of [...set]) {
          const r = swap(x);
          if (r !== x) {
            set.delete(x);
            set.add(r);
          }
          work.push(r);
        }
      } else if (isPlainDict(v)) {
        for (const k of Object.keys(v)) {
          const r = swap(v[k]);
          if (r !== v[k]) v[k] = r;
          work.push(r);
        }
      }
    }
    return root;
  }

  resolve(module: string, name: string): GlobalRef {
    if (module === "__builtin__") module = "builtins";
    else if (module === "copy_reg") module = "copyreg";
    const builtin = BUILTIN_GLOBALS[`${module}.${name}`];
    if (builtin !== undefined) {
      return new GlobalRef(module, name, builtin, undefined);
    }
    let fn: GlobalFunction | undefined;
    try {
      fn = this.s.resolveGlobal?.(module, name);
    } catch (e) {
      this.fail("invalid", `resolveGlobal failed for '${module}.${name}'`, e);
    }
    if (typeof fn === "function") {
      return new GlobalRef(module, name, undefined, fn);
    }
    let cls: PickleClass | undefined;
    try {
      cls = this.s.reconstruct?.(module, name);
    } catch (e) {
      this.fail("invalid", `reconstruct failed for '${module}.${name}'`, e);
    }
    if (typeof cls === "object" && cls !== null) {
      return new GlobalRef(module, name, undefined, undefined, cls);
    }
    this.fail(
      "refused",
      `global '${module}.${name}' is not allowed (it could execute code)`,
    );
  }

  /** GLOBAL/STACK_GLOBAL: a global a `reconstruct` value stands for is data. */
  pushGlobal(module: string, name: string): void {
    const g = this.resolve(module, name);
    if (g.cls !== undefined && "value" in g.cls) {
      this.stack[this.sp++] = g.cls.value;
    } else {
      this.stack[this.sp++] = g;
      this.globalsOnStack++;
    }
  }

  /** Calls a `reconstruct` hook; its object may then be a BUILD target. */
  make(
    g: GlobalRef,
    fn: ((args: unknown[]) => unknown) | undefined,
    args: unknown,
    what: string,
  ): unknown {
    if (fn === undefined) {
      this.fail("refused", `${what} of '${g.module}.${g.name}' is not allowed`);
    }
    if (!(args instanceof Tuple)) {
      this.fail("invalid", `${what} arguments are not a tuple`);
    }
    let obj: unknown;
    try {
      obj = fn([...args.items]);
    } catch (e) {
      this.fail("invalid", `${what} of '${g.module}.${g.name}' failed`, e);
    }
    if (typeof obj === "object" && obj !== null) {
      (this.made ??= new Map()).set(obj, g.cls!);
      this.deepen(obj, args.items, 0, args.items.length);
    }
    return obj;
  }

  /** NEWOBJ: only for a class whose `reconstruct` entry has `create`. */
  newobj(): void {
    const args = this.pop();
    const cls = this.pop();
    if (!(cls instanceof GlobalRef) || cls.cls === undefined) {
      this.fail("refused", "this opcode can execute code and is refused");
    }
    const obj = this.make(cls, cls.cls.create, args, "NEWOBJ");
    if (typeof obj !== "object" || obj === null) {
      this.fail("invalid", "NEWOBJ did not make an object");
    }
    this.stack[this.sp++] = obj;
  }

  /** BUILD: only on an object that an allowed class with `build` made. */
  build(): void {
    const state = this.pop();
    if (state instanceof GlobalRef) {
      this.fail("refused", "a global can only be called by REDUCE");
    }
    const obj = this.top();
    const cls = typeof obj === "object" && obj !== null
      ? this.made?.get(obj)
      : undefined;
    if (cls?.build === undefined) {
      this.fail("refused", "this opcode can execute code and is refused");
    }
    try {
      cls.build(obj as object, state);
    } catch (e) {
      this.fail("invalid", "BUILD failed", e);
    }
    this.deepen(obj as object, [state], 0, 1);
  }

  reduce(callable: unknown, args: unknown): unknown {
    if (!(callable instanceof GlobalRef)) {
      this.fail("refused", "REDUCE can only call an allowed global");
    }
    if (callable.cls !== undefined) {
      return this.make(callable, callable.cls.call, args, "REDUCE");
    }
    if (!(args instanceof Tuple)) {
      this.fail("invalid", "REDUCE arguments are not a tuple");
    }
    const a = args.items;
    if (callable.fn !== undefined) {
      try {
        return callable.fn([...a]);
      } catch (e) {
        this.fail(
          "invalid",
          `global '${callable.module}.${callable.name}' failed`,
          e,
        );
      }
    }
    switch (callable.builtin) {
      case "set":
        if (a.length === 0) return new Set();
        if (a.length === 1 && Array.isArray(a[0])) {
          this.checkLength(a[0].length);
          const set = new Set<unknown>();
          addMembers(set, a[0], 0);
          this.depth.set(set, this.depthOf(a[0]));
          return set;
        }
        break;
      case "frozenset":
        if (a.length === 0) return new FrozenSet();
        if (a.length === 1 && Array.isArray(a[0])) {
          this.checkLength(a[0].length);
          const fs = new FrozenSet(a[0]);
          this.depth.set(fs, this.depthOf(a[0]));
          return fs;
        }
        break;
      case "bytearray":
        if (a.length === 0) return new ByteArray(new Uint8Array(0));
        if (a.length === 1 && a[0] instanceof Uint8Array) {
          return new ByteArray(a[0].slice());
        }
        break;
      case "bytes":
        if (a.length === 0) return new Uint8Array(0);
        break;
      case "encode":
        if (
          a.length === 2 && typeof a[0] === "string" &&
          (a[1] === "latin1" || a[1] === "latin-1")
        ) {
          const str = a[0];
          const out = new Uint8Array(str.length);
          for (let i = 0; i < str.length; i++) {
            const c = str.charCodeAt(i);
            if (c > 0xff) {
              this.fail("invalid", "_codecs.encode input is not Latin-1");
            }
            out[i] = c;
          }
          return out;
        }
        break;
    }
    this.fail(
      "refused",
      `arguments of '${callable.module}.${callable.name}' have an unexpected shape`,
    );
  }

  /** A bytes value: a view of the input when long enough, else a copy. */
  bytes(start: number, n: number): Uint8Array {
    return n >= this.s.bytesViewThreshold
      ? this.data.subarray(start, start + n)
      : this.data.slice(start, start + n);
  }

  str(start: number, n: number): string {
    if (n <= MAX_CACHED) {
      if (n === 0) return "";
      const ascii = cachedAscii(this.data, this.view, start, n);
      if (ascii !== undefined) return ascii;
    }
    try {
      return decodeUtf8(this.data, start, start + n);
    } catch (e) {
      this.fail("invalid", "invalid UTF-8 in a str", e);
    }
  }
}
