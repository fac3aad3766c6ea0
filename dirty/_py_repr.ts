// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Python's `repr()` of `bytes`, for error texts that quote wire bytes the
 * way gunicorn does (`b'GD'`, `b'\x00'`). Sans-I/O.
 *
 * @module
 */

/**
 * Python's `repr()` of a `bytes` value: `b'...'`, or `b"..."` when the bytes
 * hold a single quote and no double quote.
 *
 * @param b The bytes.
 * @returns The repr text.
 */
export function pyBytesRepr(b: Uint8Array): string {
  let hasSingle = false;
  let hasDouble = false;
  for (const c of b) {
    if (c === 0x27) hasSingle = true;
    if (c === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let s = "b" + quote;
  for (const c of b) {
    if (c === 0x5c) s += "\\\\";
    else if (c === 0x09) s += "\\t";
    else if (c === 0x0a) s += "\\n";
    else if (c === 0x0d) s += "\\r";
    else if (c === 0x27 && quote === "'") s += "\\'";
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += "\\x" + c.toString(16).padStart(2, "0");
  }
  return s + quote;
}

/**
 * The Python type name of a decoded TLV value (`NoneType`, `bool`, `int`,
 * `float`, `bytes`, `str`, `list`, `dict`), for texts that quote Python's
 * `TypeError`s.
 *
 * @param v A decoded value (dicts as `Map` or plain object; integral floats
 * possibly as `DirtyFloat`).
 * @returns The name.
 */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return Number.isSafeInteger(v) && !Object.is(v, -0) ? "int" : "float";
    case "string":
      return "str";
  }
  if (v instanceof Uint8Array) return "bytes";
  if (Array.isArray(v)) return "list";
  if (v instanceof Map) return "dict";
  // DirtyFloat (without importing the codec): an object with a number value.
  if (typeof (v as { valueOf(): unknown }).valueOf() === "number") {
    return "float";
  }
  return "dict";
}

/**
 * Python's `list(v)` for a decoded TLV value, as gunicorn's arbiter applies
 * it to a request's `args` (`encode_request`: `list(args) if args else []`):
 * falsy values give `[]`, a list stays, a `str` gives its characters,
 * `bytes` their values, a dict its keys; anything else is Python's
 * `TypeError` text.
 *
 * @param v The decoded `args` value.
 * @returns The list, or `{ error }` with Python's message.
 */
export function pyListOf(v: unknown): unknown[] | { error: string } {
  if (Array.isArray(v)) return v;
  if (v === null || v === undefined || v === false || v === 0 || v === 0n) {
    return [];
  }
  if (typeof v === "string") return [...v];
  if (v instanceof Uint8Array) return [...v];
  if (v instanceof Map) return [...v.keys()];
  const type = pyTypeName(v);
  if (type === "dict") return Object.keys(v as object);
  if (
    type === "float" && Number((v as { valueOf(): number }).valueOf()) === 0
  ) {
    return [];
  }
  return { error: `'${type}' object is not iterable` };
}

/**
 * Python's truthiness of a decoded TLV value (`kwargs or {}`).
 *
 * @param v A decoded value.
 * @returns Whether Python would find it true.
 */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "bigint") return v !== 0n;
  if (typeof v === "string") return v.length > 0;
  if (v instanceof Uint8Array || Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (typeof v === "object") {
    const n = (v as { valueOf(): unknown }).valueOf();
    if (typeof n === "number") return n !== 0;
    for (const _ in v) return true;
    return false;
  }
  return true;
}
