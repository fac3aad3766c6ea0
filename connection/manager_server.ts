// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * {@linkcode ManagerServer}: a `multiprocessing.managers` server in Deno,
 * whose shared objects are TypeScript objects. CPython's `BaseManager`
 * subclasses `connect()` to it and use proxies, as to a Python manager.
 *
 * @module
 */
import type { Address } from "./address.ts";
import type { AuthOptions } from "./authenticate.ts";
import type { Connection } from "./connection.ts";
import { Listener } from "./listener.ts";
import {
  encodeReply,
  FALLBACK_METHODS,
  managerLoadsOptions,
  parseRequest,
  type Request,
  SERVER_METHODS,
} from "./_manager_protocol.ts";
import { withCallSignal } from "./_manager_call.ts";
import { type ClassStatics, SharedTable } from "./_manager_table.ts";
import {
  bind,
  errorReply,
  errorText,
  tracebackText,
} from "./_manager_serve.ts";
import {
  ManagerDisconnectedError,
  ManagerError,
  PyException,
} from "./manager_errors.ts";
import { ManagerIterator } from "./manager_dict.ts";
import { Token } from "./manager_token.ts";
import { loads, type LoadsOptions } from "./pickle.ts";
import { Tuple } from "./pickle_types.ts";
import { requireDeno } from "../_internal/deno_version.ts";

/** Options of {@linkcode ManagerServer}. */
export interface ManagerServerOptions extends Omit<AuthOptions, "authkey"> {
  /** The key clients must prove (Python's `authkey`). */
  authkey: Uint8Array | string;
  /**
   * The largest request accepted, in bytes.
   *
   * @default {268435456}
   */
  maxMessageSize?: number;
  /**
   * How requests decode floats: `"wrap"` keeps them `PyFloat`s, so a
   * value stored and sent back is still a float in Python (`PyFloat`
   * works in arithmetic through `valueOf()`).
   *
   * @default {"wrap"}
   */
  floats?: "number" | "wrap";
  /**
   * How requests decode dicts (see `loads()`).
   *
   * @default {"object"}
   */
  dicts?: "object" | "map";
  /**
   * Called with each error the server survives: a failed handshake (wrong
   * key), an accept error, a request it could not read.
   *
   * @default {undefined}
   */
  onError?: (error: unknown) => void;
}

/** A shared object's class, as `register()` accepts it. */
// deno-lint-ignore no-explicit-any
export type SharedClass = new (...args: any[]) => object;

/** How `register()` describes a typeid (CPython's `register()` arguments). */
export interface TypeidOptions {
  /**
   * Makes the object for `create(typeid, *args, **kwargs)` (CPython's
   * `callable`). Without it, objects of this typeid only come from methods
   * (`methodToTypeid`), or a `create` call passes the object as its one
   * argument, as in CPython.
   */
  create?: (
    args: unknown[],
    kwargs: Record<string, unknown>,
  ) => object | Promise<object>;
  /**
   * The methods callers may call. Default: the class's static `exposed`,
   * else the object's public methods (names not starting with `_`), as
   * CPython's `public_methods()`.
   */
  exposed?: readonly string[];
  /**
   * Positional parameter names by method (`"__init__"` for `create`), so
   * that Python keyword arguments find their place; `"**"` takes the
   * others as one object. Default: the class's static `parameters`.
   * Without names, a keyword argument is a `TypeError` in the caller.
   */
  parameters?: Readonly<Record<string, readonly string[]>>;
  /**
   * Methods whose result is shared as a new object of another typeid (the
   * caller gets a proxy). Default: the class's static `methodToTypeid`.
   */
  methodToTypeid?: Readonly<Record<string, string>>;
}

const noop = (): void => {};

