// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Hex forms of bytes for framing tests.
 *
 * @module
 */

/** Hex string of bytes (lower case, no separators). */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Bytes from a hex string; whitespace is ignored. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0) {
    throw new TypeError(`Cannot parse hex: odd length ${clean.length}`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) {
    const byte = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
    if (Number.isNaN(byte)) {
      throw new TypeError(`Cannot parse hex: bad digit at ${i * 2}`);
    }
    out[i] = byte;
  }
  return out;
}
