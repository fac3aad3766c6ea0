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
  const timer = ms === Infinity ? undefined : setTimeout(() => {
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
      clearTimeout(timer);
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
