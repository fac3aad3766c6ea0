// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Reading CBOR heads and items: the checks (with Mercurial's messages)
 * that both of `CborStreamDecoder`'s parsers make, and its recursive
 * parser, which reads a value that lies whole in the bytes at hand or
 * gives it up (to the resumable parser) at their end or when nesting is
 * deep.
 *
 * @module
 */
import type { CborKey, CborValue } from "./cbor.ts";
import { CborDecodeError } from "./errors.ts";

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** The empty byte array the parsers share. */
export const EMPTY: Uint8Array = new Uint8Array(0);

/** Deepest nesting the recursive parser takes (the stack is not unbounded). */
const FAST_MAX_DEPTH = 128;

/** Where an item is: what the parsers' messages and checks depend on. */
export const Ctx = {
  Top: 0,
  Array: 1,
  MapKey: 2,
  MapValue: 3,
  SetValue: 4,
} as const;
/** One of {@linkcode Ctx}. */
export type Ctx = typeof Ctx[keyof typeof Ctx];

export const INDEF_MSG: readonly string[] = [
  "",
  "indefinite length bytestrings not allowed as array values",
  "indefinite length bytestrings not allowed as map keys",
  "indefinite length bytestrings not allowed as map values",
  "indefinite length bytestrings not allowed as set values",
];
export const BREAK_MSG: readonly string[] = [
  "unhandled special state: 5",
  "unhandled special item when expecting array value: 5",
  "unhandled special item when expecting map key: 5",
  "unhandled special item when expecting map value: 5",
  "unhandled special item when expecting set value: 5",
];

export function limitError(message: string): CborDecodeError {
  return new CborDecodeError(message, { code: "LIMIT_EXCEEDED" });
}

export function mapKey(v: CborValue): CborKey {
  if (v instanceof Uint8Array) {
    try {
      return UTF8.decode(v);
    } catch {
      return v;
    }
  }
  return v as CborKey;
}

/** Thrown by the recursive parser when it gives a value up. */
export const GIVE_UP: unique symbol = Symbol("give up");
/** Returned by the recursive parser for the start of an indefinite bstr. */
export const START_INDEFINITE: unique symbol = Symbol("indefinite");

/**
 * The recursive parser: reads a value that lies whole in `buf[pos, end)`,
 * or throws `GIVE_UP` (leaving its result to the resumable parser).
 */
export class Fast {
  buf: Uint8Array = EMPTY;
  pos = 0;
  end = 0;
  items = 0;
  maxDepth: number;
  maxBytes: number;
  maxItems: number;
  constructor(maxDepth: number, maxBytes: number, maxItems: number) {
    this.maxDepth = maxDepth;
    this.maxBytes = maxBytes;
    this.maxItems = maxItems;
  }

  arg(info: number): number | bigint {
    if (info < 24) return info;
    const b = this.buf;
    const p = this.pos;
    switch (info) {
      case 24:
        if (this.end - p < 1) throw GIVE_UP;
        this.pos = p + 1;
        return b[p]!;
      case 25:
        if (this.end - p < 2) throw GIVE_UP;
        this.pos = p + 2;
        return (b[p]! << 8) | b[p + 1]!;
      case 26:
        if (this.end - p < 4) throw GIVE_UP;
        this.pos = p + 4;
        return readU32(b, p);
      case 27:
        if (this.end - p < 8) throw GIVE_UP;
        this.pos = p + 8;
        return readU64(b, p);
      default:
        throw argError(info);
    }
  }

  count(info: number, depth: number): number {
    const n = this.arg(info);
    checkCount(n, this.maxItems);
    if (depth >= this.maxDepth) throw depthError();
    if (depth >= FAST_MAX_DEPTH) throw GIVE_UP;
    return n as number;
  }

