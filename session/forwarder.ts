// Copyright 2026 the @sidecar/ipc authors. MIT license.

import {
  closeFd,
  EAGAIN,
  EBADF,
  EINTR,
  getIntOption,
  libc,
  MsgIo,
  openSocket,
  P,
  setIntOption,
  sysError,
} from "./_libc.ts";
import { poller } from "./_poller.ts";
import { SocketSessionError, WouldBlockError } from "./errors.ts";
import {
  encodeSessionHeader,
  MAX_DATA_SIZE,
  MAX_HEADER_LENGTH,
  SOCKET_SESSION_BUFSIZE,
} from "./session_header.ts";
import {
  encodeSockaddr,
  encodeUnixSockaddr,
  sockaddrFamily,
  type SocketAddress,
} from "./sockaddr.ts";

/** A session to forward. */
export interface OutgoingSession {
  /** The socket fd to pass; the caller keeps its own copy and closes it when it likes. */
  fd: number;
  /** Address family; defaults to the local endpoint's. @default {undefined} */
  family?: number;
  /** Socket type (`SOCK_STREAM` 1, `SOCK_DGRAM` 2). */
  type: number;
  /** Protocol (`IPPROTO_TCP` 6, `IPPROTO_UDP` 17). */
  protocol: number;
  /** Local endpoint: an address or a raw sockaddr image. */
  local: SocketAddress | Uint8Array;
  /** Remote endpoint: an address or a raw sockaddr image. */
  remote: SocketAddress | Uint8Array;
  /** The data already read (1..65535 bytes). */
  data: Uint8Array;
}

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
}

/** Options for {@linkcode SocketSessionForwarder.send}. */
export interface SendOptions {
  /** Cancels the wait. @default {undefined} */
  signal?: AbortSignal;
}

interface Pending {
  buf: Uint8Array;
  sent: number;
  fd: number;
  settle: (e?: unknown) => void;
}

const WIRE_MAX = 1 + 2 + MAX_HEADER_LENGTH + MAX_DATA_SIZE;

