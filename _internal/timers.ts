// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Durations and timers, the same way in every module: milliseconds, any
 * length (a delay over 2^31 - 1 ms, which `setTimeout` would run at once,
 * is waited out in steps), `Infinity` meaning no limit, and negative or NaN
 * values refused with a `RangeError`.
 *
 * @module
 */

/** The longest delay `setTimeout` honours; a longer one fires at once. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * Checks a duration option: a number of milliseconds, `0` or more, finite
 * or `Infinity` (no limit).
 *
 * @param value The option's value.
 * @param name The option's name, for the message.
 * @param action What was being done, for the message ("create client").
 * @returns `value`.
 * @throws {RangeError} `value` is not a number, negative, or NaN.
 */
export function checkDuration(
  value: number,
  name: string,
  action: string,
): number {
  if (typeof value !== "number" || !(value >= 0)) {
    throw new RangeError(
      `Cannot ${action}: ${name} must be a number of milliseconds >= 0 or Infinity, got ${
        String(value)
      }`,
    );
  }
  return value;
}

/** Cancels a timer; calling it again, or after the timer ran, does nothing. */
export type CancelTimer = () => void;

const NOOP: CancelTimer = () => {};

/**
 * `setTimeout` for any duration: `Infinity` never fires, a delay over
 * 2^31 - 1 ms is waited out in steps, and a fraction or negative zero
 * behaves as `setTimeout` does.
 *
 * @param fn What to run.
 * @param ms The delay in milliseconds (checked with {@linkcode checkDuration}).
 * @returns A function that cancels the timer.
 */
export function setLongTimeout(fn: () => void, ms: number): CancelTimer {
  checkDuration(ms, "delay", "set timer");
  if (ms === Infinity) return NOOP;
  let timer: ReturnType<typeof setTimeout>;
  const arm = (left: number): void => {
    timer = left > MAX_TIMER_DELAY
      ? setTimeout(() => arm(left - MAX_TIMER_DELAY), MAX_TIMER_DELAY)
      : setTimeout(fn, left);
  };
  arm(ms);
  return () => clearTimeout(timer);
}

/**
 * Resolves after `ms` milliseconds, or rejects with `signal.reason` when
 * `signal` aborts first (at once if it already has).
 *
 * @param ms The delay (any length; `Infinity` waits for the signal only).
 * @param signal Cuts the wait short.
 * @returns Resolves after the delay.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  checkDuration(ms, "delay", "wait");
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      cancel();
      reject(signal!.reason);
    };
    const cancel = setLongTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The `DOMException` named `TimeoutError` that every wait in the package
 * rejects with when its time runs out (as `AbortSignal.timeout()` does).
 *
 * @param ms The limit that ran out.
 * @param what What was waited for ("the handshake"), for the message.
 * @returns The error.
 */
export function timeoutError(ms: number, what?: string): DOMException {
  return new DOMException(
    what === undefined
      ? `Timed out after ${ms} ms`
      : `Timed out after ${ms} ms waiting for ${what}`,
    "TimeoutError",
  );
}
