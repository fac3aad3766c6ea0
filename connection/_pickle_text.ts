// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// Number and text payloads of the unpickler, decoded in bulk and in one
// pass each (no backtracking, no string built one character at a time):
// LONG1/LONG4 bytes, the text INT/LONG/FLOAT lines, and protocol 0's
// raw-unicode-escape `V` strings.

/** How a parser reports bad input: the decoder's typed failure. */
export type Fail = (reason: "invalid" | "limit", what: string) => never;

const MAX_SAFE = 9007199254740991;
/** Python's `sys.int_info.default_max_str_digits`. */
const MAX_TEXT_INT_DIGITS = 4300;
/** V8's largest BigInt has 2**30 bits. */
export const MAX_LONG_BYTES = 2 ** 27;

/** A bigint as a number when it is a safe integer. */
export function normalizeInt(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
// WHATWG "latin1" is windows-1252: the same as Latin-1 except 0x80-0x9f.
const CP1252 = new TextDecoder("latin1");
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
// Byte -> its two lower-case hex digits, as one 16-bit unit in memory order.
const HEX_PAIR = new Uint16Array(256);
for (let b = 0; b < 256; b++) {
  const hi = "0123456789abcdef".charCodeAt(b >> 4);
  const lo = "0123456789abcdef".charCodeAt(b & 15);
  HEX_PAIR[b] = LITTLE_ENDIAN ? hi | (lo << 8) : (hi << 8) | lo;
}

/**
 * Little-endian two's complement bytes `data[start, start + n)` to an int:
 * a number when it is a safe integer, else a bigint. O(n).
 */
export function decodeLong(
  data: Uint8Array,
  view: DataView,
  start: number,
  n: number,
  fail: Fail,
): number | bigint {
  if (n === 0) return 0;
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + data[start + i]!;
    if (data[start + n - 1]! & 0x80) v -= 2 ** (8 * n);
    return v;
  }
  if (n <= 8) {
    // The high part as a signed number, the low 32 bits unsigned: exact
    // whenever the result is a safe integer.
    let hi = 0;
    for (let i = n - 1; i >= 4; i--) hi = hi * 256 + data[start + i]!;
    if (data[start + n - 1]! & 0x80) hi -= 2 ** (8 * (n - 4));
    const v = hi * 4294967296 + view.getUint32(start, true);
    if (v >= -MAX_SAFE && v <= MAX_SAFE) return v;
    if (n === 8) return view.getBigInt64(start, true);
  }
  if (n > MAX_LONG_BYTES) {
    fail("limit", `integer of ${n} bytes is too large`);
  }
  const negative = (data[start + n - 1]! & 0x80) !== 0;
  // Hex digits, most significant first (V8 parses hex in linear time); a
  // negative value is the complement of its magnitude minus one.
  const hex = new Uint8Array(2 + 2 * n);
  hex[0] = 0x30; // "0x"
  hex[1] = 0x78;
  const pairs = new Uint16Array(hex.buffer, 2, n);
  const flip = negative ? 0xff : 0;
  const last = start + n - 1;
  for (let i = 0; i < n; i++) pairs[i] = HEX_PAIR[data[last - i]! ^ flip]!;
  const magnitude = BigInt(UTF8.decode(hex));
  return normalizeInt(negative ? -magnitude - 1n : magnitude);
}

