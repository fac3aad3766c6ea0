// Copyright 2026 the @sidecar/ipc authors. MIT license.

import { race, settleWithin } from "../_internal/abort.ts";
import { checkDuration } from "../_internal/timers.ts";
import {
  closeFd,
  EAGAIN,
  EBADF,
  getIntOption,
  libc,
  openSocket,
  P,
  setIntOption,
  sysError,
} from "./_libc.ts";
import { MsgIo } from "./_msg_io.ts";
import { poller } from "./_poller.ts";
import { SendQueue } from "./_send_queue.ts";
import {
  SessionsLostError,
  SocketSessionError,
  WouldBlockError,
} from "./errors.ts";
import {
  MAX_SESSION_WIRE_SIZE,
  type OutgoingSession,
  writeSessionWire,
} from "./_session_wire.ts";
import { SOCKET_SESSION_BUFSIZE } from "./session_header.ts";
import { encodeUnixSockaddr } from "./sockaddr.ts";
import { requireDeno } from "../_internal/deno_version.ts";

export type { OutgoingSession } from "./_session_wire.ts";

/** Options for the {@linkcode SocketSessionForwarder} constructor. */
export interface SocketSessionForwarderOptions {
  /**
   * Most sessions that {@linkcode SocketSessionForwarder.send} keeps queued
   * in memory while the receiver is not reading (each holds a copy of its
   * bytes, up to 65.8 KB). Past it, `send()` waits for room before
   * queueing, in call order, so producers get backpressure. (A waiting
   * `send()` keeps its own copy too: producers that await each `send()`,
   * or bound how many they start, bound the memory.)
   * @default {256}
   */
  maxQueued?: number;
  /**
   * Milliseconds that {@linkcode SocketSessionForwarder.close} waits for
   * the receiver to take the sessions still queued (and the tail of a
   * `push()`ed session the kernel cut) before it gives them up and rejects
   * with {@linkcode SessionsLostError}. `Infinity` waits without a limit.
   * @default {10000}
   */
  closeTimeout?: number;
}

/** Options for {@linkcode SocketSessionForwarder.send}. */
export interface SendOptions {
  /** Cancels the wait. @default {undefined} */
  signal?: AbortSignal;
}

/** Options for {@linkcode SocketSessionForwarder.flush}. */
export interface FlushOptions {
  /** Cancels the wait (the sessions stay queued). @default {undefined} */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait; on expiry it rejects with a `SocketSessionError`
   * of code `"TIMEOUT"` (the sessions stay queued). @default {Infinity}
   */
  timeout?: number;
}

/**
 * Forwards socket sessions to a `SocketSessionReceiver` (ours, or BIND 10 /
 * Kea's) listening on a Unix socket path. Each session goes out in one
 * `sendmsg` (dummy byte, header and data, with the fd attached): the same
 * bytes as BIND 10's two writes, but all or nothing.
 *
 * Every session that `push()` or `send()` accepted is written whole before
 * the connection closes: `close()` (and `await using`) first waits, up to
 * `closeTimeout`, for the receiver to take what is still queued, and
 * rejects with {@linkcode SessionsLostError} if some could not go out.
 *
 * @example Usage
 * ```ts
 * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/s.sock`;
 * using listener = SocketSessionListener.listen(path);
 * await using forwarder = new SocketSessionForwarder(path);
 * forwarder.connect();
 * using receiver = await listener.accept();
 * forwarder.push({
 *   fd: 0, // any fd: the receiver gets its own copy
 *   type: 2,
 *   protocol: 17,
 *   local: { hostname: "127.0.0.1", port: 53 },
 *   remote: { hostname: "192.0.2.2", port: 5300 },
 *   data: new TextEncoder().encode("hello"),
 * });
 * using session = await receiver.pop();
 * assert.equal(session.remote.hostname, "192.0.2.2");
 * assert.equal(new TextDecoder().decode(session.data), "hello");
 * ```
 */
