// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Mercurial's CBOR subset (`mercurial/utils/cborutil.py`): byte strings
 * (definite, and indefinite at the top level only), integers up to 64 bits,
 * booleans, null, definite arrays and maps, and sets as tag 258. Text
 * strings, floats and other tags are refused on input. JavaScript strings
 * are encoded as byte strings (UTF-8), since Mercurial has no text strings.
 * Map keys and set members are sorted as Mercurial sorts them: by Python
 * type name (`NoneType` < `bool` < `bytes` < `int`), then by value, with
 * byte strings in plain lexicographic order.
 *
 * @module
 */
import { CborDecodeError } from "./errors.ts";
import { allocBytes } from "./_byte_pool.ts";

/** A value allowed as a CBOR map key or set member. */
export type CborKey = Uint8Array | string | number | bigint | boolean | null;

/**
 * A value in Mercurial's CBOR subset. Decoding gives `Uint8Array` for byte
 * strings, `number` (or `bigint` beyond 2^53) for integers, `Map` for maps,
 * `Set` for tag 258 and `BytestringChunk` for pieces of a top-level
 * indefinite-length byte string. Encoding also accepts strings (as UTF-8
 * byte strings), plain objects (as maps) and `IndefiniteBytes`.
 */
export type CborValue =
  | CborKey
  | readonly CborValue[]
  | ReadonlyMap<CborKey, CborValue>
  | ReadonlySet<CborKey>
  | BytestringChunk
  | IndefiniteBytes
  | { readonly [key: string]: CborValue };

/**
 * One piece of a top-level indefinite-length byte string, as Mercurial's
 * decoder reports it: the last piece is always empty with `isLast` set.
 *
 * @example Usage
 * ```ts
 * import { BytestringChunk, decodeCborAll } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = decodeCborAll(Uint8Array.of(0x5f, 0x41, 0x61, 0xff));
 * assert.ok(a instanceof BytestringChunk && a.isFirst && !a.isLast);
 * assert.ok(b instanceof BytestringChunk && b.isLast && b.bytes.length === 0);
 * ```
 */
export class BytestringChunk {
  /** The chunk's bytes. */
  readonly bytes: Uint8Array;
  /** True for the first chunk of the byte string. */
  readonly isFirst: boolean;
  /** True for the (empty) closing chunk. */
  readonly isLast: boolean;
  /**
   * Creates a chunk.
   *
   * @param bytes The chunk's bytes.
   * @param isFirst Whether this is the first chunk.
   * @param isLast Whether this is the closing chunk.
   */
  constructor(bytes: Uint8Array, isFirst: boolean, isLast: boolean) {
    this.bytes = bytes;
    this.isFirst = isFirst;
    this.isLast = isLast;
  }
}

/**
 * Marks an iterable of byte chunks to be encoded as one indefinite-length
 * byte string (`0x5f`, one definite byte string per chunk, `0xff`). Allowed
 * only as a top-level value, as in Mercurial.
 *
 * @example Usage
 * ```ts
 * import { encodeCbor, IndefiniteBytes } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeCbor(new IndefiniteBytes([Uint8Array.of(1)]));
 * assert.deepEqual([...bytes], [0x5f, 0x41, 1, 0xff]);
 * ```
 */
export class IndefiniteBytes {
  /** The chunks. */
  readonly chunks: Iterable<Uint8Array>;
  /**
   * Wraps chunks.
   *
   * @param chunks The byte chunks, in order.
   */
  constructor(chunks: Iterable<Uint8Array>) {
    this.chunks = chunks;
  }
}

/** Limits applied while decoding untrusted CBOR. */
export interface CborDecodeOptions {
  /**
   * Deepest nesting of arrays, maps and sets.
   *
   * @default {64}
   */
  maxDepth?: number;
  /**
   * Largest byte string, checked before any buffering or allocation.
   *
   * @default {67108864}
   */
  maxBytesLength?: number;
  /**
   * Largest item count of one array, map or set.
   *
   * @default {1048576}
   */
  maxItems?: number;
}

const TEXT_ENCODER = new TextEncoder();
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const EMPTY = new Uint8Array(0);
const TWO_64 = 1n << 64n;

// ---------------------------------------------------------------------------
// Encoding

