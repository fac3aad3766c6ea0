// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Reading Mercurial's CBOR subset from bytes that arrive in any pieces.
 *
 * A value that lies whole in the bytes at hand is read by a recursive
 * parser straight from them. A value cut by the end of the bytes is read by
 * a resumable parser that keeps its place (open arrays, maps and sets, a
 * partial head, a partial byte string) and never looks at a byte twice, so
 * time and memory are linear in the input however it is cut (a value fed
 * byte by byte, or across thousands of frames, costs what it costs whole).
 * The recursive parser gives a value up at most once, after reading at
 * most the bytes at hand; deep nesting always goes to the resumable one.
 *
 * @module
 */
import {
  BytestringChunk,
  type CborDecodeOptions,
  type CborKey,
  type CborValue,
} from "./cbor.ts";
import { CborDecodeError } from "./errors.ts";

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const EMPTY = new Uint8Array(0);

/**
 * What an item is estimated to cost in memory beyond its CBOR bytes (an
 * object header, a slot in its container); see
 * {@linkcode CborStreamDecoder.pendingSize}.
 */
export const CBOR_ITEM_OVERHEAD = 64;

/** Deepest nesting the recursive parser takes (the stack is not unbounded). */
const FAST_MAX_DEPTH = 128;
/** First allocation for a byte string that spans chunks. */
const MIN_PARTIAL_BYTES = 16384;

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

function limitError(message: string): CborDecodeError {
  return new CborDecodeError(message, { code: "LIMIT_EXCEEDED" });
}

function mapKey(v: CborValue): CborKey {
  if (v instanceof Uint8Array) {
    try {
      return UTF8.decode(v);
    } catch {
      return v;
    }
  }
  return v as CborKey;
}

/** Thrown by the recursive parser when it gives a value up. */
const GIVE_UP = Symbol("give up");
/** Returned by the recursive parser for the start of an indefinite bstr. */
const START_INDEFINITE = Symbol("indefinite");

/**
 * The recursive parser: reads a value that lies whole in `buf[pos, end)`,
 * or throws `GIVE_UP` (leaving its result to the resumable parser).
 */
class Fast {
  buf: Uint8Array = EMPTY;
  pos = 0;
  end = 0;
  items = 0;
  maxDepth: number;
  maxBytes: number;
  maxItems: number;
  constructor(maxDepth: number, maxBytes: number, maxItems: number) {
    this.maxDepth = maxDepth;
    this.maxBytes = maxBytes;
    this.maxItems = maxItems;
  }

  arg(info: number): number | bigint {
    if (info < 24) return info;
    const b = this.buf;
    const p = this.pos;
    switch (info) {
      case 24:
        if (this.end - p < 1) throw GIVE_UP;
        this.pos = p + 1;
        return b[p]!;
      case 25:
        if (this.end - p < 2) throw GIVE_UP;
        this.pos = p + 2;
        return (b[p]! << 8) | b[p + 1]!;
      case 26:
        if (this.end - p < 4) throw GIVE_UP;
        this.pos = p + 4;
        return readU32(b, p);
      case 27:
        if (this.end - p < 8) throw GIVE_UP;
        this.pos = p + 8;
        return readU64(b, p);
      default:
        throw argError(info);
    }
  }

  count(info: number, depth: number): number {
    const n = this.arg(info);
    checkCount(n, this.maxItems);
    if (depth >= this.maxDepth) throw depthError();
    if (depth >= FAST_MAX_DEPTH) throw GIVE_UP;
    return n as number;
  }

