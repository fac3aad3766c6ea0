// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Helpers to feed bytes through decoders in awkward pieces (join them
 * again with `_internal/bytes.ts`'s `concatBytes`).
 *
 * @module
 */

/** Splits `bytes` at the given cut points (sorted, deduplicated, clamped). */
export function splitAt(
  bytes: Uint8Array,
  cuts: readonly number[],
): Uint8Array[] {
  const points = [
    ...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c)))),
  ]
    .sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of points) {
    out.push(bytes.slice(prev, c));
    prev = c;
  }
  out.push(bytes.slice(prev));
  return out;
}

/** Splits `bytes` into 1-byte chunks. */
export function byteByByte(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (b) => Uint8Array.of(b));
}

/** Pipes `chunks` through `transform` and collects every output. */
export async function collect<I, O>(
  chunks: Iterable<I>,
  transform: TransformStream<I, O>,
): Promise<O[]> {
  return await Array.fromAsync(
    ReadableStream.from(chunks).pipeThrough(transform),
  );
}
