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
 * This file holds the value types; `cbor_encoder.ts` writes values and
 * `cbor_decoder.ts` reads them.
 *
 * @module
 */

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
   * Largest byte string in bytes, checked from its head, before any
   * buffering or allocation.
   *
   * @default {67108864}
   */
  maxByteStringSize?: number;
  /**
   * Largest item count of one array, map or set.
   *
   * @default {1048576}
   */
  maxItems?: number;
}
