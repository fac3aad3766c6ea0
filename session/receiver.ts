// Copyright 2026 the @sidecar/ipc authors. MIT license.

import {
  closeFd,
  EAGAIN,
  EINTR,
  MsgIo,
  P,
  setIntOption,
  setNonBlocking,
  sysError,
} from "./_libc.ts";
import { poller } from "./_poller.ts";
import { SocketSessionError } from "./errors.ts";
import { SessionDecoder } from "./session_decoder.ts";
import {
  MAX_DATA_SIZE,
  MAX_HEADER_LENGTH,
  SOCKET_SESSION_BUFSIZE,
} from "./session_header.ts";
import { SocketSession } from "./socket_session.ts";

/** Options for {@linkcode SocketSessionReceiver.pop}. */
export interface PopOptions {
  /** Cancels the wait; it rejects with `signal.reason`. @default {undefined} */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait for the whole session; on expiry it rejects with
   * a `SocketSessionError` of code `"TIMEOUT"`. @default {undefined}
   */
  timeout?: number;
}

const END = Symbol("end");

/**
 * Receives socket sessions on an accepted Unix stream connection from a
 * `SocketSessionForwarder` (ours, or BIND 10 / Kea's). Every read is a
 * non-blocking `recvmsg` of exactly the bytes the current step needs, with
 * a control buffer, so fds are never lost or mismatched; waiting goes
 * through the process's one shared poller.
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
 * using forwarder = new SocketSessionForwarder(path);
 * forwarder.connect();
 * using receiver = await listener.accept();
 * const session = { fd: 0, type: 1, protocol: 6, local: { hostname: "::1", port: 53 }, remote: { hostname: "::1", port: 4000 } };
 * forwarder.push({ ...session, data: new Uint8Array([1]) });
 * forwarder.push({ ...session, data: new Uint8Array([2]) });
 * forwarder.close();
 * const seen = [];
 * for await (const s of receiver) {
 *   seen.push(s.data[0]);
 *   s.close();
 * }
 * assert.deepEqual(seen, [1, 2]);
 * ```
 */
