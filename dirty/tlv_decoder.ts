// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The TLV decoder, as gunicorn's `TLVEncoder.decode` / `decode_full`, with
 * gunicorn's messages: every length and count is checked before anything
 * is allocated, nesting is capped, strings are strict UTF-8.
 *
 * @module
 */

import { DirtyProtocolError } from "./errors.ts";
import { pythonUtf8DecodeError } from "./_utf8.ts";
import { DirtyFloat } from "./dirty_float.ts";
import {
  DEFAULT_MAX_DEPTH,
  type DirtyRecord,
  type DirtyValue,
  MAX_BYTES_SIZE,
  MAX_DICT_SIZE,
  MAX_LIST_SIZE,
  MAX_STRING_SIZE,
  TLV_BOOL,
  TLV_BYTES,
  TLV_DICT,
  TLV_FLOAT64,
  TLV_INT64,
  TLV_LIST,
  TLV_NONE,
  TLV_STRING,
  type TlvDecodeOptions,
} from "./tlv.ts";

const TWO_32 = 4294967296;
const UTF8_DECODER = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Strings of 1 to 256 bytes decoded lately, 64 slots chosen by length and
 * a few bytes: an arbiter and its workers read the same keys, app paths
 * and action names in every request, and a hit (every byte compared)
 * costs far less than building the string again (a short one char by
 * char, a long one through `TextDecoder`). A slot keeps its bytes in one
 * shared arena, so a miss allocates nothing more: it costs one compare and
 * one copy of at most 256 bytes, and any input stays linear.
 */
const CACHE_MAX = 256;
const CACHE_SLOTS = 64;
const CACHE_MASK = CACHE_SLOTS - 1;
const cacheArena = new Uint8Array(CACHE_SLOTS * CACHE_MAX);
/** Length of each slot's string in bytes; 0 for an empty slot. */
const cacheLengths = new Uint16Array(CACHE_SLOTS);
const cachedStrings: string[] = new Array(CACHE_SLOTS).fill("");

function cacheSlot(data: Uint8Array, off: number, n: number): number {
  return (n ^ data[off + n - 1]! ^ (data[off + (n >> 1)]! << 2)) & CACHE_MASK;
}

const PYTHON_TYPE_NAMES: Record<number, string> = {
  [TLV_NONE]: "NoneType",
  [TLV_BOOL]: "bool",
  [TLV_INT64]: "int",
  [TLV_FLOAT64]: "float",
  [TLV_BYTES]: "bytes",
  [TLV_STRING]: "str",
  [TLV_LIST]: "list",
  [TLV_DICT]: "dict",
};

/** Result of {@linkcode decodeTlvAt}. */
export interface TlvDecodeResult {
  /** The decoded value. */
  value: DirtyValue;
  /** Offset just after the value. */
  offset: number;
}

class Reader {
  readonly data: Uint8Array;
  readonly view: DataView;
  readonly dictAsMap: boolean;
  readonly taggedFloats: boolean;
  readonly alwaysBigint: boolean;
  readonly maxDepth: number;
  pos: number;

  constructor(data: Uint8Array, offset: number, options: TlvDecodeOptions) {
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.dictAsMap = (options.dict ?? "map") === "map";
    this.taggedFloats = options.float === "tagged";
    this.alwaysBigint = options.int === "bigint";
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.pos = offset;
  }

  fail(message: string, rawStart: number, rawEnd: number): never {
    throw new DirtyProtocolError(message, {
      rawData: this.data.subarray(Math.max(0, rawStart), rawEnd),
    });
  }

