// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The messages of gunicorn 26's dirty protocol as typed values: a decoded
 * frame ({@linkcode DirtyFrame}), the message union
 * ({@linkcode DirtyMessage}) that {@linkcode parseFrame} reads from it with
 * gunicorn's defaults, and the stash and manage operation codes.
 *
 * @module
 */

import { type DirtyError, DirtyProtocolError } from "./errors.ts";
import { errorFromDict } from "./errors.ts";
import type { DirtyValue } from "./tlv.ts";
import type { DirtyMessageType } from "./header.ts";
import { dictGet, isDict } from "./_dict.ts";

/** The stash operation codes, by name. */
export interface StashOps {
  /** Store a value (creates the table). */
  readonly PUT: 1;
  /** Read a value. */
  readonly GET: 2;
  /** Delete a key. */
  readonly DELETE: 3;
  /** List keys, optionally by glob pattern. */
  readonly KEYS: 4;
  /** Empty a table. */
  readonly CLEAR: 5;
  /** Table size. */
  readonly INFO: 6;
  /** Create a table if missing. */
  readonly ENSURE: 7;
  /** Drop a table. */
  readonly DELETE_TABLE: 8;
  /** List tables. */
  readonly TABLES: 9;
  /** Table or key existence. */
  readonly EXISTS: 10;
}

/** Stash operation codes. */
export const StashOp: StashOps = Object.freeze(
  {
    PUT: 1,
    GET: 2,
    DELETE: 3,
    KEYS: 4,
    CLEAR: 5,
    INFO: 6,
    ENSURE: 7,
    DELETE_TABLE: 8,
    TABLES: 9,
    EXISTS: 10,
  } as const,
);

/** A stash operation code. */
export type StashOpCode = StashOps[keyof StashOps];

/** The manage operation codes, by name. */
export interface ManageOps {
  /** Spawn workers. */
  readonly ADD: 1;
  /** Stop the oldest workers. */
  readonly REMOVE: 2;
}

/** Worker management operation codes. */
export const ManageOp: ManageOps = Object.freeze(
  { ADD: 1, REMOVE: 2 } as const,
);

/** A manage operation code. */
export type ManageOpCode = ManageOps[keyof ManageOps];

/** One decoded message: its type, id and decoded payload. */
export interface DirtyFrame {
  /** The message type. */
  type: DirtyMessageType;
  /** The request id (uint64). */
  id: bigint;
  /**
   * The decoded TLV payload: normally a dict. A zero-length payload decodes
   * as an empty dict for every type, as in gunicorn.
   */
  payload: DirtyValue;
}

/** A REQUEST, read by {@linkcode parseFrame}. */
export interface RequestMessage {
  /** Always `"request"`. */
  type: "request";
  /** The request id. */
  id: bigint;
  /** `app_path` (`""` when absent). */
  appPath: string;
  /** `action` (`""` when absent). */
  action: string;
  /** `args` (`[]` when absent). */
  args: DirtyValue[];
  /** `kwargs` as a dict value (empty when absent). */
  kwargs: DirtyValue;
}

/** A RESPONSE. */
export interface ResponseMessage {
  /** Always `"response"`. */
  type: "response";
  /** The request id. */
  id: bigint;
  /** `result` (`null` when absent). */
  result: DirtyValue;
}

/** An ERROR, with the error already mapped to its class. */
export interface ErrorMessage {
  /** Always `"error"`. */
  type: "error";
  /** The request id. */
  id: bigint;
  /** The error built by {@linkcode errorFromDict}. */
  error: DirtyError;
}

/** A CHUNK. */
export interface ChunkMessage {
  /** Always `"chunk"`. */
  type: "chunk";
  /** The request id. */
  id: bigint;
  /** `data` (`null` when absent). */
  data: DirtyValue;
}

/** END or STATUS (no fields). */
export interface EmptyMessage {
  /** `"end"` or `"status"`. */
  type: "end" | "status";
  /** The request id. */
  id: bigint;
}

