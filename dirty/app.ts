// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Dirty apps written in TypeScript: the {@linkcode DirtyApp} base class,
 * the app spec format (`"<module path or URL>:<ExportName>[:N]"`, the wire
 * `app_path` being the spec without `:N`, exactly as gunicorn) and the
 * action rules the worker applies.
 *
 * An app is a class. Each worker that hosts it creates one instance, calls
 * `init()` once (sync or async), then calls one method per request, and
 * `close()` when the worker stops. App code runs on a thread of its own in
 * the worker process (a Web Worker): the worker's protocol thread keeps
 * sending heartbeats and reading cancellations while an action computes.
 *
 * Arguments. An action is a method called with the request's `args`
 * spread, and nothing else. Its keyword arguments (Python's `f(a=1)`) are
 * {@linkcode DirtyApp.kwargs} (`this.kwargs`, or {@linkcode requestKwargs}
 * outside a `DirtyApp`): always a dict, empty when none were sent, so
 * `f({a: 1})` (one positional dict) and `f(a=1)` never look alike. Args
 * that are not a list and kwargs that are not a dict get gunicorn 26.1's
 * answers: the arbiter turns args into a list as Python's `list()` does
 * (`"ab"` gives `["a", "b"]`, `None` or `0` give `[]`, `5` is a
 * `DirtyWorkerError "Worker communication failed: 'int' object is not
 * iterable"`), and kwargs that are not a dict (and not empty) fail with
 * `DirtyAppError "<… object at 0x…> argument after ** must be a mapping,
 * not list"`.
 *
 * Results. A method may return a value (RESPONSE), a promise of a value
 * (RESPONSE, unlike gunicorn, which cannot send a coroutine), or a sync or
 * async generator or a `ReadableStream` (one CHUNK per item, then END).
 * Names starting with `_`, `init`, `close`, `constructor` and anything
 * inherited from `Object` are refused with `Unknown action: <name>`, as
 * gunicorn's `DirtyApp.__call__` does. A stream waits (its generator is not
 * pulled) while its client reads slowly.
 *
 * Cancellation. {@linkcode requestSignal} (or `this.signal`) is the current
 * request's `AbortSignal`: it aborts when the request's client disconnects,
 * times out or aborts, when the arbiter's timeout expires, and on shutdown
 * past the graceful period; a streaming generator then gets its `return()`
 * called. An action that ignores it keeps running, but its result is
 * dropped; one that blocks its thread past its timeout gets the worker
 * killed (and replaced).
 *
 * Stray errors. An uncaught error (a throw in a timer callback) or an
 * unhandled rejection in app code is reported to the arbiter's `log` with
 * its stack; the worker's requests in flight fail with `DirtyWorkerError
 * "Worker communication failed: worker <pid> crashed: <error>"` and the
 * worker is replaced (with back-off if it keeps crashing).
 *
 * Dicts. JavaScript objects list integer-like keys first, whatever the
 * order they were set in; Python dicts keep insertion order. With
 * `static dicts = "map"` an app receives every dict as a `Map` (any key
 * order, kept end to end: what it returns is written in the `Map`'s
 * order); with the default `"object"` it receives plain objects, and a
 * plain object it returns is written in JavaScript's key order.
 *
 * Numbers. Python tells `1` (INT64) from `1.0` (FLOAT64); JavaScript has one
 * `number`. By default (`static floats = "number"`) an app gets plain
 * numbers everywhere, so arithmetic and `===` work as usual, and what it
 * returns is encoded by the codec's rule (safe integers as INT64, other
 * numbers as FLOAT64, {@linkcode DirtyFloat} as FLOAT64). On top of that the
 * worker keeps the TLV type of what an app passes through unchanged: every
 * list or dict slot that arrived holding an integral float (`1.0`) and
 * still holds that same number when the list or dict is returned or
 * streamed (in this request or a later one, e.g. from the app's state) goes
 * back as FLOAT64, nested at any depth. The app's objects are never
 * modified for this. What this cannot cover is a bare top-level argument:
 * `echo(x) { return x }` or `(...args) => args` gets `1` for `1.0` and
 * returns INT64, because a number has no identity to remember; so does a
 * list the app builds itself from such numbers. For these, return
 * `new DirtyFloat(x)` explicitly, or set `static floats = "tagged"`: the app
 * then receives every integral float as a {@linkcode DirtyFloat} (lists,
 * dicts and top-level arguments alike; non-integral floats stay plain
 * numbers, they cannot be mistaken) and whatever it returns keeps exactly
 * the types it holds. A `DirtyFloat` works in arithmetic (`x * 2`, `+x`,
 * `Math.max(x, y)`) through `valueOf()`, but not with `===` or `typeof`.
 * Slots are positions and keys, compared by value: a slot that no longer
 * holds its float's number, and every slot of a list whose length
 * changed, is encoded by the codec's rule; but an app that puts an int of
 * the same value where a float was (`o.x = 3` over `3.0`, or a same-length
 * reorder such as `[1.0, 1].reverse()`) gets a float there. Use
 * `static floats = "tagged"` when such exactness matters.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { DirtyAppError, DirtyAppNotFoundError } from "./errors.ts";

/**
 * Base class of dirty apps (optional: any class with the same shape works).
 * Set `static workers = N` to host the app on at most N workers (a `:N` in
 * the spec wins over it).
 *
 * @example Usage
 * ```ts
 * import { DirtyApp } from "./app.ts";
 * import assert from "node:assert/strict";
 *
 * class Calc extends DirtyApp {
 *   static override workers = 2;
 *   add(a: number, b: number): number {
 *     return a + b;
 *   }
 * }
 * const app = new Calc();
 * await app.init();
 * assert.equal(app.add(2, 3), 5);
 * assert.equal(Calc.workers, 2);
 * await app.close();
 * ```
 */
export class DirtyApp {
  /**
   * Most workers that host this app; `undefined` means every worker.
   */
  static workers: number | undefined = undefined;

  /**
   * How this app sees integral floats (`1.0`) from the wire: `"number"`
   * gives plain numbers (the worker still sends back unchanged list and
   * dict slots as floats); `"tagged"` gives {@linkcode DirtyFloat}s, so
   * that everything the app passes on, top-level arguments included, keeps
   * its exact int/float type. See the module doc.
   *
   * @default {"number"}
   *
   * @example Usage
   * ```ts
   * import { DirtyApp, DirtyFloat, encodeTlv, TLV_FLOAT64 } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * class Exact extends DirtyApp {
   *   static override floats = "tagged" as const;
   *   echo(x: number | DirtyFloat): number | DirtyFloat {
   *     return x;
   *   }
   *   double(x: number | DirtyFloat): DirtyFloat {
   *     return new DirtyFloat(+x * 2);
   *   }
   * }
   * assert.equal(DirtyApp.floats, "number");
   * assert.equal(Exact.floats, "tagged");
   * // A worker hands 1.0 to echo() as DirtyFloat(1): it goes back as a float.
   * assert.equal(encodeTlv(new Exact().echo(new DirtyFloat(1)))[0], TLV_FLOAT64);
   * assert.deepEqual(new Exact().double(new DirtyFloat(2)), new DirtyFloat(4));
   * ```
   */
  static floats: "number" | "tagged" = "number";

  /**
   * How this app receives dicts: `"object"` (plain objects; integer-like
   * keys come first, as in any JavaScript object) or `"map"` (`Map`s, in
   * the wire order, which is kept end to end). See the module doc.
   *
   * @default {"object"}
   *
   * @example Usage
   * ```ts
   * import { DirtyApp } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * class Ordered extends DirtyApp {
   *   static override dicts = "map" as const;
   *   keys(d: Map<string, unknown>): string[] {
   *     return [...d.keys()];
   *   }
   * }
   * assert.equal(Ordered.dicts, "map");
   * assert.deepEqual(new Ordered().keys(new Map([["b", 1], ["10", 2]])), ["b", "10"]);
   * ```
   */
  static dicts: "object" | "map" = "object";

  /**
   * The keyword arguments of the request being served (Python's
   * `f(a=1)`): a plain object, or a `Map` with `static dicts = "map"`;
   * empty when none were sent, and outside a request.
   *
   * @returns The current request's kwargs.
   *
   * @example Usage
   * ```ts
   * import { DirtyApp, withRequest } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * class Scaler extends DirtyApp {
   *   scale(x: number): number {
   *     return x * ((this.kwargs as { by?: number }).by ?? 1);
   *   }
   * }
   * const app = new Scaler();
   * assert.equal(app.scale(2), 2);
   * const signal = new AbortController().signal;
   * assert.equal(withRequest({ signal, kwargs: { by: 3 } }, () => app.scale(2)), 6);
   * ```
   */
  get kwargs(): RequestKwargs {
    return requestKwargs();
  }

  /**
   * The `AbortSignal` of the request being served (see
   * {@linkcode requestSignal}).
   *
   * @returns The current request's signal.
   *
   * @example Usage
   * ```ts
   * import { DirtyApp } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new DirtyApp().signal.aborted, false);
   * ```
   */
  get signal(): AbortSignal {
    return requestSignal();
  }

  /**
   * Called once in the worker after construction, before any request.
   * Throwing (or rejecting) fails the worker's boot; the arbiter reports
   * the error and respawns with back-off.
   *
   * @returns Nothing, or a promise.
   *
   * @example Usage
   * ```ts
   * import { DirtyApp } from "./app.ts";
   * import assert from "node:assert/strict";
   *
   * assert.equal(await new DirtyApp().init(), undefined);
   * ```
   */
  init(): void | Promise<void> {}

  /**
   * Called once when the worker stops.
   *
   * @returns Nothing, or a promise.
   *
   * @example Usage
   * ```ts
   * import { DirtyApp } from "./app.ts";
   * import assert from "node:assert/strict";
   *
   * assert.equal(await new DirtyApp().close(), undefined);
   * ```
   */
  close(): void | Promise<void> {}
}

/** A parsed app spec. */
export interface DirtyAppSpec {
  /** The spec as given. */
  spec: string;
  /** The wire `app_path`: the spec without `:N`. */
  appPath: string;
  /** The module path or URL as written. */
  module: string;
  /** The exported class name. */
  exportName: string;
  /** The `:N` worker limit, if any. */
  workers: number | undefined;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

/**
 * Parses `"<module path or URL>:<ExportName>[:N]"`. The module part may
 * itself contain colons (`file:///srv/app.ts:App:2`); the export name must
 * be an identifier and `N` an integer of at least 1.
 *
 * @param spec The app spec.
 * @returns The parsed spec.
 * @throws {DirtyAppError} With gunicorn's messages (`Invalid import path
 * format: …`, `Invalid worker count in spec: …`).
 *
 * @example Usage
 * ```ts
 * import { parseAppSpec } from "./app.ts";
 * import assert from "node:assert/strict";
 *
 * const s = parseAppSpec("file:///srv/ml.ts:Model:2");
 * assert.equal(s.appPath, "file:///srv/ml.ts:Model");
 * assert.equal(s.module, "file:///srv/ml.ts");
 * assert.equal(s.workers, 2);
 * assert.equal(parseAppSpec("./app.ts:Echo").workers, undefined);
 * ```
 */
export function parseAppSpec(spec: string): DirtyAppSpec {
  const formatError = () =>
    new DirtyAppError(
      `Invalid import path format: ${spec}. Expected '<module>:<ExportName>' or '<module>:<ExportName>:N'`,
      { appPath: spec },
    );
  const parts = spec.split(":");
  if (parts.length < 2) throw formatError();
  let workers: number | undefined;
  const last = parts[parts.length - 1]!;
  if (!IDENT.test(last)) {
    if (parts.length < 3) throw formatError();
    if (!/^[+-]?\d+$/.test(last.trim())) {
      throw new DirtyAppError(
        `Invalid worker count in spec: ${spec}. Expected integer, got '${last}'`,
        { appPath: spec },
      );
    }
    const n = Number(last);
    if (n < 1) {
      throw new DirtyAppError(
        `Invalid worker count in spec: ${spec}. Worker count must be >= 1, got ${n}`,
        { appPath: spec },
      );
    }
    workers = n;
    parts.pop();
  }
  const exportName = parts.pop()!;
  const module = parts.join(":");
  if (!IDENT.test(exportName) || module === "") throw formatError();
  return {
    spec,
    appPath: `${module}:${exportName}`,
    module,
    exportName,
    workers,
  };
}

/**
 * Resolves the module part of a spec to an import specifier: URLs
 * (`file:`, `https:`, `npm:`, `jsr:` …) are kept, absolute paths become
 * `file:` URLs, relative paths are resolved against `base` (by default the
 * current directory).
 *
 * @param module The module part of a spec.
 * @param base Directory for relative paths.
 * @returns The specifier to `import()`.
 *
 * @example Usage
 * ```ts
 * import { resolveAppModule } from "./app.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(resolveAppModule("./a.ts", "/srv"), "file:///srv/a.ts");
 * assert.equal(resolveAppModule("https://x.test/a.ts"), "https://x.test/a.ts");
 * ```
 */
export function resolveAppModule(module: string, base?: string): string {
  if (/^[A-Za-z][A-Za-z\d+.-]+:/.test(module)) return module;
  if (module.startsWith("/")) return new URL(`file://${module}`).href;
  const dir = (base ?? Deno.cwd()).replace(/\/?$/, "/");
  return new URL(module, new URL(`file://${dir}`)).href;
}

