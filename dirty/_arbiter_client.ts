// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The arbiter's side of one client connection. Frames are served in order,
 * one request at a time (pipelining allowed), as gunicorn does; but the
 * socket is read all the time, so a client that goes away (its connection
 * ends, which is how our client and gunicorn's give up on a timeout or an
 * abort) cancels its running request at once. A client that shuts down
 * only its write side counts as gone too.
 *
 * Flow control: the results of a request wait in this connection's write
 * queue for the client to read them. Past `pauseSize` queued bytes the
 * request's stream is paused on its worker (its timeout stops meanwhile)
 * and resumed once the client caught up; past `maxBufferSize` (a frame
 * that arrives while the queue is not empty would take it over the bound)
 * the client is disconnected and its request cancelled. The worker and its
 * other requests carry on either way. Pipelined frames wait unread past
 * 1 MiB.
 *
 * @module
 */

import { DEFAULT_COPY_LIMIT, WriteQueue } from "../_internal/write_queue.ts";
import type { DirtyError } from "./errors.ts";
import { encodeError } from "./message_encoders.ts";
import { type RawFrame, RawFrameSplitter } from "./_frame_io.ts";
import type { DirtyMessageType } from "./header.ts";
import { forwardedRequest } from "./_request_fields.ts";
import type { Request, RequestOwner, WorkerPool } from "./_worker_pool.ts";
import type { LogFn } from "./_log.ts";

const READ_SIZE = 64 * 1024;
const MAX_PIPELINED = 1024 * 1024;

/** What a client session needs from the arbiter. */
export interface SessionHost {
  readonly pool: WorkerPool;
  readonly log: LogFn;
  /** Bytes of a request's results queued before its stream is paused. */
  readonly pauseSize: number;
  /** Most bytes of a request's results queued for a slow client. */
  readonly maxBufferSize: number;
  /** Answers a STATUS, MANAGE or STASH frame (whole reply frame). */
  answer(frame: RawFrame): Uint8Array;
  /** Whether the arbiter is closing (no new frames are served). */
  readonly closing: boolean;
}

/** One client connection. */
export class ClientSession {
  readonly #conn: Deno.UnixConn;
  readonly #host: SessionHost;
  readonly #out: WriteQueue;
  readonly #frames: RawFrame[] = [];
  #head = 0;
  #queuedBytes = 0;
  #current: Request | null = null;
  #paused = false;
  #gone = false;
  #more: (() => void) | null = null;
  /** Who waits for no request to be running (see idle()). */
  #idleWaiters: (() => void)[] = [];

