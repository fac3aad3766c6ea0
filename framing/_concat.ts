// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Joining byte chunks.
 *
 * @module
 */

/**
 * Joins `parts` into one array; a single part is returned as it is.
 *
 * @param parts The chunks, in order.
 * @param total Their total length, when the caller already knows it.
 * @returns Their bytes back to back.
 */
export function concatBytes(
  parts: readonly Uint8Array[],
  total?: number,
): Uint8Array {
  if (parts.length === 1) return parts[0]!;
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