class Writer {
  buf: Uint8Array;
  pos = 0;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }
  #ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  head(major: number, n: number | bigint): void {
    this.#ensure(9);
    const m = major << 5;
    const b = this.buf;
    if (typeof n === "bigint") {
      if (n < 0x100000000n) {
        this.head(major, Number(n));
        return;
      }
      b[this.pos++] = m | 27;
      const hi = Number(n >> 32n);
      const lo = Number(n & 0xffffffffn);
      b[this.pos++] = hi >>> 24;
      b[this.pos++] = (hi >>> 16) & 0xff;
      b[this.pos++] = (hi >>> 8) & 0xff;
      b[this.pos++] = hi & 0xff;
      b[this.pos++] = lo >>> 24;
      b[this.pos++] = (lo >>> 16) & 0xff;
      b[this.pos++] = (lo >>> 8) & 0xff;
      b[this.pos++] = lo & 0xff;
      return;
    }
    if (n < 24) {
      b[this.pos++] = m | n;
    } else if (n < 0x100) {
      b[this.pos++] = m | 24;
      b[this.pos++] = n;
    } else if (n < 0x10000) {
      b[this.pos++] = m | 25;
      b[this.pos++] = n >>> 8;
      b[this.pos++] = n & 0xff;
    } else if (n < 0x100000000) {
      b[this.pos++] = m | 26;
      b[this.pos++] = n >>> 24;
      b[this.pos++] = (n >>> 16) & 0xff;
      b[this.pos++] = (n >>> 8) & 0xff;
      b[this.pos++] = n & 0xff;
    } else {
      this.head(major, BigInt(n));
    }
  }
  bytes(data: Uint8Array): void {
    this.#ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }
  byte(v: number): void {
    this.#ensure(1);
    this.buf[this.pos++] = v;
  }
  /** A copy of the bytes written (small ones from the shared pool). */
  take(): Uint8Array {
    const out = allocBytes(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    return out;
  }
}

/**
 * The scratch buffer `encodeCbor` writes into before copying the result
 * out (a fresh buffer per call costs more than most values' encoding);
 * `null` before the first call and while in use (a nested call gets its own).
 */
let spare: Uint8Array | null = null;
/** Largest scratch buffer kept between calls. */
const MAX_SPARE = 65536;
/** Where `ChunkSink` writes heads (at most 9 bytes), copied out at once. */
const HEAD_SCRATCH = new Writer(new Uint8Array(16));

/** Sink used by the walker: either a single buffer or Mercurial-style chunks. */
interface Sink {
  head(major: number, n: number | bigint): void;
  bytes(data: Uint8Array): void;
  byte(v: number): void;
}

function typeRank(k: CborKey): number {
  if (k === null) return 0;
  if (typeof k === "boolean") return 1;
  if (typeof k === "number" || typeof k === "bigint") return 3;
  return 2;
}

function keyBytes(k: CborKey): Uint8Array {
  return typeof k === "string" ? TEXT_ENCODER.encode(k) : k as Uint8Array;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function compareKeys(a: CborKey, b: CborKey): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 2) return compareBytes(keyBytes(a), keyBytes(b));
  if (ra === 3) {
    const x = a as number | bigint;
    const y = b as number | bigint;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ra === 1) return Number(a) - Number(b);
  return 0;
}

function isKey(v: unknown): v is CborKey {
  return v === null || typeof v === "string" || typeof v === "number" ||
    typeof v === "bigint" || typeof v === "boolean" || v instanceof Uint8Array;
}

function writeInt(sink: Sink, v: number | bigint): void {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) {
      throw new TypeError(`Cannot encode CBOR: ${v} is not a safe integer`);
    }
    if (v >= 0) sink.head(0, v);
    else sink.head(1, -1 - v);
    return;
  }
  if (v >= 0n) {
    if (v >= TWO_64) {
      throw new RangeError("Cannot encode CBOR: big integers not supported");
    }
    sink.head(0, v);
  } else {
    if (-1n - v >= TWO_64) {
      throw new RangeError("Cannot encode CBOR: big integers not supported");
    }
    sink.head(1, -1n - v);
  }
}

