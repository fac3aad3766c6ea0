// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Python-compatible UTF-8 error texts: CPython's `UnicodeDecodeError` and
 * `UnicodeEncodeError` messages, so decode errors read exactly like
 * gunicorn's.
 *
 * @module
 */

function byteHex(b: number): string {
  return b.toString(16).padStart(2, "0");
}

/**
 * Describes the first invalid UTF-8 sequence in `bytes` the way CPython's
 * strict decoder does (`str(UnicodeDecodeError)`), or returns `null` when
 * the bytes are valid.
 */
export function pythonUtf8DecodeError(bytes: Uint8Array): string | null {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else {
      return message(bytes, i, i, "invalid start byte");
    }
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return message(bytes, i, n - 1, "unexpected end of data");
      const c = bytes[i + k]!;
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (c < min || c > max) {
        return message(bytes, i, i + k - 1, "invalid continuation byte");
      }
    }
    i += need + 1;
  }
  return null;
}

function message(
  bytes: Uint8Array,
  start: number,
  end: number,
  reason: string,
): string {
  if (start === end) {
    return `'utf-8' codec can't decode byte 0x${
      byteHex(bytes[start]!)
    } in position ${start}: ${reason}`;
  }
  return `'utf-8' codec can't decode bytes in position ${start}-${end}: ${reason}`;
}

/**
 * CPython's `UnicodeEncodeError` text for the first lone surrogate in `s`,
 * or `null` when `s` is well formed. Positions count code points.
 */
export function pythonUtf8EncodeError(s: string): string | null {
  if (s.isWellFormed()) return null;
  let pos = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        pos++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      // Python counts a run of surrogates as one range.
      let j = i + 1;
      while (j < s.length) {
        const e = s.charCodeAt(j);
        if (e < 0xd800 || e > 0xdfff) break;
        if (e <= 0xdbff && j + 1 < s.length) {
          const f = s.charCodeAt(j + 1);
          if (f >= 0xdc00 && f <= 0xdfff) break;
        }
        j++;
      }
      const esc = `'\\u${c.toString(16).padStart(4, "0")}'`;
      if (j - i === 1) {
        return `'utf-8' codec can't encode character ${esc} in position ${pos}: surrogates not allowed`;
      }
      return `'utf-8' codec can't encode characters in position ${pos}-${
        pos + j - i - 1
      }: surrogates not allowed`;
    }
    pos++;
  }
  return null;
}
