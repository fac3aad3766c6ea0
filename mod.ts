// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Real inter-process wire protocols for Deno, each byte-compatible with the
 * implementation people already run and tested against it:
 *
 * - {@linkcode connection}: CPython `multiprocessing.connection` (messages,
 *   HMAC handshake, `Listener`/`connect`, safe pickle).
 * - {@linkcode framing}: Mercurial's hgrpc frame protocol (frames, CBOR,
 *   zlib/zstd streams, reactors, client and server).
 * - {@linkcode session}: BIND 10 / Kea socket sessions (pass a live socket
 *   to another process over a Unix socket).
 * - {@linkcode dirty}: gunicorn 26 dirty workers (TLV codec, client, stash,
 *   arbiter and worker pool).
 *
 * Import one protocol from its own entry point (`@sidecar/ipc/connection`,
 * `@sidecar/ipc/framing`, `@sidecar/ipc/session`, `@sidecar/ipc/dirty`) to
 * load only that module; this entry point groups them as namespaces.
 * Importing is free of permissions; each operation documents the ones it
 * needs. The modules need Deno 2.9.0 or later; the codecs alone also have
 * entry points for any JavaScript runtime (`@sidecar/ipc/framing/frames`,
 * `@sidecar/ipc/dirty/tlv`, `@sidecar/ipc/connection/pickle`,
 * `@sidecar/ipc/session/header`).
 *
 * ```ts
 * import { connection } from "@sidecar/ipc";
 * import assert from "node:assert/strict";
 *
 * const bytes = connection.dumps({ task: "resize", sizes: [64, 128] });
 * assert.deepEqual(connection.loads(bytes), { task: "resize", sizes: [64, 128] });
 * ```
 *
 * @module
 */
export * as connection from "./connection/mod.ts";
export * as framing from "./framing/mod.ts";
export * as session from "./session/mod.ts";
export * as dirty from "./dirty/mod.ts";
