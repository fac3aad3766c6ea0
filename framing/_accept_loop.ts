// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The accept loop of `serve()`, on any `accept()`: no peer can end it. A
 * failure of one pending connection is skipped, a resource error backs off
 * (10 ms, doubling up to 100 ms), and only an error of the listening
 * socket itself ends it, with a typed error (the loop is the package's,
 * `_internal/accept_loop.ts`; this file makes its errors `FramingError`s).
 *
 * @module
 */
import { acceptErrorName } from "../_internal/accept_error.ts";
import { acceptLoop as loop } from "../_internal/accept_loop.ts";
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
export function acceptLoop<C>(
  accept: () => Promise<C>,
  onConn: (conn: C) => void,
  report: (error: FramingError) => void,
  signal: AbortSignal,
): Promise<void> {
  return loop(accept, {
    onConnection: onConn,
    onError: (e) => report(acceptFailure(e)),
    stopError: acceptFailure,
  }, signal);
}
