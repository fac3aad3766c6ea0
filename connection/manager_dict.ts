// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * {@linkcode ManagerDict} (a `dict`) and {@linkcode ManagerIterator} (what
 * `iter()` of it returns) for a {@linkcode ManagerServer}, with the method
 * names CPython's `DictProxy` and `IteratorProxy` call.
 *
 * @module
 */
import { PYTHON_PROXY_EXPOSED } from "./_manager_protocol.ts";
import { PyException } from "./manager_errors.ts";
import { PyDict } from "./pickle_dict.ts";
import { Tuple } from "./pickle_types.ts";

/**
 * A dict with the methods of Python's `dict` that CPython's `DictProxy`
 * calls; keys compare as in Python (a {@linkcode PyDict} holds them).
 * `iter(d)` returns a snapshot of the keys as a new shared `Iterator`
 * (`methodToTypeid`). `#GETVALUE` sends the dict itself (`valueOf()`).
 *
 * @example Usage
 * ```ts
 * import { ManagerDict } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const d = new ManagerDict({ a: 1 });
 * d.__setitem__(2, "two");
 * assert.equal(d.get(2), "two");
 * assert.deepEqual(d.keys(), ["a", 2]);
 * ```
 */
export class ManagerDict {
  /** The methods a Python proxy may call (those of `DictProxy`). */
  static readonly exposed: readonly string[] = PYTHON_PROXY_EXPOSED.DictProxy!;
  /** Positional parameter names, for keyword arguments. */
  static readonly parameters: Readonly<Record<string, readonly string[]>> = {
    get: ["key", "default"],
    pop: ["key", "default"],
    setdefault: ["key", "default"],
    update: ["other", "**"],
  };
  /** `iter(d)` is shared as an `Iterator`. */
  static readonly methodToTypeid: Readonly<Record<string, string>> = {
    __iter__: "Iterator",
  };

  #d: PyDict<unknown, unknown>;

  /**
   * Makes a dict from a mapping (plain object, `Map`, `PyDict`) or a list
   * of pairs, then keyword items.
   *
   * @param init The initial items.
   * @param kwargs More items, by name.
   */
  constructor(init?: unknown, kwargs: Record<string, unknown> = {}) {
    this.#d = new PyDict();
    if (init !== undefined && init !== null) this.update(init, kwargs);
    else this.update(null, kwargs);
  }

  /**
   * `key in d`.
   *
   * @param key The key.
   * @returns Whether it is there.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.ok(new ManagerDict({ a: 1 }).__contains__("a"));
   * ```
   */
  __contains__(key: unknown): boolean {
    return this.#d.has(key);
  }

  /**
   * `d[key]` (`KeyError` when missing).
   *
   * @param key The key.
   * @returns The value.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ManagerDict({ a: 1 }).__getitem__("a"), 1);
   * ```
   */
  __getitem__(key: unknown): unknown {
    if (!this.#d.has(key)) throw new PyException("KeyError", [key]);
    return this.#d.get(key);
  }

  /**
   * `d[key] = value`.
   *
   * @param key The key.
   * @param value The value.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const d = new ManagerDict();
   * d.__setitem__("a", 1);
   * assert.equal(d.__len__(), 1);
   * ```
   */
  __setitem__(key: unknown, value: unknown): void {
    this.#set(key, value);
  }

  #set(key: unknown, value: unknown): void {
    try {
      this.#d.set(key, value);
    } catch (e) {
      throw new PyException("TypeError", [
        `unhashable key: ${e instanceof Error ? e.message : e}`,
      ]);
    }
  }

