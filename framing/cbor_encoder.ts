// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Writing Mercurial's CBOR subset: a whole value as one buffer
 * (`encodeCbor`), or as the chunks Mercurial's `streamencode` yields
 * (`encodeCborChunks`), which its response emitter frames.
 *
 * @module
 */
import { growBytes } from "../_internal/bytes.ts";
import { allocBytes } from "./_byte_pool.ts";
import {
  BytestringChunk,
  type CborKey,
  type CborValue,
  IndefiniteBytes,
} from "./cbor.ts";

const TEXT_ENCODER = new TextEncoder();
const TWO_64 = 1n << 64n;

class Writer {
  buf: Uint8Array;
  pos = 0;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }
  #ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.buf = growBytes(this.buf, this.pos, this.pos + n);
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