export class SocketSessionReceiver
  implements Disposable, AsyncIterable<SocketSession> {
  #fd: number;
  #io = new MsgIo(Math.max(MAX_DATA_SIZE, MAX_HEADER_LENGTH));
  #decoder = new SessionDecoder();
  #pendingFd = -1;
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
   * using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * assert.ok(receiver.fd >= 0);
   * ```
   */
  get fd(): number {
    return this.#fd;
  }

  #fail(err: unknown): never {
    closeFd(this.#pendingFd);
    this.#pendingFd = -1;
    this.#error = err;
    throw err;
  }

  #closeAll(fds: number[]): void {
    for (const fd of fds) closeFd(fd);
  }

  /**
   * Reads what is available without waiting.
   *
   * @returns A session, `null` when more bytes are needed, or END at a clean end of stream.
   */
  #step(): SocketSession | null | typeof END {
    if (this.#ended) return END;
    if (this.#error !== null) throw this.#error;
    if (this.#fd < 0) {
      throw new TypeError(
        "Cannot receive socket session: the receiver is closed",
      );
    }
    const io = this.#io;
    while (true) {
      const phase = this.#decoder.phase;
      // At a session start, read the dummy byte and the 2-byte header length
      // together: every session is longer than 3 bytes, so this never
      // reaches into the next one (and Linux stops a read right after the
      // segment that carries fds, so Kea's separate fd byte comes alone).
      const want = phase === "marker" ? 3 : this.#decoder.needed;
      const n = io.recv(this.#fd, want);
      if (n === -EAGAIN) return null;
      if (n === -EINTR) continue;
      if (n < 0) this.#fail(sysError("receive socket session", -n));
      const fds = io.fds;
      if (phase === "marker") {
        if (n === 0) {
          this.#ended = true;
          this.#error = new SocketSessionError(
            "ECONNRESET",
            "Cannot receive socket session: the forwarder closed",
          );
          return END;
        }
        if ((io.flags & P.MSG_CTRUNC) !== 0) {
          this.#closeAll(fds);
          this.#fail(
            new SocketSessionError(
              "CONTROL_TRUNCATED",
              "Cannot receive socket session: too many fds",
            ),
          );
        }
        if (fds.length !== 1) {
          this.#closeAll(fds);
          this.#fail(
            fds.length === 0
              ? new SocketSessionError(
                "NO_FD",
                "Cannot receive socket session: no fd forwarded",
              )
              : new SocketSessionError(
                "EXTRA_FDS",
                `Cannot receive socket session: ${fds.length} fds forwarded, expected 1`,
              ),
          );
        }
        this.#pendingFd = fds[0]!;
      } else {
        if (fds.length > 0 || (io.flags & P.MSG_CTRUNC) !== 0) {
          this.#closeAll(fds);
          this.#fail(
            new SocketSessionError(
              "EXTRA_FDS",
              `Cannot receive socket session: fd inside the session (${phase})`,
            ),
          );
        }
        if (n === 0) {
          this.#fail(
            new SocketSessionError(
              "INCOMPLETE",
              `Cannot receive socket session: incomplete data from forwarder at ${this.#decoder.progress}`,
            ),
          );
        }
      }
      let decoded;
      try {
        if (phase === "marker" && n > 1) {
          this.#decoder.feed(io.buffer.subarray(0, 1));
          decoded = this.#decoder.feed(io.buffer.subarray(1, n));
        } else {
          decoded = this.#decoder.feed(io.buffer.subarray(0, n));
        }
      } catch (err) {
        this.#fail(err);
      }
      if (decoded) {
        const fd = this.#pendingFd;
        this.#pendingFd = -1;
        return new SocketSession({
          fd,
          family: decoded.family,
          type: decoded.type,
          protocol: decoded.protocol,
          localRaw: decoded.local,
          remoteRaw: decoded.remote,
          data: decoded.data,
        });
      }
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
   * using forwarder = new SocketSessionForwarder(path);
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
   * using forwarder = new SocketSessionForwarder(path);
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
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(options.signal!.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const timer = options.timeout === undefined ? undefined : setTimeout(
      () =>
        controller.abort(
          new SocketSessionError(
            "TIMEOUT",
            `Cannot receive socket session: timed out after ${options.timeout} ms`,
          ),
        ),
      options.timeout,
    );
    try {
      while (true) {
        const r = this.#step();
        if (r !== null) return r;
        const fd = this.#fd;
        try {
          await poller.wait(fd, P.POLLIN, { signal: controller.signal });
        } catch (err) {
          if (this.#fd >= 0 && !this.#decoder.atBoundary) this.#fail(err);
          throw err;
        }
      }
    } finally {
      this.#popping = false;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
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
   * using forwarder = new SocketSessionForwarder(path);
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
   * forwarder.close();
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
      const r = await this.#pop({});
      if (r === END) return;
      yield r;
    }
  }

  /**
   * Closes the connection and any half-received fd; pending pops reject. Idempotent.
   *
   * @example Usage
   * ```ts
   * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/x.sock`;
   * using listener = SocketSessionListener.listen(path);
   * using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * receiver.close();
   * assert.equal(receiver.fd, -1);
   * ```
   */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeFd(this.#pendingFd);
    this.#pendingFd = -1;
    poller.cancelAndClose(
      fd,
      new SocketSessionError(
        "CLOSED",
        "Cannot receive socket session: the receiver was closed",
      ),
    );
  }

  /**
   * Same as {@linkcode SocketSessionReceiver.close}.
   *
   * @example Usage
   * ```ts
   * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/x.sock`;
   * using listener = SocketSessionListener.listen(path);
   * using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * receiver[Symbol.dispose]();
   * assert.equal(receiver.fd, -1);
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }
}
