// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * CPython `multiprocessing.connection` for Deno: the same messages on the
 * wire (4-byte big-endian length prefix, `-1` + 64-bit length for huge
 * payloads), the same mutual HMAC challenge (legacy HMAC-MD5 of Python
 * 3.11 and older, `{sha256}` of 3.12+), `Listener` and `connect()` over
 * TCP, Unix sockets and Linux abstract addresses, with timeouts, abort
 * signals, Web Streams and `await using`.
 *
 * Layers: {@linkcode MessageDecoder} / {@linkcode encodeMessage} and
 * {@linkcode Handshake} are sans-I/O; {@linkcode MessageDecoderStream} and
 * {@linkcode MessageEncoderStream} wrap the framing as `TransformStream`s;
 * {@linkcode Connection}, {@linkcode Listener} and {@linkcode connect} do
 * the I/O. `send()`/`recv()` pickle values (protocol 4, as CPython 3.8-3.13
 * send) with the safe {@linkcode pickleCodec}; `sendBytes()`/`recvBytes()`
 * carry raw bytes. Where bytes are parsed: `message_codec.ts` (headers,
 * {@linkcode MessageDecoder}), `_read_buffer.ts` (a connection's received
 * messages, on `decodeHeader`), `handshake.ts` and the `*pickle*.ts`
 * files. Where sockets are touched: `_receiver.ts` reads (one receive at a
 * time), `_sender.ts` frames messages onto the package's write queue,
 * which writes, `connection.ts` closes, `_dial.ts` opens a client's
 * socket (the step `retry` repeats) and runs its handshake once, and
 * `listener.ts` binds and accepts.
 *
 * Errors, and how they map to CPython's: {@linkcode AuthenticationError}
 * (the same), {@linkcode BufferTooShort} (the same, carrying the whole
 * message), {@linkcode EOFError} (a clean close at a message boundary, or a
 * reset), {@linkcode ProtocolError} (CPython's `OSError` for "got end of file
 * during message" and "bad message length"; we are stricter: any EOF after
 * a header with a non-zero length, and negative lengths other than `-1`,
 * are errors, and a handshake that does not finish within
 * `handshakeTimeout` is one too), and {@linkcode ConnectionError}, the base
 * class, for use after `close()` and a connection left write-only.
 *
 * A {@linkcode Listener} runs each client's handshake on its own and no
 * client can stall or stop it: failed handshakes and `accept` errors a
 * client causes go to its `onError` hook, never to `accept()`.
 *
 * Managers (`multiprocessing.managers`): {@linkcode connectManager} returns
 * a {@linkcode SyncManagerClient} whose async proxies ({@linkcode QueueProxy},
 * {@linkcode DictProxy}, ...) use the shared objects of a CPython
 * `BaseManager`/`SyncManager`; {@linkcode ManagerServer} serves TypeScript
 * objects ({@linkcode ManagerQueue}, {@linkcode ManagerDict}, classes of your
 * own) to CPython's proxies. Each proxy has its own connection and one
 * reference (`await using` releases it). Replies may name only the
 * manager's own classes (`Token`, `RebuildProxy`, the proxy classes as
 * plain names) and exceptions (as inert {@linkcode PyException}s): the
 * `reconstruct` option of {@linkcode loads} allows `NEWOBJ`/`BUILD` for
 * those and nothing else. Manager errors carry a `code`: `REMOTE_ERROR`
 * ({@linkcode RemoteError}), `BAD_REPLY` ({@linkcode ManagerProtocolError}),
 * `DISCONNECTED` ({@linkcode ManagerDisconnectedError}), and
 * `UNKNOWN_TYPEID`, `UNKNOWN_METHOD`, `UNPICKLABLE`, `PROXY_CLOSED`,
 * `MANAGER_CLOSED` ({@linkcode ManagerError}).
 *
 * Permissions: `--allow-net=<host>` for TCP; for a Unix socket path,
 * `--allow-net=unix:<path> --allow-read=<path> --allow-write=<path>` (a
 * {@linkcode Listener} also wants `--allow-sys` to bind with a private
 * mode, see its notes).
 *
 * A sidecar spawned a moment ago may not listen yet: {@linkcode connect}
 * and {@linkcode connectManager} take `retry` (`true`, or a
 * {@linkcode RetryOptions}) to try the connect step again while nobody
 * listens (`ConnectionRefused`) or the Unix socket does not exist yet
 * (`NotFound`). The handshake is never retried: a wrong key fails at once.
 *
 * ## Runtimes and platforms
 *
 * - The transports ({@linkcode connect}, {@linkcode Listener},
 *   {@linkcode connectManager}, {@linkcode ManagerClient},
 *   {@linkcode ManagerServer}) need Deno 2.9.0 or later, and fail on an
 *   older Deno with `Cannot <action>: @sidecar/ipc needs Deno 2.9.0 or
 *   later, this is Deno 2.8.3` (`code` `"UNSUPPORTED_DENO"`). The pickle
 *   codec alone is `@sidecar/ipc/connection/pickle`, which runs in any
 *   JavaScript runtime.
 * - TCP works on Linux, macOS and Windows. Unix socket paths work on Linux
 *   and macOS (Deno has no Unix sockets on Windows), abstract addresses
 *   (`"\0name"`) on Linux only. CI runs on Linux.
 *
 * ```ts
 * import { connect, Listener } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * await using listener = new Listener({ hostname: "127.0.0.1", port: 0 }, { authkey: "secret" });
 * const [server, client] = await Promise.all([
 *   listener.accept(),
 *   connect(listener.address, { authkey: "secret" }),
 * ]);
 * await client.sendBytes(new TextEncoder().encode("ping"));
 * assert.equal(new TextDecoder().decode(await server.recvBytes()), "ping");
 * await client.close();
 * await server.close();
 * ```
 *
 * Every error has a stable `code` to switch on (`err.code`, see
 * {@linkcode ConnectionErrorCode}):
 *
 * | class | `code` |
 * | --- | --- |
 * | {@linkcode ConnectionError} | `CONNECTION_CLOSED` (use after `close()`, a receive pending when it closed, a send it dropped), `WRITE_ONLY` (a receive after a protocol error), the errno name of a failed read or write (`EPIPE`, `ECONNRESET`, ...) or `TRANSPORT_FAILED`, else `CONNECTION_ERROR` |
 * | {@linkcode AuthenticationError} | `AUTHENTICATION_FAILED` |
 * | {@linkcode BufferTooShort} | `BUFFER_TOO_SHORT` |
 * | {@linkcode EOFError} | `EOF` |
 * | {@linkcode ProtocolError} | `MESSAGE_TOO_LARGE`, `TRUNCATED`, `BAD_LENGTH`, `HANDSHAKE_TIMEOUT` (no handshake within `handshakeTimeout`), else `PROTOCOL_ERROR` (a handshake that broke the protocol) |
 * | {@linkcode UnpicklingError} | `PICKLE_TRUNCATED`, `PICKLE_INVALID`, `PICKLE_REFUSED`, `PICKLE_LIMIT` (its `reason`) |
 * | {@linkcode ManagerError} and its subclasses | `REMOTE_ERROR` ({@linkcode RemoteError}), `BAD_REPLY` ({@linkcode ManagerProtocolError}), `DISCONNECTED` ({@linkcode ManagerDisconnectedError}), `UNKNOWN_TYPEID`, `UNKNOWN_METHOD`, `UNPICKLABLE`, `PROXY_CLOSED`, `MANAGER_CLOSED` (see {@linkcode ManagerErrorCode}) |
 * | {@linkcode PyException} | `PYTHON_EXCEPTION` (a Python exception to raise in the caller) |
 *
 * @module
 */
export * from "./address.ts";
export * from "./authenticate.ts";
export * from "./codec.ts";
export * from "./connect.ts";
export * from "./connection.ts";
export * from "./errors.ts";
export * from "./handshake.ts";
export * from "./listener.ts";
export * from "./message_codec.ts";
export * from "./message_decoder_stream.ts";
export * from "./message_encoder_stream.ts";
export * from "./pickle.ts";
export * from "./pipe.ts";
export * from "./manager_client.ts";
export * from "./manager_errors.ts";
export * from "./manager_queue_proxy.ts";
export * from "./manager_dict_proxy.ts";
export * from "./manager_list_proxy.ts";
export * from "./manager_sync_proxies.ts";
export * from "./manager_sync_client.ts";
export * from "./manager_proxy.ts";
export * from "./manager_token.ts";
export * from "./manager_queue.ts";
export * from "./manager_dict.ts";
export * from "./manager_server.ts";
