// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Test helpers for the pickle codec: the tagged-JSON form of
 * `shared/vectors/README.md`, Python literals for JavaScript values, and
 * fast-check arbitraries of picklable values.
 *
 * @module
 */
import fc from "fast-check";
import vectors from "../../connection/testdata/pickle-vectors.json" with {
  type: "json",
};
import {
  ByteArray,
  FrozenSet,
  PyDict,
  PyFloat,
  Tuple,
} from "../../connection/pickle.ts";
import { toHex as hex } from "../hex.ts";
import { pyFloatRepr, type Tagged } from "./pickle_tagged.ts";

export {
  normalizeTagged,
  pyFloatRepr,
  sortTagged,
  type Tagged,
  toTagged,
} from "./pickle_tagged.ts";

/** One entry of connection/testdata/pickle-vectors.json. */
export interface PickleVector {
  /** Name, ending in the protocol (`_p4`). */
  name: string;
  /** The protocol CPython used. */
  protocol: 2 | 3 | 4 | 5;
  /** CPython's pickle bytes. */
  hex: string;
  /** A Python expression for the value. */
  "python_expr": string;
  /** The value in tagged JSON. */
  expected: Tagged;
}

/**
 * The pickle vectors CPython made: a byte-identical copy of shared/vectors'
 * pickle-vectors.json (excluded from `deno fmt`, which cannot parse the
 * escaped lone surrogates of the JSON).
 */
export const PICKLE_VECTORS: PickleVector[] = vectors as PickleVector[];

/**
 * A Python expression that evaluates to a fresh copy of `value` (no shared
 * or recursive references; tuples are built with `tuple([...])` so that
 * Python does not fold equal constant tuples into one object).
 */
export function toPyExpr(value: unknown): string {
  switch (typeof value) {
    case "boolean":
      return value ? "True" : "False";
    case "number":
      if (Number.isInteger(value) && !Object.is(value, -0)) {
        return BigInt(value).toString();
      }
      return floatExpr(value);
    case "bigint":
      return value.toString();
    case "string":
      return JSON.stringify(value);
    case "object":
      break;
    default:
      throw new TypeError(`no Python expression for ${typeof value}`);
  }
  const v = value;
  if (v === null) return "None";
  if (v instanceof PyFloat) return floatExpr(v.value);
  if (v instanceof Uint8Array) return `bytes.fromhex('${hex(v)}')`;
  if (v instanceof ByteArray) return `bytearray.fromhex('${hex(v.bytes)}')`;
  if (Array.isArray(v)) return `[${v.map(toPyExpr).join(", ")}]`;
  if (v instanceof Tuple) {
    return v.length === 0
      ? "()"
      : `tuple([${v.items.map(toPyExpr).join(", ")}])`;
  }
  if (v instanceof Set) {
    return v.size === 0 ? "set()" : `{${[...v].map(toPyExpr).join(", ")}}`;
  }
  if (v instanceof FrozenSet) {
    return `frozenset([${[...v].map(toPyExpr).join(", ")}])`;
  }
  if (v instanceof Map) {
    return `{${
      [...v].map(([k, x]) => `${toPyExpr(k)}: ${toPyExpr(x)}`).join(", ")
    }}`;
  }
  const rec = v as Record<string, unknown>;
  return `{${
    Object.keys(rec).map((k) => `${JSON.stringify(k)}: ${toPyExpr(rec[k])}`)
      .join(", ")
  }}`;
}

function floatExpr(x: number): string {
  const r = pyFloatRepr(x);
  return /^-?(nan|inf)$/.test(r) ? `float('${r}')` : r;
}

/**
 * Whether CPython, given a fresh copy of `value`, would pickle it with no
 * memo reference that our encoder cannot reproduce: CPython shares equal
 * string constants, the empty bytes and 1-byte bytes objects, and the
 * `'latin1'` constant (protocol 2), while JavaScript strings have no
 * identity. Sets of two or more members count as not identity-free unless
 * `trustSetOrder` (Python writes them in hash order).
 */
