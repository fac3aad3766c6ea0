// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The hgrpc frame: an 8-byte header (`length:u24le | requestId:u16le |
 * streamId:u8 | streamFlags:u8 | type<<4 | flags`) and a payload. This file
 * holds the frame's shape, its constants and Mercurial's names for them;
 * `frame_encoder.ts` writes frames and `frame_decoder.ts` reads them. Our
 * reader decodes the 24-bit length correctly (Mercurial misreads lengths
 * of 65536 and above); our writer never puts more than 65535 payload
 * bytes in a frame.
 *
 * @module
 */
import { nameOf, splitFlags } from "./_flag_names.ts";

/**
 * Size of a frame header in bytes.
 *
 * @example Usage
 * ```ts
 * import { FRAME_HEADER_SIZE } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(FRAME_HEADER_SIZE, 8);
 * ```
 */
export const FRAME_HEADER_SIZE = 8;
/**
 * Mercurial's split size for payloads (`DEFAULT_MAX_FRAME_SIZE`).
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_MAX_FRAME_SIZE } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_MAX_FRAME_SIZE, 32768);
 * ```
 */
export const DEFAULT_MAX_FRAME_SIZE = 32768;
/**
 * Largest payload ever written, so that Mercurial can read every frame
 * (it misreads lengths of 65536 and above).
 *
 * @example Usage
 * ```ts
 * import { MAX_WIRE_PAYLOAD_SIZE } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_WIRE_PAYLOAD_SIZE, 65535);
 * ```
 */
export const MAX_WIRE_PAYLOAD_SIZE = 65535;
/**
 * Largest payload the 24-bit length can express.
 *
 * @example Usage
 * ```ts
 * import { MAX_PAYLOAD_SIZE_24 } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_PAYLOAD_SIZE_24, 2 ** 24 - 1);
 * ```
 */
export const MAX_PAYLOAD_SIZE_24 = 0xffffff;

/**
 * Frame type ids of the released protocol.
 *
 * @example Usage
 * ```ts
 * import { FRAME_TYPE } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(FRAME_TYPE.COMMAND_RESPONSE, 3);
 * ```
 */
export const FRAME_TYPE = {
  COMMAND_REQUEST: 0x01,
  COMMAND_DATA: 0x02,
  COMMAND_RESPONSE: 0x03,
  ERROR_RESPONSE: 0x05,
  TEXT_OUTPUT: 0x06,
  PROGRESS: 0x07,
  SENDER_PROTOCOL_SETTINGS: 0x08,
  STREAM_SETTINGS: 0x09,
} as const;

/**
 * Stream flags (header byte 6).
 *
 * @example Usage
 * ```ts
 * import { STREAM_FLAG } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(STREAM_FLAG.ENCODED, 4);
 * ```
 */
export const STREAM_FLAG = {
  BEGIN: 0x01,
  END: 0x02,
  ENCODED: 0x04,
} as const;

/**
 * Frame flags, per frame type (low nibble of header byte 7).
 *
 * @example Usage
 * ```ts
 * import { FRAME_FLAG } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(FRAME_FLAG.COMMAND_RESPONSE_EOS, 2);
 * ```
 */
export const FRAME_FLAG = {
  COMMAND_REQUEST_NEW: 0x01,
  COMMAND_REQUEST_CONTINUATION: 0x02,
  COMMAND_REQUEST_MORE_FRAMES: 0x04,
  COMMAND_REQUEST_EXPECT_DATA: 0x08,
  COMMAND_DATA_CONTINUATION: 0x01,
  COMMAND_DATA_EOS: 0x02,
  COMMAND_RESPONSE_CONTINUATION: 0x01,
  COMMAND_RESPONSE_EOS: 0x02,
  SENDER_PROTOCOL_SETTINGS_CONTINUATION: 0x01,
  SENDER_PROTOCOL_SETTINGS_EOS: 0x02,
  STREAM_SETTINGS_CONTINUATION: 0x01,
  STREAM_SETTINGS_EOS: 0x02,
} as const;

/**
 * Frame type names as Mercurial spells them (`FRAME_TYPES`).
 *
 * @example Usage
 * ```ts
 * import { FRAME_TYPE_NAMES } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(FRAME_TYPE_NAMES["stream-settings"], 9);
 * ```
 */
