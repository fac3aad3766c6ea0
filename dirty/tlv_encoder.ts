// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The TLV encoder, byte for byte as gunicorn's `TLVEncoder.encode`:
 * {@linkcode encodeTlv} and the growable {@linkcode TlvWriter} the message
 * encoders write whole frames with.
 *
 * @module
 */

import { growBytes } from "../_internal/bytes.ts";
import { DirtyProtocolError } from "./errors.ts";
import { pythonUtf8EncodeError } from "./_utf8.ts";
import { DirtyFloat } from "./dirty_float.ts";
import {
  DEFAULT_MAX_DEPTH,
  type DirtyInput,
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
  type TlvEncodeOptions,
} from "./tlv.ts";

const TWO_32 = 4294967296;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UTF8 = new TextEncoder();
const OBJECT_PROTO = Object.prototype;

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
    this.#buf = growBytes(this.#buf, this.#pos, need);
    this.#view = new DataView(this.#buf.buffer);
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
      // Exactly the n items the count says: a getter among the values may
      // add to the map, or delete from it, while it is written.
      let written = 0;
      for (const [k, item] of v) {
        if (written === n) break;
        if (typeof k !== "string") {
          throw new DirtyProtocolError(
            `Dict key must be string, got ${typeName(k)}`,
          );
        }
        this.#string(k);
        this.value(item, depth + 1);
        written++;
      }
      if (written !== n || v.size !== n) {
        throw new DirtyProtocolError(
          `Cannot encode TLV: a dict changed size while it was encoded (${n} -> ${v.size} items)`,
        );
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
    if (n <= 256) {
      // Short strings (app paths, actions, keys): copy ASCII directly, fall
      // back on the first non-ASCII. Cheaper than `encodeInto` up to here.
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
