// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// Short ASCII strings of the unpickler, made without TextDecoder (whose
// call costs more than the string for a few bytes) and cached: dict keys
// and short values repeat from one pickle to the next, and a cached string
// is one V8 has already internalized, so using it as a property key skips
// V8's string-table lookup (that lookup costs more than making the string).
// The cache is a fixed array of 2-way slots: its cost and memory are
// bounded, whatever the input.

/** Longest string the cache holds. */
export const MAX_CACHED = 16;
const SLOT_BITS = 14;
const SLOTS = 1 << SLOT_BITS;
const strings: string[] = new Array<string>(SLOTS).fill("");
// Each slot's hash and bytes: a lookup compares numbers and bytes only
// (reading the cached string's chars would depend on its V8 layout).
const hashes = new Int32Array(SLOTS);
const bytes = new Uint8Array(SLOTS * MAX_CACHED);
const fcc = String.fromCharCode;

/**
 * `data[s, s + n)` as a string when every byte is ASCII and
 * `1 <= n <= MAX_CACHED`, else `undefined`. Equal bytes give the same
 * string object while it stays in the cache.
 */
export function cachedAscii(
  data: Uint8Array,
  s: number,
  n: number,
): string | undefined {
  let h = n;
  let or = 0;
  const end = s + n;
  for (let i = s; i < end; i++) {
    const b = data[i]!;
    or |= b;
    h = Math.imul(h ^ b, 0x01000193);
  }
  if (or >= 0x80) return undefined;
  // Two neighbouring slots per hash: the newest string in the first.
  const slot = (Math.imul(h, 0x9e3779b1) >>> (32 - SLOT_BITS)) & ~1;
  if (hashes[slot] === h && sameBytes(slot, data, s, n)) {
    return strings[slot]!;
  }
  if (hashes[slot + 1] === h && sameBytes(slot + 1, data, s, n)) {
    return strings[slot + 1]!;
  }
  // A miss: the first slot's string moves to the second (whose string is
  // dropped) and the new string goes first.
  demote(slot);
  const fresh = asciiString(data, s, n);
  strings[slot] = fresh;
  hashes[slot] = h;
  bytes.set(data.subarray(s, end), slot * MAX_CACHED);
  return fresh;
}

function sameBytes(
  slot: number,
  data: Uint8Array,
  s: number,
  n: number,
): boolean {
  if (strings[slot]!.length !== n) return false;
  const at = slot * MAX_CACHED;
  for (let i = 0; i < n; i++) {
    if (bytes[at + i] !== data[s + i]) return false;
  }
  return true;
}

/** Copies slot `slot` (string, hash, bytes) over slot `slot + 1`. */
function demote(slot: number): void {
  strings[slot + 1] = strings[slot]!;
  hashes[slot + 1] = hashes[slot]!;
  const at = slot * MAX_CACHED;
  for (let i = at; i < at + MAX_CACHED; i++) bytes[i + MAX_CACHED] = bytes[i]!;
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
