// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The error taxonomy of gunicorn's dirty workers, mapped from and to the
 * wire error dict `{"error_type", "message", "details"}`. Every class's
 * wire `error_type` and `name` are its class name (gunicorn's Python class
 * names), and every class has a stable {@linkcode DirtyErrorCode}.
 *
 * @module
 */

import { toHex } from "../_internal/bytes.ts";
import {
  copyDetails,
  type DetailValue,
  field,
  pickNumber,
  pickString,
  readErrorDict,
} from "./_error_dict.ts";

/**
 * A decoded TLV value as it appears in error details. This mirrors
 * {@linkcode DirtyValue} from `tlv.ts` without importing it, so the error
 * module stays dependency-free.
 */
export type DirtyDetailValue = DetailValue;

/** The `details` dict of an error, as a plain record. */
export type DirtyErrorDetails = Record<string, DirtyDetailValue>;

/** The wire shape of an error: `{"error_type", "message", "details"}`. */
export interface DirtyErrorDict {
  /** The Python class name of the error, e.g. `"DirtyAppError"`. */
  "error_type": string;
  /** The error message without its details. */
  message: string;
  /** Extra information; keys depend on the error type. */
  details: DirtyErrorDetails;
}

/**
 * The stable `code` of each dirty error class, to switch on (as with
 * Node's `err.code`): `DIRTY_ERROR` ({@linkcode DirtyError} itself, also
 * for foreign `error_type`s), `TIMEOUT`, `CONNECTION_FAILED`,
 * `WORKER_FAILED`, `APP_ERROR`, `APP_NOT_FOUND`, `NO_WORKERS_AVAILABLE`,
 * `PROTOCOL_ERROR`, `STASH_ERROR`, `STASH_TABLE_NOT_FOUND`,
 * `STASH_KEY_NOT_FOUND`, `LISTENER_FAILED`.
 */
export type DirtyErrorCode =
  | "DIRTY_ERROR"
  | "TIMEOUT"
  | "CONNECTION_FAILED"
  | "WORKER_FAILED"
  | "APP_ERROR"
  | "APP_NOT_FOUND"
  | "NO_WORKERS_AVAILABLE"
  | "PROTOCOL_ERROR"
  | "STASH_ERROR"
  | "STASH_TABLE_NOT_FOUND"
  | "STASH_KEY_NOT_FOUND"
  | "LISTENER_FAILED";

/** Options accepted by {@linkcode DirtyError} and its subclasses. */
export interface DirtyErrorOptions {
  /**
   * Extra details carried on the wire.
   *
   * @default {{}}
   */
  details?: Readonly<Record<string, DirtyDetailValue>>;
  /**
   * The wire `error_type`. Defaults to the class name; set it to keep a
   * foreign type (e.g. `"ValueError"`) when forwarding an error.
   *
   * @default {undefined}
   */
  errorType?: string;
  /**
   * The underlying cause.
   *
   * @default {undefined}
   */
  cause?: unknown;
}

/**
 * Base class of every dirty error, like gunicorn's `DirtyError`. `message`
 * is the plain message (gunicorn's `err.message`); `details` holds the
 * wire details; `errorType` is the wire `error_type`, by default the class
 * name (so is `name`); `code` is stable, to switch on.
 *
 * @example Usage
 * ```ts
 * import { DirtyError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new DirtyError("No dirty workers available");
 * assert.equal(err.code, "DIRTY_ERROR");
 * assert.deepEqual(err.toDict(), {
 *   error_type: "DirtyError",
 *   message: "No dirty workers available",
 *   details: {},
 * });
 * ```
 */
export class DirtyError extends Error {
  /** The stable code of the class. */
  readonly code: DirtyErrorCode = "DIRTY_ERROR";
  /** The wire `error_type` (the Python class name). */
  readonly errorType: string;
  /** The wire `details` dict. */
  readonly details: DirtyErrorDetails;

  /**
   * Creates an error.
   *
   * @param message The message, without details.
   * @param options Details, wire type and cause.
   */
  constructor(message: string, options: DirtyErrorOptions = {}) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = new.target.name;
    this.errorType = options.errorType ?? new.target.name;
    this.details = copyDetails(options.details);
  }

  /**
   * The wire error dict, in gunicorn's key order.
   *
   * @returns `{error_type, message, details}`.
   *
   * @example Usage
   * ```ts
   * import { DirtyTimeoutError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const d = new DirtyTimeoutError("Worker timeout", 300).toDict();
   * assert.equal(d.details.timeout, 300);
   * ```
   */
  toDict(): DirtyErrorDict {
    return {
      error_type: this.errorType,
      message: this.message,
      details: copyDetails(this.details),
    };
  }
}

