// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Writing frame headers: the field checks shared by the frame encoders
 * (`frame_encoder.ts`) and the frame writer of the client and server
 * (`_frame_writer.ts`).
 *
 * @module
 */
import type { Frame } from "./frame_codec.ts";

function fieldError(frame: Omit<Frame, "payload">): RangeError {
  const fields: [string, number, number][] = [
    ["request id", frame.requestId, 0xffff],
    ["stream id", frame.streamId, 0xff],
    ["stream flags", frame.streamFlags, 0xff],
    ["frame type", frame.type, 0x0f],
    ["frame flags", frame.flags, 0x0f],
  ];
  for (const [name, v, max] of fields) {
    // `v >>> 0 !== v` catches negatives, fractions, NaN and non-numbers.
    if (v >>> 0 !== v || v > max) {
      return new RangeError(
        `Cannot encode frame: ${name} ${v} is outside 0..${max}`,
      );
    }
  }
  return new RangeError("Cannot encode frame: a field is out of range");
}

/** The error for a payload of `n` bytes over `max`. */
export function sizeError(n: number, max: number): RangeError {
  return new RangeError(
    `Cannot encode frame: payload of ${n} bytes exceeds the maximum of ${max} bytes`,
  );
}

/**
 * Writes the header of `frame` at `o`, checking every field (one masked
 * compare per field: it fails for negatives, fractions, NaN, non-numbers
 * and values too wide).
 */
export function putHeader(
  out: Uint8Array,
  o: number,
  frame: Omit<Frame, "payload">,
  n: number,
): void {
  checkFields(frame);
  putCheckedHeader(out, o, frame, n);
}

/** Writes the header of a frame whose fields were checked. */
export function putCheckedHeader(
  out: Uint8Array,
  o: number,
  frame: Omit<Frame, "payload">,
  n: number,
): void {
  const r = frame.requestId;
  out[o] = n;
  out[o + 1] = n >>> 8;
  out[o + 2] = n >>> 16;
  out[o + 3] = r;
  out[o + 4] = r >>> 8;
  out[o + 5] = frame.streamId;
  out[o + 6] = frame.streamFlags;
  out[o + 7] = (frame.type << 4) | frame.flags;
}

/** Throws a `RangeError` when a header field of `frame` is out of range. */
export function checkFields(frame: Omit<Frame, "payload">): void {
  const r = frame.requestId;
  const s = frame.streamId;
  const sf = frame.streamFlags;
  const t = frame.type;
  const f = frame.flags;
  if (
    (r & 0xffff) !== r || (s & 0xff) !== s || (sf & 0xff) !== sf ||
    (t & 0x0f) !== t || (f & 0x0f) !== f
  ) {
    throw fieldError(frame);
  }
}

/** Copies `p` into `out` at `o` (a loop for tiny payloads). */
export function copyInto(out: Uint8Array, o: number, p: Uint8Array): void {
  const n = p.length;
  if (n > 16) {
    out.set(p, o);
    return;
  }
  // Tiny payloads: a plain loop beats TypedArray#set's call overhead.
  for (let i = 0; i < n; i++) out[o + i] = p[i]!;
}
