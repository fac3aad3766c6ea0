// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `StashClient`: the dirty arbiter's shared key/value tables (gunicorn's
 * `gunicorn.dirty.stash`); `stash_table.ts` has the Map-like view of one
 * table.
 *
 * @module
 */

import {
  type DirtyCallOptions,
  DirtyClient,
  type DirtyClientOptions,
} from "./client.ts";
import {
  DirtyError,
  StashError,
  StashKeyNotFoundError,
  StashTableNotFoundError,
} from "./errors.ts";
import { encodeStash, type StashFields } from "./message_encoders.ts";
import { StashOp } from "./message.ts";
import { dictGet } from "./_dict.ts";
import type { DirtyInput, DirtyValue } from "./tlv.ts";
import { StashTable } from "./stash_table.ts";

/** Options of {@linkcode StashClient}: a client's options, or an existing client to share. */
export interface StashClientOptions extends DirtyClientOptions {
  /**
   * Share this client's connection pool (it is not closed with the stash
   * client).
   *
   * @default {undefined}
   */
  client?: DirtyClient;
}

/** Result of {@linkcode StashClient.info}. */
export interface StashTableInfo {
  /** Number of keys. */
  size: number;
  /** The table name. */
  table: string;
}

function mapError(e: unknown, table: string, key: DirtyInput): unknown {
  if (!(e instanceof DirtyError) || e instanceof StashError) return e;
  const t = e.errorType;
  // gunicorn 26.1.0 sends every stash error as "DirtyError" (its bug 1),
  // so the message decides; the intended types are accepted too.
  if (
    t === "StashTableNotFoundError" ||
    (t === "DirtyError" && e.message.startsWith("Table not found: "))
  ) {
    return new StashTableNotFoundError(table, { cause: e });
  }
  if (
    t === "StashKeyNotFoundError" ||
    (t === "DirtyError" && e.message.startsWith("Key not found: "))
  ) {
    return new StashKeyNotFoundError(table, key, { cause: e });
  }
  if (t === "DirtyError" || t === "StashError") {
    return new StashError(e.message, { cause: e, details: e.details });
  }
  return e;
}

function num(v: DirtyValue): number {
  return typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : 0;
}

function field(v: DirtyValue, key: string): DirtyValue {
  return dictGet(v, key) ?? null;
}

/**
 * Client for the arbiter's stash: named tables of key/value pairs shared
 * by every dirty worker and client. Keys can be any hashable TLV value
 * (string, number, bigint, boolean, null, bytes); values any TLV value.
 * `get` returns the default for a missing key although gunicorn 26.1.0's
 * arbiter sends a generic error for it. Server errors become
 * {@linkcode StashError} subclasses; transport errors stay
 * {@linkcode DirtyConnectionError} / {@linkcode DirtyTimeoutError}.
 *
 * @example Usage
 * ```ts ignore
 * import { StashClient } from "@sidecar/ipc/dirty";
 *
 * await using stash = new StashClient(); // $GUNICORN_DIRTY_SOCKET
 * await stash.put("sessions", "user:1", { name: "Alice" });
 * const user = await stash.get("sessions", "user:1");
 * const sessions = stash.table("sessions");
 * await sessions.set("user:2", { name: "Bob" });
 * console.log(user, await sessions.size(), await sessions.keys("user:*"));
 * ```
 */
export class StashClient implements AsyncDisposable {
  readonly #client: DirtyClient;
  readonly #owned: boolean;

  /**
   * Creates a stash client.
   *
   * @param options Socket path and client options, or `{ client }` to share one.
   */
  constructor(options: StashClientOptions = {}) {
    this.#owned = options.client === undefined;
    this.#client = options.client ?? new DirtyClient(options);
  }

