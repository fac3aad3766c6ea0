// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The error taxonomy of gunicorn's dirty workers, mapped from and to the
 * wire error dict `{"error_type", "message", "details"}`.
 *
 * @module
 */

/**
 * A decoded TLV value as it appears in error details. This mirrors
 * {@linkcode DirtyValue} from `tlv.ts` without importing it, so the error
 * module stays dependency-free.
 */
export type DirtyDetailValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | { valueOf(): number }
  | DirtyDetailValue[]
  | ReadonlyMap<string, DirtyDetailValue>
  | { [key: string]: DirtyDetailValue };

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

/** Options accepted by {@linkcode DirtyError} and its subclasses. */
export interface DirtyErrorOptions {
  /**
   * Extra details carried on the wire.
   *
   * @default {{}}
   */
  details?: Readonly<Record<string, DirtyDetailValue>>;
  /**
   * The wire `error_type`. Defaults to the class's own gunicorn name; set it
   * to keep a foreign type (e.g. `"ValueError"`) when forwarding an error.
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

function setKey(
  obj: DirtyErrorDetails,
  key: string,
  value: DirtyDetailValue,
): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}

function toDetails(
  details: Readonly<Record<string, DirtyDetailValue>> | undefined,
): DirtyErrorDetails {
  const out: DirtyErrorDetails = {};
  if (details) {
    for (const [k, v] of Object.entries(details)) {
      setKey(out, k, v);
    }
  }
  return out;
}

function pickString(
  details: DirtyErrorDetails,
  key: string,
): string | undefined {
  const v = details[key];
  return typeof v === "string" ? v : undefined;
}

/**
 * Base class of every dirty error, like gunicorn's `DirtyError`. `message`
 * is the plain message (gunicorn's `err.message`); `details` holds the
 * wire details; `errorType` is the wire `error_type`.
 *
 * @example Usage
 * ```ts
 * import { DirtyError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new DirtyError("No dirty workers available");
 * assert.deepEqual(err.toDict(), {
 *   error_type: "DirtyError",
 *   message: "No dirty workers available",
 *   details: {},
 * });
 * ```
 */
export class DirtyError extends Error {
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
    this.name = "DirtyError";
    this.errorType = options.errorType ?? this.defaultErrorType();
    this.details = toDetails(options.details);
  }

  /**
   * The gunicorn class name used as `error_type` when none was given.
   *
   * @returns The class's gunicorn name.
   *
   * @example Usage
   * ```ts
   * import { DirtyAppError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new DirtyAppError("boom").defaultErrorType(), "DirtyAppError");
   * ```
   */
  defaultErrorType(): string {
    return "DirtyError";
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
      details: toDetails(this.details),
    };
  }
}

/**
 * A dirty operation timed out (`DirtyTimeoutError`); `timeout` comes from
 * `details.timeout` (seconds) when present.
 *
 * @example Usage
 * ```ts
 * import { DirtyTimeoutError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new DirtyTimeoutError("Worker timeout", 10);
 * assert.equal(err.timeout, 10);
 * assert.deepEqual({ ...err.details }, { timeout: 10 });
 * ```
 */
export class DirtyTimeoutError extends DirtyError {
  /** The timeout in seconds, when known. */
  readonly timeout: number | undefined;

  /**
   * Creates a timeout error.
   *
   * @param message The message.
   * @param timeout Seconds; a truthy value is recorded in `details`.
   * @param options Extra details, wire type and cause.
   */
  constructor(
    message = "Operation timed out",
    timeout?: number,
    options: DirtyErrorOptions = {},
  ) {
    const details = { ...(timeout ? { timeout } : {}), ...options.details };
    super(message, { ...options, details });
    this.name = "DirtyTimeoutError";
    const t = this.details.timeout;
    this.timeout = typeof t === "number"
      ? t
      : typeof t === "bigint"
      ? Number(t)
      : undefined;
  }

  /**
   * The gunicorn class name.
   *
   * @returns `"DirtyTimeoutError"`.
   *
   * @example Usage
   * ```ts
   * import { DirtyTimeoutError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new DirtyTimeoutError().errorType, "DirtyTimeoutError");
   * ```
   */
  override defaultErrorType(): string {
    return "DirtyTimeoutError";
  }
}

/**
 * The arbiter cannot be reached or the connection broke
 * (`DirtyConnectionError`, client-local in gunicorn).
 *
 * @example Usage
 * ```ts
 * import { DirtyConnectionError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new DirtyConnectionError("Connection failed", "/tmp/a.sock");
 * assert.equal(err.socketPath, "/tmp/a.sock");
 * ```
 */
export class DirtyConnectionError extends DirtyError {
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
    this.name = "DirtyConnectionError";
    this.socketPath = pickString(this.details, "socket_path");
  }

  /**
   * The gunicorn class name.
   *
   * @returns `"DirtyConnectionError"`.
   *
   * @example Usage
   * ```ts
   * import { DirtyConnectionError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new DirtyConnectionError().errorType, "DirtyConnectionError");
   * ```
   */
  override defaultErrorType(): string {
    return "DirtyConnectionError";
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
   * A Python traceback.
   *
   * @default {undefined}
   */
  traceback?: string;
}

