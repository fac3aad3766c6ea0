// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Python's `repr()` of `bytes`, for error texts that quote wire bytes the
 * way gunicorn does (`b'GD'`, `b'\x00'`). Sans-I/O.
 *
 * @module
 */

/**
 * Python's `repr()` of a `bytes` value: `b'...'`, or `b"..."` when the bytes
 * hold a single quote and no double quote.
 *
 * @param b The bytes.
 * @returns The repr text.
 */
export function pyBytesRepr(b: Uint8Array): string {
  let hasSingle = false;
  let hasDouble = false;
  for (const c of b) {
    if (c === 0x27) hasSingle = true;
    if (c === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let s = "b" + quote;
  for (const c of b) {
    if (c === 0x5c) s += "\\\\";
    else if (c === 0x09) s += "\\t";
    else if (c === 0x0a) s += "\\n";
    else if (c === 0x0d) s += "\\r";
    else if (c === 0x27 && quote === "'") s += "\\'";
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += "\\x" + c.toString(16).padStart(2, "0");
  }
  return s + quote;
}
