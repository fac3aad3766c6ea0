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
 * Layers, from the bottom (where each byte is parsed, where each socket is
 * touched):
 *
 * - frames: {@linkcode encodeFrameChunks} and the other encoders
 *   (`frame_encoder.ts`), {@linkcode FrameDecoder} (`frame_decoder.ts`;
 *   large payloads are never copied, every length is checked before
 *   anything is buffered);
 * - CBOR: {@linkcode encodeCbor} (`cbor_encoder.ts`),
 *   {@linkcode CborStreamDecoder} (`cbor_decoder.ts`; linear in its input
 *   however it is cut);
 * - stream encodings: {@linkcode createStreamEncoder};
 * - state machines: {@linkcode ServerReactor} (`server_reactor.ts`; what it
 *   reads from requests in `_server_input.ts`) with
 *   {@linkcode ResponseWriter} (`response_writer.ts`), and
 *   {@linkcode ClientReactor} (`client_reactor.ts`);
 * - Web Streams: {@linkcode FrameEncoderStream},
 *   {@linkcode FrameBatchDecoderStream};
 * - over a {@linkcode ByteChannel}: {@linkcode FramingClient},
 *   {@linkcode serveConnection};
 * - transports (the only files that touch sockets and stdio):
 *   {@linkcode connect}, {@linkcode serve}, {@linkcode serveStdio}.
 *
 * Hostile peers cost little: every protocol error (a bad length, garbage,
 * input that ends inside a frame, a frame sequence the reactors refuse)
 * ends the connection with a {@linkcode ProtocolError}, reported to
 * `onProtocolError` and rejected from `serveConnection` (so `serveStdio`
 * exits non-zero with Mercurial's message where Mercurial has one); the
 * client takes every frame Mercurial sends (a command error is one frame
 * however long, bounded by `maxErrorPayloadSize`) and an oversized frame
 * fails only its call; every memory limit counts the bytes really held
 * (`maxDeferredSize` and `maxQueuedSize` of the server's output,
 * `maxBufferedSize` of partial requests and of the client's responses);
 * `serve()`'s accept loop survives any peer.
 *
 * Every error is a {@linkcode FramingError} with a stable `code`:
 *
 * | code | class | meaning |
 * | --- | --- | --- |
 * | `FRAME_TOO_LARGE` | `ProtocolError` | a frame over its limit |
 * | `INCOMPLETE_FRAME` | `ProtocolError` | input ended inside a frame |
 * | `PROTOCOL_ERROR` | `ProtocolError` | a frame sequence the reactors refuse |
 * | `LIMIT_EXCEEDED` | `ProtocolError`, `CborDecodeError` | a request, response or value over a limit |
 * | `STREAM_DECODE_ERROR` | `ProtocolError` | a zlib or zstd stream that does not decode |
 * | `CBOR_DECODE_ERROR` | `CborDecodeError` | malformed CBOR, or outside Mercurial's subset |
 * | `COMMAND_ERROR` | `CommandError` | the server answered `{status: error}` |
 * | `SERVER_ERROR` | `ServerError` | the server sent an `error-response` frame |
 * | `REDIRECTED` | `FramingError` | the server answered with a content redirect |
 * | `CONNECTION_CLOSED` | `FramingError` | the peer closed the connection, or a write failed |
 * | `CONNECTION_FAILED` | `FramingError` | reading from the connection failed |
 * | `CLIENT_CLOSED` | `FramingError` | the client was closed |
 * | an errno name (`ENOTCONN`, `EMFILE`, `EBADF`, ...) | `FramingError` | `accept()` failed (reported to `serve()`'s `onError`, or ending it for the listener's own errors) |
 *
 * Permissions: none for the codecs, reactors and in-memory channels;
 * `--allow-net` for TCP; `--allow-read --allow-write` for Unix sockets.
 *
 * Runtimes: Deno 2.9.0 or later (`serve`, `connect` and `serveStdio` fail
 * on an older Deno with an error naming both versions, `code`
 * `"UNSUPPORTED_DENO"`). The codecs alone (frames, CBOR, human form) are
 * `@sidecar/ipc/framing/frames`, which runs in any JavaScript runtime. The
 * server and client offer and pick only the stream encodings the runtime
 * runs ({@linkcode availableStreamEncodings}): without zstd in `node:zlib`
 * they use zlib. `connect({ ..., retry })` waits for a server that is not
 * listening yet.
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
export * from "./frames.ts";
export * from "./stream_encoding.ts";
export * from "./output_stream.ts";
export * from "./response_objects.ts";
export * from "./response_writer.ts";
export * from "./server_reactor_types.ts";
export * from "./server_reactor.ts";
export * from "./client_reactor_types.ts";
export * from "./client_reactor.ts";
export * from "./byte_channel.ts";
export * from "./client_types.ts";
export * from "./client.ts";
export * from "./connect.ts";
export * from "./serve_connection.ts";
export * from "./server.ts";
