// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Shared objects for a {@linkcode ManagerServer}, with the methods (Python
 * names) that CPython's proxies call: {@linkcode ManagerQueue}
 * (`queue.Queue`, joinable), {@linkcode ManagerDict} (`dict`),
 * {@linkcode ManagerList} (`list`) and {@linkcode ManagerIterator} (what
 * `iter(d)` returns). A method that has to wait (`get()` of an empty
 * queue, ...) returns a promise, and stops waiting when its caller
 * disconnects ({@linkcode callSignal}), so an item is never handed to a
 * caller that is gone.
 *
 * Each class has static `exposed`, `parameters` (names of positional
 * parameters, so that Python keyword arguments find their place; `"**"`
 * takes the rest) and `methodToTypeid`, which the server uses when the
 * registration does not say otherwise.
 *
 * @module
 */
import { currentCallSignal } from "./_manager_call.ts";
import { PyException } from "./manager_errors.ts";
import { PyDict } from "./pickle_dict.ts";
import { Tuple } from "./pickle_types.ts";
import { setLongTimeout } from "../_internal/timers.ts";

/**
 * The signal of the call being served, for a method of a shared object: it
 * aborts when the caller's connection closes (or the server stops). Read
 * it synchronously, at the start of the method.
 *
 * @returns The signal, or `undefined` outside a served call.
 *
 * @example Usage
 * ```ts
 * import { callSignal } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * assert.equal(callSignal(), undefined); // not inside a served call
 * ```
 */
export function callSignal(): AbortSignal | undefined {
  return currentCallSignal();
}

/** Python truth of a decoded value (`None`, `False`, `0` are false). */
function truthy(v: unknown): boolean {
  return !(v === null || v === undefined || v === false || Number(v) === 0);
}

/** Python's `timeout` argument in seconds: `null` (None) or >= 0. */
function seconds(timeout: unknown): number | null {
  if (timeout === null || timeout === undefined) return null;
  const s = Number(timeout);
  if (!(s >= 0)) {
    throw new PyException("ValueError", [
      "'timeout' must be a non-negative number",
    ]);
  }
  return s;
}

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

/**
 * Waits for `ready()` (checked whenever `waiters` is woken), for at most
 * `timeout` seconds (then `onTimeout()` is thrown), and until the current
 * call's signal aborts.
 */
function waitFor(
  waiters: Waiter[],
  timeout: number | null,
  onTimeout: () => unknown,
): Promise<void> {
  const signal = currentCallSignal();
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    let cancel = (): void => {};
    const w: Waiter = {
      resolve: () => {
        done();
        resolve();
      },
      reject: (e) => {
        done();
        reject(e);
      },
    };
    const done = (): void => {
      cancel();
      signal?.removeEventListener("abort", onAbort);
      const i = waiters.indexOf(w);
      if (i >= 0) waiters.splice(i, 1);
    };
    const onAbort = (): void => w.reject(signal!.reason);
    if (timeout !== null) {
      cancel = setLongTimeout(() => w.reject(onTimeout()), timeout * 1000);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    waiters.push(w);
  });
}

/** Wakes the first waiter, which checks its condition again. */
function wakeOne(waiters: Waiter[]): void {
  waiters[0]?.resolve();
}

/**
 * A FIFO queue with the methods of Python's `queue.Queue` (and so of
 * `SyncManager`'s `Queue` and `JoinableQueue`): `put`, `get`,
 * `put_nowait`, `get_nowait`, `qsize`, `empty`, `full`, `task_done`,
 * `join`. Items are kept as they were decoded and sent back unchanged.
 *
 * @example Usage
 * ```ts
 * import { ManagerQueue } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const q = new ManagerQueue();
 * q.put("job");
 * assert.equal(q.qsize(), 1);
 * assert.equal(await q.get(), "job");
 * ```
 */
export class ManagerQueue {
  /** The methods a Python proxy may call. */
  static readonly exposed: readonly string[] = [
    "put",
    "get",
    "put_nowait",
    "get_nowait",
    "qsize",
    "empty",
    "full",
    "task_done",
    "join",
  ];
  /** Positional parameter names, for keyword arguments. */
  static readonly parameters: Readonly<Record<string, readonly string[]>> = {
    put: ["item", "block", "timeout"],
    get: ["block", "timeout"],
    put_nowait: ["item"],
  };

  /** The bound (0: none), as Python's `maxsize`. */
  readonly maxsize: number;
  #items: unknown[] = [];
  #head = 0;
  #unfinished = 0;
  #getters: Waiter[] = [];
  #putters: Waiter[] = [];
  #joiners: Waiter[] = [];

  /**
   * Makes a queue.
   *
   * @param maxsize The bound; 0 or less means none.
   */
  constructor(maxsize: unknown = 0) {
    this.maxsize = Math.max(0, Number(maxsize) || 0);
  }

  /**
   * `qsize()`.
   *
   * @returns The number of items.
   *
   * @example Usage
   * ```ts
   * import { ManagerQueue } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ManagerQueue().qsize(), 0);
   * ```
   */
  qsize(): number {
    return this.#items.length - this.#head;
  }

  /**
   * `empty()`.
   *
   * @returns Whether it holds nothing.
   *
   * @example Usage
   * ```ts
   * import { ManagerQueue } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.ok(new ManagerQueue().empty());
   * ```
   */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /**
   * `full()`.
   *
   * @returns Whether it holds `maxsize` items.
   *
   * @example Usage
   * ```ts
   * import { ManagerQueue } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const q = new ManagerQueue(1);
   * q.put(1);
   * assert.ok(q.full());
   * ```
   */
  full(): boolean {
    return this.maxsize > 0 && this.qsize() >= this.maxsize;
  }

