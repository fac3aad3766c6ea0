// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// A whole dirty message encoded into a reused buffer: encodeFrame (which
// copies it out) and the senders that hand it at once to a write queue
// (which copies a small one as it queues it) share it.

import type { DirtyInput, TlvEncodeOptions } from "./tlv.ts";
import { TlvWriter } from "./tlv_encoder.ts";
import {
  checkId,
  type DirtyMessageType,
  HEADER_SIZE,
  maxSize,
  type RequestId,
  writeHeader,
} from "./header.ts";
import { DirtyProtocolError } from "./errors.ts";

/** Options of {@linkcode encodeFrameView}, as `encodeFrame`'s. */
export interface FrameViewOptions extends TlvEncodeOptions {
  /** Largest payload accepted. */
  maxMessageSize?: number;
}

/** The writer kept between calls; a nested call makes a fresh one. */
let spareWriter: TlvWriter | null = null;

/**
 * Encodes a message as `encodeFrame` does, into a buffer reused by the
 * next call: the view returned is valid only until then (copy it, or give
 * it at once to something that copies it).
 *
 * @param type The message type.
 * @param id The request id.
 * @param payload The payload value, or `undefined` for none.
 * @param options Nesting and size limits.
 * @returns The whole message, a view of the reused buffer.
 * @throws {DirtyProtocolError} If the payload cannot be encoded or is too large.
 */
export function encodeFrameView(
  type: DirtyMessageType,
  id: RequestId,
  payload: DirtyInput | undefined,
  options: FrameViewOptions,
): Uint8Array<ArrayBuffer> {
  const bigId = checkId(id);
  const limit = maxSize(options.maxMessageSize);
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
    return w.bytes();
  } finally {
    if (w.capacity <= 1 << 20) spareWriter = w;
  }
}
