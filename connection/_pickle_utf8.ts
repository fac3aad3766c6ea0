// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// UTF-8 with Python's "surrogatepass" error handler, in both directions.
// `TextDecoder`/`TextEncoder` replace lone surrogates with U+FFFD, while
// Python pickles them as 3-byte sequences (ED A0 80 for U+D800).

const FATAL_DECODER = new TextDecoder("utf-8", {
  fatal: true,
  ignoreBOM: true,
});
const ENCODER = new TextEncoder();

/**
 * Decodes `data[start:end]` as UTF-8 with surrogatepass. Throws a
 * `SyntaxError` (with the failing byte's offset in the message) when the
 * bytes are not valid.
 */
export function decodeUtf8(
  data: Uint8Array,
  start: number,
  end: number,
): string {
  const len = end - start;
  if (len <= 4) {
    // Short keys are common: build them without intermediate strings.
    const a = data[start]!;
    const b = data[start + 1]!;
    const c = data[start + 2]!;
    const d = data[start + 3]!;
    switch (len) {
      case 0:
        return "";
      case 1:
        if (a < 0x80) return String.fromCharCode(a);
        break;
      case 2:
        if ((a | b) < 0x80) return String.fromCharCode(a, b);
        break;
      case 3:
        if ((a | b | c) < 0x80) return String.fromCharCode(a, b, c);
        break;
      case 4:
        if ((a | b | c | d) < 0x80) return String.fromCharCode(a, b, c, d);
        break;
    }
    return decodeSlow(data, start, end);
  }
  if (len <= 24) {
    let s = "";
    for (let i = start; i < end; i++) {
      const b = data[i]!;
      if (b >= 0x80) return decodeSlow(data, start, end);
      s += String.fromCharCode(b);
    }
    return s;
  }
  try {
    return FATAL_DECODER.decode(data.subarray(start, end));
  } catch {
    return decodeSlow(data, start, end);
  }
}

function fail(i: number): never {
  throw new SyntaxError(`Cannot decode UTF-8: invalid byte at offset ${i}`);
}

function decodeSlow(data: Uint8Array, start: number, end: number): string {
  const units: number[] = [];
  let out = "";
  let i = start;
  while (i < end) {
    const b0 = data[i]!;
    let cp: number;
    if (b0 < 0x80) {
      cp = b0;
      i++;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      if (i + 1 >= end) fail(i);
      const b1 = data[i + 1]!;
      if ((b1 & 0xc0) !== 0x80) fail(i);
      cp = ((b0 & 0x1f) << 6) | (b1 & 0x3f);
      i += 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      if (i + 2 >= end) fail(i);
      const b1 = data[i + 1]!;
      const b2 = data[i + 2]!;
      if ((b1 & 0xc0) !== 0x80 || (b2 & 0xc0) !== 0x80) fail(i);
      if (b0 === 0xe0 && b1 < 0xa0) fail(i); // overlong
      // ED A0..BF (surrogates) is accepted: that is "surrogatepass".
      cp = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
      i += 3;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      if (i + 3 >= end) fail(i);
      const b1 = data[i + 1]!;
      const b2 = data[i + 2]!;
      const b3 = data[i + 3]!;
      if (
        (b1 & 0xc0) !== 0x80 || (b2 & 0xc0) !== 0x80 || (b3 & 0xc0) !== 0x80
      ) fail(i);
      if (b0 === 0xf0 && b1 < 0x90) fail(i); // overlong
      if (b0 === 0xf4 && b1 > 0x8f) fail(i); // above U+10FFFF
      cp = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) |
        (b3 & 0x3f);
      i += 4;
    } else {
      fail(i);
    }
    if (cp > 0xffff) {
      cp -= 0x10000;
      units.push(0xd800 | (cp >> 10), 0xdc00 | (cp & 0x3ff));
    } else {
      units.push(cp);
    }
    if (units.length >= 4096) {
      out += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode(...units);
}

/** Decodes Latin-1 bytes (each byte is one code point). */
export function decodeLatin1(
  data: Uint8Array,
  start: number,
  end: number,
): string {
  let out = "";
  for (let i = start; i < end; i += 4096) {
    out += String.fromCharCode(...data.subarray(i, Math.min(end, i + 4096)));
  }
  return out;
}

/** Number of UTF-8 (surrogatepass) bytes needed for `s`. */
export function utf8Length(s: string): number {
  const n = s.length;
  let len = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      len += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        len += 2; // 4 bytes for 2 units
        i++;
      } else {
        len += 2;
      }
    } else {
      len += 2;
    }
  }
  return len;
}

/**
 * Writes `s` (from its char `from` on) as UTF-8 (surrogatepass) into `buf`
 * at `pos`; `buf` must have room for 3 bytes per char. Returns the position
 * after the last byte.
 */
export function writeUtf8(
  s: string,
  buf: Uint8Array,
  pos: number,
  from = 0,
): number {
  const n = s.length;
  if (from === 0 && n > 64 && s.isWellFormed()) {
    return pos + ENCODER.encodeInto(s, buf.subarray(pos)).written;
  }
  for (let i = from; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          buf[pos++] = 0xf0 | (c >> 18);
          buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
          buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
          buf[pos++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}
