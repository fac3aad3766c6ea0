// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The codecs of gunicorn 26's dirty protocol on their own, for any
 * JavaScript runtime (browsers, Node, Deno, Bun, workers): TLV values
 * ({@linkcode encodeTlv}, {@linkcode decodeTlv}, {@linkcode DirtyFloat}),
 * the 16-byte header ({@linkcode encodeHeader}, {@linkcode decodeHeader}),
 * whole messages ({@linkcode encodeRequest} and the other encoders,
 * {@linkcode decodeMessage}, {@linkcode DirtyMessageDecoder},
 * {@linkcode parseFrame}), a decoder stream, and the error classes carried
 * on the wire.
 *
 * Nothing here imports a `node:` module or uses a `Deno` API, directly or
 * through its imports: a CI test bundles this entry point for the browser
 * and round-trips gunicorn's own messages with it in Node 20 and in
 * headless Chromium. The client, the stash and the arbiter are in
 * `@sidecar/ipc/dirty`, which needs Deno 2.9.0 or later.
 *
 * ```ts
 * import {
 *   decodeMessage,
 *   encodeRequest,
 *   parseFrame,
 * } from "@sidecar/ipc/dirty/tlv";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeRequest(7n, "m:C", "add", [2, 3]);
 * const msg = parseFrame(decodeMessage(bytes));
 * assert.ok(msg.type === "request");
 * assert.deepEqual(msg.args, [2, 3]);
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./tlv.ts";
export * from "./dirty_float.ts";
export * from "./tlv_encoder.ts";
export * from "./tlv_decoder.ts";
export {
  decodeHeader,
  type DirtyHeader,
  type DirtyMessageType,
  encodeHeader,
  HEADER_SIZE,
  MAGIC,
  MAX_MESSAGE_SIZE,
  MESSAGE_TYPE_CODES,
  messageTypeName,
  PROTOCOL_VERSION,
  type RequestId,
} from "./header.ts";
export * from "./message.ts";
export * from "./message_encoders.ts";
export * from "./message_decoder.ts";
export * from "./message_stream.ts";
