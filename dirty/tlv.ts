// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The TLV value codec of gunicorn 26's dirty protocol (`gunicorn/dirty/tlv.py`),
 * byte for byte.
 *
 * Type mapping (encode):
 *
 * | JavaScript value | TLV tag |
 * | --- | --- |
 * | `null`, `undefined` | `0x00` NONE |
 * | `boolean` | `0x01` BOOL |
 * | `bigint` (int64 range) | `0x05` INT64 |
 * | `number` that is a safe integer (not `-0`) | `0x05` INT64 |
 * | any other `number` (fractions, `-0`, NaN, ±Infinity, beyond 2^53) | `0x06` FLOAT64 |
 * | {@linkcode DirtyFloat} | `0x06` FLOAT64, even when integral (`1.0`) |
 * | `Uint8Array` | `0x10` BYTES |
 * | `string` | `0x11` STRING (strict UTF-8) |
 * | array | `0x20` LIST |
 * | `Map<string, …>` or plain object | `0x21` DICT (insertion order) |
 *
 * Decoding gives `null`, `boolean`, `number` for INT64 values that are safe
 * integers and `bigint` beyond (or always `bigint` with `int: "bigint"`),
 * `number` for FLOAT64 (or {@linkcode DirtyFloat} for integral floats with
 * `float: "tagged"`, so `1.0` re-encodes as FLOAT64), `Uint8Array`, `string`,
 * arrays, and `Map` (default) or plain objects for dicts.
 *
 * @module
 */

import { DirtyProtocolError } from "./errors.ts";
import { pythonUtf8DecodeError, pythonUtf8EncodeError } from "./_utf8.ts";

/** Tag of NONE. */
export const TLV_NONE = 0x00;
/** Tag of BOOL. */
export const TLV_BOOL = 0x01;
/** Tag of INT64. */
export const TLV_INT64 = 0x05;
/** Tag of FLOAT64. */
export const TLV_FLOAT64 = 0x06;
/** Tag of BYTES. */
export const TLV_BYTES = 0x10;
/** Tag of STRING. */
export const TLV_STRING = 0x11;
/** Tag of LIST. */
export const TLV_LIST = 0x20;
/** Tag of DICT. */
export const TLV_DICT = 0x21;

/** Largest BYTES value: 64 MiB. */
export const MAX_BYTES_SIZE = 64 * 1024 * 1024;
/** Largest STRING value in UTF-8 bytes: 64 MiB. */
export const MAX_STRING_SIZE = 64 * 1024 * 1024;
/** Most items in a LIST: 1,048,576. */
export const MAX_LIST_SIZE = 1024 * 1024;
/** Most pairs in a DICT: 1,048,576. */
export const MAX_DICT_SIZE = 1024 * 1024;
/** Default container nesting limit (Python fails near 1,000 levels). */
export const DEFAULT_MAX_DEPTH = 1000;

/**
 * A float that stays a float: encodes as FLOAT64 even when its value is
 * integral, so Python receives `1.0` rather than `1`. `valueOf()` returns
 * the number, so arithmetic works (`+f`, `f * 2`).
 *
 * @example Usage
 * ```ts
 * import { DirtyFloat, encodeTlv } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeTlv(new DirtyFloat(1))[0], 0x06);
 * assert.equal(encodeTlv(1)[0], 0x05);
 * assert.equal(new DirtyFloat(1.5).valueOf() * 2, 3);
 * ```
 */
export class DirtyFloat {
  /** The number. */
  readonly value: number;

  /**
   * Wraps a number.
   *
   * @param value The float value.
   */
  constructor(value: number) {
    this.value = +value;
  }

  /**
   * The wrapped number.
   *
   * @returns The float value.
   *
   * @example Usage
   * ```ts
   * import { DirtyFloat } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new DirtyFloat(2).valueOf(), 2);
   * ```
   */
  valueOf(): number {
    return this.value;
  }

  /**
   * Text form: the number's, as for a plain number (`` `${f}` `` gives
   * `"1"`, not `"[object Object]"`).
   *
   * @returns The number as text.
   *
   * @example Usage
   * ```ts
   * import { DirtyFloat } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(`${new DirtyFloat(1)} and ${new DirtyFloat(0.5)}`, "1 and 0.5");
   * ```
   */
  toString(): string {
    return String(this.value);
  }

  /**
   * JSON form: the plain number.
   *
   * @returns The float value.
   *
   * @example Usage
   * ```ts
   * import { DirtyFloat } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(JSON.stringify({ x: new DirtyFloat(1) }), '{"x":1}');
   * ```
   */
  toJSON(): number {
    return this.value;
  }
}

