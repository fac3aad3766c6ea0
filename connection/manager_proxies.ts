// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Typed proxies for the types CPython's `SyncManager` registers: `Queue`
 * and `JoinableQueue`, `dict`, `list`, `Namespace`, `Value`, `Array`,
 * `Lock`/`RLock`/`Semaphore`/`BoundedSemaphore`, `Condition`, `Event`,
 * `Barrier`, and the `Iterator` a dict's `__iter__` returns.
 *
 * Blocking methods take `{ timeout, signal }` (milliseconds). Without a
 * signal the manager does the waiting (one call with Python's timeout in
 * seconds). With a signal the wait runs in slices of at most the client's
 * `pollInterval`, so an abort takes effect within one slice and never
 * drops an item or a lock the manager handed out meanwhile (it is returned
 * instead). A wait that times out rejects with a `TimeoutError`
 * (`DOMException`) where Python raises (`Queue.get`/`put`), and resolves
 * `false` where Python returns `False` (`acquire`, `wait`).
 *
 * @module
 */
import {
  type CallOptions,
  isRemoteType,
  ManagerProxy,
  type ProxyContext,
  type WaitCallOptions,
} from "./manager_proxy.ts";
import { PyGlobal, PyReduce } from "./pickle_reduce.ts";
import { Tuple } from "./pickle_types.ts";
import type { Token } from "./manager_token.ts";
import { timeoutError } from "../_internal/timers.ts";

/** A proxy class: what {@linkcode ManagerClient} makes for a typeid. */
export type ProxyClass = new (
  token: Token,
  exposed: readonly string[],
  context: ProxyContext,
) => ManagerProxy;

/** Options of a blocking queue operation. */
export interface QueueWaitOptions extends WaitCallOptions {
  /**
   * Wait for an item (or for room); `false` fails at once, as Python's
   * `block=False`, with a `RemoteError` of type `_queue.Empty` or
   * `queue.Full`.
   *
   * @default {true}
   */
  block?: boolean;
}

/** Options of `acquire()`. */
export interface AcquireOptions extends WaitCallOptions {
  /**
   * Wait for the lock; `false` tries once.
   *
   * @default {true}
   */
  blocking?: boolean;
}

const SLICE = new PyGlobal("builtins", "slice");

/**
 * A `queue.Queue` (typeids `Queue` and `JoinableQueue` of `SyncManager`).
 *
 * @example Usage
 * ```ts ignore
 * await using q = await manager.queue();
 * await q.put({ job: 1 });
 * assert.deepEqual(await q.get({ timeout: 1000 }), { job: 1 });
 * ```
 */
export class QueueProxy extends ManagerProxy {
  /**
   * Puts an item; waits for room in a bounded queue.
   *
   * @param item The item.
   * @param options `block`, `timeout`, `signal`.
   * @returns Resolves once the item is in the queue.
   *
   * @example Usage
   * ```ts ignore
   * await q.put("x", { timeout: 500 });
   * ```
   */
  async put(item: unknown, options: QueueWaitOptions = {}): Promise<void> {
    if (options.block === false) {
      await this.call("put", [item, false]);
      return;
    }
    await this.waitInSlices(
      async (s) => {
        try {
          await this.call("put", s === null ? [item] : [item, true, s]);
          return { done: true, value: undefined };
        } catch (e) {
          if (isRemoteType(e, "Full")) return { done: false };
          throw e;
        }
      },
      options,
      () => {
        throw timeoutError(options.timeout ?? Infinity, "room in the queue");
      },
    );
  }

  /**
   * Takes the next item; waits for one.
   *
   * @param options `block`, `timeout`, `signal`.
   * @returns The item.
   *
   * @example Usage
   * ```ts ignore
   * const item = await q.get({ signal: AbortSignal.timeout(1000) });
   * ```
   */
  get(options: QueueWaitOptions = {}): Promise<unknown> {
    if (options.block === false) return this.call("get", [false]);
    return this.waitInSlices(
      async (s) => {
        try {
          return {
            done: true,
            value: await this.call("get", s === null ? [] : [true, s]),
          };
        } catch (e) {
          if (isRemoteType(e, "Empty")) return { done: false };
          throw e;
        }
      },
      options,
      () => {
        throw timeoutError(options.timeout ?? Infinity, "a queue item");
      },
    );
  }