/**
 * Forwards socket sessions to a `SocketSessionReceiver` (ours, or BIND 10 /
 * Kea's) listening on a Unix socket path. Each session goes out in one
 * `sendmsg` (dummy byte, header and data, with the fd attached): the same
 * bytes as BIND 10's two writes, but all or nothing.
 *
 * @example Usage
 * ```ts
 * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/s.sock`;
 * using listener = SocketSessionListener.listen(path);
 * using forwarder = new SocketSessionForwarder(path);
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
export class SocketSessionForwarder implements Disposable {
  #path: string;
  #addr: Uint8Array<ArrayBuffer>;
  #fd = -1;
  #broken: SocketSessionError | null = null;
  #io: MsgIo | null = null;
  #queue: Pending[] = [];
  /** `send()`s waiting for room in the queue, in call order. */
  #waiting: Pending[] = [];
  #maxQueued: number;
  #draining = false;

  /**
   * Creates a forwarder for `path`; does not connect.
   *
   * @param path The receiver's Unix socket path (at most 107 bytes on Linux).
   * @param options The queue bound.
   * @throws {RangeError} When the path does not fit `sun_path`, or
   * `maxQueued` is not a positive integer.
   */
  constructor(path: string, options: SocketSessionForwarderOptions = {}) {
    const max = options.maxQueued ?? 256;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(
        `Cannot create forwarder: maxQueued ${max} is not a positive integer`,
      );
    }
    this.#path = path;
    this.#addr = encodeUnixSockaddr(path);
    this.#maxQueued = max;
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
   * const path = `${await Deno.makeTempDir()}/q.sock`;
   * using listener = SocketSessionListener.listen(path);
   * using forwarder = new SocketSessionForwarder(path, { maxQueued: 8 });
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
    return this.#queue.length;
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
   * using forwarder = new SocketSessionForwarder(path);
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
   * using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * assert.ok(forwarder.connected);
   * forwarder.close();
   * assert.ok(!forwarder.connected);
   * ```
   */
  get connected(): boolean {
    return this.#fd >= 0;
  }

  /**
   * Connects to the receiver (non-blocking, close-on-exec; raises
   * `SO_SNDBUF` to 131634 if it is smaller). A closed forwarder may connect
   * again.
   *
   * @throws {TypeError} When already connected.
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
   * using forwarder = new SocketSessionForwarder(path);
   * forwarder.connect();
   * using receiver = await listener.accept();
   * assert.throws(() => forwarder.connect(), TypeError);
   * ```
   */
  connect(): void {
    if (this.#fd >= 0) {
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
    this.#fd = fd;
    this.#broken = null;
    this.#io ??= new MsgIo(WIRE_MAX);
  }

  #check(): void {
    if (this.#fd < 0) {
      throw new TypeError(
        "Cannot push socket session: the forwarder is not connected",
      );
    }
    if (this.#broken) {
      throw new SocketSessionError(
        "BROKEN",
        "Cannot push socket session: the stream is broken, reconnect",
        {
          cause: this.#broken,
        },
      );
    }
  }

  #encode(session: OutgoingSession): Uint8Array<ArrayBuffer> {
    const local = session.local instanceof Uint8Array
      ? session.local
      : encodeSockaddr(session.local);
    const remote = session.remote instanceof Uint8Array
      ? session.remote
      : encodeSockaddr(session.remote);
    const header = encodeSessionHeader({
      family: session.family ?? sockaddrFamily(local),
      type: session.type,
      protocol: session.protocol,
      local,
      remote,
      dataLength: session.data.length,
    });
    if (!Number.isInteger(session.fd) || session.fd < 0) {
      throw new TypeError(
        `Cannot push socket session: fd ${session.fd} is not a file descriptor`,
      );
    }
    const wire = this.#io!.buffer;
    wire[0] = 0;
    wire.set(header, 1);
    wire.set(session.data, 1 + header.length);
    return wire.subarray(0, 1 + header.length + session.data.length);
  }

  #fail(err: SocketSessionError): SocketSessionError {
    this.#broken = err;
    return err;
  }

  /**
   * Forwards a session now, without waiting, in one `sendmsg`: the
   * session is sent whole or not at all, except that Linux may cut a
   * session above about 32 KiB after its fd and first bytes went out. Such
   * a session is committed: its tail is finished in the background, and
   * later pushes throw {@linkcode WouldBlockError} until it is out.
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
   * using got = await receiver.pop();
   * assert.deepEqual([...got.data], [1, 2, 3]);
   * ```
   */
  push(session: OutgoingSession): void {
    this.#check();
    const wire = this.#encode(session);
    if (this.#queue.length > 0 || this.#waiting.length > 0) {
      throw new WouldBlockError(EAGAIN);
    }
    let n: number;
    do n = this.#io!.send(this.#fd, 0, wire.length, session.fd); while (
      n === -EINTR
    );
    if (n === wire.length) return;
    if (n === -EAGAIN) throw new WouldBlockError(EAGAIN);
    if (n === -EBADF) {
      // Nothing was sent: the stream is intact.
      throw new TypeError(
        `Cannot push socket session: fd ${session.fd} is not open`,
      );
    }
    if (n < 0) throw this.#fail(sysError("forward socket session", -n));
    // A large session was cut by the kernel after its fd went out: it is
    // committed. Keep the tail and finish it in the background; later pushes
    // throw WouldBlockError until it is out (a failure breaks the stream).
    const tail: Pending = {
      buf: wire.slice(n),
      sent: 0,
      fd: -1,
      settle: (e?: unknown) => {
        if (
          e !== undefined && this.#broken === null &&
          e instanceof SocketSessionError
        ) this.#fail(e);
      },
    };
    this.#queue.push(tail);
    this.#kick();
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
   * await forwarder.send(session, { signal: AbortSignal.timeout(5000) });
   * using got = await receiver.pop();
   * assert.equal(got.remote.port, 5300);
   * ```
   */
  async send(
    session: OutgoingSession,
    options: SendOptions = {},
  ): Promise<void> {
    const signal = options.signal;
    signal?.throwIfAborted();
    this.#check();
    const item: Pending = {
      buf: this.#encode(session).slice(),
      sent: 0,
      fd: session.fd,
      settle: () => {},
    };
    if (this.#queue.length < this.#maxQueued && this.#waiting.length === 0) {
      this.#queue.push(item);
    } else {
      this.#waiting.push(item);
    }
    const done = new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        if (item.sent === 0) {
          const w = this.#waiting.indexOf(item);
          if (w >= 0) this.#waiting.splice(w, 1);
          const i = this.#queue.indexOf(item);
          if (i >= 0) {
            this.#queue.splice(i, 1);
            this.#admit();
            this.#kick();
          }
        } else if (item.sent < item.buf.length) {
          this.#fail(
            new SocketSessionError(
              "BROKEN",
              "Cannot forward socket session: aborted halfway",
            ),
          );
        }
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      item.settle = (e?: unknown) => {
        signal?.removeEventListener("abort", onAbort);
        if (e === undefined) resolve();
        else reject(e);
      };
    });
    this.#kick();
    await done;
  }

  /** Moves waiting `send()`s into the queue while there is room. */
  #admit(): void {
    while (
      this.#waiting.length > 0 && this.#queue.length < this.#maxQueued
    ) {
      this.#queue.push(this.#waiting.shift()!);
    }
  }

  /** Removes the head of the queue and lets a waiting `send()` in. */
  #dequeue(): void {
    this.#queue.shift();
    this.#admit();
  }

  #kick(): void {
    // The flag is cleared synchronously when the loop ends, so a session
    // queued right after always finds a running drain or starts one.
    if (this.#draining) return;
    this.#draining = true;
    this.#drain().finally(() => {
      if (this.#queue.length > 0) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    try {
      await this.#drainLoop();
    } finally {
      this.#draining = false;
    }
  }

  async #drainLoop(): Promise<void> {
    // Only called by #drain; the loop below returns synchronously once the
    // queue is empty, and #kick() re-checks the queue afterwards.
    while (this.#queue.length > 0) {
      const item = this.#queue[0]!;
      // (close() empties the queue, so the fd is open here.)
      if (this.#broken) {
        this.#dequeue();
        item.settle(this.#broken);
        continue;
      }
      const io = this.#io!;
      const rest = item.buf.length - item.sent;
      io.buffer.set(item.buf.subarray(item.sent), 0);
      const n = io.send(this.#fd, 0, rest, item.sent === 0 ? item.fd : -1);
      if (n > 0 && item.fd >= 0) item.fd = -1;
      if (n === -EINTR) continue;
      if (n === -EAGAIN) {
        try {
          const fd = this.#fd;
          await poller.wait(fd, P.POLLOUT);
        } catch (err) {
          // Closed while waiting (close() already settled the queue), or
          // poll() failed. The item may be gone already (an aborted send).
          // A session cut halfway leaves the stream out of step: broken.
          if (item.sent > 0 && this.#broken === null) {
            this.#fail(
              new SocketSessionError(
                "BROKEN",
                "Cannot forward socket session: the wait to write its rest failed",
                { bytesWritten: item.sent, cause: err },
              ),
            );
          }
          const i = this.#queue.indexOf(item);
          if (i >= 0) {
            this.#queue.splice(i, 1);
            this.#admit();
            item.settle(err);
          }
        }
        continue;
      }
      if (n === -EBADF && item.sent === 0) {
        this.#dequeue();
        item.settle(
          new TypeError(
            `Cannot forward socket session: fd ${item.fd} is not open`,
          ),
        );
        continue;
      }
      if (n < 0) {
        this.#dequeue();
        item.settle(
          this.#fail(sysError("forward socket session", -n, item.sent)),
        );
        continue;
      }
      item.sent += n;
      if (item.sent === item.buf.length) {
        this.#dequeue();
        item.settle();
      }
    }
  }

  /**
   * Closes the connection; pending `send()`s (queued or waiting for room)
   * reject, and their fds stay with their callers. Idempotent.
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
   * forwarder.close();
   * assert.throws(() => forwarder.push(session), TypeError);
   * ```
   */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    const closed = new TypeError(
      "Cannot forward socket session: the forwarder was closed",
    );
    // Settled now: a tail of this stream must never go out on a later
    // connect().
    for (const item of this.#queue.splice(0)) item.settle(closed);
    for (const item of this.#waiting.splice(0)) item.settle(closed);
    poller.cancelAndClose(fd, closed);
  }

  /**
   * Same as {@linkcode SocketSessionForwarder.close}.
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
   * forwarder[Symbol.dispose]();
   * assert.equal(forwarder.connected, false);
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }
}
