// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The least writer: a floor for `dumps()` on the plain payloads of
 * `pickle_compare.ts`. It writes the same bytes as `dumps()` at protocol 4
 * (one frame, the identity memo, equal keys of records of up to 64 keys
 * shared through the memo, CPython's batches) for plain objects, arrays,
 * ASCII strs under 256 chars, ints, floats, booleans and null, in one
 * recursive function with nothing else: no room or frame checks (a 1 MiB
 * scratch buffer, payloads under 64 KiB), no depth limit, no other types.
 * Then it copies the pickle out, as `dumps()` does. `pickle_compare.ts`
 * checks that both give the same bytes before it times them.
 *
 * @module
 */

const OUT = new Uint8Array(1 << 20);
const VIEW = new DataView(OUT.buffer);
const BATCH = 1000;
const MAX_SHARED_KEYS = 64;

/**
 * Pickles `value` (a payload of the kinds above) at protocol 4.
 *
 * @param value The payload.
 * @returns The pickle, in a fresh buffer.
 */
export function leastWriter(value: unknown): Uint8Array {
  const memo = new Map<object, number>();
  const keyMemo = new Map<string, number>();
  let memoLen = 0;
  let p = 0;
  const get = (idx: number): void => {
    if (idx < 256) {
      OUT[p++] = 0x68; // BINGET
      OUT[p++] = idx;
    } else {
      OUT[p++] = 0x6a; // LONG_BINGET
      VIEW.setUint32(p, idx, true);
      p += 4;
    }
  };
  const str = (s: string): void => {
    const n = s.length;
    OUT[p++] = 0x8c; // SHORT_BINUNICODE
    OUT[p++] = n;
    for (let i = 0; i < n; i++) OUT[p++] = s.charCodeAt(i);
    OUT[p++] = 0x94; // MEMOIZE
    memoLen++;
  };
  const key = (k: string, shared: boolean): void => {
    if (shared) {
      const idx = keyMemo.get(k);
      if (idx !== undefined) return get(idx);
      keyMemo.set(k, memoLen);
    }
    str(k);
  };
  const save = (v: unknown): void => {
    if (typeof v === "number") {
      if (Number.isInteger(v) && !Object.is(v, -0)) {
        if (v >= 0 && v < 256) {
          OUT[p++] = 0x4b; // BININT1
          OUT[p++] = v;
        } else if (v >= 0 && v < 65536) {
          OUT[p++] = 0x4d; // BININT2
          OUT[p++] = v & 0xff;
          OUT[p++] = v >> 8;
        } else if (v >= -(2 ** 31) && v < 2 ** 31) {
          OUT[p++] = 0x4a; // BININT
          VIEW.setInt32(p, v, true);
          p += 4;
        } else throw new RangeError("the least writer takes int32 only");
      } else {
        OUT[p++] = 0x47; // BINFLOAT
        VIEW.setFloat64(p, v, false);
        p += 8;
      }
    } else if (typeof v === "string") str(v);
    else if (typeof v === "boolean") OUT[p++] = v ? 0x88 : 0x89;
    else if (v === null) OUT[p++] = 0x4e; // NONE
    else if (typeof v === "object") {
      const idx = memo.get(v);
      if (idx !== undefined) return get(idx);
      memo.set(v, memoLen++);
      if (Array.isArray(v)) {
        OUT[p++] = 0x5d; // EMPTY_LIST
        OUT[p++] = 0x94;
        const n = v.length;
        if (n === 1) {
          save(v[0]);
          OUT[p++] = 0x61; // APPEND
          return;
        }
        let i = 0;
        while (i < n) {
          OUT[p++] = 0x28; // MARK
          for (const stop = Math.min(n, i + BATCH); i < stop; i++) save(v[i]);
          OUT[p++] = 0x65; // APPENDS
        }
        return;
      }
      OUT[p++] = 0x7d; // EMPTY_DICT
      OUT[p++] = 0x94;
      const rec = v as Record<string, unknown>;
      const keys = Object.keys(rec);
      const n = keys.length;
      const shared = n <= MAX_SHARED_KEYS;
      if (n === 1) {
        key(keys[0]!, true);
        save(rec[keys[0]!]);
        OUT[p++] = 0x73; // SETITEM
        return;
      }
      if (n === 0) return;
      let i = 0;
      let count: number;
      do {
        OUT[p++] = 0x28; // MARK
        const stop = Math.min(n, i + BATCH);
        count = stop - i;
        for (; i < stop; i++) {
          key(keys[i]!, shared);
          save(rec[keys[i]!]);
        }
        OUT[p++] = 0x75; // SETITEMS
      } while (count === BATCH && !shared);
    } else throw new TypeError(`the least writer does not take ${typeof v}`);
  };
  OUT[p++] = 0x80; // PROTO
  OUT[p++] = 4;
  OUT[p++] = 0x95; // FRAME
  p += 8;
  save(value);
  OUT[p++] = 0x2e; // STOP
  VIEW.setUint32(3, p - 11, true);
  VIEW.setUint32(7, 0, true);
  return OUT.slice(0, p);
}