  item(ctx: Ctx, depth: number): CborValue | typeof START_INDEFINITE {
    if (this.pos >= this.end) throw GIVE_UP;
    const ib = this.buf[this.pos++]!;
    const major = ib >> 5;
    const info = ib & 31;
    this.items++;
    switch (major) {
      case 0:
        return this.arg(info);
      case 1:
        return negative(this.arg(info));
      case 2: {
        if (info === 31) {
          if (ctx !== Ctx.Top) throw new CborDecodeError(INDEF_MSG[ctx]!);
          return START_INDEFINITE;
        }
        const n = this.arg(info);
        checkBytes(n, this.maxBytes);
        if (this.end - this.pos < (n as number)) throw GIVE_UP;
        const out = this.buf.slice(this.pos, this.pos + (n as number));
        this.pos += n as number;
        return out;
      }
      case 3:
        throw new CborDecodeError("string major type not supported");
      case 4: {
        const n = this.count(info, depth);
        const out: CborValue[] = [];
        for (let i = 0; i < n; i++) {
          out.push(this.item(Ctx.Array, depth + 1) as CborValue);
        }
        return out;
      }
      case 5: {
        const n = this.count(info, depth);
        const out = new Map<CborKey, CborValue>();
        for (let i = 0; i < n; i++) {
          const k = mapKey(this.key(Ctx.MapKey, depth + 1));
          out.set(k, this.item(Ctx.MapValue, depth + 1) as CborValue);
        }
        return out;
      }
      case 6: {
        checkTag(this.arg(info));
        if (this.pos >= this.end) throw GIVE_UP;
        const ab = this.buf[this.pos]!;
        checkSetArray(ab);
        this.pos++;
        const n = this.count(ab & 31, depth);
        const out = new Set<CborKey>();
        for (let i = 0; i < n; i++) out.add(this.key(Ctx.SetValue, depth + 1));
        return out;
      }
      default:
        return simple(info, ctx);
    }
  }

  key(ctx: Ctx, depth: number): CborKey {
    if (this.pos >= this.end) throw GIVE_UP;
    checkKeyMajor(this.buf[this.pos]! >> 5, ctx);
    return this.item(ctx, depth) as CborKey;
  }
}

export function readU32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) >>> 0) +
    ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

export function readU64(b: Uint8Array, p: number): number | bigint {
  const hi = readU32(b, p);
  const lo = readU32(b, p + 4);
  if (hi < 0x200000) return hi * 0x100000000 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function argError(info: number): CborDecodeError {
  return new CborDecodeError(
    info === 31
      ? "indefinite length uint not allowed here"
      : `unsupported subtype on integer type: ${info}`,
  );
}

export function negative(n: number | bigint): number | bigint {
  return typeof n === "number" && n < Number.MAX_SAFE_INTEGER
    ? -1 - n
    : -1n - BigInt(n);
}

export function checkBytes(n: number | bigint, max: number): void {
  if (typeof n === "bigint" || n > max) {
    throw limitError(`byte string of ${n} bytes exceeds the limit of ${max}`);
  }
}

export function checkCount(n: number | bigint, max: number): void {
  if (typeof n === "bigint" || n > max) {
    throw limitError(`collection of ${n} items exceeds the limit of ${max}`);
  }
}

export function depthError(): CborDecodeError {
  return limitError("nesting exceeds the depth limit");
}

export function checkTag(tag: number | bigint): void {
  if (tag !== 258) {
    throw new CborDecodeError(`semantic tag ${tag} not allowed`);
  }
}

export function checkSetArray(ab: number): void {
  if (ab >> 5 !== 4 || (ab & 31) === 31) {
    throw new CborDecodeError("expected array after finite set semantic tag");
  }
}

export function checkKeyMajor(major: number, ctx: Ctx): void {
  if (major === 4 || major === 5 || major === 6) {
    throw new CborDecodeError(
      ctx === Ctx.MapKey
        ? "collections not supported as map keys"
        : "collections not allowed as set values",
    );
  }
}

export function simple(info: number, ctx: Ctx): CborValue {
  if (info === 20) return false;
  if (info === 21) return true;
  if (info === 22) return null;
  if (info === 31) throw new CborDecodeError(BREAK_MSG[ctx]!);
  throw new CborDecodeError(`special type ${info} not allowed`);
}

/** Bytes of a head whose first byte is `ib` (1 for anything refused). */
export function headSize(ib: number): number {
  if (ib >> 5 === 7) return 1;
  const info = ib & 31;
  if (info < 24) return 1;
  if (info === 24) return 2;
  if (info === 25) return 3;
  if (info === 26) return 5;
  if (info === 27) return 9;
  return 1;
}

export function checkChunkHead(ib: number): void {
  if (ib >> 5 !== 2 || (ib & 31) === 31) {
    throw new CborDecodeError(
      `unexpected special value when expecting bytestring chunk: ${ib}`,
    );
  }
}

/** The argument of a complete head in `h`. */
export function headArg(h: Uint8Array, info: number): number | bigint {
  if (info < 24) return info;
  switch (info) {
    case 24:
      return h[1]!;
    case 25:
      return (h[1]! << 8) | h[2]!;
    case 26:
      return readU32(h, 1);
    case 27:
      return readU64(h, 1);
    default:
      throw argError(info);
  }
}
