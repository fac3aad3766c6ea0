// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The human-readable frame form of Mercurial's `makeframefromhumanstring`:
 * `<request-id> <stream-id> <stream-flags> <type> <flags> <payload>`, where
 * flags are `|`-separated names or decimal numbers, and the payload is either
 * `cbor:<Python literal>` or bytes written with Python escapes. Strings are
 * read as latin-1: one character per byte.
 *
 * @module
 */
import { BytestringChunk, type CborKey, type CborValue } from "./cbor.ts";
import { decodeCborAll } from "./cbor_decoder.ts";
import { encodeCbor } from "./cbor_encoder.ts";
import {
  type Frame,
  FRAME_TYPE_FLAG_NAMES,
  FRAME_TYPE_NAMES,
  STREAM_FLAG_NAMES,
} from "./frame_codec.ts";
import { nameOf, splitFlags } from "./_flag_names.ts";
import { equalBytes } from "../_internal/bytes.ts";

function parseFlags(
  field: string,
  names: Readonly<Record<string, number>>,
  what: string,
): number {
  let v = 0;
  for (const part of field.split("|")) {
    if (Object.hasOwn(names, part)) v |= names[part]!;
    else if (/^\d+$/.test(part)) v |= Number(part);
    else throw new SyntaxError(`Cannot parse frame: unknown ${what} "${part}"`);
  }
  return v;
}

/**
 * Decodes Python byte-string escapes (`codecs.escape_decode`): `\\xNN`,
 * octal, `\\n`, `\\t` and so on; unknown escapes stay as they are.
 *
 * @param text Latin-1 text.
 * @returns The bytes.
 * @throws {SyntaxError} On a bad `\\x` escape or a trailing backslash.
 *
 * @example Usage
 * ```ts
 * import { unescapePythonBytes } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...unescapePythonBytes("a\\x00\\n")], [0x61, 0, 10]);
 * ```
 */
export function unescapePythonBytes(text: string): Uint8Array {
  const out: number[] = [];
  const simple: Record<string, number> = {
    "\\": 0x5c,
    "'": 0x27,
    '"': 0x22,
    a: 7,
    b: 8,
    f: 12,
    n: 10,
    r: 13,
    t: 9,
    v: 11,
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) {
      throw new SyntaxError(
        `Cannot parse bytes: character ${c} is not latin-1`,
      );
    }
    if (c !== 0x5c) {
      out.push(c);
      continue;
    }
    const e = text[++i];
    if (e === undefined) {
      throw new SyntaxError("Cannot parse bytes: trailing \\ in string");
    }
    if (e in simple) out.push(simple[e]!);
    else if (e === "\n") continue;
    else if (e === "x") {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
        throw new SyntaxError(
          `Cannot parse bytes: invalid \\x escape at position ${i - 1}`,
        );
      }
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (e >= "0" && e <= "7") {
      let oct = e;
      while (oct.length < 3 && /[0-7]/.test(text[i + 1] ?? "")) {
        oct += text[++i];
      }
      out.push(Number.parseInt(oct, 8) & 0xff);
    } else {
      out.push(0x5c, e.charCodeAt(0));
    }
  }
  return Uint8Array.from(out);
}

/**
 * Writes bytes the way Python's `repr(bytes)` does, without the `b` and
 * the quotes.
 *
 * @param bytes The bytes.
 * @param quote The quote character to escape.
 * @returns The escaped text.
 *
 * @example Usage
 * ```ts
 * import { escapePythonBytes } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(escapePythonBytes(Uint8Array.of(0x61, 0, 0x5c)), "a\\x00\\\\");
 * ```
 */
export function escapePythonBytes(
  bytes: Uint8Array,
  quote: "'" | '"' = "'",
): string {
  const q = quote.charCodeAt(0);
  // Each byte becomes at most 4 characters (\xNN): write their ASCII codes
  // into one buffer and decode it once (linear time).
  const buf = new Uint8Array(bytes.length * 4);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c >= 0x20 && c < 0x7f && c !== q && c !== 0x5c) {
      buf[o++] = c;
    } else if (c === q || c === 0x5c) {
      buf[o++] = 0x5c;
      buf[o++] = c;
    } else if (c === 0x0a || c === 0x0d || c === 0x09) {
      buf[o++] = 0x5c;
      buf[o++] = c === 0x0a ? 0x6e : c === 0x0d ? 0x72 : 0x74;
    } else {
      buf[o++] = 0x5c;
      buf[o++] = 0x78;
      buf[o++] = HEX.charCodeAt(c >> 4);
      buf[o++] = HEX.charCodeAt(c & 15);
    }
  }
  return LATIN1.decode(buf.subarray(0, o));
}

const HEX = "0123456789abcdef";
const LATIN1 = new TextDecoder("latin1");

function bytesRepr(b: Uint8Array): string {
  const quote = b.includes(0x27) && !b.includes(0x22) ? '"' : "'";
  return `b${quote}${escapePythonBytes(b, quote)}${quote}`;
}

const TEXT_ENCODER = new TextEncoder();

