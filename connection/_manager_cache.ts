// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// Memos of the manager protocol's pure functions, for the calls a program
// repeats (polling d.get("status"), ev.is_set(), setters that return
// None): the pickle of a request whose arguments are primitives, and the
// decoded reply whose value is a primitive. Both are immutable, so a hit
// is exactly what encoding or decoding again would give.

import { encodeRequestNow, type Reply } from "./_manager_protocol.ts";
import { equalBytes } from "../_internal/bytes.ts";

const MAX_REQUESTS = 32;
const MAX_REPLIES = 4;
const MAX_REPLY_SIZE = 64;
const MAX_KEY_STRING = 256;

/**
 * A key for `method(*args)` with primitive args and no kwargs, or
 * `undefined` when the call is not cached (the key says exactly what the
 * pickle depends on: each arg's type and value).
 */
function requestKey(
  method: string,
  args: readonly unknown[],
): string | undefined {
  let key = method;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (typeof a) {
      case "string":
        if (a.length > MAX_KEY_STRING) return undefined;
        key += `\0s${a.length}:${a}`;
        break;
      case "number":
        key += Object.is(a, -0) ? "\0n-0" : `\0n${a}`;
        break;
      case "boolean":
        key += a ? "\0t" : "\0f";
        break;
      case "object":
        if (a !== null) return undefined;
        key += "\0z";
        break;
      default:
        return undefined;
    }
  }
  return key;
}

/**
 * The requests of one proxy (one object id). A call is kept once it is
 * seen twice in a row for its method, so that calls whose arguments
 * change every time (`q.put(i)`) cost no copy.
 */
export class RequestCache {
  #map = new Map<string, Uint8Array>();
  #last = new Map<string, string>();

  /**
   * The request's pickle: cached when its args are primitives and it has
   * no kwargs, else encoded into the scratch buffer (send it at once).
   */
  encode(
    id: string,
    method: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown>,
    noKwargs: boolean,
  ): Uint8Array {
    const key = noKwargs ? requestKey(method, args) : undefined;
    if (key === undefined) return encodeRequestNow(id, method, args, kwargs);
    const hit = this.#map.get(key);
    if (hit !== undefined) return hit;
    const now = encodeRequestNow(id, method, args, kwargs);
    if (this.#last.get(method) !== key) {
      if (this.#last.size >= MAX_REQUESTS) this.#last.clear();
      this.#last.set(method, key);
      return now;
    }
    const bytes = now.slice();
    if (this.#map.size >= MAX_REQUESTS) this.#map.clear();
    this.#map.set(key, bytes);
    return bytes;
  }
}

/** How many replies seen once are remembered (by hash) for admission. */
const SEEN_ONCE = 8;

/** FNV-1a of at most MAX_REPLY_SIZE bytes: a reply's admission key. */
function hashBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h = Math.imul(h ^ bytes[i]!, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Recent small replies whose value is a primitive (no proxy in them). A
 * reply is kept once it comes a second time, among the last SEEN_ONCE
 * replies seen once: replies that change every time (`q.get()`, a
 * counter) are then never copied in, which cost more than decoding them.
 */
export class ReplyCache {
  #bytes: Uint8Array[] = [];
  #replies: Reply[] = [];
  #next = 0;
  /** Hashes of replies seen once (-1: free), a ring. */
  #seen: number[] = new Array(SEEN_ONCE).fill(-1);
  #seenNext = 0;

  /** The cached reply for exactly these bytes, if any. */
  get(bytes: Uint8Array): Reply | undefined {
    if (bytes.length > MAX_REPLY_SIZE) return undefined;
    const all = this.#bytes;
    for (let i = 0; i < all.length; i++) {
      if (equalBytes(all[i]!, bytes)) return this.#replies[i];
    }
    return undefined;
  }

  /**
   * Keeps `reply` for `bytes` when its value is a primitive and the same
   * bytes (by hash) came recently; otherwise remembers their hash.
   */
  set(bytes: Uint8Array, reply: Reply): void {
    if (
      bytes.length > MAX_REPLY_SIZE || reply.kind !== "#RETURN" ||
      (typeof reply.value === "object" && reply.value !== null)
    ) {
      return;
    }
    const h = hashBytes(bytes);
    const seen = this.#seen;
    const at = seen.indexOf(h);
    if (at < 0) {
      seen[this.#seenNext] = h;
      this.#seenNext = (this.#seenNext + 1) % SEEN_ONCE;
      return;
    }
    seen[at] = -1;
    const i = this.#next;
    this.#next = (i + 1) % MAX_REPLIES;
    this.#bytes[i] = bytes.slice();
    this.#replies[i] = reply;
  }
}