export class SocketSessionForwarder implements AsyncDisposable {
  #path: string;
  #addr: Uint8Array<ArrayBuffer>;
  #queue: SendQueue;
  #io: MsgIo | null = null;
  #closeTimeout: number;
  #closing: Promise<void> | null = null;

  /**
   * Creates a forwarder for `path`; does not connect.
   *
   * @param path The receiver's Unix socket path (at most 107 bytes on Linux).
   * @param options The queue bound and the close timeout.
   * @throws {RangeError} When the path does not fit `sun_path`, `maxQueued`
   * is not a positive integer, or `closeTimeout` is negative or NaN.
   */
  constructor(path: string, options: SocketSessionForwarderOptions = {}) {
    const max = options.maxQueued ?? 256;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(
        `Cannot create forwarder: maxQueued ${max} is not a positive integer`,
      );
    }
    this.#closeTimeout = checkDuration(
      options.closeTimeout ?? 10000,
      "closeTimeout",
      "create forwarder",
    );
    this.#path = path;
    this.#addr = encodeUnixSockaddr(path);
    this.#queue = new SendQueue(max);
  }

  /**
   * Sessions queued in memory (not yet wholly handed to the kernel): at
   * most `maxQueued`. `send()`s waiting for room are not counted.
   *
   * @returns The count.
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
   * await forwarder.send({
   *   fd: 0,
   *   type: 2,
   *   protocol: 17,
   *   local: { hostname: "127.0.0.1", port: 53 },
   *   remote: { hostname: "192.0.2.2", port: 5300 },
   *   data: new Uint8Array([1]),
   * });
   * assert.equal(forwarder.queued, 0);
   * ```
   */
  get queued(): number {
    return this.#queue.queued;
  }

  /**
   * The receiver path.
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
   * assert.equal(forwarder.path, path);
   * ```
   */
  get path(): string {
    return this.#path;
  }

  /**
   * Whether {@linkcode SocketSessionForwarder.connect} succeeded and
   * {@linkcode SocketSessionForwarder.close} was not called since.
   *
   * @returns The state.
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
   * assert.ok(forwarder.connected);
   * await forwarder.close();
   * assert.ok(!forwarder.connected);
   * ```
   */
  get connected(): boolean {
    return this.#queue.sock >= 0 && this.#closing === null;
  }

  /**
   * Connects to the receiver (non-blocking, close-on-exec; raises
   * `SO_SNDBUF` to 131634 if it is smaller). A closed forwarder may connect
   * again.
   *
   * @throws {TypeError} When already connected (or still closing).
   * @throws {SocketSessionError} When the socket cannot be created or connected
   * (`ENOENT`, `ECONNREFUSED`, `EAGAIN` for a full backlog, ...).
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
   * assert.throws(() => forwarder.connect(), TypeError);
   * ```
   */
  connect(): void {
    requireDeno("connect forwarder");
    if (this.#queue.sock >= 0) {
      throw new TypeError("Cannot connect forwarder: it is already connected");
    }
    const fd = openSocket(P.AF_UNIX, P.SOCK_STREAM);
    try {
      if (
        getIntOption(fd, P.SOL_SOCKET, P.SO_SNDBUF) < SOCKET_SESSION_BUFSIZE
      ) {
        setIntOption(fd, P.SOL_SOCKET, P.SO_SNDBUF, SOCKET_SESSION_BUFSIZE);
      }
      if (libc.connect(fd, this.#addr, this.#addr.length) < 0) {
        throw sysError(`connect to socket session receiver "${this.#path}"`);
      }
    } catch (err) {
      closeFd(fd);
      throw err;
    }
    this.#io ??= new MsgIo(MAX_SESSION_WIRE_SIZE);
    this.#queue.open(fd, this.#io);
  }

  #check(action: string): void {
    if (this.#queue.sock < 0 || this.#closing !== null) {
      throw new TypeError(
        `Cannot ${action} socket session: the forwarder is ${
          this.#closing === null ? "not connected" : "closing"
        }`,
      );
    }
    const broken = this.#queue.broken;
    if (broken) {
      throw new SocketSessionError(
        "BROKEN",
        `Cannot ${action} socket session: the stream is broken, reconnect`,
        { cause: broken },
      );
    }
  }

  /**
   * One `sendmsg` of the encoded session: returns the bytes written, or
   * throws for anything but "would block" (-1) and a partial write.
   */
  #sendNow(length: number, fd: number, action: string): number {
    const n = this.#queue.write(0, length, fd);
    if (n >= 0) return n;
    if (n === -EAGAIN) return -1;
    if (n === -EBADF) {
      // Nothing was sent: the stream is intact.
      throw new TypeError(
        `Cannot ${action} socket session: fd ${fd} is not open`,
      );
    }
    throw this.#queue.fail(sysError(`${action} socket session`, -n));
  }

  /**
   * Forwards a session now, without waiting, in one `sendmsg`: the
   * session is sent whole or not at all, except that Linux may cut a
   * session above about 32 KiB after its fd and first bytes went out. Such
   * a session is committed: its tail is finished in the background (before
   * `close()` closes the connection), and later pushes throw
   * {@linkcode WouldBlockError} until it is out.
   *
   * @param session The session.
   * @throws {TypeError} When not connected, for a bad family or endpoints,
   * or an fd that is not open (nothing is sent then).
   * @throws {RangeError} When the data is empty or longer than 65535 bytes.
   * @throws {WouldBlockError} When the receiver is not reading: nothing was sent.
   * @throws {SocketSessionError} On any other failure (`EPIPE`, ...); the
   * forwarder is then broken until `close()` and `connect()`.
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
   * using got = await receiver.pop();
   * assert.deepEqual([...got.data], [1, 2, 3]);
   * ```
   */
  push(session: OutgoingSession): void {
    this.#check("push");
    const length = writeSessionWire(session, this.#io!.buffer);
    if (this.#queue.busy) throw new WouldBlockError(EAGAIN);
    const n = this.#sendNow(length, session.fd, "push");
    if (n === length) return;
    if (n < 0) throw new WouldBlockError(EAGAIN);
    // A large session was cut by the kernel after its fd went out: it is
    // committed. The queue finishes the tail; later pushes throw
    // WouldBlockError until it is out (a failure breaks the stream).
    this.#queue.enqueueTail(this.#io!.buffer.slice(n, length));
  }

  /**
   * Forwards a session, waiting while the receiver is slow and completing
   * partial writes; sessions go out in call order. At most `maxQueued`
   * sessions are queued: past that, `send()` first waits for room.
   *
   * If `signal` aborts before any byte of this session was written (while
   * it waits for room, or in the queue), the session is dropped and the
   * stream stays usable; after that, the forwarder is broken.
   *
   * The forwarder never closes `session.fd`: keep it open until the
   * returned promise settles (the fd is attached when the session is
   * written). Whether it resolves or rejects (abort, `close()`, a failure),
   * the caller still owns the fd and closes it.
   *
   * @param session The session.
   * @param options The abort signal.
   * @returns When the whole session was handed to the kernel.
   * @throws {TypeError} When not connected, or for a bad family or endpoints.
   * @throws {RangeError} When the data is empty or longer than 65535 bytes.
   * @throws {SocketSessionError} On a socket failure.
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
   * await forwarder.send(session, { signal: AbortSignal.timeout(5000) });
   * using got = await receiver.pop();
   * assert.equal(got.remote.port, 5300);
   * ```
   */
  send(session: OutgoingSession, options: SendOptions = {}): Promise<void> {
    try {
      options.signal?.throwIfAborted();
      this.#check("forward");
      const length = writeSessionWire(session, this.#io!.buffer);
      let n = 0;
      if (!this.#queue.busy) {
        // Nothing ahead of it: try at once, as push() does.
        n = this.#sendNow(length, session.fd, "forward");
        if (n === length) return Promise.resolve();
        if (n < 0) n = 0;
      }
      return this.#queue.enqueue(
        this.#io!.buffer.slice(0, length),
        n,
        session.fd,
        options.signal,
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Waits until every session accepted so far (by `push()` or `send()`)
   * was handed to the kernel whole.
   *
   * @param options Abort signal and timeout (the sessions stay queued).
   * @returns When they went out.
   * @throws {SessionsLostError} When some of them could not (the stream
   * broke, or the forwarder was closed): `lost` counts them.
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
   * for (let i = 0; i < 3; i++) void forwarder.send(session);
   * await forwarder.flush({ timeout: 5000 });
   * assert.equal(forwarder.queued, 0);
   * ```
   */
  async flush(options: FlushOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    if (options.timeout !== undefined) {
      checkDuration(options.timeout, "timeout", "flush forwarder");
    }
    const watch = this.#queue.watch();
    let lost: number;
    try {
      lost = await race(watch.done, {
        signal: options.signal,
        timeout: options.timeout,
      });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw new SocketSessionError(
        "TIMEOUT",
        `Cannot flush forwarder: timed out after ${options.timeout} ms`,
        { cause: err },
      );
    } finally {
      watch.cancel();
    }
    if (lost > 0) {
      throw new SessionsLostError(
        lost,
        `Cannot flush forwarder: ${lost} session${
          lost === 1 ? " was" : "s were"
        } not sent`,
        { cause: watch.cause() },
      );
    }
  }

  /**
   * Closes the connection, after every session that `push()` or `send()`
   * accepted went out: it waits up to `closeTimeout` for the receiver to
   * take what is queued (a `push()`ed session's tail included). New
   * sessions are refused meanwhile. What could not go out is dropped (its
   * `send()` rejects) and `close()` rejects with
   * {@linkcode SessionsLostError}, whose `lost` counts those sessions; the
   * connection is closed either way. Idempotent: a second call returns the
   * same promise. The callers' fds stay with them.
   *
   * @returns Once closed.
   * @throws {SessionsLostError} When accepted sessions were not sent.
   *
   * @example Usage
   * ```ts
   * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const path = `${await Deno.makeTempDir()}/x.sock`;
   * using listener = SocketSessionListener.listen(path);
   * const forwarder = new SocketSessionForwarder(path, { closeTimeout: 5000 });
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
   * assert.throws(() => forwarder.push(session), TypeError);
   * using got = await receiver.pop();
   * assert.equal(got.data.length, 3);
   * ```
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    if (this.#queue.sock < 0) return Promise.resolve();
    const closing = this.#close().finally(() => {
      this.#closing = null;
    });
    this.#closing = closing;
    return closing;
  }

  async #close(): Promise<void> {
    const queue = this.#queue;
    const watch = queue.watch();
    const timedOut = !await settleWithin(watch.done, this.#closeTimeout);
    watch.cancel();
    const reason = new SocketSessionError(
      "CLOSED",
      timedOut
        ? `Cannot forward socket session: the forwarder closed after waiting ${this.#closeTimeout} ms for the receiver`
        : "Cannot forward socket session: the forwarder was closed",
    );
    const sock = queue.sock;
    const abandoned = queue.abandon(reason);
    poller.cancelAndClose(sock, () => reason);
    const lost = watch.failed() + abandoned + queue.takeSilentLosses();
    if (lost > 0) {
      throw new SessionsLostError(
        lost,
        `Cannot close forwarder cleanly: ${lost} session${
          lost === 1 ? " was" : "s were"
        } not sent`,
        { cause: watch.cause() ?? reason },
      );
    }
  }

  /**
   * Same as {@linkcode SocketSessionForwarder.close} (for `await using`).
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
   * using receiver = await listener.accept();
   * await forwarder[Symbol.asyncDispose]();
   * assert.equal(forwarder.connected, false);
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