  /**
   * `put_nowait(item)`.
   *
   * @param item The item.
   * @returns Resolves once queued.
   *
   * @example Usage
   * ```ts ignore
   * await q.putNowait(1);
   * ```
   */
  async putNowait(item: unknown): Promise<void> {
    await this.call("put_nowait", [item]);
  }

  /**
   * `get_nowait()`: rejects with a `RemoteError` of type `_queue.Empty`
   * when empty.
   *
   * @returns The item.
   *
   * @example Usage
   * ```ts ignore
   * await q.getNowait();
   * ```
   */
  getNowait(): Promise<unknown> {
    return this.call("get_nowait");
  }

  /**
   * `qsize()`.
   *
   * @returns The approximate size.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await q.qsize(), 0);
   * ```
   */
  async qsize(): Promise<number> {
    return Number(await this.call("qsize"));
  }

  /**
   * `empty()`.
   *
   * @returns Whether it is empty.
   *
   * @example Usage
   * ```ts ignore
   * assert.ok(await q.empty());
   * ```
   */
  async empty(): Promise<boolean> {
    return (await this.call("empty")) === true;
  }

  /**
   * `full()`.
   *
   * @returns Whether it is full.
   *
   * @example Usage
   * ```ts ignore
   * assert.ok(!(await q.full()));
   * ```
   */
  async full(): Promise<boolean> {
    return (await this.call("full")) === true;
  }

  /**
   * `task_done()`.
   *
   * @returns Resolves when done.
   *
   * @example Usage
   * ```ts ignore
   * await q.taskDone();
   * ```
   */
  async taskDone(): Promise<void> {
    await this.call("task_done");
  }

