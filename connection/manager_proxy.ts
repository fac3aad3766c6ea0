// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * {@linkcode ManagerProxy}: an async proxy to an object in a
 * `multiprocessing.managers` server, on its own connection.
 *
 * @module
 */
import type { Connection } from "./connection.ts";
import { encodeRequest, FALLBACK_METHODS } from "./_manager_protocol.ts";
import { RequestCache } from "./_manager_cache.ts";
import {
  closeQuietly,
  type Job,
  noop,
  type ProxyState,
  release,
} from "./_manager_proxy_state.ts";
import { ManagerDisconnectedError, ManagerError } from "./manager_errors.ts";
import { pickleReduce, PyGlobal, PyReduce } from "./pickle_reduce.ts";
import { Tuple } from "./pickle_types.ts";
import type { Token } from "./manager_token.ts";
import { AuthenticationError } from "./errors.ts";
import { race } from "../_internal/abort.ts";
import { checkDuration } from "../_internal/timers.ts";

/** A proxy class: what a {@linkcode ManagerClient} makes for a typeid. */
export type ProxyClass = new (
  token: Token,
  exposed: readonly string[],
  context: ProxyContext,
) => ManagerProxy;

/** Options of one call. */
export interface CallOptions {
  /**
   * Stops waiting. A call still queued behind others is dropped unsent; a
   * call already sent rejects at once and its connection is closed (the
   * manager still runs the method; its result is dropped), and the next
   * call opens a new one. The blocking helpers of the typed proxies wait
   * in slices instead, and lose nothing.
   */
  signal?: AbortSignal | undefined;
  /**
   * Milliseconds before the call rejects with a `TimeoutError`, as an
   * abort would; `Infinity` waits for ever.
   *
   * @default {Infinity}
   */
  timeout?: number | undefined;
}

/**
 * What a proxy needs from the client that made it (the client keeps it
 * private); a proxy class of your own only passes it to `super()`.
 */
export interface ProxyContext {
  /**
   * Longest slice, in milliseconds, of a blocking wait that has a signal
   * (see {@linkcode ManagerProxy.waitInSlices}).
   */
  readonly pollInterval: number;
  /** Opens an authenticated connection served by `accept_connection`. */
  openConnection(): Promise<Connection<unknown>>;
  /**
   * The result of a method call's reply (a value, with the proxies it holds
   * owned, or a new proxy; or a promise of it), or throws its typed error.
   * `call.cancelled` says whether the caller stopped waiting.
   */
  readReply(
    bytes: Uint8Array,
    method: string,
    call: { readonly cancelled: boolean },
  ): unknown;
  /** A proxy for `token` that owns the reference its caller holds. */
  adopt(token: Token, exposed: readonly string[]): ManagerProxy;
  /** Takes one more reference (`incref`), on a connection of its own. */
  incref(id: string): Promise<void>;
  /** Releases one reference (`decref`), on a connection of its own. */
  decref(id: string): Promise<void>;
  /** Keeps `release` to run when the client closes or `proxy` is collected. */
  track(proxy: ManagerProxy, release: () => Promise<void>): void;
  /** Forgets a proxy closed by hand. */
  untrack(proxy: ManagerProxy): void;
}

const PROXY_MODULE = "multiprocessing.managers";
const REBUILD_PROXY = new PyGlobal(PROXY_MODULE, "RebuildProxy");
const AUTO_PROXY = new PyGlobal(PROXY_MODULE, "AutoProxy");
const NO_ARGS: readonly unknown[] = Object.freeze([]);
const NO_KWARGS: Record<string, unknown> = Object.freeze({});
const NO_OPTIONS: CallOptions = Object.freeze({});
const NOT_CANCELLED = Object.freeze({ cancelled: false });

function isEmpty(o: Record<string, unknown>): boolean {
  for (const _ in o) return false;
  return true;
}

/** One slice of a blocking call: done with a value, or not yet. */
export type SliceResult<R> = { done: true; value: R } | { done: false };

/** Options of a blocking call: how long to wait, and a signal to stop. */
export interface WaitCallOptions {
  /**
   * Milliseconds to wait; `Infinity` waits for ever.
   *
   * @default {Infinity}
   */
  timeout?: number | undefined;
  /** Stops waiting (within `pollInterval` ms; nothing is lost). */
  signal?: AbortSignal | undefined;
}