/**
 * A manager server: registers typeids backed by TypeScript objects and
 * serves CPython proxies (and ours) with the protocol of
 * `multiprocessing.managers.Server`: `create`, `accept_connection`,
 * `incref`/`decref` (an object is dropped when its count reaches zero),
 * `get_methods`, `number_of_objects`, `debug_info`, `dummy`, `shutdown`.
 *
 * Methods run with their arguments as decoded; a method may return a
 * promise (a waiting `get()`), and {@linkcode callSignal} aborts when its
 * caller disconnects. A {@linkcode PyException} thrown by a method is
 * raised in the caller as that Python exception; anything else reaches
 * Python as a `RemoteError` carrying the error's name, message and stack.
 * `Iterator` is registered for {@linkcode ManagerIterator}, as
 * `SyncManager` registers it.
 *
 * Permissions: those of {@linkcode Listener}. Needs Deno 2.9.0 or later.
 *
 * @example Serving Python clients
 * ```ts ignore
 * import { ManagerQueue, ManagerServer } from "@sidecar/ipc/connection";
 *
 * // Python: class M(BaseManager): pass
 * //         M.register("jobs"); m = M(("127.0.0.1", 50000), b"k"); m.connect()
 * //         m.jobs().put({"id": 1})
 * await using server = new ManagerServer({ port: 50000 }, { authkey: "k" });
 * server.register("jobs", ManagerQueue);
 * await server.serve(); // until a client sends shutdown, or close()
 * ```
 *
 * @example A custom class, with its exposed methods chosen
 * ```ts
 * import { ManagerClient, ManagerServer, PyException, RemoteError } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * class Counter {
 *   #n = 0;
 *   increment(by = 1): number {
 *     if (Number(by) < 0) throw new PyException("ValueError", ["negative"]);
 *     return (this.#n += Number(by));
 *   }
 *   reset(): void {
 *     this.#n = 0;
 *   }
 * }
 * await using server = new ManagerServer({ hostname: "127.0.0.1", port: 0 }, {
 *   authkey: "k",
 * });
 * server.register("Counter", {
 *   create: () => new Counter(),
 *   exposed: ["increment"], // Python's register("Counter", exposed=...)
 *   parameters: { increment: ["by"] }, // so that increment(by=2) works
 * });
 * server.serve();
 *
 * await using client = new ManagerClient(server.address, { authkey: "k" });
 * await using counter = await client.create("Counter");
 * assert.equal(await counter.call("increment", [], { by: 2 }), 2);
 * await assert.rejects(
 *   counter.call("increment", [-1]),
 *   (e) => e instanceof RemoteError && e.type === "ValueError",
 * );
 * assert.equal(server.objectCount, 1);
 * ```
 */
export class ManagerServer implements AsyncDisposable {
  #listener: Listener<unknown>;
  #options: ManagerServerOptions;
  #loads: LoadsOptions;
  #table = new SharedTable();
  #conns = new Set<Connection<unknown>>();
  #tasks = new Set<Promise<void>>();
  #stop = new AbortController();
  #serving: Promise<void> | null = null;
  #stopped = false;

