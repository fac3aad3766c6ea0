// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Faithful text forms of Python values for the `ipc` command line.
 *
 * JSON (`--json`, and what stdin lines are parsed as): `int` is a JSON
 * integer of any size (`12345678901234567890` stays exact), `float` always
 * has a fraction or exponent (`1.0`, `2.5`, `1e+300`), and the types JSON
 * lacks are one-key tagged objects:
 *
 * | Python | JSON |
 * | --- | --- |
 * | `bytes` | `{"$bytes": "<base64>"}` |
 * | `bytearray` | `{"$bytearray": "<base64>"}` |
 * | `tuple` | `{"$tuple": [...]}` |
 * | `set` / `frozenset` | `{"$set": [...]}` / `{"$frozenset": [...]}` |
 * | `dict` with non-`str` keys (or a tag-like key) | `{"$dict": [[k, v], ...]}` |
 * | `nan`, `inf`, `-inf` | `{"$float": "nan"}`, ... |
 *
 * The human form is Python's `repr()`.
 *
 * @module
 */
import {
  ByteArray,
  FrozenSet,
  PyDict,
  PyFloat,
  Tuple,
} from "../connection/mod.ts";
import { DirtyFloat } from "../dirty/mod.ts";
import { pythonRepr } from "../framing/mod.ts";

const TAGS = new Set([
  "$bytes",
  "$bytearray",
  "$tuple",
  "$set",
  "$frozenset",
  "$dict",
  "$float",
]);

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function unbase64(text: string, where: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch (e) {
    throw new SyntaxError(`Cannot parse ${where}: not valid base64`, {
      cause: e,
    });
  }
}

