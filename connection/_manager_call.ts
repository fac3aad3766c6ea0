// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// The call a ManagerServer is serving, for the methods it calls: set for
// the synchronous start of each method (as CPython's server sets the
// serving thread), read by callSignal().

let current: AbortSignal | undefined;

/** Runs `fn` with `signal` as the current call's signal. */
export function withCallSignal<R>(signal: AbortSignal, fn: () => R): R {
  const outer = current;
  current = signal;
  try {
    return fn();
  } finally {
    current = outer;
  }
}

/** The signal of the call whose method is starting, if any. */
export function currentCallSignal(): AbortSignal | undefined {
  return current;
}