/**
 * A dirty operation timed out (`DirtyTimeoutError`, code `TIMEOUT`);
 * `timeout` comes from `details.timeout` (seconds on gunicorn's wire)
 * when present.
 *
 * @example Usage
 * ```ts
 * import { DirtyTimeoutError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new DirtyTimeoutError("Worker timeout", 10);
 * assert.equal(err.timeout, 10);
 * assert.equal(err.code, "TIMEOUT");
 * assert.deepEqual({ ...err.details }, { timeout: 10 });
 * ```
 */
export class DirtyTimeoutError extends DirtyError {
  /** Always `"TIMEOUT"`. */
  override readonly code: DirtyErrorCode = "TIMEOUT";
  /** The timeout in seconds, when known. */
  readonly timeout: number | undefined;

  /**
   * Creates a timeout error.
   *
   * @param message The message.
   * @param timeout Seconds (gunicorn's unit on the wire); a truthy value is recorded in `details`.
   * @param options Extra details, wire type and cause.
   */
  constructor(
    message = "Operation timed out",
    timeout?: number,
    options: DirtyErrorOptions = {},
  ) {
    const details = { ...(timeout ? { timeout } : {}), ...options.details };
    super(message, { ...options, details });
    this.timeout = pickNumber(this.details, "timeout");
  }
}

/**
 * The arbiter cannot be reached or the connection broke
 * (`DirtyConnectionError`, code `CONNECTION_FAILED`; client-local in
 * gunicorn).
 *
 * @example Usage
 * ```ts
 * import { DirtyConnectionError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new DirtyConnectionError("Connection failed", "/tmp/a.sock");
 * assert.equal(err.socketPath, "/tmp/a.sock");
 * assert.equal(err.code, "CONNECTION_FAILED");
 * ```
 */
export class DirtyConnectionError extends DirtyError {
  /** Always `"CONNECTION_FAILED"`. */
  override readonly code: DirtyErrorCode = "CONNECTION_FAILED";
  /** The socket path, when known. */
  readonly socketPath: string | undefined;

  /**
   * Creates a connection error.
   *
   * @param message The message.
   * @param socketPath The socket path; recorded in `details` when given.
   * @param options Extra details, wire type and cause.
   */
  constructor(
    message = "Connection failed",
    socketPath?: string,
    options: DirtyErrorOptions = {},
  ) {
    const details = {
      ...(socketPath ? { socket_path: socketPath } : {}),
      ...options.details,
    };
    super(message, { ...options, details });
    this.socketPath = pickString(this.details, "socket_path");
  }
}

/** Options of {@linkcode DirtyWorkerError}. */
export interface DirtyWorkerErrorOptions extends DirtyErrorOptions {
  /**
   * The worker's pid.
   *
   * @default {undefined}
   */
  workerId?: number;
  /**
   * A traceback.
   *
   * @default {undefined}
   */
  traceback?: string;
}

/**
 * A dirty worker failed or could not be reached (`DirtyWorkerError`, code
 * `WORKER_FAILED`).
 *
 * @example Usage
 * ```ts
 * import { DirtyWorkerError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new DirtyWorkerError("Worker communication failed: x", { workerId: 1234 });
 * assert.equal(err.workerId, 1234);
 * assert.equal(err.details.worker_id, 1234);
 * assert.equal(err.code, "WORKER_FAILED");
 * ```
 */
export class DirtyWorkerError extends DirtyError {
  /** Always `"WORKER_FAILED"`. */
  override readonly code: DirtyErrorCode = "WORKER_FAILED";
  /** The worker's pid, when known. */
  readonly workerId: number | undefined;
  /** The traceback, when sent. */
  readonly traceback: string | undefined;

  /**
   * Creates a worker error.
   *
   * @param message The message.
   * @param options Worker id, traceback, extra details, cause.
   */
  constructor(message: string, options: DirtyWorkerErrorOptions = {}) {
    const details: Record<string, DirtyDetailValue> = {};
    if (options.workerId !== undefined) details.worker_id = options.workerId;
    if (options.traceback) details.traceback = options.traceback;
    super(message, { ...options, details: { ...details, ...options.details } });
    this.workerId = pickNumber(this.details, "worker_id");
    this.traceback = pickString(this.details, "traceback");
  }
}