/** A decoded dict as a plain object (with `dict: "object"`). */
export interface DirtyRecord {
  /** Any key maps to a decoded value. */
  [key: string]: DirtyValue;
}

/** A decoded TLV value. */
export type DirtyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | DirtyFloat
  | DirtyValue[]
  | Map<string, DirtyValue>
  | DirtyRecord;

/** A value that {@linkcode encodeTlv} accepts. */
export type DirtyInput =
  | DirtyValue
  | undefined
  | readonly DirtyInput[]
  | DirtyDictInput;

/** A dict that {@linkcode encodeTlv} accepts: a map or a plain object. */
export type DirtyDictInput =
  | ReadonlyMap<string, DirtyInput>
  | { readonly [key: string]: DirtyInput };

/** Options of {@linkcode decodeTlv}. */
export interface TlvDecodeOptions {
  /**
   * How dicts decode: `"map"` keeps every key and the wire order exactly;
   * `"object"` gives plain objects (integer-like keys reorder, as in any JS
   * object).
   *
   * @default {"map"}
   */
  dict?: "map" | "object";
  /**
   * How FLOAT64 decodes: `"number"`, or `"tagged"` to return integral floats
   * as {@linkcode DirtyFloat} so that re-encoding gives the same bytes.
   *
   * @default {"number"}
   */
  float?: "number" | "tagged";
  /**
   * How INT64 decodes: `"auto"` gives a `number` for safe integers and a
   * `bigint` beyond; `"bigint"` always gives a `bigint`.
   *
   * @default {"auto"}
   */
  int?: "auto" | "bigint";
  /**
   * Deepest container nesting accepted.
   *
   * @default {1000}
   */
  maxDepth?: number;
}

/** Options of {@linkcode encodeTlv}. */
export interface TlvEncodeOptions {
  /**
   * Deepest container nesting accepted (also stops cycles).
   *
   * @default {1000}
   */
  maxDepth?: number;
}

const TWO_32 = 4294967296;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UTF8 = new TextEncoder();
const UTF8_DECODER = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const OBJECT_PROTO = Object.prototype;
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

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  const ctor = (v as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === "string" && ctor.name !== ""
    ? ctor.name
    : "object";
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === OBJECT_PROTO || proto === null;
}

/**
 * A growable byte buffer used by the encoders. Internal, but exported for
 * the message codec.
 */
export class TlvWriter {
  #buf: Uint8Array<ArrayBuffer>;
  #view: DataView;
  #pos = 0;
  #maxDepth: number;

