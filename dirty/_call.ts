// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * One call of a `DirtyClient`: its deadline (any length, from
 * `_internal/timers.ts`), the caller's signal, and the connection it uses,
 * closed when the call fails so no stale frame reaches the next call.
 *
 * @module
 */

import { race } from "../_internal/abort.ts";
import {
  type CancelTimer,
  checkDuration,
  setLongTimeout,
} from "../_internal/timers.ts";
import type { DirtyConnection } from "./_connection.ts";
import { DirtyTimeoutError } from "./errors.ts";

/** Per-call options (see `DirtyCallOptions` in `client.ts`). */
export interface CallOptions {
  signal?: AbortSignal;
  timeout?: number;
}

/** Tracks one call: its deadline, the caller's signal, the connection in use. */
export class Call {
  readonly #signal: AbortSignal | undefined;
  readonly #cancelTimer: CancelTimer;
  #conn: DirtyConnection | null = null;
  #onFail: ((conn: DirtyConnection) => void) | null = null;
  #reason: unknown = undefined;
  #onAbort = (): void => this.#fail(this.#signal!.reason);
  #controller: AbortController | null = null;

  constructor(options: CallOptions, defaultTimeout: number) {
    this.#signal = options.signal;
    const timeoutMs = options.timeout === undefined
      ? defaultTimeout
      : checkDuration(options.timeout, "timeout", "call dirty app");
    this.#signal?.throwIfAborted();
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    // Any length works: a delay over 2^31 - 1 ms is waited out in steps.
    this.#cancelTimer = setLongTimeout(() => {
      this.#fail(
        new DirtyTimeoutError(
          "Timeout waiting for dirty app response",
          timeoutMs / 1000,
        ),
      );
    }, timeoutMs);
  }

  get failed(): boolean {
    return this.#reason !== undefined;
  }

  /** Aborts with the call's reason when it fails (deadline, caller's signal). */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /**
   * Like {@linkcode Call.guard}, and fails the call if `p` takes longer
   * than `idleMs` (when given).
   */
  async guardIdle<T>(p: Promise<T>, idleMs: number | undefined): Promise<T> {
    if (idleMs === undefined || idleMs === Infinity) {
      return await this.guard(p);
    }
    const cancel = setLongTimeout(() => {
      this.#fail(
        new DirtyTimeoutError(
          `Timeout waiting for next chunk (idle ${idleMs / 1000}s)`,
          idleMs / 1000,
        ),
      );
    }, idleMs);
    try {
      return await this.guard(p);
    } finally {
      cancel();
    }
  }

  #fail(reason: unknown): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
    if (this.#conn) {
      this.#conn.close();
      this.#onFail?.(this.#conn);
    }
  }

  /** Records the connection in use; a failure closes it and hands it back via `onFail`. */
  attach(conn: DirtyConnection, onFail: (conn: DirtyConnection) => void): void {
    this.#conn = conn;
    this.#onFail = onFail;
    if (this.#reason !== undefined) {
      conn.close();
      onFail(conn);
    }
  }

  /** Races `p` against the call's abort/timeout; errors after a failure become its reason. */
  async guard<T>(p: Promise<T>): Promise<T> {
    if (this.#reason !== undefined) {
      p.catch(() => {});
      throw this.#reason;
    }
    try {
      return await race(p, { signal: this.signal });
    } catch (e) {
      p.catch(() => {});
      throw this.#reason ?? e;
    }
  }

  dispose(): void {
    this.#cancelTimer();
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}
