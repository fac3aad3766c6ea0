// Copyright 2026 the @sidecar/ipc authors. MIT license.

import { classifyAcceptError, nextBackoff } from "../_internal/accept_error.ts";
import { delay } from "../_internal/timers.ts";
import {
  acceptSocket,
  closeFd,
  EAGAIN,
  EINTR,
  errno,
  libc,
  openSocket,
  P,
  sysError,
} from "./_libc.ts";
import { poller } from "./_poller.ts";
import { SocketSessionError } from "./errors.ts";
import { SocketSessionReceiver } from "./receiver.ts";
import { encodeUnixSockaddr } from "./sockaddr.ts";
import { requireDeno } from "../_internal/deno_version.ts";

/** Options for {@linkcode SocketSessionListener.listen}. */
export interface ListenOptions {
  /** `listen()` backlog. @default {128} */
  backlog?: number;
  /** Remove an existing file at the path first (a stale socket). @default {false} */
  unlinkExisting?: boolean;
  /**
   * Called with each `accept()` failure that {@linkcode
   * SocketSessionListener.accept} survives (a `SocketSessionError` whose
   * code is the errno name): one connection's (`"ECONNABORTED"`, ...; it is
   * skipped) or the process's (`"EMFILE"`, `"ENFILE"`, `"ENOBUFS"`,
   * `"ENOMEM"`; it waits 10 ms, doubling up to 100 ms, and tries again).
   * If it throws, `accept()` rejects with what it threw.
   * @default {undefined}
   */
  onError?: (error: unknown) => void;
}

/** Options for {@linkcode SocketSessionListener.accept}. */
export interface AcceptOptions {
  /** Cancels the wait. @default {undefined} */
  signal?: AbortSignal;
}

/**
 * Listens on a Unix socket path for forwarder connections and wraps each
 * accepted one in a {@linkcode SocketSessionReceiver} (BIND 10 left this to
 * the application). Closing it removes the path it created.
 *
 * @example Usage
 * ```ts
 * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/l.sock`;
 * using listener = SocketSessionListener.listen(path);
 * await using forwarder = new SocketSessionForwarder(path);
 * forwarder.connect();
 * using receiver = await listener.accept();
 * assert.ok(receiver.fd >= 0);
 * ```
 */
