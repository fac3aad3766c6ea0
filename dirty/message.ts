// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Framing of gunicorn 26's dirty protocol (`gunicorn/dirty/protocol.py`):
 * the 16-byte header (`>2sBBIQ`: magic `GD`, version 1, type, payload
 * length, request id), the eight message types, encoders that produce
 * gunicorn's exact bytes, a whole-buffer decoder and a push decoder, both
 * validating in gunicorn's order with gunicorn's messages.
 *
 * @module
 */

import {
  type DirtyError,
  DirtyProtocolError,
  errorFromDict,
  errorToDict,
} from "./errors.ts";
import {
  decodeTlv,
  type DirtyDictInput,
  type DirtyInput,
  type DirtyValue,
  type TlvDecodeOptions,
  type TlvEncodeOptions,
  TlvWriter,
} from "./tlv.ts";
import { dictGet, isDict } from "./_dict.ts";
import { pyBytesRepr } from "./_py_repr.ts";

/** Size of the header in bytes. */
export const HEADER_SIZE = 16;
/** Largest payload gunicorn accepts: 64 MiB. */
export const MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
/** The protocol version byte. */
export const PROTOCOL_VERSION = 1;
/** The magic bytes, `"GD"`. */
export const MAGIC: Uint8Array = Uint8Array.of(0x47, 0x44);

/** The message type names gunicorn uses internally. */
export type DirtyMessageType =
  | "request"
  | "response"
  | "error"
  | "chunk"
  | "end"
  | "stash"
  | "status"
  | "manage";

/** Wire codes of the message types. */
export const MESSAGE_TYPE_CODES: Readonly<Record<DirtyMessageType, number>> =
  Object.freeze({
    request: 0x01,
    response: 0x02,
    error: 0x03,
    chunk: 0x04,
    end: 0x05,
    stash: 0x10,
    status: 0x11,
    manage: 0x12,
  });

const CODE_TO_TYPE: (DirtyMessageType | undefined)[] = [];
for (const [name, code] of Object.entries(MESSAGE_TYPE_CODES)) {
  CODE_TO_TYPE[code] = name as DirtyMessageType;
}

/**
 * The name of a wire message type code.
 *
 * @param code The type byte.
 * @returns The name, or `undefined` for an unknown code.
 *
 * @example Usage
 * ```ts
 * import { messageTypeName } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * assert.equal(messageTypeName(0x04), "chunk");
 * assert.equal(messageTypeName(0x06), undefined);
 * ```
 */
export function messageTypeName(code: number): DirtyMessageType | undefined {
  return CODE_TO_TYPE[code];
}

/** The stash operation codes, by name. */
export interface StashOps {
  /** Store a value (creates the table). */
  readonly PUT: 1;
  /** Read a value. */
  readonly GET: 2;
  /** Delete a key. */
  readonly DELETE: 3;
  /** List keys, optionally by glob pattern. */
  readonly KEYS: 4;
  /** Empty a table. */
  readonly CLEAR: 5;
  /** Table size. */
  readonly INFO: 6;
  /** Create a table if missing. */
  readonly ENSURE: 7;
  /** Drop a table. */
  readonly DELETE_TABLE: 8;
  /** List tables. */
  readonly TABLES: 9;
  /** Table or key existence. */
  readonly EXISTS: 10;
}

/** Stash operation codes. */
export const StashOp: StashOps = Object.freeze(
  {
    PUT: 1,
    GET: 2,
    DELETE: 3,
    KEYS: 4,
    CLEAR: 5,
    INFO: 6,
    ENSURE: 7,
    DELETE_TABLE: 8,
    TABLES: 9,
    EXISTS: 10,
  } as const,
);

/** A stash operation code. */
export type StashOpCode = StashOps[keyof StashOps];

/** The manage operation codes, by name. */
export interface ManageOps {
  /** Spawn workers. */
  readonly ADD: 1;
  /** Stop the oldest workers. */
  readonly REMOVE: 2;
}

/** Worker management operation codes. */
export const ManageOp: ManageOps = Object.freeze(
  { ADD: 1, REMOVE: 2 } as const,
);

