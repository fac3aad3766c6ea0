// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Waiting on events in tests, with a bound so that a broken build fails
 * instead of hanging (the bound is not a timing assertion): a promise
 * within {@linkcode EVENT_TIMEOUT}, a condition polled until it holds, and
 * one turn of the event loop.
 *
 * @module
 */
import { race } from "../_internal/abort.ts";

/** How long a test waits for an event before it fails. */
export const EVENT_TIMEOUT = 20_000;

/**
 * Settles as `p` does, or rejects with a `TimeoutError` naming `what` after
 * `ms` milliseconds.
 *
 * @param p What to wait for.
 * @param what Names it in the error.
 * @param ms The bound.
 * @returns `p`'s value.
 */
export function within<T>(
  p: Promise<T>,
  what: string,
  ms: number = EVENT_TIMEOUT,
): Promise<T> {
  return race(p, { timeout: ms, what });
}

/**
 * Checks `check()` every 10 ms until it holds, for up to `ms`; throws
 * naming `what` if it never does. For states no event announces (what
 * only the kernel shows, a child's exit seen through `/proc`, a count).
 *
 * @param what Names the condition in the error.
 * @param check The condition (may be async).
 * @param ms The bound.
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms: number = EVENT_TIMEOUT,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) {
      throw new Error(`Cannot see ${what}: timed out after ${ms} ms`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Resolves after one turn of the event loop: every pending promise job and
 * I/O callback ran (not a timed wait).
 */
export function turn(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}