function walk(sink: Sink, v: CborValue, depth: number, top: boolean): void {
  if (depth > 1000) {
    throw new RangeError("Cannot encode CBOR: nesting is too deep");
  }
  if (v instanceof Uint8Array) {
    sink.head(2, v.length);
    sink.bytes(v);
  } else if (typeof v === "string") {
    const b = TEXT_ENCODER.encode(v);
    sink.head(2, b.length);
    sink.bytes(b);
  } else if (typeof v === "number" || typeof v === "bigint") {
    writeInt(sink, v);
  } else if (v === true) {
    sink.byte(0xf5);
  } else if (v === false) {
    sink.byte(0xf4);
  } else if (v === null) {
    sink.byte(0xf6);
  } else if (Array.isArray(v)) {
    const a = v as readonly CborValue[];
    sink.head(4, a.length);
    for (const item of a) walk(sink, item, depth + 1, false);
  } else if (v instanceof Map) {
    const entries = [...(v as ReadonlyMap<CborKey, CborValue>).entries()];
    for (const [k] of entries) {
      if (!isKey(k)) {
        throw new TypeError(
          "Cannot encode CBOR: map key is not a simple value",
        );
      }
    }
    entries.sort((a, b) => compareKeys(a[0], b[0]));
    sink.head(5, entries.length);
    for (const [k, item] of entries) {
      walk(sink, k, depth + 1, false);
      walk(sink, item, depth + 1, false);
    }
  } else if (v instanceof Set) {
    const members = [...(v as ReadonlySet<CborKey>)];
    for (const k of members) {
      if (!isKey(k)) {
        throw new TypeError(
          "Cannot encode CBOR: set member is not a simple value",
        );
      }
    }
    members.sort(compareKeys);
    sink.head(6, 258);
    sink.head(4, members.length);
    for (const k of members) walk(sink, k, depth + 1, false);
  } else if (v instanceof IndefiniteBytes) {
    if (!top) {
      throw new TypeError(
        "Cannot encode CBOR: indefinite byte strings are only allowed at the top",
      );
    }
    sink.byte(0x5f);
    for (const chunk of v.chunks) {
      sink.head(2, chunk.length);
      sink.bytes(chunk);
    }
    sink.byte(0xff);
  } else if (v instanceof BytestringChunk) {
    throw new TypeError("Cannot encode CBOR: a decoded chunk is not a value");
  } else if (typeof v === "object") {
    const keys = Object.keys(v).sort((a, b) => compareKeys(a, b));
    sink.head(5, keys.length);
    const obj = v as { readonly [key: string]: CborValue };
    for (const k of keys) {
      walk(sink, k, depth + 1, false);
      walk(sink, obj[k]!, depth + 1, false);
    }
  } else {
    throw new TypeError(`Cannot encode CBOR: unsupported type ${typeof v}`);
  }
}

/**
 * Encodes one value as Mercurial would (`b''.join(streamencode(v))`).
 * A small result may be a region of a larger shared buffer (like Node's
 * `Buffer` pool): use `byteOffset` and `byteLength` with `.buffer`, and
 * copy (`slice()`) before transferring it.
 *
 * @param value The value.
 * @returns The CBOR bytes.
 *
 * @example Usage
 * ```ts
 * import { encodeCbor } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * // {b'status': b'ok'}
 * const bytes = encodeCbor({ status: "ok" });
 * assert.deepEqual([...bytes.subarray(0, 2)], [0xa1, 0x46]);
 * ```
 */
export function encodeCbor(value: CborValue): Uint8Array {
  const w = new Writer(spare ?? new Uint8Array(256));
  spare = null;
  try {
    walk(w, value, 0, true);
    return w.take();
  } finally {
    if (w.buf.length <= MAX_SPARE) spare = w.buf;
  }
}

class ChunkSink implements Sink {
  #emit: (chunk: Uint8Array) => void;
  constructor(emit: (chunk: Uint8Array) => void) {
    this.#emit = emit;
  }
  head(major: number, n: number | bigint): void {
    HEAD_SCRATCH.pos = 0;
    HEAD_SCRATCH.head(major, n);
    this.#emit(HEAD_SCRATCH.take());
  }
  bytes(data: Uint8Array): void {
    this.#emit(data);
  }
  byte(v: number): void {
    this.#emit(Uint8Array.of(v));
  }
}

/**
 * Encodes one value as the sequence of chunks Mercurial's `streamencode`
 * yields (each head, each byte string's contents, each simple value
 * separately). Frame boundaries of Mercurial's response emitter depend on
 * these chunks, so byte-exact responses need them.
 *
 * @param value The value.
 * @param emit Called with each chunk, in order. Content chunks may share
 * memory with `value`; head chunks may be regions of a shared buffer.
 *
 * @example Usage
 * ```ts
 * import { encodeCborChunks } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const chunks: Uint8Array[] = [];
 * encodeCborChunks(Uint8Array.of(1, 2), (c) => chunks.push(c));
 * assert.deepEqual(chunks.map((c) => [...c]), [[0x42], [1, 2]]);
 * ```
 */