/**
 * A dirty worker failed or could not be reached (`DirtyWorkerError`).
 *
 * @example Usage
 * ```ts
 * import { DirtyWorkerError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new DirtyWorkerError("Worker communication failed: x", { workerId: 1234 });
 * assert.equal(err.workerId, 1234);
 * assert.equal(err.details.worker_id, 1234);
 * ```
 */
export class DirtyWorkerError extends DirtyError {
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
    this.name = "DirtyWorkerError";
    const w = this.details.worker_id;
    this.workerId = typeof w === "number"
      ? w
      : typeof w === "bigint"
      ? Number(w)
      : undefined;
    this.traceback = pickString(this.details, "traceback");
  }

  /**
   * The gunicorn class name.
   *
   * @returns `"DirtyWorkerError"`.
   *
   * @example Usage
   * ```ts
   * import { DirtyWorkerError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new DirtyWorkerError("x").errorType, "DirtyWorkerError");
   * ```
   */
  override defaultErrorType(): string {
    return "DirtyWorkerError";
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
   * A Python traceback.
   *
   * @default {undefined}
   */
  traceback?: string;
}

/**
 * The dirty app raised while running an action (`DirtyAppError`).
 *
 * @example Usage
 * ```ts
 * import { DirtyAppError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new DirtyAppError("kaput", { appPath: "m:C", action: "fail" });
 * assert.deepEqual(Object.keys(err.details), ["app_path", "action"]);
 * ```
 */
export class DirtyAppError extends DirtyError {
  /** The app's import path, when sent. */
  readonly appPath: string | undefined;
  /** The action, when sent. */
  readonly action: string | undefined;
  /** The Python traceback, when sent. */
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
    this.name = "DirtyAppError";
    this.appPath = pickString(this.details, "app_path");
    this.action = pickString(this.details, "action");
    this.traceback = pickString(this.details, "traceback");
  }

  /**
   * The gunicorn class name.
   *
   * @returns `"DirtyAppError"`.
   *
   * @example Usage
   * ```ts
   * import { DirtyAppError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new DirtyAppError("x").errorType, "DirtyAppError");
   * ```
   */
  override defaultErrorType(): string {
    return "DirtyAppError";
  }
}

/**
 * The app is not loaded in the worker (`DirtyAppNotFoundError`). Live
 * gunicorn servers wrap this into a {@linkcode DirtyAppError}.
 *
 * @example Usage
 * ```ts
 * import { DirtyAppError, DirtyAppNotFoundError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = DirtyAppNotFoundError.forApp("m:C");
 * assert.ok(err instanceof DirtyAppError);
 * assert.equal(err.message, "Dirty app not found: m:C");
 * ```
 */
export class DirtyAppNotFoundError extends DirtyAppError {
  /**
   * Creates the error with a message.
   *
   * @param message The message.
   * @param options App path, action, traceback, extra details, cause.
   */
  constructor(message: string, options: DirtyAppErrorOptions = {}) {
    super(message, options);
    this.name = "DirtyAppNotFoundError";
  }

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

  /**
   * The gunicorn class name.
   *
   * @returns `"DirtyAppNotFoundError"`.
   *
   * @example Usage
   * ```ts
   * import { DirtyAppNotFoundError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(DirtyAppNotFoundError.forApp("a:B").errorType, "DirtyAppNotFoundError");
   * ```
   */
  override defaultErrorType(): string {
    return "DirtyAppNotFoundError";
  }
}

/**
 * No live worker holds the requested app
 * (`DirtyNoWorkersAvailableError`).
 *
 * @example Usage
 * ```ts
 * import { DirtyNoWorkersAvailableError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new DirtyNoWorkersAvailableError("m:C");
 * assert.equal(err.message, "No workers available for app: m:C");
 * assert.equal(err.details.app_path, "m:C");
 * ```
 */
export class DirtyNoWorkersAvailableError extends DirtyError {
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
    this.name = "DirtyNoWorkersAvailableError";
    this.appPath = pickString(this.details, "app_path");
  }

  /**
   * The gunicorn class name.
   *
   * @returns `"DirtyNoWorkersAvailableError"`.
   *
   * @example Usage
   * ```ts
   * import { DirtyNoWorkersAvailableError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new DirtyNoWorkersAvailableError("a:B").errorType, "DirtyNoWorkersAvailableError");
   * ```
   */
  override defaultErrorType(): string {
    return "DirtyNoWorkersAvailableError";
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

function hex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    s += bytes[i]!.toString(16).padStart(2, "0");
  }
  return s;
}

/**
 * Malformed bytes on the wire or a value that cannot be encoded
 * (`DirtyProtocolError`). Messages are gunicorn's, word for word.
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
 * ```
 */
