// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Errors of the manager client and server, and {@linkcode PyException},
 * the Python exception a method served by a {@linkcode ManagerServer}
 * raises in its Python caller.
 *
 * | code | class | when |
 * | --- | --- | --- |
 * | `REMOTE_ERROR` | {@linkcode RemoteError} | the referent raised (`#ERROR`), or the server failed (`#TRACEBACK`, `#UNSERIALIZABLE`) |
 * | `BAD_REPLY` | {@linkcode ManagerProtocolError} | a reply of the wrong shape, an unknown kind, a pickle refused or malformed |
 * | `DISCONNECTED` | {@linkcode ManagerDisconnectedError} | the server closed the connection (or died) with calls pending |
 * | `UNKNOWN_TYPEID` | {@linkcode ManagerError} | the server has no such typeid |
 * | `UNKNOWN_METHOD` | {@linkcode ManagerError} | the proxy's referent does not expose that method (checked before sending) |
 * | `UNPICKLABLE` | {@linkcode ManagerError} | an argument has no Python equivalent (nothing was sent) |
 * | `PROXY_CLOSED` | {@linkcode ManagerError} | a call on a closed proxy |
 * | `MANAGER_CLOSED` | {@linkcode ManagerError} | a call on a closed client or server |
 *
 * @module
 */

/** The `code` of a {@linkcode ManagerError}. */
export type ManagerErrorCode =
  | "REMOTE_ERROR"
  | "BAD_REPLY"
  | "DISCONNECTED"
  | "UNKNOWN_TYPEID"
  | "UNKNOWN_METHOD"
  | "UNPICKLABLE"
  | "PROXY_CLOSED"
  | "MANAGER_CLOSED";

/**
 * Base class of the manager errors; `code` says which condition it is.
 *
 * @example Usage
 * ```ts
 * import { ManagerError } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const e = new ManagerError("PROXY_CLOSED", "Cannot call get(): the proxy is closed");
 * assert.equal(e.code, "PROXY_CLOSED");
 * assert.equal(e.name, "ManagerError");
 * ```
 */
export class ManagerError extends Error {
  /** The condition, stable across versions. */
  readonly code: ManagerErrorCode;

  /**
   * Creates the error.
   *
   * @param code The condition.
   * @param message The message.
   * @param options The standard error options (`cause`).
   */
  constructor(code: ManagerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ManagerError";
    this.code = code;
  }
}

/** How a manager reported a failure (the first item of its reply). */
export type RemoteErrorKind = "#ERROR" | "#TRACEBACK" | "#UNSERIALIZABLE";

/**
 * The referent raised an exception (`#ERROR`: its type name and args are
 * here, Python sends no traceback with it), or the server failed around
 * the call (`#TRACEBACK`: the text of the Python traceback; its last line's
 * exception name is `type`), or could not pickle the result
 * (`#UNSERIALIZABLE`).
 *
 * @example Usage
 * ```ts
 * import { RemoteError } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const e = new RemoteError("#ERROR", "KeyError", ["k"], undefined, "get");
 * assert.equal(e.code, "REMOTE_ERROR");
 * assert.equal(e.message, "Cannot call get(): the manager raised KeyError('k')");
 * ```
 */
export class RemoteError extends ManagerError {
  /** How the server reported it. */
  readonly kind: RemoteErrorKind;
  /**
   * The Python exception's type: `"KeyError"` for builtins, otherwise
   * `module.Name` as pickled (`"_queue.Empty"`); for a traceback, the name
   * on its last line; `""` when none is known.
   */
  readonly type: string;
  /** The exception's args (a traceback's: its last line's message). */
  readonly args: readonly unknown[];
  /** The traceback text, for `#TRACEBACK` and `#UNSERIALIZABLE`. */
  readonly traceback: string | undefined;

