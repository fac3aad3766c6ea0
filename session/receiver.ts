// Copyright 2026 the @sidecar/ipc authors. MIT license.

import { deadlineSignal } from "../_internal/abort.ts";
import { checkDuration } from "../_internal/timers.ts";
import {
  closeFd,
  EAGAIN,
  EINTR,
  P,
  setIntOption,
  setNonBlocking,
  sysError,
} from "./_libc.ts";
import { RecvBatch } from "./_msg_io.ts";
import { poller } from "./_poller.ts";
import { END, MAX_SESSION_BYTES, SessionStream } from "./_session_stream.ts";
import { SocketSessionError } from "./errors.ts";
import { SOCKET_SESSION_BUFSIZE } from "./session_header.ts";
import { SocketSession } from "./socket_session.ts";
import { requireDeno } from "../_internal/deno_version.ts";

/** Options for {@linkcode SocketSessionReceiver.pop}. */
export interface PopOptions {
  /** Cancels the wait; it rejects with `signal.reason`. @default {undefined} */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait for the whole session; on expiry it rejects with
   * a `SocketSessionError` of code `"TIMEOUT"`. `Infinity` waits without a
   * limit; a negative or NaN value is a `RangeError`. @default {Infinity}
   */
  timeout?: number;
}

/** Bytes one batch of reads may take (about 1000 small sessions). */
const READ_ROOM = 128 * 1024;

/**
 * Receives socket sessions on an accepted Unix stream connection from a
 * `SocketSessionForwarder` (ours, or BIND 10 / Kea's). It takes every
 * session that is ready in one non-blocking `recvmmsg` (up to 32 reads,
 * each with its own control buffer, so every fd stays with the bytes it
 * came with) and hands them out one `pop()` at a time; it reads ahead at
 * most one such batch. Waiting goes through the process's one shared
 * poller.
 *
 * It validates every header like BIND 10, and also: closes every fd that
 * is not the session's (a message with several fds is an error, and none of
 * them leaks), rejects an fd in the middle of a session and a truncated
 * control message, and receives fds close-on-exec. After any error the
 * receiver is broken (pops reject) and the half-received fd is closed.
 *
 * @example Usage
 * ```ts
 * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/r.sock`;
 * using listener = SocketSessionListener.listen(path);
 * await using forwarder = new SocketSessionForwarder(path);
 * forwarder.connect();
 * using receiver = await listener.accept();
 * const session = { fd: 0, type: 1, protocol: 6, local: { hostname: "::1", port: 53 }, remote: { hostname: "::1", port: 4000 } };
 * forwarder.push({ ...session, data: new Uint8Array([1]) });
 * forwarder.push({ ...session, data: new Uint8Array([2]) });
 * await forwarder.close();
 * const seen = [];
 * for await (const s of receiver) {
 *   seen.push(s.data[0]);
 *   s.close();
 * }
 * assert.deepEqual(seen, [1, 2]);
 * ```
 */
