// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * JavaScript stand-ins for the Python types that have no exact JavaScript
 * equivalent, and the errors of the pickle codec.
 *
 * | Python | decoded as | encode it from |
 * | --- | --- | --- |
 * | `tuple` | {@linkcode Tuple} | `Tuple` |
 * | `float` | `number` (or {@linkcode PyFloat} with `floats: "wrap"`) | a non-integer `number`, `NaN`, `±Infinity`, `-0`, or `PyFloat` |
 * | `bytearray` | {@linkcode ByteArray} | `ByteArray` |
 * | `frozenset` | {@linkcode FrozenSet} | `FrozenSet` |
 * | `dict` with a non-`str` key | `PyDict` (see `pickle_dict.ts`) | `PyDict` or `Map` |
 *
 * @module
 */

import { addMember, negZeroMember } from "./_pickle_members.ts";

export { Tuple } from "./_pickle_tuple.ts";

/**
 * A Python `float` whose value is integral. JavaScript's `1` and `1.0` are
 * the same number, and the encoder turns integer-valued numbers into Python
 * `int`s; wrap a number in `PyFloat` to send a `float` instead. The decoder
 * returns `PyFloat` for every float when `floats: "wrap"` is set.
 *
 * @example Usage
 * ```ts
 * import { dumps, loads, PyFloat } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const decoded = loads(dumps(new PyFloat(1)), { floats: "wrap" });
 * assert.ok(decoded instanceof PyFloat);
 * assert.equal(decoded.value, 1);
 * ```
 */
export class PyFloat {
  /** The float's value. */
  readonly value: number;

  /**
   * Wraps `value` as a Python float.
   *
   * @param value Any number, including `NaN`, `±Infinity` and `-0`.
   */
  constructor(value: number) {
    this.value = value;
  }

  /**
   * The wrapped number, so that arithmetic on a `PyFloat` works.
   *
   * @returns The float's value.
   *
   * @example Usage
   * ```ts
   * import { PyFloat } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(+new PyFloat(2) * 3, 6);
   * ```
   */
  valueOf(): number {
    return this.value;
  }
}

/**
 * A Python `bytearray` (mutable bytes). A plain `Uint8Array` stands for
 * Python `bytes`.
 *
 * @example Usage
 * ```ts
 * import { ByteArray, dumps, loads } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const decoded = loads(dumps(new ByteArray(new Uint8Array([1, 2]))));
 * assert.ok(decoded instanceof ByteArray);
 * assert.deepEqual([...decoded.bytes], [1, 2]);
 * ```
 */
export class ByteArray {
  /** The contents (used as is, not copied). */
  readonly bytes: Uint8Array;

  /**
   * Wraps `bytes` as a Python bytearray.
   *
   * @param bytes The contents.
   */
  constructor(bytes: Uint8Array = new Uint8Array(0)) {
    this.bytes = bytes;
  }
}

/**
 * A Python `frozenset` (an immutable set). A plain `Set` stands for Python
 * `set`.
 *
 * @typeParam T The member type.
 *
 * @example Usage
 * ```ts
 * import { dumps, FrozenSet, loads } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const decoded = loads(dumps(new FrozenSet([1, 2])));
 * assert.ok(decoded instanceof FrozenSet);
 * assert.ok(decoded.has(2));
 * assert.equal(decoded.size, 2);
 * ```
 */
export class FrozenSet<T = unknown> implements Iterable<T> {
  /** The members, in insertion order. */
  readonly items: ReadonlySet<T>;

  /**
   * Builds a frozenset from `items`. A `-0` member is kept as
   * `new PyFloat(-0)` (a JavaScript `Set` would store `+0`, which pickles
   * as int `0`); as in Python, `0` and `-0` are one member.
   *
   * @param items The members (duplicates are dropped).
   */
  constructor(items: Iterable<T> = []) {
    const set = new Set<unknown>();
    for (const item of items) addMember(set, item, negZero);
    this.items = set as Set<T>;
  }

  /**
   * The number of members.
   *
   * @returns The size.
   *
   * @example Usage
   * ```ts
   * import { FrozenSet } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new FrozenSet([1, 1, 2]).size, 2);
   * ```
   */
  get size(): number {
    return this.items.size;
  }

  /**
   * Whether `value` is a member (JavaScript `Set` semantics).
   *
   * @param value The value to look up.
   * @returns `true` when it is a member.
   *
   * @example Usage
   * ```ts
   * import { FrozenSet } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.ok(new FrozenSet(["a"]).has("a"));
   * ```
   */
  has(value: T): boolean {
    return this.items.has(value) ||
      (value === 0 && negZeroMember(this.items as Set<unknown>) !== undefined);
  }

  /**
   * Iterates over the members.
   *
   * @returns An iterator over the members.
   *
   * @example Usage
   * ```ts
   * import { FrozenSet } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual([...new FrozenSet([3, 4])], [3, 4]);
   * ```
   */
  [Symbol.iterator](): Iterator<T> {
    return this.items[Symbol.iterator]();
  }
}

function negZero(): PyFloat {
  return new PyFloat(-0);
}

/** Why unpickling failed; see {@linkcode UnpicklingError}. */
export type UnpicklingErrorReason =
  | "truncated"
  | "invalid"
  | "refused"
  | "limit";

/**
 * The `code` of an {@linkcode UnpicklingError}: `PICKLE_` and its reason
 * in capitals.
 */
export type UnpicklingErrorCode =
  | "PICKLE_TRUNCATED"
  | "PICKLE_INVALID"
  | "PICKLE_REFUSED"
  | "PICKLE_LIMIT";

/**
 * Thrown by `loads()` for any input it cannot or will not decode. It names
 * the opcode and the byte offset where decoding stopped; its `code` is
 * `PICKLE_` and its reason in capitals (`"PICKLE_REFUSED"`).
 *
 * - `"truncated"`: the input ends before the pickle does.
 * - `"invalid"`: malformed input (bad stack, bad memo index, bad UTF-8, ...).
 * - `"refused"`: an opcode or global that could execute code on the Python
 *   side (and has no meaning for plain data), refused by the safe decoder.
 * - `"limit"`: a configured limit (size, depth, memo, container length).
 *
 * @example Usage
 * ```ts
 * import { loads, UnpicklingError } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * // GLOBAL 'os system' (REDUCE would call it).
 * const evil = new TextEncoder().encode("cos\nsystem\n(S'true'\ntR.");
 * assert.throws(
 *   () => loads(evil),
 *   (e) =>
 *     e instanceof UnpicklingError && e.reason === "refused" &&
 *     e.code === "PICKLE_REFUSED" && e.opcode === "GLOBAL" && e.offset === 0,
 * );
 * ```
 */
export class UnpicklingError extends Error {
  /** The category of the failure. */
  readonly reason: UnpicklingErrorReason;
  /** The stable code of the failure (`"PICKLE_"` and the reason). */
  readonly code: UnpicklingErrorCode;
  /** Byte offset of the opcode being decoded (or of the input's end). */
  readonly offset: number;
  /** The pickletools name of that opcode, when there is one. */
  readonly opcode: string | undefined;

  /**
   * Creates an error.
   *
   * @param message The message.
   * @param reason The category of the failure.
   * @param offset The byte offset.
   * @param opcode The opcode name.
   * @param options Standard error options (`cause`).
   */
  constructor(
    message: string,
    reason: UnpicklingErrorReason,
    offset: number,
    opcode?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "UnpicklingError";
    this.reason = reason;
    this.code = `PICKLE_${reason.toUpperCase()}` as UnpicklingErrorCode;
    this.offset = offset;
    this.opcode = opcode;
  }
}
