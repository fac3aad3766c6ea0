// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// The payload of a dirty message, decoded as gunicorn's decode_message
// decodes it: `decodeMessage` and the push decoder use it, and so do the
// arbiter and the app thread for frames a RawFrameSplitter already cut
// (header checked, exact length), without reading the header again.

import { DirtyProtocolError } from "./errors.ts";
import { HEADER_SIZE } from "./header.ts";
import { decodeTlv } from "./tlv_decoder.ts";
import type { DirtyValue, TlvDecodeOptions } from "./tlv.ts";

/** Decodes a payload; an empty one is an empty dict. */
export function decodePayload(
  payload: Uint8Array,
  options: TlvDecodeOptions,
): DirtyValue {
  if (payload.length === 0) {
    return options.dict === "object" ? {} : new Map();
  }
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
 * The payload of one whole frame whose header was checked already (a
 * frame a `RawFrameSplitter` cut), as `decodeMessage` would give it.
 */
export function decodeFramePayload(
  frame: Uint8Array,
  options: TlvDecodeOptions,
): DirtyValue {
  return decodePayload(frame.subarray(HEADER_SIZE), options);
}
