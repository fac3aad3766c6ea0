// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * One Unix stream connection to a dirty arbiter: whole-frame writes and a
 * frame reader over the push decoder. Aborting closes the socket, which is
 * the only way to interrupt a pending read in Deno.
 *
 * @module
 */

import { requireDeno } from "../_internal/deno_version.ts";
import { connectWithRetry, type RetryOptions } from "../_internal/retry.ts";
import { DirtyConnectionError, DirtyProtocolError } from "./errors.ts";
import type { DirtyFrame } from "./message.ts";
import {
  type DirtyMessageDecodeOptions,
  DirtyMessageDecoder,
} from "./message_decoder.ts";

const READ_SIZE = 64 * 1024;

/** A single connection; not safe for concurrent requests (the pool ensures that). */
export class DirtyConnection {
  readonly #conn: Deno.Conn;
  readonly #decoder: DirtyMessageDecoder;
  readonly #queue: DirtyFrame[] = [];
  #buf = new Uint8Array(READ_SIZE);
  #closed = false;
  #sent = 0;

  constructor(conn: Deno.Conn, options: DirtyMessageDecodeOptions) {
    this.#conn = conn;
    this.#decoder = new DirtyMessageDecoder(options);
  }

  /**
   * Connects; with `retry`, waits while the socket does not exist yet or
   * nobody listens on it (an arbiter still starting or restarting).
   * `signal` (the call's) stops the wait.
   */
  static async open(
    path: string,
    options: DirtyMessageDecodeOptions,
    retry?: boolean | RetryOptions,
    signal?: AbortSignal,
  ): Promise<DirtyConnection> {
    requireDeno("connect to dirty arbiter");
    try {
      const conn = await connectWithRetry<Deno.Conn>(
        () => Deno.connect({ transport: "unix", path }),
        retry,
        "connect to dirty arbiter",
        { signal },
      );
      return new DirtyConnection(conn, options);
    } catch (cause) {
      // A missing Deno permission, and the call's own end (its deadline or
      // signal), are the caller's to see as they are.
      if (cause instanceof Deno.errors.NotCapable) throw cause;
      if (signal?.aborted && cause === signal.reason) throw cause;
      const text = cause instanceof Error ? cause.message : String(cause);
      throw new DirtyConnectionError(
        `Failed to connect to dirty arbiter: ${text}`,
        path,
        {
          cause,
        },
      );
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Frames already decoded but not yet read (non-zero means the peer sent extra frames). */
  get pending(): number {
    return this.#queue.length + this.#decoder.buffered;
  }

  /** Bytes written on this connection so far. */
  get sent(): number {
    return this.#sent;
  }

  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) {
      const n = await this.#conn.write(bytes.subarray(off));
      off += n;
      this.#sent += n;
    }
  }

  async readFrame(): Promise<DirtyFrame> {
    const frame = await this.readFrameOrEnd();
    if (frame === null) throw new DirtyProtocolError("Connection closed");
    return frame;
  }

  /** The next frame, or `null` when the peer closed between frames. */
  async readFrameOrEnd(): Promise<DirtyFrame | null> {
    while (this.#queue.length === 0) {
      const n = await this.#conn.read(this.#buf);
      if (n === null) {
        // Throws on a frame cut short.
        if (this.#decoder.buffered !== 0) this.#decoder.finish();
        return null;
      }
      for (const f of this.#decoder.push(this.#buf.subarray(0, n))) {
        this.#queue.push(f);
      }
    }
    return this.#queue.shift()!;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime.
    }
  }
}
