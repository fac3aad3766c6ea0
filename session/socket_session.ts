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
 * using forwarder = new SocketSessionForwarder(path);
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
export class SocketSession implements Disposable {
  #fd: number;
  /** Address family (native `AF_*` value: 2 IPv4, 10 IPv6 on Linux). */
  readonly family: number;
  /** Socket type (`SOCK_STREAM` 1, `SOCK_DGRAM` 2). */
  readonly type: number;
  /** Protocol (`IPPROTO_TCP` 6, `IPPROTO_UDP` 17). */
  readonly protocol: number;
  /** Local endpoint. */
  readonly local: SocketAddress;
  /** Remote endpoint. */
  readonly remote: SocketAddress;
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
    this.local = decodeSockaddr(init.localRaw);
    this.remote = decodeSockaddr(init.remoteRaw);
    this.data = init.data;
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
   * Closes the fd unless it was taken; idempotent.
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
   * const got = await receiver.pop();
   * got.close();
   * assert.equal(got.fd, -1);
   * ```
   */
  close(): void {
    closeFd(this.#fd);
    this.#fd = -1;
  }

  /**
   * Same as {@linkcode SocketSession.close}.
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
   * const got = await receiver.pop();
   * got[Symbol.dispose]();
   * assert.equal(got.fd, -1);
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }
}
