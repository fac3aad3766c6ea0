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
import { growBytes } from "../_internal/bytes.ts";
import {
  BytestringChunk,
  type CborDecodeOptions,
  type CborKey,
  type CborValue,
} from "./cbor.ts";
import { CborDecodeError } from "./errors.ts";
import {
  checkBytes,
  checkChunkHead,
  checkCount,
  checkKeyMajor,
  checkSetArray,
  checkTag,
  Ctx,
  depthError,
  EMPTY,
  Fast,
  GIVE_UP,
  headArg,
  headSize,
  INDEF_MSG,
  mapKey,
  negative,
  simple,
  START_INDEFINITE,
} from "./_cbor_parse.ts";

/**
 * What an item is estimated to cost in memory beyond its CBOR bytes (an
 * object header, a slot in its container); see
 * {@linkcode CborStreamDecoder.pendingSize}.
 */
export const CBOR_ITEM_OVERHEAD = 64;

/** First allocation for a byte string that spans chunks. */
const MIN_PARTIAL_BYTES = 16384;

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
          buf = growBytes(
            bytes,
            this.#bytesLen,
            this.#bytesLen + take,
            this.#bytesSize,
          );
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
    let ctx: Ctx = Ctx.Top;
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
