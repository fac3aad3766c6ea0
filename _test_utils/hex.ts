// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Hex text of bytes and back, for every module's tests (vectors, expected
 * wire bytes). `toHex` is `_internal/bytes.ts`'s; no `node:` module, so the
 * browser checks use it too.
 *
 * @module
 */

export { toHex } from "../_internal/bytes.ts";

/**
 * The bytes of a hex string; whitespace is ignored.
 *
 * @param hex Pairs of hex digits, upper or lower case.
 * @returns The bytes.
 * @throws {TypeError} An odd number of digits, or a character that is not one.
 */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new TypeError(
      `Cannot parse hex: expected pairs of hex digits, got "${
        clean.slice(0, 16)
      }${clean.length > 16 ? "..." : ""}"`,
    );
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}
