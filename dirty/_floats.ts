// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * How a worker hands integral floats to apps and back (see `DirtyApp.floats`
 * for the rule). Requests are decoded with `float: "tagged"`, so an integral
 * FLOAT64 arrives as a {@linkcode DirtyFloat}. For an app in `"number"` mode,
 * {@linkcode FloatSlots.plain} turns those into plain numbers and remembers,
 * for each list or dict that held one, which slot held which number;
 * {@linkcode FloatSlots.restore} then gives a result in which every
 * remembered slot still holding its number is a `DirtyFloat` again, so a
 * container passed through unchanged goes back with its exact TLV types.
 *
 * @module
 */

import { DirtyProtocolError } from "./errors.ts";
import { DEFAULT_MAX_DEPTH, type DirtyValue } from "./tlv.ts";
import { DirtyFloat } from "./dirty_float.ts";

/** How an app sees integral floats. */
export type FloatMode = "number" | "tagged";

/**
 * The `floats` mode a dirty app class asks for.
 *
 * @param cls The app class.
 * @returns `"number"` unless the class sets `static floats = "tagged"`.
 * @throws {TypeError} If `floats` is set to anything else.
 */
export function appFloatMode(cls: unknown): FloatMode {
  const mode = (cls as { floats?: unknown } | null | undefined)?.floats;
  if (mode === undefined || mode === "number") return "number";
  if (mode === "tagged") return "tagged";
  throw new TypeError(
    `Cannot load app: static floats must be "number" or "tagged", got ${
      typeof mode === "string" ? JSON.stringify(mode) : typeof mode
    }`,
  );
}

type Slots = Map<string | number, number>;

const OBJECT_PROTO = Object.prototype;

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === OBJECT_PROTO || proto === null;
}

function setOwn(o: object, k: string, v: unknown): void {
  // defineProperty, so that a "__proto__" key stays an own data property.
  Object.defineProperty(o, k, {
    value: v,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** The float slots of one worker's containers (weakly held). */
export class FloatSlots {
  readonly #slots = new WeakMap<object, Slots>();
  /** Lengths of lists with slots: a list that grew or shrank has moved. */
  readonly #lengths = new WeakMap<object, number>();
  #any = false;

  #mark(container: object, key: string | number, value: number): void {
    let s = this.#slots.get(container);
    if (s === undefined) {
      s = new Map();
      this.#slots.set(container, s);
      this.#any = true;
    }
    s.set(key, value);
  }

  /**
   * Replaces every {@linkcode DirtyFloat} in a decoded value by its number,
   * in place (containers are the decoder's fresh ones), remembering the
   * slots.
   *
   * @param v A value decoded with `float: "tagged"`.
   * @returns The value with plain numbers.
   */
  plain(v: DirtyValue): DirtyValue {
    if (v === null || typeof v !== "object") return v;
    if (v instanceof DirtyFloat) return v.value;
    if (v instanceof Uint8Array) return v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const item = v[i]!;
        if (item === null || typeof item !== "object") continue;
        if (item instanceof DirtyFloat) {
          v[i] = item.value;
          this.#mark(v, i, item.value);
        } else {
          this.plain(item);
        }
      }
      if (this.#slots.has(v)) this.#lengths.set(v, v.length);
      return v;
    }
    if (v instanceof Map) {
      for (const [k, item] of v) {
        if (item instanceof DirtyFloat) {
          v.set(k, item.value);
          this.#mark(v, k, item.value);
        } else if (item !== null && typeof item === "object") {
          this.plain(item);
        }
      }
      return v;
    }
    for (const k of Object.keys(v)) {
      const item = v[k]!;
      if (item instanceof DirtyFloat) {
        setOwn(v, k, item.value);
        this.#mark(v, k, item.value);
      } else if (item !== null && typeof item === "object") {
        this.plain(item);
      }
    }
    return v;
  }

  /**
   * The value to encode for an app's result: `v` itself, or a copy (only
   * along the paths that change; the app's objects are never modified) in
   * which each remembered slot that still holds its number is a
   * {@linkcode DirtyFloat}.
   *
   * @param v An app's result or stream item.
   * @returns The value to encode.
   * @throws {DirtyProtocolError} If containers nest deeper than the encoder
   * accepts (cycles included).
   */
  restore<T>(v: T): T {
    if (!this.#any || v === null || typeof v !== "object") return v;
    return this.#restore(v, 0) as T;
  }

  #restore(v: object, depth: number): object {
    if (v instanceof DirtyFloat || v instanceof Uint8Array) return v;
    if (depth >= DEFAULT_MAX_DEPTH) {
      throw new DirtyProtocolError(
        `Cannot encode TLV: nesting deeper than ${DEFAULT_MAX_DEPTH} levels`,
      );
    }
    let slots = this.#slots.get(v);
    if (Array.isArray(v)) {
      // Slots are positions: after an insert or a removal they would name
      // other items, so a list whose length changed keeps none.
      if (slots !== undefined && this.#lengths.get(v) !== v.length) {
        slots = undefined;
      }
      let out: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        const r = this.#item(item, slots?.get(i), depth);
        if (r !== item) (out ??= v.slice())[i] = r;
      }
      return out ?? v;
    }
    if (v instanceof Map) {
      let out: Map<unknown, unknown> | undefined;
      for (const [k, item] of v) {
        const r = this.#item(item, slots?.get(k), depth);
        if (r !== item) (out ??= new Map(v)).set(k, r);
      }
      return out ?? v;
    }
    if (!isPlainObject(v)) return v;
    let out: Record<string, unknown> | undefined;
    for (const k of Object.keys(v)) {
      const item = v[k];
      const r = this.#item(item, slots?.get(k), depth);
      if (r !== item) setOwn(out ??= { ...v }, k, r);
    }
    return out ?? v;
  }

  #item(item: unknown, slot: number | undefined, depth: number): unknown {
    if (typeof item === "number") {
      return slot === item ? new DirtyFloat(item) : item;
    }
    if (item === null || typeof item !== "object") return item;
    return this.#restore(item, depth + 1);
  }
}
