// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Helpers for the `Listener` tests: collecting `onError` reports (waited
 * on with a bound, so that a broken build fails instead of hanging) and
 * reading from raw connections.
 *
 * @module
 */
import { within } from "../wait.ts";

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

/** Reads exactly `n` bytes, or fewer if the peer closes first. */
export async function readSome(conn: Deno.Conn, n: number): Promise<number> {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(buf.subarray(got));
    if (r === null) break;
    got += r;
  }
  return got;
}

/** Reads until the peer closes; returns the number of bytes read. */
export async function readToEnd(conn: Deno.Conn): Promise<number> {
  const buf = new Uint8Array(1024);
  let total = 0;
  for (let n; (n = await conn.read(buf)) !== null;) total += n;
  return total;
}