/** A dirty app class: constructed with no arguments. */
// deno-lint-ignore no-explicit-any
export type DirtyAppClass = new () => any;

/**
 * Imports an app module and returns the exported class.
 *
 * @param spec The parsed spec.
 * @param base Directory for relative module paths.
 * @returns The class.
 * @throws {DirtyAppNotFoundError} If the module or export is missing.
 * @throws {DirtyAppError} If the export is not a class.
 *
 * @example Usage
 * ```ts
 * import { importAppClass, parseAppSpec } from "./app.ts";
 * import assert from "node:assert/strict";
 *
 * const spec = parseAppSpec(new URL("./app.ts", import.meta.url).href + ":DirtyApp");
 * const cls = await importAppClass(spec);
 * assert.equal(cls.name, "DirtyApp");
 * ```
 */
export async function importAppClass(
  spec: DirtyAppSpec,
  base?: string,
): Promise<DirtyAppClass> {
  let mod: Record<string, unknown>;
  try {
    mod = await import(resolveAppModule(spec.module, base));
  } catch (cause) {
    throw new DirtyAppNotFoundError(
      `Dirty app not found: ${spec.appPath} (${errorText(cause)})`,
      { appPath: spec.appPath, cause },
    );
  }
  const cls = mod[spec.exportName];
  if (cls === undefined) {
    throw new DirtyAppNotFoundError(
      `Dirty app not found: ${spec.appPath} (no export ${spec.exportName})`,
      { appPath: spec.appPath },
    );
  }
  if (typeof cls !== "function" || cls.prototype === undefined) {
    throw new DirtyAppError(`${spec.appPath} is not a class`, {
      appPath: spec.appPath,
    });
  }
  return cls as DirtyAppClass;
}

