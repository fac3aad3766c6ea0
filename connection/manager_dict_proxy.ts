// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * {@linkcode DictProxy} (a shared `dict`) and {@linkcode IteratorProxy}
 * (a shared iterator, such as the one `iter(d)` returns).
 *
 * @module
 */
import { ManagerProxy } from "./manager_proxy.ts";
import { isRemoteType } from "./_manager_protocol.ts";
import type { Tuple } from "./pickle_types.ts";

const toVoid = (): void => {};

/**
 * A `dict` (typeid `dict`; CPython's `DictProxy`). Keys and values are
 * pickled; `keys()`, `values()` and `items()` return arrays.
 *
 * @example Usage
 * ```ts ignore
 * await using d = await manager.dict({ a: 1 });
 * await d.set("b", 2);
 * assert.equal(await d.get("b"), 2);
 * ```
 */
export class DictProxy extends ManagerProxy {
  /** Pickles as CPython's `multiprocessing.managers.DictProxy`. */
  static override readonly pythonClass: string | undefined = "DictProxy";

  /**
   * `d.get(key, default)`.
   *
   * @param key The key.
   * @param fallback What to return when the key is missing.
   * @returns The value, or `fallback` (`null` by default).
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await d.get("missing", 0), 0);
   * ```
   */
  get(key: unknown, fallback: unknown = null): Promise<unknown> {
    // As CPython's d.get(key): a None default is not sent.
    return this.call("get", fallback === null ? [key] : [key, fallback]);
  }

  /**
   * `d[key]`: rejects with a `RemoteError` of type `KeyError` when missing.
   *
   * @param key The key.
   * @returns The value.
   *
   * @example Usage
   * ```ts ignore
   * await d.getItem("a");
   * ```
   */
  getItem(key: unknown): Promise<unknown> {
    return this.call("__getitem__", [key]);
  }

  /**
   * `d[key] = value`.
   *
   * @param key The key.
   * @param value The value.
   * @returns Resolves when stored.
   *
   * @example Usage
   * ```ts ignore
   * await d.set("a", 1);
   * ```
   */
  set(key: unknown, value: unknown): Promise<void> {
    return this.call("__setitem__", [key, value]).then(toVoid);
  }

  /**
   * `key in d`.
   *
   * @param key The key.
   * @returns Whether it is there.
   *
   * @example Usage
   * ```ts ignore
   * assert.ok(await d.has("a"));
   * ```
   */
  async has(key: unknown): Promise<boolean> {
    return (await this.call("__contains__", [key])) === true;
  }

  /**
   * `del d[key]`, as `Map.delete`: resolves `false` when it was missing.
   *
   * @param key The key.
   * @returns Whether it was there.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await d.delete("a"), true);
   * ```
   */
  async delete(key: unknown): Promise<boolean> {
    try {
      await this.call("__delitem__", [key]);
      return true;
    } catch (e) {
      if (isRemoteType(e, "KeyError")) return false;
      throw e;
    }
  }

  /**
   * `len(d)`.
   *
   * @returns The number of keys.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await d.size(), 1);
   * ```
   */
  async size(): Promise<number> {
    return Number(await this.call("__len__"));
  }

  /**
   * `list(d.keys())`.
   *
   * @returns The keys.
   *
   * @example Usage
   * ```ts ignore
   * assert.deepEqual(await d.keys(), ["a"]);
   * ```
   */
  async keys(): Promise<unknown[]> {
    return await this.call("keys") as unknown[];
  }

  /**
   * `list(d.values())`.
   *
   * @returns The values.
   *
   * @example Usage
   * ```ts ignore
   * assert.deepEqual(await d.values(), [1]);
   * ```
   */
  async values(): Promise<unknown[]> {
    return await this.call("values") as unknown[];
  }

  /**
   * `list(d.items())`: `[key, value]` pairs as `Tuple`s.
   *
   * @returns The pairs.
   *
   * @example Usage
   * ```ts ignore
   * for (const [k, v] of await d.items()) console.log(k, v);
   * ```
   */
  async items(): Promise<Tuple<[unknown, unknown]>[]> {
    return await this.call("items") as Tuple<[unknown, unknown]>[];
  }

