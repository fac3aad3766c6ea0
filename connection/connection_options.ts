// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The options and transport types of `Connection`.
 *
 * @module
 */
import type { MessageCodec } from "./codec.ts";

/**
 * A pair of byte streams, such as an in-memory pipe or a socket's.
 *
 * @example Usage
 * ```ts
 * import { Connection, type ByteStreamPair } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
 * const pair: ByteStreamPair = { readable, writable };
 * await using conn = new Connection(pair); // talks to itself
 * await conn.sendBytes(new Uint8Array([1, 2]));
 * assert.deepEqual(await conn.recvBytes(), new Uint8Array([1, 2]));
 * ```
 */
export interface ByteStreamPair {
  /** Where received bytes come from. */
  readable: ReadableStream<Uint8Array>;
  /** Where bytes to send go. */
  writable: WritableStream<Uint8Array>;
}

/**
 * Options of `Connection`.
 *
 * @typeParam T The value type of `send()`/`recv()`.
 *
 * @example Usage
 * ```ts
 * import { bytesCodec, type ConnectionOptions, pipe } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const options: ConnectionOptions<Uint8Array> = { codec: bytesCodec, maxMessageSize: 4 };
 * const [a, b] = pipe(options);
 * await a.send(new Uint8Array(5));
 * await assert.rejects(b.recv(), { code: "MESSAGE_TOO_LARGE" });
 * await a.close();
 * await b.close();
 * ```
 */
export interface ConnectionOptions<T = unknown> {
  /**
   * How `send()`/`recv()` turn values into payloads. `sendBytes()` and
   * `recvBytes()` never use it.
   *
   * @default {pickleCodec()}
   */
  codec?: MessageCodec<T>;
  /**
   * The largest payload `recv()`, `recvBytes()` without a `maxLength`, and
   * `recvBytesInto()` accept; checked on the header, before allocating.
   * CPython has no limit; pass `Infinity` to match it.
   *
   * @default {256 * 1024 * 1024}
   */
  maxMessageSize?: number;
  /**
   * Bytes that may wait in the send queue before `sendBytes()` waits for
   * the transport to drain (backpressure).
   *
   * @default {1048576}
   */
  writeHighWaterMark?: number;
  /**
   * How long `close()` (and `await using`) waits for queued messages to be
   * written, in milliseconds, before closing anyway: a peer that stops
   * reading cannot make `close()` hang. Messages still queued then are
   * dropped and their `sendBytes()`/`send()` promises reject. `Infinity`
   * waits as long as it takes.
   *
   * @default {10000}
   */
  closeTimeout?: number;
}

/**
 * Options of a single wait.
 *
 * @example Usage
 * ```ts
 * import { pipe, type WaitOptions } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipe();
 * const options: WaitOptions = { signal: AbortSignal.abort(new Error("no")) };
 * await assert.rejects(b.recvBytes(undefined, options), { message: "no" });
 * await a.close();
 * await b.close();
 * ```
 */
export interface WaitOptions {
  /** Aborts the wait; an already-aborted signal rejects at once with its reason. */
  signal?: AbortSignal | undefined;
}
