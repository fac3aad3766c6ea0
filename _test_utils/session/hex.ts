// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Hex text of bytes and back, for the session tests' vectors and the Kea
 * peer's JSON lines (through `node:buffer`).
 *
 * @module
 */
import { Buffer } from "node:buffer";

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString("hex");
}

/** The bytes of a hex string (whitespace ignored). */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const clean = hex.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) {
    throw new TypeError(`Cannot parse hex: "${clean.slice(0, 16)}..."`);
  }
  return new Uint8Array(Buffer.from(clean, "hex"));
}
