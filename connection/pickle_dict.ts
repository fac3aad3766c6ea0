// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * {@linkcode PyDict}: a Python `dict` with keys of any hashable type.
 *
 * @module
 */

import { currentInterner, KeyInterner } from "./_pickle_keys.ts";
import { PyFloat } from "./pickle_types.ts";

/**
 * A Python `dict` whose keys are not all strings (`{1: "one", (2, 3): None}`).
 * Plain objects stand for dicts with string keys. `PyDict` is a `Map` that
 * looks keys up with Python's equality: `true`, `1`, `1n` and
 * `new PyFloat(1)` are one key; {@linkcode Tuple}, {@linkcode FrozenSet},
 * `Uint8Array` (bytes) and `PyFloat` keys compare by value. Unhashable keys
 * (arrays, sets, maps, plain objects, `ByteArray`) throw a `TypeError`, as in
 * Python. The first key object stored for an entry is kept, as in Python.
 * As in Python, keys must not change once used: the value of a `Tuple`,
 * `FrozenSet` or `Uint8Array` key is read the first time it is used. A
 * `-0` key is stored as `new PyFloat(-0)` (a `Map` would store `+0`, which
 * pickles as int `0`). Finding a key costs the number of its direct
 * members, never the size of its nested value: keys are interned by
 * structure, and each key object is interned once.
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
  #interner: KeyInterner | undefined = currentInterner();

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
    const h = this.#hash(key);
    const existing = this.#keys.get(h);
    if (existing === undefined && !this.#keys.has(h)) {
      const stored = Object.is(key, -0) ? new PyFloat(-0) as K : key;
      this.#keys.set(h, stored);
      super.set(stored, value);
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

  #hash(key: unknown): unknown {
    switch (typeof key) {
      case "string":
        return key;
      case "number":
        if (Number.isSafeInteger(key) || !Number.isInteger(key)) {
          return key === 0 ? 0 : key;
        }
        break;
    }
    this.#interner ??= new KeyInterner();
    return this.#interner.key(key);
  }

  #find(key: K): { found: boolean; key: K; hash: unknown } {
    let h: unknown;
    try {
      h = this.#hash(key);
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
