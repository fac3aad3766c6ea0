// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * fast-check arbitraries of decoded TLV values for the dirty tests: every
 * TLV type, integral floats as `DirtyFloat` (as `float: "tagged"` decodes
 * them), dicts as `Map`.
 *
 * @module
 */
import fc from "fast-check";
import { DirtyFloat } from "../../dirty/dirty_float.ts";
import type { DirtyValue } from "../../dirty/tlv.ts";

/** A non-container value: each TLV type, ints and floats kept apart. */
export const tlvLeaf: fc.Arbitrary<DirtyValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
    .filter((b) => !Number.isSafeInteger(Number(b)) || BigInt(Number(b)) !== b),
  fc.double().filter((d) => !Number.isSafeInteger(d) || Object.is(d, -0)),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 })
    .map((d) => new DirtyFloat(Math.round(d) + 0)),
  fc.string({ unit: "grapheme" }),
  fc.uint8Array({ maxLength: 64 }),
);

/** Any value: leaves, lists and dicts (`Map`), a few levels deep. */
export const tlvValue: fc.Arbitrary<DirtyValue> = fc.letrec<
  { v: DirtyValue }
>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    tlvLeaf,
    fc.array(tie("v"), { maxLength: 5 }),
    fc.array(fc.tuple(fc.string(), tie("v")), { maxLength: 5 })
      .map((pairs) => new Map(pairs)),
  ),
})).v;
