// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * JavaScript stand-ins for the Python types that have no exact JavaScript
 * equivalent, and the errors of the pickle codec.
 *
 * | Python | decoded as | encode it from |
 * | --- | --- | --- |
 * | `tuple` | {@linkcode Tuple} | `Tuple` |
 * | `float` | `number` (or {@linkcode PyFloat} with `floats: "wrap"`) | a non-integer `number`, `NaN`, `±Infinity`, `-0`, or `PyFloat` |
 * | `bytearray` | {@linkcode ByteArray} | `ByteArray` |
 * | `frozenset` | {@linkcode FrozenSet} | `FrozenSet` |
 * | `dict` with a non-`str` key | {@linkcode PyDict} | `PyDict` or `Map` |
 *
 * @module
 */

/**
 * A Python `tuple`. Python tells tuples and lists apart, JavaScript does not,
 * so tuples travel in this wrapper. It is iterable, so destructuring works.
 * The array passed in is used as is (not copied).
 *
 * @typeParam T The item types.
 *
 * @example Usage
 * ```ts
 * import { dumps, loads, Tuple } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const message = loads(dumps(new Tuple(["#RETURN", 42])));
 * assert.ok(message instanceof Tuple);
 * const [kind, value] = message;
 * assert.equal(kind, "#RETURN");
 * assert.equal(value, 42);
 * ```
 */
export class Tuple<T extends readonly unknown[] = unknown[]>
  implements Iterable<T[number]> {
  /** The items, in order. */
  readonly items: T;

  /**
   * Wraps `items` as a tuple.
   *
   * @param items The items of the tuple.
   */
  constructor(items: T) {
    this.items = items;
  }

  /**
   * The number of items.
   *
   * @returns The tuple's length.
   *
   * @example Usage
   * ```ts
   * import { Tuple } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Tuple([1, 2, 3]).length, 3);
   * ```
   */
  get length(): number {
    return this.items.length;
  }

  /**
   * Iterates over the items.
   *
   * @returns An iterator over the items.
   *
   * @example Usage
   * ```ts
   * import { Tuple } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual([...new Tuple(["a", "b"])], ["a", "b"]);
   * ```
   */
  [Symbol.iterator](): Iterator<T[number]> {
    return this.items[Symbol.iterator]();
  }
}

/**
 * A Python `float` whose value is integral. JavaScript's `1` and `1.0` are
 * the same number, and the encoder turns integer-valued numbers into Python
 * `int`s; wrap a number in `PyFloat` to send a `float` instead. The decoder
 * returns `PyFloat` for every float when `floats: "wrap"` is set.
 *
 * @example Usage
 * ```ts
 * import { dumps, loads, PyFloat } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const decoded = loads(dumps(new PyFloat(1)), { floats: "wrap" });
 * assert.ok(decoded instanceof PyFloat);
 * assert.equal(decoded.value, 1);
 * ```
 */
export class PyFloat {
  /** The float's value. */
  readonly value: number;

  /**
   * Wraps `value` as a Python float.
   *
   * @param value Any number, including `NaN`, `±Infinity` and `-0`.
   */
  constructor(value: number) {
    this.value = value;
  }

  /**
   * The wrapped number, so that arithmetic on a `PyFloat` works.
   *
   * @returns The float's value.
   *
   * @example Usage
   * ```ts
   * import { PyFloat } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(+new PyFloat(2) * 3, 6);
   * ```
   */
  valueOf(): number {
    return this.value;
  }
}

/**
 * A Python `bytearray` (mutable bytes). A plain `Uint8Array` stands for
 * Python `bytes`.
 *
 * @example Usage
 * ```ts
 * import { ByteArray, dumps, loads } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const decoded = loads(dumps(new ByteArray(new Uint8Array([1, 2]))));
 * assert.ok(decoded instanceof ByteArray);
 * assert.deepEqual([...decoded.bytes], [1, 2]);
 * ```
 */
export class ByteArray {
  /** The contents (used as is, not copied). */
  readonly bytes: Uint8Array;

  /**
   * Wraps `bytes` as a Python bytearray.
   *
   * @param bytes The contents.
   */
  constructor(bytes: Uint8Array = new Uint8Array(0)) {
    this.bytes = bytes;
  }
}

/**
 * A Python `frozenset` (an immutable set). A plain `Set` stands for Python
 * `set`.
 *
 * @typeParam T The member type.
 *
 * @example Usage
 * ```ts
 * import { dumps, FrozenSet, loads } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const decoded = loads(dumps(new FrozenSet([1, 2])));
 * assert.ok(decoded instanceof FrozenSet);
 * assert.ok(decoded.has(2));
 * assert.equal(decoded.size, 2);
 * ```
 */
export class FrozenSet<T = unknown> implements Iterable<T> {
  /** The members, in insertion order. */
  readonly items: ReadonlySet<T>;