  /**
   * `join()`: waits until every item was marked done. Python's `join`
   * takes no timeout, so `signal`/`timeout` work as for
   * {@linkcode ManagerProxy.call} (the proxy's connection is replaced).
   *
   * @param options `signal` and `timeout`.
   * @returns Resolves when every task is done.
   *
   * @example Usage
   * ```ts ignore
   * await q.join({ timeout: 5000 });
   * ```
   */
  async join(options?: CallOptions): Promise<void> {
    await this.call("join", [], {}, options);
  }
}

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
    return this.call("get", [key, fallback]);
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
  async set(key: unknown, value: unknown): Promise<void> {
    await this.call("__setitem__", [key, value]);
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
 * A `list` (typeid `list`; CPython's `ListProxy`).
 *
 * @example Usage
 * ```ts ignore
 * await using l = await manager.list([1, 2]);
 * await l.append(3);
 * assert.deepEqual(await l.slice(1), [2, 3]);
 * ```
 */
export class ListProxy extends ManagerProxy {
  static override readonly pythonClass: string | undefined = "ListProxy";

  /**
   * `l.append(value)`.
   *
   * @param value The value.
   * @returns Resolves when appended.
   *
   * @example Usage
   * ```ts ignore
   * await l.append(1);
   * ```
   */
  async append(value: unknown): Promise<void> {
    await this.call("append", [value]);
  }

  /**
   * `l.extend(values)`.
   *
   * @param values The values.
   * @returns Resolves when extended.
   *
   * @example Usage
   * ```ts ignore
   * await l.extend([1, 2]);
   * ```
   */
  async extend(values: readonly unknown[]): Promise<void> {
    await this.call("extend", [values]);
  }

  /**
   * `l[index]` (negative counts from the end; `IndexError` when out of range).
   *
   * @param index The index.
   * @returns The item.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await l.get(-1), 3);
   * ```
   */
  get(index: number): Promise<unknown> {
    return this.call("__getitem__", [index]);
  }

  /**
   * `l[start:stop]`.
   *
   * @param start First index (`undefined`: from the start).
   * @param stop End index, excluded (`undefined`: to the end).
   * @returns The items.
   *
   * @example Usage
   * ```ts ignore
   * assert.deepEqual(await l.slice(0, 2), [1, 2]);
   * ```
   */
  async slice(start?: number, stop?: number): Promise<unknown[]> {
    const s = new PyReduce(
      SLICE,
      new Tuple([start ?? null, stop ?? null, null]),
    );
    return await this.call("__getitem__", [s]) as unknown[];
  }

  /**
   * `l[index] = value`.
   *
   * @param index The index.
   * @param value The value.
   * @returns Resolves when set.
   *
   * @example Usage
   * ```ts ignore
   * await l.set(0, "first");
   * ```
   */
  async set(index: number, value: unknown): Promise<void> {
    await this.call("__setitem__", [index, value]);
  }

  /**
   * `del l[index]`.
   *
   * @param index The index.
   * @returns Resolves when deleted.
   *
   * @example Usage
   * ```ts ignore
   * await l.delete(0);
   * ```
   */
  async delete(index: number): Promise<void> {
    await this.call("__delitem__", [index]);
  }

  /**
   * `len(l)`.
   *
   * @returns The length.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await l.length(), 3);
   * ```
   */
  async length(): Promise<number> {
    return Number(await this.call("__len__"));
  }

  /**
   * `value in l`.
   *
   * @param value The value.
   * @returns Whether it is there.
   *
   * @example Usage
   * ```ts ignore
   * assert.ok(await l.includes(1));
   * ```
   */
  async includes(value: unknown): Promise<boolean> {
    return (await this.call("__contains__", [value])) === true;
  }

  /**
   * `l.insert(index, value)`.
   *
   * @param index Where.
   * @param value The value.
   * @returns Resolves when inserted.
   *
   * @example Usage
   * ```ts ignore
   * await l.insert(0, "head");
   * ```
   */
  async insert(index: number, value: unknown): Promise<void> {
    await this.call("insert", [index, value]);
  }

  /**
   * `l.pop([index])`.
   *
   * @param args The index, if any (the last item by default).
   * @returns The removed item.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await l.pop(), 3);
   * ```
   */
  pop(...args: [index?: number]): Promise<unknown> {
    return this.call("pop", args);
  }

  /**
   * `l.remove(value)` (`ValueError` when absent).
   *
   * @param value The value.
   * @returns Resolves when removed.
   *
   * @example Usage
   * ```ts ignore
   * await l.remove("head");
   * ```
   */
  async remove(value: unknown): Promise<void> {
    await this.call("remove", [value]);
  }

  /**
   * `l.index(value)` (`ValueError` when absent).
   *
   * @param value The value.
   * @returns Its first index.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await l.index(2), 1);
   * ```
   */
  async index(value: unknown): Promise<number> {
    return Number(await this.call("index", [value]));
  }

  /**
   * `l.count(value)`.
   *
   * @param value The value.
   * @returns How many times it occurs.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await l.count(2), 1);
   * ```
   */
  async count(value: unknown): Promise<number> {
    return Number(await this.call("count", [value]));
  }

  /**
   * `l.reverse()`.
   *
   * @returns Resolves when reversed.
   *
   * @example Usage
   * ```ts ignore
   * await l.reverse();
   * ```
   */
  async reverse(): Promise<void> {
    await this.call("reverse");
  }

  /**
   * `l.sort(reverse=...)` (Python's ordering).
   *
   * @param options `reverse`.
   * @returns Resolves when sorted.
   *
   * @example Usage
   * ```ts ignore
   * await l.sort({ reverse: true });
   * ```
   */
  async sort(options: { reverse?: boolean } = {}): Promise<void> {
    await this.call("sort", [], { reverse: options.reverse ?? false });
  }
}

/**
 * A `Namespace` (CPython's `NamespaceProxy`): attributes by name.
 *
 * @example Usage
 * ```ts ignore
 * await using ns = await manager.namespace({ x: 1 });
 * await ns.setattr("y", 2);
 * assert.equal(await ns.getattr("x"), 1);
 * ```
 */
export class NamespaceProxy extends ManagerProxy {
  static override readonly pythonClass: string | undefined = "NamespaceProxy";

  /**
   * `ns.name` (`AttributeError` when missing).
   *
   * @param name The attribute.
   * @returns Its value.
   *
   * @example Usage
   * ```ts ignore
   * await ns.getattr("x");
   * ```
   */
  getattr(name: string): Promise<unknown> {
    return this.call("__getattribute__", [name]);
  }

  /**
   * `ns.name = value`.
   *
   * @param name The attribute.
   * @param value The value.
   * @returns Resolves when set.
   *
   * @example Usage
   * ```ts ignore
   * await ns.setattr("x", 2);
   * ```
   */
  async setattr(name: string, value: unknown): Promise<void> {
    await this.call("__setattr__", [name, value]);
  }

  /**
   * `del ns.name`.
   *
   * @param name The attribute.
   * @returns Resolves when deleted.
   *
   * @example Usage
   * ```ts ignore
   * await ns.delattr("x");
   * ```
   */
  async delattr(name: string): Promise<void> {
    await this.call("__delattr__", [name]);
  }
}

/**
 * A `Value` (CPython's `ValueProxy`).
 *
 * @example Usage
 * ```ts ignore
 * await using v = await manager.value("i", 1);
 * await v.set(2);
 * assert.equal(await v.get(), 2);
 * ```
 */
export class ValueProxy extends ManagerProxy {
  static override readonly pythonClass: string | undefined = "ValueProxy";

  /**
   * `v.get()`.
   *
   * @returns The value.
   *
   * @example Usage
   * ```ts ignore
   * await v.get();
   * ```
   */
  get(): Promise<unknown> {
    return this.call("get");
  }

  /**
   * `v.set(value)`.
   *
   * @param value The value.
   * @returns Resolves when set.
   *
   * @example Usage
   * ```ts ignore
   * await v.set(3);
   * ```
   */
  async set(value: unknown): Promise<void> {
    await this.call("set", [value]);
  }
}

/**
 * An `Array` (an `array.array` in the manager; CPython's `ArrayProxy`).
 *
 * @example Usage
 * ```ts ignore
 * await using a = await manager.array("i", [1, 2, 3]);
 * await a.set(0, 10);
 * assert.deepEqual(await a.toArray(), [10, 2, 3]);
 * ```
 */
export class ArrayProxy extends ManagerProxy {
  static override readonly pythonClass: string | undefined = "ArrayProxy";

  /**
   * `len(a)`.
   *
   * @returns The length.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await a.length(), 3);
   * ```
   */
  async length(): Promise<number> {
    return Number(await this.call("__len__"));
  }

  /**
   * `a[index]`.
   *
   * @param index The index.
   * @returns The item.
   *
   * @example Usage
   * ```ts ignore
   * await a.get(0);
   * ```
   */
  get(index: number): Promise<unknown> {
    return this.call("__getitem__", [index]);
  }

  /**
   * `a[index] = value`.
   *
   * @param index The index.
   * @param value The value (of the array's type).
   * @returns Resolves when set.
   *
   * @example Usage
   * ```ts ignore
   * await a.set(0, 1);
   * ```
   */
  async set(index: number, value: unknown): Promise<void> {
    await this.call("__setitem__", [index, value]);
  }

  /**
   * The whole array (`#GETVALUE`, an `array.array` decoded to numbers,
   * bigints beyond 2^53, or a string for `'u'`/`'w'`).
   *
   * @returns The items.
   *
   * @example Usage
   * ```ts ignore
   * assert.deepEqual(await a.toArray(), [1, 2, 3]);
   * ```
   */
  async toArray(): Promise<unknown[] | string> {
    return await this.getValue() as unknown[] | string;
  }
}

/**
 * A `Lock`, `RLock`, `Semaphore` or `BoundedSemaphore` (CPython's
 * `AcquirerProxy`). An `RLock` is owned by the proxy's connection: acquire
 * and release it through the same proxy.
 *
 * @example Usage
 * ```ts ignore
 * await using lock = await manager.lock();
 * assert.ok(await lock.acquire({ timeout: 1000 }));
 * await lock.release();
 * ```
 */
export class AcquirerProxy extends ManagerProxy {
  static override readonly pythonClass: string | undefined = "AcquirerProxy";

  /**
   * `acquire(blocking, timeout)`.
   *
   * @param options `blocking`, `timeout`, `signal`.
   * @returns `true` when acquired, `false` when the timeout passed (or
   * `blocking: false` found it taken).
   *
   * @example Usage
   * ```ts ignore
   * if (await lock.acquire({ blocking: false })) await lock.release();
   * ```
   */
  acquire(options: AcquireOptions = {}): Promise<boolean> {
    if (options.blocking === false) {
      return this.call("acquire", [false]).then((r) => r === true);
    }
    return this.waitInSlices(
      async (s) => {
        const got = await this.call("acquire", s === null ? [true] : [true, s]);
        return got === true ? { done: true, value: true } : { done: false };
      },
      options,
      () => false,
    );
  }

  /**
   * `release()`.
   *
   * @returns Resolves when released.
   *
   * @example Usage
   * ```ts ignore
   * await lock.release();
   * ```
   */
  async release(): Promise<void> {
    await this.call("release");
  }
}

/**
 * A `Condition` (CPython's `ConditionProxy`). Acquire, wait and release
 * through the same proxy (its connection owns the lock).
 *
 * @example Usage
 * ```ts ignore
 * await cond.acquire();
 * const notified = await cond.wait({ timeout: 1000 });
 * await cond.release();
 * ```
 */
export class ConditionProxy extends AcquirerProxy {
  static override readonly pythonClass: string | undefined = "ConditionProxy";

  /**
   * `wait(timeout)`, with the lock held. Sliced waits re-acquire the lock
   * between slices, so no notification is missed.
   *
   * @param options `timeout`, `signal`.
   * @returns `true` when notified, `false` when the timeout passed.
   *
   * @example Usage
   * ```ts ignore
   * await cond.wait({ signal });
   * ```
   */
  wait(options: WaitCallOptions = {}): Promise<boolean> {
    return this.waitInSlices(
      async (s) => {
        const ok = await this.call("wait", [s]);
        return ok === true ? { done: true, value: true } : { done: false };
      },
      options,
      () => false,
    );
  }

  /**
   * Waits until `predicate()` is truthy, as Python's `wait_for` (checked
   * here, after each wake-up), with the lock held.
   *
   * @param predicate The condition to wait for.
   * @param options `timeout`, `signal`.
   * @returns The predicate's last result.
   *
   * @example Usage
   * ```ts ignore
   * await cond.waitFor(async () => (await d.get("ready")) === true);
   * ```
   */
  async waitFor<T>(
    predicate: () => T | Promise<T>,
    options: WaitCallOptions = {},
  ): Promise<T> {
    const timeout = options.timeout ?? Infinity;
    const deadline = performance.now() + timeout;
    let result = await predicate();
    while (!result) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      await this.wait({ timeout: left, signal: options.signal });
      result = await predicate();
    }
    return result;
  }

  /**
   * `notify(n)`.
   *
   * @param n How many waiters to wake.
   * @returns Resolves when done.
   *
   * @example Usage
   * ```ts ignore
   * await cond.notify();
   * ```
   */
  async notify(n = 1): Promise<void> {
    await this.call("notify", [n]);
  }

  /**
   * `notify_all()`.
   *
   * @returns Resolves when done.
   *
   * @example Usage
   * ```ts ignore
   * await cond.notifyAll();
   * ```
   */
  async notifyAll(): Promise<void> {
    await this.call("notify_all");
  }
}

/**
 * An `Event` (CPython's `EventProxy`).
 *
 * @example Usage
 * ```ts ignore
 * await using ev = await manager.event();
 * await ev.set();
 * assert.ok(await ev.wait({ timeout: 100 }));
 * ```
 */
export class EventProxy extends ManagerProxy {
  static override readonly pythonClass: string | undefined = "EventProxy";

  /**
   * `is_set()`.
   *
   * @returns Whether it is set.
   *
   * @example Usage
   * ```ts ignore
   * await ev.isSet();
   * ```
   */
  async isSet(): Promise<boolean> {
    return (await this.call("is_set")) === true;
  }

  /**
   * `set()`.
   *
   * @returns Resolves when set.
   *
   * @example Usage
   * ```ts ignore
   * await ev.set();
   * ```
   */
  async set(): Promise<void> {
    await this.call("set");
  }

  /**
   * `clear()`.
   *
   * @returns Resolves when cleared.
   *
   * @example Usage
   * ```ts ignore
   * await ev.clear();
   * ```
   */
  async clear(): Promise<void> {
    await this.call("clear");
  }

  /**
   * `wait(timeout)`.
   *
   * @param options `timeout`, `signal`.
   * @returns `true` once set, `false` when the timeout passed.
   *
   * @example Usage
   * ```ts ignore
   * await ev.wait({ timeout: 1000 });
   * ```
   */
  wait(options: WaitCallOptions = {}): Promise<boolean> {
    return this.waitInSlices(
      async (s) => {
        const ok = await this.call("wait", [s]);
        return ok === true ? { done: true, value: true } : { done: false };
      },
      options,
      () => false,
    );
  }
}

/**
 * A `Barrier` (CPython's `BarrierProxy`). Python's barrier breaks when a
 * wait times out, so `wait()` is never sliced: `timeout` goes to Python
 * (a `BrokenBarrierError` then), and `signal` works as for
 * {@linkcode ManagerProxy.call} (the manager still counts the party).
 *
 * @example Usage
 * ```ts ignore
 * const index = await barrier.wait({ timeout: 5000 });
 * ```
 */
export class BarrierProxy extends ManagerProxy {
  static override readonly pythonClass: string | undefined = "BarrierProxy";

  /**
   * `wait(timeout)`.
   *
   * @param options `timeout` (passed to Python), `signal`.
   * @returns This party's index.
   *
   * @example Usage
   * ```ts ignore
   * await barrier.wait();
   * ```
   */
  async wait(options: WaitCallOptions = {}): Promise<number> {
    const timeout = options.timeout ?? Infinity;
    const seconds = timeout === Infinity ? null : timeout / 1000;
    return Number(
      await this.call("wait", [seconds], {}, { signal: options.signal }),
    );
  }

  /**
   * `abort()`.
   *
   * @returns Resolves when broken.
   *
   * @example Usage
   * ```ts ignore
   * await barrier.abort();
   * ```
   */
  async abort(): Promise<void> {
    await this.call("abort");
  }

  /**
   * `reset()`.
   *
   * @returns Resolves when reset.
   *
   * @example Usage
   * ```ts ignore
   * await barrier.reset();
   * ```
   */
  async reset(): Promise<void> {
    await this.call("reset");
  }

  /**
   * `parties`.
   *
   * @returns The number of parties.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await barrier.parties(), 2);
   * ```
   */
  async parties(): Promise<number> {
    return Number(await this.call("__getattribute__", ["parties"]));
  }

  /**
   * `n_waiting`.
   *
   * @returns The number of parties waiting.
   *
   * @example Usage
   * ```ts ignore
   * await barrier.nWaiting();
   * ```
   */
  async nWaiting(): Promise<number> {
    return Number(await this.call("__getattribute__", ["n_waiting"]));
  }

  /**
   * `broken`.
   *
   * @returns Whether it is broken.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await barrier.broken(), false);
   * ```
   */
  async broken(): Promise<boolean> {
    return (await this.call("__getattribute__", ["broken"])) === true;
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

/** The proxy class of each typeid `SyncManager` registers. */
export const SYNC_MANAGER_PROXIES: Readonly<Record<string, ProxyClass>> = {
  Queue: QueueProxy,
  JoinableQueue: QueueProxy,
  Event: EventProxy,
  Lock: AcquirerProxy,
  RLock: AcquirerProxy,
  Semaphore: AcquirerProxy,
  BoundedSemaphore: AcquirerProxy,
  Condition: ConditionProxy,
  Barrier: BarrierProxy,
  list: ListProxy,
  dict: DictProxy,
  Value: ValueProxy,
  Array: ArrayProxy,
  Namespace: NamespaceProxy,
  Iterator: IteratorProxy,
};
