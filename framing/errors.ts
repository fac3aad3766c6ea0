// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Error classes of the framing module.
 *
 * @module
 */

/**
 * Base class of every error the framing module throws on bad input.
 *
 * @example Usage
 * ```ts
 * import { FramingError } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const err = new FramingError("Cannot read frame: stream ended");
 * assert.equal(err.name, "FramingError");
 * ```
 */
export class FramingError extends Error {
  /**
   * Creates an error.
   *
   * @param message The message.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FramingError";
  }
}

/**
 * Malformed CBOR or CBOR outside Mercurial's subset. The message is
 * Mercurial's `CBORDecodeError` text where Mercurial has one.
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
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CborDecodeError";
  }
}

/**
 * A frame sequence violated the protocol. `message` is Mercurial's reactor
 * message where Mercurial has one, so logs compare with Mercurial's.
 *
 * @example Usage
 * ```ts
 * import { ProtocolError } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const err = new ProtocolError("server already errored");
 * assert.ok(err instanceof Error);
 * ```
 */
export class ProtocolError extends FramingError {
  /**
   * Creates an error.
   *
   * @param message The message.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}

/**
 * The server answered a command with `{status: error}` (a command error).
 * `format` and `args` are Mercurial's `%s` format string and its arguments;
 * `message` has them applied.
 *
 * @example Usage
 * ```ts
 * import { CommandError } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const err = new CommandError("unknown command: %s", ["x"]);
 * assert.equal(err.message, "unknown command: x");
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
   * @param options Standard error options (`cause`).
   */
  constructor(
    format: string,
    args: readonly string[] = [],
    options?: ErrorOptions,
  ) {
    super(formatMessage(format, args), options);
    this.name = "CommandError";
    this.format = format;
    this.args = args;
  }
}

/**
 * The server sent an `error-response` frame (Mercurial's `onservererror`, or
 * an exception raised while a response was produced).
 *
 * @example Usage
 * ```ts
 * import { ServerError } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const err = new ServerError("server", "boom");
 * assert.equal(err.type, "server");
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
   * @param options Standard error options (`cause`).
   */
  constructor(type: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ServerError";
    this.type = type;
  }
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
