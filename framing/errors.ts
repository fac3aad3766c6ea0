// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Error classes of the framing module. Every error carries a stable
 * `code` (see {@linkcode FramingErrorCode}) to switch on.
 *
 * @module
 */
import type { CborValue } from "./cbor.ts";

const TEXT_DECODER = new TextDecoder();

function text(v: CborValue | undefined): string {
  if (v instanceof Uint8Array) return TEXT_DECODER.decode(v);
  if (typeof v === "string") return v;
  return String(v);
}

/**
 * The `code` of a framing error:
 *
 * - `"FRAME_TOO_LARGE"`: a frame header announced a payload above the
 *   limit ({@linkcode ProtocolError});
 * - `"INCOMPLETE_FRAME"`: the input ended inside a frame
 *   ({@linkcode ProtocolError}, Mercurial's `readframe` messages);
 * - `"PROTOCOL_ERROR"`: a frame sequence the reactors refuse
 *   ({@linkcode ProtocolError}, Mercurial's reactor messages);
 * - `"LIMIT_EXCEEDED"`: a request, response or CBOR value over a
 *   configured limit;
 * - `"CBOR_DECODE_ERROR"`: malformed CBOR or CBOR outside Mercurial's
 *   subset ({@linkcode CborDecodeError});
 * - `"STREAM_DECODE_ERROR"`: a zlib or zstd stream that does not decode;
 * - `"COMMAND_ERROR"`: the server answered `{status: error}`
 *   ({@linkcode CommandError});
 * - `"SERVER_ERROR"`: the server sent an `error-response` frame
 *   ({@linkcode ServerError});
 * - `"REDIRECTED"`: the server answered with a content redirect;
 * - `"CONNECTION_CLOSED"`: the peer closed the connection, or a write to
 *   it failed;
 * - `"CONNECTION_FAILED"`: reading from the connection failed (the cause
 *   is the transport's error);
 * - `"CLIENT_CLOSED"`: the client was closed by its owner;
 * - an errno name (`"EBADF"`, ...): a listener's `accept()` failed in a
 *   way that ends the listener;
 * - `"FRAMING_ERROR"`: the default of a {@linkcode FramingError} made
 *   without a code.
 */
export type FramingErrorCode =
  | "FRAME_TOO_LARGE"
  | "INCOMPLETE_FRAME"
  | "PROTOCOL_ERROR"
  | "LIMIT_EXCEEDED"
  | "CBOR_DECODE_ERROR"
  | "STREAM_DECODE_ERROR"
  | "COMMAND_ERROR"
  | "SERVER_ERROR"
  | "REDIRECTED"
  | "CONNECTION_CLOSED"
  | "CONNECTION_FAILED"
  | "CLIENT_CLOSED"
  | "FRAMING_ERROR"
  | (string & Record<never, never>);

/** Options of the framing error classes. */
export interface FramingErrorOptions extends ErrorOptions {
  /**
   * The error's code; each class has its own default.
   *
   * @default {undefined}
   */
  code?: FramingErrorCode;
}

/**
 * Base class of every error the framing module throws on bad input or a
 * failed connection.
 *
 * @example Usage
 * ```ts
 * import { FramingError } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const err = new FramingError("Cannot read response: the connection closed", {
 *   code: "CONNECTION_CLOSED",
 * });
 * assert.equal(err.name, "FramingError");
 * assert.equal(err.code, "CONNECTION_CLOSED");
 * ```
 */
export class FramingError extends Error {
  /** What went wrong, stable across releases (see {@linkcode FramingErrorCode}). */
  readonly code: FramingErrorCode;
  /**
   * Creates an error.
   *
   * @param message The message.
   * @param options The code (default `"FRAMING_ERROR"`) and the cause.
   */
  constructor(message: string, options?: FramingErrorOptions) {
    super(message, causeOf(options));
    this.name = "FramingError";
    this.code = options?.code ?? "FRAMING_ERROR";
  }
}

function causeOf(options: FramingErrorOptions | undefined): ErrorOptions {
  return options !== undefined && "cause" in options
    ? { cause: options.cause }
    : {};
}

/**
 * Malformed CBOR or CBOR outside Mercurial's subset (code
 * `"CBOR_DECODE_ERROR"`), or a CBOR value over a limit (code
 * `"LIMIT_EXCEEDED"`). The message is Mercurial's `CBORDecodeError` text
 * where Mercurial has one.
 *
 * @example Usage
 * ```ts
 * import { CborDecodeError, decodeCborAll } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => decodeCborAll(Uint8Array.of(0x61, 0x61)), CborDecodeError);
 * ```
 */