/** A manage operation code. */
export type ManageOpCode = ManageOps[keyof ManageOps];

/** A request id: a uint64 as `bigint`, or a non-negative safe integer. */
export type RequestId = bigint | number;

const UINT64_MAX = (1n << 64n) - 1n;

function checkId(id: RequestId): bigint {
  if (typeof id === "number") {
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new RangeError(`Cannot encode request id: ${id} is not a uint64`);
    }
    return BigInt(id);
  }
  if (typeof id !== "bigint" || id < 0n || id > UINT64_MAX) {
    throw new RangeError(
      `Cannot encode request id: ${String(id)} is not a uint64`,
    );
  }
  return id;
}

/** A decoded header. */
export interface DirtyHeader {
  /** The message type. */
  type: DirtyMessageType;
  /** The request id (uint64). */
  id: bigint;
  /** The payload length in bytes. */
  length: number;
}

/** Options of the decoders. */
export interface DirtyMessageDecodeOptions extends TlvDecodeOptions {
  /**
   * Largest payload accepted, at most {@linkcode MAX_MESSAGE_SIZE}; checked
   * against the header before anything is allocated.
   *
   * @default {67108864}
   */
  maxMessageSize?: number;
}

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

function maxSize(option: number | undefined): number {
  if (option === undefined) return MAX_MESSAGE_SIZE;
  if (
    !Number.isSafeInteger(option) || option < 0 || option > MAX_MESSAGE_SIZE
  ) {
    throw new RangeError(
      `Cannot use maxMessageSize ${option}: must be an integer from 0 to ${MAX_MESSAGE_SIZE}`,
    );
  }
  return option;
}

/**
 * Encodes a 16-byte header.
 *
 * @param type The message type.
 * @param id The request id (uint64).
 * @param length The payload length.
 * @returns The header bytes.
 * @throws {RangeError} If the id is not a uint64 or the length not a uint32.
 *
 * @example Usage
 * ```ts
 * import { encodeHeader } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const h = encodeHeader("end", 12n, 0);
 * assert.deepEqual([...h.subarray(0, 4)], [0x47, 0x44, 1, 5]);
 * assert.equal(h[15], 12);
 * ```
 */
export function encodeHeader(
  type: DirtyMessageType,
  id: RequestId,
  length: number,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(HEADER_SIZE);
  writeHeader(new DataView(out.buffer), 0, type, checkId(id), length);
  return out;
}

function writeHeader(
  view: DataView,
  at: number,
  type: DirtyMessageType,
  id: bigint,
  length: number,
): void {
  const code = MESSAGE_TYPE_CODES[type];
  if (code === undefined) {
    throw new TypeError(`Cannot encode message: unknown type ${type}`);
  }
  if (!Number.isSafeInteger(length) || length < 0 || length > 0xffffffff) {
    throw new RangeError(
      `Cannot encode header: length ${length} is not a uint32`,
    );
  }
  view.setUint8(at, 0x47);
  view.setUint8(at + 1, 0x44);
  view.setUint8(at + 2, PROTOCOL_VERSION);
  view.setUint8(at + 3, code);
  view.setUint32(at + 4, length);
  view.setBigUint64(at + 8, id);
}

/**
 * Decodes and validates a header in gunicorn's order: size, magic,
 * version, type, length limit. Extra bytes after the first 16 are ignored.
 *
 * @param data At least 16 bytes.
 * @param options The payload size limit.
 * @returns The type, id and payload length.
 * @throws {DirtyProtocolError} With gunicorn's message.
 *
 * @example Usage
 * ```ts
 * import { decodeHeader, DirtyProtocolError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const h = Uint8Array.from([0x47, 0x44, 1, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 13]);
 * assert.deepEqual(decodeHeader(h), { type: "status", id: 13n, length: 0 });
 * h[0] = 0x58;
 * assert.throws(() => decodeHeader(h), DirtyProtocolError);
 * ```
 */
