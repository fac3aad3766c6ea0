// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Encoders of gunicorn 26's dirty messages, producing gunicorn's exact
 * bytes: any frame ({@linkcode encodeFrame}), and one function per message
 * type with gunicorn's payload keys, order and defaults.
 *
 * @module
 */

import { errorToDict } from "./errors.ts";
import type { DirtyDictInput, DirtyInput, TlvEncodeOptions } from "./tlv.ts";
import {
  type DirtyMessageType,
  encodeHeader,
  type RequestId,
} from "./header.ts";
import { encodeFrameView } from "./_frame_view.ts";

/** Options of the encoders. */
export interface DirtyMessageEncodeOptions extends TlvEncodeOptions {
  /**
   * Largest payload written; gunicorn would reject anything above
   * {@linkcode MAX_MESSAGE_SIZE}, so the encoder refuses it up front.
   *
   * @default {67108864}
   */
  maxMessageSize?: number;
}

/**
 * Encodes a message with any payload. `undefined` gives a zero-length
 * payload (as END and STATUS use); anything else is TLV-encoded. Decoding a
 * frame with `{ float: "tagged" }` and encoding it again with this function
 * reproduces the original bytes.
 *
 * @param type The message type.
 * @param id The request id.
 * @param payload The payload value, or `undefined` for none.
 * @param options Nesting and size limits.
 * @returns The whole message.
 * @throws {DirtyProtocolError} If the payload cannot be encoded or is too large.
 *
 * @example Usage
 * ```ts
 * import { decodeMessage, encodeFrame } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrame("response", 1n, { result: 5 });
 * assert.equal(bytes.length, 16 + 25);
 * assert.deepEqual(decodeMessage(bytes, { dict: "object" }).payload, { result: 5 });
 * ```
 */
export function encodeFrame(
  type: DirtyMessageType,
  id: RequestId,
  payload?: DirtyInput,
  options: DirtyMessageEncodeOptions = {},
): Uint8Array<ArrayBuffer> {
  return encodeFrameView(type, id, payload, options).slice();
}

/**
 * Encodes a REQUEST: `{"app_path", "action", "args", "kwargs"}` in that
 * order, with `[]` and `{}` for missing args and kwargs.
 *
 * @param id The request id.
 * @param appPath The app's `module:Class` path.
 * @param action The action to call.
 * @param args Positional arguments.
 * @param kwargs Keyword arguments.
 * @param options Nesting and size limits.
 * @returns The whole message.
 * @throws {DirtyProtocolError} If an argument cannot be encoded.
 *
 * @example Usage
 * ```ts
 * import { encodeRequest } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeRequest(2n, "m:C", "ping").length, 92);
 * ```
 */
export function encodeRequest(
  id: RequestId,
  appPath: string,
  action: string,
  args: readonly DirtyInput[] = [],
  kwargs: DirtyDictInput = {},
  options: DirtyMessageEncodeOptions = {},
): Uint8Array<ArrayBuffer> {
  return encodeFrame(
    "request",
    id,
    // A plain object keeps its keys in this order (a Map costs more).
    { app_path: appPath, action, args, kwargs },
    options,
  );
}

/**
 * Encodes a RESPONSE: `{"result": result}`.
 *
 * @param id The request id.
 * @param result The result value.
 * @param options Nesting and size limits.
 * @returns The whole message.
 * @throws {DirtyProtocolError} If the result cannot be encoded.
 *
 * @example Usage
 * ```ts
 * import { encodeResponse } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeResponse(3n, null).length, 16 + 17);
 * ```
 */
export function encodeResponse(
  id: RequestId,
  result: DirtyInput,
  options: DirtyMessageEncodeOptions = {},
): Uint8Array<ArrayBuffer> {
  return encodeFrame(
    "response",
    id,
    { result: result ?? null },
    options,
  );
}

/**
 * Encodes an ERROR: `{"error": {"error_type", "message", "details"}}`.
 * Accepts a {@linkcode DirtyError}, a wire error dict or any other error
 * (sent as `{name, message, {}}`), like gunicorn's `encode_error`.
 *
 * @param id The request id.
 * @param error The error.
 * @param options Nesting and size limits.
 * @returns The whole message.
 * @throws {DirtyProtocolError} If the details cannot be encoded.
 *
 * @example Usage
 * ```ts
 * import { decodeMessage, DirtyTimeoutError, encodeError, parseFrame } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const msg = parseFrame(decodeMessage(encodeError(9n, new DirtyTimeoutError("Worker timeout", 300))));
 * assert.equal(msg.type, "error");
 * if (msg.type === "error") assert.ok(msg.error instanceof DirtyTimeoutError);
 * ```
 */
