// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The arbiter's accept loop (its client socket and its workers' socket):
 * it survives any peer. A failure that belongs to one pending connection
 * (a client that reset or aborted before it was accepted: `ENOTCONN`,
 * `ECONNRESET`, `ECONNABORTED`, `EPROTO` …) is skipped and reported;
 * exhausted resources (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`, anything
 * unexpected) back off 10 ms, doubling to 100 ms; only an error of the
 * listening socket itself ends the loop, with a
 * {@linkcode DirtyListenerError}. The loop is `_internal/accept_loop.ts`'s;
 * this file says what is logged and what the loop ends with.
 *
 * @module
 */

import { acceptLoop as loop } from "../_internal/accept_loop.ts";
import { DirtyListenerError } from "./errors.ts";
import type { LogFn } from "./_log.ts";

/** What the loop needs. */
export interface AcceptLoopOptions<C extends Deno.Conn> {
  /** Names the connections in log lines ("client", "worker"). */
  what: string;
  /** Where skipped and backed-off failures are reported. */
  log: LogFn;
  /** Takes each accepted connection. */
  onConnection(conn: C): void;
  /** Aborted when the owner closes the listener: the loop ends quietly. */
  signal: AbortSignal;
}

function text(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Accepts connections until `signal` aborts (resolves) or the listener
 * fails for good (rejects with a {@linkcode DirtyListenerError}).
 *
 * @param listener The listening socket.
 * @param options Where connections and reports go, and the stop signal.
 * @returns Settles when the loop ends.
 */
export function acceptLoop<C extends Deno.Conn>(
  listener: Deno.Listener<C>,
  options: AcceptLoopOptions<C>,
): Promise<void> {
  const { what, log } = options;
  return loop(() => listener.accept(), {
    onConnection: options.onConnection,
    onError(e, action, backoff) {
      if (action === "skip") {
        log(
          "info",
          `Skipped a ${what} connection that failed before it was accepted: ${
            text(e)
          }`,
        );
      } else {
        log(
          "warn",
          `Cannot accept ${what} connections for now: ${
            text(e)
          }; retrying in ${backoff} ms`,
        );
      }
    },
    stopError: (e) =>
      new DirtyListenerError(`Cannot accept ${what} connections: ${text(e)}`, {
        cause: e,
      }),
  }, options.signal);
}
