// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// Python equality for dict keys, by hash-consing: every composite key
// (tuple, frozenset, bytes) gets a canonical token object, found from the
// ids of its direct members. Equal keys get the same token, so a Map keyed
// by tokens finds them. The cost of a key is its number of direct members
// (its members' tokens are cached per object identity), never the size of
// its expanded value: a tuple nested 30 levels deep holding the previous
// level twice costs 30 steps, not 2^30.

import { FrozenSet, PyFloat, Tuple } from "./pickle_types.ts";

/** The canonical stand-in of a composite key. */
class Token {
  constructor(readonly id: number) {}
}

/**
 * Interns dict keys. One interner serves every `PyDict` built by one
 * `loads()` call, so a key object shared by many dicts is interned once.
 */
export class KeyInterner {
  #tokens: WeakMap<object, Token> = new WeakMap();
  #table: Map<string, Token> = new Map();
  #prims: Map<unknown, number> = new Map();
  #next = 0;

  /**
   * The value under which Python would find `key`: a primitive for
   * primitive keys (`True`, `1` and `1.0` are one key), a token for
   * tuples, frozensets and bytes. Throws a `TypeError` for an unhashable
   * key.
   */
  key(key: unknown): unknown {
    const p = primitiveKey(key);
    if (p !== NOT_PRIMITIVE) return p;
    return this.#token(key as object);
  }

  #id(item: unknown): number {
    const p = primitiveKey(item);
    if (p === NOT_PRIMITIVE) return this.#token(item as object).id;
    let id = this.#prims.get(p);
    if (id === undefined) {
      id = this.#next++;
      this.#prims.set(p, id);
    }
    return id;
  }

  #token(key: object): Token {
    const cached = this.#tokens.get(key);
    if (cached !== undefined) return cached;
    let sig: string;
    if (key instanceof Tuple) {
      const items = key.items as readonly unknown[];
      let s = "t";
      for (let i = 0; i < items.length; i++) s += `${this.#id(items[i])},`;
      sig = s;
    } else if (key instanceof FrozenSet) {
      const ids: number[] = [];
      for (const item of key) ids.push(this.#id(item));
      ids.sort((a, b) => a - b);
      sig = `f${ids.join(",")}`;
    } else if (key instanceof Uint8Array) {
      sig = `b${bytesToLatin1(key)}`;
    } else {
      throw new TypeError(
        `Cannot use value as a dict key: unhashable type ${describe(key)}`,
      );
    }
    let token = this.#table.get(sig);
    if (token === undefined) {
      token = new Token(this.#next++);
      this.#table.set(sig, token);
    }
    this.#tokens.set(key, token);
    return token;
  }
}

const NOT_PRIMITIVE = Symbol("not primitive");
const MAX_SAFE = 9007199254740991;

/** The Map key of a primitive key, or NOT_PRIMITIVE. */
function primitiveKey(key: unknown): unknown {
  switch (typeof key) {
    case "string":
      return key;
    case "number":
      if (key === 0) return 0; // -0.0 == 0
      // An integral float beyond 2**53 equals the int of the same value.
      return Number.isInteger(key) && (key > MAX_SAFE || key < -MAX_SAFE)
        ? BigInt(key)
        : key;
    case "bigint":
      return key >= -MAX_SAFE && key <= MAX_SAFE ? Number(key) : key;
    case "boolean":
      return key ? 1 : 0;
    case "object":
      if (key === null) return null;
      if (key instanceof PyFloat) return primitiveKey(key.value);
      return NOT_PRIMITIVE;
  }
  throw new TypeError(
    `Cannot use value as a dict key: unhashable type ${describe(key)}`,
  );
}

function bytesToLatin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) {
    s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 4096)));
  }
  return s;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value as object).constructor?.name ?? "object";
}

/** The interner of the decode under way, made when a dict first asks. */
let shared: KeyInterner | undefined;
let sharing = false;

/** The interner that dicts made now should share (while decoding). */
export function currentInterner(): KeyInterner | undefined {
  return sharing ? shared ??= new KeyInterner() : undefined;
}

/** What {@linkcode startSharing} saves: the state of an outer decode. */
export interface SharingState {
  shared: KeyInterner | undefined;
  sharing: boolean;
}

/**
 * Starts a decode whose dicts share one interner (made on first use);
 * returns the state to give back to {@linkcode endSharing} (decodes nest:
 * a global hook may call `loads()`).
 */
export function startSharing(): SharingState {
  const outer = { shared, sharing };
  shared = undefined;
  sharing = true;
  return outer;
}

/** Ends the decode started by {@linkcode startSharing}. */
export function endSharing(outer: SharingState): void {
  shared = outer.shared;
  sharing = outer.sharing;
}
