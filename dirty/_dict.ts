// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Reading decoded TLV dicts, whichever form they were decoded to (`Map` or
 * plain object).
 *
 * @module
 */
import type { DirtyValue } from "./tlv.ts";

/** Whether `v` is a decoded dict (a `Map` or a plain object). */
export function isDict(v: DirtyValue): boolean {
  if (v instanceof Map) return true;
  return v !== null && typeof v === "object" && !Array.isArray(v) &&
    !(v instanceof Uint8Array) && Object.getPrototypeOf(v) === Object.prototype;
}

/** The value under `key` of a decoded dict; `undefined` if absent or not a dict. */
export function dictGet(dict: DirtyValue, key: string): DirtyValue | undefined {
  if (dict instanceof Map) return dict.get(key);
  if (!isDict(dict)) return undefined;
  const rec = dict as Record<string, DirtyValue>;
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}