export class DirtyProtocolError extends DirtyError {
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
      details.raw_data = hex(options.rawData.subarray(0, 100)).slice(0, 200);
    }
    super(message, { ...options, details: { ...details, ...options.details } });
    this.name = "DirtyProtocolError";
    this.rawData = pickString(this.details, "raw_data");
  }

  /**
   * The gunicorn class name.
   *
   * @returns `"DirtyProtocolError"`.
   *
   * @example Usage
   * ```ts
   * import { DirtyProtocolError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new DirtyProtocolError().errorType, "DirtyProtocolError");
   * ```
   */
  override defaultErrorType(): string {
    return "DirtyProtocolError";
  }
}

/**
 * Base class of stash failures (gunicorn's `StashError`).
 *
 * @example Usage
 * ```ts
 * import { DirtyError, StashError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * assert.ok(new StashError("Stash operation failed") instanceof DirtyError);
 * ```
 */
export class StashError extends DirtyError {
  /**
   * Creates a stash error.
   *
   * @param message The message.
   * @param options Details, wire type and cause.
   */
  constructor(message: string, options: DirtyErrorOptions = {}) {
    super(message, options);
    this.name = "StashError";
  }

  /**
   * The gunicorn class name.
   *
   * @returns `"StashError"`.
   *
   * @example Usage
   * ```ts
   * import { StashError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new StashError("x").errorType, "StashError");
   * ```
   */
  override defaultErrorType(): string {
    return "StashError";
  }
}

/**
 * A stash table does not exist (`StashTableNotFoundError`).
 *
 * @example Usage
 * ```ts
 * import { StashTableNotFoundError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new StashTableNotFoundError("sessions");
 * assert.equal(err.message, "Stash table not found: sessions");
 * ```
 */
export class StashTableNotFoundError extends StashError {
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
    this.name = "StashTableNotFoundError";
    this.tableName = tableName;
  }

  /**
   * The gunicorn class name.
   *
   * @returns `"StashTableNotFoundError"`.
   *
   * @example Usage
   * ```ts
   * import { StashTableNotFoundError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new StashTableNotFoundError("t").errorType, "StashTableNotFoundError");
   * ```
   */
  override defaultErrorType(): string {
    return "StashTableNotFoundError";
  }
}

/**
 * A stash key does not exist (`StashKeyNotFoundError`).
 *
 * @example Usage
 * ```ts
 * import { StashKeyNotFoundError } from "@sidecar/ipc/dirty";
 * import assert from "node:assert/strict";
 *
 * const err = new StashKeyNotFoundError("sessions", "user:1");
 * assert.equal(err.message, "Key not found in sessions: user:1");
 * ```
 */
export class StashKeyNotFoundError extends StashError {
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
    this.name = "StashKeyNotFoundError";
    this.tableName = tableName;
    this.key = key;
  }

  /**
   * The gunicorn class name.
   *
   * @returns `"StashKeyNotFoundError"`.
   *
   * @example Usage
   * ```ts
   * import { StashKeyNotFoundError } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new StashKeyNotFoundError("t", "k").errorType, "StashKeyNotFoundError");
   * ```
   */
  override defaultErrorType(): string {
    return "StashKeyNotFoundError";
  }
}

function field(dict: unknown, key: string): unknown {
  if (dict instanceof Map) return dict.get(key);
  if (
    dict !== null && typeof dict === "object" && !Array.isArray(dict) &&
    !ArrayBuffer.isView(dict)
  ) {
    return Object.hasOwn(dict, key)
      ? (dict as Record<string, unknown>)[key]
      : undefined;
  }
  return undefined;
}

function detailsFrom(value: unknown): DirtyErrorDetails {
  const out: DirtyErrorDetails = {};
  if (value instanceof Map) {
    for (const [k, v] of value) if (typeof k === "string") setKey(out, k, v);
  } else if (
    value !== null && typeof value === "object" && !Array.isArray(value) &&
    !ArrayBuffer.isView(value) &&
    Object.getPrototypeOf(value) !== Object.getPrototypeOf(0n)
  ) {
    for (const [k, v] of Object.entries(value)) {
      setKey(out, k, v as DirtyDetailValue);
    }
  }
  return out;
}

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
  const rawType = field(dict, "error_type");
  const errorType = typeof rawType === "string" ? rawType : "DirtyError";
  const rawMessage = field(dict, "message");
  const message = rawMessage === undefined
    ? "Unknown error"
    : String(rawMessage);
  const details = detailsFrom(field(dict, "details"));
  const options = { details, errorType };
  switch (errorType) {
    case "DirtyTimeoutError":
      return new DirtyTimeoutError(message, undefined, options);
    case "DirtyConnectionError":
      return new DirtyConnectionError(message, undefined, options);
    case "DirtyWorkerError":
      return new DirtyWorkerError(message, options);
    case "DirtyAppError":
      return new DirtyAppError(message, options);
    case "DirtyAppNotFoundError":
      return new DirtyAppNotFoundError(message, options);
    case "DirtyNoWorkersAvailableError":
      return new DirtyNoWorkersAvailableError(undefined, message, options);
    case "DirtyProtocolError":
      return new DirtyProtocolError(message, options);
    case "StashError":
      return new StashError(message, options);
    default:
      return new DirtyError(message, options);
  }
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
