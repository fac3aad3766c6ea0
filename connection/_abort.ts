// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Abort-signal helpers.
 *
 * @module
 */

/** Races `p` against `signal`; removes the listener when settled. */
export function abortable<V>(
  p: Promise<V>,
  signal: AbortSignal | undefined,
): Promise<V> {
  if (signal === undefined) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<V>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** The longest delay `setTimeout` honours: a longer one fires at once. */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * `setTimeout` for any finite delay: delays over 2^31 - 1 ms (about 24.8
 * days), which `setTimeout` runs at once, are waited out in steps.
 * Returns a function that cancels it.
 */
export function setLongTimeout(fn: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout>;
  const arm = (left: number): void => {
    timer = left > MAX_DELAY
      ? setTimeout(() => arm(left - MAX_DELAY), MAX_DELAY)
      : setTimeout(fn, left);
  };
  arm(ms);
  return () => clearTimeout(timer);
}

/**
 * A signal that aborts with a `TimeoutError` after `ms`, or when `parent`
 * aborts; `clear()` stops the timer.
 */
export function timeoutSignal(
  ms: number,
  parent: AbortSignal | undefined,
): { signal: AbortSignal; timedOut(): boolean; clear(): void } {
  const controller = new AbortController();
  let timedOut = false;
  const cancel = ms === Infinity ? undefined : setLongTimeout(() => {
    timedOut = true;
    controller.abort(
      new DOMException(`Timed out after ${ms} ms`, "TimeoutError"),
    );
  }, ms);
  const onAbort = (): void => controller.abort(parent!.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    clear(): void {
      cancel?.();
      parent?.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * Like {@linkcode abortable} for a promise of a closable resource: if the
 * signal wins, the resource is closed when it arrives, so nothing leaks.
 */
export function abortableResource<V extends { close(): void }>(
  p: Promise<V>,
  signal: AbortSignal | undefined,
): Promise<V> {
  if (signal === undefined) return p;
  return abortable(p, signal).catch((e) => {
    if (signal.aborted && e === signal.reason) {
      p.then((r) => {
        try {
          r.close();
        } catch {
          // Already closed.
        }
      }, () => {});
    }
    throw e;
  });
}
