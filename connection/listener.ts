// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `Listener`: the server side, like Python's `multiprocessing.connection.Listener`.
 *
 * @module
 */
import { type Address, isAbstractAddress } from "./address.ts";
import type { AuthOptions } from "./authenticate.ts";
import {
  Connection,
  type ConnectionOptions,
  type WaitOptions,
} from "./connection.ts";
import { ConnectionError } from "./errors.ts";
import { checkAuthOptions, runHandshake } from "./_run_handshake.ts";
import { checkNumericOptions } from "./_options.ts";
import { bindPrivate } from "./_bind_unix.ts";
import { classifyAcceptError, nextBackoff } from "../_internal/accept_error.ts";
import { requireDeno } from "../_internal/deno_version.ts";

/** Options of {@linkcode Listener}. */
export interface ListenerOptions<T = unknown>
  extends ConnectionOptions<T>, AuthOptions {
  /**
   * How many accepted connections the listener holds that `accept()` has
   * not returned yet: those in their handshake plus those authenticated
   * and waiting to be taken. Past it, new connections wait in the kernel
   * backlog until one of them is taken or fails. This bounds the sockets
   * that clients connecting and staying silent can pin (each for at most
   * `handshakeTimeout`).
   *
   * @default {64}
   */
  maxPendingHandshakes?: number;
  /**
   * Called with each failure the listener survives, and with the one that
   * ends it:
   *
   * - a connection whose handshake failed (its socket is closed):
   *   {@linkcode AuthenticationError} (wrong key, refused digest),
   *   {@linkcode ProtocolError} (`handshakeTimeout` passed, oversized or
   *   truncated message), {@linkcode EOFError} (the client left), ...;
   * - an `accept()` failure caused by one client, which is skipped: the
   *   error Deno threw (`Deno.errors.NotConnected` for a client that
   *   reset before it was accepted, `ConnectionReset`, `ConnectionAborted`,
   *   an `Error` whose `code` is `"EPROTO"`, ...);
   * - running out of fds or memory (an `Error` whose `code` is `"EMFILE"`,
   *   `"ENFILE"`, `"ENOBUFS"` or `"ENOMEM"`): accepting pauses 10 ms,
   *   doubling up to 100 ms, and tries again;
   * - an error of the listening socket itself, which closes the listener:
   *   a {@linkcode ConnectionError} ("the listener failed") carrying Deno's
   *   error as `cause`; pending and later `accept()` calls reject with it.
   *
   * Errors of connections that {@linkcode Listener.close} cut short are
   * not reported. If the hook throws, the listener closes and `accept()`
   * rejects with what it threw.
   *
   * @default {undefined}
   */
  onError?: (error: unknown) => void;
}

/** An accepted connection in its handshake. */
interface InHandshake {
  conn: Connection<unknown>;
  abort: AbortController;
  done: Promise<void>;
}

/** An authenticated connection that `accept()` has not returned yet. */
interface Ready<T> {
  conn: Connection<T>;
  address: Address;
}

/** A pending `accept()`. */
interface Waiter<T> {
  resolve(conn: Connection<T>): void;
  reject(error: unknown): void;
  /** Removes the abort listener. */
  cleanup(): void;
}