/**
 * A proxy to one shared object in a manager, as CPython's `BaseProxy`.
 * Calls run on the proxy's own connection (opened on the first call with
 * `accept_connection`, as `BaseProxy._connect` does), one at a time in
 * call order. The proxy holds one reference to the object: `close()` (or
 * `await using`) releases it with `decref`, and so does the client's
 * `close()`; a proxy that is garbage collected unclosed is released too.
 *
 * The typed subclasses ({@linkcode QueueProxy}, {@linkcode DictProxy}, ...)
 * add methods named as in JavaScript; {@linkcode ManagerProxy.call} calls
 * any exposed method by its Python name.
 *
 * Passed as an argument, a proxy pickles as CPython's proxies do
 * (`RebuildProxy(class, token, 'pickle', kwds)`), so a shared object can
 * hold proxies to others.
 *
 * @example Usage
 * ```ts ignore
 * import { connectManager } from "@sidecar/ipc/connection";
 *
 * await using manager = await connectManager({ port: 50000 }, { authkey: "k" });
 * await using q = await manager.create("jobs"); // a typeid the server registered
 * await q.call("put", [{ id: 1 }]);
 * ```
 */
export class ManagerProxy implements AsyncDisposable {
  /** The shared object's token (its address is the client's). */
  readonly token: Token;
  /** The methods the referent exposes, by their Python names. */
  readonly exposed: readonly string[];
  #ctx: ProxyContext;
  #st: ProxyState;
  #exposed: ReadonlySet<string>;
  #requests = new RequestCache();