export const FRAME_TYPE_NAMES: Readonly<Record<string, number>> = {
  "command-request": 0x01,
  "command-data": 0x02,
  "command-response": 0x03,
  "error-response": 0x05,
  "text-output": 0x06,
  "progress": 0x07,
  "sender-protocol-settings": 0x08,
  "stream-settings": 0x09,
};

/**
 * Stream flag names as Mercurial spells them (`STREAM_FLAGS`).
 *
 * @example Usage
 * ```ts
 * import { STREAM_FLAG_NAMES } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(STREAM_FLAG_NAMES["stream-begin"], 1);
 * ```
 */
export const STREAM_FLAG_NAMES: Readonly<Record<string, number>> = {
  "stream-begin": 0x01,
  "stream-end": 0x02,
  "encoded": 0x04,
};

/**
 * Flag names per frame type (`FRAME_TYPE_FLAGS`).
 *
 * @example Usage
 * ```ts
 * import { FRAME_TYPE_FLAG_NAMES } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(FRAME_TYPE_FLAG_NAMES[1]?.["have-data"], 8);
 * ```
 */
export const FRAME_TYPE_FLAG_NAMES: Readonly<
  Record<number, Readonly<Record<string, number>>>
> = {
  0x01: { "new": 0x01, "continuation": 0x02, "more": 0x04, "have-data": 0x08 },
  0x02: { "continuation": 0x01, "eos": 0x02 },
  0x03: { "continuation": 0x01, "eos": 0x02 },
  0x05: {},
  0x06: {},
  0x07: {},
  0x08: { "continuation": 0x01, "eos": 0x02 },
  0x09: { "continuation": 0x01, "eos": 0x02 },
};

/** One frame. */
export interface Frame {
  /** Request id (u16). */
  requestId: number;
  /** Stream id (u8). Odd: client to server; even: server to client. */
  streamId: number;
  /** Stream flags (u8), see {@linkcode STREAM_FLAG}. */
  streamFlags: number;
  /** Frame type (4 bits), see {@linkcode FRAME_TYPE}. */
  type: number;
  /** Frame flags (4 bits), see {@linkcode FRAME_FLAG}. */
  flags: number;
  /** The payload, after any stream encoding. */
  payload: Uint8Array;
}

/** Header fields and payload position of a frame seen by {@linkcode scanFrames}. */
export interface FrameHeader {
  /** Request id. */
  requestId: number;
  /** Stream id. */
  streamId: number;
  /** Stream flags. */
  streamFlags: number;
  /** Frame type. */
  type: number;
  /** Frame flags. */
  flags: number;
  /** Offset of the payload in the scanned buffer. */
  payloadOffset: number;
  /** Payload length. */
  payloadLength: number;
}

function flagNames(
  value: number,
  names: Readonly<Record<string, number>>,
): string {
  const { names: out, rest } = splitFlags(value, names);
  for (let bit = 1; bit <= 0x80; bit <<= 1) {
    if (rest & bit) {
      out.push(`<unknown 0x${bit.toString(16).padStart(2, "0")}>`);
    }
  }
  return out.join("|");
}

/**
 * Describes a frame the way Mercurial's debug output does:
 * `frame(size=N; request=R; stream=S; streamflags=...; type=...; flags=...)`.
 *
 * @param frame The frame.
 * @returns The description.
 *
 * @example Usage
 * ```ts
 * import { describeFrame } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   describeFrame({ requestId: 1, streamId: 1, streamFlags: 1, type: 1, flags: 1, payload: new Uint8Array(3) }),
 *   "frame(size=3; request=1; stream=1; streamflags=stream-begin; type=command-request; flags=new)",
 * );
 * ```
 */
export function describeFrame(frame: Frame): string {
  const typeName = nameOf(frame.type, FRAME_TYPE_NAMES) ??
    `<unknown 0x${frame.type.toString(16).padStart(2, "0")}>`;
  return `frame(size=${frame.payload.length}; request=${frame.requestId}; stream=${frame.streamId}; streamflags=${
    flagNames(frame.streamFlags, STREAM_FLAG_NAMES)
  }; type=${typeName}; flags=${
    flagNames(frame.flags, FRAME_TYPE_FLAG_NAMES[frame.type] ?? {})
  })`;
}