export function encodeCborChunks(
  value: CborValue,
  emit: (chunk: Uint8Array) => void,
): void {
  walk(new ChunkSink(emit), value, 0, true);
}

// ---------------------------------------------------------------------------
// Decoding

/** Thrown internally when the buffer ends inside an item. */
class NeedMore {
  constructor(readonly want: number) {}
}

const enum Ctx {
  Top,
  Array,
  MapKey,
  MapValue,
  SetValue,
}

const INDEF_MSG = [
  "",
  "indefinite length bytestrings not allowed as array values",
  "indefinite length bytestrings not allowed as map keys",
  "indefinite length bytestrings not allowed as map values",
  "indefinite length bytestrings not allowed as set values",
];
const BREAK_MSG = [
  "unhandled special state: 5",
  "unhandled special item when expecting array value: 5",
  "unhandled special item when expecting map key: 5",
  "unhandled special item when expecting map value: 5",
  "unhandled special item when expecting set value: 5",
];

/** Marker returned by `#item` for the start of a top-level indefinite bstr. */
const START_INDEFINITE = Symbol("indefinite");

class Parser {
  buf: Uint8Array = EMPTY;
  pos = 0;
  end = 0;
  maxDepth: number;
  maxBytes: number;
  maxItems: number;
  constructor(o: CborDecodeOptions) {
    this.maxDepth = o.maxDepth ?? 64;
    this.maxBytes = o.maxBytesLength ?? 64 * 1024 * 1024;
    this.maxItems = o.maxItems ?? 1024 * 1024;
  }

