// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The 16-byte header of gunicorn 26's dirty protocol
 * (`gunicorn/dirty/protocol.py`, struct `>2sBBIQ`): magic `GD`, version 1,
 * message type, payload length, request id. Validation follows gunicorn's
 * order and messages.
 *
 * @module
 */

import { DirtyProtocolError } from "./errors.ts";
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

/** A request id: a uint64 as `bigint`, or a non-negative safe integer. */
export type RequestId = bigint | number;

const UINT64_MAX = (1n << 64n) - 1n;

/** Checks a request id and returns it as a `bigint` (internal). */
export function checkId(id: RequestId): bigint {
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

/** Checks a `maxMessageSize` option (internal). */
export function maxSize(option: number | undefined): number {
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

/** Writes a header at `at` in `view` (internal). */
export function writeHeader(
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
 * The type of the header at `at` in `data` (16 bytes there), if it passes
 * every check of {@linkcode decodeHeader} with `limit`; otherwise
 * `undefined` (call `decodeHeader` for the error). Reads no id: the frame
 * splitters' fast path (internal).
 *
 * @param data The bytes.
 * @param at Where the header starts.
 * @param limit The payload size limit.
 * @returns The type, or `undefined`.
 */
export function validHeaderType(
  data: Uint8Array,
  at: number,
  limit: number,
): DirtyMessageType | undefined {
  if (
    data[at] !== 0x47 || data[at + 1] !== 0x44 ||
    data[at + 2] !== PROTOCOL_VERSION
  ) {
    return undefined;
  }
  const length = headerLength(data, at);
  return length <= limit ? CODE_TO_TYPE[data[at + 3]!] : undefined;
}

/** The payload length field of the header at `at` in `data` (internal). */
export function headerLength(data: Uint8Array, at: number): number {
  return ((data[at + 4]! << 24) | (data[at + 5]! << 16) |
    (data[at + 6]! << 8) | data[at + 7]!) >>> 0;
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
