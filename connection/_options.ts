// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Checks of the numeric options shared by `Connection`, `connect()` and
 * `Listener`, run before any socket is opened.
 *
 * @module
 */

import { checkDuration } from "../_internal/timers.ts";

/** The numeric options a connection and its handshake take. */
export interface NumericOptions {
  maxMessageSize?: number;
  writeHighWaterMark?: number;
  handshakeTimeout?: number;
  closeTimeout?: number;
}

/**
 * Throws a `RangeError` when a size or timeout is negative or NaN: a
 * negative or NaN high-water mark would make every large send wait
 * forever, a NaN timeout would fail every handshake at once. Sizes say
 * `Cannot <action>: invalid <name> <value>`; durations are checked by
 * `_internal/timers.ts`'s `checkDuration`, as in every module.
 */
export function checkNumericOptions(
  options: NumericOptions,
  action: string,
): void {
  for (const name of ["maxMessageSize", "writeHighWaterMark"] as const) {
    const value = options[name];
    if (value !== undefined && !(value >= 0)) {
      throw new RangeError(`Cannot ${action}: invalid ${name} ${value}`);
    }
  }
  for (const name of ["handshakeTimeout", "closeTimeout"] as const) {
    const value = options[name];
    if (value !== undefined) checkDuration(value, name, action);
  }
}
