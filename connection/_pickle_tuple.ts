// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// Tuple, with the pickler's memo stamp: a tuple remembers the memo index
// the running pickle gave it, so that the pickler finds repeated tuples
// without a Map lookup per tuple (CPython looks every object up in its
// memo; a Map of tuples cost a third of the time of pickling records).

/**
 * The memo index that pickle number `pickle` gave `t`, or -1 when that
 * pickle has not memoized it.
 */
export let memoIndexOf: (
  t: Tuple<readonly unknown[]>,
  pickle: number,
) => number;
/** Records that pickle number `pickle` memoized `t` at `index`. */
export let stampMemoIndex: (
  t: Tuple<readonly unknown[]>,
  pickle: number,
  index: number,
) => void;

/**
 * A Python `tuple`. Python tells tuples and lists apart, JavaScript does not,
 * so tuples travel in this wrapper. It is iterable, so destructuring works.
 * The array passed in is used as is (not copied).
 *
 * @typeParam T The item types.
 *
 * @example Usage
 * ```ts
 * import { dumps, loads, Tuple } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const message = loads(dumps(new Tuple(["#RETURN", 42])));
 * assert.ok(message instanceof Tuple);
 * const [kind, value] = message;
 * assert.equal(kind, "#RETURN");
 * assert.equal(value, 42);
 * ```
 */
export class Tuple<T extends readonly unknown[] = unknown[]>
  implements Iterable<T[number]> {
  /** The items, in order. */
  readonly items: T;
  // The pickler's memo stamp: the pickle (by number) that memoized this
  // tuple, and its memo index there. Private: invisible to users, to
  // deepEqual and to structuredClone.
  #pickle = 0;
  #memoIndex = 0;

  static {
    memoIndexOf = (t, pickle) => t.#pickle === pickle ? t.#memoIndex : -1;
    stampMemoIndex = (t, pickle, index) => {
      t.#pickle = pickle;
      t.#memoIndex = index;
    };
  }

  /**
   * Wraps `items` as a tuple.
   *
   * @param items The items of the tuple.
   */
  constructor(items: T) {
    this.items = items;
  }

  /**
   * The number of items.
   *
   * @returns The tuple's length.
   *
   * @example Usage
   * ```ts
   * import { Tuple } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Tuple([1, 2, 3]).length, 3);
   * ```
   */
  get length(): number {
    return this.items.length;
  }

  /**
   * Iterates over the items.
   *
   * @returns An iterator over the items.
   *
   * @example Usage
   * ```ts
   * import { Tuple } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual([...new Tuple(["a", "b"])], ["a", "b"]);
   * ```
   */
  [Symbol.iterator](): Iterator<T[number]> {
    return this.items[Symbol.iterator]();
  }
}
