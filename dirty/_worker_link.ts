// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The arbiter's end of one worker connection (a worker has two, see
 * `_worker_protocol.ts`): a read loop that hands every whole frame to a
 * handler and never waits for anything but the socket (so heartbeats and
 * every request's frames are always read, whatever one client does), and a
 * write queue.
 *
 * @module
 */

import { DEFAULT_COPY_LIMIT, WriteQueue } from "../_internal/write_queue.ts";
import { type RawFrame, RawFrameSplitter } from "./_frame_io.ts";
import { type DirtyMessageType, MAX_MESSAGE_SIZE } from "./header.ts";

const READ_SIZE = 256 * 1024;

/** One worker connection. */
export class WorkerLink {
  readonly #conn: Deno.UnixConn;
  readonly #out: WriteQueue;
  #closed = false;
  /**
   * Receives each frame; may throw to end the link (bad input). The frame
   * object is valid only until it returns, and so are the bytes of a frame
   * of at most `DEFAULT_COPY_LIMIT` bytes (a view of the read buffer): the
   * one keeper of a worker's frame, a client's write queue, copies such a
   * frame when it is queued. A larger frame is a buffer of its own.
   */
  onFrame: (frame: RawFrame) => void = () => {};

  /**
   * @param conn The accepted connection.
   */
  constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
    this.#out = new WriteQueue(conn);
  }

  /** Queues a frame (a failed write shows as the end of the read loop). */
  send(bytes: Uint8Array): void {
    this.#out.push(bytes);
  }

  /** Resolves once what is queued is written (or the link failed). */
  flush(): Promise<void> {
    return this.#out.flush().catch(() => {});
  }

  /**
   * Reads frames until the peer closes, bad input, or `close()`.
   *
   * @returns Why the link ended.
   */
  async run(): Promise<string> {
    const splitter = new RawFrameSplitter(MAX_MESSAGE_SIZE);
    const buf = new Uint8Array(READ_SIZE);
    const frame: RawFrame = { type: "response", bytes: buf };
    const each = (
      type: DirtyMessageType,
      bytes: Uint8Array<ArrayBuffer>,
      owned: boolean,
    ) => {
      frame.type = type;
      frame.bytes = owned || bytes.length <= DEFAULT_COPY_LIMIT
        ? bytes
        : bytes.slice();
      this.onFrame(frame);
    };
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) return "it closed its connection";
        splitter.split(buf.subarray(0, n), false, each);
      }
    } catch (e) {
      if (this.#closed) return "its connection was closed";
      return `bad input on its connection: ${
        e instanceof Error ? e.message : String(e)
      }`;
    } finally {
      this.close();
    }
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out.discard(new Error("link closed"));
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}
