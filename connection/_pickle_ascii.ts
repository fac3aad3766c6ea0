// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// Short ASCII strings of the unpickler, made without TextDecoder (whose
// call costs more than the string for a few bytes) and cached: dict keys
// and short values repeat from one pickle to the next, and a cached string
// is one V8 has already internalized, so using it as a property key skips
// V8's string-table lookup (that lookup costs more than making the string).
// The cache is a fixed array of 16384 slots, 2-way (about 0.4 MB, made at
// import, plus the strings it holds; made lazily, its lookups were slower):
// its cost and memory are bounded, whatever the input.

/** Longest string the cache holds. */
export const MAX_CACHED = 16;
const SLOT_BITS = 14;
const SLOTS = 1 << SLOT_BITS;
const strings: string[] = new Array<string>(SLOTS).fill("");
// Each slot's bytes as four 32-bit words (see cachedAscii) and its length:
// a lookup compares numbers only, never the cached string's chars.
const words = new Int32Array(SLOTS * 4);
const lengths = new Uint8Array(SLOTS);
const fcc = String.fromCharCode;

/**
 * `data[s, s + n)` as a string when every byte is ASCII and
 * `1 <= n <= MAX_CACHED`, else `undefined`. Equal bytes give the same
 * string object while it stays in the cache. `view` is a DataView of
 * `data`'s bytes (same offset and length).
 */
export function cachedAscii(
  data: Uint8Array,
  view: DataView,
  s: number,
  n: number,
): string | undefined {
  // Four words that cover the n bytes (with overlap): the first and last 8
  // bytes, or the first and last 4, or the bytes packed.
  let w0: number;
  let w1 = 0;
  let w2 = 0;
  let w3 = 0;
  if (n >= 8) {
    w0 = view.getInt32(s, true);
    w1 = view.getInt32(s + 4, true);
    w2 = view.getInt32(s + n - 8, true);
    w3 = view.getInt32(s + n - 4, true);
  } else if (n >= 4) {
    w0 = view.getInt32(s, true);
    w1 = view.getInt32(s + n - 4, true);
  } else {
    w0 = data[s]! | (n > 1 ? data[s + 1]! << 8 : 0) |
      (n > 2 ? data[s + 2]! << 16 : 0);
  }
  let h = Math.imul(w0 ^ n, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ w1, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 13) ^ w2, 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 16) ^ w3, 0x27d4eb2f);
  // Two neighbouring slots per hash: the newest string in the first.
  const slot = (h >>> (32 - SLOT_BITS)) & ~1;
  let at = slot * 4;
  if (
    words[at] === w0 && words[at + 1] === w1 && words[at + 2] === w2 &&
    words[at + 3] === w3 && lengths[slot] === n
  ) {
    return strings[slot]!;
  }
  if (
    words[at + 4] === w0 && words[at + 5] === w1 && words[at + 6] === w2 &&
    words[at + 7] === w3 && lengths[slot + 1] === n
  ) {
    return strings[slot + 1]!;
  }
  // A miss. The words cover every byte: one test finds a non-ASCII byte.
  if (((w0 | w1 | w2 | w3) & 0x80808080) !== 0) return undefined;
  // The first slot moves to the second (whose string is dropped) and the
  // new string goes first.
  strings[slot + 1] = strings[slot]!;
  lengths[slot + 1] = lengths[slot]!;
  words.copyWithin(at + 4, at, at + 4);
  const fresh = asciiString(data, s, n);
  strings[slot] = fresh;
  lengths[slot] = n;
  words[at++] = w0;
  words[at++] = w1;
  words[at++] = w2;
  words[at] = w3;
  return fresh;
}

/**
 * `data[s, s + n)` (ASCII, `1 <= n <= 16`) as a string, in one
 * `String.fromCharCode` call (or two, for more than 8 bytes).
 */
export function asciiString(d: Uint8Array, s: number, n: number): string {
  if (n > 8) return asciiString(d, s, 8) + asciiString(d, s + 8, n - 8);
  switch (n) {
    case 1:
      return fcc(d[s]!);
    case 2:
      return fcc(d[s]!, d[s + 1]!);
    case 3:
      return fcc(d[s]!, d[s + 1]!, d[s + 2]!);
    case 4:
      return fcc(d[s]!, d[s + 1]!, d[s + 2]!, d[s + 3]!);
    case 5:
      return fcc(d[s]!, d[s + 1]!, d[s + 2]!, d[s + 3]!, d[s + 4]!);
    case 6:
      return fcc(d[s]!, d[s + 1]!, d[s + 2]!, d[s + 3]!, d[s + 4]!, d[s + 5]!);
    case 7:
      return fcc(
        d[s]!,
        d[s + 1]!,
        d[s + 2]!,
        d[s + 3]!,
        d[s + 4]!,
        d[s + 5]!,
        d[s + 6]!,
      );
    default:
      return fcc(
        d[s]!,
        d[s + 1]!,
        d[s + 2]!,
        d[s + 3]!,
        d[s + 4]!,
        d[s + 5]!,
        d[s + 6]!,
        d[s + 7]!,
      );
  }
}
