// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Frames into the package's write queue, as the client and the server send
 * them: each header is encoded in place in the queue's batch buffer, small
 * payloads are copied behind it, and large ones are queued by reference
 * (written from the caller's memory), so a frame costs no allocation of
 * its own.
 *
 * @module
 */
import type { WriteQueue } from "../_internal/write_queue.ts";
import {
  checkFields,
  copyInto,
  putCheckedHeader,
  sizeError,
} from "./_frame_header.ts";
import {
  type Frame,
  FRAME_HEADER_SIZE,
  MAX_WIRE_PAYLOAD_SIZE,
} from "./frame_codec.ts";

/**
 * Payloads below this size are copied into the queue's batch buffer;
 * larger ones are queued by reference (the queue's own copy limit is the
 * same, 16 KiB).
 */
const COPY_BELOW = 16384;

/**
 * Queues `frames` and starts writing. Every frame is checked before any
 * of it is queued, so a refused frame leaves nothing half-written.
 *
 * @param queue The queue.
 * @param frames The frames.
 * @returns The bytes queued.
 * @throws {RangeError} A field out of range, or a payload over 65535.
 */
export function writeFrames(
  queue: WriteQueue,
  frames: Iterable<Frame>,
): number {
  let total = 0;
  if (queue.failed) return 0;
  for (const f of frames) {
    const p = f.payload;
    const n = p.length;
    if (n > MAX_WIRE_PAYLOAD_SIZE) throw sizeError(n, MAX_WIRE_PAYLOAD_SIZE);
    checkFields(f);
    if (n < COPY_BELOW) {
      const o = queue.reserve(FRAME_HEADER_SIZE + n);
      const buf = queue.buffer;
      putCheckedHeader(buf, o, f, n);
      copyInto(buf, o + FRAME_HEADER_SIZE, p);
    } else {
      const o = queue.reserve(FRAME_HEADER_SIZE);
      putCheckedHeader(queue.buffer, o, f, n);
      queue.push(p);
    }
    total += FRAME_HEADER_SIZE + n;
  }
  queue.kick();
  return total;
}

/** The bytes `frames` take on the wire. */
export function framesSize(frames: readonly Frame[]): number {
  let total = 0;
  for (let i = 0; i < frames.length; i++) {
    total += FRAME_HEADER_SIZE + frames[i]!.payload.length;
  }
  return total;
}
