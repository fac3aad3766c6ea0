// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Small byte arrays carved from shared 8 KiB slabs (as Node's `Buffer`
 * pool does): allocating a fresh `Uint8Array` costs far more than the few
 * bytes of a small frame, so small results are views of a slab. A region
 * is handed out once and never reused; it starts zeroed like any new
 * array. Callers that need `.buffer` must use `byteOffset`/`byteLength`.
 *
 * @module
 */

const SLAB_SIZE = 8192;
/** Larger requests get their own array. */
const MAX_POOLED = 1024;

let slab = new Uint8Array(0);
let used = 0;

/**
 * Returns `n` zeroed bytes that nothing else refers to.
 *
 * @param n The size.
 * @returns A fresh array, or a fresh region of a shared slab.
 */
export function allocBytes(n: number): Uint8Array {
  if (n > MAX_POOLED) return new Uint8Array(n);
  if (used + n > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    used = 0;
  }
  const out = slab.subarray(used, used + n);
  // Keep regions 8-aligned.
  used = (used + n + 7) & ~7;
  return out;
}
