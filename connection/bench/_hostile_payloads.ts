// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Hostile pickles of issue 13 (hostile input), shared by
// connection/pickle_hostile_test.ts and connection/bench/hostile_scaling.ts.
// Each builder takes a size and returns the bytes that attack it.

import { Tuple } from "../pickle.ts";

const enc = new TextEncoder();

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** Bytes from numbers, strings (ASCII) and byte arrays. */
function join(...parts: (number[] | string | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((p) =>
    typeof p === "string" ? enc.encode(p) : Uint8Array.from(p)
  );
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * A dict with `keys` keys, key k a tuple nested `depth` levels deep, each
 * level holding the level below twice (through the memo): 2**depth leaves
 * in a few bytes per level. `{t_k: None}` with t_0 = k, t_i = (t_{i-1},
 * t_{i-1}).
 */
export function nestedTupleKeys(depth: number, keys: number): Uint8Array {
  const b: number[] = [0x80, 4, 0x7d];
  let memo = 0;
  for (let k = 0; k < keys; k++) {
    b.push(0x4a, ...u32(k)); // BININT k
    for (let i = 0; i < depth; i++) {
      b.push(0x94, 0x6a, ...u32(memo++), 0x86); // MEMOIZE LONG_BINGET TUPLE2
    }
    b.push(0x4e, 0x73); // NONE SETITEM
  }
  b.push(0x2e);
  return Uint8Array.from(b);
}

/**
 * A memo slot at index 16777215 (the largest the default `maxMemo`
 * allows), then `count` dicts that are each referenced twice (memo) before
 * an int key turns them into PyDicts: a list of 2 * count items where
 * items 2i and 2i+1 are the same `{1: None}`.
 */
export function sparseMemoRekeys(count: number): Uint8Array {
  const b: number[] = [0x80, 4, 0x4e, 0x72, 0xff, 0xff, 0xff, 0x00, 0x30];
  b.push(0x28); // MARK
  for (let k = 0; k < count; k++) {
    // EMPTY_DICT LONG_BINPUT k LONG_BINGET k BININT1 1 NONE SETITEM
    b.push(0x7d, 0x72, ...u32(k), 0x6a, ...u32(k), 0x4b, 1, 0x4e, 0x73);
  }
  b.push(0x6c, 0x2e); // LIST STOP
  return Uint8Array.from(b);
}

/** A protocol 0 FLOAT of `digits` digits followed by an `x` (invalid). */
export function floatBacktrack(digits: number): Uint8Array {
  return join("F", "1".repeat(digits), "x\n.");
}

/** A LONG4 of `n` bytes: 0xff... then 0x7f, the int 2**(8n-1) - 1. */
export function long4(n: number): Uint8Array {
  const out = new Uint8Array(1 + 4 + n + 1);
  out[0] = 0x8b;
  out.set(u32(n), 1);
  out.fill(0xff, 5, 5 + n);
  out[5 + n - 1] = 0x7f;
  out[5 + n] = 0x2e;
  return out;
}

/** A protocol 0 `V` string of `n` ASCII letters (no escapes). */
export function unicodeLine(n: number): Uint8Array {
  const out = new Uint8Array(1 + n + 2);
  out[0] = 0x56;
  out.fill(0x61, 1, 1 + n);
  out[1 + n] = 0x0a;
  out[2 + n] = 0x2e;
  return out;
}

/** A protocol 0 `V` string of `n` escapes `\u20ac` (6 bytes each). */
export function unicodeEscapes(n: number): Uint8Array {
  const out = new Uint8Array(1 + 6 * n + 2);
  out[0] = 0x56;
  const esc = enc.encode("\\u20ac");
  for (let i = 0; i < n; i++) out.set(esc, 1 + 6 * i);
  out[1 + 6 * n] = 0x0a;
  out[2 + 6 * n] = 0x2e;
  return out;
}

/** A protocol 0 LONG line of `digits` digits (over Python's 4300: refused). */
export function textLong(digits: number): Uint8Array {
  return join("L", "7".repeat(digits), "L\n.");
}

/** A BINUNICODE of `n` bytes of UTF-8 (`é` repeated). */
export function binUnicode(n: number): Uint8Array {
  const body = enc.encode("\u00e9".repeat(Math.floor(n / 2)));
  return join([0x80, 4, 0x58], u32(body.length), body, ".");
}

/** The int 2**(8n) - 1 (n bytes of 0xff as a positive int): for dumps(). */
export function bigIntOfBytes(n: number): bigint {
  return (1n << BigInt(8 * n)) - 1n;
}

/** Whether key k of {@linkcode nestedTupleKeys} is found in `d`. */
export function nestedKeyFound(
  d: Map<unknown, unknown>,
  depth: number,
  k: number,
): boolean {
  // Rebuilt from scratch: equal by value, not by identity.
  let t: unknown = k;
  for (let i = 0; i < depth; i++) t = new Tuple([t, t]);
  return d.has(t) && d.get(t) === null;
}

function be32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** TLV (dirty): `n` lists nested in one another, innermost `None`. */
export function tlvNestedLists(n: number): Uint8Array {
  const out = new Uint8Array(5 * n + 1);
  for (let i = 0; i < n; i++) out.set([0x20, ...be32(1)], 5 * i);
  out[5 * n] = 0x00;
  return out;
}

/** TLV (dirty): a dict of `n` integer-like string keys (descending), values None. */
export function tlvDict(n: number): Uint8Array {
  const parts: number[] = [0x21, ...be32(n)];
  for (let i = n; i > 0; i--) {
    const k = enc.encode(String(4000000000 - i * 7));
    parts.push(0x11, ...be32(k.length), ...k, 0x00);
  }
  return Uint8Array.from(parts);
}

/** CBOR (framing): an array of `n` ints. */
export function cborArray(n: number): Uint8Array {
  const out = new Uint8Array(5 + n);
  out.set([0x9a, ...be32(n)]);
  out.fill(0x01, 5);
  return out;
}

/** CBOR (framing): a map of `n` distinct 4-byte byte-string keys. */
export function cborMap(n: number): Uint8Array {
  const out = new Uint8Array(5 + 6 * n);
  out.set([0x9a | 0x20, ...be32(n)]); // 0xba: map, 4-byte count
  for (let i = 0; i < n; i++) out.set([0x44, ...be32(i), 0x01], 5 + 6 * i);
  return out;
}

/** CBOR (framing): a top-level indefinite byte string of `n` 1-byte chunks. */
export function cborIndefiniteBytes(n: number): Uint8Array {
  const out = new Uint8Array(2 + 2 * n);
  out[0] = 0x5f;
  for (let i = 0; i < n; i++) out.set([0x41, i & 0xff], 1 + 2 * i);
  out[1 + 2 * n] = 0xff;
  return out;
}

/**
 * Session (BIND 10) header bodies: `n` copies of one IPv4 TCP header.
 * Each is 4 * 4 + 16 + 16 + 4 bytes.
 */
export function sessionHeaders(n: number): Uint8Array[] {
  const sin = [2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
  const body = Uint8Array.from([
    ...be32(2),
    ...be32(1),
    ...be32(6),
    ...be32(16),
    ...sin,
    ...be32(16),
    ...sin,
    ...be32(100),
  ]);
  return Array.from({ length: n }, () => body.slice());
}
