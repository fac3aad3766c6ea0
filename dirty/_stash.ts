// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The arbiter's stash: named tables of key/value pairs kept in the arbiter's
 * memory, with gunicorn's ten operations (`handle_stash_request`), Python
 * dict key semantics (`1`, `1.0` and `True` are one key; lists and dicts are
 * unhashable) and `fnmatch` glob patterns for KEYS. Sans-I/O.
 *
 * Unlike gunicorn (spec section 6 items 1 and 2), a missing key or table is
 * reported with the `error_type` its Python client expects
 * (`StashKeyNotFoundError` / `StashTableNotFoundError`), and a stored dict
 * that contains an `"error"` key is returned like any other value.
 *
 * @module
 */

import { toHex } from "../_internal/bytes.ts";
import { DirtyError } from "./errors.ts";
import { DirtyFloat } from "./dirty_float.ts";
import type { DirtyValue } from "./tlv.ts";
import { type StashMessage, StashOp } from "./message.ts";
import { pyBytesRepr } from "./_py_repr.ts";

interface Entry {
  key: DirtyValue;
  value: DirtyValue;
}

/** The fields of one STASH message that the store acts on. */
export type StashRequest = Omit<StashMessage, "type" | "id">;

/** Python's `repr()` of a float. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  let out: string;
  if (exp < -4 || exp >= 16) {
    out = pyExp(digits, exp);
  } else if (exp < 0) {
    out = "0." + "0".repeat(-exp - 1) + digits;
  } else if (digits.length <= exp + 1) {
    out = digits + "0".repeat(exp + 1 - digits.length) + ".0";
  } else {
    out = digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
  }
  return neg ? "-" + out : out;
}

function pyExp(digits: string, exp: number): string {
  const m = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits;
  const e = Math.abs(exp).toString().padStart(2, "0");
  return `${m}e${exp < 0 ? "-" : "+"}${e}`;
}

/**
 * Python's `str()` of a decoded value, for the scalar types a stash key can
 * have (and a readable form of containers).
 */
export function pyStr(v: DirtyValue | undefined): string {
  if (v === undefined || v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "string") return v;
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") {
    return Number.isSafeInteger(v) && !Object.is(v, -0)
      ? String(v)
      : pyFloatRepr(v);
  }
  if (v instanceof DirtyFloat) return pyFloatRepr(v.value);
  if (v instanceof Uint8Array) return pyBytesRepr(v);
  if (Array.isArray(v)) return "[" + v.map(pyRepr).join(", ") + "]";
  const entries = v instanceof Map ? [...v] : Object.entries(v);
  return "{" +
    entries.map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(", ") +
    "}";
}

function pyRepr(v: DirtyValue): string {
  if (typeof v === "string") {
    return "'" + v.replaceAll("\\", "\\\\").replaceAll("'", "\\'") + "'";
  }
  return pyStr(v);
}

function hashKey(key: DirtyValue): string {
  if (key === null) return "N";
  switch (typeof key) {
    case "string":
      return "s" + key;
    case "boolean":
      return key ? "n1" : "n0";
    case "bigint":
      return "n" + key.toString();
    case "number":
      return numberKey(key);
  }
  if (key instanceof DirtyFloat) return numberKey(key.value);
  if (key instanceof Uint8Array) return "b" + toHex(key);
  throw new DirtyError(
    `unhashable type: '${Array.isArray(key) ? "list" : "dict"}'`,
  );
}

function numberKey(x: number): string {
  // Python: 1 == 1.0 == True, so they share one dict slot.
  if (Number.isInteger(x)) return "n" + BigInt(x).toString();
  return "n" + String(x);
}

/**
 * Translates a Python `fnmatch` pattern into an anchored regular expression
 * (Python 3.11 `fnmatch.translate`: `*`, `?`, `[seq]`, `[!seq]`, ranges,
 * unclosed `[` taken literally, empty ranges never matching).
 */
