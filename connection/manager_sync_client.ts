// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * {@linkcode SyncManagerClient} and {@linkcode connectManager}: the client
 * of a CPython `SyncManager` (what `multiprocessing.Manager()` starts),
 * with typed helpers for its standard types.
 *
 * @module
 */
import type { Address } from "./address.ts";
import { ManagerClient, type ManagerClientOptions } from "./manager_client.ts";
import type { ProxyClass } from "./manager_proxy.ts";
import { QueueProxy } from "./manager_queue_proxy.ts";
import { DictProxy, IteratorProxy } from "./manager_dict_proxy.ts";
import {
  ArrayProxy,
  ListProxy,
  NamespaceProxy,
  ValueProxy,
} from "./manager_list_proxy.ts";
import {
  AcquirerProxy,
  BarrierProxy,
  ConditionProxy,
  EventProxy,
} from "./manager_sync_proxies.ts";
import { checkDuration } from "../_internal/timers.ts";
import { requireDeno } from "../_internal/deno_version.ts";

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

/**
 * Connects to a manager (CPython's `SyncManager.connect()`): checks that
 * it answers and that both sides hold the key, and returns a
 * {@linkcode SyncManagerClient}.
 *
 * With `retry`, it waits for a manager that is not listening yet (a
 * manager process started a moment ago): the connect step of the check is
 * tried again while nobody listens, and the handshake runs once (a wrong
 * key fails at once with an {@linkcode AuthenticationError}).
 *
 * Permissions: `--allow-net=<host>` for TCP; for a Unix socket path,
 * `--allow-net=unix:<path> --allow-read=<path> --allow-write=<path>`.
 * Needs Deno 2.9.0 or later (an older Deno gets an error naming both
 * versions, `code` `"UNSUPPORTED_DENO"`).
 *
 * @param address The manager's address (`{ hostname, port }` or a path).
 * Use the host the manager listens on: proxies passed back to it are
 * recognized by that address, as in CPython.
 * @param options The key, and the client's options.
 * @returns The client.
 * @throws {AuthenticationError} Wrong key.
 * @throws {ManagerDisconnectedError} No manager there (after the retry
 * budget, with `retry`), its `cause` the connect error.
 *
 * @example A CPython SyncManager
 * ```ts ignore
 * import { connectManager } from "@sidecar/ipc/connection";
 *
 * // Python: m = SyncManager(("127.0.0.1", 50000), authkey=b"k"); m.start()
 * await using manager = await connectManager({ port: 50000 }, { authkey: "k" });
 * await using jobs = await manager.queue();
 * await jobs.put({ id: 1 });
 * ```
 *
 * @example A Deno ManagerServer, in the same process
 * ```ts
 * import {
 *   connectManager,
 *   ManagerDict,
 *   ManagerQueue,
 *   ManagerServer,
 * } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * await using server = new ManagerServer({ hostname: "127.0.0.1", port: 0 }, {
 *   authkey: "k",
 * });
 * server.register("Queue", ManagerQueue).register("dict", ManagerDict);
 * server.serve();
 *
 * await using manager = await connectManager(server.address, { authkey: "k" });
 * await using q = await manager.queue();
 * await q.put({ id: 1, sizes: [64, 128] });
 * assert.deepEqual(await q.get({ timeout: 1000 }), { id: 1, sizes: [64, 128] });
 * await using d = await manager.dict({ hits: 1 });
 * assert.equal(await d.get("hits"), 1);
 * assert.equal(await manager.numberOfObjects(), 2);
 * ```
 */
export async function connectManager(
  address: Address,
  options: ManagerClientOptions,
): Promise<SyncManagerClient> {
  requireDeno("connect to the manager");
  const client = new SyncManagerClient(address, options);
  try {
    await client.dummy({ signal: options.signal });
  } catch (e) {
    await client.close();
    throw e;
  }
  return client;
}

/**
 * A {@linkcode ManagerClient} for CPython's `SyncManager`: its typeids
 * (`Queue`, `JoinableQueue`, `dict`, `list`, `Namespace`, `Value`, `Array`,
 * `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Condition`, `Event`,
 * `Barrier`, `Iterator`) get typed proxies, and each has a helper named as
 * in JavaScript (`manager.queue()` for Python's `manager.Queue()`).
 * `proxies` can add classes for a subclass's own typeids.
 *
 * @example Usage
 * ```ts ignore
 * import { SyncManagerClient } from "@sidecar/ipc/connection";
 *
 * const manager = new SyncManagerClient({ port: 50000 }, { authkey: "k" });
 * await using lock = await manager.lock();
 * if (await lock.acquire({ timeout: 1000 })) await lock.release();
 * await manager.close();
 * ```
 */
export class SyncManagerClient extends ManagerClient {
  /**
   * Makes a client; nothing is sent until a request. Prefer
   * {@linkcode connectManager}, which also checks the manager.
   *
   * @param address The manager's address.
   * @param options The key and the client's options.
   */
  constructor(address: Address, options: ManagerClientOptions) {
    super(address, {
      ...options,
      proxies: { ...SYNC_MANAGER_PROXIES, ...options?.proxies },
    });
  }