export function decodeHeader(
  data: Uint8Array,
  options: { maxMessageSize?: number } = {},
): DirtyHeader {
  const limit = maxSize(options.maxMessageSize);
  if (data.length < HEADER_SIZE) {
    throw new DirtyProtocolError(
      `Header too short: ${data.length} bytes, expected ${HEADER_SIZE}`,
      { rawData: data },
    );
  }
  if (data[0] !== 0x47 || data[1] !== 0x44) {
    throw new DirtyProtocolError(
      `Invalid magic: ${pyBytesRepr(data.subarray(0, 2))}, expected b'GD'`,
      { rawData: data.subarray(0, 20) },
    );
  }
  if (data[2] !== PROTOCOL_VERSION) {
    throw new DirtyProtocolError(
      `Unsupported protocol version: ${data[2]}, expected ${PROTOCOL_VERSION}`,
      { rawData: data.subarray(0, 20) },
    );
  }
  const type = CODE_TO_TYPE[data[3]!];
  if (type === undefined) {
    throw new DirtyProtocolError(
      `Unknown message type: 0x${data[3]!.toString(16).padStart(2, "0")}`,
      { rawData: data.subarray(0, 20) },
    );
  }
  const view = new DataView(data.buffer, data.byteOffset, HEADER_SIZE);
  const length = view.getUint32(4);
  if (length > limit) {
    throw new DirtyProtocolError(
      `Message too large: ${length} bytes (max: ${limit})`,
    );
  }
  return { type, id: view.getBigUint64(8), length };
}

/** One decoded message: its type, id and decoded payload. */
export interface DirtyFrame {
  /** The message type. */
  type: DirtyMessageType;
  /** The request id (uint64). */
  id: bigint;
  /**
   * The decoded TLV payload: normally a dict. A zero-length payload decodes
   * as an empty dict for every type, as in gunicorn.
   */
  payload: DirtyValue;
}

function emptyDict(options: TlvDecodeOptions): DirtyValue {
  return options.dict === "object" ? {} : new Map();
}

function decodePayload(
  payload: Uint8Array,
  options: TlvDecodeOptions,
): DirtyValue {
  if (payload.length === 0) return emptyDict(options);
  try {
    return decodeTlv(payload, options);
  } catch (e) {
    if (e instanceof DirtyProtocolError) throw e;
    throw new DirtyProtocolError(
      `Failed to decode TLV payload: ${
        e instanceof Error ? e.message : String(e)
      }`,
      { rawData: payload.subarray(0, 50), cause: e },
    );
  }
}

/**
 * Decodes exactly one whole message, like gunicorn's
 * `BinaryProtocol.decode_message`, with the same checks and messages.
 * Unlike gunicorn, bytes after the message are rejected.
 *
 * @param data One complete message.
 * @param options Payload representation and size limit.
 * @returns The frame.
 * @throws {DirtyProtocolError} On any malformed input.
 *
 * @example Usage
 * ```ts
 * import { decodeMessage, encodeChunk } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const frame = decodeMessage(encodeChunk(12n, "Hello"));
 * assert.equal(frame.type, "chunk");
 * assert.deepEqual(frame.payload, new Map([["data", "Hello"]]));
 * ```
 */
export function decodeMessage(
  data: Uint8Array,
  options: DirtyMessageDecodeOptions = {},
): DirtyFrame {
  const { type, id, length } = decodeHeader(data, options);
  if (data.length < HEADER_SIZE + length) {
    throw new DirtyProtocolError(
      `Incomplete message: expected ${
        HEADER_SIZE + length
      } bytes, got ${data.length}`,
      { rawData: data.subarray(0, 50) },
    );
  }
  if (data.length > HEADER_SIZE + length) {
    throw new DirtyProtocolError(
      `Trailing data after message: ${
        data.length - HEADER_SIZE - length
      } bytes`,
      {
        rawData: data.subarray(HEADER_SIZE + length, HEADER_SIZE + length + 20),
      },
    );
  }
  const payload = decodePayload(
    data.subarray(HEADER_SIZE, HEADER_SIZE + length),
    options,
  );
  return { type, id, payload };
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
  const bigId = checkId(id);
  const limit = maxSize(options.maxMessageSize);
  // One spare writer is kept between calls; a nested call gets a fresh one.
  let w = spareWriter;
  spareWriter = null;
  if (w === null) w = new TlvWriter(4096, options);
  else w.reset(options);
  try {
    w.skip(HEADER_SIZE);
    if (payload !== undefined) w.value(payload);
    const length = w.length - HEADER_SIZE;
    if (length > limit) {
      throw new DirtyProtocolError(
        `Message too large: ${length} bytes (max: ${limit})`,
      );
    }
    writeHeader(w.dataView(), 0, type, bigId, length);
    return w.bytes().slice();
  } finally {
    if (w.capacity <= 1 << 20) spareWriter = w;
  }
}