  /** Reads the argument of a head; `info` is the low 5 bits. */
  arg(info: number): number | bigint {
    if (info < 24) return info;
    const b = this.buf;
    const p = this.pos;
    switch (info) {
      case 24:
        if (this.end - p < 1) throw new NeedMore(p + 1);
        this.pos = p + 1;
        return b[p]!;
      case 25:
        if (this.end - p < 2) throw new NeedMore(p + 2);
        this.pos = p + 2;
        return (b[p]! << 8) | b[p + 1]!;
      case 26:
        if (this.end - p < 4) throw new NeedMore(p + 4);
        this.pos = p + 4;
        return ((b[p]! << 24) >>> 0) +
          ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
      case 27: {
        if (this.end - p < 8) throw new NeedMore(p + 8);
        this.pos = p + 8;
        const hi = ((b[p]! << 24) >>> 0) +
          ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
        const lo = ((b[p + 4]! << 24) >>> 0) +
          ((b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!);
        if (hi < 0x200000) return hi * 0x100000000 + lo;
        return (BigInt(hi) << 32n) | BigInt(lo);
      }
      case 31:
        throw new CborDecodeError("indefinite length uint not allowed here");
      default:
        throw new CborDecodeError(
          `unsupported subtype on integer type: ${info}`,
        );
    }
  }

  count(info: number): number {
    const n = this.arg(info);
    if (typeof n === "bigint" || n > this.maxItems) {
      throw new CborDecodeError(
        `collection of ${n} items exceeds the limit of ${this.maxItems}`,
      );
    }
    return n;
  }

  item(ctx: Ctx, depth: number): CborValue | typeof START_INDEFINITE {
    if (this.pos >= this.end) throw new NeedMore(this.pos + 1);
    const ib = this.buf[this.pos++]!;
    const major = ib >> 5;
    const info = ib & 31;
    switch (major) {
      case 0:
        return this.arg(info);
      case 1: {
        const n = this.arg(info);
        return typeof n === "number" && n < Number.MAX_SAFE_INTEGER
          ? -1 - n
          : -1n - BigInt(n);
      }
      case 2: {
        if (info === 31) {
          if (ctx !== Ctx.Top) throw new CborDecodeError(INDEF_MSG[ctx]!);
          return START_INDEFINITE;
        }
        const n = this.arg(info);
        if (typeof n === "bigint" || n > this.maxBytes) {
          throw new CborDecodeError(
            `byte string of ${n} bytes exceeds the limit of ${this.maxBytes}`,
          );
        }
        if (this.end - this.pos < n) throw new NeedMore(this.pos + n);
        const out = this.buf.slice(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case 3:
        throw new CborDecodeError("string major type not supported");
      case 4: {
        const n = this.count(info);
        if (depth >= this.maxDepth) {
          throw new CborDecodeError("nesting exceeds the depth limit");
        }
        const out: CborValue[] = [];
        for (let i = 0; i < n; i++) {
          out.push(this.item(Ctx.Array, depth + 1) as CborValue);
        }
        return out;
      }
      case 5: {
        const n = this.count(info);
        if (depth >= this.maxDepth) {
          throw new CborDecodeError("nesting exceeds the depth limit");
        }
        const out = new Map<CborKey, CborValue>();
        for (let i = 0; i < n; i++) {
          const k = this.key(Ctx.MapKey, depth + 1);
          const v = this.item(Ctx.MapValue, depth + 1) as CborValue;
          out.set(k, v);
        }
        return out;
      }
      case 6: {
        const tag = this.arg(info);
        if (tag !== 258) {
          throw new CborDecodeError(`semantic tag ${tag} not allowed`);
        }
        if (this.pos >= this.end) throw new NeedMore(this.pos + 1);
        const ab = this.buf[this.pos]!;
        if (ab >> 5 !== 4 || (ab & 31) === 31) {
          throw new CborDecodeError(
            "expected array after finite set semantic tag",
          );
        }
        this.pos++;
        const n = this.count(ab & 31);
        if (depth >= this.maxDepth) {
          throw new CborDecodeError("nesting exceeds the depth limit");
        }
        const out = new Set<CborKey>();
        for (let i = 0; i < n; i++) out.add(this.key(Ctx.SetValue, depth + 1));
        return out;
      }
      default:
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        if (info === 31) throw new CborDecodeError(BREAK_MSG[ctx]!);
        throw new CborDecodeError(`special type ${info} not allowed`);
    }
  }

  key(ctx: Ctx, depth: number): CborKey {
    if (this.pos >= this.end) throw new NeedMore(this.pos + 1);
    const major = this.buf[this.pos]! >> 5;
    if (major === 4 || major === 5 || major === 6) {
      throw new CborDecodeError(
        ctx === Ctx.MapKey
          ? "collections not supported as map keys"
          : "collections not allowed as set values",
      );
    }
    const v = this.item(ctx, depth) as CborKey;
    if (ctx === Ctx.MapKey && v instanceof Uint8Array) {
      try {
        return UTF8.decode(v);
      } catch {
        return v;
      }
    }
    return v;
  }
}

/**
 * Incremental decoder for a stream of top-level CBOR values (Mercurial's
 * `bufferingdecoder`): feed bytes in any pieces, take complete values.
 * Partial values are kept; a byte string is not re-parsed until all of its
 * bytes are there.
 *
 * @example Usage
 * ```ts
 * import { CborStreamDecoder } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const d = new CborStreamDecoder();
 * assert.deepEqual(d.decode(Uint8Array.of(0x01, 0x18)), [1]);
 * assert.deepEqual(d.decode(Uint8Array.of(0x2a)), [42]);
 * assert.equal(d.pending, 0);
 * ```
 */
export class CborStreamDecoder {
  #p: Parser;
  #want = 0;
  #indefinite = false;
  #first = false;
  /**
   * Creates a decoder.
   *
   * @param options Decoding limits.
   */
  constructor(options: CborDecodeOptions = {}) {
    this.#p = new Parser(options);
  }

  /**
   * Number of buffered bytes that do not yet form a complete value.
   *
   * @returns The byte count.
   *
   * @example Usage
   * ```ts
   * import { CborStreamDecoder } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const d = new CborStreamDecoder();
   * d.decode(Uint8Array.of(0x42, 1));
   * assert.equal(d.pending, 2);
   * ```
   */
  get pending(): number {
    return this.#p.end - this.#p.pos;
  }

  /**
   * True while inside a value (a partial item or an open indefinite byte
   * string).
   *
   * @returns Whether more bytes are needed to finish the current value.
   *
   * @example Usage
   * ```ts
   * import { CborStreamDecoder } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const d = new CborStreamDecoder();
   * d.decode(Uint8Array.of(0x5f));
   * assert.ok(d.inValue);
   * ```
   */
  get inValue(): boolean {
    return this.#indefinite || this.pending > 0;
  }

  #append(chunk: Uint8Array): void {
    const p = this.#p;
    if (p.pos === p.end) {
      // Nothing buffered: parse straight from the caller's bytes.
      p.buf = chunk;
      p.pos = 0;
      p.end = chunk.length;
      return;
    }
    const rest = p.end - p.pos;
    const need = rest + chunk.length;
    let buf = p.buf;
    if (buf.byteOffset !== 0 || buf.length < need || buf === chunk) {
      buf = new Uint8Array(
        Math.max(need, Math.min(this.#want, p.maxBytes + 16), 64),
      );
      buf.set(p.buf.subarray(p.pos, p.end));
    } else if (p.pos > 0) {
      buf.copyWithin(0, p.pos, p.end);
    }
    p.buf = buf;
    buf.set(chunk, rest);
    p.pos = 0;
    p.end = need;
  }

  /**
   * Feeds bytes and returns every value completed by them.
   *
   * @param chunk The next bytes.
   * @returns Completed values, in order (possibly none).
   * @throws {CborDecodeError} On malformed input or exceeded limits; the
   * decoder must not be used afterwards.
   *
   * @example Usage
   * ```ts
   * import { CborStreamDecoder } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const d = new CborStreamDecoder();
   * assert.deepEqual(d.decode(Uint8Array.of(0x82, 0xf5)), []);
   * assert.deepEqual(d.decode(Uint8Array.of(0xf6)), [[true, null]]);
   * ```
   */
  decode(chunk: Uint8Array): CborValue[] {
    const out: CborValue[] = [];
    if (chunk.length === 0) return out;
    const p = this.#p;
    this.#append(chunk);
    // Still short of what the last attempt needed: wait for more.
    if (this.#want > 0 && p.end - p.pos < this.#want) return out;
    this.#want = 0;
    while (p.pos < p.end) {
      const start = p.pos;
      try {
        if (this.#indefinite) {
          const ib = p.buf[p.pos]!;
          if (ib === 0xff) {
            p.pos++;
            out.push(new BytestringChunk(EMPTY, this.#first, true));
            this.#indefinite = false;
            continue;
          }
          if (ib >> 5 !== 2 || (ib & 31) === 31) {
            throw new CborDecodeError(
              `unexpected special value when expecting bytestring chunk: ${ib}`,
            );
          }
          const v = p.item(Ctx.Array, 0) as Uint8Array;
          out.push(new BytestringChunk(v, this.#first, false));
          this.#first = false;
          continue;
        }
        const v = p.item(Ctx.Top, 0);
        if (v === START_INDEFINITE) {
          this.#indefinite = true;
          this.#first = true;
        } else {
          out.push(v);
        }
      } catch (e) {
        if (e instanceof NeedMore) {
          p.pos = start;
          this.#want = e.want - start;
          break;
        }
        throw e;
      }
    }
    if (p.pos === p.end) {
      p.buf = EMPTY;
      p.pos = 0;
      p.end = 0;
    } else if (p.buf === chunk) {
      // Keep our own copy of the caller's leftover bytes.
      p.buf = chunk.slice(p.pos, p.end);
      p.end -= p.pos;
      p.pos = 0;
    }
    return out;
  }
}

/**
 * Decodes every top-level value of a complete buffer (Mercurial's
 * `decodeall`): empty input gives `[]`, and every byte must be used.
 *
 * @param bytes The CBOR bytes.
 * @param options Decoding limits.
 * @returns The values, in order.
 * @throws {CborDecodeError} `input data not complete` when the buffer ends
 * inside a value, and Mercurial's messages for refused input.
 *
 * @example Usage
 * ```ts
 * import { decodeCborAll } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeCborAll(Uint8Array.of(0x01, 0x02)), [1, 2]);
 * ```
 */
export function decodeCborAll(
  bytes: Uint8Array,
  options: CborDecodeOptions = {},
): CborValue[] {
  const d = new CborStreamDecoder(options);
  const out = d.decode(bytes);
  if (d.inValue) throw new CborDecodeError("input data not complete");
  return out;
}

/**
 * Decodes a buffer holding exactly one CBOR value.
 *
 * @param bytes The CBOR bytes.
 * @param options Decoding limits.
 * @returns The value.
 * @throws {CborDecodeError} When the buffer holds no value, more than one,
 * or malformed input.
 *
 * @example Usage
 * ```ts
 * import { decodeCbor, encodeCbor } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const m = decodeCbor(encodeCbor({ name: "heads" })) as Map<string, Uint8Array>;
 * assert.equal(new TextDecoder().decode(m.get("name")), "heads");
 * ```
 */
export function decodeCbor(
  bytes: Uint8Array,
  options: CborDecodeOptions = {},
): CborValue {
  const all = decodeCborAll(bytes, options);
  if (all.length === 0) throw new CborDecodeError("input data not complete");
  if (all.length > 1 || all[0] instanceof BytestringChunk) {
    throw new CborDecodeError("input data not fully consumed");
  }
  return all[0]!;
}
