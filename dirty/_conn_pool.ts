// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The connections of a `DirtyClient`: at most `max` open at once, one
 * request on each at a time; calls beyond wait for a free one (within their
 * deadline). A connection that a call left in an unknown state is closed,
 * never reused.
 *
 * @module
 */

import type { RetryOptions } from "../_internal/retry.ts";
import { DirtyConnection } from "./_connection.ts";
import type { Call } from "./_call.ts";
import { DirtyConnectionError } from "./errors.ts";
import type { DirtyMessageDecodeOptions } from "./message_decoder.ts";

interface Waiter {
  resolve(conn: DirtyConnection | null): void;
  reject(reason: unknown): void;
}

/** A client's connections. */
export class ConnectionPool {
  readonly #path: string;
  readonly #decode: DirtyMessageDecodeOptions;
  readonly #max: number;
  readonly #retry: boolean | RetryOptions | undefined;
  readonly #idle: DirtyConnection[] = [];
  readonly #busy = new Set<DirtyConnection>();
  readonly #waiters: Waiter[] = [];
  #opening = 0;
  #closed = false;

  constructor(
    path: string,
    decode: DirtyMessageDecodeOptions,
    max: number,
    retry?: boolean | RetryOptions,
  ) {
    this.#path = path;
    this.#decode = decode;
    this.#max = max;
    this.#retry = retry;
  }

  /** Open connections (idle and busy). */
  get connections(): number {
    return this.#idle.length + this.#busy.size;
  }

  async acquire(call: Call): Promise<DirtyConnection> {
    if (this.#closed) {
      throw new DirtyConnectionError("Cannot send request: client is closed");
    }
    const idle = this.#idle.pop();
    if (idle) {
      this.#busy.add(idle);
      return idle;
    }
    if (this.connections + this.#opening < this.#max) {
      this.#opening++;
      return await this.#open(call);
    }
    let waiter!: Waiter;
    const wait = new Promise<DirtyConnection | null>((resolve, reject) => {
      waiter = { resolve, reject };
    });
    this.#waiters.push(waiter);
    let got: DirtyConnection | null;
    try {
      got = await call.guard(wait);
    } catch (e) {
      const i = this.#waiters.indexOf(waiter);
      if (i >= 0) {
        this.#waiters.splice(i, 1);
      } else {
        // Already handed a slot: give it back.
        wait.then((c) => {
          if (c) {
            this.release(c, true);
          } else {
            this.#opening--;
            this.#wake();
          }
        }, () => {});
      }
      throw e;
    }
    // null: a slot was reserved for us (#opening already counts it).
    return got ?? await this.#open(call);
  }

  /** Opens a connection for a slot already counted in #opening. */
  async #open(call: Call): Promise<DirtyConnection> {
    const opening = DirtyConnection.open(
      this.#path,
      this.#decode,
      this.#retry,
      call.signal,
    );
    let conn: DirtyConnection;
    try {
      conn = await call.guard(opening);
    } catch (e) {
      opening.then((c) => c.close(), () => {});
      this.#opening--;
      this.#wake();
      throw e;
    }
    this.#opening--;
    if (this.#closed) {
      conn.close();
      throw new DirtyConnectionError("Cannot send request: client is closed");
    }
    this.#busy.add(conn);
    return conn;
  }

  /** Hands a free slot to the next waiter: an idle connection, or a reserved slot to open one. */
  #wake(): void {
    if (this.#waiters.length === 0) return;
    const idle = this.#idle.pop();
    if (idle) {
      this.#busy.add(idle);
      this.#waiters.shift()!.resolve(idle);
      return;
    }
    if (this.connections + this.#opening < this.#max) {
      this.#opening++;
      this.#waiters.shift()!.resolve(null);
    }
  }

  release(conn: DirtyConnection, reusable: boolean): void {
    this.#busy.delete(conn);
    if (!reusable || this.#closed || conn.closed || conn.pending > 0) {
      conn.close();
    } else {
      this.#idle.push(conn);
    }
    this.#wake();
  }
  /**
   * Closes the idle connections: one was found closed by the arbiter (it
   * restarted), so the others, as old or older, are likely closed too.
   */
  dropIdle(): void {
    for (const c of this.#idle.splice(0)) c.close();
    this.#wake();
  }

  /** Closes every connection; waiting calls reject. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#idle.splice(0)) c.close();
    for (const c of this.#busy) c.close();
    for (const w of this.#waiters.splice(0)) {
      w.reject(
        new DirtyConnectionError("Cannot send request: client is closed"),
      );
    }
  }
}
