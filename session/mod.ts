// Copyright 2026 the @sidecar/ipc authors. MIT license.

/**
 * BIND 10 socket sessions: pass a live socket (its fd), its endpoints and
 * the first bytes already read from it from one process to another over a
 * Unix socket, byte-compatible with BIND 10 / Kea 2.2's
 * `SocketSessionForwarder` and `SocketSessionReceiver` (tested against
 * Debian 12's `libkea-util-io.so.0` in both directions).
 *
 * - Pure codecs (no permissions): {@linkcode encodeSessionHeader},
 *   {@linkcode decodeSessionHeader}, {@linkcode SessionDecoder},
 *   {@linkcode encodeSockaddr}, {@linkcode decodeSockaddr}.
 * - Sockets (`--allow-ffi`): {@linkcode SocketSessionForwarder} (`push`
 *   never blocks and sends each session in one `sendmsg`; `send` waits,
 *   with at most `maxQueued` sessions queued),
 *   {@linkcode SocketSessionListener} and {@linkcode SocketSessionReceiver}
 *   (validates everything, never leaks an fd, receives fds close-on-exec).
 * - Helpers: {@linkcode forwardTcpConnections} and
 *   {@linkcode forwardUdpDatagrams} (long-running: they survive transient
 *   `accept`/receive errors such as `EMFILE`, and hold at most
 *   `maxPendingConnections` connections), {@linkcode adoptTcpSession} (a
 *   received TCP socket as half-open capable Web streams through
 *   `node:net`, no `--allow-net` needed), {@linkcode sendDatagram}.
 *
 * The socket parts call libc through `Deno.dlopen` and need `--allow-ffi`,
 * which means full trust: FFI bypasses Deno's sandbox, so socket paths are
 * not checked against `--allow-read`/`--allow-write`. Linux x86_64 and
 * aarch64 (other platforms throw when the module loads). All waiting goes
 * through one shared `poll()` call per process, so a server waiting on many
 * sockets does not use up Deno's blocking thread pool.
 *
 * ```ts
 * import { decodeSockaddr, encodeSockaddr } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const sa = encodeSockaddr({ hostname: "192.0.2.2", port: 5300 });
 * assert.equal(decodeSockaddr(sa).port, 5300);
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./sockaddr.ts";
export * from "./session_header.ts";
export * from "./session_decoder.ts";
export * from "./socket_session.ts";
export * from "./forwarder.ts";
export * from "./receiver.ts";
export * from "./listener.ts";
export * from "./acceptor.ts";
export * from "./adopt_tcp.ts";
export * from "./adopt_udp.ts";