  /**
   * Creates a writer.
   *
   * @param initialSize First buffer size in bytes.
   * @param options Encoder options.
   */
  constructor(initialSize = 256, options: TlvEncodeOptions = {}) {
    this.#buf = new Uint8Array(Math.max(16, initialSize));
    this.#view = new DataView(this.#buf.buffer);
    this.#maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  /**
   * Empties the writer for reuse (the buffer is kept).
   *
   * @param options Encoder options for the next use.
   *
   * @example Usage
   * ```ts
   * import { TlvWriter } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const w = new TlvWriter();
   * w.value(1);
   * w.reset();
   * assert.equal(w.length, 0);
   * ```
   */
  reset(options: TlvEncodeOptions = {}): void {
    this.#pos = 0;
    this.#maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  /**
   * Size of the underlying buffer.
   *
   * @returns The capacity in bytes.
   *
   * @example Usage
   * ```ts
   * import { TlvWriter } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new TlvWriter(1024).capacity, 1024);
   * ```
   */
  get capacity(): number {
    return this.#buf.length;
  }

  /**
   * Bytes written so far.
   *
   * @returns The position.
   *
   * @example Usage
   * ```ts
   * import { TlvWriter } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const w = new TlvWriter();
   * w.value(null);
   * assert.equal(w.length, 1);
   * ```
   */
  get length(): number {
    return this.#pos;
  }

  #reserve(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /**
   * Skips `n` zero bytes (e.g. room for a header) and returns their offset.
   *
   * @param n Bytes to skip.
   * @returns The offset of the first skipped byte.
   *
   * @example Usage
   * ```ts
   * import { TlvWriter } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const w = new TlvWriter();
   * assert.equal(w.skip(16), 0);
   * assert.equal(w.length, 16);
   * ```
   */
  skip(n: number): number {
    this.#reserve(n);
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  /**
   * A view of the written bytes (shares memory with the writer).
   *
   * @returns The bytes written so far.
   *
   * @example Usage
   * ```ts
   * import { TlvWriter } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const w = new TlvWriter();
   * w.value(true);
   * assert.deepEqual([...w.bytes()], [1, 1]);
   * ```
   */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.#buf.subarray(0, this.#pos);
  }

  /**
   * The DataView over the current buffer (valid until the next write).
   *
   * @returns The DataView.
   *
   * @example Usage
   * ```ts
   * import { TlvWriter } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const w = new TlvWriter();
   * w.skip(4);
   * w.dataView().setUint32(0, 7);
   * assert.equal(w.bytes()[3], 7);
   * ```
   */
  dataView(): DataView {
    return this.#view;
  }

  /**
   * Appends one encoded value.
   *
   * @param v The value.
   * @param depth Current container depth.
   * @throws {DirtyProtocolError} If the value cannot be encoded.
   *
   * @example Usage
   * ```ts
   * import { TlvWriter } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const w = new TlvWriter();
   * w.value("hi");
   * assert.deepEqual([...w.bytes()], [0x11, 0, 0, 0, 2, 0x68, 0x69]);
   * ```
   */
  value(v: unknown, depth = 0): void {
    switch (typeof v) {
      case "string":
        this.#string(v);
        return;
      case "number":
        this.#number(v);
        return;
      case "boolean":
        this.#reserve(2);
        this.#buf[this.#pos++] = TLV_BOOL;
        this.#buf[this.#pos++] = v ? 1 : 0;
        return;
      case "bigint":
        this.#bigint(v);
        return;
      case "undefined":
        this.#reserve(1);
        this.#buf[this.#pos++] = TLV_NONE;
        return;
      case "object":
        break;
      default:
        throw new DirtyProtocolError(
          `Unsupported type for TLV encoding: ${typeof v}`,
        );
    }
    if (v === null) {
      this.#reserve(1);
      this.#buf[this.#pos++] = TLV_NONE;
      return;
    }
    if (v instanceof DirtyFloat) {
      this.#float(v.value);
      return;
    }
    if (v instanceof Uint8Array) {
      this.#bytes(v);
      return;
    }
    if (depth >= this.#maxDepth) {
      throw new DirtyProtocolError(
        `Cannot encode TLV: nesting deeper than ${this.#maxDepth} levels`,
      );
    }
    if (Array.isArray(v)) {
      const n = v.length;
      if (n > MAX_LIST_SIZE) {
        throw new DirtyProtocolError(
          `List too large: ${n} items (max: ${MAX_LIST_SIZE})`,
        );
      }
      this.#head(TLV_LIST, n);
      for (let i = 0; i < n; i++) {
        const item = v[i];
        if (typeof item === "number") this.#number(item);
        else this.value(item, depth + 1);
      }
      return;
    }
    if (v instanceof Map) {
      const n = v.size;
      if (n > MAX_DICT_SIZE) {
        throw new DirtyProtocolError(
          `Dict too large: ${n} items (max: ${MAX_DICT_SIZE})`,
        );
      }
      this.#head(TLV_DICT, n);
      for (const [k, item] of v) {
        if (typeof k !== "string") {
          throw new DirtyProtocolError(
            `Dict key must be string, got ${typeName(k)}`,
          );
        }
        this.#string(k);
        this.value(item, depth + 1);
      }
      return;
    }
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      const n = keys.length;
      if (n > MAX_DICT_SIZE) {
        throw new DirtyProtocolError(
          `Dict too large: ${n} items (max: ${MAX_DICT_SIZE})`,
        );
      }
      this.#head(TLV_DICT, n);
      const rec = v as Record<string, unknown>;
      for (let i = 0; i < n; i++) {
        const k = keys[i]!;
        this.#string(k);
        this.value(rec[k], depth + 1);
      }
      return;
    }
    throw new DirtyProtocolError(
      `Unsupported type for TLV encoding: ${typeName(v)}`,
    );
  }

  #head(tag: number, n: number): void {
    this.#reserve(5);
    const b = this.#buf;
    let p = this.#pos;
    b[p++] = tag;
    b[p++] = n >>> 24;
    b[p++] = (n >>> 16) & 0xff;
    b[p++] = (n >>> 8) & 0xff;
    b[p++] = n & 0xff;
    this.#pos = p;
  }