/** Options of {@linkcode DirtyAppError}. */
export interface DirtyAppErrorOptions extends DirtyErrorOptions {
  /**
   * The app's import path.
   *
   * @default {undefined}
   */
  appPath?: string;
  /**
   * The action called.
   *
   * @default {undefined}
   */
  action?: string;
  /**
   * A traceback (a Python traceback, or a JavaScript stack).
   *
   * @default {undefined}
   */
  traceback?: string;
}

/**
 * The dirty app raised while running an action (`DirtyAppError`, code
 * `APP_ERROR`).
 *
 * @example Usage
 * ```ts
 * import { DirtyAppError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new DirtyAppError("kaput", { appPath: "m:C", action: "fail" });
 * assert.deepEqual(Object.keys(err.details), ["app_path", "action"]);
 * assert.equal(err.code, "APP_ERROR");
 * ```
 */
export class DirtyAppError extends DirtyError {
  /** Always `"APP_ERROR"`. */
  override readonly code: DirtyErrorCode = "APP_ERROR";
  /** The app's import path, when sent. */
  readonly appPath: string | undefined;
  /** The action, when sent. */
  readonly action: string | undefined;
  /** The traceback, when sent. */
  readonly traceback: string | undefined;

  /**
   * Creates an app error.
   *
   * @param message The message.
   * @param options App path, action, traceback, extra details, cause.
   */
  constructor(message: string, options: DirtyAppErrorOptions = {}) {
    const details: Record<string, DirtyDetailValue> = {};
    if (options.appPath) details.app_path = options.appPath;
    if (options.action) details.action = options.action;
    if (options.traceback) details.traceback = options.traceback;
    super(message, { ...options, details: { ...details, ...options.details } });
    this.appPath = pickString(this.details, "app_path");
    this.action = pickString(this.details, "action");
    this.traceback = pickString(this.details, "traceback");
  }
}

/**
 * The app is not loaded in the worker (`DirtyAppNotFoundError`, code
 * `APP_NOT_FOUND`). Live gunicorn servers wrap this into a
 * {@linkcode DirtyAppError}.
 *
 * @example Usage
 * ```ts
 * import { DirtyAppError, DirtyAppNotFoundError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = DirtyAppNotFoundError.forApp("m:C");
 * assert.ok(err instanceof DirtyAppError);
 * assert.equal(err.message, "Dirty app not found: m:C");
 * assert.equal(err.code, "APP_NOT_FOUND");
 * ```
 */
export class DirtyAppNotFoundError extends DirtyAppError {
  /** Always `"APP_NOT_FOUND"`. */
  override readonly code: DirtyErrorCode = "APP_NOT_FOUND";

  /**
   * Creates gunicorn's standard error for an app path.
   *
   * @param appPath The app's import path.
   * @returns `Dirty app not found: <appPath>`.
   *
   * @example Usage
   * ```ts
   * import { DirtyAppNotFoundError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(DirtyAppNotFoundError.forApp("a:B").appPath, "a:B");
   * ```
   */
  static forApp(appPath: string): DirtyAppNotFoundError {
    return new DirtyAppNotFoundError(`Dirty app not found: ${appPath}`, {
      appPath,
    });
  }
}

/**
 * No live worker holds the requested app
 * (`DirtyNoWorkersAvailableError`, code `NO_WORKERS_AVAILABLE`).
 *
 * @example Usage
 * ```ts
 * import { DirtyNoWorkersAvailableError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new DirtyNoWorkersAvailableError("m:C");
 * assert.equal(err.message, "No workers available for app: m:C");
 * assert.equal(err.details.app_path, "m:C");
 * assert.equal(err.code, "NO_WORKERS_AVAILABLE");
 * ```
 */
export class DirtyNoWorkersAvailableError extends DirtyError {
  /** Always `"NO_WORKERS_AVAILABLE"`. */
  override readonly code: DirtyErrorCode = "NO_WORKERS_AVAILABLE";
  /** The requested app path. */
  readonly appPath: string | undefined;

