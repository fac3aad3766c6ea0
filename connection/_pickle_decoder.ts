// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// The safe unpickler: a stack machine over protocols 0-5 that never calls
// code it was not given. See connection.md section 4.

import { OP, opcodeName } from "./_pickle_opcodes.ts";
import { decodeLatin1, decodeUtf8 } from "./_pickle_utf8.ts";
import {
  ByteArray,
  FrozenSet,
  PyDict,
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
}

type BuiltinKind = "set" | "frozenset" | "bytearray" | "bytes" | "encode";

/** A global on the stack; only REDUCE may consume it. */
class GlobalRef {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly builtin: BuiltinKind | undefined,
    readonly fn: GlobalFunction | undefined,
  ) {}
}

const BUILTIN_GLOBALS: Record<string, BuiltinKind> = {
  "builtins.set": "set",
  "builtins.frozenset": "frozenset",
  "builtins.bytearray": "bytearray",
  "builtins.bytes": "bytes",
  "_codecs.encode": "encode",
};

const LATIN1 = new TextDecoder("latin1");
const STR_CACHE_SIZE = 4096;
const MAX_WALKS = 64;
const strCache: (string | undefined)[] = new Array(STR_CACHE_SIZE);

const MAX_TEXT_INT_DIGITS = 4300; // Python's int_max_str_digits default
const INT_RE = /^[+-]?[0-9]+$/;
const FLOAT_RE =
  /^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)$/i;