  /**
   * @param conn The accepted connection.
   * @param host The arbiter.
   */
  constructor(conn: Deno.UnixConn, host: SessionHost) {
    this.#conn = conn;
    this.#host = host;
    this.#out = new WriteQueue(conn, {
      highWaterMark: host.pauseSize,
      // A worker's frame of up to this size comes as a view of its link's
      // read buffer (see WorkerLink.onFrame): this queue copies it.
      copyLimit: DEFAULT_COPY_LIMIT,
      onError: () => this.#leave("client"),
    });
  }

  /** Serves the connection until it ends; closes it. */
  async run(): Promise<void> {
    const splitter = new RawFrameSplitter();
    const buf = new Uint8Array(READ_SIZE);
    try {
      while (!this.#gone) {
        if (this.#queuedBytes > MAX_PIPELINED) {
          await new Promise<void>((r) => (this.#more = r));
          continue;
        }
        const n = await this.#conn.read(buf);
        if (n === null) break;
        splitter.split(buf.subarray(0, n), true, this.#queue);
        this.#serve();
      }
    } catch (e) {
      // Malformed input: close without a reply, as gunicorn does. It reads
      // a frame, handles it completely, then reads the next, so the frames
      // before the malformed one are served first.
      if (!this.#gone) {
        this.#host.log("debug", `Client connection error: ${String(e)}`);
        await this.#serveQueued();
      }
    }
    if (this.#current === null && !this.#out.failed) {
      // Let the last replies out.
      this.#gone = true;
      await this.#out.flush().catch(() => {});
    }
    this.#leave("client");
    this.close();
  }

  /** Queues a frame the splitter cut (a copy). */
  readonly #queue = (
    type: DirtyMessageType,
    bytes: Uint8Array<ArrayBuffer>,
  ) => {
    this.#frames.push({ type, bytes });
    this.#queuedBytes += bytes.length;
  };

  /** Serves what is queued, each request to its end, unless the client goes. */
  async #serveQueued(): Promise<void> {
    for (;;) {
      this.#serve();
      if (this.#gone || this.#host.closing || this.#current === null) return;
      await this.idle();
    }
  }

  /** Resolves when no request of this client is running. */
  idle(): Promise<void> {
    if (this.#current === null) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  /** Closes the connection (idempotent). */
  close(): void {
    this.#gone = true;
    this.#more?.();
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  /** Serves queued frames, in order, until a request is running. */
  #serve(): void {
    while (this.#current === null && this.#head < this.#frames.length) {
      if (this.#gone || this.#host.closing) return;
      const f = this.#frames[this.#head]!;
      this.#frames[this.#head++] = undefined as unknown as RawFrame;
      this.#queuedBytes -= f.bytes.length;
      if (this.#head === this.#frames.length) {
        this.#frames.length = 0;
        this.#head = 0;
      }
      if (this.#more !== null && this.#queuedBytes <= MAX_PIPELINED) {
        const more = this.#more;
        this.#more = null;
        more();
      }
      try {
        if (f.type === "request") this.#request(f);
        else this.#out.push(this.#host.answer(f));
      } catch (e) {
        this.#host.log("debug", `Client connection error: ${String(e)}`);
        this.#leave("client");
        this.close();
        return;
      }
    }
  }

  #request(f: RawFrame): void {
    const req = forwardedRequest(f.bytes);
    const clientId = f.bytes.slice(8, 16);
    const owner: RequestOwner = {
      frame: req.frame,
      clientId,
      forward: (bytes, final) => this.#forward(bytes, final),
      fail: (error) => this.#fail(clientId, error),
    };
    this.#paused = false;
    const r = this.#host.pool.request(req.appPath, req.action, owner);
    r.refusal = req.refusal;
    // Set before submitting: it may end at once (and start the next one).
    this.#current = r;
    this.#host.pool.submit(r);
  }

  #forward(bytes: Uint8Array, final: boolean): void {
    const r = this.#current;
    if (r === null || this.#gone) return;
    const out = this.#out;
    if (out.size > 0 && out.size + bytes.length > this.#host.maxBufferSize) {
      this.#host.log(
        "warn",
        `Disconnecting a client that does not read: ${
          out.size + bytes.length
        } bytes of results waiting (maxClientBufferSize ${this.#host.maxBufferSize}); its request is cancelled`,
      );
      this.#leave("overflow");
      this.close();
      return;
    }
    out.push(bytes);
    if (final) {
      this.#done();
      return;
    }
    if (out.full && !this.#paused) {
      this.#paused = true;
      this.#host.pool.pause(r);
      out.ready().then(() => {
        if (this.#current === r && this.#paused && !this.#gone) {
          this.#paused = false;
          this.#host.pool.resume(r);
        }
      }, () => {});
    }
  }

  #fail(clientId: Uint8Array, error: DirtyError): void {
    if (this.#gone) {
      this.#done();
      return;
    }
    const id = new DataView(clientId.buffer, clientId.byteOffset, 8)
      .getBigUint64(0);
    this.#out.push(encodeError(id, error));
    this.#done();
  }

  #done(): void {
    this.#current = null;
    this.#paused = false;
    this.#wakeIdle();
    this.#serve();
  }

  /** The client is gone: its running request is cancelled, the rest dropped. */
  #leave(reason: "client" | "overflow"): void {
    this.#gone = true;
    this.#frames.length = 0;
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#more?.();
    const r = this.#current;
    if (r === null) return;
    this.#current = null;
    this.#host.pool.cancel(r, reason);
    this.#out.discard(new Error("client gone"));
    this.#wakeIdle();
  }

  /** Resolves every idle() wait. */
  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    if (waiters.length === 0) return;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
