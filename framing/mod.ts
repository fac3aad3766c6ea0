// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Mercurial's frame-based wire protocol ("hgrpc", as released in Mercurial
 * 4.8 to 6.3.2 and spoken by its `wireprotoframing` reactors): 8-byte
 * frames with request ids, streams whose content encoding (`identity`,
 * `zlib`, `zstd-8mb`) outlives one request, CBOR payloads in Mercurial's
 * subset, the server and client reactors as sans-I/O state machines, Web
 * Streams over them, and a client and server over TCP, Unix sockets and
 * pipes (stdin/stdout). Tested against the real Mercurial 6.3.2 in both
 * roles.
 *
 * Layers, from the bottom: {@linkcode encodeFrameChunks} /
 * {@linkcode FrameDecoder} (frames; large payloads are never copied),
 * {@linkcode encodeCbor} / {@linkcode CborStreamDecoder} (CBOR),
 * {@linkcode createStreamEncoder} (encodings), {@linkcode ServerReactor} and
 * {@linkcode ClientReactor} (state machines), {@linkcode FrameEncoderStream} /
 * {@linkcode FrameBatchDecoderStream} (streams), {@linkcode FramingClient} /
 * {@linkcode serveConnection}, {@linkcode connect} / {@linkcode serve} /
 * {@linkcode serveStdio} (transports).
 *
 * Permissions: none for the codecs, reactors and in-memory channels;
 * `--allow-net` for TCP; `--allow-read --allow-write` for Unix sockets.
 *
 * ```ts
 * import { FramingClient, serveConnection } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * // Any pair of byte streams will do: here two in-memory pipes.
 * const up = new TransformStream<Uint8Array, Uint8Array>();
 * const down = new TransformStream<Uint8Array, Uint8Array>();
 * const served = serveConnection({ readable: up.readable, writable: down.writable }, {
 *   async *count(args) {
 *     for (let i = 0; i < Number(args.get("n")); i++) yield i;
 *   },
 * });
 * const client = new FramingClient({ readable: down.readable, writable: up.writable });
 * assert.deepEqual(await Array.fromAsync(client.call("count", { n: 3 })), [0, 1, 2]);
 * await client.close();
 * await served;
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
export * from "./stream_encoding.ts";
export * from "./output_stream.ts";
export * from "./response_writer.ts";
export * from "./server_reactor.ts";
export * from "./client_reactor.ts";
export * from "./frame_stream.ts";
export * from "./byte_channel.ts";
export * from "./client.ts";
export * from "./connect.ts";
export * from "./serve_connection.ts";
export * from "./server.ts";
