// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The byte channel the client and the server run over: a pair of Web
 * Streams.
 *
 * @module
 */

/**
 * A bidirectional byte channel: the readable side of one pipe and the
 * writable side of another (a socket's two directions, a child process's
 * stdout and stdin, or two `TransformStream`s in memory).
 *
 * @example Usage
 * ```ts
 * import type { ByteChannel } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const up = new TransformStream<Uint8Array, Uint8Array>();
 * const channel: ByteChannel = { readable: up.readable, writable: up.writable };
 * assert.ok(channel.readable instanceof ReadableStream);
 * ```
 */
export interface ByteChannel {
  /** Bytes from the peer. */
  readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  writable: WritableStream<Uint8Array>;
}