  async #op(
    op: number,
    table: string,
    fields: StashFields,
    options: DirtyCallOptions | undefined,
  ): Promise<DirtyValue> {
    try {
      return await this.#client.request(
        (id) => encodeStash(id, op, table, fields),
        options,
      );
    } catch (e) {
      throw mapError(e, table, fields.key);
    }
  }

  /**
   * Stores `value` under `key`; creates the table if needed (PUT). A
   * `null`/`undefined` value is sent as an absent field, which the arbiter
   * stores as `None`.
   *
   * @param table The table.
   * @param key The key.
   * @param value The value.
   * @param options Signal and timeout.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * await stash.put("cache", "answer", 42);
   * ```
   */
  async put(
    table: string,
    key: DirtyInput,
    value: DirtyInput,
    options?: DirtyCallOptions,
  ): Promise<void> {
    await this.#op(StashOp.PUT, table, { key, value }, options);
  }

  /**
   * Reads a value (GET); a missing key or table gives `defaultValue`.
   *
   * @typeParam D The type of the default.
   * @param table The table.
   * @param key The key.
   * @param defaultValue Returned when the key is missing.
   * @param options Signal and timeout.
   * @returns The value or the default.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * const hits = await stash.get("cache", "hits", 0);
   * ```
   */
  async get<D = undefined>(
    table: string,
    key: DirtyInput,
    defaultValue?: D,
    options?: DirtyCallOptions,
  ): Promise<DirtyValue | D> {
    try {
      return await this.#op(StashOp.GET, table, { key }, options);
    } catch (e) {
      if (e instanceof StashKeyNotFoundError) return defaultValue as D;
      throw e;
    }
  }

  /**
   * Deletes a key (DELETE).
   *
   * @param table The table.
   * @param key The key.
   * @param options Signal and timeout.
   * @returns `true` if it existed.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * const existed = await stash.delete("cache", "answer");
   * ```
   */
  async delete(
    table: string,
    key: DirtyInput,
    options?: DirtyCallOptions,
  ): Promise<boolean> {
    return (await this.#op(StashOp.DELETE, table, { key }, options)) === true;
  }

  /**
   * Lists keys in insertion order (KEYS), optionally filtered by a Python
   * `fnmatch` glob (`*`, `?`, `[seq]`, `[!seq]`); `[]` for a missing table.
   *
   * @param table The table.
   * @param pattern A glob such as `"user:*"`.
   * @param options Signal and timeout.
   * @returns The keys.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * const users = await stash.keys("sessions", "user:*");
   * ```
   */
  async keys(
    table: string,
    pattern?: string,
    options?: DirtyCallOptions,
  ): Promise<DirtyValue[]> {
    const r = await this.#op(
      StashOp.KEYS,
      table,
      { pattern: pattern ?? null },
      options,
    );
    return Array.isArray(r) ? r : [];
  }

  /**
   * Removes every key of a table (CLEAR).
   *
   * @param table The table.
   * @param options Signal and timeout.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * await stash.clear("cache");
   * ```
   */
  async clear(table: string, options?: DirtyCallOptions): Promise<void> {
    await this.#op(StashOp.CLEAR, table, {}, options);
  }

  /**
   * Table size (INFO).
   *
   * @param table The table.
   * @param options Signal and timeout.
   * @returns `{ size, table }`.
   * @throws {StashTableNotFoundError} If the table does not exist.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * const { size } = await stash.info("sessions");
   * ```
   */
  async info(
    table: string,
    options?: DirtyCallOptions,
  ): Promise<StashTableInfo> {
    const r = await this.#op(StashOp.INFO, table, {}, options);
    const name = field(r, "table");
    return {
      size: num(field(r, "size")),
      table: typeof name === "string" ? name : table,
    };
  }

  /**
   * Creates a table if it does not exist (ENSURE).
   *
   * @param table The table.
   * @param options Signal and timeout.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * await stash.ensure("sessions");
   * ```
   */
  async ensure(table: string, options?: DirtyCallOptions): Promise<void> {
    await this.#op(StashOp.ENSURE, table, {}, options);
  }

  /**
   * Whether a table exists, or with `key`, whether the key exists (EXISTS).
   *
   * @param table The table.
   * @param key The key; omit to test the table.
   * @param options Signal and timeout.
   * @returns The answer.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * const known = await stash.exists("sessions", "user:1");
   * ```
   */
  async exists(
    table: string,
    key?: DirtyInput,
    options?: DirtyCallOptions,
  ): Promise<boolean> {
    return (await this.#op(StashOp.EXISTS, table, { key }, options)) === true;
  }

  /**
   * Drops a table (DELETE_TABLE).
   *
   * @param table The table.
   * @param options Signal and timeout.
   * @returns `true` if it existed.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * await stash.deleteTable("cache");
   * ```
   */
  async deleteTable(
    table: string,
    options?: DirtyCallOptions,
  ): Promise<boolean> {
    return (await this.#op(StashOp.DELETE_TABLE, table, {}, options)) === true;
  }

  /**
   * Lists table names (TABLES).
   *
   * @param options Signal and timeout.
   * @returns The names.
   *
   * @example Usage
   * ```ts ignore
   * import { StashClient } from "@sidecar/ipc/dirty";
   *
   * await using stash = new StashClient();
   * console.log(await stash.tables());
   * ```
   */
  async tables(options?: DirtyCallOptions): Promise<string[]> {
    const r = await this.#op(StashOp.TABLES, "", {}, options);
    return Array.isArray(r)
      ? r.filter((x): x is string => typeof x === "string")
      : [];
  }

  /**
   * A Map-like view of one table.
   *
   * @param name The table.
   * @returns The view (no request is sent).
   *
   * @example Usage
   * ```ts
   * import { StashClient } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const stash = new StashClient({ socketPath: "/tmp/x.sock" });
   * assert.equal(stash.table("sessions").name, "sessions");
   * ```
   */
  table(name: string): StashTable {
    return new StashTable(this, name);
  }

  /**
   * Closes the connections (unless the client was shared). Idempotent.
   *
   * @returns Resolves once the connections are closed.
   *
   * @example Usage
   * ```ts
   * import { StashClient } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const stash = new StashClient({ socketPath: "/tmp/x.sock" });
   * await stash.close();
   * await stash.close();
   * await assert.rejects(stash.get("t", "k"));
   * ```
   */
  async close(): Promise<void> {
    if (this.#owned) await this.#client.close();
  }

  /**
   * Same as {@linkcode StashClient.close}.
   *
   * @returns Resolves once the connections are closed.
   *
   * @example Usage
   * ```ts
   * import { StashClient } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * {
   *   await using stash = new StashClient({ socketPath: "/tmp/x.sock" });
   *   assert.equal(stash.table("t").name, "t");
   * }
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
