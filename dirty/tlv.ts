// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The TLV value codec of gunicorn 26's dirty protocol (`gunicorn/dirty/tlv.py`),
 * byte for byte: the type tags, the limits, the value types and the codec's
 * options. The encoder is in `tlv_encoder.ts`, the decoder in
 * `tlv_decoder.ts`.
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

import type { DirtyFloat } from "./dirty_float.ts";

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