/**
 * The worker limit of an app: the spec's `:N`, else a positive integer
 * `static workers` on the class, else `undefined` (every worker).
 *
 * @param spec The parsed spec.
 * @param cls The class, when it could be imported.
 * @returns The limit, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { appWorkerLimit, DirtyApp, parseAppSpec } from "./app.ts";
 * import assert from "node:assert/strict";
 *
 * class Heavy extends DirtyApp {
 *   static override workers = 1;
 * }
 * assert.equal(appWorkerLimit(parseAppSpec("./m.ts:Heavy"), Heavy), 1);
 * assert.equal(appWorkerLimit(parseAppSpec("./m.ts:Heavy:3"), Heavy), 3);
 * ```
 */
export function appWorkerLimit(
  spec: DirtyAppSpec,
  cls?: unknown,
): number | undefined {
  if (spec.workers !== undefined) return spec.workers;
  const w = (cls as { workers?: unknown } | undefined)?.workers;
  return typeof w === "number" && Number.isSafeInteger(w) && w >= 1
    ? w
    : undefined;
}

const REFUSED = new Set(["init", "close", "constructor"]);

/**
 * Finds the method an action names, applying gunicorn's dispatch rules
 * (plus: lifecycle methods and `Object.prototype` members are refused).
 *
 * @param app The app instance.
 * @param action The action name.
 * @returns The bound method.
 * @throws {Error} `Unknown action: <name>` when refused or missing.
 *
 * @example Usage
 * ```ts
 * import { DirtyApp, resolveAction } from "./app.ts";
 * import assert from "node:assert/strict";
 *
 * class A extends DirtyApp {
 *   hi(): string {
 *     return "hi";
 *   }
 *   _secret(): string {
 *     return "no";
 *   }
 * }
 * assert.equal(resolveAction(new A(), "hi")(), "hi");
 * assert.throws(() => resolveAction(new A(), "_secret"), /Unknown action: _secret/);
 * assert.throws(() => resolveAction(new A(), "toString"), /Unknown action/);
 * ```
 */
