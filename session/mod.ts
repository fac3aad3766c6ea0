// Copyright 2026 the @sidecar/ipc authors. MIT license.

/**
 * BIND 10 socket sessions: pass a live socket (its fd), its endpoints and
 * the first bytes already read from it from one process to another over a
 * Unix socket, byte-compatible with BIND 10 / Kea 2.2's
 * `SocketSessionForwarder` and `SocketSessionReceiver`.
 *
 * The codecs (`session_header.ts`, `session_decoder.ts`, `sockaddr.ts`) are
 * pure. The socket parts call libc through `Deno.dlopen` and need
 * `--allow-ffi` (which means full trust: FFI bypasses Deno's sandbox).
 * Linux x86_64 and aarch64.
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
export * from "./adopt.ts";