  /**
   * Builds a frozenset from `items`.
   *
   * @param items The members (duplicates are dropped).
   */
  constructor(items: Iterable<T> = []) {
    this.items = new Set(items);
  }

  /**
   * The number of members.
   *
   * @returns The size.
   *
   * @example Usage
   * ```ts
   * import { FrozenSet } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new FrozenSet([1, 1, 2]).size, 2);
   * ```
   */
  get size(): number {
    return this.items.size;
  }

  /**
   * Whether `value` is a member (JavaScript `Set` semantics).
   *
   * @param value The value to look up.
   * @returns `true` when it is a member.
   *
   * @example Usage
   * ```ts
   * import { FrozenSet } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.ok(new FrozenSet(["a"]).has("a"));
   * ```
   */
  has(value: T): boolean {
    return this.items.has(value);
  }

  /**
   * Iterates over the members.
   *
   * @returns An iterator over the members.
   *
   * @example Usage
   * ```ts
   * import { FrozenSet } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual([...new FrozenSet([3, 4])], [3, 4]);
   * ```
   */
  [Symbol.iterator](): Iterator<T> {
    return this.items[Symbol.iterator]();
  }
}

const HEX: string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/**
 * The key under which Python would find `key` (Python equality): `True` and
 * `1` and `1.0` are one key, tuples, frozensets and bytes compare by value.
 */
function hashKey(key: unknown): unknown {
  switch (typeof key) {
    case "string":
      return key.charCodeAt(0) === 0 ? `\0s${key}` : key;
    case "number":
      return key === 0 ? 0 : key;
    case "bigint":
      return key >= -9007199254740991n && key <= 9007199254740991n
        ? Number(key)
        : key;
    case "boolean":
      return key ? 1 : 0;
    case "object": {
      if (key === null) return null;
      if (key instanceof PyFloat) return hashKey(key.value);
      if (
        key instanceof Tuple || key instanceof FrozenSet ||
        key instanceof Uint8Array
      ) {
        // Computed once per key object: a big key used many times (say
        // through a pickle's memo) must not cost its size each time.
        let h = HASH_CACHE.get(key);
        if (h === undefined) {
          h = compositeKey(key);
          HASH_CACHE.set(key, h);
        }
        return h;
      }
    }
  }
  throw new TypeError(
    `Cannot use value as a dict key: unhashable type ${describe(key)}`,
  );
}

const HASH_CACHE: WeakMap<object, string> = new WeakMap();

function compositeKey(key: Tuple | FrozenSet | Uint8Array): string {
  if (key instanceof Uint8Array) {
    let s = "\0b";
    for (const b of key) s += HEX[b];
    return s;
  }
  const parts: string[] = [];
  for (const item of key) parts.push(keyString(hashKey(item)));
  if (key instanceof FrozenSet) parts.sort();
  return `\0${key instanceof Tuple ? "t" : "f"}${parts.length}(${
    parts.join(",")
  })`;
}