  /**
   * Made by {@linkcode ManagerClient} (a subclass passes its arguments on).
   *
   * @param token The shared object.
   * @param exposed Its exposed methods.
   * @param context The client.
   */
  constructor(token: Token, exposed: readonly string[], context: ProxyContext) {
    this.token = token;
    this.exposed = Object.freeze([...exposed]);
    this.#exposed = new Set(exposed);
    this.#ctx = context;
    this.#st = {
      conn: null,
      connecting: null,
      queue: [],
      head: 0,
      pumping: false,
      owned: false,
      closed: false,
      releasing: null,
    };
  }

  /**
   * The name of the CPython proxy class this pickles as
   * (`multiprocessing.managers.<name>`), or `undefined` for `AutoProxy`
   * with the exposed methods.
   */
  static readonly pythonClass: string | undefined = undefined;

  /**
   * The object's registered type name (`token.typeid`).
   *
   * @returns The typeid.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal((await manager.dict()).typeid, "dict");
   * ```
   */
  get typeid(): string {
    return this.token.typeid;
  }

  /**
   * True once closed (by hand, by the client, or because its reference
   * could not be taken).
   *
   * @returns Whether the proxy is closed.
   *
   * @example Usage
   * ```ts ignore
   * await d.close();
   * assert.ok(d.closed);
   * ```
   */
  get closed(): boolean {
    return this.#st.closed;
  }

  /**
   * Starts owning a reference the caller took (or was handed by the
   * server), and registers the release. For the client.
   */
  own(): void {
    if (this.#st.owned || this.#st.releasing !== null) {
      throw new ManagerError(
        "PROXY_CLOSED",
        "Cannot own proxy: it is closed or owned",
      );
    }
    this.#st.owned = true;
    const ctx = this.#ctx;
    this.#ctx.track(
      this,
      release.bind(null, this.#st, (id) => ctx.decref(id), this.token.id),
    );
  }

  /** Closes a proxy that never owned a reference (nothing to decref). */
  discard(): void {
    if (!this.#st.owned) this.#st.closed = true;
  }

  /**
   * Calls an exposed method by its Python name, with positional and
   * keyword arguments; resolves with the result (a proxy when the server
   * returns one).
   *
   * @param method The Python method name (`"put"`, `"__getitem__"`).
   * @param args Positional arguments.
   * @param kwargs Keyword arguments.
   * @param options `signal` and `timeout`, see {@linkcode CallOptions}.
   * @returns The method's result.
   * @throws {ManagerError} `UNKNOWN_METHOD`, `UNPICKLABLE`, `PROXY_CLOSED`.
   * @throws {RemoteError} The method raised, or the server failed.
   * @throws {ManagerDisconnectedError} The manager went away.
   * @throws {ManagerProtocolError} The reply was unusable.
   *
   * @example Usage
   * ```ts ignore
   * await d.call("__setitem__", ["k", 1]);
   * assert.equal(await d.call("get", ["k"]), 1);
   * ```
   */
  call(
    method: string,
    args: readonly unknown[] = NO_ARGS,
    kwargs: Record<string, unknown> = NO_KWARGS,
    options: CallOptions = NO_OPTIONS,
  ): Promise<unknown> {
    const st = this.#st;
    if (st.closed) return Promise.reject(this.#closedError(method));
    if (!this.#exposed.has(method) && !FALLBACK_METHODS.has(method)) {
      return Promise.reject(
        new ManagerError(
          "UNKNOWN_METHOD",
          `Cannot call ${method}(): the '${this.typeid}' object does not expose it`,
        ),
      );
    }
    const { signal, timeout } = options;
    const plain = signal === undefined &&
      (timeout === undefined || timeout === Infinity);
    if (plain && !st.pumping && st.conn !== null) {
      // The hot path: nothing queued, the connection is open.
      let now: Uint8Array;
      try {
        now = this.#requests.encode(
          this.token.id,
          method,
          args,
          kwargs,
          kwargs === NO_KWARGS || isEmpty(kwargs),
        );
      } catch (e) {
        return Promise.reject(e);
      }
      return this.#direct(method, st.conn, now);
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeRequest(this.token.id, method, args, kwargs);
    } catch (e) {
      return Promise.reject(e);
    }
    if (timeout !== undefined) checkDuration(timeout, "timeout", "call");
    if (signal?.aborted) return Promise.reject(signal.reason);
    let job!: Job;
    const run = new Promise<unknown>((resolve, reject) => {
      job = {
        method,
        bytes,
        resolve,
        reject,
        cancelled: false,
        started: false,
      };
    });
    st.queue.push(job);
    if (!st.pumping) this.#pump();
    if (plain) return run;
    return race(run, {
      signal,
      timeout,
      what: `${method}()`,
      onLost: () => {
        job.cancelled = true;
        if (job.started) {
          // The reply will not be read: this connection is out of sync.
          closeQuietly(st.conn);
          st.conn = null;
        }
      },
    });
  }

  /**
   * A copy of the referent's value (CPython's `_getvalue()`, the
   * `#GETVALUE` fallback).
   *
   * @param options `signal` and `timeout`.
   * @returns The value.
   *
   * @example Usage
   * ```ts ignore
   * assert.deepEqual(await list.getValue(), [1, 2, 3]);
   * ```
   */
  getValue(options?: CallOptions): Promise<unknown> {
    return this.call("#GETVALUE", [], {}, options);
  }

  /**
   * The referent's `repr()` (the `__repr__` fallback).
   *
   * @param options `signal` and `timeout`.
   * @returns The text.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await d.repr(), "{'a': 1}");
   * ```
   */
  async repr(options?: CallOptions): Promise<string> {
    return String(await this.call("__repr__", [], {}, options));
  }

  /**
   * Another proxy to the same object, with its own reference and its own
   * connection: calls on the two run concurrently (a blocked `get()` on one
   * does not hold up a `put()` on the other).
   *
   * @returns The new proxy, of the same class.
   *
   * @example Usage
   * ```ts ignore
   * await using consumer = await queue.clone();
   * const item = consumer.get();
   * await queue.put("x");
   * assert.equal(await item, "x");
   * ```
   */
  async clone(): Promise<this> {
    if (this.#st.closed) throw this.#closedError("clone");
    await this.#ctx.incref(this.token.id);
    return this.#ctx.adopt(this.token, this.exposed) as this;
  }

  /**
   * Releases the reference (`decref` on a connection of its own, errors
   * reported to the client's `onError`) and closes the proxy's connection.
   * Idempotent; pending calls reject with `PROXY_CLOSED`.
   *
   * @returns Resolves when released.
   *
   * @example Usage
   * ```ts ignore
   * await d.close();
   * ```
   */
  close(): Promise<void> {
    this.#ctx.untrack(this);
    const ctx = this.#ctx;
    return release(this.#st, (id) => ctx.decref(id), this.token.id);
  }

  /**
   * Same as {@linkcode ManagerProxy.close}.
   *
   * @returns Resolves when released.
   *
   * @example Usage
   * ```ts ignore
   * { await using d = await manager.dict(); }
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Pickles as CPython's proxies do: `RebuildProxy(cls, token, 'pickle',
   * kwds)`, with `AutoProxy` and the exposed methods for a class CPython
   * does not name.
   *
   * @returns The reduction.
   *
   * @example Usage
   * ```ts ignore
   * await outer.set("inner", innerProxy); // stores a proxy in a shared dict
   * ```
   */
  [pickleReduce](): PyReduce {
    const name = (this.constructor as typeof ManagerProxy).pythonClass;
    const cls = name === undefined
      ? AUTO_PROXY
      : new PyGlobal(PROXY_MODULE, name);
    const kwds = name === undefined
      ? { exposed: new Tuple([...this.exposed]) }
      : {};
    return new PyReduce(
      REBUILD_PROXY,
      new Tuple([cls, this.token, "pickle", kwds]),
    );
  }

  /**
   * Runs a blocking method so that a signal can stop it without losing
   * anything. Without a signal, `attempt(seconds)` runs once with the
   * whole timeout (`null` for none): the manager does the waiting. With a
   * signal, it runs with slices of at most `pollInterval` ms until it is
   * done, the timeout passes or the signal aborts; a slice is never cut
   * short, so a result the manager hands out is never dropped.
   *
   * @typeParam R The result type.
   * @param attempt One try, waiting at most `seconds` on the manager.
   * @param options `timeout` and `signal`.
   * @param expired What to return (or throw) when the timeout passes.
   * @returns The result.
   *
   * @example Usage
   * ```ts ignore
   * // Inside a subclass: Event.wait(timeout) returns True when set.
   * return this.waitInSlices(async (s) => {
   *   const set = await this.call("wait", [s]) as boolean;
   *   return set ? { done: true, value: true } : { done: false };
   * }, options, () => false);
   * ```
   */
  protected waitInSlices<R>(
    attempt: (seconds: number | null) => Promise<SliceResult<R>>,
    options: WaitCallOptions,
    expired: () => R,
  ): Promise<R> {
    const timeout = options.timeout ?? Infinity;
    try {
      checkDuration(timeout, "timeout", "wait");
    } catch (e) {
      return Promise.reject(e);
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (signal === undefined) {
      // The manager does the waiting: one call.
      return attempt(timeout === Infinity ? null : timeout / 1000).then((r) =>
        r.done ? r.value : expired()
      );
    }
    return this.#slices(attempt, timeout, signal, expired);
  }

  async #slices<R>(
    attempt: (seconds: number | null) => Promise<SliceResult<R>>,
    timeout: number,
    signal: AbortSignal,
    expired: () => R,
  ): Promise<R> {
    const deadline = performance.now() + timeout;
    for (;;) {
      const left = deadline - performance.now();
      const slice = Math.max(0, Math.min(this.#ctx.pollInterval, left));
      const r = await attempt(slice / 1000);
      if (r.done) return r.value;
      if (signal.aborted) throw signal.reason;
      if (performance.now() >= deadline) return expired();
    }
  }

  #closedError(method: string): ManagerError {
    return new ManagerError(
      "PROXY_CLOSED",
      `Cannot call ${method}(): the '${this.typeid}' proxy is closed`,
    );
  }

  async #connection(): Promise<Connection<unknown>> {
    const st = this.#st;
    if (st.conn !== null) return st.conn;
    const p = this.#ctx.openConnection();
    st.connecting = p;
    try {
      const conn = await p;
      if (st.closed) {
        closeQuietly(conn);
        throw this.#closedError("connect");
      }
      st.conn = conn;
      return conn;
    } finally {
      st.connecting = null;
    }
  }

  /**
   * One call sent at once on an idle open connection (`bytes` is only
   * valid now: it is sent before the first await). Calls made meanwhile
   * queue up and run after it.
   */
  #direct(
    method: string,
    conn: Connection<unknown>,
    bytes: Uint8Array,
  ): Promise<unknown> {
    this.#st.pumping = true;
    conn.sendBytes(bytes).catch(noop);
    return conn.recvBytes().then((reply) => {
      this.#idle();
      return this.#ctx.readReply(reply, method, NOT_CANCELLED);
    }, (e) => {
      const failure = this.#failure(method, conn, e); // drops the connection
      this.#idle();
      throw failure;
    });
  }

  /** After a direct call: runs the calls queued meanwhile. */
  #idle(): void {
    const st = this.#st;
    st.pumping = false;
    if (st.head < st.queue.length) this.#pump();
  }

  /** Runs the queued calls one at a time, in order (one per connection). */
  async #pump(): Promise<void> {
    const st = this.#st;
    st.pumping = true;
    try {
      while (st.head < st.queue.length) {
        const job = st.queue[st.head]!;
        st.queue[st.head++] = undefined as unknown as Job;
        if (job.cancelled) continue; // dropped unsent
        if (st.closed) {
          job.reject(this.#closedError(job.method));
          continue;
        }
        job.started = true;
        let conn = st.conn;
        let reply: Uint8Array;
        try {
          if (conn === null) {
            conn = await this.#connection();
            if (job.cancelled) continue;
          }
          // A small message is queued at once; a failed write fails the read.
          conn.sendBytes(job.bytes).catch(noop);
          reply = await conn.recvBytes();
        } catch (e) {
          if (!job.cancelled) job.reject(this.#failure(job.method, conn, e));
          continue;
        }
        try {
          job.resolve(this.#ctx.readReply(reply, job.method, job));
        } catch (e) {
          job.reject(e);
        }
      }
    } finally {
      st.queue.length = 0;
      st.head = 0;
      st.pumping = false;
    }
  }

  /** The error of a call whose connection failed; drops that connection. */
  #failure(
    method: string,
    conn: Connection<unknown> | null,
    e: unknown,
  ): unknown {
    const st = this.#st;
    if (e instanceof ManagerError || e instanceof AuthenticationError) return e;
    if (st.conn === conn) st.conn = null;
    closeQuietly(conn);
    if (st.closed) return this.#closedError(method);
    return new ManagerDisconnectedError(
      `Cannot call ${method}(): the connection to the manager failed`,
      { cause: e },
    );
  }
}
