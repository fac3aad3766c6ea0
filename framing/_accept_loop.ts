// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The accept loop of `serve()`, on any `accept()`: no peer can end it. A
 * failure of one pending connection is skipped, a resource error backs off
 * (10 ms, doubling up to 100 ms), and only an error of the listening
 * socket itself ends it, with a typed error (the classification is the
 * package's, `_internal/accept_error.ts`).
 *
 * @module
 */
import {
  acceptErrorName,
  classifyAcceptError,
  nextBackoff,
} from "../_internal/accept_error.ts";
import { delay } from "../_internal/timers.ts";
import { FramingError } from "./errors.ts";

/** The error reported for a failed `accept()`. */
export function acceptFailure(e: unknown): FramingError {
  return new FramingError(
    `Cannot accept connection: ${e instanceof Error ? e.message : String(e)}`,
    { cause: e, code: acceptErrorName(e) ?? "LISTENER_FAILED" },
  );
}

/**
 * Accepts until `signal` aborts (then resolves) or the listener fails
 * (then rejects with a {@linkcode FramingError} whose `code` is the errno
 * name).
 *
 * @param accept The listener's `accept()`.
 * @param onConn Takes each accepted connection.
 * @param report Gets each failure the loop survives.
 * @param signal Ends the loop (and cuts a back-off short).
 */
export async function acceptLoop<C>(
  accept: () => Promise<C>,
  onConn: (conn: C) => void,
  report: (error: FramingError) => void,
  signal: AbortSignal,
): Promise<void> {
  let backoff = 0;
  while (!signal.aborted) {
    let conn: C;
    try {
      conn = await accept();
      backoff = 0;
    } catch (e) {
      if (signal.aborted) return;
      const action = classifyAcceptError(e);
      const error = acceptFailure(e);
      if (action === "stop") throw error;
      report(error);
      if (action === "backoff") {
        backoff = nextBackoff(backoff);
        await delay(backoff, signal).catch(() => {});
      }
      continue;
    }
    onConn(conn);
  }
}
