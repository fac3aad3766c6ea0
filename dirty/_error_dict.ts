// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Reading and writing the wire error dict `{"error_type", "message",
 * "details"}`: fields of a dict decoded as a `Map` or a plain object, and
 * details copied as plain records whatever their keys (`__proto__`
 * included). Knows nothing of the error classes (see `errors.ts`).
 *
 * @module
 */

/**
 * A decoded TLV value as it appears in error details (mirrors `DirtyValue`
 * without importing the codec).
 */
export type DetailValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | { valueOf(): number }
  | DetailValue[]
  | ReadonlyMap<string, DetailValue>
  | { [key: string]: DetailValue };

/** A details record. */
export type Details = Record<string, DetailValue>;

/** Sets `obj[key]`, keeping a `"__proto__"` key an own data property. */
export function setKey(obj: Details, key: string, value: DetailValue): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}

/** A fresh copy of a details record (or `{}`). */
export function copyDetails(details: Readonly<Details> | undefined): Details {
  const out: Details = {};
  if (details) {
    for (const [k, v] of Object.entries(details)) setKey(out, k, v);
  }
  return out;
}

/** `details[key]` when it is a string. */
export function pickString(details: Details, key: string): string | undefined {
  const v = details[key];
  return typeof v === "string" ? v : undefined;
}

/** `details[key]` as a number when it is a number or a bigint. */
export function pickNumber(details: Details, key: string): number | undefined {
  const v = details[key];
  return typeof v === "number"
    ? v
    : typeof v === "bigint"
    ? Number(v)
    : undefined;
}

/** A field of a decoded dict (`Map` or plain object); `undefined` if absent. */
export function field(dict: unknown, key: string): unknown {
  if (dict instanceof Map) return dict.get(key);
  if (
    dict !== null && typeof dict === "object" && !Array.isArray(dict) &&
    !ArrayBuffer.isView(dict)
  ) {
    return Object.hasOwn(dict, key)
      ? (dict as Record<string, unknown>)[key]
      : undefined;
  }
  return undefined;
}

/** The details record of a decoded `details` value (string keys only). */
export function detailsFrom(value: unknown): Details {
  const out: Details = {};
  if (value instanceof Map) {
    for (const [k, v] of value) if (typeof k === "string") setKey(out, k, v);
  } else if (
    value !== null && typeof value === "object" && !Array.isArray(value) &&
    !ArrayBuffer.isView(value) &&
    Object.getPrototypeOf(value) !== Object.getPrototypeOf(0n)
  ) {
    for (const [k, v] of Object.entries(value)) {
      setKey(out, k, v as DetailValue);
    }
  }
  return out;
}

/** The parts of a wire error dict, with gunicorn's `from_dict` defaults. */
export function readErrorDict(
  dict: unknown,
): { errorType: string; message: string; details: Details } {
  const rawType = field(dict, "error_type");
  const rawMessage = field(dict, "message");
  return {
    errorType: typeof rawType === "string" ? rawType : "DirtyError",
    message: rawMessage === undefined ? "Unknown error" : String(rawMessage),
    details: detailsFrom(field(dict, "details")),
  };
}