/**
 * Accepts connections from CPython's `Client()` or our {@linkcode connect}
 * on TCP, a Unix socket path, or a Linux abstract address (`"\0name"`).
 *
 * - Unix socket files are created with mode 0600 and are never reachable by
 *   other users, even briefly: with `--allow-sys` the socket is bound under
 *   a umask of 0177; without it, it is bound inside a fresh 0700 directory
 *   next to the target, chmod-ed, then hard-linked into place. Either way
 *   an existing path is refused, like Python's bind. The file is removed
 *   on `close()`. Abstract addresses have no file.
 * - Accepting starts with the first `accept()` (or iteration); from then
 *   on the listener accepts in the background and runs each connection's
 *   handshake (with an `authkey`: deliver, then answer the challenge, as
 *   CPython does) on its own, each within `handshakeTimeout`. A silent or
 *   slow client never delays another. At most `maxPendingHandshakes`
 *   connections are held before `accept()` takes them; the rest wait in
 *   the kernel backlog.
 * - `accept()` returns authenticated connections in the order their
 *   handshakes finished. A connection whose handshake fails is closed and
 *   reported to `onError`; `accept()` goes on waiting for the next good
 *   one (CPython's `accept()` raises instead, and can hang forever on a
 *   silent client).
 * - No client can end the listener: `accept()` failures caused by one
 *   client (a reset before it was accepted, ...) skip that client, and
 *   running out of fds backs off and tries again; both are reported to
 *   `onError`. Only an error of the listening socket itself closes the
 *   listener, and then `accept()` rejects with a {@linkcode ConnectionError}.
 * - Async iteration yields what `accept()` returns and ends when the
 *   listener is closed.
 *
 * Permissions: `--allow-net=<host>` for TCP. For a Unix socket path, the
 * narrowest set is `--allow-sys --allow-net=unix:<path> --allow-read=<path>
 * --allow-write=<path>`; without `--allow-sys` it needs plain `--allow-net`
 * and read/write on the socket's directory. Needs Deno 2.9.0 or later (an
 * older Deno gets an error naming both versions, `code`
 * `"UNSUPPORTED_DENO"`).
 *
 * @typeParam T The value type of the accepted connections' `send()`/`recv()`.
 *
 * @example Usage
 * ```ts
 * import { connect, Listener } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const listener = new Listener(`${dir}/s.sock`, { authkey: "secret" });
 * assert.equal((await Deno.stat(`${dir}/s.sock`)).mode! & 0o777, 0o600);
 * const [server, client] = await Promise.all([
 *   listener.accept(),
 *   connect(listener.address, { authkey: "secret" }),
 * ]);
 * await client.sendBytes(new Uint8Array([1, 2, 3]));
 * assert.deepEqual(await server.recvBytes(), new Uint8Array([1, 2, 3]));
 * await client.close();
 * await server.close();
 * await listener.close();
 * await Deno.remove(dir);
 * ```
 */
