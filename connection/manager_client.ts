// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * {@linkcode ManagerClient} and {@linkcode connectManager}: use the shared
 * objects of a CPython `multiprocessing.managers` server (a
 * `BaseManager`/`SyncManager`, or our {@linkcode ManagerServer}) from Deno.
 *
 * @module
 */
import type { Address } from "./address.ts";
import type { AuthOptions } from "./authenticate.ts";
import type { Connection } from "./connection.ts";
import {
  createResult,
  readReply,
  replyError,
  type ReplyHost,
  sameManager,
} from "./_manager_reply.ts";
import { Dialer } from "./_manager_dial.ts";
import { ReplyCache } from "./_manager_cache.ts";
import {
  decodeReply,
  encodeRequest,
  managerLoadsOptions,
  type ProxyClassRef,
  type Reply,
} from "./_manager_protocol.ts";
import {
  ManagerError,
  ManagerProtocolError,
  RemoteError,
} from "./manager_errors.ts";
import {
  type CallOptions,
  ManagerProxy,
  type ProxyClass,
  type ProxyContext,
} from "./manager_proxy.ts";
import { Token } from "./manager_token.ts";
import type { LoadsOptions } from "./pickle.ts";
import { checkDuration } from "../_internal/timers.ts";
import { requireDeno } from "../_internal/deno_version.ts";
import { type RetryOptions, retrySettings } from "../_internal/retry.ts";

/** Options of {@linkcode connectManager} and {@linkcode ManagerClient}. */
export interface ManagerClientOptions extends Omit<AuthOptions, "authkey"> {
  /**
   * The manager's key (Python's `authkey`, which managers always check;
   * a string is UTF-8 encoded).
   */
  authkey: Uint8Array | string;
  /**
   * Aborts `connectManager()`.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Milliseconds each request to the manager's server itself may take
   * (`create`, `incref`, `decref`, opening a proxy's connection, ...).
   * Per-call `timeout`s of `create()` and the helpers override it.
   *
   * @default {10000}
   */
  controlTimeout?: number;
  /**
   * How many connections to the manager may be opening at once (connect,
   * handshake and the first request: every `create`, `incref`, `decref`
   * and proxy connection opens one, as in CPython). CPython 3.11's manager
   * listens with a backlog of 16: a burst beyond it stalls in SYN retries.
   *
   * @default {8}
   */
  maxPendingHandshakes?: number;
  /**
   * Longest slice, in milliseconds, of a blocking wait that has a signal
   * (see the typed proxies): an abort takes effect within it.
   *
   * @default {100}
   */
  pollInterval?: number;
  /**
   * The largest reply accepted, in bytes.
   *
   * @default {268435456}
   */
  maxMessageSize?: number;
  /**
   * How replies decode dicts (see `loads()`).
   *
   * @default {"object"}
   */
  dicts?: "object" | "map";
  /**
   * How replies decode floats (see `loads()`).
   *
   * @default {"number"}
   */
  floats?: "number" | "wrap";
  /**
   * The most proxies one reply may hold (`RebuildProxy`); each costs an
   * `incref` request. A reply with more is a `BAD_REPLY`.
   *
   * @default {1024}
   */
  maxProxiesPerReply?: number;
  /**
   * Proxy classes for typeids beyond `SyncManager`'s (or instead of
   * them); any other typeid gets a plain {@linkcode ManagerProxy}.
   *
   * @default {{}}
   */
  proxies?: Record<string, ProxyClass>;
  /**
   * Wait for a manager that is not listening yet (a manager process just
   * started): until the client has reached the manager once (the check
   * request of {@linkcode connectManager} is its first), the connect step
   * is tried again while nobody listens (`ConnectionRefused`) or the Unix
   * socket does not exist yet (`NotFound`). `true` for the defaults (10 s
   * budget, pauses of 50 ms doubling to 1 s), or a `RetryOptions`. The
   * budget is the wait's own: the request's timeout (`controlTimeout`)
   * counts from the moment the socket connected. Nothing else is retried:
   * the handshake runs once, so a wrong `authkey` fails after one attempt.
   * Without it, one attempt.
   *
   * @default {false}
   */
  retry?: boolean | RetryOptions;
  /**
   * Called with errors the client survives: a `decref` that failed while
   * releasing a proxy.
   *
   * @default {undefined}
   */
  onError?: (error: unknown) => void;
}

const DEFAULT_CONTROL_TIMEOUT = 10_000;
const DEFAULT_MAX_PENDING_HANDSHAKES = 8;
const DEFAULT_POLL_INTERVAL = 100;

