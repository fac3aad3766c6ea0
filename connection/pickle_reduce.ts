// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Python objects that are rebuilt by calling a class, in both directions,
 * for the few classes a protocol names exactly (the manager's `Token`, its
 * `RebuildProxy`, exceptions). Nothing here is generic object building:
 *
 * - Encoding: {@linkcode PyGlobal} and {@linkcode PyReduce} (or any object
 *   with a {@linkcode pickleReduce} method) write what Python's
 *   `__reduce__` would: `module.name`, then `REDUCE` or `NEWOBJ`, then
 *   `BUILD` with the state. Only our own code runs.
 * - Decoding: `loads()` refuses `NEWOBJ` and `BUILD` unless its
 *   `reconstruct` option names the class, with a {@linkcode PickleClass}
 *   saying what each opcode does (functions of the caller, which see only
 *   decoded plain data).
 *
 * @module
 */

import { Tuple } from "./pickle_types.ts";

/**
 * A Python global (a class or function) referred to by name. `dumps()`
 * writes it as `module.name` (`STACK_GLOBAL`, or `GLOBAL` before protocol
 * 4), which Python's unpickler imports.
 *
 * @example Usage
 * ```ts
 * import { dumps, PyGlobal } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * // Python: pickle.dumps(KeyError, 4)
 * const bytes = dumps(new PyGlobal("builtins", "KeyError"));
 * assert.equal(new TextDecoder().decode(bytes.subarray(13, 21)), "builtins");
 * ```
 */
export class PyGlobal {
  /** The module, such as `"multiprocessing.managers"`. */
  readonly module: string;
  /** The qualified name in the module, such as `"Token"`. */
  readonly name: string;

  /**
   * Names a global.
   *
   * @param module The module.
   * @param name The name in the module.
   */
  constructor(module: string, name: string) {
    if (typeof module !== "string" || typeof name !== "string") {
      throw new TypeError(
        "Cannot create PyGlobal: module and name are strings",
      );
    }
    this.module = module;
    this.name = name;
  }
}

/** Options of {@linkcode PyReduce}. */
export interface PyReduceOptions {
  /**
   * Rebuild with `cls.__new__(cls, *args)` (`NEWOBJ`, as `copyreg.__newobj__`
   * does for classes at protocol 2+) instead of `callable(*args)`
   * (`REDUCE`).
   *
   * @default {false}
   */
  newobj?: boolean;
  /**
   * State passed to the object's `__setstate__` (`BUILD`) after it is
   * made; `undefined` writes no `BUILD`.
   *
   * @default {undefined}
   */
  state?: unknown;
}

/**
 * An object that Python rebuilds by calling a global, as the tuple a
 * `__reduce__` method returns: `callable(*args)`, or `cls.__new__(cls,
 * *args)` with `newobj`, then `obj.__setstate__(state)` when a state is
 * given. `dumps()` writes the same opcodes as CPython's `save_reduce`.
 *
 * @example A `multiprocessing.managers.Token`, as Python pickles it
 * ```ts
 * import { dumps, PyGlobal, PyReduce, Tuple } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const token = new PyReduce(
 *   new PyGlobal("multiprocessing.managers", "Token"),
 *   new Tuple([]),
 *   { newobj: true, state: new Tuple(["dict", "/tmp/m.sock", "7f01"]) },
 * );
 * const bytes = dumps(token);
 * assert.ok(bytes.includes(0x81)); // NEWOBJ
 * assert.equal(bytes.at(-2), 0x62); // BUILD, then STOP
 * ```
 */
export class PyReduce {
  /** What Python calls (or whose `__new__` it calls). */
  readonly callable: PyGlobal;
  /** The arguments. */
  readonly args: Tuple;
  /** Whether it is rebuilt with `NEWOBJ` rather than `REDUCE`. */
  readonly newobj: boolean;
  /** The `BUILD` state, or `undefined` for none. */
  readonly state: unknown;

  /**
   * Describes the object.
   *
   * @param callable The class or function.
   * @param args The arguments, as a tuple.
   * @param options `newobj` and `state`.
   */
  constructor(callable: PyGlobal, args: Tuple, options: PyReduceOptions = {}) {
    if (!(callable instanceof PyGlobal)) {
      throw new TypeError("Cannot create PyReduce: callable is not a PyGlobal");
    }
    if (!(args instanceof Tuple)) {
      throw new TypeError("Cannot create PyReduce: args is not a Tuple");
    }
    this.callable = callable;
    this.args = args;
    this.newobj = options.newobj ?? false;
    this.state = options.state;
  }
}

/**
 * The method name by which an object says how it pickles, like Python's
 * `__reduce__`: `dumps()` calls `value[pickleReduce]()` for an object of
 * a class it does not know and writes the {@linkcode PyReduce} or
 * {@linkcode PyGlobal} it returns.
 *
 * @example Usage
 * ```ts
 * import {
 *   dumps,
 *   pickleReduce,
 *   PyGlobal,
 *   PyReduce,
 *   Tuple,
 * } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * class Slice {
 *   constructor(readonly start: number, readonly stop: number) {}
 *   [pickleReduce](): PyReduce {
 *     return new PyReduce(
 *       new PyGlobal("builtins", "slice"),
 *       new Tuple([this.start, this.stop, null]),
 *     );
 *   }
 * }
 * const bytes = dumps(new Slice(1, 3));
 * assert.equal(bytes.at(-3), 0x52); // REDUCE, MEMOIZE, STOP
 * ```
 */
export const pickleReduce: unique symbol = Symbol.for(
  "@sidecar/ipc/pickle.reduce",
);

/**
 * What `loads()` may do with one class that its `reconstruct` option
 * allows. Each function receives decoded values only; whatever it returns
 * takes the object's place. Unset members keep the opcode refused.
 */
export interface PickleClass {
  /**
   * The global used as a plain value (for example a class passed as an
   * argument): it decodes to this. When set, the global cannot be called.
   */
  readonly value?: unknown;
  /** `REDUCE`: `cls(*args)`. */
  readonly call?: (args: unknown[]) => unknown;
  /** `NEWOBJ`: `cls.__new__(cls, *args)`; returns the new, empty object. */
  readonly create?: (args: unknown[]) => object;
  /**
   * `BUILD` on an object that `call` or `create` of this class returned:
   * sets its state in place (the object keeps its identity, as in Python).
   */
  readonly build?: (obj: object, state: unknown) => void;
}