let spareWriter: TlvWriter | null = null;

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
    new Map<string, DirtyInput>([
      ["app_path", appPath],
      ["action", action],
      ["args", args],
      ["kwargs", kwargs],
    ]),
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
    new Map([["result", result ?? null]]),
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
  return encodeFrame("chunk", id, new Map([["data", data ?? null]]), options);
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

/** A REQUEST, read by {@linkcode parseFrame}. */
export interface RequestMessage {
  /** Always `"request"`. */
  type: "request";
  /** The request id. */
  id: bigint;
  /** `app_path` (`""` when absent). */
  appPath: string;
  /** `action` (`""` when absent). */
  action: string;
  /** `args` (`[]` when absent). */
  args: DirtyValue[];
  /** `kwargs` as a dict value (empty when absent). */
  kwargs: DirtyValue;
}

/** A RESPONSE. */
export interface ResponseMessage {
  /** Always `"response"`. */
  type: "response";
  /** The request id. */
  id: bigint;
  /** `result` (`null` when absent). */
  result: DirtyValue;
}

/** An ERROR, with the error already mapped to its class. */
export interface ErrorMessage {
  /** Always `"error"`. */
  type: "error";
  /** The request id. */
  id: bigint;
  /** The error built by {@linkcode errorFromDict}. */
  error: DirtyError;
}

/** A CHUNK. */
export interface ChunkMessage {
  /** Always `"chunk"`. */
  type: "chunk";
  /** The request id. */
  id: bigint;
  /** `data` (`null` when absent). */
  data: DirtyValue;
}

/** END or STATUS (no fields). */
export interface EmptyMessage {
  /** `"end"` or `"status"`. */
  type: "end" | "status";
  /** The request id. */
  id: bigint;
}

/** A STASH operation. */
export interface StashMessage {
  /** Always `"stash"`. */
  type: "stash";
  /** The request id. */
  id: bigint;
  /** `op` as sent (`undefined` when absent). */
  op: DirtyValue | undefined;
  /** `table` (`""` when absent). */
  table: string;
  /** Whether `key` was present. */
  hasKey: boolean;
  /** `key` (`null` when absent). */
  key: DirtyValue;
  /** `value` (`null` when absent). */
  value: DirtyValue;
  /** `pattern` (`null` when absent). */
  pattern: DirtyValue;
}

/** A MANAGE request. */
export interface ManageMessage {
  /** Always `"manage"`. */
  type: "manage";
  /** The request id. */
  id: bigint;
  /** `op` as sent (`undefined` when absent). */
  op: DirtyValue | undefined;
  /** `count` as sent (`1` when absent). */
  count: DirtyValue;
}

/** Any message, by type. */
export type DirtyMessage =
  | RequestMessage
  | ResponseMessage
  | ErrorMessage
  | ChunkMessage
  | EmptyMessage
  | StashMessage
  | ManageMessage;

/**
 * Reads the fields of a decoded frame by type, with gunicorn's defaults
 * for absent fields. Unlike gunicorn, payload keys never override the
 * header's type or id, and a payload that is not a dict is rejected.
 *
 * @param frame A decoded frame.
 * @returns The typed message.
 * @throws {DirtyProtocolError} If the payload is not a dict or a field has the wrong type.
 *
 * @example Usage
 * ```ts
 * import { decodeMessage, encodeRequest, parseFrame } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const msg = parseFrame(decodeMessage(encodeRequest(1n, "m:C", "add", [2, 3])));
 * assert.equal(msg.type, "request");
 * if (msg.type === "request") assert.deepEqual(msg.args, [2, 3]);
 * ```
 */