export class CborDecodeError extends FramingError {
  /**
   * Creates an error.
   *
   * @param message The message.
   * @param options The code (default `"CBOR_DECODE_ERROR"`) and the cause.
   */
  constructor(message: string, options?: FramingErrorOptions) {
    super(message, { ...options, code: options?.code ?? "CBOR_DECODE_ERROR" });
    this.name = "CborDecodeError";
  }
}

/**
 * The peer broke the protocol: a frame sequence the reactors refuse (code
 * `"PROTOCOL_ERROR"`), a frame over a limit (`"FRAME_TOO_LARGE"`), input
 * that ended inside a frame (`"INCOMPLETE_FRAME"`), a request or response
 * over a limit (`"LIMIT_EXCEEDED"`) or a stream that does not decode
 * (`"STREAM_DECODE_ERROR"`). `message` is Mercurial's message where
 * Mercurial has one, so logs compare with Mercurial's.
 *
 * @example Usage
 * ```ts
 * import { ProtocolError } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const err = new ProtocolError("server already errored");
 * assert.equal(err.code, "PROTOCOL_ERROR");
 * ```
 */
export class ProtocolError extends FramingError {
  /**
   * Creates an error.
   *
   * @param message The message.
   * @param options The code (default `"PROTOCOL_ERROR"`) and the cause.
   */
  constructor(message: string, options?: FramingErrorOptions) {
    super(message, { ...options, code: options?.code ?? "PROTOCOL_ERROR" });
    this.name = "ProtocolError";
  }
}

/**
 * The server answered a command with `{status: error}` (a command error,
 * code `"COMMAND_ERROR"`). `format` and `args` are Mercurial's `%s` format
 * string and its arguments; `message` has them applied.
 *
 * @example Usage
 * ```ts
 * import { CommandError } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const err = new CommandError("unknown command: %s", ["x"]);
 * assert.equal(err.message, "unknown command: x");
 * assert.equal(err.code, "COMMAND_ERROR");
 * ```
 */
export class CommandError extends FramingError {
  /** The `%s` format string sent by the server. */
  readonly format: string;
  /** The format arguments sent by the server. */
  readonly args: readonly string[];
  /**
   * Creates an error.
   *
   * @param format The `%s` format string.
   * @param args The format arguments.
   * @param options The cause.
   */
  constructor(
    format: string,
    args: readonly string[] = [],
    options?: ErrorOptions,
  ) {
    super(formatMessage(format, args), {
      ...causeOf(options),
      code: "COMMAND_ERROR",
    });
    this.name = "CommandError";
    this.format = format;
    this.args = args;
  }
}

/**
 * The server sent an `error-response` frame (Mercurial's `onservererror`, or
 * an exception raised while a response was produced); code
 * `"SERVER_ERROR"`.
 *
 * @example Usage
 * ```ts
 * import { ServerError } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const err = new ServerError("server", "boom");
 * assert.equal(err.type, "server");
 * assert.equal(err.code, "SERVER_ERROR");
 * ```
 */
export class ServerError extends FramingError {
  /** The error type (`server`, `protocol` or `command`). */
  readonly type: string;
  /**
   * Creates an error.
   *
   * @param type The error type from the frame.
   * @param message The rendered message atoms.
   * @param options The cause.
   */
  constructor(type: string, message: string, options?: ErrorOptions) {
    super(message, { ...causeOf(options), code: "SERVER_ERROR" });
    this.name = "ServerError";
    this.type = type;
  }
}

/**
 * Renders message atoms (`[{msg, args?, labels?}]`) as text.
 *
 * @param atoms The decoded atoms.
 * @returns The text.
 *
 * @example Usage
 * ```ts
 * import { type CborValue, renderAtoms } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const enc = new TextEncoder();
 * const atom = new Map<string, CborValue>([["msg", enc.encode("a %s")], ["args", [enc.encode("b")]]]);
 * assert.equal(renderAtoms([atom]), "a b");
 * ```
 */
export function renderAtoms(atoms: CborValue): string {
  if (!Array.isArray(atoms)) return text(atoms as CborValue);
  return (atoms as CborValue[]).map((a) => {
    if (!(a instanceof Map)) return text(a);
    const args = a.get("args");
    return formatMessage(
      text(a.get("msg")),
      Array.isArray(args) ? args.map((x) => text(x as CborValue)) : [],
    );
  }).join("");
}

/**
 * Applies Mercurial's atom formatting: `%s` takes the next argument, `%%` is
 * a percent sign, anything else is kept as it is.
 *
 * @param format The format string.
 * @param args The arguments.
 * @returns The formatted text.
 *
 * @example Usage
 * ```ts
 * import { formatMessage } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatMessage("%s is 100%%", ["it"]), "it is 100%");
 * ```
 */
export function formatMessage(format: string, args: readonly string[]): string {
  let i = 0;
  return format.replace(/%[s%]/g, (m) => m === "%%" ? "%" : (args[i++] ?? m));
}
