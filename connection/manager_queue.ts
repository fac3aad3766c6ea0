// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * {@linkcode ManagerQueue}: a `queue.Queue` for a {@linkcode ManagerServer},
 * and {@linkcode callSignal}, the signal of the call a method is serving.
 *
 * Like every shared object of a manager server, it has Python's method
 * names and static `exposed` and `parameters` (names of positional
 * parameters, so that Python keyword arguments find their place), which
 * the server uses when the registration does not say otherwise. A method
 * that waits (`get()` of an empty queue) returns a promise and stops
 * waiting when its caller disconnects, so an item is never handed to a
 * caller that is gone.
 *
 * @module
 */
import { currentCallSignal } from "./_manager_call.ts";
import { PyException } from "./manager_errors.ts";
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
