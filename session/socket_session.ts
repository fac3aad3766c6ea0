// Copyright 2026 the @sidecar/ipc authors. MIT license.

import { closeFd } from "./_libc.ts";
import { decodeSockaddr, type SocketAddress } from "./sockaddr.ts";

/** The fields of a received socket session. */
export interface SocketSessionInit {
  /** The received fd (owned by the session). */
  fd: number;
  /** Address family (native `AF_*`). */
  family: number;
  /** Socket type (`SOCK_STREAM` 1, `SOCK_DGRAM` 2). */
  type: number;
  /** Protocol (`IPPROTO_TCP` 6, `IPPROTO_UDP` 17). */
  protocol: number;
  /** Raw local sockaddr image. */
  localRaw: Uint8Array;
  /** Raw remote sockaddr image. */
  remoteRaw: Uint8Array;
  /** The data that came with the session. */
  data: Uint8Array<ArrayBuffer>;
}

/**
 * A received socket session: a live socket fd, its endpoints and the first
 * bytes read from it. The session owns the fd until {@linkcode SocketSession.close}
 * or {@linkcode SocketSession.takeFd}; `using` closes it.
 *
 * @example Usage
 * ```ts
 * import { SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/sessions.sock`;
 * using listener = SocketSessionListener.listen(path);
 * await using forwarder = new SocketSessionForwarder(path);
 * forwarder.connect();
 * using receiver = await listener.accept();
 * forwarder.push({
 *   fd: 0,
 *   type: 1,
 *   protocol: 6,
 *   local: { hostname: "::1", port: 53 },
 *   remote: { hostname: "2001:db8::1", port: 5300 },
 *   data: new TextEncoder().encode("query"),
 * });
 * using session = await receiver.pop();
 * assert.deepEqual(session.remote, { hostname: "2001:db8::1", port: 5300, family: "IPv6", scopeId: 0, flowInfo: 0 });
 * assert.equal(new TextDecoder().decode(session.data), "query");
 * ```
 */
export class SocketSession implements AsyncDisposable, Disposable {
  #fd: number;
  #local: SocketAddress | null = null;
  #remote: SocketAddress | null = null;
  /** Address family (native `AF_*` value: 2 IPv4, 10 IPv6 on Linux). */
  readonly family: number;
  /** Socket type (`SOCK_STREAM` 1, `SOCK_DGRAM` 2). */
  readonly type: number;
  /** Protocol (`IPPROTO_TCP` 6, `IPPROTO_UDP` 17). */
  readonly protocol: number;
  /** Raw local sockaddr image as on the wire. */
  readonly localRaw: Uint8Array;
  /** Raw remote sockaddr image as on the wire. */
  readonly remoteRaw: Uint8Array;
  /** The data (a copy that stays valid). */
  readonly data: Uint8Array<ArrayBuffer>;

  /**
   * Wraps received fields; the session takes the fd.
   *
   * @param init The fields.
   */
  constructor(init: SocketSessionInit) {
    this.#fd = init.fd;
    this.family = init.family;
    this.type = init.type;
    this.protocol = init.protocol;
    this.localRaw = init.localRaw;
    this.remoteRaw = init.remoteRaw;
    this.data = init.data;
  }

  /**
   * The local endpoint (decoded from {@linkcode SocketSession.localRaw} on
   * first use).
   *
   * @returns The address.
   *
   * @example Usage
   * ```ts
   * import { encodeSockaddr, SocketSession } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const session = new SocketSession({
   *   fd: -1,
   *   family: 2,
   *   type: 2,
   *   protocol: 17,
   *   localRaw: encodeSockaddr({ hostname: "127.0.0.1", port: 53 }),
   *   remoteRaw: encodeSockaddr({ hostname: "192.0.2.2", port: 5300 }),
   *   data: new Uint8Array([1]),
   * });
   * assert.deepEqual(session.local, { hostname: "127.0.0.1", port: 53, family: "IPv4" });
   * ```
   */
  get local(): SocketAddress {
    return this.#local ??= decodeSockaddr(this.localRaw);
  }

  /**
   * The remote endpoint (decoded from {@linkcode SocketSession.remoteRaw}
   * on first use).
   *
   * @returns The address.
   *
   * @example Usage
   * ```ts
   * import { encodeSockaddr, SocketSession } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const session = new SocketSession({
   *   fd: -1,
   *   family: 2,
   *   type: 2,
   *   protocol: 17,
   *   localRaw: encodeSockaddr({ hostname: "127.0.0.1", port: 53 }),
   *   remoteRaw: encodeSockaddr({ hostname: "192.0.2.2", port: 5300 }),
   *   data: new Uint8Array([1]),
   * });
   * assert.equal(session.remote.hostname, "192.0.2.2");
   * ```
   */
  get remote(): SocketAddress {
    return this.#remote ??= decodeSockaddr(this.remoteRaw);
  }

  /**
   * The fd, or -1 once closed or taken.
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
   * assert.ok(got.fd >= 0);
   * ```
   */
  get fd(): number {
    return this.#fd;
  }

  /**
   * Takes the fd out of the session: the caller now owns it.
   *
   * @returns The fd.
   * @throws {TypeError} When it was already closed or taken.
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
   * const fd = got.takeFd();
   * assert.equal(got.fd, -1);
   * assert.throws(() => got.takeFd(), TypeError);
   * assert.ok(fd >= 0); // now ours: hand it to node:net (TCP), or close it
   * ```
   */
  takeFd(): number {
    const fd = this.#fd;
    if (fd < 0) {
      throw new TypeError(
        "Cannot take session fd: it was already closed or taken",
      );
    }
    this.#fd = -1;
    return fd;
  }

  /**
   * Closes the fd unless it was taken; idempotent. Closing is synchronous:
   * the promise is settled already.
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
   * forwarder.push({
   *   fd: 0,
   *   type: 2,
   *   protocol: 17,
   *   local: { hostname: "127.0.0.1", port: 53 },
   *   remote: { hostname: "192.0.2.2", port: 5300 },
   *   data: new Uint8Array([1, 2, 3]),
   * });
   * const got = await receiver.pop();
   * await got.close();
   * assert.equal(got.fd, -1);
   * ```
   */
  close(): Promise<void> {
    this[Symbol.dispose]();
    return Promise.resolve();
  }

  /**
   * Same as {@linkcode SocketSession.close}, synchronously (for `using`).
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
   * forwarder.push({
   *   fd: 0,
   *   type: 2,
   *   protocol: 17,
   *   local: { hostname: "127.0.0.1", port: 53 },
   *   remote: { hostname: "192.0.2.2", port: 5300 },
   *   data: new Uint8Array([1, 2, 3]),
   * });
   * const got = await receiver.pop();
   * got[Symbol.dispose]();
   * assert.equal(got.fd, -1);
   * ```
   */
  [Symbol.dispose](): void {
    closeFd(this.#fd);
    this.#fd = -1;
  }

  /**
   * Same as {@linkcode SocketSession.close} (for `await using`).
   *
   * @returns Once closed.
   *
   * @example Usage
   * ```ts
   * import { encodeSockaddr, SocketSession } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const session = new SocketSession({
   *   fd: -1,
   *   family: 2,
   *   type: 2,
   *   protocol: 17,
   *   localRaw: encodeSockaddr({ hostname: "127.0.0.1", port: 53 }),
   *   remoteRaw: encodeSockaddr({ hostname: "192.0.2.2", port: 5300 }),
   *   data: new Uint8Array([1]),
   * });
   * await session[Symbol.asyncDispose]();
   * assert.equal(session.fd, -1);
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