export function encodeError(
  id: RequestId,
  error: unknown,
  options: DirtyMessageEncodeOptions = {},
): Uint8Array<ArrayBuffer> {
  const d = errorToDict(error);
  const dict = new Map<string, DirtyInput>([
    ["error_type", d.error_type],
    ["message", d.message],
    ["details", d.details as { [key: string]: DirtyInput }],
  ]);
  return encodeFrame("error", id, new Map([["error", dict]]), options);
}

/**
 * Encodes a CHUNK of a streamed result: `{"data": data}`.
 *
 * @param id The request id.
 * @param data The chunk value.
 * @param options Nesting and size limits.
 * @returns The whole message.
 * @throws {DirtyProtocolError} If the data cannot be encoded.
 *
 * @example Usage
 * ```ts
 * import { encodeChunk } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeChunk(12n, "Hello").length, 16 + 24);
 * ```
 */
export function encodeChunk(
  id: RequestId,
  data: DirtyInput,
  options: DirtyMessageEncodeOptions = {},
): Uint8Array<ArrayBuffer> {
  return encodeFrame("chunk", id, { data: data ?? null }, options);
}

/**
 * Encodes END (end of a stream; empty payload).
 *
 * @param id The request id.
 * @returns The 16-byte message.
 *
 * @example Usage
 * ```ts
 * import { encodeEnd } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeEnd(12n).length, 16);
 * ```
 */
export function encodeEnd(id: RequestId): Uint8Array<ArrayBuffer> {
  return encodeHeader("end", id, 0);
}

/**
 * Encodes a STATUS query (empty payload).
 *
 * @param id The request id.
 * @returns The 16-byte message.
 *
 * @example Usage
 * ```ts
 * import { encodeStatus } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeStatus(13n)[3], 0x11);
 * ```
 */
export function encodeStatus(id: RequestId): Uint8Array<ArrayBuffer> {
  return encodeHeader("status", id, 0);
}

/**
 * Encodes a MANAGE request: `{"op", "count"}`.
 *
 * @param id The request id.
 * @param op {@linkcode ManageOp.ADD} or {@linkcode ManageOp.REMOVE}.
 * @param count How many workers.
 * @returns The whole message.
 *
 * @example Usage
 * ```ts
 * import { encodeManage, ManageOp } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeManage(14n, ManageOp.ADD, 2).length, 16 + 40);
 * ```
 */
export function encodeManage(
  id: RequestId,
  op: number,
  count: number | bigint = 1,
): Uint8Array<ArrayBuffer> {
  return encodeFrame(
    "manage",
    id,
    new Map<string, DirtyInput>([["op", op], ["count", count]]),
  );
}

/** Optional fields of a STASH message. */
export interface StashFields {
  /**
   * The key (omitted on the wire when `null`/`undefined`, as gunicorn does).
   *
   * @default {undefined}
   */
  key?: DirtyInput;
  /**
   * The value (omitted on the wire when `null`/`undefined`).
   *
   * @default {undefined}
   */
  value?: DirtyInput;
  /**
   * A glob pattern for KEYS (omitted when `null`/`undefined`).
   *
   * @default {undefined}
   */
  pattern?: string | null;
}

/**
 * Encodes a STASH operation: `{"op", "table", ["key"], ["value"],
 * ["pattern"]}`; optional fields are written only when not null.
 *
 * @param id The request id.
 * @param op A {@linkcode StashOp} code.
 * @param table The table name.
 * @param fields Key, value, pattern.
 * @param options Nesting and size limits.
 * @returns The whole message.
 * @throws {DirtyProtocolError} If a field cannot be encoded.
 *
 * @example Usage
 * ```ts
 * import { encodeStash, StashOp } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeStash(27n, StashOp.ENSURE, "cache").length, 16 + 41);
 * ```
 */
export function encodeStash(
  id: RequestId,
  op: number,
  table: string,
  fields: StashFields = {},
  options: DirtyMessageEncodeOptions = {},
): Uint8Array<ArrayBuffer> {
  const m = new Map<string, DirtyInput>([["op", op], ["table", table]]);
  if (fields.key !== undefined && fields.key !== null) m.set("key", fields.key);
  if (fields.value !== undefined && fields.value !== null) {
    m.set("value", fields.value);
  }
  if (fields.pattern !== undefined && fields.pattern !== null) {
    m.set("pattern", fields.pattern);
  }
  return encodeFrame("stash", id, m, options);
}