/** A STASH operation. */
export interface StashMessage {
  /** Always `"stash"`. */
  type: "stash";
  /** The request id. */
  id: bigint;
  /** `op` as sent (`undefined` when absent). */
  op: DirtyValue | undefined;
  /** `table` (`""` when absent). */
  table: string;
  /** Whether `key` was present. */
  hasKey: boolean;
  /** `key` (`null` when absent). */
  key: DirtyValue;
  /** `value` (`null` when absent). */
  value: DirtyValue;
  /** `pattern` (`null` when absent). */
  pattern: DirtyValue;
}

/** A MANAGE request. */
export interface ManageMessage {
  /** Always `"manage"`. */
  type: "manage";
  /** The request id. */
  id: bigint;
  /** `op` as sent (`undefined` when absent). */
  op: DirtyValue | undefined;
  /** `count` as sent (`1` when absent). */
  count: DirtyValue;
}

/** Any message, by type. */
export type DirtyMessage =
  | RequestMessage
  | ResponseMessage
  | ErrorMessage
  | ChunkMessage
  | EmptyMessage
  | StashMessage
  | ManageMessage;

/**
 * Reads the fields of a decoded frame by type, with gunicorn's defaults
 * for absent fields. Unlike gunicorn, payload keys never override the
 * header's type or id, and a payload that is not a dict is rejected.
 *
 * @param frame A decoded frame.
 * @returns The typed message.
 * @throws {DirtyProtocolError} If the payload is not a dict or a field has the wrong type.
 *
 * @example Usage
 * ```ts
 * import { decodeMessage, encodeRequest, parseFrame } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const msg = parseFrame(decodeMessage(encodeRequest(1n, "m:C", "add", [2, 3])));
 * assert.equal(msg.type, "request");
 * if (msg.type === "request") assert.deepEqual(msg.args, [2, 3]);
 * ```
 */
export function parseFrame(frame: DirtyFrame): DirtyMessage {
  const { type, id, payload } = frame;
  if (!isDict(payload)) {
    throw new DirtyProtocolError(
      `Cannot read ${type} message: payload is not a dict`,
    );
  }
  const str = (key: string): string => {
    const v = dictGet(payload, key);
    if (v === undefined) return "";
    if (typeof v !== "string") {
      throw new DirtyProtocolError(
        `Cannot read ${type} message: ${key} is not a string`,
      );
    }
    return v;
  };
  switch (type) {
    case "request": {
      const args = dictGet(payload, "args") ?? [];
      if (!Array.isArray(args)) {
        throw new DirtyProtocolError(
          "Cannot read request message: args is not a list",
        );
      }
      const kwargs = dictGet(payload, "kwargs") ?? emptyDictLike(payload);
      if (!isDict(kwargs)) {
        throw new DirtyProtocolError(
          "Cannot read request message: kwargs is not a dict",
        );
      }
      return {
        type,
        id,
        appPath: str("app_path"),
        action: str("action"),
        args,
        kwargs,
      };
    }
    case "response":
      return { type, id, result: dictGet(payload, "result") ?? null };
    case "error":
      return {
        type,
        id,
        error: errorFromDict(dictGet(payload, "error") ?? {}),
      };
    case "chunk":
      return { type, id, data: dictGet(payload, "data") ?? null };
    case "end":
    case "status":
      return { type, id };
    case "stash": {
      const key = dictGet(payload, "key");
      return {
        type,
        id,
        op: dictGet(payload, "op"),
        table: str("table"),
        hasKey: key !== undefined,
        key: key ?? null,
        value: dictGet(payload, "value") ?? null,
        pattern: dictGet(payload, "pattern") ?? null,
      };
    }
    case "manage":
      return {
        type,
        id,
        op: dictGet(payload, "op"),
        count: dictGet(payload, "count") ?? 1,
      };
  }
}

function emptyDictLike(like: DirtyValue): DirtyValue {
  return like instanceof Map ? new Map() : {};
}