export function parseFrame(frame: DirtyFrame): DirtyMessage {
  const { type, id, payload } = frame;
  if (!isDict(payload)) {
    throw new DirtyProtocolError(
      `Cannot read ${type} message: payload is not a dict`,
    );
  }
  const str = (key: string): string => {
    const v = dictGet(payload, key);
    if (v === undefined) return "";
    if (typeof v !== "string") {
      throw new DirtyProtocolError(
        `Cannot read ${type} message: ${key} is not a string`,
      );
    }
    return v;
  };
  switch (type) {
    case "request": {
      const args = dictGet(payload, "args") ?? [];
      if (!Array.isArray(args)) {
        throw new DirtyProtocolError(
          "Cannot read request message: args is not a list",
        );
      }
      const kwargs = dictGet(payload, "kwargs") ?? emptyDictLike(payload);
      if (!isDict(kwargs)) {
        throw new DirtyProtocolError(
          "Cannot read request message: kwargs is not a dict",
        );
      }
      return {
        type,
        id,
        appPath: str("app_path"),
        action: str("action"),
        args,
        kwargs,
      };
    }
    case "response":
      return { type, id, result: dictGet(payload, "result") ?? null };
    case "error":
      return {
        type,
        id,
        error: errorFromDict(dictGet(payload, "error") ?? {}),
      };
    case "chunk":
      return { type, id, data: dictGet(payload, "data") ?? null };
    case "end":
    case "status":
      return { type, id };
    case "stash": {
      const key = dictGet(payload, "key");
      return {
        type,
        id,
        op: dictGet(payload, "op"),
        table: str("table"),
        hasKey: key !== undefined,
        key: key ?? null,
        value: dictGet(payload, "value") ?? null,
        pattern: dictGet(payload, "pattern") ?? null,
      };
    }
    case "manage":
      return {
        type,
        id,
        op: dictGet(payload, "op"),
        count: dictGet(payload, "count") ?? 1,
      };
  }
}

function emptyDictLike(like: DirtyValue): DirtyValue {
  return like instanceof Map ? new Map() : {};
}

/**
 * Push decoder: feed it bytes as they arrive, get whole frames back. The
 * header is validated as soon as its 16 bytes are in (gunicorn's order);
 * the payload buffer is allocated only after the length passed the limit.
 * After an error the decoder stays failed and rethrows it.
 *
 * @example Usage
 * ```ts
 * import { DirtyMessageDecoder, encodeChunk, encodeEnd } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([...encodeChunk(5n, "tok0"), ...encodeEnd(5n)]);
 * const dec = new DirtyMessageDecoder();
 * const frames = [...dec.push(bytes.subarray(0, 20)), ...dec.push(bytes.subarray(20))];
 * assert.deepEqual(frames.map((f) => f.type), ["chunk", "end"]);
 * dec.finish();
 * ```
 */
export class DirtyMessageDecoder {
  #options: DirtyMessageDecodeOptions;
  #limit: number;
  #head = new Uint8Array(HEADER_SIZE);
  #headFill = 0;
  #header: DirtyHeader | null = null;
  #payload: Uint8Array | null = null;
  #payloadFill = 0;
  #error: unknown = null;

  /**
   * Creates a decoder.
   *
   * @param options Payload representation and size limit.
   */
  constructor(options: DirtyMessageDecodeOptions = {}) {
    this.#options = options;
    this.#limit = maxSize(options.maxMessageSize);
  }

  /**
   * Bytes held for an incomplete message.
   *
   * @returns The count.
   *
   * @example Usage
   * ```ts
   * import { DirtyMessageDecoder } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const dec = new DirtyMessageDecoder();
   * dec.push(Uint8Array.of(0x47, 0x44));
   * assert.equal(dec.buffered, 2);
   * ```
   */
  get buffered(): number {
    return this.#headFill + this.#payloadFill;
  }

