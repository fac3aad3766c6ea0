// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Helpers for the `Listener` tests: collecting `onError` reports and
 * waiting on events with a bound, so that a broken build fails instead of
 * hanging (the bound is not a timing assertion).
 *
 * @module
 */

/** How long a test waits for an event before it fails. */
export const EVENT_TIMEOUT = 20_000;

/** Resolves with `p`, or rejects naming `what` after {@linkcode EVENT_TIMEOUT}. */
export function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Cannot see ${what}: timed out`)),
      EVENT_TIMEOUT,
    );
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Collects `onError` reports; `next()` waits for the next unread one. */
export class Reports {
  /** Every report, in order. */
  readonly seen: unknown[] = [];
  #read = 0;
  #wake: (() => void) | null = null;
  /** The hook to pass as `onError`. */
  push = (e: unknown): void => {
    this.seen.push(e);
    this.#wake?.();
  };
  /** The next report not returned yet. */
  async next(): Promise<unknown> {
    while (this.#read === this.seen.length) {
      await within(
        new Promise<void>((r) => this.#wake = r),
        `onError report #${this.#read + 1}`,
      );
    }
    return this.seen[this.#read++];
  }
}
