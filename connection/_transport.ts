// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The minimal byte transport a Connection runs on: `Deno.Conn` directly
 * (the fast path), or a readable/writable byte stream pair.
 *
 * @module
 */

import type { ByteStreamPair } from "./connection_options.ts";
import { ConnectionError } from "./errors.ts";

/** Read/write/close, as `Deno.Conn` offers them. */
export interface ByteTransport {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/**
 * The {@linkcode ConnectionError} for a failed read or write: its `code` is
 * the system error's errno name (Deno's errors carry one as `code`), or
 * `"TRANSPORT_FAILED"`.
 */
export function transportError(
  action: "send" | "receive",
  cause: unknown,
): ConnectionError {
  const errno = (cause as { code?: unknown } | null)?.code;
  return new ConnectionError(`Cannot ${action}: transport failed`, {
    cause,
    code: typeof errno === "string" && /^E[A-Z0-9]+$/.test(errno)
      ? errno
      : "TRANSPORT_FAILED",
  });
}

/** Closes `t`, which may already be closed (by the peer side or the runtime). */
export function closeTransport(t: ByteTransport): void {
  try {
    t.close();
  } catch {
    // Already closed.
  }
}

/**
 * Closes `t` without flushing: a stream pair's writable is aborted with
 * `reason`, a `Deno.Conn` is closed.
 */
export function dropTransport(t: ByteTransport, reason: unknown): void {
  if (t instanceof StreamTransport) t.abort(reason);
  else closeTransport(t);
}

/** Whether `x` looks like a `Deno.Conn` (has read, write and close). */
export function isDenoConn(x: unknown): x is Deno.Conn {
  const c = x as Partial<Deno.Conn>;
  return typeof c?.read === "function" && typeof c?.write === "function" &&
    typeof c?.close === "function";
}

/** Adapts a stream pair to {@linkcode ByteTransport}. */
export class StreamTransport implements ByteTransport {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #left: Uint8Array | null = null;
  #closed = false;
  /** Rejects the write in progress (one at a time, as Connection writes). */
  #rejectWrite: ((e: unknown) => void) | null = null;

  constructor(pair: ByteStreamPair) {
    this.#reader = pair.readable.getReader();
    this.#writer = pair.writable.getWriter();
  }

  async read(p: Uint8Array): Promise<number | null> {
    let chunk = this.#left;
    this.#left = null;
    while (chunk === null || chunk.length === 0) {
      if (this.#closed) {
        throw new Deno.errors.BadResource("Cannot read: transport is closed");
      }
      const r = await this.#reader.read();
      if (r.done) return null;
      chunk = r.value;
    }
    const n = Math.min(p.length, chunk.length);
    p.set(chunk.subarray(0, n), 0);
    if (n < chunk.length) this.#left = chunk.subarray(n);
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#closed) {
      return Promise.reject(
        new Deno.errors.BadResource("Cannot write: transport is closed"),
      );
    }
    const n = p.length;
    return new Promise<number>((resolve, reject) => {
      // abort() rejects a write the stream holds back (backpressure).
      this.#rejectWrite = reject;
      // The caller reuses its buffers: hand the stream a copy it owns.
      this.#writer.write(p.slice()).then(() => {
        this.#rejectWrite = null;
        resolve(n);
      }, (e) => {
        this.#rejectWrite = null;
        reject(e);
      });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer.close().catch(() => {});
    this.#reader.cancel().catch(() => {});
  }

  /**
   * Closes without flushing: chunks the stream has not passed on are
   * dropped, and a write it holds back (backpressure) rejects at once.
   */
  abort(reason: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rejectWrite?.(
      new Deno.errors.BadResource("Cannot write: transport was aborted"),
    );
    this.#writer.abort(reason).catch(() => {});
    this.#reader.cancel(reason).catch(() => {});
  }
}
