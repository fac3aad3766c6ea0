// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The codecs of Mercurial's hgrpc frame protocol on their own, for any
 * JavaScript runtime (browsers, Node, Deno, Bun, workers): 8-byte frames
 * ({@linkcode encodeFrameChunks}, {@linkcode FrameDecoder},
 * {@linkcode decodeFrames}), CBOR in Mercurial's subset
 * ({@linkcode encodeCbor}, {@linkcode CborStreamDecoder}), Mercurial's human
 * form of a frame ({@linkcode frameFromHumanString},
 * {@linkcode frameToHumanString}), the Web Streams over them
 * ({@linkcode FrameEncoderStream}, {@linkcode FrameBatchDecoderStream}) and
 * the errors they throw.
 *
 * Nothing here imports a `node:` module or uses a `Deno` API, directly or
 * through its imports: a CI test bundles this entry point for the browser
 * and decodes Mercurial's own frames with it in Node 20 and in headless
 * Chromium. The stream encodings (zlib, zstd), the reactors, the client and
 * the server are in `@sidecar/ipc/framing`, which needs Deno 2.9.0 or later.
 *
 * ```ts
 * import {
 *   decodeFrames,
 *   encodeFrame,
 *   frameFromHumanString,
 *   frameToHumanString,
 * } from "@sidecar/ipc/framing/frames";
 * import assert from "node:assert/strict";
 *
 * const frame = frameFromHumanString(
 *   "1 1 stream-begin command-request new cbor:{b'name': b'heads'}",
 * );
 * const bytes = encodeFrame(frame);
 * const [back] = decodeFrames(bytes);
 * assert.equal(
 *   frameToHumanString(back!),
 *   "1 1 stream-begin command-request new cbor:{b'name': b'heads'}",
 * );
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./cbor.ts";
export * from "./cbor_encoder.ts";
export * from "./cbor_decoder.ts";
export * from "./frame_codec.ts";
export * from "./frame_encoder.ts";
export * from "./frame_decoder.ts";
export * from "./human_frame.ts";
export * from "./frame_stream.ts";