/** A float's text as Python's `repr()` writes it (finite values). */
export function floatText(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (Object.is(x, -0)) return "-0.0";
  const abs = Math.abs(x);
  if ((Number.isInteger(x) && abs >= 1e16) || (abs !== 0 && abs < 1e-4)) {
    // Python switches to the exponent form at 1e16 and below 1e-4.
    const [m, e] = x.toExponential().split("e");
    const exp = Number(e);
    return `${m}e${exp < 0 ? "-" : "+"}${
      String(Math.abs(exp)).padStart(2, "0")
    }`;
  }
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function floatJson(x: number): string {
  if (Number.isNaN(x)) return '{"$float":"nan"}';
  if (x === Infinity) return '{"$float":"inf"}';
  if (x === -Infinity) return '{"$float":"-inf"}';
  return floatText(x);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function entriesOf(v: unknown): [unknown, unknown][] | null {
  if (v instanceof Map) return [...v.entries()];
  if (isPlainObject(v)) return Object.entries(v);
  return null;
}

/**
 * Renders a value as one line of JSON, keeping Python's distinctions
 * (see the module doc). Recursive references render as
 * `{"$recursive": true}`.
 *
 * @param value A decoded pickle, TLV or CBOR value.
 * @returns One line of JSON.
 *
 * @example Usage
 * ```ts
 * import { toJson } from "@sidecar/ipc/cli";
 * import { PyFloat, Tuple } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toJson(new Tuple([1, new PyFloat(2), 2n ** 64n])), '{"$tuple":[1,2.0,18446744073709551616]}');
 * assert.equal(toJson(new Uint8Array([0, 1])), '{"$bytes":"AAE="}');
 * ```
 */
export function toJson(value: unknown): string {
  const stack = new Set<unknown>();
  const walk = (v: unknown): string => {
    if (v === null || v === undefined) return "null";
    switch (typeof v) {
      case "boolean":
        return v ? "true" : "false";
      case "bigint":
        return v.toString();
      case "number":
        return Number.isInteger(v) && !Object.is(v, -0)
          ? String(v)
          : floatJson(v);
      case "string":
        return JSON.stringify(v);
    }
    if (v instanceof PyFloat || v instanceof DirtyFloat) {
      return floatJson(v.value);
    }
    if (v instanceof Uint8Array) return `{"$bytes":"${base64(v)}"}`;
    if (v instanceof ByteArray) return `{"$bytearray":"${base64(v.bytes)}"}`;
    if (typeof v !== "object") return JSON.stringify(String(v));
    if (stack.has(v)) return '{"$recursive":true}';
    stack.add(v);
    try {
      if (v instanceof Tuple) {
        return `{"$tuple":[${[...v.items].map(walk).join(",")}]}`;
      }
      if (Array.isArray(v)) return `[${v.map(walk).join(",")}]`;
      if (v instanceof FrozenSet) {
        return `{"$frozenset":[${[...v.items].map(walk).join(",")}]}`;
      }
      if (v instanceof Set) return `{"$set":[${[...v].map(walk).join(",")}]}`;
      const entries = entriesOf(v);
      if (entries !== null) {
        const plain = entries.every(([k]) => typeof k === "string") &&
          !(entries.length === 1 && TAGS.has(entries[0]![0] as string));
        if (plain) {
          return `{${
            entries.map(([k, x]) => `${JSON.stringify(k)}:${walk(x)}`).join(
              ",",
            )
          }}`;
        }
        return `{"$dict":[${
          entries.map(([k, x]) => `[${walk(k)},${walk(x)}]`).join(",")
        }]}`;
      }
      return JSON.stringify(String(v));
    } finally {
      stack.delete(v);
    }
  };
  return walk(value);
}

function tagged(obj: Record<string, unknown>, where: string): unknown {
  const keys = Object.keys(obj);
  if (keys.length !== 1 || !TAGS.has(keys[0]!)) return obj;
  const tag = keys[0]!;
  const v = obj[tag];
  const listOf = (): unknown[] => {
    if (!Array.isArray(v)) {
      throw new SyntaxError(`Cannot parse ${where}: ${tag} needs a list`);
    }
    return v;
  };
  switch (tag) {
    case "$bytes":
    case "$bytearray": {
      if (typeof v !== "string") {
        throw new SyntaxError(`Cannot parse ${where}: ${tag} needs a string`);
      }
      const b = unbase64(v, where);
      return tag === "$bytes" ? b : new ByteArray(b);
    }
    case "$tuple":
      return new Tuple(listOf());
    case "$set":
      return new Set(listOf());
    case "$frozenset":
      return new FrozenSet(listOf());
    case "$dict": {
      const pairs = listOf();
      for (const p of pairs) {
        if (!Array.isArray(p) || p.length !== 2) {
          throw new SyntaxError(
            `Cannot parse ${where}: $dict needs [key, value] pairs`,
          );
        }
      }
      return new PyDict(pairs as [unknown, unknown][]);
    }
    default: {
      const named: Record<string, number> = {
        nan: NaN,
        inf: Infinity,
        "-inf": -Infinity,
      };
      if (typeof v === "string" && v in named) return new PyFloat(named[v]!);
      if (typeof v === "number") return new PyFloat(v);
      if (v instanceof PyFloat) return v;
      throw new SyntaxError(
        `Cannot parse ${where}: $float needs a number, "nan", "inf" or "-inf"`,
      );
    }
  }
}

const NEEDS_SOURCE = /\d[eE]|\d\.0*(?![0-9])|\d{16,}|"\$|-0(?![.0-9eE])/;

/**
 * Parses one JSON text into the values the pickle and TLV encoders take:
 * integers stay integers (`bigint` beyond 2^53), numbers written with a
 * fraction or exponent become `PyFloat`, tags become `Uint8Array`,
 * `ByteArray`, `Tuple`, `Set`, `FrozenSet`, `PyDict`.
 *
 * @param text The JSON text.
 * @param where What the text is, for error messages.
 * @returns The value.
 * @throws {SyntaxError} For text that is not JSON or a malformed tag.
 *
 * @example Usage
 * ```ts
 * import { fromJson } from "@sidecar/ipc/cli";
 * import { dumps, PyFloat, Tuple } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const v = fromJson('{"$tuple": [1, 1.0, 18446744073709551616]}');
 * assert.ok(v instanceof Tuple);
 * assert.equal(v.items[0], 1);
 * assert.ok(v.items[1] instanceof PyFloat);
 * assert.equal(v.items[2], 2n ** 64n);
 * assert.ok(dumps(v).length > 0);
 * ```
 */
export function fromJson(text: string, where = "JSON"): unknown {
  let parsed: unknown;
  try {
    // Fast path: without integral floats (`1.0`, `2e3`), long integers and
    // tags, plain JSON.parse gives the same values (a non-integral number
    // already means a float).
    if (!NEEDS_SOURCE.test(text)) return JSON.parse(text);
    parsed = JSON.parse(
      text,
      function (_key, value, context?: { source?: string }) {
        if (typeof value === "number") {
          const src = context?.source ?? String(value);
          if (/[.eE]/.test(src)) return new PyFloat(value);
          // `-0` is the int 0 in Python, as in JSON.
          if (Object.is(value, -0)) return 0;
          return Number.isSafeInteger(value) ? value : BigInt(src);
        }
        if (isPlainObject(value)) return tagged(value, where);
        return value;
      },
    );
  } catch (e) {
    if (e instanceof SyntaxError && e.message.startsWith("Cannot parse")) {
      throw e;
    }
    throw new SyntaxError(
      `Cannot parse ${where}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  return parsed;
}

/**
 * Parses a command line argument: JSON when it is JSON, otherwise the text
 * itself as a string (so `hello` and `"hello"` both mean the string).
 */
export function fromArg(text: string): unknown {
  try {
    return fromJson(text, "argument");
  } catch (e) {
    if (
      e instanceof SyntaxError && !/\$\w+ needs|base64/.test(e.message)
    ) return text;
    throw e;
  }
}

function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) {
      out += `\\x${c.toString(16).padStart(2, "0")}`;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return out + quote;
}

/** Python's `repr()` of a `bytes` value. */
export function bytesRepr(b: Uint8Array): string {
  return pythonRepr(b);
}

/**
 * Renders a value as Python's `repr()` would.
 *
 * @param value A decoded pickle, TLV or CBOR value.
 * @returns The Python literal.
 *
 * @example Usage
 * ```ts
 * import { repr } from "@sidecar/ipc/cli";
 * import { Tuple } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * assert.equal(repr(new Tuple(["a", new Uint8Array([0])])), "('a', b'\\x00')");
 * assert.equal(repr(new Set()), "set()");
 * ```
 */
export function repr(value: unknown): string {
  const stack = new Set<unknown>();
  const walk = (v: unknown): string => {
    if (v === null || v === undefined) return "None";
    switch (typeof v) {
      case "boolean":
        return v ? "True" : "False";
      case "bigint":
        return v.toString();
      case "number":
        return Number.isInteger(v) && !Object.is(v, -0)
          ? String(v)
          : floatText(v);
      case "string":
        return strRepr(v);
    }
    if (v instanceof PyFloat || v instanceof DirtyFloat) {
      return floatText(v.value);
    }
    if (v instanceof Uint8Array) return bytesRepr(v);
    if (v instanceof ByteArray) return `bytearray(${bytesRepr(v.bytes)})`;
    if (typeof v !== "object") return String(v);
    if (stack.has(v)) {
      return Array.isArray(v)
        ? "[...]"
        : v instanceof Tuple
        ? "(...)"
        : "{...}";
    }
    stack.add(v);
    try {
      if (v instanceof Tuple) {
        const items = [...v.items].map(walk);
        return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
      }
      if (Array.isArray(v)) return `[${v.map(walk).join(", ")}]`;
      if (v instanceof FrozenSet) {
        return v.items.size === 0
          ? "frozenset()"
          : `frozenset({${[...v.items].map(walk).join(", ")}})`;
      }
      if (v instanceof Set) {
        return v.size === 0 ? "set()" : `{${[...v].map(walk).join(", ")}}`;
      }
      const entries = entriesOf(v);
      if (entries !== null) {
        return `{${
          entries.map(([k, x]) => `${walk(k)}: ${walk(x)}`).join(", ")
        }}`;
      }
      return String(v);
    } finally {
      stack.delete(v);
    }
  };
  return walk(value);
}
