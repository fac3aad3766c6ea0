// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The tagged JSON form of the pickle vectors' `expected` field
 * (`shared/vectors/README.md`), and the conversion of decoded values to
 * it. No `node:` module, no `Deno` API: the browser check of
 * `@sidecar/ipc/connection/pickle` uses it too.
 *
 * @module
 */
import {
  ByteArray,
  FrozenSet,
  PyFloat,
  Tuple,
} from "../../connection/pickle.ts";
import { toHex as hex } from "../hex.ts";

/** A value in the tagged JSON form of the vectors' `expected` field. */
export type Tagged =
  | { t: "none" }
  | { t: "bool"; v: boolean }
  | { t: "int" | "float" | "str"; v: string }
  | { t: "bytes" | "bytearray"; hex: string }
  | { t: "list" | "tuple" | "set" | "frozenset"; id: number; items: Tagged[] }
  | { t: "dict"; id: number; items: [Tagged, Tagged][] }
  | { t: "ref"; id: number };

/** Python's `repr()` of a float. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return 1 / x < 0 ? "-0.0" : "0.0";
  const [mant, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const sign = neg ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, "0");
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${e}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) {
    return `${sign}${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
  }
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/**
 * Converts a value to the tagged JSON form. A `number` is tagged as the
 * encoder maps it (integer-valued and not `-0`: int; otherwise float), so
 * decode with `floats: "wrap"` to see what the peer really sent. Set items are sorted by their
 * JSON text, as the comparison needs a stable order, and tagged without ids
 * (`withIds` false: every container gets id 0 and no refs).
 */
export function toTagged(value: unknown, withIds = true): Tagged {
  const ids = new Map<object, number>();
  let next = 1;
  const walk = (v: unknown): Tagged => {
    switch (typeof v) {
      case "boolean":
        return { t: "bool", v };
      case "number":
        // The encoder's natural mapping: integer-valued (not -0) is an int.
        if (Number.isInteger(v) && !Object.is(v, -0)) {
          return { t: "int", v: BigInt(v).toString() };
        }
        return { t: "float", v: pyFloatRepr(v) };
      case "bigint":
        return { t: "int", v: v.toString() };
      case "string":
        return { t: "str", v };
      case "object":
        break;
      default:
        throw new TypeError(`cannot tag ${typeof v}`);
    }
    if (v === null) return { t: "none" };
    if (v instanceof PyFloat) return { t: "float", v: pyFloatRepr(v.value) };
    if (v instanceof Uint8Array) return { t: "bytes", hex: hex(v) };
    if (v instanceof ByteArray) return { t: "bytearray", hex: hex(v.bytes) };
    const seen = ids.get(v);
    if (seen !== undefined) return { t: "ref", id: seen };
    const id = withIds ? next++ : 0;
    if (withIds) ids.set(v, id);
    if (Array.isArray(v)) return { t: "list", id, items: v.map(walk) };
    if (v instanceof Tuple) return { t: "tuple", id, items: v.items.map(walk) };
    if (v instanceof Set || v instanceof FrozenSet) {
      // Members are hashable values: tag them without ids so that the order
      // of traversal does not matter.
      const items = [...v].map((x) => toTagged(x, false));
      return {
        t: v instanceof Set ? "set" : "frozenset",
        id,
        items: sortTagged(items),
      };
    }
    if (v instanceof Map) {
      return {
        t: "dict",
        id,
        items: [...v].map(([k, x]) => [walk(k), walk(x)] as [Tagged, Tagged]),
      };
    }
    const rec = v as Record<string, unknown>;
    return {
      t: "dict",
      id,
      items: Object.keys(rec).map((k) =>
        [walk(k), walk(rec[k])] as [Tagged, Tagged]
      ),
    };
  };
  return walk(value);
}

/** Sorts tagged items by their JSON text. */
export function sortTagged<T>(items: T[]): T[] {
  return items
    .map((x) => [JSON.stringify(x), x] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map((p) => p[1]);
}

/** Sorts the items of every set and frozenset in `t` (recursively). */
export function normalizeTagged(t: Tagged): Tagged {
  if (t.t === "list" || t.t === "tuple") {
    return { ...t, items: t.items.map(normalizeTagged) };
  }
  if (t.t === "set" || t.t === "frozenset") {
    return { ...t, items: sortTagged(t.items.map(normalizeTagged)) };
  }
  if (t.t === "dict") {
    return {
      ...t,
      items: t.items.map(([k, v]) =>
        [normalizeTagged(k), normalizeTagged(v)] as [Tagged, Tagged]
      ),
    };
  }
  return t;
}