  item(ctx: Ctx, depth: number): CborValue | typeof START_INDEFINITE {
    if (this.pos >= this.end) throw GIVE_UP;
    const ib = this.buf[this.pos++]!;
    const major = ib >> 5;
    const info = ib & 31;
    this.items++;
    switch (major) {
      case 0:
        return this.arg(info);
      case 1:
        return negative(this.arg(info));
      case 2: {
        if (info === 31) {
          if (ctx !== Ctx.Top) throw new CborDecodeError(INDEF_MSG[ctx]!);
          return START_INDEFINITE;
        }
        const n = this.arg(info);
        checkBytes(n, this.maxBytes);
        if (this.end - this.pos < (n as number)) throw GIVE_UP;
        const out = this.buf.slice(this.pos, this.pos + (n as number));
        this.pos += n as number;
        return out;
      }
      case 3:
        throw new CborDecodeError("string major type not supported");
      case 4: {
        const n = this.count(info, depth);
        const out: CborValue[] = [];
        for (let i = 0; i < n; i++) {
          out.push(this.item(Ctx.Array, depth + 1) as CborValue);
        }
        return out;
      }
      case 5: {
        const n = this.count(info, depth);
        const out = new Map<CborKey, CborValue>();
        for (let i = 0; i < n; i++) {
          const k = mapKey(this.key(Ctx.MapKey, depth + 1));
          out.set(k, this.item(Ctx.MapValue, depth + 1) as CborValue);
        }
        return out;
      }
      case 6: {
        checkTag(this.arg(info));
        if (this.pos >= this.end) throw GIVE_UP;
        const ab = this.buf[this.pos]!;
        checkSetArray(ab);
        this.pos++;
        const n = this.count(ab & 31, depth);
        const out = new Set<CborKey>();
        for (let i = 0; i < n; i++) out.add(this.key(Ctx.SetValue, depth + 1));
        return out;
      }
      default:
        return simple(info, ctx);
    }
  }

  key(ctx: Ctx, depth: number): CborKey {
    if (this.pos >= this.end) throw GIVE_UP;
    checkKeyMajor(this.buf[this.pos]! >> 5, ctx);
    return this.item(ctx, depth) as CborKey;
  }
}

function readU32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) >>> 0) +
    ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

