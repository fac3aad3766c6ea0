// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * {@linkcode DirtyFloat}: a number that stays a FLOAT64 on the wire.
 *
 * @module
 */

/**
 * A float that stays a float: encodes as FLOAT64 even when its value is
 * integral, so Python receives `1.0` rather than `1`. `valueOf()` returns
 * the number, so arithmetic works (`+f`, `f * 2`).
 *
 * @example Usage
 * ```ts
 * import { DirtyFloat, encodeTlv } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeTlv(new DirtyFloat(1))[0], 0x06);
 * assert.equal(encodeTlv(1)[0], 0x05);
 * assert.equal(new DirtyFloat(1.5).valueOf() * 2, 3);
 * ```
 */
export class DirtyFloat {
  /** The number. */
  readonly value: number;

  /**
   * Wraps a number.
   *
   * @param value The float value.
   */
  constructor(value: number) {
    this.value = +value;
  }

  /**
   * The wrapped number.
   *
   * @returns The float value.
   *
   * @example Usage
   * ```ts
   * import { DirtyFloat } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new DirtyFloat(2).valueOf(), 2);
   * ```
   */
  valueOf(): number {
    return this.value;
  }

  /**
   * Text form: the number's, as for a plain number (`` `${f}` `` gives
   * `"1"`, not `"[object Object]"`).
   *
   * @returns The number as text.
   *
   * @example Usage
   * ```ts
   * import { DirtyFloat } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(`${new DirtyFloat(1)} and ${new DirtyFloat(0.5)}`, "1 and 0.5");
   * ```
   */
  toString(): string {
    return String(this.value);
  }

  /**
   * JSON form: the plain number.
   *
   * @returns The float value.
   *
   * @example Usage
   * ```ts
   * import { DirtyFloat } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(JSON.stringify({ x: new DirtyFloat(1) }), '{"x":1}');
   * ```
   */
  toJSON(): number {
    return this.value;
  }
}