  decode(depth: number): DirtyValue {
    const data = this.data;
    const len = data.length;
    let off = this.pos;
    if (off >= len) {
      this.fail("Truncated TLV data: no type byte", off, off + 20);
    }
    const tag = data[off++]!;
    switch (tag) {
      case TLV_NONE:
        this.pos = off;
        return null;
      case TLV_BOOL:
        if (off >= len) {
          this.fail(
            "Truncated TLV data: missing bool value",
            off - 1,
            off + 20,
          );
        }
        this.pos = off + 1;
        return data[off] !== 0;
      case TLV_INT64: {
        if (off + 8 > len) {
          this.fail("Truncated TLV data: incomplete int64", off - 1, off + 20);
        }
        this.pos = off + 8;
        const hi = this.view.getInt32(off);
        if (!this.alwaysBigint && hi < 0x200000 && hi >= -0x200000) {
          const lo = this.view.getUint32(off + 4);
          // -2^53 itself is not a safe integer.
          if (hi !== -0x200000 || lo !== 0) return hi * TWO_32 + lo;
        }
        return this.view.getBigInt64(off);
      }
      case TLV_FLOAT64: {
        if (off + 8 > len) {
          this.fail(
            "Truncated TLV data: incomplete float64",
            off - 1,
            off + 20,
          );
        }
        this.pos = off + 8;
        const f = this.view.getFloat64(off);
        if (
          this.taggedFloats && Number.isSafeInteger(f) &&
          !(f === 0 && 1 / f < 0)
        ) {
          return new DirtyFloat(f);
        }
        return f;
      }
      case TLV_BYTES: {
        if (off + 4 > len) {
          this.fail(
            "Truncated TLV data: incomplete bytes length",
            off - 1,
            off + 20,
          );
        }
        const n = this.view.getUint32(off);
        off += 4;
        if (n > MAX_BYTES_SIZE) {
          throw new DirtyProtocolError(
            `Bytes too large: ${n} bytes (max: ${MAX_BYTES_SIZE})`,
          );
        }
        if (off + n > len) {
          this.fail(
            `Truncated TLV data: expected ${n} bytes, got ${len - off}`,
            off - 5,
            off + 20,
          );
        }
        this.pos = off + n;
        return data.slice(off, off + n);
      }
      case TLV_STRING: {
        if (off + 4 > len) {
          this.fail(
            "Truncated TLV data: incomplete string length",
            off - 1,
            off + 20,
          );
        }
        const n = this.view.getUint32(off);
        off += 4;
        if (n > MAX_STRING_SIZE) {
          throw new DirtyProtocolError(
            `String too large: ${n} bytes (max: ${MAX_STRING_SIZE})`,
          );
        }
        if (off + n > len) {
          this.fail(
            `Truncated TLV data: expected ${n} bytes for string, got ${
              len - off
            }`,
            off - 5,
            off + 20,
          );
        }
        this.pos = off + n;
        return this.string(off, n);
      }
      case TLV_LIST: {
        if (off + 4 > len) {
          this.fail(
            "Truncated TLV data: incomplete list count",
            off - 1,
            off + 20,
          );
        }
        const n = this.view.getUint32(off);
        if (n > MAX_LIST_SIZE) {
          throw new DirtyProtocolError(
            `List too large: ${n} items (max: ${MAX_LIST_SIZE})`,
          );
        }
        this.pos = off + 4;
        this.checkDepth(depth);
        const items: DirtyValue[] = [];
        for (let i = 0; i < n; i++) items.push(this.decode(depth + 1));
        return items;
      }
      case TLV_DICT: {
        if (off + 4 > len) {
          this.fail(
            "Truncated TLV data: incomplete dict count",
            off - 1,
            off + 20,
          );
        }
        const n = this.view.getUint32(off);
        if (n > MAX_DICT_SIZE) {
          throw new DirtyProtocolError(
            `Dict too large: ${n} items (max: ${MAX_DICT_SIZE})`,
          );
        }
        this.pos = off + 4;
        this.checkDepth(depth);
        if (this.dictAsMap) {
          const m = new Map<string, DirtyValue>();
          for (let i = 0; i < n; i++) {
            const k = this.key(depth);
            m.set(k, this.decode(depth + 1));
          }
          return m;
        }
        const o: DirtyRecord = {};
        for (let i = 0; i < n; i++) {
          const k = this.key(depth);
          const v = this.decode(depth + 1);
          if (k === "__proto__") {
            Object.defineProperty(o, k, {
              value: v,
              enumerable: true,
              writable: true,
              configurable: true,
            });
          } else {
            o[k] = v;
          }
        }
        return o;
      }
      default:
        return this.fail(
          `Unknown TLV type code: 0x${tag.toString(16).padStart(2, "0")}`,
          off - 1,
          off + 20,
        );
    }
  }