/** Latin-1 bytes to a string (each byte one code point), in bulk. */
export function decodeLatin1(
  data: Uint8Array,
  start: number,
  end: number,
): string {
  const n = end - start;
  if (n <= 64) return String.fromCharCode(...data.subarray(start, end));
  const bytes = data.subarray(start, end);
  // Native decoders where they are exact: UTF-8 for ASCII (the UTF-16
  // length equals the byte count only then), windows-1252 when no byte is
  // in 0x80-0x9f.
  try {
    const s = UTF8.decode(bytes);
    if (s.length === n) return s;
  } catch {
    // not UTF-8: not ASCII either
  }
  let c1 = false;
  for (let i = start; i < end; i++) {
    const b = data[i]!;
    if (b >= 0x80 && b <= 0x9f) {
      c1 = true;
      break;
    }
  }
  if (!c1) return CP1252.decode(bytes);
  const parts: string[] = [];
  for (let i = start; i < end; i += 4096) {
    parts.push(
      String.fromCharCode(...data.subarray(i, Math.min(end, i + 4096))),
    );
  }
  return parts.join("");
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * The text INT (`allowL` false) or LONG (`allowL` true) line
 * `data[start, end)`. INT's `01`/`00` are `True`/`False`.
 */
export function parseTextInt(
  data: Uint8Array,
  start: number,
  end: number,
  allowL: boolean,
  fail: Fail,
): number | bigint | boolean {
  if (allowL && end > start && data[end - 1] === 0x4c) end--; // "L"
  if (!allowL && end - start === 2 && data[start] === 0x30) {
    if (data[start + 1] === 0x31) return true;
    if (data[start + 1] === 0x30) return false;
  }
  let i = start;
  if (i < end && (data[i] === 0x2b || data[i] === 0x2d)) i++;
  if (i === end) fail("invalid", "invalid integer literal");
  for (let j = i; j < end; j++) {
    if (!isDigit(data[j]!)) fail("invalid", "invalid integer literal");
  }
  if (end - i > MAX_TEXT_INT_DIGITS) {
    fail("limit", `integer literal longer than ${MAX_TEXT_INT_DIGITS} digits`);
  }
  const text = decodeLatin1(data, start, end);
  // `+ 0` turns Number("-0") into the int 0.
  return end - i <= 15 ? Number(text) + 0 : normalizeInt(BigInt(text));
}

/** A text memo index (PUT/GET): 1 to 10 digits. */
export function parseTextIndex(
  data: Uint8Array,
  start: number,
  end: number,
  fail: Fail,
): number {
  if (end === start || end - start > 10) fail("invalid", "invalid memo index");
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = data[i]!;
    if (!isDigit(c)) fail("invalid", "invalid memo index");
    v = v * 10 + c - 0x30;
  }
  return v;
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/**
 * The text FLOAT line `data[start, end)` as Python's `float()` of a repr:
 * decimal or exponent notation, `inf`, `infinity`, `nan` (any case, with a
 * sign). One pass over the bytes; a finite literal too large for a double
 * fails, as in Python (OverflowError).
 */
export function parseTextFloat(
  data: Uint8Array,
  start: number,
  end: number,
  fail: Fail,
): number {
  while (start < end && isSpace(data[start]!)) start++;
  while (end > start && isSpace(data[end - 1]!)) end--;
  let i = start;
  let negative = false;
  if (i < end && (data[i] === 0x2b || data[i] === 0x2d)) {
    negative = data[i] === 0x2d;
    i++;
  }
  const first = data[i]! | 0x20; // lower case
  if (first === 0x69 || first === 0x6e) { // "i", "n"
    if (end - i <= 8) {
      const word = decodeLatin1(data, i, end).toLowerCase();
      if (word === "inf" || word === "infinity") {
        return negative ? -Infinity : Infinity;
      }
      if (word === "nan") return NaN;
    }
    fail("invalid", "invalid float literal");
  }
  let digits = 0;
  while (i < end && isDigit(data[i]!)) {
    i++;
    digits++;
  }
  if (i < end && data[i] === 0x2e) { // "."
    i++;
    while (i < end && isDigit(data[i]!)) {
      i++;
      digits++;
    }
  }
  if (digits === 0) fail("invalid", "invalid float literal");
  if (i < end && (data[i]! | 0x20) === 0x65) { // "e"
    i++;
    if (i < end && (data[i] === 0x2b || data[i] === 0x2d)) i++;
    const expStart = i;
    while (i < end && isDigit(data[i]!)) i++;
    if (i === expStart) fail("invalid", "invalid float literal");
  }
  if (i !== end) fail("invalid", "invalid float literal");
  const f = Number(decodeLatin1(data, start, end));
  if (!Number.isFinite(f)) fail("invalid", "float literal out of range");
  return f;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/**
 * Protocol 0's `V` line `data[start, end)` (raw-unicode-escape): Latin-1
 * bytes, where `\uXXXX` and `\UXXXXXXXX` after an odd run of backslashes
 * are code points. Built in bulk: one pass into UTF-16 code units.
 */
export function decodeRawUnicodeEscape(
  data: Uint8Array,
  start: number,
  end: number,
  fail: Fail,
): string {
  let bs = data.indexOf(0x5c, start);
  if (bs < 0 || bs >= end) return decodeLatin1(data, start, end);
  // The output has at most one code unit per input byte.
  const units = new Uint16Array(end - start);
  let o = 0;
  let i = start;
  while (i < end) {
    if (bs < 0 || bs >= end) bs = end;
    units.set(data.subarray(i, bs), o);
    o += bs - i;
    i = bs;
    if (i === end) break;
    let j = i;
    while (j < end && data[j] === 0x5c) j++;
    const run = j - i;
    const next = data[j];
    const escape = run % 2 === 1 && j < end && (next === 0x75 || next === 0x55);
    const copied = escape ? run - 1 : run;
    for (let k = 0; k < copied; k++) units[o++] = 0x5c;
    i = j;
    if (escape) {
      const digits = next === 0x75 ? 4 : 8;
      if (j + 1 + digits > end) fail("invalid", "truncated \\u escape");
      let cp = 0;
      for (let k = j + 1; k < j + 1 + digits; k++) {
        const h = hexValue(data[k]!);
        if (h < 0) fail("invalid", "bad \\u escape");
        cp = cp * 16 + h;
      }
      if (cp > 0x10ffff) fail("invalid", "\\U escape out of range");
      if (cp > 0xffff) {
        cp -= 0x10000;
        units[o++] = 0xd800 | (cp >> 10);
        units[o++] = 0xdc00 | (cp & 0x3ff);
      } else {
        units[o++] = cp;
      }
      i = j + 1 + digits;
    }
    bs = data.indexOf(0x5c, i);
  }
  const parts: string[] = [];
  for (let k = 0; k < o; k += 4096) {
    parts.push(
      String.fromCharCode(...units.subarray(k, Math.min(o, k + 4096))),
    );
  }
  return parts.join("");
}