export function fnmatchToRegExp(pattern: string): RegExp {
  const chars = [...pattern];
  const n = chars.length;
  let out = "";
  let i = 0;
  while (i < n) {
    const c = chars[i++]!;
    if (c === "*") {
      while (i < n && chars[i] === "*") i++;
      out += "[^]*";
    } else if (c === "?") {
      out += "[^]";
    } else if (c === "[") {
      let j = i;
      if (j < n && chars[j] === "!") j++;
      if (j < n && chars[j] === "]") j++;
      while (j < n && chars[j] !== "]") j++;
      if (j >= n) {
        out += "\\[";
        continue;
      }
      let stuff = chars.slice(i, j);
      i = j + 1;
      const negate = stuff[0] === "!";
      if (negate) stuff = stuff.slice(1);
      let cls = "";
      let any = false;
      for (let p = 0; p < stuff.length;) {
        const lo = stuff[p]!;
        if (p + 2 < stuff.length && stuff[p + 1] === "-") {
          const hi = stuff[p + 2]!;
          if (lo.codePointAt(0)! <= hi.codePointAt(0)!) {
            cls += `${esc(lo)}-${esc(hi)}`;
            any = true;
          }
          p += 3;
        } else {
          cls += esc(lo);
          any = true;
          p += 1;
        }
      }
      if (!any) out += negate ? "[^]" : "(?!)";
      else out += negate ? `[^${cls}]` : `[${cls}]`;
    } else {
      out += esc(c);
    }
  }
  return new RegExp(`^(?:${out})$`, "u");
}

function esc(c: string): string {
  return `\\u{${c.codePointAt(0)!.toString(16)}}`;
}

/**
 * Python's `fnmatch.fnmatch(name, pattern)` on POSIX (case-sensitive).
 */
export function fnmatch(name: string, pattern: string): boolean {
  return fnmatchToRegExp(pattern).test(name);
}

/** The answer to one stash operation. */
export type StashOutcome =
  | { ok: true; result: DirtyValue }
  | { ok: false; error: DirtyError };

/**
 * The stash tables of one arbiter.
 */
export class StashStore {
  readonly #tables = new Map<string, Map<string, Entry>>();

  /** Names of the tables, in creation order. */
  tableNames(): string[] {
    return [...this.#tables.keys()];
  }

  /**
   * Runs one operation, as gunicorn's `handle_stash_request` does (with
   * the two bugs noted in the module doc fixed).
   */
  handle(req: StashRequest): StashOutcome {
    try {
      return { ok: true, result: this.#run(req) };
    } catch (e) {
      if (e instanceof DirtyError) return { ok: false, error: e };
      return {
        ok: false,
        error: new DirtyError(e instanceof Error ? e.message : String(e)),
      };
    }
  }

  #run(req: StashRequest): DirtyValue {
    const { op, table, key, value } = req;
    const tables = this.#tables;
    const t = tables.get(table);
    switch (typeof op === "bigint" ? Number(op) : op) {
      case StashOp.PUT: {
        const h = hashKey(key);
        let tab = t;
        if (tab === undefined) tables.set(table, tab = new Map());
        const old = tab.get(h);
        // A Python dict keeps the first key object and replaces the value.
        if (old) old.value = value;
        else tab.set(h, { key, value });
        return true;
      }
      case StashOp.GET: {
        const e = t?.get(hashKey(key));
        if (e === undefined) {
          throw new DirtyError(`Key not found: ${pyStr(key)}`, {
            errorType: "StashKeyNotFoundError",
          });
        }
        return e.value;
      }
      case StashOp.DELETE: {
        const h = hashKey(key);
        return t !== undefined && t.delete(h);
      }
      case StashOp.KEYS: {
        if (t === undefined) return [];
        const keys = [...t.values()].map((e) => e.key);
        const pattern = req.pattern;
        if (pattern === null || pattern === "" || pattern === false) {
          return keys;
        }
        const re = fnmatchToRegExp(pyStr(pattern));
        return keys.filter((k) => re.test(pyStr(k)));
      }
      case StashOp.CLEAR:
        t?.clear();
        return true;
      case StashOp.INFO:
        if (t === undefined) {
          throw new DirtyError(`Table not found: ${table}`, {
            errorType: "StashTableNotFoundError",
          });
        }
        return new Map<string, DirtyValue>([["size", t.size], [
          "table",
          table,
        ]]);
      case StashOp.ENSURE:
        if (t === undefined) tables.set(table, new Map());
        return true;
      case StashOp.DELETE_TABLE:
        return tables.delete(table);
      case StashOp.TABLES:
        return [...tables.keys()];
      case StashOp.EXISTS:
        if (t === undefined) return false;
        if (!req.hasKey || key === null) return true;
        return t.has(hashKey(key));
      default:
        throw new DirtyError(`Unknown stash operation: ${pyStr(op)}`);
    }
  }
}
