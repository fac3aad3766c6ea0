// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * {@linkcode QueueProxy}: a proxy to a `queue.Queue` in a manager
 * (`SyncManager`'s `Queue` and `JoinableQueue`, or a
 * {@linkcode ManagerQueue} of a {@linkcode ManagerServer}).
 *
 * `get()` and `put()` wait like Python's, with `{ timeout, signal }` in
 * milliseconds. Without a signal the manager does the waiting (one call
 * with Python's timeout in seconds); with a signal the wait runs in slices
 * of at most the client's `pollInterval`, so an abort takes effect within
 * one slice and never drops an item the manager handed out meanwhile (it
 * is returned instead). A wait that times out rejects with a
 * `TimeoutError` (`DOMException`), where Python raises `Empty`/`Full`.
 *
 * @module
 */
import {
  type CallOptions,
  ManagerProxy,
  type WaitCallOptions,
} from "./manager_proxy.ts";
import { isRemoteType } from "./_manager_protocol.ts";
import { timeoutError } from "../_internal/timers.ts";

const NONE: QueueWaitOptions = Object.freeze({});

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
  async put(item: unknown, options: QueueWaitOptions = NONE): Promise<void> {
    if (options.block === false) {
      await this.call("put", [item, false]);
      return;
    }
    if (options.signal === undefined && options.timeout === undefined) {
      await this.call("put", [item]); // the manager waits, as q.put(item)
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
  get(options: QueueWaitOptions = NONE): Promise<unknown> {
    if (options.block === false) return this.call("get", [false]);
    if (options.signal === undefined && options.timeout === undefined) {
      return this.call("get"); // the manager waits, as q.get()
    }
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