  /**
   * `put(item, block=True, timeout=None)`: adds an item, waiting for room
   * in a bounded queue (`queue.Full` when it cannot).
   *
   * @param item The item.
   * @param block Whether to wait for room.
   * @param timeout Seconds to wait (`null`: for ever).
   * @returns Nothing, or a promise while waiting.
   *
   * @example Usage
   * ```ts
   * import { ManagerQueue } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const q = new ManagerQueue(1);
   * q.put("a");
   * assert.throws(() => q.put("b", false));
   * ```
   */
  put(item: unknown, block: unknown = true, timeout: unknown = null):
    | void
    | Promise<void> {
    if (!this.full()) return this.#add(item);
    if (!truthy(block)) throw new PyException("queue.Full");
    return this.#waitRoom(item, seconds(timeout));
  }

  async #waitRoom(item: unknown, timeout: number | null): Promise<void> {
    const deadline = timeout === null ? null : Date.now() + timeout * 1000;
    while (this.full()) {
      const left = deadline === null
        ? null
        : Math.max(0, (deadline - Date.now()) / 1000);
      await waitFor(this.#putters, left, () => new PyException("queue.Full"));
    }
    this.#add(item);
  }

  #add(item: unknown): void {
    this.#items.push(item);
    this.#unfinished++;
    wakeOne(this.#getters);
  }

  /**
   * `get(block=True, timeout=None)`: takes the oldest item, waiting for one
   * (`queue.Empty` when it cannot).
   *
   * @param block Whether to wait.
   * @param timeout Seconds to wait (`null`: for ever).
   * @returns The item, or a promise of it while waiting.
   *
   * @example Usage
   * ```ts
   * import { ManagerQueue } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const q = new ManagerQueue();
   * const next = q.get();
   * q.put(42);
   * assert.equal(await next, 42);
   * ```
   */
  get(block: unknown = true, timeout: unknown = null): unknown {
    if (!this.empty()) return this.#take();
    if (!truthy(block)) throw new PyException("queue.Empty");
    return this.#waitItem(seconds(timeout));
  }

  async #waitItem(timeout: number | null): Promise<unknown> {
    const deadline = timeout === null ? null : Date.now() + timeout * 1000;
    while (this.empty()) {
      const left = deadline === null
        ? null
        : Math.max(0, (deadline - Date.now()) / 1000);
      await waitFor(this.#getters, left, () => new PyException("queue.Empty"));
    }
    return this.#take();
  }

  #take(): unknown {
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    wakeOne(this.#putters);
    // Another getter may be waiting while items remain (woken once each).
    if (!this.empty()) wakeOne(this.#getters);
    return item;
  }

  /**
   * `put_nowait(item)`.
   *
   * @param item The item.
   *
   * @example Usage
   * ```ts
   * import { ManagerQueue } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const q = new ManagerQueue();
   * q.put_nowait(1);
   * assert.equal(q.qsize(), 1);
   * ```
   */
  put_nowait(item: unknown): void {
    this.put(item, false);
  }

  /**
   * `get_nowait()`.
   *
   * @returns The oldest item (`queue.Empty` when none).
   *
   * @example Usage
   * ```ts
   * import { ManagerQueue } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.throws(() => new ManagerQueue().get_nowait());
   * ```
   */
  get_nowait(): unknown {
    return this.get(false);
  }

  /**
   * `task_done()`: one item taken earlier is processed.
   *
   * @example Usage
   * ```ts
   * import { ManagerQueue } from "@sidecar/ipc/connection";
   *
   * const q = new ManagerQueue();
   * q.put(1);
   * await q.get();
   * q.task_done();
   * await q.join();
   * ```
   */
  task_done(): void {
    if (this.#unfinished <= 0) {
      throw new PyException("ValueError", [
        "task_done() called too many times",
      ]);
    }
    if (--this.#unfinished === 0) {
      for (const w of [...this.#joiners]) w.resolve();
    }
  }

  /**
   * `join()`: waits until every item put was marked done.
   *
   * @returns Nothing, or a promise while waiting.
   *
   * @example Usage
   * ```ts
   * import { ManagerQueue } from "@sidecar/ipc/connection";
   *
   * await new ManagerQueue().join();
   * ```
   */
  join(): void | Promise<void> {
    if (this.#unfinished === 0) return;
    return (async () => {
      while (this.#unfinished > 0) {
        await waitFor(this.#joiners, null, () => null);
      }
    })();
  }

  /**
   * A short description (what Python's `repr(proxy)` shows).
   *
   * @returns The text.
   *
   * @example Usage
   * ```ts
   * import { ManagerQueue } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(String(new ManagerQueue()), "<ManagerQueue of 0 items>");
   * ```
   */
  toString(): string {
    return `<ManagerQueue of ${this.qsize()} items>`;
  }
}

const DICT_EXPOSED = [
  "__contains__",
  "__delitem__",
  "__getitem__",
  "__iter__",
  "__len__",
  "__setitem__",
  "clear",
  "copy",
  "get",
  "items",
  "keys",
  "pop",
  "popitem",
  "setdefault",
  "update",
  "values",
];

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
  static readonly exposed: readonly string[] = DICT_EXPOSED;
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