function isPlainDict(x: unknown): x is Record<string, unknown> {
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

function normalizeInt(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

const HEX: string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** Little-endian two's complement bytes to an int. */
function decodeLong(
  data: Uint8Array,
  view: DataView,
  start: number,
  n: number,
): number | bigint {
  if (n === 0) return 0;
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + data[start + i]!;
    if (data[start + n - 1]! & 0x80) v -= 2 ** (8 * n);
    return v;
  }
  if (n === 8) return normalizeInt(view.getBigInt64(start, true));
  let v = 0n;
  if (n <= 64) {
    // Whole 64-bit words from the top, after the leftover high bytes.
    const words = n >> 3;
    for (let i = start + n - 1; i >= start + 8 * words; i--) {
      v = (v << 8n) | BigInt(data[i]!);
    }
    for (let w = words - 1; w >= 0; w--) {
      v = (v << 64n) | view.getBigUint64(start + 8 * w, true);
    }
  } else {
    let hex = "";
    for (let i = n - 1; i >= 0; i--) hex += HEX[data[start + i]!];
    v = BigInt(`0x${hex}`);
  }
  if (data[start + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
  return normalizeInt(v);
}

/**
 * Decodes one pickle. Throws `UnpicklingError` for every malformed,
 * truncated, refused or over-limit input.
 */
export function decodePickle(data: Uint8Array, s: DecoderSettings): unknown {
  return new Decoder(data, s).run();
}

class Decoder {
  data: Uint8Array;
  view: DataView;
  end: number;
  s: DecoderSettings;
  stack: unknown[] = [];
  marks: number[] = [];
  memo: unknown[] = [];
  memoSize = 0;
  depth: Map<object, number> = new Map();
  globalsOnStack = 0;
  // "object" dict mode: where each plain dict lives, to swap it for a PyDict
  // when a non-string key arrives.
  dictMemoIndex: Map<object, number> = new Map();
  exposed: Set<object> = new Set();
  dictSizes: Map<object, number> = new Map();
  walks = 0;
  opPos = 0;
  op = 0;
  win = "";
  winStart = 0;
  winEnd = 0;

  constructor(data: Uint8Array, s: DecoderSettings) {
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.end = data.length;
    this.s = s;
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

  depthOf(v: unknown): number {
    return typeof v === "object" && v !== null ? this.depth.get(v) ?? 1 : 0;
  }

  /** Records that `container` now holds `items`; enforces `maxDepth`. */
  deepen(container: object, items: unknown[], from: number): void {
    let d = 0;
    for (let i = from; i < items.length; i++) {
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

  noGlobals(items: unknown[], from: number): void {
    if (this.globalsOnStack === 0) return;
    for (let i = from; i < items.length; i++) {
      if (items[i] instanceof GlobalRef) {
        this.fail("refused", "a global can only be called by REDUCE");
      }
    }
  }

  popped(v: unknown): void {
    if (v instanceof GlobalRef) this.globalsOnStack--;
  }

  pushFromMemo(i: number): void {
    const v = this.memo[i];
    if (v === undefined) {
      this.fail("invalid", `memo value not found at index ${i}`);
    }
    if (v instanceof GlobalRef) this.globalsOnStack++;
    else if (this.s.dicts === "object" && isPlainDict(v)) this.exposed.add(v);
    this.stack.push(v);
  }

  put(i: number): void {
    const stack = this.stack;
    const marks = this.marks;
    if (
      stack.length === 0 ||
      (marks.length > 0 && stack.length === marks[marks.length - 1])
    ) {
      this.fail("invalid", "empty stack");
    }
    if (i >= this.s.maxMemo) {
      this.fail(
        "limit",
        `memo index ${i} exceeds the maximum of ${this.s.maxMemo}`,
      );
    }
    const v = stack[stack.length - 1];
    if (this.memo[i] === undefined) this.memoSize++;
    this.memo[i] = v;
    if (this.s.dicts === "object" && isPlainDict(v)) {
      if (this.dictMemoIndex.has(v)) this.exposed.add(v);
      else this.dictMemoIndex.set(v, i);
    }
  }

  top(): unknown {
    const stack = this.stack;
    if (stack.length === 0 || stack.length === this.marks.at(-1)) {
      this.fail("invalid", "stack underflow");
    }
    return stack[stack.length - 1];
  }

  pop(): unknown {
    const stack = this.stack;
    if (stack.length === 0 || stack.length === this.marks.at(-1)) {
      this.fail("invalid", "stack underflow");
    }
    const v = stack.pop();
    this.popped(v);
    return v;
  }

  /** Adds key/value pairs `items[from..]` to the dict at `stack[slot]`. */
  setItems(slot: number, items: unknown[], from: number): void {
    if (slot < 0 || (this.marks.length > 0 && slot < this.marks.at(-1)!)) {
      this.fail("invalid", "stack underflow");
    }
    let target = this.stack[slot];
    const n = items.length - from;
    if (n % 2 !== 0) this.fail("invalid", "odd number of items for SETITEMS");
    this.noGlobals(items, from);
    if (isPlainDict(target) && this.s.dicts === "object") {
      const obj = target;
      let i = from;
      for (; i < items.length; i += 2) {
        const k = items[i];
        if (typeof k !== "string") break;
        setStringKey(obj, k, items[i + 1]);
      }
      if (i < items.length) {
        target = this.toPyDict(obj, slot, items);
        from = i;
      } else {
        if (this.end > this.s.maxContainerLength) {
          // Counts pairs (an upper bound of the size) without walking keys.
          // Smaller inputs cannot hold a container that long.
          const size = (this.dictSizes.get(obj) ?? 0) +
            (items.length - from) / 2;
          this.checkLength(size);
          this.dictSizes.set(obj, size);
        }
        this.deepen(obj, items, from);
        return;
      }
    }
    if (!(target instanceof PyDict)) {
      this.fail("invalid", "SETITEMS target is not a dict");
    }
    for (let i = from; i < items.length; i += 2) {
      try {
        target.set(items[i], items[i + 1]);
      } catch (e) {
        this.fail("invalid", "unhashable dict key", e);
      }
    }
    this.checkLength(target.size);
    this.deepen(target, items, from);
  }

  /** Replaces the plain dict at `stack[slot]` by an equal PyDict. */
  toPyDict(
    old: Record<string, unknown>,
    slot: number,
    pending: unknown[],
  ): PyDict {
    const d = new PyDict<unknown, unknown>();
    for (const k of Object.keys(old)) d.set(k, old[k]);
    this.stack[slot] = d;
    const mi = this.dictMemoIndex.get(old);
    if (mi !== undefined) this.memo[mi] = d;
    const depth = this.depth.get(old);
    if (depth !== undefined) this.depth.set(d, depth);
    if (this.exposed.has(old)) {
      // Each walk visits everything decoded so far: allow only a few, so
      // that a crafted pickle cannot make decoding quadratic.
      if (++this.walks > MAX_WALKS) {
        this.fail(
          "limit",
          `more than ${MAX_WALKS} dicts got a non-string key after being ` +
            `referenced (decode with dicts: "map")`,
        );
      }
      this.replaceEverywhere(old, d, pending);
    }
    return d;
  }

  /** Swaps every reference to `old` reachable from the stack and memo. */
  replaceEverywhere(old: object, repl: object, pending: unknown[]): void {
    const seen = new Set<object>();
    const work: unknown[] = [];
    const swap = (arr: unknown[]): void => {
      for (let i = 0; i < arr.length; i++) {
        if (arr[i] === old) arr[i] = repl;
        work.push(arr[i]);
      }
    };
    swap(this.stack);
    swap(this.memo);
    swap(pending);
    while (work.length > 0) {
      const v = work.pop();
      if (typeof v !== "object" || v === null || seen.has(v)) continue;
      seen.add(v);
      if (Array.isArray(v)) swap(v);
      else if (v instanceof Tuple) swap(v.items as unknown[]);
      else if (v instanceof PyDict) {
        for (const [k, x] of v) {
          if (x === old) v.set(k, repl);
          work.push(k, x);
        }
      } else if (v instanceof Set || v instanceof FrozenSet) {
        const set = (v instanceof Set ? v : v.items) as Set<unknown>;
        if (set.has(old)) {
          set.delete(old);
          set.add(repl);
        }
        for (const x of set) work.push(x);
      } else if (isPlainDict(v)) {
        for (const k of Object.keys(v)) {
          if (v[k] === old) v[k] = repl;
          work.push(v[k]);
        }
      }
    }
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
    this.fail(
      "refused",
      `global '${module}.${name}' is not allowed (it could execute code)`,
    );
  }

  reduce(callable: unknown, args: unknown): unknown {
    if (!(callable instanceof GlobalRef)) {
      this.fail("refused", "REDUCE can only call an allowed global");
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
          const set = new Set(a[0]);
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

  textInt(
    start: number,
    nl: number,
    allowL: boolean,
  ): number | bigint | boolean {
    let text = decodeLatin1(this.data, start, nl);
    if (allowL && text.endsWith("L")) text = text.slice(0, -1);
    if (!allowL) {
      if (text === "01") return true;
      if (text === "00") return false;
    }
    if (!INT_RE.test(text)) this.fail("invalid", "invalid integer literal");
    if (text.length > MAX_TEXT_INT_DIGITS) {
      this.fail(
        "limit",
        `integer literal longer than ${MAX_TEXT_INT_DIGITS} digits`,
      );
    }
    return normalizeInt(BigInt(text));
  }

  textIndex(start: number, nl: number): number {
    const text = decodeLatin1(this.data, start, nl);
    if (!/^[0-9]{1,10}$/.test(text)) this.fail("invalid", "invalid memo index");
    return Number(text);
  }

  rawUnicodeEscape(start: number, end: number): string {
    const data = this.data;
    let out = "";
    let i = start;
    while (i < end) {
      const b = data[i]!;
      if (b === 0x5c) {
        let j = i;
        while (j < end && data[j] === 0x5c) j++;
        const run = j - i;
        const next = data[j];
        if (run % 2 === 1 && (next === 0x75 || next === 0x55)) {
          out += "\\".repeat(run - 1);
          const digits = next === 0x75 ? 4 : 8;
          if (j + 1 + digits > end) {
            this.fail("invalid", "truncated \\u escape");
          }
          const hex = decodeLatin1(data, j + 1, j + 1 + digits);
          if (!/^[0-9a-fA-F]+$/.test(hex)) {
            this.fail("invalid", "bad \\u escape");
          }
          const cp = parseInt(hex, 16);
          if (cp > 0x10ffff) this.fail("invalid", "\\U escape out of range");
          out += String.fromCodePoint(cp);
          i = j + 1 + digits;
        } else {
          out += "\\".repeat(run);
          i = j;
        }
      } else {
        out += String.fromCharCode(b);
        i++;
      }
    }
    return out;
  }

  /**
   * An ASCII string of at most 12 bytes, cut from a Latin-1 decoding of a
   * window of the input: much cheaper than building it char by char. (V8
   * copies substrings this short, so they do not keep the window alive.)
   */
  sliceAscii(start: number, n: number): string {
    if (start < this.winStart || start + n > this.winEnd) {
      this.winStart = start;
      this.winEnd = Math.min(this.end, start + 16384);
      this.win = LATIN1.decode(this.data.subarray(this.winStart, this.winEnd));
    }
    const at = start - this.winStart;
    return this.win.slice(at, at + n);
  }

  /** A bytes value: a view of the input when long enough, else a copy. */
  bytes(start: number, n: number): Uint8Array {
    return n >= this.s.bytesViewThreshold
      ? this.data.subarray(start, start + n)
      : this.data.slice(start, start + n);
  }

  str(start: number, n: number): string {
    if (n <= 16 && n > 0) {
      // Short strings (dict keys above all) repeat: reuse the string made
      // for the same bytes, which also spares V8 re-internalizing keys.
      const data = this.data;
      let h = n;
      let ascii = 0;
      for (let i = start; i < start + n; i++) {
        const b = data[i]!;
        ascii |= b;
        h = (h * 31 + b) | 0;
      }
      if (ascii < 0x80) {
        const slot = (h ^ (h >>> 12)) & (STR_CACHE_SIZE - 1);
        const cached = strCache[slot];
        if (cached !== undefined && cached.length === n) {
          let same = true;
          for (let i = 0; i < n; i++) {
            if (cached.charCodeAt(i) !== data[start + i]) {
              same = false;
              break;
            }
          }
          if (same) return cached;
        }
        const fresh = n <= 12
          ? this.sliceAscii(start, n)
          : decodeUtf8(data, start, start + n);
        strCache[slot] = fresh;
        return fresh;
      }
    }
    try {
      return decodeUtf8(this.data, start, start + n);
    } catch (e) {
      this.fail("invalid", "invalid UTF-8 in a str", e);
    }
  }

  run(): unknown {
    const data = this.data;
    const view = this.view;
    const end = this.end;
    const stack = this.stack;
    const s = this.s;
    if (end > s.maxBytes) {
      this.opPos = 0;
      this.op = data[0] ?? 0;
      this.fail(
        "limit",
        `input of ${end} bytes exceeds the maximum of ${s.maxBytes}`,
      );
    }
    let pos = 0;
    for (;;) {
      if (pos >= end) {
        this.opPos = pos;
        this.op = OP.STOP;
        this.fail("truncated", "pickle data was truncated (no STOP)");
      }
      this.opPos = pos;
      const op = data[pos++]!;
      this.op = op;
      switch (op) {
        case OP.PROTO: {
          this.need(pos, 1);
          const p = data[pos++]!;
          if (p > 5) this.fail("invalid", `unsupported pickle protocol: ${p}`);
          break;
        }
        case OP.FRAME:
          this.counted(pos, 8);
          pos += 8;
          break;
        case OP.STOP: {
          if (stack.length === 0 || stack.length === this.marks.at(-1)) {
            this.fail("invalid", "empty stack at STOP");
          }
          const v = stack[stack.length - 1];
          if (v instanceof GlobalRef) {
            this.fail("refused", "a global can only be called by REDUCE");
          }
          return v;
        }
        case OP.NONE:
          stack.push(null);
          break;
        case OP.NEWTRUE:
          stack.push(true);
          break;
        case OP.NEWFALSE:
          stack.push(false);
          break;
        case OP.BININT1:
          this.need(pos, 1);
          stack.push(data[pos++]);
          break;
        case OP.BININT2:
          this.need(pos, 2);
          stack.push(data[pos]! | (data[pos + 1]! << 8));
          pos += 2;
          break;
        case OP.BININT:
          this.need(pos, 4);
          stack.push(view.getInt32(pos, true));
          pos += 4;
          break;
        case OP.LONG1: {
          const n = this.counted(pos++, 1);
          stack.push(decodeLong(data, view, pos, n));
          pos += n;
          break;
        }
        case OP.LONG4: {
          this.need(pos, 4);
          const n = view.getInt32(pos, true);
          pos += 4;
          if (n < 0) {
            this.fail("invalid", "LONG pickle has negative byte count");
          }
          this.need(pos, n);
          stack.push(decodeLong(data, view, pos, n));
          pos += n;
          break;
        }
        case OP.INT:
        case OP.LONG: {
          const nl = this.readLine(pos);
          stack.push(this.textInt(pos, nl, op === OP.LONG));
          pos = nl + 1;
          break;
        }
        case OP.BINFLOAT: {
          this.need(pos, 8);
          const f = view.getFloat64(pos, false);
          pos += 8;
          stack.push(s.floats === "wrap" ? new PyFloat(f) : f);
          break;
        }
        case OP.FLOAT: {
          const nl = this.readLine(pos);
          const text = decodeLatin1(data, pos, nl).trim();
          pos = nl + 1;
          if (!FLOAT_RE.test(text)) {
            this.fail("invalid", "invalid float literal");
          }
          const lower = text.toLowerCase().replace(/^\+/, "");
          const f = lower.endsWith("nan")
            ? NaN
            : lower.startsWith("-inf")
            ? -Infinity
            : lower.startsWith("inf")
            ? Infinity
            : Number(text);
          stack.push(s.floats === "wrap" ? new PyFloat(f) : f);
          break;
        }
        case OP.SHORT_BINUNICODE: {
          const n = this.counted(pos++, 1);
          stack.push(this.str(pos, n));
          pos += n;
          break;
        }
        case OP.BINUNICODE: {
          const n = this.counted(pos, 4);
          pos += 4;
          stack.push(this.str(pos, n));
          pos += n;
          break;
        }
        case OP.BINUNICODE8: {
          const n = this.counted(pos, 8);
          pos += 8;
          stack.push(this.str(pos, n));
          pos += n;
          break;
        }
        case OP.UNICODE: {
          const nl = this.readLine(pos);
          stack.push(this.rawUnicodeEscape(pos, nl));
          pos = nl + 1;
          break;
        }
        case OP.SHORT_BINSTRING:
        case OP.BINSTRING: {
          let n: number;
          if (op === OP.SHORT_BINSTRING) {
            this.need(pos, 1);
            n = data[pos++]!;
          } else {
            this.need(pos, 4);
            n = view.getInt32(pos, true);
            pos += 4;
            if (n < 0) {
              this.fail("invalid", "BINSTRING pickle has negative byte count");
            }
          }
          this.need(pos, n);
          for (let i = pos; i < pos + n; i++) {
            if (data[i]! >= 0x80) {
              this.fail("invalid", "non-ASCII byte in a Python 2 str");
            }
          }
          stack.push(decodeLatin1(data, pos, pos + n));
          pos += n;
          break;
        }
        case OP.SHORT_BINBYTES: {
          const n = this.counted(pos++, 1);
          stack.push(this.bytes(pos, n));
          pos += n;
          break;
        }
        case OP.BINBYTES: {
          const n = this.counted(pos, 4);
          pos += 4;
          stack.push(this.bytes(pos, n));
          pos += n;
          break;
        }
        case OP.BINBYTES8:
        case OP.BYTEARRAY8: {
          const n = this.counted(pos, 8);
          pos += 8;
          stack.push(
            op === OP.BYTEARRAY8
              ? new ByteArray(data.slice(pos, pos + n))
              : this.bytes(pos, n),
          );
          pos += n;
          break;
        }
        case OP.EMPTY_LIST:
          stack.push([]);
          break;
        case OP.EMPTY_DICT:
          stack.push(s.dicts === "map" ? new PyDict() : {});
          break;
        case OP.EMPTY_SET:
          stack.push(new Set());
          break;
        case OP.EMPTY_TUPLE:
          stack.push(new Tuple([]));
          break;
        case OP.MARK:
          if (this.marks.length >= s.maxDepth + 1000) {
            this.fail("limit", "too many open MARKs");
          }
          this.marks.push(stack.length);
          break;
        case OP.POP:
          if (this.marks.length > 0 && stack.length === this.marks.at(-1)) {
            this.marks.pop(); // Python: POP of a MARK drops the mark
          } else {
            this.pop();
          }
          break;
        case OP.POP_MARK: {
          const m = this.popMark();
          if (this.globalsOnStack > 0) {
            for (let i = m; i < stack.length; i++) this.popped(stack[i]);
          }
          stack.length = m;
          break;
        }
        case OP.DUP: {
          const v = this.top();
          if (v instanceof GlobalRef) this.globalsOnStack++;
          else if (s.dicts === "object" && isPlainDict(v)) this.exposed.add(v);
          stack.push(v);
          break;
        }
        case OP.TUPLE1:
        case OP.TUPLE2:
        case OP.TUPLE3: {
          const n = op - OP.TUPLE1 + 1;
          const base = this.marks.length > 0 ? this.marks.at(-1)! : 0;
          if (stack.length - n < base) this.fail("invalid", "stack underflow");
          const items = stack.splice(stack.length - n, n);
          this.noGlobals(items, 0);
          const t = new Tuple(items);
          this.deepen(t, items, 0);
          stack.push(t);
          break;
        }
        case OP.TUPLE:
        case OP.FROZENSET:
        case OP.LIST: {
          const m = this.popMark();
          const items = stack.splice(m);
          this.checkLength(items.length);
          this.noGlobals(items, 0);
          const v = op === OP.TUPLE
            ? new Tuple(items)
            : op === OP.LIST
            ? items
            : new FrozenSet(items);
          this.deepen(v, items, 0);
          stack.push(v);
          break;
        }
        case OP.DICT: {
          const m = this.popMark();
          const items = stack.splice(m);
          stack.push(s.dicts === "map" ? new PyDict() : {});
          this.setItems(stack.length - 1, items, 0);
          break;
        }
        case OP.APPEND: {
          const v = this.pop();
          const list = this.top();
          if (!Array.isArray(list)) {
            this.fail("invalid", "APPEND target is not a list");
          }
          if (v instanceof GlobalRef) {
            this.fail("refused", "a global can only be called by REDUCE");
          }
          this.checkLength(list.length + 1);
          list.push(v);
          if (typeof v === "object" && v !== null) this.deepen(list, [v], 0);
          break;
        }
        case OP.APPENDS: {
          const m = this.popMark();
          if (m === 0 || (this.marks.length > 0 && m <= this.marks.at(-1)!)) {
            this.fail("invalid", "stack underflow");
          }
          const list = stack[m - 1];
          if (!Array.isArray(list)) {
            this.fail("invalid", "APPENDS target is not a list");
          }
          const n = stack.length - m;
          this.checkLength(list.length + n);
          this.noGlobals(stack, m);
          for (let i = m; i < stack.length; i++) list.push(stack[i]);
          this.deepen(list, stack, m);
          stack.length = m;
          break;
        }
        case OP.SETITEM: {
          const base = this.marks.length > 0 ? this.marks.at(-1)! : 0;
          if (stack.length - 3 < base) this.fail("invalid", "stack underflow");
          this.setItems(stack.length - 3, stack, stack.length - 2);
          stack.length -= 2;
          break;
        }
        case OP.SETITEMS: {
          const m = this.popMark();
          this.setItems(m - 1, stack, m);
          stack.length = m;
          break;
        }
        case OP.ADDITEMS: {
          const m = this.popMark();
          if (m === 0 || (this.marks.length > 0 && m <= this.marks.at(-1)!)) {
            this.fail("invalid", "stack underflow");
          }
          const set = stack[m - 1];
          if (!(set instanceof Set)) {
            this.fail("invalid", "ADDITEMS target is not a set");
          }
          this.checkLength(set.size + stack.length - m);
          this.noGlobals(stack, m);
          for (let i = m; i < stack.length; i++) set.add(stack[i]);
          this.deepen(set, stack, m);
          stack.length = m;
          break;
        }
        case OP.MEMOIZE:
          this.put(this.memoSize);
          break;
        case OP.BINPUT:
          this.need(pos, 1);
          this.put(data[pos++]!);
          break;
        case OP.LONG_BINPUT:
          this.need(pos, 4);
          this.put(view.getUint32(pos, true));
          pos += 4;
          break;
        case OP.PUT: {
          const nl = this.readLine(pos);
          this.put(this.textIndex(pos, nl));
          pos = nl + 1;
          break;
        }
        case OP.BINGET:
          this.need(pos, 1);
          this.pushFromMemo(data[pos++]!);
          break;
        case OP.LONG_BINGET:
          this.need(pos, 4);
          this.pushFromMemo(view.getUint32(pos, true));
          pos += 4;
          break;
        case OP.GET: {
          const nl = this.readLine(pos);
          this.pushFromMemo(this.textIndex(pos, nl));
          pos = nl + 1;
          break;
        }
        case OP.GLOBAL: {
          const nl1 = this.readLine(pos);
          const nl2 = this.readLine(nl1 + 1);
          const module = this.str(pos, nl1 - pos);
          const name = this.str(nl1 + 1, nl2 - nl1 - 1);
          pos = nl2 + 1;
          stack.push(this.resolve(module, name));
          this.globalsOnStack++;
          break;
        }
        case OP.STACK_GLOBAL: {
          const name = this.pop();
          const module = this.pop();
          if (typeof name !== "string" || typeof module !== "string") {
            this.fail("invalid", "STACK_GLOBAL requires str");
          }
          stack.push(this.resolve(module, name));
          this.globalsOnStack++;
          break;
        }
        case OP.REDUCE: {
          const args = this.pop();
          const callable = this.pop();
          if (args instanceof GlobalRef) {
            this.fail("refused", "a global can only be called by REDUCE");
          }
          stack.push(this.reduce(callable, args));
          break;
        }
        case OP.PERSID:
        case OP.BINPERSID:
        case OP.BUILD:
        case OP.INST:
        case OP.OBJ:
        case OP.NEWOBJ:
        case OP.NEWOBJ_EX:
        case OP.EXT1:
        case OP.EXT2:
        case OP.EXT4:
          this.fail("refused", "this opcode can execute code and is refused");
          break;
        case OP.NEXT_BUFFER:
        case OP.READONLY_BUFFER:
          this.fail("refused", "out-of-band buffers are not supported");
          break;
        default:
          this.fail("invalid", "invalid opcode");
      }
    }
  }
}