  key(depth: number): string {
    const tag = this.data[this.pos];
    const k = this.decode(depth + 1);
    if (typeof k !== "string") {
      throw new DirtyProtocolError(
        `Dict key must be string, got ${PYTHON_TYPE_NAMES[tag!]}`,
      );
    }
    return k;
  }

  checkDepth(depth: number): void {
    if (depth >= this.maxDepth) {
      throw new DirtyProtocolError(
        `Cannot decode TLV: nesting deeper than ${this.maxDepth} levels`,
      );
    }
  }

  string(off: number, n: number): string {
    if (n === 0 || n > CACHE_MAX) return this.#decode(off, n);
    const data = this.data;
    const slot = cacheSlot(data, off, n);
    const base = slot * CACHE_MAX;
    if (cacheLengths[slot] === n) {
      let i = 0;
      while (i < n && cacheArena[base + i] === data[off + i]) i++;
      if (i === n) return cachedStrings[slot]!;
    }
    // Invalid UTF-8 throws here and leaves the slot as it was.
    const s = this.#decode(off, n);
    for (let i = 0; i < n; i++) cacheArena[base + i] = data[off + i]!;
    cacheLengths[slot] = n;
    cachedStrings[slot] = s;
    return s;
  }

  #decode(off: number, n: number): string {
    const data = this.data;
    if (n < 32) {
      let s = "";
      let i = 0;
      for (; i < n; i++) {
        const c = data[off + i]!;
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (i === n) return s;
    }
    const body = data.subarray(off, off + n);
    try {
      return UTF8_DECODER.decode(body);
    } catch (cause) {
      const why = pythonUtf8DecodeError(body) ?? String(cause);
      throw new DirtyProtocolError(`Invalid UTF-8 in string: ${why}`, {
        rawData: data.subarray(off, off + Math.min(n, 20)),
        cause,
      });
    }
  }
}

/**
 * Decodes one value starting at `offset` and returns it with the offset
 * after it, like gunicorn's `TLVEncoder.decode(data, offset)`. Bytes after
 * the value are left alone.
 *
 * @param data The bytes.
 * @param offset Where the value starts.
 * @param options Representation choices and nesting limit.
 * @returns The value and the next offset.
 * @throws {DirtyProtocolError} With gunicorn's message on malformed input.
 *
 * @example Usage
 * ```ts
 * import { decodeTlvAt } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const r = decodeTlvAt(Uint8Array.of(0x00, 0x01, 0x01), 1);
 * assert.deepEqual(r, { value: true, offset: 3 });
 * ```
 */
export function decodeTlvAt(
  data: Uint8Array,
  offset = 0,
  options: TlvDecodeOptions = {},
): TlvDecodeResult {
  const r = new Reader(data, offset, options);
  const value = r.decode(0);
  return { value, offset: r.pos };
}

/**
 * Decodes exactly one value that fills `data`, like gunicorn's
 * `TLVEncoder.decode_full`. Every length and count is checked against the
 * 64 MiB / 1,048,576 limits before anything is allocated; trailing bytes
 * are rejected.
 *
 * @param data The bytes.
 * @param options Representation choices and nesting limit.
 * @returns The value.
 * @throws {DirtyProtocolError} With gunicorn's message on malformed input.
 *
 * @example Usage
 * ```ts
 * import { decodeTlv, DirtyProtocolError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const bytes = Uint8Array.from([0x21, 0, 0, 0, 1, 0x11, 0, 0, 0, 1, 0x61, 0x05, 0, 0, 0, 0, 0, 0, 0, 1]);
 * assert.deepEqual(decodeTlv(bytes), new Map([["a", 1]]));
 * assert.deepEqual(decodeTlv(bytes, { dict: "object" }), { a: 1 });
 * assert.throws(() => decodeTlv(Uint8Array.of(0x00, 0x00)), DirtyProtocolError);
 * ```
 */
export function decodeTlv(
  data: Uint8Array,
  options: TlvDecodeOptions = {},
): DirtyValue {
  const r = new Reader(data, 0, options);
  const value = r.decode(0);
  if (r.pos !== data.length) {
    throw new DirtyProtocolError(
      `Trailing data after TLV: ${data.length - r.pos} bytes`,
      {
        rawData: data.subarray(r.pos, r.pos + 20),
      },
    );
  }
  return value;
}
