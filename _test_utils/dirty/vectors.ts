// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Test helpers: loading the gunicorn-made vectors and turning their tagged
 * JSON (`{"t": "int", "v": "42"}`) into the values our decoder returns with
 * `{ float: "tagged" }` and Map dicts.
 *
 * @module
 */
import { fromHex } from "../hex.ts";
import { DirtyFloat } from "../../dirty/dirty_float.ts";
import type { DirtyValue } from "../../dirty/tlv.ts";

/** One entry of dirty-vectors.json (and extra-vectors.json). */
export interface Vector {
  kind: string;
  name: string;
  "python_repr": string;
  hex: string;
  expected?: Tagged;
  "decodes_to_repr"?: string;
  "header_hex"?: string;
  "payload_hex"?: string;
  "decoded_type"?: string;
  "decoded_id"?: number | string;
  exception?: string;
  "error_message"?: string;
  "error_details"?: Record<string, unknown>;
}

/** Tagged JSON value. */
export type Tagged =
  | { t: "none" }
  | { t: "bool"; v: boolean }
  | { t: "int"; v: string }
  | { t: "float"; v: string }
  | { t: "str"; v: string }
  | { t: "bytes"; hex: string }
  | { t: "list"; items: Tagged[] }
  | { t: "dict"; items: [Tagged, Tagged][] };

const dir = new URL("../../dirty/testdata/", import.meta.url);

/** Loads a vector file from testdata. */
export function loadVectors(name: string): Vector[] {
  return JSON.parse(Deno.readTextFileSync(new URL(name, dir)));
}

/** The value our decoder gives with `{ float: "tagged" }`. */
export function fromTagged(t: Tagged): DirtyValue {
  switch (t.t) {
    case "none":
      return null;
    case "bool":
      return t.v;
    case "int": {
      const b = BigInt(t.v);
      const n = Number(b);
      return Number.isSafeInteger(n) && BigInt(n) === b ? n : b;
    }
    case "float": {
      const f = t.v === "nan"
        ? NaN
        : t.v === "inf"
        ? Infinity
        : t.v === "-inf"
        ? -Infinity
        : Number(t.v);
      return Number.isSafeInteger(f) && !Object.is(f, -0)
        ? new DirtyFloat(f)
        : f;
    }
    case "str":
      return t.v;
    case "bytes":
      return fromHex(t.hex);
    case "list":
      return t.items.map(fromTagged);
    case "dict": {
      const m = new Map<string, DirtyValue>();
      for (const [k, v] of t.items) {
        m.set(fromTagged(k) as string, fromTagged(v));
      }
      return m;
    }
  }
}