  /**
   * `d.pop(key[, default])`: without a default, a missing key rejects
   * with a `KeyError`.
   *
   * @param key The key.
   * @param args The default, if any.
   * @returns The removed value.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await d.pop("a", null), 1);
   * ```
   */
  pop(key: unknown, ...args: [fallback?: unknown]): Promise<unknown> {
    return this.call("pop", [key, ...args]);
  }

  /**
   * `d.popitem()`.
   *
   * @returns The last `(key, value)` pair.
   *
   * @example Usage
   * ```ts ignore
   * const [k, v] = await d.popitem();
   * ```
   */
  async popitem(): Promise<Tuple<[unknown, unknown]>> {
    return await this.call("popitem") as Tuple<[unknown, unknown]>;
  }

  /**
   * `d.setdefault(key, default)`.
   *
   * @param key The key.
   * @param fallback The value to store when it is missing.
   * @returns The value now stored.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await d.setdefault("n", 0), 0);
   * ```
   */
  setdefault(key: unknown, fallback: unknown = null): Promise<unknown> {
    return this.call("setdefault", [key, fallback]);
  }

  /**
   * `d.update(other)`.
   *
   * @param other A plain object, `Map` or `PyDict`.
   * @returns Resolves when updated.
   *
   * @example Usage
   * ```ts ignore
   * await d.update({ x: 1, y: 2 });
   * ```
   */
  async update(other: Record<string, unknown> | Map<unknown, unknown>): Promise<
    void
  > {
    await this.call("update", [other]);
  }

  /**
   * `d.clear()`.
   *
   * @returns Resolves when cleared.
   *
   * @example Usage
   * ```ts ignore
   * await d.clear();
   * ```
   */
  async clear(): Promise<void> {
    await this.call("clear");
  }

  /**
   * `d.copy()`: a plain copy (object, or `PyDict` for non-str keys).
   *
   * @returns The copy.
   *
   * @example Usage
   * ```ts ignore
   * assert.deepEqual(await d.copy(), { a: 1 });
   * ```
   */
  copy(): Promise<unknown> {
    return this.call("copy");
  }

  /**
   * `iter(d)`: an {@linkcode IteratorProxy} over the keys, made by the
   * manager (`#PROXY`).
   *
   * @returns The iterator's proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using it = await d.iter();
   * for await (const key of it) console.log(key);
   * ```
   */
  async iter(): Promise<IteratorProxy> {
    return await this.call("__iter__") as IteratorProxy;
  }
}

/**
 * An iterator in the manager (CPython's `IteratorProxy`), such as the
 * one `DictProxy.iter()` returns. Async-iterable.
 *
 * @example Usage
 * ```ts ignore
 * await using it = await d.iter();
 * assert.deepEqual(await Array.fromAsync(it), ["a", "b"]);
 * ```
 */
export class IteratorProxy extends ManagerProxy
  implements AsyncIterable<unknown> {
  /** Pickles as CPython's `multiprocessing.managers.IteratorProxy`. */
  static override readonly pythonClass: string | undefined = "IteratorProxy";

  /**
   * `next(it)`.
   *
   * @returns The next item, or `{ done: true }` at `StopIteration`.
   *
   * @example Usage
   * ```ts ignore
   * const { done, value } = await it.next();
   * ```
   */
  async next(): Promise<IteratorResult<unknown, undefined>> {
    try {
      return { done: false, value: await this.call("__next__") };
    } catch (e) {
      if (isRemoteType(e, "StopIteration")) {
        return { done: true, value: undefined };
      }
      throw e;
    }
  }

  /**
   * Iterates until `StopIteration`.
   *
   * @returns An async iterator.
   *
   * @example Usage
   * ```ts ignore
   * for await (const key of it) console.log(key);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    for (;;) {
      const r = await this.next();
      if (r.done) return;
      yield r.value;
    }
  }
}
