// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The accept loop over any promise-returning `accept()` (a
 * `Deno.Listener`'s): no peer can end it. What it does with a failure is
 * {@linkcode classifyAcceptError}'s: a failure of one pending connection is
 * skipped, exhausted resources back off (10 ms, doubling to 100 ms, cut
 * short by the signal), and only an error of the listening socket itself
 * ends the loop. The owner says how failures are reported and what the
 * loop ends with.
 *
 * @module
 */
import { classifyAcceptError, nextBackoff } from "./accept_error.ts";
import { delay } from "./timers.ts";

/** What an accept loop does with its connections and failures. */
export interface AcceptLoopHooks<C> {
  /** Takes each accepted connection. */
  onConnection(conn: C): void;
  /**
   * Gets each failure the loop survives: skipped at once, or followed by
   * a back-off of `backoffMs` milliseconds.
   */
  onError(error: unknown, action: "skip" | "backoff", backoffMs: number): void;
  /** The error the loop rejects with when the listening socket failed. */
  stopError(error: unknown): unknown;
}

/**
 * Accepts until `signal` aborts (then resolves) or the listening socket
 * fails (then rejects with `hooks.stopError(error)`).
 *
 * @typeParam C What `accept()` returns.
 * @param accept The listener's `accept()`.
 * @param hooks Where connections and failures go.
 * @param signal Ends the loop (and cuts a back-off short).
 * @returns Settles when the loop ends.
 */
export async function acceptLoop<C>(
  accept: () => Promise<C>,
  hooks: AcceptLoopHooks<C>,
  signal: AbortSignal,
): Promise<void> {
  let backoff = 0;
  while (!signal.aborted) {
    let conn: C;
    try {
      conn = await accept();
    } catch (e) {
      if (signal.aborted) return;
      const action = classifyAcceptError(e);
      if (action === "stop") throw hooks.stopError(e);
      if (action === "skip") {
        hooks.onError(e, action, 0);
        continue;
      }
      backoff = nextBackoff(backoff);
      hooks.onError(e, action, backoff);
      await delay(backoff, signal).catch(() => {});
      continue;
    }
    backoff = 0;
    hooks.onConnection(conn);
  }
}
