// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Mercurial's frame-based wire protocol ("hgrpc", as released in Mercurial
 * 4.8 to 6.3.2): 8-byte frames with request ids, streams with per-stream
 * content encoding (`identity`, `zlib`, `zstd-8mb`) that outlives one
 * request, CBOR payloads in Mercurial's subset, the server and client
 * reactors as sans-I/O state machines, Web Streams over them, and a client
 * and server over TCP, Unix sockets and pipes.
 *
 * ```ts
 * import { decodeFrames, encodeFrame, frameFromHumanString } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const frame = frameFromHumanString("1 1 stream-begin command-request new cbor:{b'name': b'heads'}");
 * const [back] = decodeFrames(encodeFrame(frame));
 * assert.deepEqual(back, frame);
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./cbor.ts";
export * from "./frame_codec.ts";
export * from "./human_frame.ts";
export * from "./stream_encoding.ts";
export * from "./output_stream.ts";
export * from "./server_reactor.ts";
export * from "./client_reactor.ts";
export * from "./frame_stream.ts";
export * from "./client.ts";
export * from "./server.ts";
