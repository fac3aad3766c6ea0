// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The codecs of BIND 10 socket sessions on their own, for any JavaScript
 * runtime (browsers, Node, Deno, Bun, workers): the session header
 * ({@linkcode encodeSessionHeader}, {@linkcode writeSessionHeader},
 * {@linkcode decodeSessionHeader}), the receive state machine of a session
 * stream ({@linkcode SessionDecoder}), the sockaddr images the header
 * carries ({@linkcode encodeSockaddr}, {@linkcode decodeSockaddr}, in the
 * Linux or macOS layout), and the errors they throw
 * ({@linkcode SocketSessionError} and its `code`s).
 *
 * Nothing here imports a `node:` module or uses a `Deno` API, directly or
 * through its imports: a CI test bundles this entry point for the browser
 * and decodes and re-encodes sessions that Kea 2.2's own forwarder wrote,
 * in Node 20 and in headless Chromium. Passing the sockets themselves
 * (the forwarder, the receiver, the acceptors) is in `@sidecar/ipc/session`,
 * which needs Deno 2.9.0 or later on Linux.
 *
 * ```ts
 * import {
 *   decodeSessionHeader,
 *   decodeSockaddr,
 *   encodeSessionHeader,
 *   encodeSockaddr,
 * } from "@sidecar/ipc/session/header";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeSessionHeader({
 *   family: 2, // AF_INET
 *   type: 1, // SOCK_STREAM
 *   protocol: 6, // IPPROTO_TCP
 *   local: encodeSockaddr({ hostname: "127.0.0.1", port: 53 }),
 *   remote: encodeSockaddr({ hostname: "192.0.2.2", port: 5300 }),
 *   dataLength: 5,
 * });
 * const header = decodeSessionHeader(bytes.subarray(2));
 * assert.equal(decodeSockaddr(header.remote).hostname, "192.0.2.2");
 * assert.equal(header.dataLength, 5);
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./sockaddr.ts";
export * from "./session_header.ts";
export * from "./session_decoder.ts";