  /**
   * Feeds bytes and returns every message they complete.
   *
   * @param chunk The next bytes.
   * @returns Complete frames, possibly none.
   * @throws {DirtyProtocolError} On malformed input.
   *
   * @example Usage
   * ```ts
   * import { DirtyMessageDecoder, encodeStatus } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const [frame] = new DirtyMessageDecoder().push(encodeStatus(13n));
   * assert.equal(frame?.type, "status");
   * ```
   */
  push(chunk: Uint8Array): DirtyFrame[] {
    if (this.#error !== null) throw this.#error;
    try {
      return this.#push(chunk);
    } catch (e) {
      this.#error = e;
      throw e;
    }
  }

  #push(chunk: Uint8Array): DirtyFrame[] {
    const out: DirtyFrame[] = [];
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#header === null) {
        if (this.#headFill === 0 && n - i >= HEADER_SIZE) {
          // Fast path: header (and maybe payload) fully inside the chunk.
          const h = decodeHeader(
            chunk.subarray(i, i + HEADER_SIZE),
            this.#options,
          );
          if (n - i - HEADER_SIZE >= h.length) {
            const body = chunk.subarray(
              i + HEADER_SIZE,
              i + HEADER_SIZE + h.length,
            );
            out.push({
              type: h.type,
              id: h.id,
              payload: decodePayload(body, this.#options),
            });
            i += HEADER_SIZE + h.length;
            continue;
          }
          this.#header = h;
          this.#payload = new Uint8Array(h.length);
          i += HEADER_SIZE;
          continue;
        }
        const take = Math.min(HEADER_SIZE - this.#headFill, n - i);
        this.#head.set(chunk.subarray(i, i + take), this.#headFill);
        this.#headFill += take;
        i += take;
        if (this.#headFill < HEADER_SIZE) break;
        const h = decodeHeader(this.#head, this.#options);
        this.#headFill = 0;
        if (h.length === 0) {
          out.push({
            type: h.type,
            id: h.id,
            payload: emptyDict(this.#options),
          });
          continue;
        }
        this.#header = h;
        this.#payload = new Uint8Array(h.length);
        continue;
      }
      const payload = this.#payload!;
      const take = Math.min(payload.length - this.#payloadFill, n - i);
      payload.set(chunk.subarray(i, i + take), this.#payloadFill);
      this.#payloadFill += take;
      i += take;
      if (this.#payloadFill === payload.length) {
        const h = this.#header;
        this.#header = null;
        this.#payload = null;
        this.#payloadFill = 0;
        out.push({
          type: h.type,
          id: h.id,
          payload: decodePayload(payload, this.#options),
        });
      }
    }
    return out;
  }

  /**
   * Declares the end of input; throws if a message was cut short, with
   * gunicorn's async reader messages (`Incomplete header: got N bytes,
   * expected 16` / `Incomplete payload: got N bytes, expected L`).
   *
   * @throws {DirtyProtocolError} If bytes of an incomplete message remain.
   *
   * @example Usage
   * ```ts
   * import { DirtyMessageDecoder, DirtyProtocolError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const dec = new DirtyMessageDecoder();
   * dec.push(Uint8Array.of(0x47, 0x44, 1));
   * assert.throws(() => dec.finish(), DirtyProtocolError);
   * ```
   */
  finish(): void {
    if (this.#error !== null) throw this.#error;
    if (this.#header !== null) {
      const got = this.#payloadFill;
      this.#error = new DirtyProtocolError(
        `Incomplete payload: got ${got} bytes, expected ${this.#header.length}`,
        { rawData: this.#payload!.subarray(0, Math.min(got, 100)) },
      );
      throw this.#error;
    }
    if (this.#headFill > 0) {
      this.#error = new DirtyProtocolError(
        `Incomplete header: got ${this.#headFill} bytes, expected ${HEADER_SIZE}`,
        { rawData: this.#head.subarray(0, this.#headFill) },
      );
      throw this.#error;
    }
  }
}