  /**
   * Binds the listener (nothing is served before `serve()`).
   *
   * @param address `{ hostname, port }` (port 0 picks one) or a socket path.
   * @param options The key and the server's options.
   */
  constructor(address: Address, options: ManagerServerOptions) {
    requireDeno("create manager server");
    if (
      !(options?.authkey instanceof Uint8Array) &&
      typeof options?.authkey !== "string"
    ) {
      throw new TypeError(
        "Cannot create manager server: authkey is required (managers always authenticate)",
      );
    }
    this.#options = options;
    const base: LoadsOptions = { floats: options.floats ?? "wrap" };
    if (options.dicts !== undefined) base.dicts = options.dicts;
    if (options.maxMessageSize !== undefined) {
      base.maxBytes = options.maxMessageSize;
    }
    this.#loads = managerLoadsOptions(base, undefined);
    const { onError: _, floats: _f, dicts: _d, ...listenerOptions } = options;
    this.#listener = new Listener(address, {
      ...listenerOptions,
      onError: (e) => this.#report(e),
    });
    this.register("Iterator", { exposed: ManagerIterator.exposed });
  }

  /**
   * The bound address (`{ hostname, port }` with the real port, or the
   * path): what Python's `BaseManager(address=...)` needs.
   *
   * @returns The address.
   *
   * @example Usage
   * ```ts ignore
   * console.log(server.address);
   * ```
   */
  get address(): Address {
    return this.#listener.address;
  }

  /**
   * `number_of_objects`: how many shared objects have references.
   *
   * @returns The count.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(server.objectCount, 0);
   * ```
   */
  get objectCount(): number {
    return this.#table.count;
  }

  /**
   * Registers a typeid (CPython's `BaseManager.register()`): a class
   * (`create` calls `new cls(...args)`, with keyword arguments placed by
   * its static `parameters.__init__`) or {@linkcode TypeidOptions}.
   *
   * @param typeid The name Python registers too.
   * @param spec The class or the options.
   * @returns This server.
   *
   * @example Usage
   * ```ts ignore
   * server.register("Counter", {
   *   create: () => new Counter(),
   *   exposed: ["increment", "value"],
   * });
   * ```
   */
  register(typeid: string, spec: SharedClass | TypeidOptions = {}): this {
    if (typeof typeid !== "string" || typeid === "") {
      throw new TypeError("Cannot register: typeid must be a non-empty string");
    }
    if (typeof spec === "function") {
      const cls = spec;
      const statics = cls as unknown as ClassStatics;
      this.#table.register(typeid, {
        create: (args, kwargs) =>
          new cls(...bind(statics.parameters?.__init__, args, kwargs, typeid)),
        exposed: statics.exposed,
        parameters: statics.parameters,
        methodToTypeid: statics.methodToTypeid,
      });
    } else {
      this.#table.register(typeid, {
        create: spec.create,
        exposed: spec.exposed,
        parameters: spec.parameters,
        methodToTypeid: spec.methodToTypeid,
      });
    }
    return this;
  }

  /**
   * Serves until a client sends `shutdown` or `close()` is called. Calling
   * it again returns the same promise.
   *
   * @returns Resolves when the server stopped; rejects if accepting
   * failed for good.
   *
   * @example Usage
   * ```ts ignore
   * const done = server.serve();
   * // ...
   * await done;
   * ```
   */
  serve(): Promise<void> {
    this.#serving ??= this.#acceptLoop();
    return this.#serving;
  }

  /**
   * `debug_info`: one entry per shared object with its refcount.
   *
   * @returns The text CPython's `debug_info` gives.
   *
   * @example Usage
   * ```ts ignore
   * console.log(server.debugInfo());
   * ```
   */
  debugInfo(): string {
    return this.#table.debugInfo();
  }

  /**
   * Stops serving: closes the listener and every connection, and aborts
   * the waits of calls in progress. Idempotent.
   *
   * @returns Resolves when every connection is closed.
   *
   * @example Usage
   * ```ts ignore
   * await server.close();
   * ```
   */
  async close(): Promise<void> {
    this.#halt();
    await this.#serving?.catch(noop);
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }

  /**
   * Same as {@linkcode ManagerServer.close}.
   *
   * @returns Resolves when closed.
   *
   * @example Usage
   * ```ts ignore
   * { await using server = new ManagerServer({ port: 0 }, { authkey: "k" }); }
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #halt(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stop.abort(
      new ManagerError("MANAGER_CLOSED", "Cannot serve: the server stopped"),
    );
    this.#listener.close();
    for (const c of this.#conns) c.close().catch(noop);
  }

  #report(e: unknown): void {
    try {
      this.#options.onError?.(e);
    } catch {
      // A failing hook must not stop the server.
    }
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#stopped) {
      let conn: Connection<unknown>;
      try {
        conn = await this.#listener.accept({ signal: this.#stop.signal });
      } catch (e) {
        if (this.#stopped) break;
        // The Listener survives every client's fault (failed handshakes,
        // accept errors, reported through onError): what reaches here is
        // the end of the listening socket.
        this.#halt();
        throw e;
      }
      const task = this.#serveConnection(conn).catch((e) => this.#report(e));
      this.#tasks.add(task);
      task.finally(() => this.#tasks.delete(task));
    }
  }

  async #serveConnection(conn: Connection<unknown>): Promise<void> {
    this.#conns.add(conn);
    try {
      if (this.#stopped) return;
      let bytes: Uint8Array;
      try {
        bytes = await conn.recvBytes();
      } catch {
        return;
      }
      let req: Request;
      try {
        req = parseRequest(loads(bytes, this.#loads));
        if (!SERVER_METHODS.has(req.method)) {
          throw new PyException("AssertionError", [
            `'${req.method}' unrecognized`,
          ]);
        }
      } catch (e) {
        this.#report(e);
        await conn.sendBytes(errorText(e)).catch(noop);
        return;
      }
      let reply: Uint8Array;
      try {
        reply = encodeReply("#RETURN", await this.#table.control(req));
      } catch (e) {
        reply = encodeReply("#TRACEBACK", tracebackText(e));
      }
      try {
        await conn.sendBytes(reply);
      } catch {
        return; // the caller went away
      }
      if (req.method === "shutdown") this.#halt();
      else if (req.method === "accept_connection") {
        await this.#serveClient(conn);
      }
    } finally {
      this.#conns.delete(conn);
      await conn.close().catch(noop);
    }
  }

  /** Serves method calls on a connection (CPython's `serve_client`). */
  async #serveClient(conn: Connection<unknown>): Promise<void> {
    let next = conn.recvBytes();
    for (;;) {
      let bytes: Uint8Array;
      try {
        bytes = await next;
      } catch {
        return; // EOF, reset or closed
      }
      // Read ahead: if the caller goes away, the call's signal aborts.
      next = conn.recvBytes();
      next.catch(noop);
      const gone = new AbortController();
      next.then(noop, (e) =>
        gone.abort(
          new ManagerDisconnectedError(
            "Cannot serve call: the caller disconnected",
            { cause: e },
          ),
        ));
      const signal = AbortSignal.any([gone.signal, this.#stop.signal]);
      const reply = await this.#call(bytes, signal);
      if (signal.aborted) return;
      try {
        await conn.sendBytes(reply);
      } catch {
        return;
      }
    }
  }

  async #call(bytes: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    let req: Request;
    try {
      req = parseRequest(loads(bytes, this.#loads));
    } catch (e) {
      this.#report(e);
      return errorText(e);
    }
    const { id, method } = req;
    const shared = id === null ? undefined : this.#table.get(id);
    if (shared === undefined) {
      return errorText(new PyException("KeyError", [String(id)]));
    }
    const obj = shared.obj as Record<string, unknown>;
    if (!shared.exposedSet.has(method)) {
      if (FALLBACK_METHODS.has(method)) {
        return encodeReply(
          "#RETURN",
          method === "#GETVALUE" ? obj.valueOf() : String(obj),
        );
      }
      return errorText(
        new PyException("AttributeError", [
          `method '${method}' of '${shared.typeid}' object is not in exposed=${
            JSON.stringify(shared.exposed)
          }`,
        ]),
      );
    }
    const fn = obj[method];
    let result: unknown;
    try {
      if (typeof fn !== "function") {
        throw new PyException("AttributeError", [
          `'${shared.typeid}' object has no method '${method}'`,
        ]);
      }
      const args = bind(
        shared.parameters[method],
        req.args,
        req.kwargs,
        method,
      );
      result = await withCallSignal(signal, () => fn.apply(obj, args));
    } catch (e) {
      return errorReply(e);
    }
    const typeid = shared.methodToTypeid[method];
    if (typeid !== undefined) {
      try {
        const [rid, rexposed] = this.#table.share(typeid, result);
        const token = new Token(typeid, this.address, rid);
        return encodeReply(
          "#PROXY",
          new Tuple([new Tuple([...rexposed]), token]),
        );
      } catch (e) {
        return errorReply(e);
      }
    }
    return encodeReply("#RETURN", result === undefined ? null : result);
  }
}
