// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Racing a promise against an `AbortSignal` and a deadline, as one helper,
 * with every listener and timer removed once it settles.
 *
 * @module
 */

import {
  type CancelTimer,
  checkDuration,
  setLongTimeout,
  timeoutError,
} from "./timers.ts";

/** What {@linkcode race} waits for besides the promise. */
export interface RaceOptions {
  /** Rejects with `signal.reason` when it aborts (at once if it has). */
  signal?: AbortSignal | undefined;
  /**
   * Milliseconds before it rejects with a `TimeoutError` `DOMException`;
   * `Infinity` or `undefined` means no limit. Checked by
   * `checkDuration`'s rules.
   */
  timeout?: number | undefined;
  /** Names what was waited for in the timeout's message. */
  what?: string | undefined;
  /**
   * Runs when the signal or the deadline wins while the promise is still
   * pending, with the promise: for example to close the resource it will
   * deliver, so nothing leaks.
   */
  onLost?: ((pending: Promise<unknown>) => void) | undefined;
}

/**
 * Settles as `p` does, unless `options.signal` aborts or `options.timeout`
 * runs out first. A losing `p` that rejects later is marked handled.
 *
 * @typeParam V The promise's value.
 * @param p The promise.
 * @param options The signal, the deadline, and what to do with a loser.
 * @returns `p`'s outcome, or the signal's reason, or a `TimeoutError`.
 */
export function race<V>(p: Promise<V>, options: RaceOptions = {}): Promise<V> {
  const { signal, timeout } = options;
  if (timeout !== undefined) checkDuration(timeout, "timeout", "wait");
  const noDeadline = timeout === undefined || timeout === Infinity;
  if (signal === undefined && noDeadline) return p;
  if (signal?.aborted) {
    lost(p, options);
    return Promise.reject(signal.reason);
  }
  return new Promise<V>((resolve, reject) => {
    let cancel: CancelTimer | undefined;
    const finish = (): void => {
      cancel?.();
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = (): void => {
      finish();
      lost(p, options);
      reject(signal!.reason);
    };
    if (!noDeadline) {
      cancel = setLongTimeout(() => {
        finish();
        lost(p, options);
        reject(timeoutError(timeout, options.what));
      }, timeout);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    p.then((v) => {
      finish();
      resolve(v);
    }, (e) => {
      finish();
      reject(e);
    });
  });
}

function lost(p: Promise<unknown>, options: RaceOptions): void {
  p.catch(() => {});
  options.onLost?.(p);
}

/**
 * {@linkcode race} for a promise of a closable resource: when the signal
 * or the deadline wins, the resource is closed as soon as it arrives.
 *
 * @typeParam V The resource.
 * @param p The promise of the resource.
 * @param options The signal and the deadline.
 * @returns The resource, or the signal's reason, or a `TimeoutError`.
 */
export function raceResource<V extends { close(): unknown }>(
  p: Promise<V>,
  options: Omit<RaceOptions, "onLost"> = {},
): Promise<V> {
  return race(p, {
    ...options,
    onLost: () => {
      p.then((r) => {
        try {
          const closing = r.close();
          if (closing instanceof Promise) closing.catch(() => {});
        } catch {
          // Already closed.
        }
      }, () => {});
    },
  });
}

/** A signal that aborts on a deadline or with a parent signal. */
export interface DeadlineSignal {
  /** Aborts with a `TimeoutError` at the deadline, or with the parent. */
  readonly signal: AbortSignal;
  /** Whether the deadline (not the parent) aborted it. */
  timedOut(): boolean;
  /** Stops the timer and detaches from the parent. */
  clear(): void;
}

/**
 * A signal that aborts with a `TimeoutError` after `ms` milliseconds, or
 * with `parent`'s reason when it aborts; `clear()` stops both.
 *
 * @param ms The deadline (any length; `Infinity` for none).
 * @param parent A signal to follow.
 * @param what Names what was waited for in the timeout's message.
 * @returns The signal and its controls.
 */
export function deadlineSignal(
  ms: number,
  parent?: AbortSignal,
  what?: string,
): DeadlineSignal {
  const controller = new AbortController();
  let timedOut = false;
  const cancel = setLongTimeout(() => {
    timedOut = true;
    controller.abort(timeoutError(ms, what));
  }, ms);
  const onAbort = (): void => controller.abort(parent!.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    clear(): void {
      cancel();
      parent?.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * Waits for `p` to settle, for at most `ms` milliseconds: a bounded wait
 * for something that may never come (a drain, a last report). Never
 * rejects; a `p` that rejects after the wait is marked handled.
 *
 * @param p What to wait for.
 * @param ms The most to wait (any length; `Infinity` waits as long as `p`
 * takes).
 * @returns Whether `p` settled within `ms`.
 */
export function settleWithin(
  p: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  checkDuration(ms, "timeout", "wait");
  const settled = p.then(() => true, () => true);
  if (ms === Infinity) return settled;
  return new Promise<boolean>((resolve) => {
    const cancel = setLongTimeout(() => resolve(false), ms);
    settled.then(() => {
      cancel();
      resolve(true);
    });
  });
}
