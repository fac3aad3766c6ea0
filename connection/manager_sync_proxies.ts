// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Proxies to shared synchronization objects: locks and semaphores
 * ({@linkcode AcquirerProxy}), {@linkcode ConditionProxy},
 * {@linkcode EventProxy} and {@linkcode BarrierProxy}.
 *
 * Blocking methods take `{ timeout, signal }` (milliseconds). Without a
 * signal the manager does the waiting; with one the wait runs in slices of
 * at most the client's `pollInterval`, so an abort takes effect within one
 * slice and a lock acquired meanwhile is returned (`true`), never left
 * held. A timeout resolves `false`, as Python returns `False`.
 *
 * @module
 */
import { ManagerProxy, type WaitCallOptions } from "./manager_proxy.ts";

/** Options of `acquire()`. */
export interface AcquireOptions extends WaitCallOptions {
  /**
   * Wait for the lock; `false` tries once.
   *
   * @default {true}
   */
  blocking?: boolean;
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
  /** Pickles as CPython's `multiprocessing.managers.AcquirerProxy`. */
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
  /** Pickles as CPython's `multiprocessing.managers.ConditionProxy`. */
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
  /** Pickles as CPython's `multiprocessing.managers.EventProxy`. */
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
  /** Pickles as CPython's `multiprocessing.managers.BarrierProxy`. */
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
