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
 *   {@linkcode encodeSockaddr}, {@linkcode decodeSockaddr} (IPv6 written as
 *   RFC 5952 and `inet_ntop` write it, IPv4-mapped ones as
 *   `::ffff:192.0.2.1`).
 * - Sockets (`--allow-ffi`): {@linkcode SocketSessionForwarder} (`push`
 *   never blocks and sends each session in one `sendmsg`; `send` waits,
 *   with at most `maxQueued` sessions queued; `flush` waits for the queue;
 *   `close` first finishes every session it accepted, within
 *   `closeTimeout`, and reports any it could not as
 *   {@linkcode SessionsLostError}), {@linkcode SocketSessionListener} and
 *   {@linkcode SocketSessionReceiver} (validates everything, never leaks an
 *   fd, receives fds close-on-exec, takes every ready session in one
 *   `recvmmsg`).
 * - Helpers: {@linkcode forwardTcpConnections} and
 *   {@linkcode forwardUdpDatagrams} (long-running: they survive transient
 *   `accept`/receive errors such as `EMFILE`, and hold at most
 *   `maxPendingConnections` connections; IPv6 ones are IPv6-only unless
 *   `dualStack`), {@linkcode adoptTcpSession} (a received TCP socket,
 *   shaped like `Deno.Conn`: read, write, half-close, Web streams; no
 *   `--allow-net` needed), {@linkcode adoptNetSocket} (the same as a
 *   `node:net` socket, for `node:http` servers), {@linkcode adoptUdpSession} (a received UDP socket that
 *   receives and sends datagrams, shaped like `Deno.DatagramConn`),
 *   {@linkcode sendDatagram}.
 *
 * The socket parts call libc through `Deno.dlopen` and need `--allow-ffi`,
 * which means full trust: FFI bypasses Deno's sandbox, so socket paths are
 * not checked against `--allow-read`/`--allow-write`. All waiting goes
 * through one shared `epoll_wait` call per process, so a server waiting on
 * many sockets does not use up Deno's blocking thread pool.
 *
 * ## Runtimes and platforms
 *
 * - Deno 2.9.0 or later: the forwarder's `connect()`, the listener, the
 *   receiver and the acceptors fail on an older Deno with
 *   `Cannot <action>: @sidecar/ipc needs Deno 2.9.0 or later, this is Deno
 *   2.8.3` (`code` `"UNSUPPORTED_DENO"`).
 * - The sockets work on Linux only, with glibc (`libc.so.6`), on x86_64
 *   and aarch64: the struct layouts and constants are those two's, and the
 *   transports use Linux's `epoll`, `eventfd`, `accept4` and `recvmmsg`.
 *   CI runs on Linux x86_64. On macOS and Windows (which has no fd passing
 *   over Unix sockets) importing the module works and the codecs run, but
 *   the first socket call throws
 *   `Cannot load socket sessions: platform <os>-<arch> is not supported
 *   (Linux x86_64 and aarch64 are)`.
 * - The codecs alone (the session header, {@linkcode SessionDecoder}, the
 *   sockaddr images in the Linux and macOS layouts) are
 *   `@sidecar/ipc/session/header`, which runs in any JavaScript runtime.
 *
 * Everything that owns an fd closes with `close(): Promise<void>` and
 * `await using`; the receiver, listener, sessions and adopted UDP sockets
 * close synchronously and also support `using`.
 *
 * ## Error codes
 *
 * Every error the module raises on purpose is a `TypeError` or `RangeError`
 * (wrong use: bad arguments or state) or a {@linkcode SocketSessionError}
 * (or subclass) whose `code` says why:
 *
 * | `code` | when |
 * | --- | --- |
 * | `"NO_FD"` | a session arrived without an fd |
 * | `"EXTRA_FDS"` | more than one fd with a session, or an fd inside one |
 * | `"CONTROL_TRUNCATED"` | so many fds that the control message was cut |
 * | `"INCOMPLETE"` | the stream ended inside a session |
 * | `"HEADER_TOO_LARGE"` | a header length above 282 |
 * | `"BOGUS_HEADER"` | a header field runs past the header |
 * | `"UNSUPPORTED_FAMILY"` | a family other than IPv4/IPv6 |
 * | `"INVALID_LOCAL_LENGTH"`, `"INVALID_REMOTE_LENGTH"` | a sockaddr length out of range |
 * | `"FAMILY_INCONSISTENT"` | the sockaddrs' families differ from the header's |
 * | `"INVALID_DATA_SIZE"` | data length 0 or above 65535 |
 * | `"TIMEOUT"` | `pop({ timeout })`, `flush({ timeout })`, an acceptor's `firstDataTimeout` |
 * | `"BROKEN"` | the forwarder's stream is out of step (after a failure): reconnect |
 * | `"CLOSED"` | the receiver, listener, forwarder or socket was closed under a pending call |
 * | `"SESSIONS_LOST"` | {@linkcode SessionsLostError}: `close()`/`flush()` could not send `lost` accepted sessions |
 * | `"EAGAIN"` | {@linkcode WouldBlockError}: `push()` found the receiver not reading (nothing sent) |
 * | an errno name (`"EPIPE"`, `"ECONNRESET"`, `"EMFILE"`, `"ENOENT"`, ...) | a system call failed; `errno` holds the number |
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
export * from "./tcp_acceptor.ts";
export * from "./udp_acceptor.ts";
export * from "./adopt_tcp.ts";
export * from "./adopt_net.ts";
export * from "./adopt_udp.ts";