/**
 * Writes a decoded CBOR value as the Python literal Mercurial would print
 * (`repr` of the decoded value), e.g. `{b'status': b'ok'}`.
 *
 * @param value The value.
 * @returns The literal.
 *
 * @example Usage
 * ```ts
 * import { pythonRepr } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(pythonRepr(new Map([["a", [1, true, null]]])), "{b'a': [1, True, None]}");
 * ```
 */
export function pythonRepr(value: CborValue): string {
  if (value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number" || typeof value === "bigint") {
    return String(value);
  }
  if (typeof value === "string") return bytesRepr(TEXT_ENCODER.encode(value));
  if (value instanceof Uint8Array) return bytesRepr(value);
  if (Array.isArray(value)) {
    return `[${value.map((v) => pythonRepr(v)).join(", ")}]`;
  }
  if (value instanceof Map) {
    const parts: string[] = [];
    for (const [k, v] of value) {
      parts.push(`${pythonRepr(k)}: ${pythonRepr(v)}`);
    }
    return `{${parts.join(", ")}}`;
  }
  if (value instanceof Set) {
    if (value.size === 0) return "set()";
    return `{${[...value].map((v) => pythonRepr(v as CborKey)).join(", ")}}`;
  }
  if (value instanceof BytestringChunk) return bytesRepr(value.bytes);
  if (typeof value === "object") {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      parts.push(`${pythonRepr(k)}: ${pythonRepr(v)}`);
    }
    return `{${parts.join(", ")}}`;
  }
  throw new TypeError("Cannot write Python literal: unsupported value");
}