/**
 * A client of a manager: makes shared objects and returns async proxies
 * to them. Each proxy has its own connection and holds one reference,
 * released by its `close()` (or `await using`), by the client's `close()`,
 * or when it is garbage collected; `incref`/`decref` stay balanced, so the
 * manager's `number_of_objects` returns to where it was.
 *
 * Proxies that a method returns (`#PROXY`) or that a value holds
 * (`RebuildProxy`) become proxies here; nothing a manager sends can run
 * code: the only classes a reply may name are `Token`, `RebuildProxy`,
 * the proxy classes (as plain names), exceptions (as inert
 * {@linkcode PyException}s), and the list and array a manager's pickler
 * writes as calls.
 *
 * Needs Deno 2.9.0 or later (an older Deno gets an error naming both
 * versions, `code` `"UNSUPPORTED_DENO"`).
 *
 * @example Usage
 * ```ts ignore
 * import { ManagerClient } from "@sidecar/ipc/connection";
 *
 * const manager = new ManagerClient("/tmp/manager.sock", { authkey: "k" });
 * await using d = await manager.dict({ hits: 0 });
 * await d.set("hits", (await d.get("hits") as number) + 1);
 * await manager.close();
 * ```
 */
export class ManagerClient implements AsyncDisposable {
  #address: Address;
  #options: ManagerClientOptions;
  #controlTimeout: number;
  #dialer: Dialer;
  #maxProxiesPerReply: number;
  #proxies: Record<string, ProxyClass>;
  #loads: LoadsOptions;
  #rebuilt: ManagerProxy[] | null = null;
  #replies = new ReplyCache();
  #live = new Set<() => Promise<void>>();
  #releaseOf = new WeakMap<ManagerProxy, () => Promise<void>>();
  #registry: FinalizationRegistry<() => Promise<void>>;
  #closed = false;
  #shutDown = false;
  #closing: Promise<void> | null = null;
  #connections = 0;
  #ctx: ProxyContext;
  #replyHost: ReplyHost;