export class SocketSessionListener
  implements AsyncDisposable, Disposable, AsyncIterable<SocketSessionReceiver> {
  #fd: number;
  #path: string;
  #onError: ((error: unknown) => void) | undefined;

  /**
   * Binds and listens on `path` (non-blocking, close-on-exec).
   *
   * @param path The socket path.
   * @param options Backlog and stale-path removal.
   * @throws {RangeError} When the path does not fit `sun_path`.
   * @throws {SocketSessionError} When bind or listen fails (`EADDRINUSE`, ...).
   */
  constructor(path: string, options: ListenOptions = {}) {
    requireDeno("listen for socket session forwarders");
    const addr = encodeUnixSockaddr(path);
    const cpath = new TextEncoder().encode(path + "\0");
    if (options.unlinkExisting) libc.unlink(cpath);
    const fd = openSocket(P.AF_UNIX, P.SOCK_STREAM);
    if (libc.bind(fd, addr, addr.length) < 0) {
      const err = sysError(`bind socket session listener to "${path}"`);
      closeFd(fd);
      throw err;
    }
    if (libc.listen(fd, options.backlog ?? 128) < 0) {
      const err = sysError("listen for socket session forwarders");
      closeFd(fd);
      libc.unlink(cpath);
      throw err;
    }
    this.#fd = fd;
    this.#path = path;
    this.#onError = options.onError;
  }

  /**
   * Same as `new SocketSessionListener(path, options)`.
   *
   * @param path The socket path.
   * @param options Backlog and stale-path removal.
   * @returns The listener.
   * @throws {RangeError} When the path does not fit `sun_path`.
   * @throws {SocketSessionError} When bind or listen fails (`EADDRINUSE`, ...).
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
   * assert.equal(listener.path, path);
   * ```
   */
  static listen(
    path: string,
    options: ListenOptions = {},
  ): SocketSessionListener {
    return new SocketSessionListener(path, options);
  }

  /**
   * The path listened on.
   *
   * @returns The path.
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
   * assert.ok(listener.path.endsWith("x.sock"));
   * ```
   */
  get path(): string {
    return this.#path;
  }

  /**
   * Waits for the next forwarder connection. Like the acceptors, it
   * survives `accept()` failures: one connection's are skipped, running out
   * of fds or memory backs off (10 ms, doubling up to 100 ms) and tries
   * again; each goes to `onError`.
   *
   * @param options The abort signal.
   * @returns A receiver owning the accepted connection.
   * @throws {SocketSessionError} When the listening socket is unusable
   * (`"EBADF"`, `"EINVAL"`, `"ENOTSOCK"`) or was closed (`"CLOSED"`).
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
   * await using forwarder2 = new SocketSessionForwarder(path);
   * forwarder2.connect();
   * using receiver2 = await listener.accept({ signal: AbortSignal.timeout(5000) });
   * assert.ok(receiver2.fd >= 0);
   * ```
   */
  async accept(options: AcceptOptions = {}): Promise<SocketSessionReceiver> {
    options.signal?.throwIfAborted();
    let backoff = 0;
    while (true) {
      if (this.#fd < 0) throw listenerClosed();
      const fd = acceptSocket(this.#fd, false);
      if (fd >= 0) {
        try {
          return new SocketSessionReceiver(fd);
        } catch (err) {
          // That connection could not be set up: drop it, go on.
          closeFd(fd);
          this.#onError?.(err);
          continue;
        }
      }
      const e = errno();
      if (e === EINTR) continue;
      if (e === EAGAIN) {
        await poller.wait(this.#fd, P.POLLIN, options);
        continue;
      }
      const err = sysError("accept forwarder", e);
      const next = classifyAcceptError(err.code);
      if (next === "stop") throw err;
      this.#onError?.(err);
      if (next === "backoff") {
        await delay(backoff = nextBackoff(backoff), options.signal);
      }
    }
  }

  /**
   * Yields a receiver per forwarder connection until closed.
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
   * await using forwarder2 = new SocketSessionForwarder(path);
   * forwarder2.connect();
   * for await (const r of listener) {
   *   assert.ok(r.fd >= 0);
   *   r.close();
   *   break;
   * }
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<SocketSessionReceiver> {
    while (this.#fd >= 0) {
      try {
        yield await this.accept();
      } catch (err) {
        if (err instanceof SocketSessionError && err.code === "CLOSED") return;
        throw err;
      }
    }
  }

  /**
   * Stops listening and removes the path; pending accepts reject. Closing
   * is synchronous: the promise is settled already. Idempotent.
   *
   * @returns Once closed.
   *
   * @example Usage
   * ```ts
   * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/x.sock`;
   * const listener = SocketSessionListener.listen(path);
   * await listener.close();
   * assert.throws(() => new SocketSessionForwarder(path).connect());
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
    poller.cancelAndClose(fd, listenerClosed);
    libc.unlink(new TextEncoder().encode(this.#path + "\0"));
  }

  /**
   * Same as {@linkcode SocketSessionListener.close}, synchronously (for
   * `using`).
   *
   * @example Usage
   * ```ts
   * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/x.sock`;
   * const listener = SocketSessionListener.listen(path);
   * listener[Symbol.dispose]();
   * assert.throws(() => new SocketSessionForwarder(path).connect());
   * ```
   */
  [Symbol.dispose](): void {
    this.#close();
  }

  /**
   * Same as {@linkcode SocketSessionListener.close} (for `await using`).
   *
   * @returns Once closed.
   *
   * @example Usage
   * ```ts
   * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/x.sock`;
   * const listener = SocketSessionListener.listen(path);
   * await listener[Symbol.asyncDispose]();
   * assert.throws(() => new SocketSessionForwarder(path).connect());
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function listenerClosed(): SocketSessionError {
  return new SocketSessionError(
    "CLOSED",
    "Cannot accept forwarder: the listener is closed",
  );
}
