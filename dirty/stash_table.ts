// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `StashTable`: a Map-like, asynchronous view of one stash table, over a
 * {@linkcode StashTableSource} (a `StashClient`).
 *
 * @module
 */

import type { DirtyCallOptions } from "./client.ts";
import type { DirtyInput, DirtyValue } from "./tlv.ts";
import { StashTableNotFoundError } from "./errors.ts";

/** What a {@linkcode StashTable} needs: the operations of a `StashClient`. */
export interface StashTableSource {
  /** Reads a value, or `fallback` when the key is missing. */
  get<D = undefined>(
    table: string,
    key: DirtyInput,
    defaultValue?: D,
    options?: DirtyCallOptions,
  ): Promise<DirtyValue | D>;
  /** Stores a value. */
  put(
    table: string,
    key: DirtyInput,
    value: DirtyInput,
    options?: DirtyCallOptions,
  ): Promise<void>;
  /** Whether the table (or a key in it) exists. */
  exists(
    table: string,
    key?: DirtyInput,
    options?: DirtyCallOptions,
  ): Promise<boolean>;
  /** Deletes a key. */
  delete(
    table: string,
    key: DirtyInput,
    options?: DirtyCallOptions,
  ): Promise<boolean>;
  /** Empties the table. */
  clear(table: string, options?: DirtyCallOptions): Promise<void>;
  /** The table's size. */
  info(
    table: string,
    options?: DirtyCallOptions,
  ): Promise<{ size: number }>;
  /** Its keys, optionally by glob pattern. */
  keys(
    table: string,
    pattern?: string,
    options?: DirtyCallOptions,
  ): Promise<DirtyValue[]>;
}

/**
 * A Map-like, asynchronous view of one stash table: `get` gives
 * `undefined` for a missing key (as `Map#get`), `set` returns the view,
 * and iteration yields `[key, value]` pairs.
 *
 * @example Usage
 * ```ts ignore
 * import { StashClient } from "@sidecar/ipc/dirty";
 *
 * await using stash = new StashClient();
 * const sessions = stash.table("sessions");
 * await sessions.set("user:1", { name: "Alice" });
 * for await (const [key, value] of sessions) console.log(key, value);
 * ```
 */
export class StashTable implements AsyncIterable<[DirtyValue, DirtyValue]> {
  readonly #stash: StashTableSource;
  readonly #name: string;

  /**
   * Creates the view; prefer `StashClient.table()`.
   *
   * @param stash The client (a `StashClient`).
   * @param name The table.
   */
  constructor(stash: StashTableSource, name: string) {
    this.#stash = stash;
    this.#name = name;
  }

  /**
   * The table name.
   *
   * @returns The name.
   *
   * @example Usage
   * ```ts
   * import { StashClient } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new StashClient({ socketPath: "/x" }).table("t").name, "t");
   * ```
   */
  get name(): string {
    return this.#name;
  }

  /**
   * The value for `key`, or `undefined`.
   *
   * @param key The key.
   * @returns The value.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * const user = await stash.table("sessions").get("user:1");
   * ```
   */
  async get(key: DirtyInput): Promise<DirtyValue | undefined> {
    return await this.#stash.get(this.#name, key, undefined);
  }

  /**
   * Stores a value.
   *
   * @param key The key.
   * @param value The value.
   * @returns This view.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * await stash.table("sessions").set("user:1", { name: "Alice" });
   * ```
   */
  async set(key: DirtyInput, value: DirtyInput): Promise<this> {
    await this.#stash.put(this.#name, key, value);
    return this;
  }

  /**
   * Whether `key` exists.
   *
   * @param key The key.
   * @returns The answer.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * const known = await stash.table("sessions").has("user:1");
   * ```
   */
  async has(key: DirtyInput): Promise<boolean> {
    return await this.#stash.exists(this.#name, key);
  }

  /**
   * Deletes `key`.
   *
   * @param key The key.
   * @returns `true` if it existed.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * await stash.table("sessions").delete("user:1");
   * ```
   */
  async delete(key: DirtyInput): Promise<boolean> {
    return await this.#stash.delete(this.#name, key);
  }

  /**
   * Removes every key.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * await stash.table("sessions").clear();
   * ```
   */
  async clear(): Promise<void> {
    await this.#stash.clear(this.#name);
  }

  /**
   * Number of keys; 0 for a missing table.
   *
   * @returns The size.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * console.log(await stash.table("sessions").size());
   * ```
   */
  async size(): Promise<number> {
    try {
      return (await this.#stash.info(this.#name)).size;
    } catch (e) {
      if (e instanceof StashTableNotFoundError) return 0;
      throw e;
    }
  }

  /**
   * The keys, optionally filtered by a glob.
   *
   * @param pattern A glob such as `"user:*"`.
   * @returns The keys.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * const keys = await stash.table("sessions").keys("user:*");
   * ```
   */
  async keys(pattern?: string): Promise<DirtyValue[]> {
    return await this.#stash.keys(this.#name, pattern);
  }

  /**
   * Yields each value (one GET per key; keys deleted meanwhile are skipped).
   *
   * @returns An async iterator of values.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * for await (const v of stash.table("sessions").values()) console.log(v);
   * ```
   */
  async *values(): AsyncGenerator<DirtyValue, void, undefined> {
    for await (const [, v] of this.entries()) yield v;
  }

  /**
   * Yields `[key, value]` pairs (one GET per key; keys deleted meanwhile
   * are skipped).
   *
   * @returns An async iterator of pairs.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * for await (const [k, v] of stash.table("sessions").entries()) console.log(k, v);
   * ```
   */
  async *entries(): AsyncGenerator<[DirtyValue, DirtyValue], void, undefined> {
    const missing = Symbol("missing");
    for (const key of await this.keys()) {
      const v = await this.#stash.get(this.#name, key as DirtyInput, missing);
      if (v !== missing) yield [key, v as DirtyValue];
    }
  }

  /**
   * Same as {@linkcode StashTable.entries}.
   *
   * @returns An async iterator of pairs.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * for await (const [k, v] of stash.table("sessions")) console.log(k, v);
   * ```
   */
  [Symbol.asyncIterator](): AsyncGenerator<
    [DirtyValue, DirtyValue],
    void,
    undefined
  > {
    return this.entries();
  }
}