  /**
   * Creates the error.
   *
   * @param appPath The app path (recorded in `details.app_path`).
   * @param message The message; defaults to gunicorn's text.
   * @param options Extra details, wire type and cause.
   */
  constructor(
    appPath?: string,
    message?: string,
    options: DirtyErrorOptions = {},
  ) {
    super(message ?? `No workers available for app: ${appPath}`, {
      ...options,
      details: {
        ...(appPath === undefined ? {} : { app_path: appPath }),
        ...options.details,
      },
    });
    this.appPath = pickString(this.details, "app_path");
  }
}

/** Options of {@linkcode DirtyProtocolError}. */
export interface DirtyProtocolErrorOptions extends DirtyErrorOptions {
  /**
   * The offending bytes; the first 100 become `details.raw_data` as hex
   * (cut to 200 characters), as gunicorn does.
   *
   * @default {undefined}
   */
  rawData?: Uint8Array;
}

/**
 * Malformed bytes on the wire or a value that cannot be encoded
 * (`DirtyProtocolError`, code `PROTOCOL_ERROR`). Messages are gunicorn's,
 * word for word.
 *
 * @example Usage
 * ```ts
 * import { DirtyProtocolError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new DirtyProtocolError("Unknown TLV type code: 0xff", {
 *   rawData: Uint8Array.of(0xff),
 * });
 * assert.equal(err.rawData, "ff");
 * assert.equal(err.code, "PROTOCOL_ERROR");
 * ```
 */
export class DirtyProtocolError extends DirtyError {
  /** Always `"PROTOCOL_ERROR"`. */
  override readonly code: DirtyErrorCode = "PROTOCOL_ERROR";
  /** Hex of the offending bytes (gunicorn's `details.raw_data`), if any. */
  readonly rawData: string | undefined;

  /**
   * Creates a protocol error.
   *
   * @param message The message.
   * @param options Raw bytes, extra details, wire type and cause.
   */
  constructor(
    message = "Protocol error",
    options: DirtyProtocolErrorOptions = {},
  ) {
    const details: Record<string, DirtyDetailValue> = {};
    if (options.rawData !== undefined) {
      details.raw_data = toHex(options.rawData.subarray(0, 100)).slice(0, 200);
    }
    super(message, { ...options, details: { ...details, ...options.details } });
    this.rawData = pickString(this.details, "raw_data");
  }
}

/**
 * Base class of stash failures (gunicorn's `StashError`, code
 * `STASH_ERROR`).
 *
 * @example Usage
 * ```ts
 * import { DirtyError, StashError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new StashError("Stash operation failed");
 * assert.ok(err instanceof DirtyError);
 * assert.equal(err.code, "STASH_ERROR");
 * ```
 */
export class StashError extends DirtyError {
  /** Always `"STASH_ERROR"`. */
  override readonly code: DirtyErrorCode = "STASH_ERROR";
}

/**
 * A stash table does not exist (`StashTableNotFoundError`, code
 * `STASH_TABLE_NOT_FOUND`).
 *
 * @example Usage
 * ```ts
 * import { StashTableNotFoundError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new StashTableNotFoundError("sessions");
 * assert.equal(err.message, "Stash table not found: sessions");
 * assert.equal(err.code, "STASH_TABLE_NOT_FOUND");
 * ```
 */
export class StashTableNotFoundError extends StashError {
  /** Always `"STASH_TABLE_NOT_FOUND"`. */
  override readonly code: DirtyErrorCode = "STASH_TABLE_NOT_FOUND";
  /** The table name. */
  readonly tableName: string;

  /**
   * Creates the error.
   *
   * @param tableName The missing table.
   * @param options Details, wire type and cause.
   */
  constructor(tableName: string, options: DirtyErrorOptions = {}) {
    super(`Stash table not found: ${tableName}`, options);
    this.tableName = tableName;
  }
}

/**
 * A stash key does not exist (`StashKeyNotFoundError`, code
 * `STASH_KEY_NOT_FOUND`).
 *
 * @example Usage
 * ```ts
 * import { StashKeyNotFoundError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new StashKeyNotFoundError("sessions", "user:1");
 * assert.equal(err.message, "Key not found in sessions: user:1");
 * assert.equal(err.code, "STASH_KEY_NOT_FOUND");
 * ```
 */
export class StashKeyNotFoundError extends StashError {
  /** Always `"STASH_KEY_NOT_FOUND"`. */
  override readonly code: DirtyErrorCode = "STASH_KEY_NOT_FOUND";
  /** The table name. */
  readonly tableName: string;
  /** The missing key. */
  readonly key: unknown;