class LiteralParser {
  #s: string;
  #i = 0;
  constructor(s: string) {
    this.#s = s;
  }
  #ws(): void {
    while (this.#i < this.#s.length && " \t\n\r".includes(this.#s[this.#i]!)) {
      this.#i++;
    }
  }
  #fail(what: string): never {
    throw new SyntaxError(
      `Cannot parse Python literal: ${what} at position ${this.#i}`,
    );
  }
  parseAll(): CborValue {
    const v = this.value();
    this.#ws();
    if (this.#i !== this.#s.length) this.#fail("unexpected text");
    return v;
  }
  #seq(close: string): CborValue[] {
    const items: CborValue[] = [];
    this.#ws();
    while (this.#s[this.#i] !== close) {
      items.push(this.value());
      this.#ws();
      if (this.#s[this.#i] === ",") {
        this.#i++;
        this.#ws();
      } else if (this.#s[this.#i] !== close) {
        this.#fail(`expected "," or "${close}"`);
      }
    }
    this.#i++;
    return items;
  }
  value(): CborValue {
    this.#ws();
    const s = this.#s;
    const c = s[this.#i];
    if (c === undefined) this.#fail("unexpected end");
    if (c === "[") {
      this.#i++;
      return this.#seq("]");
    }
    if (c === "(") {
      this.#i++;
      return this.#seq(")");
    }
    if (c === "{") {
      this.#i++;
      this.#ws();
      if (s[this.#i] === "}") {
        this.#i++;
        return new Map();
      }
      const first = this.value();
      this.#ws();
      if (s[this.#i] === ":") {
        const m = new Map<CborKey, CborValue>();
        this.#i++;
        m.set(first as CborKey, this.value());
        this.#ws();
        while (s[this.#i] === ",") {
          this.#i++;
          this.#ws();
          if (s[this.#i] === "}") break;
          const k = this.value();
          this.#ws();
          if (s[this.#i] !== ":") this.#fail('expected ":"');
          this.#i++;
          m.set(k as CborKey, this.value());
          this.#ws();
        }
        if (s[this.#i] !== "}") this.#fail('expected "}"');
        this.#i++;
        return m;
      }
      const set = new Set<CborKey>([first as CborKey]);
      while (s[this.#i] === ",") {
        this.#i++;
        this.#ws();
        if (s[this.#i] === "}") break;
        set.add(this.value() as CborKey);
        this.#ws();
      }
      if (s[this.#i] !== "}") this.#fail('expected "}"');
      this.#i++;
      return set;
    }
    if (c === "b" || c === "B") {
      const q = s[this.#i + 1];
      if (q !== "'" && q !== '"') this.#fail("expected a quote");
      let j = this.#i + 2;
      while (j < s.length && s[j] !== q) j += s[j] === "\\" ? 2 : 1;
      if (j >= s.length) this.#fail("unterminated bytes literal");
      const body = s.slice(this.#i + 2, j);
      this.#i = j + 1;
      return unescapePythonBytes(body);
    }
    const word = /^(True|False|None)\b/.exec(s.slice(this.#i));
    if (word) {
      this.#i += word[1]!.length;
      return word[1] === "True" ? true : word[1] === "False" ? false : null;
    }
    const num = /^[-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\d[\d_]*)/
      .exec(s.slice(this.#i));
    if (num) {
      this.#i += num[0].length;
      const text = num[0].replaceAll("_", "");
      const neg = text.startsWith("-");
      const body = text.replace(/^[-+]/, "");
      const big = /^0[xXoObB]/.test(body)
        ? BigInt(body.toLowerCase())
        : BigInt(body);
      const v = neg ? -big : big;
      return v >= BigInt(Number.MIN_SAFE_INTEGER) &&
          v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v;
    }
    this.#fail("unsupported literal");
  }
}

/**
 * Parses a Python literal (the part after `cbor:`) into a CBOR value: bytes,
 * ints, lists, tuples, dicts, sets, `True`, `False`, `None`.
 *
 * @param text The literal.
 * @returns The value.
 * @throws {SyntaxError} On anything `ast.literal_eval` would not give as a
 * CBOR-encodable value.
 *
 * @example Usage
 * ```ts
 * import { parsePythonLiteral } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parsePythonLiteral("[1, None]"), [1, null]);
 * ```
 */
export function parsePythonLiteral(text: string): CborValue {
  return new LiteralParser(text).parseAll();
}

/**
 * Builds a frame from its human-readable form, like Mercurial's
 * `makeframefromhumanstring`.
 *
 * @param text `<request-id> <stream-id> <stream-flags> <type> <flags> <payload>`.
 * @returns The frame.
 * @throws {SyntaxError} On malformed text, unknown names, or an unknown
 * numeric frame type (Mercurial raises `KeyError` there).
 *
 * @example Usage
 * ```ts
 * import { frameFromHumanString } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const f = frameFromHumanString("1 2 stream-begin stream-settings eos cbor:b'zlib'");
 * assert.equal(f.type, 9);
 * assert.deepEqual([...f.payload], [0x44, 0x7a, 0x6c, 0x69, 0x62]);
 * ```
 */
export function frameFromHumanString(text: string): Frame {
  const fields: string[] = [];
  let rest = text;
  for (let i = 0; i < 5; i++) {
    const sp = rest.indexOf(" ");
    if (sp < 0) {
      fields.push(rest);
      rest = "";
      break;
    }
    fields.push(rest.slice(0, sp));
    rest = rest.slice(sp + 1);
  }
  if (fields.length < 5) {
    throw new SyntaxError(
      "Cannot parse frame: expected 6 space-separated fields",
    );
  }
  const [rid, sid, sflags, typeField, flagsField] = fields as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (!/^\d+$/.test(rid) || !/^\d+$/.test(sid)) {
    throw new SyntaxError(
      "Cannot parse frame: request and stream ids must be decimal numbers",
    );
  }
  let type: number;
  if (Object.hasOwn(FRAME_TYPE_NAMES, typeField)) {
    type = FRAME_TYPE_NAMES[typeField]!;
  } else if (/^\d+$/.test(typeField)) type = Number(typeField);
  else {throw new SyntaxError(
      `Cannot parse frame: unknown frame type "${typeField}"`,
    );}
  const flagNames = FRAME_TYPE_FLAG_NAMES[type];
  if (flagNames === undefined) {
    throw new SyntaxError(
      `Cannot parse frame: frame type ${type} has no flags table`,
    );
  }
  const payload = rest.startsWith("cbor:")
    ? encodeCbor(parsePythonLiteral(rest.slice(5)))
    : unescapePythonBytes(rest);
  return {
    requestId: Number(rid),
    streamId: Number(sid),
    streamFlags: parseFlags(sflags, STREAM_FLAG_NAMES, "stream flag"),
    type,
    flags: parseFlags(flagsField, flagNames, "frame flag"),
    payload,
  };
}

function flagsText(
  value: number,
  names: Readonly<Record<string, number>>,
): string {
  if (value === 0) return "0";
  const { names: parts, rest } = splitFlags(value, names);
  if (rest) parts.push(String(rest));
  return parts.join("|");
}

/**
 * Writes a frame in the human-readable form. The payload is written as
 * `cbor:<literal>` when it is exactly one CBOR value that re-encodes to the
 * same bytes, otherwise with Python escapes. The result parses back to the
 * same frame with {@linkcode frameFromHumanString}.
 *
 * @param frame The frame.
 * @returns The text.
 *
 * @example Usage
 * ```ts
 * import { frameFromHumanString, frameToHumanString } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const text = "1 2 encoded command-response continuation cbor:{b'status': b'ok'}";
 * assert.equal(frameToHumanString(frameFromHumanString(text)), text);
 * ```
 */
export function frameToHumanString(frame: Frame): string {
  const typeName = nameOf(frame.type, FRAME_TYPE_NAMES) ?? String(frame.type);
  let payload: string | undefined;
  if (frame.payload.length > 0) {
    try {
      const values = decodeCborAll(frame.payload);
      const v = values[0];
      if (
        values.length === 1 && !(v instanceof BytestringChunk) &&
        equalBytes(encodeCbor(v!), frame.payload)
      ) {
        payload = `cbor:${pythonRepr(v!)}`;
      }
    } catch {
      // Not a single CBOR value: written as escaped bytes below.
    }
  }
  payload ??= escapePythonBytes(frame.payload);
  return `${frame.requestId} ${frame.streamId} ${
    flagsText(frame.streamFlags, STREAM_FLAG_NAMES)
  } ${typeName} ${
    flagsText(frame.flags, FRAME_TYPE_FLAG_NAMES[frame.type] ?? {})
  } ${payload}`;
}