export class Listener<T = unknown>
  implements AsyncIterable<Connection<T>>, AsyncDisposable {
  #listener: Deno.Listener;
  #address: Address;
  #file: string | null = null;
  #tcp: boolean;
  #options: ListenerOptions<T>;
  #max: number;
  #onError: ((error: unknown) => void) | undefined;
  #last: Address | null = null;
  #closed = false;
  /** Set when the listener closed by itself: what accept() rejects with. */
  #failure: { error: unknown } | null = null;
  #closing: Promise<void> | null = null;
  /** The accept loop, started by the first accept(). */
  #pump: Promise<void> | null = null;
  /** Wakes the accept loop from a wait for a free slot or a back-off. */
  #wake: (() => void) | null = null;
  /** The back-off timer, while the accept loop backs off. */
  #backoffTimer: ReturnType<typeof setTimeout> | undefined;
  #handshakes = new Set<InHandshake>();
  #ready: Ready<T>[] = [];
  #waiters: Waiter<T>[] = [];

  /**
   * Binds and listens.
   *
   * @param address `{ hostname, port }` (port 0 picks one), a socket path,
   * or `"\0abstract"`.
   * @param options Key, handshake choices, limits, the `onError` hook and
   * the accepted connections' options.
   */
  constructor(address: Address, options: ListenerOptions<T> = {}) {
    checkNumericOptions(options, "listen");
    const max = options.maxPendingHandshakes ?? 64;
    if (!(Number.isInteger(max) && max >= 1)) {
      throw new RangeError(
        `Cannot listen: invalid maxPendingHandshakes ${max}`,
      );
    }
    checkAuthOptions(options);
    requireDeno("listen");
    this.#options = options;
    this.#max = max;
    this.#onError = options.onError;
    if (typeof address === "string") {
      this.#tcp = false;
      if (isAbstractAddress(address)) {
        this.#listener = Deno.listen({ transport: "unix", path: address });
      } else {
        this.#listener = bindPrivate(address);
        this.#file = address;
      }
      this.#address = address;
    } else if (
      typeof address === "object" && address !== null &&
      Number.isInteger(address.port)
    ) {
      this.#tcp = true;
      const l = Deno.listen({
        hostname: address.hostname ?? "127.0.0.1",
        port: address.port,
      });
      this.#listener = l;
      this.#address = { hostname: l.addr.hostname, port: l.addr.port };
    } else {
      throw new TypeError(
        "Cannot listen: address must be a path or { hostname, port }",
      );
    }
    // Only a pending accept() keeps the process alive, as before.
    this.#listener.unref();
  }

  /**
   * The bound address: `{ hostname, port }` with the real port, or the path.
   *
   * @returns The address, usable with {@linkcode connect}.
   *
   * @example Usage
   * ```ts
   * import { Listener } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * await using listener = new Listener({ port: 0 });
   * assert.ok(typeof listener.address === "object" && listener.address.port > 0);
   * ```
   */
  get address(): Address {
    return this.#address;
  }

  /**
   * The peer address of the connection `accept()` returned last (`null`
   * before the first). For Unix sockets it is the client's (usually empty)
   * path, as in Python.
   *
   * @returns The address or null.
   *
   * @example Usage
   * ```ts
   * import { Listener } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * await using listener = new Listener({ port: 0 });
   * assert.equal(listener.lastAccepted, null);
   * ```
   */
  get lastAccepted(): Address | null {
    return this.#last;
  }

  /**
   * Returns the next authenticated connection: the first one whose
   * handshake finished and that no other `accept()` took. Connections
   * whose handshake fails never reach it: they are closed and reported to
   * `onError`.
   *
   * @param options An abort signal. An aborted accept takes no connection:
   * whatever arrives later goes to the next accept.
   * @returns The authenticated connection.
   * @throws {ConnectionError} The listener is closed, or its socket failed
   * ("the listener failed", with Deno's error as `cause`).
   *
   * @example Usage
   * ```ts
   * import { connect, Listener } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * await using listener = new Listener({ port: 0 });
   * const client = await connect(listener.address);
   * const server = await listener.accept();
   * await server.sendBytes(new Uint8Array([5]));
   * assert.deepEqual(await client.recvBytes(), new Uint8Array([5]));
   * await client.close();
   * await server.close();
   * ```
   */
  accept(options?: WaitOptions): Promise<Connection<T>> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#pump ??= this.#run();
    const ready = this.#ready.shift();
    if (ready !== undefined) {
      this.#last = ready.address;
      this.#wake?.();
      return Promise.resolve(ready.conn);
    }
    return new Promise<Connection<T>>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        if (this.#waiters.length === 0) this.#keepAlive(false);
        reject(signal!.reason);
      };
      const waiter: Waiter<T> = {
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#keepAlive(true);
    });
  }

  /**
   * Yields what {@linkcode Listener.accept} returns (authenticated
   * connections; failed handshakes are skipped and go to `onError`) until
   * the listener is closed. If the listening socket fails, the iteration
   * throws the {@linkcode ConnectionError} `accept()` rejects with.
   *
   * @returns An async iterator of connections.
   *
   * @example Usage
   * ```ts
   * import { AuthenticationError, connect, Listener } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const failure = Promise.withResolvers<unknown>();
   * await using listener = new Listener({ port: 0 }, {
   *   authkey: "k",
   *   onError: failure.resolve,
   * });
   * const bad = connect(listener.address, { authkey: "wrong" }).catch((e) => e);
   * const good = connect(listener.address, { authkey: "k" });
   * for await (const conn of listener) {
   *   await conn.sendBytes(new Uint8Array([1]));
   *   await conn.close();
   *   break;
   * }
   * const client = await good;
   * assert.deepEqual(await client.recvBytes(), new Uint8Array([1]));
   * assert.ok((await bad) instanceof AuthenticationError);
   * assert.ok((await failure.promise) instanceof AuthenticationError);
   * await client.close();
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Connection<T>> {
    while (true) {
      let conn: Connection<T>;
      try {
        conn = await this.accept();
      } catch (e) {
        if (this.#closed && this.#failure === null) return;
        throw e;
      }
      yield conn;
    }
  }

  /**
   * Stops listening, removes the Unix socket file, and closes every
   * connection `accept()` has not returned: those in their handshake and
   * those authenticated and waiting. Pending accepts reject with a
   * {@linkcode ConnectionError}; connections `accept()` returned stay
   * open. Idempotent; never rejects.
   *
   * @returns Resolves when every socket the listener held is closed.
   *
   * @example Usage
   * ```ts
   * import { ConnectionError, Listener } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const listener = new Listener({ port: 0 });
   * await listener.close();
   * await listener.close();
   * await assert.rejects(listener.accept(), ConnectionError);
   * ```
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closed = true;
    try {
      // The loop's pending accept (unref-ed when nobody waits) then fails
      // with BadResource; kept ref-ed, the event loop waits for that, and
      // close() can wait for the loop.
      this.#listener.ref();
      this.#listener.close();
    } catch {
      // Already closed.
    }
    if (this.#file !== null) {
      try {
        Deno.removeSync(this.#file);
      } catch {
        // Removed by someone else.
      }
    }
    const error = this.#closedError();
    for (const w of this.#waiters.splice(0)) {
      w.cleanup();
      w.reject(error);
    }
    const closing: Promise<void>[] = [];
    for (const r of this.#ready.splice(0)) closing.push(r.conn.close());
    for (const h of this.#handshakes) {
      h.abort.abort(error);
      closing.push(h.conn.close(), h.done);
    }
    this.#wake?.();
    if (this.#pump !== null) closing.push(this.#pump);
    this.#closing = Promise.all(closing).then(() => {});
    return this.#closing;
  }

  /**
   * Closes the listener (for `await using`).
   *
   * @returns Resolves when closed.
   *
   * @example Usage
   * ```ts
   * import { Listener } from "@sidecar/ipc/connection";
   *
   * {
   *   await using _listener = new Listener({ port: 0 });
   * }
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #closedError(): unknown {
    return this.#failure !== null
      ? this.#failure.error
      : new ConnectionError("Cannot accept: listener is closed");
  }

  /** Reports to `onError`; false (and the listener closed) if it threw. */
  #report(error: unknown): boolean {
    if (this.#onError === undefined || this.#closed) return !this.#closed;
    try {
      this.#onError(error);
      return true;
    } catch (thrown) {
      this.#fail(thrown);
      return false;
    }
  }

  /** Closes the listener because of `error`, which accept() rejects with. */
  #fail(error: unknown): void {
    if (this.#closed) return;
    this.#failure = { error };
    void this.close();
  }

  /**
   * The accept loop's pending accept and back-off keep the process alive
   * only while someone waits in accept() (as a plain accept() would).
   */
  #keepAlive(on: boolean): void {
    if (on) {
      this.#listener.ref();
      if (this.#backoffTimer !== undefined) Deno.refTimer(this.#backoffTimer);
    } else {
      this.#listener.unref();
      if (this.#backoffTimer !== undefined) {
        Deno.unrefTimer(this.#backoffTimer);
      }
    }
  }

  /** Waits until woken, or `ms` milliseconds when given (a back-off). */
  #idle(ms: number | null): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(this.#backoffTimer);
        this.#backoffTimer = undefined;
        this.#wake = null;
        resolve();
      };
      if (ms !== null) {
        const timer = setTimeout(done, ms);
        if (this.#waiters.length === 0) Deno.unrefTimer(timer);
        this.#backoffTimer = timer;
      }
      this.#wake = done;
    });
  }

  /** The accept loop: accepts while fewer than `max` are held. */
  async #run(): Promise<void> {
    let backoff = 0;
    try {
      while (!this.#closed) {
        if (this.#handshakes.size + this.#ready.length >= this.#max) {
          await this.#idle(null);
          continue;
        }
        let raw: Deno.Conn;
        try {
          raw = await this.#listener.accept();
        } catch (e) {
          if (this.#closed) return;
          const action = classifyAcceptError(e);
          if (action === "stop") {
            const error = new ConnectionError(
              "Cannot accept: the listener failed",
              { cause: e },
            );
            if (this.#report(error)) this.#fail(error);
            return;
          }
          if (!this.#report(e)) return;
          if (action === "backoff") {
            await this.#idle(backoff = nextBackoff(backoff));
          }
          continue;
        }
        backoff = 0;
        if (this.#closed) {
          raw.close();
          return;
        }
        this.#handshake(raw);
      }
    } catch (e) {
      // Nothing above should throw; if it does, no accept() may hang.
      this.#fail(e);
    }
  }

  /** Runs one accepted connection's handshake on its own. */
  #handshake(raw: Deno.Conn): void {
    let address: Address;
    try {
      if (this.#tcp) {
        (raw as Deno.TcpConn).setNoDelay(true);
        const r = raw.remoteAddr as Deno.NetAddr;
        address = { hostname: r.hostname, port: r.port };
      } else {
        address = (raw.remoteAddr as Deno.UnixAddr).path ?? "";
      }
    } catch (e) {
      // The client left between accept() and here.
      try {
        raw.close();
      } catch {
        // Already closed.
      }
      this.#report(e);
      return;
    }
    const conn = new Connection<T>(raw, this.#options);
    const entry: InHandshake = {
      conn: conn as Connection<unknown>,
      abort: new AbortController(),
      done: Promise.resolve(),
    };
    this.#handshakes.add(entry);
    entry.done = runHandshake(
      entry.conn,
      "listener",
      this.#options,
      entry.abort.signal,
    ).then(() => {
      this.#handshakes.delete(entry);
      if (this.#closed) return conn.close();
      this.#deliver({ conn, address });
    }, (e) => {
      this.#handshakes.delete(entry);
      if (this.#closed) return;
      this.#wake?.();
      this.#report(e);
    });
  }

  /** Hands an authenticated connection to the first waiter, or queues it. */
  #deliver(ready: Ready<T>): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#ready.push(ready);
      return;
    }
    if (this.#waiters.length === 0) this.#keepAlive(false);
    waiter.cleanup();
    this.#last = ready.address;
    this.#wake?.();
    waiter.resolve(ready.conn);
  }
}
