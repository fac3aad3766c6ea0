// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Byte helpers every module uses: joining, comparing (plain and constant
 * time), growing an output buffer, views of any buffer, and hex text.
 *
 * @module
 */

/**
 * Joins `parts` into one new array; a single part is returned as it is.
 *
 * @param parts The chunks, in order.
 * @param total Their total length, when the caller already knows it.
 * @returns Their bytes back to back.
 */
export function concatBytes(
  parts: readonly Uint8Array[],
  total?: number,
): Uint8Array<ArrayBuffer> {
  if (parts.length === 1 && parts[0]!.buffer instanceof ArrayBuffer) {
    return parts[0] as Uint8Array<ArrayBuffer>;
  }
  if (total === undefined) {
    total = 0;
    for (const p of parts) total += p.length;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Room for `need` bytes: `buf` itself when it is large enough, else a new
 * array twice as large (or more, up to `limit`) holding a copy of the
 * first `used` bytes of `buf`. Doubling keeps the cost of any sequence of
 * growths linear in the bytes written.
 *
 * @typeParam T The buffer's type.
 * @param buf The current buffer.
 * @param used How many of its bytes to keep.
 * @param need How many bytes the result must hold.
 * @param limit The most bytes to allocate (at least `need`).
 * @returns `buf`, or the larger copy.
 */
export function growBytes<T extends Uint8Array>(
  buf: T,
  used: number,
  need: number,
  limit = Infinity,
): T | Uint8Array<ArrayBuffer> {
  if (need <= buf.length) return buf;
  let size = Math.max(buf.length * 2, 64);
  while (size < need) size *= 2;
  const out = new Uint8Array(Math.min(size, Math.max(limit, need)));
  if (used > 0) out.set(buf.subarray(0, used));
  return out;
}

/**
 * Whether `a` and `b` hold the same bytes. Not for secrets: it returns at
 * the first difference (see {@linkcode timingSafeEqual}).
 *
 * @param a One array.
 * @param b The other.
 * @returns Whether they are equal.
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether `a` and `b` hold the same bytes, in a time that depends only on
 * their lengths (for digests and keys).
 *
 * @param a One array.
 * @param b The other.
 * @returns Whether they are equal.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * A `Uint8Array` view of any buffer or view, without copying.
 *
 * @param buf An `ArrayBuffer`, `SharedArrayBuffer` or any view.
 * @returns A view of the same bytes, or `undefined` for anything else.
 */
export function asBytes(
  buf: ArrayBufferView | ArrayBufferLike,
): Uint8Array | undefined {
  if (buf instanceof Uint8Array) return buf;
  if (ArrayBuffer.isView(buf)) {
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  if (
    buf instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== "undefined" &&
      buf instanceof SharedArrayBuffer)
  ) {
    return new Uint8Array(buf);
  }
  return undefined;
}

const HEX_DIGITS: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => b.toString(16).padStart(2, "0"),
);

/**
 * Lower-case hex of `bytes`, two digits a byte, no separators.
 *
 * @param bytes The bytes.
 * @returns Their hex text.
 */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    s += HEX_DIGITS[bytes[i]!]!;
  }
  return s;
}
