// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Waiting for a condition in the session tests, without timing assertions:
 * the wait only bounds how long a broken build takes to fail.
 *
 * @module
 */

/** Checks `check()` every 5 ms for up to 10 s; throws naming `what` if it never holds. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`Cannot see ${what}: timed out`);
}