export function resolveAction(
  app: object,
  action: string,
): (...args: unknown[]) => unknown {
  if (action.startsWith("_") || REFUSED.has(action) || action === "") {
    throw new Error(`Unknown action: ${action}`);
  }
  let proto: object | null = app;
  while (proto !== null && proto !== Object.prototype) {
    const d = Object.getOwnPropertyDescriptor(proto, action);
    if (d !== undefined) {
      if (typeof d.value !== "function") break;
      return (d.value as (...args: unknown[]) => unknown).bind(app);
    }
    proto = Object.getPrototypeOf(proto);
  }
  throw new Error(`Unknown action: ${action}`);
}

/**
 * Whether an action's return value is streamed (CHUNK… END): generator and
 * async generator objects and `ReadableStream`s. Arrays and other iterables
 * are plain results, as in gunicorn.
 *
 * @param value An action's return value.
 * @returns True for streams.
 *
 * @example Usage
 * ```ts
 * import { isStreamResult } from "./app.ts";
 * import assert from "node:assert/strict";
 *
 * function* gen(): Generator<number> {
 *   yield 1;
 * }
 * assert.equal(isStreamResult(gen()), true);
 * assert.equal(isStreamResult([1, 2]), false);
 * ```
 */
export function isStreamResult(
  value: unknown,
): value is Iterator<unknown> | AsyncIterator<unknown> | ReadableStream {
  if (value === null || typeof value !== "object") return false;
  if (value instanceof ReadableStream) return true;
  const tag = Object.prototype.toString.call(value);
  return tag === "[object Generator]" || tag === "[object AsyncGenerator]";
}