  /**
   * Makes a client; nothing is sent until a request. Prefer
   * {@linkcode connectManager}, which also checks the manager.
   *
   * @param address The manager's address.
   * @param options The key and the client's options.
   */
  constructor(address: Address, options: ManagerClientOptions) {
    requireDeno("create manager client");
    if (
      !(options?.authkey instanceof Uint8Array) &&
      typeof options?.authkey !== "string"
    ) {
      throw new TypeError(
        "Cannot create manager client: authkey is required (managers always authenticate)",
      );
    }
    const maxPending = options.maxPendingHandshakes ??
      DEFAULT_MAX_PENDING_HANDSHAKES;
    if (!Number.isInteger(maxPending) || maxPending < 1) {
      throw new RangeError(
        `Cannot create manager client: maxPendingHandshakes must be an integer >= 1, got ${maxPending}`,
      );
    }
    const o = options;
    retrySettings(o.retry, "create manager client"); // a bad duration throws now
    this.#dialer = new Dialer(
      address,
      {
        authkey: o.authkey,
        ...(o.digest !== undefined && { digest: o.digest }),
        ...(o.allowLegacy !== undefined && { allowLegacy: o.allowLegacy }),
        ...(o.protocol !== undefined && { protocol: o.protocol }),
        ...(o.handshakeTimeout !== undefined &&
          { handshakeTimeout: o.handshakeTimeout }),
        ...(o.maxMessageSize !== undefined &&
          { maxMessageSize: o.maxMessageSize }),
      },
      maxPending,
      o.retry,
    );
    const maxProxies = options.maxProxiesPerReply ?? 1024;
    if (!Number.isInteger(maxProxies) || maxProxies < 0) {
      throw new RangeError(
        `Cannot create manager client: maxProxiesPerReply must be an integer >= 0, got ${maxProxies}`,
      );
    }
    this.#maxProxiesPerReply = maxProxies;
    this.#controlTimeout = checkDuration(
      options.controlTimeout ?? DEFAULT_CONTROL_TIMEOUT,
      "controlTimeout",
      "create manager client",
    );
    const pollInterval = checkDuration(
      options.pollInterval ?? DEFAULT_POLL_INTERVAL,
      "pollInterval",
      "create manager client",
    );
    if (pollInterval === Infinity || pollInterval === 0) {
      throw new RangeError(
        "Cannot create manager client: pollInterval must be finite and above 0",
      );
    }
    this.#address = address;
    this.#options = options;
    this.#proxies = { ...options.proxies };
    const base: LoadsOptions = {};
    if (options.maxMessageSize !== undefined) {
      base.maxBytes = options.maxMessageSize;
    }
    if (options.dicts !== undefined) base.dicts = options.dicts;
    if (options.floats !== undefined) base.floats = options.floats;
    this.#loads = managerLoadsOptions(base, this.#rebuild);
    this.#registry = new FinalizationRegistry((release) => {
      this.#live.delete(release);
      release().catch(() => {});
    });
    this.#replyHost = {
      address,
      decode: (bytes, rebuilt) => this.#decodeReply(bytes, rebuilt),
      adopt: (token, exposed) => this.#adopt(token, exposed),
      incref: (id) => this.#incref(id),
    };
    this.#ctx = {
      pollInterval,
      openConnection: () => this.#openConnection(),
      readReply: (bytes, method, call) =>
        readReply(this.#replyHost, bytes, method, call),
      adopt: (token, exposed) => this.#adopt(token, exposed),
      incref: (id) => this.#incref(id),
      decref: (id) => this.#decref(id),
      track: (proxy, release) => this.#track(proxy, release),
      untrack: (proxy) => this.#untrack(proxy),
    };
  }

  /**
   * The manager's address, as given.
   *
   * @returns The address.
   *
   * @example Usage
   * ```ts ignore
   * assert.deepEqual(manager.address, { port: 50000 });
   * ```
   */
  get address(): Address {
    return this.#address;
  }

  /**
   * How many proxies of this client hold a reference now.
   *
   * @returns The number of live proxies.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(manager.liveProxies, 0);
   * ```
   */
  get liveProxies(): number {
    return this.#live.size;
  }

  /**
   * Creates a shared object of a registered typeid (`BaseManager.<typeid>()`
   * in Python) and returns its proxy: the typed class for `SyncManager`'s
   * typeids and those in `proxies`, a {@linkcode ManagerProxy} otherwise.
   *
   * @typeParam P The proxy type expected.
   * @param typeid The registered name.
   * @param args Arguments of the registered callable.
   * @param kwargs Keyword arguments.
   * @param options `signal` and `timeout`.
   * @returns The proxy, owning one reference.
   * @throws {ManagerError} `UNKNOWN_TYPEID`, `UNPICKLABLE`, `MANAGER_CLOSED`.
   * @throws {RemoteError} The callable raised.
   *
   * @example Usage
   * ```ts ignore
   * await using counter = await manager.create("Counter", [10]);
   * await counter.call("increment");
   * ```
   */
  async create<P extends ManagerProxy = ManagerProxy>(
    typeid: string,
    args: readonly unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: CallOptions = {},
  ): Promise<P> {
    let result: unknown;
    try {
      result = await this.#control(
        "create",
        [typeid, ...args],
        kwargs,
        options,
      );
    } catch (e) {
      if (
        e instanceof RemoteError && e.type === "KeyError" &&
        e.args[0] === `'${typeid}'`
      ) {
        throw new ManagerError(
          "UNKNOWN_TYPEID",
          `Cannot create '${typeid}': the manager has no such typeid`,
          { cause: e },
        );
      }
      throw e;
    }
    const [id, exposed] = createResult(result);
    const proxy = this.#adopt(new Token(typeid, this.#address, id), exposed);
    return proxy as P;
  }

  /**
   * `number_of_objects`: how many shared objects the manager holds
   * references to.
   *
   * @param options `signal` and `timeout`.
   * @returns The count.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await manager.numberOfObjects(), 0);
   * ```
   */
  async numberOfObjects(options?: CallOptions): Promise<number> {
    return Number(await this.#control("number_of_objects", [], {}, options));
  }

  /**
   * `debug_info`: the manager's text listing of objects and refcounts.
   *
   * @param options `signal` and `timeout`.
   * @returns The text.
   *
   * @example Usage
   * ```ts ignore
   * console.log(await manager.debugInfo());
   * ```
   */
  async debugInfo(options?: CallOptions): Promise<string> {
    return String(await this.#control("debug_info", [], {}, options));
  }

  /**
   * `dummy`: a request that does nothing (what `BaseManager.connect()`
   * sends to check the manager).
   *
   * @param options `signal` and `timeout`.
   * @returns Resolves when the manager answered.
   *
   * @example Usage
   * ```ts ignore
   * await manager.dummy();
   * ```
   */
  async dummy(options?: CallOptions): Promise<void> {
    await this.#control("dummy", [], {}, options);
  }

  /**
   * Stops the manager's server (`shutdown`), then closes this client: its
   * proxies are closed without `decref` (the objects are gone).
   *
   * @param options `signal` and `timeout`.
   * @returns Resolves once the server acknowledged.
   *
   * @example Usage
   * ```ts ignore
   * await manager.shutdown();
   * ```
   */
  async shutdown(options?: CallOptions): Promise<void> {
    await this.#control("shutdown", [], {}, options);
    this.#shutDown = true;
    await this.close();
  }

  /**
   * Releases every proxy still open (`decref` each, unless the manager
   * was shut down) and stops new requests. Idempotent.
   *
   * @returns Resolves when every proxy is released.
   *
   * @example Usage
   * ```ts ignore
   * await manager.close();
   * ```
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      const all = [...this.#live];
      this.#live.clear();
      await Promise.all(all.map((release) => release()));
    })();
    return this.#closing;
  }

  /**
   * Same as {@linkcode ManagerClient.close}.
   *
   * @returns Resolves when every proxy is released.
   *
   * @example Usage
   * ```ts ignore
   * { await using manager = await connectManager(address, { authkey }); }
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #openConnection(): Promise<Connection<unknown>> {
    if (this.#closed) throw this.#closedError("connect");
    const name = `Deno|proxy-${++this.#connections}`;
    return await this.#open(
      "accept_connection",
      [name],
      {},
      {},
      true,
    ) as Connection<unknown>;
  }

  #decodeReply(bytes: Uint8Array, rebuilt: ManagerProxy[]): Reply {
    const hit = this.#replies.get(bytes);
    if (hit !== undefined) return hit;
    this.#rebuilt = rebuilt;
    let reply: Reply;
    try {
      reply = decodeReply(bytes, this.#loads);
    } finally {
      this.#rebuilt = null;
    }
    this.#replies.set(bytes, reply);
    return reply;
  }

  #adopt(token: Token, exposed: readonly string[]): ManagerProxy {
    const cls = this.#proxies[token.typeid] ?? ManagerProxy;
    const proxy = new cls(token, exposed, this.#ctx);
    proxy.own();
    return proxy;
  }

  async #incref(id: string): Promise<void> {
    await this.#control("incref", [id], {}, {}, true);
  }

  async #decref(id: string): Promise<void> {
    if (this.#shutDown) return;
    try {
      await this.#control("decref", [id], {}, {}, true);
    } catch (e) {
      this.#options.onError?.(e);
    }
  }

  #track(proxy: ManagerProxy, release: () => Promise<void>): void {
    this.#live.add(release);
    this.#releaseOf.set(proxy, release);
    this.#registry.register(proxy, release, proxy);
    if (this.#closing !== null) {
      // Made while closing: release it too.
      this.#untrack(proxy);
      release().catch(() => {});
    }
  }

  #untrack(proxy: ManagerProxy): void {
    const release = this.#releaseOf.get(proxy);
    if (release === undefined) return;
    this.#releaseOf.delete(proxy);
    this.#live.delete(release);
    this.#registry.unregister(proxy);
  }

  #rebuild = (
    token: Token,
    exposed: readonly string[] | undefined,
    _cls: ProxyClassRef,
  ): object => {
    if (!sameManager(token.address, this.#address)) {
      throw new TypeError(
        "RebuildProxy names another manager's object (only this manager's are rebuilt)",
      );
    }
    const rebuilt = this.#rebuilt;
    if (rebuilt === null || rebuilt.length >= this.#maxProxiesPerReply) {
      // Each one costs an incref: a reply cannot make us open connections
      // without bound.
      throw new RangeError(
        `a reply holds more than ${this.#maxProxiesPerReply} proxies`,
      );
    }
    const cls = this.#proxies[token.typeid] ?? ManagerProxy;
    const proxy = new cls(
      new Token(token.typeid, this.#address, token.id),
      exposed ?? [],
      this.#ctx,
    );
    rebuilt.push(proxy);
    return proxy;
  };

  #closedError(what: string): ManagerError {
    return new ManagerError(
      "MANAGER_CLOSED",
      `Cannot ${what}: the manager client is closed`,
    );
  }

  /** One request to the server on a connection of its own (`dispatch`). */
  async #control(
    method: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown>,
    options: CallOptions = {},
    internal = false,
  ): Promise<unknown> {
    if (this.#closed && !internal) throw this.#closedError(`${method}()`);
    return await this.#open(method, args, kwargs, options, false);
  }

  async #open(
    method: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown>,
    options: CallOptions,
    keep: boolean,
  ): Promise<unknown> {
    const bytes = encodeRequest(null, method, args, kwargs);
    const { conn: c, reply } = await this.#dialer.request(
      bytes,
      method,
      options.signal,
      options.timeout ?? this.#controlTimeout,
    );
    let r: Reply;
    try {
      r = this.#decodeReply(reply, []);
    } catch (e) {
      c.close().catch(() => {});
      throw e;
    }
    if (r.kind === "#RETURN") {
      if (keep) {
        if (r.value !== null) {
          c.close().catch(() => {});
          throw new ManagerProtocolError(
            "Cannot open proxy connection: accept_connection returned a value",
          );
        }
        return c;
      }
      await c.close().catch(() => {});
      return r.value;
    }
    c.close().catch(() => {});
    if (r.kind === "#PROXY") {
      throw new ManagerProtocolError(
        `Cannot read reply to ${method}(): the server sent #PROXY`,
      );
    }
    throw replyError(r, method);
  }
}