export function identityFree(
  value: unknown,
  protocol: number,
  trustSetOrder = false,
): boolean {
  const strs = new Set<string>();
  const smallBytes = new Set<string>();
  let ok = true;
  let usesLatin1 = false;
  const addStr = (s: string): void => {
    if (strs.has(s)) ok = false;
    strs.add(s);
  };
  const addBytes = (b: Uint8Array): void => {
    if (b.length <= 1) {
      const h = hex(b);
      if (smallBytes.has(h)) ok = false;
      smallBytes.add(h);
    }
    if (protocol === 2 && b.length > 0) {
      usesLatin1 = true;
      addStr(String.fromCharCode(...b));
    }
  };
  const seen = new Set<unknown>();
  const walk = (v: unknown): void => {
    if (typeof v === "object" && v !== null) {
      if (seen.has(v)) return;
      seen.add(v);
    }
    if (typeof v === "string") addStr(v);
    else if (v instanceof Uint8Array) addBytes(v);
    else if (v instanceof ByteArray) {
      if (protocol < 5 && v.bytes.length > 0) addBytes(v.bytes);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v instanceof Tuple) v.items.forEach(walk);
    else if (v instanceof Set || v instanceof FrozenSet) {
      // Python writes set members in hash order, not insertion order.
      if (v.size > 1 && !trustSetOrder) ok = false;
      [...v].forEach(walk);
    } else if (v instanceof Map) {
      for (const [k, x] of v) {
        walk(k);
        walk(x);
      }
    } else if (typeof v === "object" && v !== null && !(v instanceof PyFloat)) {
      for (const [k, x] of Object.entries(v)) {
        walk(k);
        walk(x);
      }
    }
  };
  walk(value);
  return ok && !(usesLatin1 && strs.has("latin1"));
}

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.integer({ min: -300, max: 70000 }),
  fc.bigInt({ min: -(1n << 200n), max: 1n << 200n }),
  fc.double().map((d) => new PyFloat(d)),
  fc.double({ noNaN: true }).filter((d) => !Number.isInteger(d)),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.string({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 8 }).map((b) => new ByteArray(b)),
);

const hashable: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }),
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.uint8Array({ maxLength: 6 }),
  fc.tuple(fc.integer(), fc.string({ maxLength: 4 })).map((t) => new Tuple(t)),
);

/**
 * Arbitrary picklable values (no shared or recursive references), decoded
 * back equal with `{ floats: "wrap", dicts: "map" }` except that plain
 * objects come back as `PyDict`s.
 */
export function picklableValue(): fc.Arbitrary<unknown> {
  return fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      scalar,
      tie("list"),
      tie("tuple"),
      tie("dict"),
      tie("map"),
      tie("set"),
    ),
    list: fc.array(tie("value"), { maxLength: 6 }),
    tuple: fc.array(tie("value"), { maxLength: 5 }).map((a) => new Tuple(a)),
    dict: fc.dictionary(
      fc.string({ unit: "binary", maxLength: 6 }).filter((k) =>
        k !== "__proto__"
      ),
      tie("value"),
      { maxKeys: 5 },
    ),
    map: fc.uniqueArray(fc.tuple(hashable, tie("value")), {
      maxLength: 5,
      selector: (e) => JSON.stringify(toPyExpr(e[0])),
    }).map((entries) => new PyDict(entries)),
    set: fc.tuple(
      fc.uniqueArray(hashable, { maxLength: 5, selector: (e) => toPyExpr(e) }),
      fc.boolean(),
    ).map(([items, frozen]) => frozen ? new FrozenSet(items) : new Set(items)),
  })).value;
}

/** About 10 MB pickled: the nested structure of the interop proof. */
export const TEN_MB_EXPR: string = "{'rows': [{'id': i, 'name': 'row%d' % i, " +
  "'vals': [i * 0.5, i, str(i)], 'tags': ('a', 'b'), 'blob': bytes(16), " +
  "'big': 2**70 + i} for i in range(120000)], " +
  "'meta': {'n': 120000, 'nested': [[[[[1]]]]], 'none': None}}";

/** TEN_MB_EXPR built in JavaScript (floats wrapped, as decoded). */
export function tenMbValue(): unknown {
  const rows = [];
  // ('a', 'b') is a constant: one tuple object shared by every row.
  const tags = new Tuple(["a", "b"]);
  for (let i = 0; i < 120000; i++) {
    rows.push({
      id: i,
      name: `row${i}`,
      vals: [new PyFloat(i * 0.5), i, String(i)],
      tags,
      blob: new Uint8Array(16),
      big: 2n ** 70n + BigInt(i),
    });
  }
  return { rows, meta: { n: 120000, nested: [[[[[1]]]]], none: null } };
}
