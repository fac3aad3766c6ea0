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
import { runHandshake } from "./_run_handshake.ts";
import { race } from "../_internal/abort.ts";
import { checkNumericOptions } from "./_options.ts";

/** Options of {@linkcode Listener}. */
export interface ListenerOptions<T = unknown>
  extends ConnectionOptions<T>, AuthOptions {}

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
 * - With an `authkey`, `accept()` delivers then answers the challenge (as
 *   CPython does) within `handshakeTimeout`. If the handshake fails, that
 *   socket is closed and `accept()` rejects with the error; the listener
 *   stays usable (CPython behaves the same, but can hang forever).
 * - Async iteration yields authenticated connections and **skips** sockets
 *   whose handshake failed (a bad client must not stop a server loop); it
 *   ends when the listener is closed.
 *
 * Permissions: `--allow-net=<host>` for TCP. For a Unix socket path, the
 * narrowest set is `--allow-sys --allow-net=unix:<path> --allow-read=<path>
 * --allow-write=<path>`; without `--allow-sys` it needs plain `--allow-net`
 * and read/write on the socket's directory.
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
 * listener.close();
 * await Deno.remove(dir);
 * ```
 */
export class Listener<T = unknown>
  implements AsyncIterable<Connection<T>>, Disposable, AsyncDisposable {
  #listener: Deno.Listener;
  #address: Address;
  #file: string | null = null;
  #tcp: boolean;
  #options: ListenerOptions<T>;
  #last: Address | null = null;
  #closed = false;
  #orphans: Promise<Deno.Conn>[] = [];

  /**
   * Binds and listens.
   *
   * @param address `{ hostname, port }` (port 0 picks one), a socket path,
   * or `"\0abstract"`.
   * @param options Key, handshake choices and the accepted connections' options.
   */
  constructor(address: Address, options: ListenerOptions<T> = {}) {
    checkNumericOptions(options, "listen");
    this.#options = options;
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
   * using listener = new Listener({ port: 0 });
   * assert.ok(typeof listener.address === "object" && listener.address.port > 0);
   * ```
   */
  get address(): Address {
    return this.#address;
  }

  /**
   * The peer address of the last accepted connection (`null` before the
   * first). For Unix sockets it is the client's (usually empty) path, as in
   * Python.
   *
   * @returns The address or null.
   *
   * @example Usage
   * ```ts
   * import { Listener } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * using listener = new Listener({ port: 0 });
   * assert.equal(listener.lastAccepted, null);
   * ```
   */
  get lastAccepted(): Address | null {
    return this.#last;
  }

  /**
   * Accepts one connection and runs the listener side of the handshake.
   *
   * @param options An abort signal. An aborted accept leaves no socket
   * behind: a connection that arrives later is handed to the next accept.
   * @returns The authenticated connection.
   * @throws {ConnectionError} The listener is closed.
   * @throws {AuthenticationError} The client failed the handshake (its
   * socket is closed, the listener stays usable).
   *
   * @example Usage
   * ```ts
   * import { connect, Listener } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * using listener = new Listener({ port: 0 });
   * const client = await connect(listener.address);
   * const server = await listener.accept();
   * await server.sendBytes(new Uint8Array([5]));
   * assert.deepEqual(await client.recvBytes(), new Uint8Array([5]));
   * await client.close();
   * await server.close();
   * ```
   */
  async accept(options?: WaitOptions): Promise<Connection<T>> {
    if (this.#closed) {
      throw new ConnectionError("Cannot accept: listener is closed");
    }
    const signal = options?.signal;
    if (signal?.aborted) throw signal.reason;
    const p = this.#orphans.shift() ?? this.#listener.accept();
    let raw: Deno.Conn;
    try {
      raw = await race(p, { signal });
    } catch (e) {
      if (signal?.aborted && e === signal.reason) {
        p.catch(() => {});
        if (this.#closed) p.then((c) => c.close(), () => {});
        else this.#orphans.push(p);
        throw e;
      }
      if (this.#closed) {
        throw new ConnectionError("Cannot accept: listener is closed", {
          cause: e,
        });
      }
      throw e;
    }
    if (this.#tcp) {
      (raw as Deno.TcpConn).setNoDelay(true);
      const r = raw.remoteAddr as Deno.NetAddr;
      this.#last = { hostname: r.hostname, port: r.port };
    } else {
      this.#last = (raw.remoteAddr as Deno.UnixAddr).path ?? "";
    }
    const conn = new Connection<T>(raw, this.#options);
    await runHandshake(
      conn as Connection<unknown>,
      "listener",
      this.#options,
      signal,
    );
    return conn;
  }

  /**
   * Yields authenticated connections until the listener is closed; sockets
   * whose handshake fails are closed and skipped.
   *
   * @returns An async iterator of connections.
   *
   * @example Usage
   * ```ts
   * import { connect, Listener } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * using listener = new Listener({ port: 0 }, { authkey: "k" });
   * const bad = connect(listener.address, { authkey: "wrong" }).catch((e) => e);
   * const good = connect(listener.address, { authkey: "k" });
   * for await (const conn of listener) {
   *   await conn.sendBytes(new Uint8Array([1]));
   *   await conn.close();
   *   break;
   * }
   * const client = await good;
   * assert.deepEqual(await client.recvBytes(), new Uint8Array([1]));
   * assert.ok((await bad) instanceof Error);
   * await client.close();
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Connection<T>> {
    while (!this.#closed) {
      let conn: Connection<T>;
      try {
        conn = await this.accept();
      } catch (e) {
        if (this.#closed) return;
        if (e instanceof ConnectionError) continue;
        throw e;
      }
      yield conn;
    }
  }

  /**
   * Stops listening and removes the Unix socket file. Idempotent. Pending
   * accepts reject with a {@linkcode ConnectionError}; connections already
   * accepted stay open.
   *
   * @example Usage
   * ```ts
   * import { ConnectionError, Listener } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const listener = new Listener({ port: 0 });
   * listener.close();
   * listener.close();
   * await assert.rejects(listener.accept(), ConnectionError);
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#orphans.splice(0)) p.then((c) => c.close(), () => {});
    try {
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
  }

  /**
   * Closes the listener (for `using`).
   *
   * @example Usage
   * ```ts
   * import { Listener } from "@sidecar/ipc/connection";
   *
   * {
   *   using _listener = new Listener({ port: 0 });
   * }
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
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
    this.close();
    return Promise.resolve();
  }
}

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return ".";
  if (i === 0) return "/";
  return path.slice(0, i);
}

/**
 * Binds a Unix socket at `path` that is never accessible to others.
 *
 * With `--allow-sys`, the socket is bound at `path` itself under a umask of
 * 0177 (restored at once; binding is synchronous, so no other JavaScript
 * runs in between), which needs only `--allow-net=unix:<path>` and
 * read/write on `path`. Without it, the socket is bound in a fresh 0700
 * directory beside `path`, chmod-ed to 0600 and hard-linked into place,
 * which needs net access to that random temporary path (plain
 * `--allow-net`) and read/write on the directory.
 */
function bindPrivate(path: string): Deno.Listener {
  if (Deno.permissions.querySync({ name: "sys" }).state === "granted") {
    if (pathExists(path)) {
      throw new Deno.errors.AddrInUse(
        `Cannot listen: address already in use: "${path}"`,
      );
    }
    const old = Deno.umask(0o177);
    try {
      return Deno.listen({ transport: "unix", path });
    } finally {
      Deno.umask(old);
    }
  }
  return bindViaLink(path);
}

function pathExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** {@linkcode bindPrivate} without `--allow-sys`: bind elsewhere, then link. */
function bindViaLink(path: string): Deno.Listener {
  const tmp = Deno.makeTempDirSync({ dir: dirOf(path), prefix: ".l" });
  const tmpPath = `${tmp}/s`;
  try {
    const l = Deno.listen({ transport: "unix", path: tmpPath });
    try {
      Deno.chmodSync(tmpPath, 0o600);
      Deno.linkSync(tmpPath, path);
    } catch (e) {
      l.close();
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new Deno.errors.AddrInUse(
          `Cannot listen: address already in use: "${path}"`,
        );
      }
      throw e;
    }
    return l;
  } finally {
    try {
      Deno.removeSync(tmpPath);
    } catch {
      // Bind failed before creating it.
    }
    Deno.removeSync(tmp);
  }
}