  /**
   * Creates the error.
   *
   * @param kind How the server reported it.
   * @param type The Python exception type name.
   * @param args The exception's args.
   * @param traceback The traceback text, if any.
   * @param method The method that was called, for the message.
   * @param options The standard error options (`cause`: the decoded
   * {@linkcode PyException} of an `#ERROR`).
   */
  constructor(
    kind: RemoteErrorKind,
    type: string,
    args: readonly unknown[],
    traceback: string | undefined,
    method: string,
    options?: ErrorOptions,
  ) {
    super(
      "REMOTE_ERROR",
      `Cannot call ${method}(): the manager ${
        kind === "#UNSERIALIZABLE"
          ? "could not pickle the result"
          : kind === "#TRACEBACK"
          ? "failed"
          : "raised"
      } ${describeException(type, args)}`,
      options,
    );
    this.name = "RemoteError";
    this.kind = kind;
    this.type = type;
    this.args = args;
    this.traceback = traceback;
  }
}

function describeException(type: string, args: readonly unknown[]): string {
  const shown = args.map((a) =>
    typeof a === "string" ? `'${a}'` : typeof a === "bigint" ? `${a}` : (
      JSON.stringify(a) ?? String(a)
    )
  );
  return `${type || "an error"}(${shown.join(", ")})`;
}

/**
 * A reply the client cannot use: not a 2-tuple, an unknown kind, a pickle
 * that is malformed or holds something refused (any global other than
 * the manager's own classes), or a proxy token for another manager.
 *
 * @example Usage
 * ```ts
 * import { ManagerProtocolError } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new ManagerProtocolError("Cannot read reply: not a tuple").code, "BAD_REPLY");
 * ```
 */
export class ManagerProtocolError extends ManagerError {
  /**
   * Creates the error.
   *
   * @param message The message.
   * @param options The standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super("BAD_REPLY", message, options);
    this.name = "ManagerProtocolError";
  }
}

/**
 * The server closed the connection, or died, while a call was pending (or
 * before it could be sent); `cause` holds the connection's error. Every
 * pending call of that connection rejects with one.
 *
 * @example Usage
 * ```ts
 * import { ManagerDisconnectedError } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const e = new ManagerDisconnectedError("Cannot call get(): the manager went away");
 * assert.equal(e.code, "DISCONNECTED");
 * ```
 */
export class ManagerDisconnectedError extends ManagerError {
  /**
   * Creates the error.
   *
   * @param message The message.
   * @param options The standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super("DISCONNECTED", message, options);
    this.name = "ManagerDisconnectedError";
  }
}

/**
 * A Python exception to raise in the caller: a method of an object served
 * by a {@linkcode ManagerServer} throws it, and the Python proxy raises
 * `type(*args)` (sent as `#ERROR`, as CPython's server sends an
 * exception). Any other thrown value reaches Python as a `RemoteError`
 * carrying its message. `type` is a builtin name (`"KeyError"`) or
 * `"module.Name"` (`"queue.Empty"`).
 *
 * @example Usage
 * ```ts
 * import { PyException } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const e = new PyException("queue.Empty");
 * assert.equal(e.module, "queue");
 * assert.equal(e.qualname, "Empty");
 * assert.equal(new PyException("KeyError", ["k"]).module, "builtins");
 * assert.equal(e.code, "PYTHON_EXCEPTION");
 * ```
 */
export class PyException extends Error {
  /** Always `"PYTHON_EXCEPTION"`: the type is in `module` and `qualname`. */
  readonly code: "PYTHON_EXCEPTION" = "PYTHON_EXCEPTION";
  /** The exception's module (`"builtins"` for a bare name). */
  readonly module: string;
  /** Its name in the module. */
  readonly qualname: string;
  /** The constructor arguments. */
  readonly args: readonly unknown[];
  /**
   * The exception's `__dict__` (attributes, `__notes__`) when one came
   * with it in a reply; sent by nothing.
   */
  state: unknown = undefined;

  /**
   * Describes the exception.
   *
   * @param type `"KeyError"` or `"module.Name"`.
   * @param args The arguments Python constructs it with.
   */
  constructor(type: string, args: readonly unknown[] = []) {
    if (typeof type !== "string" || !/^[A-Za-z_][\w.]*$/.test(type)) {
      throw new TypeError(
        `Cannot create PyException: '${type}' is not a Python type name`,
      );
    }
    const dot = type.lastIndexOf(".");
    super(`${type}(${args.map((a) => String(a)).join(", ")})`);
    this.name = "PyException";
    this.module = dot < 0 ? "builtins" : type.slice(0, dot);
    this.qualname = dot < 0 ? type : type.slice(dot + 1);
    this.args = args;
  }
}