  /**
   * Creates the error.
   *
   * @param tableName The table.
   * @param key The missing key.
   * @param options Details, wire type and cause.
   */
  constructor(
    tableName: string,
    key: unknown,
    options: DirtyErrorOptions = {},
  ) {
    super(`Key not found in ${tableName}: ${String(key)}`, options);
    this.tableName = tableName;
    this.key = key;
  }
}

/**
 * A listening socket of the arbiter became unusable (`accept()` failed
 * with an error of the socket itself, e.g. `EBADF`, `EINVAL`), code
 * `LISTENER_FAILED`; its `cause` is what `accept()` threw. Errors of one
 * pending connection or of exhausted resources never end an accept loop.
 *
 * @example Usage
 * ```ts
 * import { DirtyListenerError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new DirtyListenerError("Cannot accept client connections: bad fd");
 * assert.equal(err.code, "LISTENER_FAILED");
 * ```
 */
export class DirtyListenerError extends DirtyError {
  /** Always `"LISTENER_FAILED"`. */
  override readonly code: DirtyErrorCode = "LISTENER_FAILED";
}

/** How a wire `error_type` becomes an instance (gunicorn's known types). */
const FROM_WIRE: Record<
  string,
  (message: string, options: DirtyErrorOptions) => DirtyError
> = {
  DirtyTimeoutError: (m, o) => new DirtyTimeoutError(m, undefined, o),
  DirtyConnectionError: (m, o) => new DirtyConnectionError(m, undefined, o),
  DirtyWorkerError: (m, o) => new DirtyWorkerError(m, o),
  DirtyAppError: (m, o) => new DirtyAppError(m, o),
  DirtyAppNotFoundError: (m, o) => new DirtyAppNotFoundError(m, o),
  DirtyNoWorkersAvailableError: (m, o) =>
    new DirtyNoWorkersAvailableError(undefined, m, o),
  DirtyProtocolError: (m, o) => new DirtyProtocolError(m, o),
  StashError: (m, o) => new StashError(m, o),
};

/**
 * Builds the error class named by a wire error dict, like gunicorn's
 * `DirtyError.from_dict`: unknown `error_type`s become a plain
 * {@linkcode DirtyError} that keeps the foreign `errorType`; a missing
 * message becomes `"Unknown error"`, missing details `{}`. Accepts the dict
 * as a `Map` or a plain object.
 *
 * @param dict The decoded `error` value of an ERROR message.
 * @returns The matching error instance (not thrown).
 *
 * @example Usage
 * ```ts
 * import { DirtyAppError, errorFromDict } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = errorFromDict({
 *   error_type: "DirtyAppError",
 *   message: "kaput",
 *   details: { app_path: "m:C", action: "fail" },
 * });
 * assert.ok(err instanceof DirtyAppError);
 * assert.equal(err.action, "fail");
 * ```
 */
export function errorFromDict(dict: unknown): DirtyError {
  const { errorType, message, details } = readErrorDict(dict);
  const options = { details, errorType };
  const make = Object.hasOwn(FROM_WIRE, errorType)
    ? FROM_WIRE[errorType]!
    : undefined;
  return make ? make(message, options) : new DirtyError(message, options);
}

/**
 * The wire error dict for any thrown value, like gunicorn's `encode_error`:
 * a {@linkcode DirtyError} gives its own dict, a plain `{error_type,
 * message, details}` object is used as is, any other error gives
 * `{name, message, {}}`.
 *
 * @param error The error to send.
 * @returns The error dict.
 *
 * @example Usage
 * ```ts
 * import { errorToDict } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(errorToDict(new TypeError("bad")), {
 *   error_type: "TypeError",
 *   message: "bad",
 *   details: {},
 * });
 * ```
 */
export function errorToDict(error: unknown): DirtyErrorDict {
  if (error instanceof DirtyError) return error.toDict();
  if (error instanceof Error) {
    return { error_type: error.name, message: error.message, details: {} };
  }
  if (
    error !== null && typeof error === "object" &&
    field(error, "error_type") !== undefined
  ) {
    const e = errorFromDict(error);
    return { error_type: e.errorType, message: e.message, details: e.details };
  }
  return { error_type: "Error", message: String(error), details: {} };
}