export class SocketSessionReceiver
  implements AsyncDisposable, Disposable, AsyncIterable<SocketSession> {
  #fd: number;
  #stream = new SessionStream(MAX_SESSION_BYTES + READ_ROOM);
  #batch = new RecvBatch(this.#stream, READ_ROOM);
  /** Sessions read ahead (one batch at most), in order; they own their fds. */
  #ready: SocketSession[] = [];
  #error: unknown = null;
  #popping = false;
  #ended = false;

  /**
   * Wraps an accepted Unix stream socket; the receiver owns it from now on
   * (made non-blocking, `SO_RCVBUF` set to 131634 like BIND 10).
   *
   * @param fd The connected socket's fd.
   */
  constructor(fd: number) {
    requireDeno("create socket session receiver");
    this.#fd = fd;
    setNonBlocking(fd);
    setIntOption(fd, P.SOL_SOCKET, P.SO_RCVBUF, SOCKET_SESSION_BUFSIZE);
  }

  /**
   * The connection's fd (-1 once closed).
   *
   * @returns The fd.
   *
   * @example Usage
   * ```ts
   * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/x.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * assert.ok(receiver.fd >= 0);
   * ```
   */
  get fd(): number {
    return this.#fd;
  }

  /** Breaks the receiver: closes every fd of a half-received session. */
  #fail(err: unknown): void {
    for (const fd of this.#stream.releaseFds()) closeFd(fd);
    this.#error ??= err;
  }

  /**
   * Reads every session that is ready (one `recvmmsg`), without waiting.
   *
   * @returns Whether anything was read.
   */
  #fill(): boolean {
    let n: number;
    do n = this.#batch.read(this.#fd); while (n === -EINTR);
    if (n === -EAGAIN) return false;
    if (n < 0) {
      this.#fail(sysError("receive socket session", -n));
      return true;
    }
    while (true) {
      let r;
      try {
        r = this.#stream.next();
      } catch (err) {
        this.#fail(err);
        return true;
      }
      if (r === null) return true;
      if (r === END) {
        this.#ended = true;
        this.#error = new SocketSessionError(
          "ECONNRESET",
          "Cannot receive socket session: the forwarder closed",
        );
        return true;
      }
      this.#ready.push(
        new SocketSession({
          fd: r.fd,
          family: r.family,
          type: r.type,
          protocol: r.protocol,
          localRaw: r.local,
          remoteRaw: r.remote,
          data: r.data,
        }),
      );
    }
  }

  /**
   * The next session if one has arrived, without waiting.
   *
   * @returns A session, `null` when more bytes are needed, or END at a clean end of stream.
   */
  #step(): SocketSession | null | typeof END {
    while (true) {
      const ready = this.#ready.shift();
      if (ready !== undefined) return ready;
      if (this.#ended) return END;
      if (this.#error !== null) throw this.#error;
      if (this.#fd < 0) {
        throw new TypeError(
          "Cannot receive socket session: the receiver is closed",
        );
      }
      if (!this.#fill()) return null;
    }
  }

  /**
   * Returns a session if one has fully arrived, without waiting.
   *
   * @returns The session, or `null`.
   * @throws {SocketSessionError} On a protocol or socket error, or `"ECONNRESET"` at end of stream.
   *
   * @example Usage
   * ```ts
   * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/x.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * assert.equal(receiver.tryPop(), null);
   * ```
   */
  tryPop(): SocketSession | null {
    const r = this.#step();
    if (r === END) throw this.#error;
    return r;
  }

  /**
   * Waits for the next session.
   *
   * @param options Abort signal and timeout. A timeout or abort between
   * sessions leaves the receiver usable; in the middle of one it breaks it
   * (and closes that session's fd).
   * @returns The session; the caller owns its fd.
   * @throws {SocketSessionError} On a protocol or socket error, `"TIMEOUT"`,
   * or `"ECONNRESET"` when the forwarder closed between sessions.
   *
   * @example Usage
   * ```ts
   * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/x.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * const session = {
   *   fd: 0,
   *   type: 2,
   *   protocol: 17,
   *   local: { hostname: "127.0.0.1", port: 53 },
   *   remote: { hostname: "192.0.2.2", port: 5300 },
   *   data: new Uint8Array([1, 2, 3]),
   * };
   * forwarder.push(session);
   * using got = await receiver.pop({ timeout: 5000 });
   * assert.equal(got.type, 2);
   * ```
   */
  async pop(options: PopOptions = {}): Promise<SocketSession> {
    options.signal?.throwIfAborted();
    if (options.timeout !== undefined) {
      checkDuration(options.timeout, "timeout", "pop socket session");
    }
    // Fast path: a session read ahead by an earlier batch.
    const r = this.#popping ? null : this.#step();
    if (r === null) return await this.#popSlow(options);
    if (r === END) throw this.#error;
    return r;
  }

  async #popSlow(options: PopOptions): Promise<SocketSession> {
    const r = await this.#pop(options);
    if (r === END) throw this.#error;
    return r;
  }

  async #pop(options: PopOptions): Promise<SocketSession | typeof END> {
    options.signal?.throwIfAborted();
    if (this.#popping) {
      throw new TypeError("Cannot pop socket session: another pop is pending");
    }
    this.#popping = true;
    // Without a limit or a signal (the iterator), no deadline to keep.
    const deadline =
      options.signal === undefined && (options.timeout ?? Infinity) === Infinity
        ? null
        : deadlineSignal(options.timeout ?? Infinity, options.signal);
    try {
      while (true) {
        const r = this.#step();
        if (r !== null) return r;
        const fd = this.#fd;
        try {
          await poller.wait(fd, P.POLLIN, { signal: deadline?.signal });
        } catch (err) {
          const reason = deadline?.timedOut()
            ? new SocketSessionError(
              "TIMEOUT",
              `Cannot receive socket session: timed out after ${options.timeout} ms`,
            )
            : err;
          if (this.#fd >= 0 && !this.#stream.atBoundary) this.#fail(reason);
          throw reason;
        }
      }
    } finally {
      this.#popping = false;
      deadline?.clear();
    }
  }

  /**
   * Yields sessions until the forwarder closes between two sessions.
   *
   * @returns The iterator.
   *
   * @example Usage
   * ```ts
   * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/x.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * const session = {
   *   fd: 0,
   *   type: 2,
   *   protocol: 17,
   *   local: { hostname: "127.0.0.1", port: 53 },
   *   remote: { hostname: "192.0.2.2", port: 5300 },
   *   data: new Uint8Array([1, 2, 3]),
   * };
   * forwarder.push(session);
   * await forwarder.close();
   * let count = 0;
   * for await (const s of receiver) {
   *   count++;
   *   s.close();
   * }
   * assert.equal(count, 1);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<SocketSession> {
    while (true) {
      // A session read ahead needs no wait.
      const r = (this.#popping ? null : this.#step()) ?? await this.#pop({});
      if (r === END) return;
      yield r;
    }
  }

  /**
   * Closes the connection, any half-received session's fd and the fds of
   * sessions read ahead but not popped; pending pops reject. Closing is
   * synchronous: the promise is settled already. Idempotent.
   *
   * @returns Once closed.
   *
   * @example Usage
   * ```ts
   * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/x.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * const receiver = await listener.accept();
   * await receiver.close();
   * assert.equal(receiver.fd, -1);
   * ```
   */
  close(): Promise<void> {
    this.#close();
    return Promise.resolve();
  }

  #close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    for (const pending of this.#stream.releaseFds()) closeFd(pending);
    for (const session of this.#ready.splice(0)) session.close();
    poller.cancelAndClose(
      fd,
      () =>
        new SocketSessionError(
          "CLOSED",
          "Cannot receive socket session: the receiver was closed",
        ),
    );
  }

  /**
   * Same as {@linkcode SocketSessionReceiver.close}, synchronously (for
   * `using`).
   *
   * @example Usage
   * ```ts
   * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/x.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * const receiver = await listener.accept();
   * receiver[Symbol.dispose]();
   * assert.equal(receiver.fd, -1);
   * ```
   */
  [Symbol.dispose](): void {
    this.#close();
  }

  /**
   * Same as {@linkcode SocketSessionReceiver.close} (for `await using`).
   *
   * @returns Once closed.
   *
   * @example Usage
   * ```ts
   * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/x.sock`;
   * using listener = SocketSessionListener.listen(path);
   * await using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * const receiver = await listener.accept();
   * await receiver[Symbol.asyncDispose]();
   * assert.equal(receiver.fd, -1);
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