/** Keyword arguments as an app receives them. */
export type RequestKwargs =
  | { readonly [key: string]: unknown }
  | ReadonlyMap<string, unknown>;

/** What an action can read about the request it serves. */
export interface RequestContext {
  /** Aborts when the request is given up. */
  signal: AbortSignal;
  /** Its keyword arguments. */
  kwargs: RequestKwargs;
}

const store = new AsyncLocalStorage<RequestContext>();

/**
 * Runs `fn` as the action of a request: {@linkcode requestSignal} and
 * {@linkcode requestKwargs} (and `this.signal` / `this.kwargs`) give the
 * context's values inside it, across its `await`s. Used by the worker
 * around each action call; handy in tests.
 *
 * @typeParam T What `fn` returns.
 * @param context The request's signal and kwargs.
 * @param fn The call.
 * @returns What `fn` returns.
 *
 * @example Usage
 * ```ts
 * import { requestKwargs, requestSignal, withRequest } from "./app.ts";
 * import assert from "node:assert/strict";
 *
 * const c = new AbortController();
 * withRequest({ signal: c.signal, kwargs: { a: 1 } }, () => {
 *   assert.equal(requestSignal(), c.signal);
 *   assert.deepEqual(requestKwargs(), { a: 1 });
 * });
 * ```
 */
export function withRequest<T>(context: RequestContext, fn: () => T): T {
  return store.run(context, fn);
}

const NEVER = new AbortController().signal;
const NO_KWARGS: RequestKwargs = Object.freeze({});

/**
 * The `AbortSignal` of the request being served (inside an action, across
 * its `await`s). Outside a request it is a signal that never aborts.
 *
 * @returns The signal.
 *
 * @example Usage
 * ```ts
 * import { requestSignal } from "./app.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(requestSignal().aborted, false);
 * ```
 */
export function requestSignal(): AbortSignal {
  return store.getStore()?.signal ?? NEVER;
}

/**
 * The keyword arguments of the request being served (inside an action,
 * across its `await`s): a plain object, or a `Map` for an app with
 * `static dicts = "map"`. Outside a request, an empty object.
 *
 * @returns The kwargs.
 *
 * @example Usage
 * ```ts
 * import { requestKwargs } from "./app.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(requestKwargs(), {});
 * ```
 */
export function requestKwargs(): RequestKwargs {
  return store.getStore()?.kwargs ?? NO_KWARGS;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