function keyString(k: unknown): string {
  if (typeof k === "string") return `s${k.length}:${k}`;
  if (k === null) return "N";
  return `n${String(k)}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value as object).constructor?.name ?? "object";
}

/**
 * A Python `dict` whose keys are not all strings (`{1: "one", (2, 3): None}`).
 * Plain objects stand for dicts with string keys. `PyDict` is a `Map` that
 * looks keys up with Python's equality: `true`, `1`, `1n` and
 * `new PyFloat(1)` are one key; {@linkcode Tuple}, {@linkcode FrozenSet},
 * `Uint8Array` (bytes) and `PyFloat` keys compare by value. Unhashable keys
 * (arrays, sets, maps, plain objects, `ByteArray`) throw a `TypeError`, as in
 * Python. The first key object stored for an entry is kept, as in Python.
 * As in Python, keys must not change once used: the value of a `Tuple`,
 * `FrozenSet` or `Uint8Array` key is read the first time it is used.
 *
 * @typeParam K The key type.
 * @typeParam V The value type.
 *
 * @example Usage
 * ```ts
 * import { dumps, loads, PyDict, Tuple } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const d = new PyDict<unknown, string>([[1, "one"], [new Tuple([2, 3]), "pair"]]);
 * const decoded = loads(dumps(d));
 * assert.ok(decoded instanceof PyDict);
 * assert.equal(decoded.get(new Tuple([2, 3])), "pair");
 * assert.equal(decoded.get(1), "one");
 * ```
 */
export class PyDict<K = unknown, V = unknown> extends Map<K, V> {
  #keys: Map<unknown, K> = new Map();

  /**
   * Builds a dict from `entries` (later entries overwrite earlier ones).
   *
   * @param entries Key/value pairs.
   */
  constructor(entries?: Iterable<readonly [K, V]> | null) {
    super();
    if (entries) { for (const [k, v] of entries) this.set(k, v); }
  }

  /**
   * Sets the value for `key`, keeping the stored key object when an equal
   * key exists.
   *
   * @param key The key.
   * @param value The value.
   * @returns This dict.
   *
   * @example Usage
   * ```ts
   * import { PyDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const d = new PyDict().set(1, "a").set(true, "b");
   * assert.equal(d.size, 1);
   * assert.equal(d.get(1), "b");
   * ```
   */
  override set(key: K, value: V): this {
    const h = hashKey(key);
    const existing = this.#keys.get(h);
    if (existing === undefined && !this.#keys.has(h)) {
      this.#keys.set(h, key);
      super.set(key, value);
    } else {
      super.set(existing as K, value);
    }
    return this;
  }

  /**
   * The value for `key` (Python equality), or `undefined`.
   *
   * @param key The key.
   * @returns The value, or `undefined` when missing.
   *
   * @example Usage
   * ```ts
   * import { PyDict, Tuple } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const d = new PyDict([[new Tuple([1, "a"]), 5]]);
   * assert.equal(d.get(new Tuple([1, "a"])), 5);
   * ```
   */
  override get(key: K): V | undefined {
    const k = this.#find(key);
    return k.found ? super.get(k.key) : undefined;
  }

  /**
   * Whether an equal key (Python equality) is present.
   *
   * @param key The key.
   * @returns `true` when present.
   *
   * @example Usage
   * ```ts
   * import { PyDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.ok(new PyDict<unknown, string>([[2, "x"]]).has(2n));
   * ```
   */
  override has(key: K): boolean {
    return this.#find(key).found;
  }

  /**
   * Removes the entry with an equal key.
   *
   * @param key The key.
   * @returns `true` when an entry was removed.
   *
   * @example Usage
   * ```ts
   * import { PyDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const d = new PyDict([[1, "x"]]);
   * assert.ok(d.delete(1));
   * assert.equal(d.size, 0);
   * ```
   */
  override delete(key: K): boolean {
    const k = this.#find(key);
    if (!k.found) return false;
    this.#keys.delete(k.hash);
    return super.delete(k.key);
  }

  /**
   * Removes every entry.
   *
   * @example Usage
   * ```ts
   * import { PyDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const d = new PyDict([[1, "x"]]);
   * d.clear();
   * assert.equal(d.size, 0);
   * ```
   */
  override clear(): void {
    this.#keys.clear();
    super.clear();
  }

  #find(key: K): { found: boolean; key: K; hash: unknown } {
    let h: unknown;
    try {
      h = hashKey(key);
    } catch {
      return { found: false, key, hash: undefined };
    }
    const stored = this.#keys.get(h);
    if (stored === undefined && !this.#keys.has(h)) {
      return { found: false, key, hash: h };
    }
    return { found: true, key: stored as K, hash: h };
  }
}

/** Why unpickling failed; see {@linkcode UnpicklingError}. */
export type UnpicklingErrorReason =
  | "truncated"
  | "invalid"
  | "refused"
  | "limit";

/**
 * Thrown by `loads()` for any input it cannot or will not decode. It names
 * the opcode and the byte offset where decoding stopped.
 *
 * - `"truncated"`: the input ends before the pickle does.
 * - `"invalid"`: malformed input (bad stack, bad memo index, bad UTF-8, ...).
 * - `"refused"`: an opcode or global that could execute code on the Python
 *   side (and has no meaning for plain data), refused by the safe decoder.
 * - `"limit"`: a configured limit (size, depth, memo, container length).
 *
 * @example Usage
 * ```ts
 * import { loads, UnpicklingError } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * // GLOBAL 'os system' (REDUCE would call it).
 * const evil = new TextEncoder().encode("cos\nsystem\n(S'true'\ntR.");
 * assert.throws(
 *   () => loads(evil),
 *   (e) =>
 *     e instanceof UnpicklingError && e.reason === "refused" &&
 *     e.opcode === "GLOBAL" && e.offset === 0,
 * );
 * ```
 */
export class UnpicklingError extends Error {
  /** The category of the failure. */
  readonly reason: UnpicklingErrorReason;
  /** Byte offset of the opcode being decoded (or of the input's end). */
  readonly offset: number;
  /** The pickletools name of that opcode, when there is one. */
  readonly opcode: string | undefined;

  /**
   * Creates an error.
   *
   * @param message The message.
   * @param reason The category of the failure.
   * @param offset The byte offset.
   * @param opcode The opcode name.
   * @param options Standard error options (`cause`).
   */
  constructor(
    message: string,
    reason: UnpicklingErrorReason,
    offset: number,
    opcode?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "UnpicklingError";
    this.reason = reason;
    this.offset = offset;
    this.opcode = opcode;
  }
}