function readU64(b: Uint8Array, p: number): number | bigint {
  const hi = readU32(b, p);
  const lo = readU32(b, p + 4);
  if (hi < 0x200000) return hi * 0x100000000 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function argError(info: number): CborDecodeError {
  return new CborDecodeError(
    info === 31
      ? "indefinite length uint not allowed here"
      : `unsupported subtype on integer type: ${info}`,
  );
}

function negative(n: number | bigint): number | bigint {
  return typeof n === "number" && n < Number.MAX_SAFE_INTEGER
    ? -1 - n
    : -1n - BigInt(n);
}

function checkBytes(n: number | bigint, max: number): void {
  if (typeof n === "bigint" || n > max) {
    throw limitError(`byte string of ${n} bytes exceeds the limit of ${max}`);
  }
}

function checkCount(n: number | bigint, max: number): void {
  if (typeof n === "bigint" || n > max) {
    throw limitError(`collection of ${n} items exceeds the limit of ${max}`);
  }
}

function depthError(): CborDecodeError {
  return limitError("nesting exceeds the depth limit");
}

function checkTag(tag: number | bigint): void {
  if (tag !== 258) {
    throw new CborDecodeError(`semantic tag ${tag} not allowed`);
  }
}

function checkSetArray(ab: number): void {
  if (ab >> 5 !== 4 || (ab & 31) === 31) {
    throw new CborDecodeError("expected array after finite set semantic tag");
  }
}

function checkKeyMajor(major: number, ctx: Ctx): void {
  if (major === 4 || major === 5 || major === 6) {
    throw new CborDecodeError(
      ctx === Ctx.MapKey
        ? "collections not supported as map keys"
        : "collections not allowed as set values",
    );
  }
}

function simple(info: number, ctx: Ctx): CborValue {
  if (info === 20) return false;
  if (info === 21) return true;
  if (info === 22) return null;
  if (info === 31) throw new CborDecodeError(BREAK_MSG[ctx]!);
  throw new CborDecodeError(`special type ${info} not allowed`);
}

/** Bytes of a head whose first byte is `ib` (1 for anything refused). */
function headSize(ib: number): number {
  if (ib >> 5 === 7) return 1;
  const info = ib & 31;
  if (info < 24) return 1;
  if (info === 24) return 2;
  if (info === 25) return 3;
  if (info === 26) return 5;
  if (info === 27) return 9;
  return 1;
}

const enum Kind {
  Array,
  Map,
  Set,
}

/** An array, map or set being filled by the resumable parser. */
interface Open {
  kind: Kind;
  array: CborValue[] | null;
  map: Map<CborKey, CborValue> | null;
  set: Set<CborKey> | null;
  left: number;
  key: CborKey;
  hasKey: boolean;
}

/**
 * Incremental decoder for a stream of top-level CBOR values (Mercurial's
 * `bufferingdecoder`): feed bytes in any pieces, take complete values.
 * A partial value keeps its place, so no byte is read twice: time and
 * memory are linear in the input however it is cut. A byte string is
 * checked against `maxByteStringSize` from its head, and its memory grows
 * with the bytes that arrive, never ahead of them by more than double.
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
  #fast: Fast;
  #maxDepth: number;
  #maxBytes: number;
  #maxItems: number;
  /** Inside a top-level indefinite byte string. */
  #indefinite = false;
  #first = false;
  /** The resumable parser holds a partial value. */
  #active = false;
  #stack: Open[] = [];
  /** A partial head: its bytes, how many arrived, how many it has. */
  #head: Uint8Array = EMPTY;
  #headLen = 0;
  #headSize = 0;
  /** After tag 258: the next head must be a definite array. */
  #afterTag = false;
  /** A partial byte string: its memory, how much arrived, its length. */
  #bytes: Uint8Array | null = null;
  #bytesLen = 0;
  #bytesSize = 0;
  /** CBOR bytes of the partial value consumed in earlier chunks. */
  #carried = 0;
  /** Items of the partial value so far. */
  #items = 0;

  /**
   * Creates a decoder.
   *
   * @param options Decoding limits.
   */
  constructor(options: CborDecodeOptions = {}) {
    this.#maxDepth = options.maxDepth ?? 64;
    this.#maxBytes = options.maxByteStringSize ?? 64 * 1024 * 1024;
    this.#maxItems = options.maxItems ?? 1024 * 1024;
    this.#fast = new Fast(this.#maxDepth, this.#maxBytes, this.#maxItems);
  }

  /**
   * Number of bytes read that do not yet form a complete value.
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
    return this.#carried;
  }

  /**
   * Estimated memory held by the partial value, in bytes: its CBOR bytes
   * so far, {@linkcode CBOR_ITEM_OVERHEAD} per item, and the room
   * allocated ahead of a partial byte string's bytes.
   *
   * @returns The estimate (0 between values).
   *
   * @example Usage
   * ```ts
   * import { CborStreamDecoder } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const d = new CborStreamDecoder();
   * d.decode(Uint8Array.of(0x82, 0x01));
   * assert.equal(d.pendingSize, 2 + 2 * 64);
   * ```
   */
  get pendingSize(): number {
    const room = this.#bytes === null ? 0 : this.#bytes.length - this.#bytesLen;
    return this.#carried + this.#items * CBOR_ITEM_OVERHEAD + room;
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
    return this.#indefinite || this.#active;
  }

  /**
   * Feeds bytes and returns every value completed by them.
   *
   * @param chunk The next bytes (not kept: values never refer to them).
   * @param sizes When given, gets the estimated memory of each returned
   * value pushed, in order (CBOR bytes plus {@linkcode CBOR_ITEM_OVERHEAD}
   * per item).
   * @returns Completed values, in order (possibly none).
   * @throws {CborDecodeError} On malformed input or exceeded limits (code
   * `"LIMIT_EXCEEDED"`); the decoder must not be used afterwards.
   *
   * @example Usage
   * ```ts
   * import { CborStreamDecoder } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const d = new CborStreamDecoder();
   * assert.deepEqual(d.decode(Uint8Array.of(0x82, 0xf5)), []);
   * const sizes: number[] = [];
   * assert.deepEqual(d.decode(Uint8Array.of(0xf6), sizes), [[true, null]]);
   * assert.deepEqual(sizes, [3 + 3 * 64]);
   * ```
   */
  decode(chunk: Uint8Array, sizes?: number[]): CborValue[] {
    const out: CborValue[] = [];
    const end = chunk.length;
    let pos = 0;
    const fast = this.#fast;
    while (pos < end) {
      if (this.#active) {
        pos = this.#resume(chunk, pos, out, sizes);
        continue;
      }
      // A new value (or indefinite chunk): try it whole first.
      fast.buf = chunk;
      fast.pos = pos;
      fast.end = end;
      fast.items = 0;
      let v: CborValue | typeof START_INDEFINITE;
      try {
        if (this.#indefinite) {
          const ib = chunk[pos]!;
          if (ib === 0xff) {
            fast.pos = pos + 1;
            this.#indefinite = false;
            v = new BytestringChunk(EMPTY, this.#first, true);
          } else {
            checkChunkHead(ib);
            v = new BytestringChunk(
              fast.item(Ctx.Array, 0) as Uint8Array,
              this.#first,
              false,
            );
            this.#first = false;
          }
        } else {
          v = fast.item(Ctx.Top, 0);
        }
      } catch (e) {
        if (e !== GIVE_UP) throw e;
        // Cut by the end of the bytes (or too deep): the resumable parser
        // takes the value from its start, and keeps its place from now on.
        this.#active = true;
        this.#items = 0;
        this.#carried = 0;
        continue;
      }
      if (v === START_INDEFINITE) {
        this.#indefinite = true;
        this.#first = true;
      } else {
        out.push(v);
        sizes?.push(fast.pos - pos + fast.items * CBOR_ITEM_OVERHEAD);
      }
      pos = fast.pos;
    }
    fast.buf = EMPTY;
    return out;
  }

  /** The context of the next item of the resumable parser. */
  #ctx(): Ctx {
    const top = this.#stack.at(-1);
    if (top === undefined) return Ctx.Top;
    if (top.kind === Kind.Array) return Ctx.Array;
    if (top.kind === Kind.Set) return Ctx.SetValue;
    return top.hasKey ? Ctx.MapValue : Ctx.MapKey;
  }

  /**
   * The resumable parser: continues the partial value from `chunk[pos]`;
   * returns where it stopped (the end of the chunk, or the end of the
   * value, which it has then pushed to `out`).
   */
  #resume(
    chunk: Uint8Array,
    pos: number,
    out: CborValue[],
    sizes: number[] | undefined,
  ): number {
    const end = chunk.length;
    const start = pos;
    while (pos < end) {
      // A partial byte string.
      const bytes = this.#bytes;
      if (bytes !== null) {
        const want = this.#bytesSize - this.#bytesLen;
        const take = Math.min(want, end - pos);
        let buf = bytes;
        if (this.#bytesLen + take > buf.length) {
          let size = buf.length * 2;
          while (size < this.#bytesLen + take) size *= 2;
          buf = new Uint8Array(Math.min(size, this.#bytesSize));
          buf.set(bytes.subarray(0, this.#bytesLen));
          this.#bytes = buf;
        }
        buf.set(chunk.subarray(pos, pos + take), this.#bytesLen);
        this.#bytesLen += take;
        pos += take;
        if (this.#bytesLen < this.#bytesSize) break;
        this.#bytes = null;
        if (this.#complete(buf, out, sizes, pos - start)) return pos;
        continue;
      }
      // A head: start it, or go on with a partial one.
      if (this.#headLen === 0) {
        const ib = chunk[pos]!;
        if (this.#stack.length === 0 && this.#indefinite && !this.#afterTag) {
          if (ib === 0xff) {
            pos++;
            this.#indefinite = false;
            this.#active = false;
            out.push(new BytestringChunk(EMPTY, this.#first, true));
            sizes?.push(this.#carried + pos - start + CBOR_ITEM_OVERHEAD);
            this.#carried = 0;
            this.#items = 0;
            return pos;
          }
          checkChunkHead(ib);
        } else {
          this.#checkStart(ib);
        }
        if (this.#head === EMPTY) this.#head = new Uint8Array(9);
        this.#head[0] = ib;
        this.#headLen = 1;
        this.#headSize = headSize(ib);
        pos++;
      }
      while (this.#headLen < this.#headSize && pos < end) {
        this.#head[this.#headLen++] = chunk[pos++]!;
      }
      if (this.#headLen < this.#headSize) break;
      this.#headLen = 0;
      const done = this.#onHead(chunk, pos, out, sizes, start);
      if (done >= 0) return done;
      // A byte string taken whole from the chunk moved pos on.
      pos = this.#skipTo;
    }
    this.#carried += pos - start;
    return pos;
  }

  /**
   * The checks the recursive parser makes on the first byte of an item,
   * before its argument: made here at the same point, so that input cut
   * anywhere fails as it does whole.
   */
  #checkStart(ib: number): void {
    if (this.#afterTag) {
      checkSetArray(ib);
      return;
    }
    const ctx = this.#ctx();
    const major = ib >> 5;
    if (ctx === Ctx.MapKey || ctx === Ctx.SetValue) checkKeyMajor(major, ctx);
    if (major === 3) {
      throw new CborDecodeError("string major type not supported");
    }
  }

  /** Where `#onHead` left the chunk (a byte string read whole from it). */
  #skipTo = 0;

  /**
   * Acts on a complete head; returns where the value ended if it did,
   * else -1 (and `#skipTo` is where to go on).
   */
  #onHead(
    chunk: Uint8Array,
    pos: number,
    out: CborValue[],
    sizes: number[] | undefined,
    start: number,
  ): number {
    const h = this.#head;
    const ib = h[0]!;
    const major = ib >> 5;
    const info = ib & 31;
    this.#skipTo = pos;
    // The array head after tag 258 opens a set (the tag was the item).
    const isSet = this.#afterTag;
    let ctx = Ctx.Top;
    if (isSet) {
      this.#afterTag = false;
    } else {
      ctx = this.#stack.length === 0 && this.#indefinite
        ? Ctx.Array
        : this.#ctx();
      this.#items++;
    }
    let value: CborValue;
    switch (major) {
      case 0:
        value = headArg(h, info);
        break;
      case 1:
        value = negative(headArg(h, info));
        break;
      case 2: {
        if (info === 31) {
          if (ctx !== Ctx.Top) throw new CborDecodeError(INDEF_MSG[ctx]!);
          // The start of a top-level indefinite byte string: its chunks
          // are values of their own.
          this.#indefinite = true;
          this.#first = true;
          this.#active = false;
          this.#carried = 0;
          this.#items = 0;
          return pos;
        }
        const n = headArg(h, info);
        checkBytes(n, this.#maxBytes);
        const size = n as number;
        const left = chunk.length - pos;
        if (left >= size) {
          value = chunk.slice(pos, pos + size);
          pos += size;
          this.#skipTo = pos;
          break;
        }
        // Memory grows with the bytes that arrive, not with the head.
        this.#bytes = new Uint8Array(
          Math.min(size, Math.max(left, MIN_PARTIAL_BYTES)),
        );
        this.#bytesLen = 0;
        this.#bytesSize = size;
        return -1;
      }
      case 3:
        throw new CborDecodeError("string major type not supported");
      case 4:
      case 5: {
        const n = headArg(h, info);
        checkCount(n, this.#maxItems);
        if (this.#stack.length >= this.#maxDepth) throw depthError();
        const kind = isSet ? Kind.Set : major === 4 ? Kind.Array : Kind.Map;
        if (n === 0) {
          value = kind === Kind.Set
            ? new Set<CborKey>()
            : kind === Kind.Array
            ? []
            : new Map<CborKey, CborValue>();
          break;
        }
        this.#stack.push({
          kind,
          array: kind === Kind.Array ? [] : null,
          map: kind === Kind.Map ? new Map() : null,
          set: kind === Kind.Set ? new Set() : null,
          left: n as number,
          key: null,
          hasKey: false,
        });
        return -1;
      }
      case 6:
        checkTag(headArg(h, info));
        this.#afterTag = true;
        return -1;
      default:
        value = simple(info, ctx);
    }
    return this.#complete(value, out, sizes, pos - start) ? pos : -1;
  }

  /**
   * Adds a finished item to its container, closing every container it
   * fills; returns true when that finished the top-level value (pushed to
   * `out`).
   */
  #complete(
    value: CborValue,
    out: CborValue[],
    sizes: number[] | undefined,
    used: number,
  ): boolean {
    let v = value;
    for (;;) {
      const top = this.#stack.at(-1);
      if (top === undefined) {
        if (this.#indefinite) {
          v = new BytestringChunk(v as Uint8Array, this.#first, false);
          this.#first = false;
        }
        out.push(v);
        sizes?.push(
          this.#carried + used + this.#items * CBOR_ITEM_OVERHEAD,
        );
        this.#active = false;
        this.#carried = 0;
        this.#items = 0;
        return true;
      }
      if (top.kind === Kind.Array) {
        top.array!.push(v);
      } else if (top.kind === Kind.Map) {
        if (!top.hasKey) {
          top.key = mapKey(v);
          top.hasKey = true;
          return false;
        }
        top.map!.set(top.key, v);
        top.hasKey = false;
      } else {
        top.set!.add(v as CborKey);
      }
      if (--top.left > 0) return false;
      this.#stack.pop();
      v = top.array ?? top.map ?? top.set!;
    }
  }
}

function checkChunkHead(ib: number): void {
  if (ib >> 5 !== 2 || (ib & 31) === 31) {
    throw new CborDecodeError(
      `unexpected special value when expecting bytestring chunk: ${ib}`,
    );
  }
}

/** The argument of a complete head in `h`. */
function headArg(h: Uint8Array, info: number): number | bigint {
  if (info < 24) return info;
  switch (info) {
    case 24:
      return h[1]!;
    case 25:
      return (h[1]! << 8) | h[2]!;
    case 26:
      return readU32(h, 1);
    case 27:
      return readU64(h, 1);
    default:
      throw argError(info);
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