  /**
   * `del d[key]` (`KeyError` when missing).
   *
   * @param key The key.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const d = new ManagerDict({ a: 1 });
   * d.__delitem__("a");
   * assert.equal(d.__len__(), 0);
   * ```
   */
  __delitem__(key: unknown): void {
    if (!this.#d.delete(key)) throw new PyException("KeyError", [key]);
  }

  /**
   * `len(d)`.
   *
   * @returns The number of keys.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ManagerDict({ a: 1 }).__len__(), 1);
   * ```
   */
  __len__(): number {
    return this.#d.size;
  }

  /**
   * `iter(d)`: an iterator over a snapshot of the keys.
   *
   * @returns The iterator (shared as a new `Iterator` object).
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const it = new ManagerDict({ a: 1 }).__iter__();
   * assert.equal(it.__next__(), "a");
   * ```
   */
  __iter__(): ManagerIterator {
    return new ManagerIterator([...this.#d.keys()]);
  }

  /**
   * `d.get(key, default=None)`.
   *
   * @param key The key.
   * @param fallback The value when it is missing.
   * @returns The value or `fallback`.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ManagerDict().get("x", 0), 0);
   * ```
   */
  get(key: unknown, fallback: unknown = null): unknown {
    return this.#d.has(key) ? this.#d.get(key) : fallback;
  }

  /**
   * `list(d.keys())`.
   *
   * @returns The keys.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new ManagerDict({ a: 1 }).keys(), ["a"]);
   * ```
   */
  keys(): unknown[] {
    return [...this.#d.keys()];
  }

  /**
   * `list(d.values())`.
   *
   * @returns The values.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new ManagerDict({ a: 1 }).values(), [1]);
   * ```
   */
  values(): unknown[] {
    return [...this.#d.values()];
  }

  /**
   * `list(d.items())`, pairs as `Tuple`s.
   *
   * @returns The pairs.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict, Tuple } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new ManagerDict({ a: 1 }).items(), [new Tuple(["a", 1])]);
   * ```
   */
  items(): Tuple<[unknown, unknown]>[] {
    return [...this.#d].map(([k, v]) => new Tuple([k, v]));
  }

  /**
   * `d.pop(key[, default])` (`KeyError` when missing and no default).
   *
   * @param key The key.
   * @param rest The default, if any.
   * @returns The removed value, or the default.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ManagerDict({ a: 1 }).pop("a"), 1);
   * ```
   */
  pop(key: unknown, ...rest: unknown[]): unknown {
    if (this.#d.has(key)) {
      const v = this.#d.get(key);
      this.#d.delete(key);
      return v;
    }
    if (rest.length > 0 && rest[0] !== undefined) return rest[0];
    throw new PyException("KeyError", [key]);
  }

  /**
   * `d.popitem()`: removes the last pair (`KeyError` when empty). Linear in
   * the size (a `Map` has no last-key lookup).
   *
   * @returns The pair.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict, Tuple } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new ManagerDict({ a: 1 }).popitem(), new Tuple(["a", 1]));
   * ```
   */
  popitem(): Tuple<[unknown, unknown]> {
    let last: [unknown, unknown] | undefined;
    for (const e of this.#d) last = e;
    if (last === undefined) {
      throw new PyException("KeyError", ["popitem(): dictionary is empty"]);
    }
    this.#d.delete(last[0]);
    return new Tuple(last);
  }

  /**
   * `d.setdefault(key, default=None)`.
   *
   * @param key The key.
   * @param fallback The value to store when it is missing.
   * @returns The value now stored.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ManagerDict().setdefault("n", 0), 0);
   * ```
   */
  setdefault(key: unknown, fallback: unknown = null): unknown {
    if (!this.#d.has(key)) this.#set(key, fallback);
    return this.#d.get(key);
  }

  /**
   * `d.update(other, **kwargs)`: from a mapping or a list of pairs.
   *
   * @param other A plain object, `Map`/`PyDict`, or `[key, value]` pairs.
   * @param kwargs More items, by name.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const d = new ManagerDict();
   * d.update({ a: 1 }, { b: 2 });
   * assert.equal(d.__len__(), 2);
   * ```
   */
  update(other: unknown = null, kwargs: Record<string, unknown> = {}): void {
    if (other instanceof Map) {
      for (const [k, v] of other) this.#set(k, v);
    } else if (Array.isArray(other)) {
      for (const pair of other) {
        const kv = pair instanceof Tuple ? pair.items : pair;
        if (!Array.isArray(kv) || kv.length !== 2) {
          throw new PyException("ValueError", [
            "dictionary update sequence element has the wrong length",
          ]);
        }
        this.#set(kv[0], kv[1]);
      }
    } else if (typeof other === "object" && other !== null) {
      for (const k of Object.keys(other)) {
        this.#set(k, (other as Record<string, unknown>)[k]);
      }
    } else if (other !== null) {
      throw new PyException("TypeError", ["object is not iterable"]);
    }
    for (const k of Object.keys(kwargs)) this.#set(k, kwargs[k]);
  }

  /**
   * `d.clear()`.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const d = new ManagerDict({ a: 1 });
   * d.clear();
   * assert.equal(d.__len__(), 0);
   * ```
   */
  clear(): void {
    this.#d.clear();
  }

  /**
   * `d.copy()`: a copy (sent as a Python dict).
   *
   * @returns The copy.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ManagerDict({ a: 1 }).copy().get("a"), 1);
   * ```
   */
  copy(): PyDict<unknown, unknown> {
    return new PyDict(this.#d);
  }

  /**
   * The dict itself, for `#GETVALUE` (CPython's `proxy._getvalue()`).
   *
   * @returns The dict.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ManagerDict({ a: 1 }).valueOf().get("a"), 1);
   * ```
   */
  valueOf(): PyDict<unknown, unknown> {
    return this.#d;
  }

  /**
   * A short description.
   *
   * @returns The text.
   *
   * @example Usage
   * ```ts
   * import { ManagerDict } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(String(new ManagerDict()), "<ManagerDict of 0 keys>");
   * ```
   */
  toString(): string {
    return `<ManagerDict of ${this.#d.size} keys>`;
  }
}

/**
 * An iterator shared through a manager, with Python's `__next__` (raising
 * `StopIteration` at the end) and `close`: what `iter()` of a
 * {@linkcode ManagerDict} returns. The server registers the `Iterator`
 * typeid for it, as `SyncManager` does.
 *
 * @example Usage
 * ```ts
 * import { ManagerIterator } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const it = new ManagerIterator([1]);
 * assert.equal(it.__next__(), 1);
 * assert.throws(() => it.__next__());
 * ```
 */
export class ManagerIterator {
  /** The methods a Python proxy may call (`IteratorProxy`'s). */
  static readonly exposed: readonly string[] = ["__next__", "close"];

  #it: Iterator<unknown> | null;

  /**
   * Wraps an iterable.
   *
   * @param items What to iterate.
   */
  constructor(items: Iterable<unknown>) {
    this.#it = items[Symbol.iterator]();
  }

  /**
   * `next(it)`.
   *
   * @returns The next item (`StopIteration` at the end).
   *
   * @example Usage
   * ```ts
   * import { ManagerIterator } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ManagerIterator("ab").__next__(), "a");
   * ```
   */
  __next__(): unknown {
    const r = this.#it?.next();
    if (r === undefined || r.done) {
      this.#it = null;
      throw new PyException("StopIteration");
    }
    return r.value;
  }

  /**
   * `close()`: ends the iteration.
   *
   * @example Usage
   * ```ts
   * import { ManagerIterator } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const it = new ManagerIterator([1]);
   * it.close();
   * assert.throws(() => it.__next__());
   * ```
   */
  close(): void {
    this.#it?.return?.();
    this.#it = null;
  }
}
