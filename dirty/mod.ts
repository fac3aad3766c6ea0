// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * gunicorn 26 "dirty workers" from Deno: the TLV value codec and the
 * 16-byte framed binary protocol, byte-compatible with gunicorn 26.1.0,
 * the error taxonomy carried on the wire, a frame decoder stream, and
 * {@linkcode DirtyClient} / {@linkcode StashClient} to call dirty apps and
 * the shared stash over the dirty arbiter's Unix socket, and
 * {@linkcode startArbiter} with {@linkcode DirtyApp}: an arbiter and worker
 * pool hosting apps written in TypeScript, which gunicorn's own Python
 * clients and ours call unchanged (`dirty/arbiter_cli.ts` is its command
 * line).
 *
 * Permissions: the codec needs none. The clients need
 * `--allow-read=<socket> --allow-write=<socket> --allow-net=unix:<socket>`
 * and, to find the socket from gunicorn's environment,
 * `--allow-env=GUNICORN_DIRTY_SOCKET`. The arbiter needs
 * `--allow-run=<deno> --allow-read --allow-write=<temp dir> --allow-net`
 * (its workers get only read access to the apps and this package, their
 * socket and the arbiter's, and `--allow-env=GUNICORN_DIRTY_SOCKET`, plus
 * what `workerPermissions` adds).
 *
 * Runtimes: Deno 2.9.0 or later (the clients' connections and
 * `startArbiter` fail on an older Deno with an error naming both versions,
 * `code` `"UNSUPPORTED_DENO"`). The codecs alone (TLV, header, messages)
 * are `@sidecar/ipc/dirty/tlv`, which runs in any JavaScript runtime.
 * `DirtyClient({ retry })` waits for an arbiter that is still starting or
 * restarting.
 *
 * Durations are milliseconds (`Infinity`: no limit); only the arbiter
 * CLI's gunicorn-style flags are seconds. Apps written in TypeScript run on
 * a thread of their own in each worker, get their keyword arguments as
 * `this.kwargs` and their request's `AbortSignal` as `this.signal` (see
 * `app.ts`).
 *
 * Errors: every class has a stable `code` to switch on (`err.code`):
 *
 * | class | `code` |
 * | --- | --- |
 * | {@linkcode DirtyError} (and foreign `error_type`s) | `DIRTY_ERROR` |
 * | {@linkcode DirtyTimeoutError} | `TIMEOUT` |
 * | {@linkcode DirtyConnectionError} | `CONNECTION_FAILED` |
 * | {@linkcode DirtyWorkerError} | `WORKER_FAILED` |
 * | {@linkcode DirtyAppError} | `APP_ERROR` |
 * | {@linkcode DirtyAppNotFoundError} | `APP_NOT_FOUND` |
 * | {@linkcode DirtyNoWorkersAvailableError} | `NO_WORKERS_AVAILABLE` |
 * | {@linkcode DirtyProtocolError} | `PROTOCOL_ERROR` |
 * | {@linkcode StashError} | `STASH_ERROR` |
 * | {@linkcode StashTableNotFoundError} | `STASH_TABLE_NOT_FOUND` |
 * | {@linkcode StashKeyNotFoundError} | `STASH_KEY_NOT_FOUND` |
 * | {@linkcode DirtyListenerError} | `LISTENER_FAILED` |
 *
 * Numbers: safe integers encode as INT64, other numbers as FLOAT64, `bigint`
 * as INT64 and {@linkcode DirtyFloat} as FLOAT64 even when integral. Dicts
 * decode as `Map` by default (wire order, any key), or as plain objects.
 * Apps get plain numbers, and the lists and dicts they pass through
 * unchanged keep their int/float types; `static floats = "tagged"` on a
 * {@linkcode DirtyApp} keeps every value's type, `static dicts = "map"`
 * every dict's key order (see `app.ts`).
 *
 * ```ts
 * import { decodeMessage, encodeRequest, parseFrame } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeRequest(2n, "m:C", "ping");
 * assert.equal(bytes.length, 92);
 * const msg = parseFrame(decodeMessage(bytes));
 * assert.equal(msg.type === "request" && msg.action, "ping");
 * ```
 *
 * @module
 */
export * from "./tlv_codec.ts";
export * from "./client.ts";
export * from "./stash_client.ts";
export * from "./stash_table.ts";
export * from "./app.ts";
export * from "./arbiter.ts";