  /**
   * A `queue.Queue` (`SyncManager.Queue(maxsize)`).
   *
   * @param maxsize Bound of the queue (0: none).
   * @returns Its proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using q = await manager.queue(10);
   * ```
   */
  queue(maxsize = 0): Promise<QueueProxy> {
    return this.create("Queue", maxsize ? [maxsize] : []);
  }

  /**
   * `SyncManager.JoinableQueue(maxsize)` (with `taskDone()`/`join()`).
   *
   * @param maxsize Bound of the queue (0: none).
   * @returns Its proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using q = await manager.joinableQueue();
   * ```
   */
  joinableQueue(maxsize = 0): Promise<QueueProxy> {
    return this.create("JoinableQueue", maxsize ? [maxsize] : []);
  }

  /**
   * A `dict`, optionally filled from `init`.
   *
   * @param init Initial items (a plain object, `Map` or `PyDict`).
   * @returns Its proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using d = await manager.dict({ a: 1 });
   * ```
   */
  dict(
    init?: Record<string, unknown> | Map<unknown, unknown>,
  ): Promise<DictProxy> {
    return this.create("dict", init === undefined ? [] : [init]);
  }

  /**
   * A `list`, optionally filled from `init`.
   *
   * @param init Initial items.
   * @returns Its proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using l = await manager.list([1, 2]);
   * ```
   */
  list(init?: readonly unknown[]): Promise<ListProxy> {
    return this.create("list", init === undefined ? [] : [init]);
  }

  /**
   * A `Namespace` with the given attributes.
   *
   * @param init Initial attributes.
   * @returns Its proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using ns = await manager.namespace({ x: 1 });
   * ```
   */
  namespace(init: Record<string, unknown> = {}): Promise<NamespaceProxy> {
    return this.create("Namespace", [], init);
  }

  /**
   * A `Value(typecode, value)`.
   *
   * @param typecode An `array` typecode such as `"i"` or `"d"`.
   * @param value The initial value.
   * @returns Its proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using v = await manager.value("d", 0.5);
   * ```
   */
  value(typecode: string, value: unknown): Promise<ValueProxy> {
    return this.create("Value", [typecode, value]);
  }

  /**
   * An `Array(typecode, values)` (an `array.array`).
   *
   * @param typecode An `array` typecode such as `"i"`.
   * @param values The initial items.
   * @returns Its proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using a = await manager.array("i", [1, 2, 3]);
   * ```
   */
  array(typecode: string, values: readonly unknown[]): Promise<ArrayProxy> {
    return this.create("Array", [typecode, values]);
  }

  /**
   * A `threading.Lock`.
   *
   * @returns Its proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using lock = await manager.lock();
   * ```
   */
  lock(): Promise<AcquirerProxy> {
    return this.create("Lock");
  }

  /**
   * A `threading.RLock`.
   *
   * @returns Its proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using lock = await manager.rlock();
   * ```
   */
  rlock(): Promise<AcquirerProxy> {
    return this.create("RLock");
  }

  /**
   * A `threading.Semaphore(value)`.
   *
   * @param value The initial count.
   * @returns Its proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using sem = await manager.semaphore(2);
   * ```
   */
  semaphore(value = 1): Promise<AcquirerProxy> {
    return this.create("Semaphore", [value]);
  }

  /**
   * A `threading.BoundedSemaphore(value)`.
   *
   * @param value The initial (and largest) count.
   * @returns Its proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using sem = await manager.boundedSemaphore(2);
   * ```
   */
  boundedSemaphore(value = 1): Promise<AcquirerProxy> {
    return this.create("BoundedSemaphore", [value]);
  }

  /**
   * A `threading.Condition`, over a new lock or over `lock`.
   *
   * @param lock A lock proxy of this manager to use.
   * @returns Its proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using cond = await manager.condition();
   * ```
   */
  condition(lock?: AcquirerProxy): Promise<ConditionProxy> {
    return this.create("Condition", lock === undefined ? [] : [lock]);
  }

  /**
   * A `threading.Event`.
   *
   * @returns Its proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using ev = await manager.event();
   * ```
   */
  event(): Promise<EventProxy> {
    return this.create("Event");
  }

  /**
   * A `threading.Barrier(parties, timeout=...)`.
   *
   * @param parties How many parties wait.
   * @param options `timeout`: the default of its waits, in milliseconds.
   * @returns Its proxy.
   *
   * @example Usage
   * ```ts ignore
   * await using barrier = await manager.barrier(2);
   * ```
   */
  barrier(parties: number, options: { timeout?: number } = {}): Promise<
    BarrierProxy
  > {
    const kwargs = options.timeout === undefined
      ? {}
      : { timeout: checkDuration(options.timeout, "timeout", "create") / 1000 };
    return this.create("Barrier", [parties], kwargs);
  }
}