  #number(v: number): void {
    if (Number.isSafeInteger(v) && !(v === 0 && 1 / v < 0)) {
      this.#reserve(9);
      this.#buf[this.#pos] = TLV_INT64;
      const hi = Math.floor(v / TWO_32);
      this.#view.setInt32(this.#pos + 1, hi);
      this.#view.setUint32(this.#pos + 5, v - hi * TWO_32);
      this.#pos += 9;
      return;
    }
    this.#float(v);
  }

  #float(v: number): void {
    this.#reserve(9);
    this.#buf[this.#pos] = TLV_FLOAT64;
    if (v !== v) {
      // CPython's canonical quiet NaN.
      this.#view.setUint32(this.#pos + 1, 0x7ff80000);
      this.#view.setUint32(this.#pos + 5, 0);
    } else {
      this.#view.setFloat64(this.#pos + 1, v);
    }
    this.#pos += 9;
  }

  #bigint(v: bigint): void {
    if (v < INT64_MIN || v > INT64_MAX) {
      throw new DirtyProtocolError("int too large to convert", {
        details: { value: v.toString() },
      });
    }
    this.#reserve(9);
    this.#buf[this.#pos] = TLV_INT64;
    this.#view.setBigInt64(this.#pos + 1, v);
    this.#pos += 9;
  }

  #bytes(v: Uint8Array): void {
    const n = v.length;
    if (n > MAX_BYTES_SIZE) {
      throw new DirtyProtocolError(
        `Bytes too large: ${n} bytes (max: ${MAX_BYTES_SIZE})`,
      );
    }
    this.#head(TLV_BYTES, n);
    this.#reserve(n);
    this.#buf.set(v, this.#pos);
    this.#pos += n;
  }

  #string(s: string): void {
    const n = s.length;
    if (n > MAX_STRING_SIZE) {
      // UTF-8 is never shorter than UTF-16 code units.
      const bad = pythonUtf8EncodeError(s);
      if (bad !== null) throw new DirtyProtocolError(bad);
      throw new DirtyProtocolError(
        `String too large: ${
          UTF8.encode(s).length
        } bytes (max: ${MAX_STRING_SIZE})`,
      );
    }
    if (n < 48) {
      // Short strings: copy ASCII directly, fall back on the first non-ASCII.
      this.#reserve(5 + n);
      const b = this.#buf;
      const start = this.#pos + 5;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[start + i] = c;
      }
      if (i === n) {
        this.#head(TLV_STRING, n);
        this.#pos += n;
        return;
      }
    }
    if (!s.isWellFormed()) {
      throw new DirtyProtocolError(pythonUtf8EncodeError(s)!);
    }
    if (n > 1 << 20) {
      const enc = UTF8.encode(s);
      if (enc.length > MAX_STRING_SIZE) {
        throw new DirtyProtocolError(
          `String too large: ${enc.length} bytes (max: ${MAX_STRING_SIZE})`,
        );
      }
      this.#head(TLV_STRING, enc.length);
      this.#reserve(enc.length);
      this.#buf.set(enc, this.#pos);
      this.#pos += enc.length;
      return;
    }
    this.#reserve(5 + n * 3);
    const at = this.#pos;
    const { written } = UTF8.encodeInto(s, this.#buf.subarray(at + 5));
    if (written > MAX_STRING_SIZE) {
      throw new DirtyProtocolError(
        `String too large: ${written} bytes (max: ${MAX_STRING_SIZE})`,
      );
    }
    this.#head(TLV_STRING, written);
    this.#pos += written;
  }
}

/**
 * Encodes one value as TLV bytes, like gunicorn's `TLVEncoder.encode`.
 * Out-of-range integers, lone surrogates, oversize values and unsupported
 * types throw {@linkcode DirtyProtocolError} (gunicorn lets `struct.error`
 * and `UnicodeEncodeError` escape instead; the messages are the same).
 *
 * @param value The value (see the module doc for the type mapping).
 * @param options Nesting limit.
 * @returns The encoded bytes.
 * @throws {DirtyProtocolError} If the value cannot be encoded.
 *
 * @example Usage
 * ```ts
 * import { encodeTlv } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
 * assert.equal(hex(encodeTlv({ a: 1 })), "2100000001110000000161050000000000000001");
 * ```
 */
export function encodeTlv(
  value: DirtyInput,
  options: TlvEncodeOptions = {},
): Uint8Array<ArrayBuffer> {
  // One spare writer is kept between calls; a nested call (e.g. from a
  // getter) simply gets a fresh one.
  let w = spare;
  spare = null;
  if (w === null) w = new TlvWriter(4096, options);
  else w.reset(options);
  try {
    w.value(value);
    return w.bytes().slice();
  } finally {
    if (w.capacity <= SPARE_MAX) spare = w;
  }
}

let spare: TlvWriter | null = null;
const SPARE_MAX = 1 << 20;

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
