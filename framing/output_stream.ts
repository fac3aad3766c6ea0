// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A sending stream: stamps `stream-begin` on its first frame, owns the
 * stream's encoder (one context for the stream's whole life) and builds the
 * frames Mercurial builds for requests, responses and errors.
 *
 * @module
 */
import type { CborValue } from "./cbor.ts";
import { encodeCbor } from "./cbor_encoder.ts";
import {
  DEFAULT_MAX_FRAME_SIZE,
  type Frame,
  FRAME_FLAG,
  FRAME_TYPE,
  MAX_WIRE_PAYLOAD_SIZE,
  STREAM_FLAG,
} from "./frame_codec.ts";
import { createStreamEncoder, type StreamEncoder } from "./stream_encoding.ts";

const EMPTY = new Uint8Array(0);
const TEXT_ENCODER = new TextEncoder();

/**
 * One outgoing stream of frames.
 *
 * @example Usage
 * ```ts
 * import { OutputStream } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const s = new OutputStream(1);
 * const a = s.makeFrame(1, 2, 2, new Uint8Array(0));
 * const b = s.makeFrame(3, 2, 2, new Uint8Array(0));
 * assert.equal(a.streamFlags, 1); // stream-begin on the first frame only
 * assert.equal(b.streamFlags, 0);
 * ```
 */
export class OutputStream {
  /** The stream id. */
  readonly streamId: number;
  #active = false;
  #encoder: StreamEncoder | null = null;
  #settingsSent = false;

  /**
   * The response whose bytes are inside the encoder, unflushed. Responses
   * on one stream may interleave; when another response needs the encoder,
   * the owner's bytes are flushed first so every frame carries its own
   * request's data.
   */
  owner: { release(): Frame[] } | null = null;

  /**
   * Creates a stream.
   *
   * @param streamId The stream id (odd for clients, even for servers).
   */
  constructor(streamId: number) {
    this.streamId = streamId;
  }

  /**
   * The encoder, or `null` before {@linkcode OutputStream.setEncoder}.
   *
   * @returns The encoder.
   *
   * @example Usage
   * ```ts
   * import { OutputStream } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const s = new OutputStream(2);
   * s.setEncoder("identity");
   * assert.equal(s.encoder?.name, "identity");
   * ```
   */
  get encoder(): StreamEncoder | null {
    return this.#encoder;
  }

  /**
   * Whether the stream-settings frame was built already.
   *
   * @returns True once sent.
   *
   * @example Usage
   * ```ts
   * import { OutputStream } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const s = new OutputStream(2);
   * s.setEncoder("zlib");
   * s.makeStreamSettingsFrame(1);
   * assert.ok(s.streamSettingsSent);
   * s.close();
   * ```
   */
  get streamSettingsSent(): boolean {
    return this.#settingsSent;
  }

  /**
   * Sets the stream's encoding profile.
   *
   * @param name `identity`, `zlib` or `zstd-8mb`.
   *
   * @example Usage
   * ```ts
   * import { OutputStream } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const s = new OutputStream(2);
   * s.setEncoder("zstd-8mb");
   * assert.equal(s.encoder?.name, "zstd-8mb");
   * s.close();
   * ```
   */
  setEncoder(name: string): void {
    this.#encoder?.close();
    this.#encoder = createStreamEncoder(name);
  }

  /**
   * Encodes bytes with the stream's encoder (unchanged without one).
   *
   * @param data The bytes.
   * @returns Encoded bytes, possibly empty.
   *
   * @example Usage
   * ```ts
   * import { OutputStream } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new OutputStream(2).encode(Uint8Array.of(1)), Uint8Array.of(1));
   * ```
   */
  encode(data: Uint8Array): Uint8Array {
    return this.#encoder === null ? data : this.#encoder.encode(data);
  }

  /**
   * Flushes the encoder (end of a response).
   *
   * @returns Flushed bytes, possibly empty.
   *
   * @example Usage
   * ```ts
   * import { OutputStream } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new OutputStream(2).flush().length, 0);
   * ```
   */
  flush(): Uint8Array {
    return this.#encoder === null ? EMPTY : this.#encoder.flush();
  }

  /**
   * Builds a frame on this stream.
   *
   * @param requestId The request id.
   * @param type The frame type.
   * @param flags The frame flags.
   * @param payload The payload.
   * @param encoded Whether the payload went through the stream's encoder.
   * @returns The frame.
   *
   * @example Usage
   * ```ts
   * import { OutputStream } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const f = new OutputStream(1).makeFrame(1, 2, 2, Uint8Array.of(1));
   * assert.equal(f.streamId, 1);
   * ```
   */
  makeFrame(
    requestId: number,
    type: number,
    flags: number,
    payload: Uint8Array,
    encoded = false,
  ): Frame {
    let streamFlags = 0;
    if (!this.#active) {
      streamFlags |= STREAM_FLAG.BEGIN;
      this.#active = true;
    }
    if (encoded) streamFlags |= STREAM_FLAG.ENCODED;
    return {
      requestId,
      streamId: this.streamId,
      streamFlags,
      type,
      flags,
      payload,
    };
  }

  /**
   * Builds the stream-settings frame, once; `null` when there is no encoder
   * or it was built already.
   *
   * @param requestId The request id to stamp.
   * @returns The frame or `null`.
   *
   * @example Usage
   * ```ts
   * import { OutputStream } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const s = new OutputStream(2);
   * s.setEncoder("identity");
   * assert.equal(s.makeStreamSettingsFrame(1)?.type, 9);
   * assert.equal(s.makeStreamSettingsFrame(3), null);
   * ```
   */
  makeStreamSettingsFrame(requestId: number): Frame | null {
    if (this.#encoder === null || this.#settingsSent) return null;
    this.#settingsSent = true;
    return this.makeFrame(
      requestId,
      FRAME_TYPE.STREAM_SETTINGS,
      FRAME_FLAG.STREAM_SETTINGS_EOS,
      encodeCbor(this.#encoder.name),
    );
  }

  /**
   * Releases the encoder's context.
   *
   * @example Usage
   * ```ts
   * import { OutputStream } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const s = new OutputStream(2);
   * s.setEncoder("zlib");
   * s.close();
   * assert.ok(true);
   * ```
   */
  close(): void {
    this.#encoder?.close();
  }
}

/** Options of {@linkcode createCommandFrames}. */
export interface CommandFramesOptions {
  /**
   * Command data sent in `command-data` frames after the request.
   *
   * @default {undefined}
   */
  data?: Uint8Array | undefined;
  /**
   * The `redirect` map (`{targets, hashes}`).
   *
   * @default {undefined}
   */
  redirect?: CborValue | undefined;
  /**
   * Split size of the request's CBOR (1 to 65535).
   *
   * @default {32768}
   */
  maxFrameSize?: number;
}

/**
 * Builds the frames of a command request as Mercurial's
 * `createcommandframes` does: the CBOR map `{name, args?, redirect?}` cut
 * into `new`/`continuation` frames (`more` on all but the last, `have-data`
 * on all when there is data), then the data in 32768-byte `command-data`
 * frames ending with an `eos` frame (empty when the data fills the last).
 *
 * @param stream The client's output stream.
 * @param requestId The request id.
 * @param name The command name.
 * @param args The arguments (left out when empty).
 * @param options Data, redirect and split size.
 * @returns The frames.
 *
 * @example Usage
 * ```ts
 * import { createCommandFrames, OutputStream } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const frames = createCommandFrames(new OutputStream(1), 1, "heads", new Map(), {
 *   data: new Uint8Array(32768),
 * });
 * assert.deepEqual(frames.map((f) => [f.type, f.flags, f.payload.length]), [
 *   [1, 0x09, 12], [2, 0x01, 32768], [2, 0x02, 0],
 * ]);
 * ```
 */
export function createCommandFrames(
  stream: OutputStream,
  requestId: number,
  name: string | Uint8Array,
  args: ReadonlyMap<string, CborValue> | { readonly [key: string]: CborValue },
  options: CommandFramesOptions = {},
): Frame[] {
  const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  if (!Number.isInteger(max) || max < 1 || max > MAX_WIRE_PAYLOAD_SIZE) {
    throw new RangeError(
      `Cannot create command frames: frame size ${max} is outside 1..${MAX_WIRE_PAYLOAD_SIZE}`,
    );
  }
  const request = new Map<string, CborValue>([["name", name]]);
  const argCount = args instanceof Map ? args.size : Object.keys(args).length;
  if (argCount > 0) request.set("args", args as CborValue);
  if (options.redirect !== undefined && options.redirect !== null) {
    request.set("redirect", options.redirect);
  }
  const body = encodeCbor(request);
  const frames: Frame[] = [];
  const data = options.data;
  let offset = 0;
  for (;;) {
    let flags = offset === 0
      ? FRAME_FLAG.COMMAND_REQUEST_NEW
      : FRAME_FLAG.COMMAND_REQUEST_CONTINUATION;
    if (data !== undefined) flags |= FRAME_FLAG.COMMAND_REQUEST_EXPECT_DATA;
    const payload = body.subarray(offset, offset + max);
    offset += payload.length;
    if (payload.length === max && offset < body.length) {
      flags |= FRAME_FLAG.COMMAND_REQUEST_MORE_FRAMES;
    }
    frames.push(
      stream.makeFrame(requestId, FRAME_TYPE.COMMAND_REQUEST, flags, payload),
    );
    if (!(flags & FRAME_FLAG.COMMAND_REQUEST_MORE_FRAMES)) break;
  }
  if (data !== undefined) {
    let o = 0;
    for (;;) {
      const piece = data.subarray(o, o + DEFAULT_MAX_FRAME_SIZE);
      o += piece.length;
      const full = piece.length === DEFAULT_MAX_FRAME_SIZE;
      frames.push(
        stream.makeFrame(
          requestId,
          FRAME_TYPE.COMMAND_DATA,
          full
            ? FRAME_FLAG.COMMAND_DATA_CONTINUATION
            : FRAME_FLAG.COMMAND_DATA_EOS,
          piece,
        ),
      );
      if (!full) break;
    }
  }
  return frames;
}

/** One text-output atom: a `%s` format string, arguments and labels. */
export interface TextAtom {
  /** The ASCII format string. */
  msg: string;
  /**
   * Arguments (UTF-8).
   *
   * @default {[]}
   */
  args?: readonly string[];
  /**
   * Label names (ASCII).
   *
   * @default {[]}
   */
  labels?: readonly string[];
}

function atomMap(atom: TextAtom): Map<string, CborValue> {
  // deno-lint-ignore no-control-regex
  if (/[^\x00-\x7f]/.test(atom.msg)) {
    throw new TypeError(
      "Cannot encode text atom: the format string must be ASCII",
    );
  }
  const m = new Map<string, CborValue>([["msg", atom.msg]]);
  if (atom.args && atom.args.length > 0) m.set("args", [...atom.args]);
  if (atom.labels && atom.labels.length > 0) {
    for (const l of atom.labels) {
      // deno-lint-ignore no-control-regex
      if (/[^\x00-\x7f]/.test(l)) {
        throw new TypeError("Cannot encode text atom: labels must be ASCII");
      }
    }
    m.set("labels", [...atom.labels]);
  }
  return m;
}

/**
 * Builds a `text-output` frame (`createtextoutputframe`). Never send one to
 * a Mercurial client: its reactor cannot handle it.
 *
 * @param stream The output stream.
 * @param requestId The request id.
 * @param atoms The atoms.
 * @param maxFrameSize Largest payload; text output is never split.
 * @returns The frame.
 * @throws {RangeError} `cannot encode data in a single frame`.
 *
 * @example Usage
 * ```ts
 * import { createTextOutputFrame, OutputStream } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const f = createTextOutputFrame(new OutputStream(1), 1, [{ msg: "foo" }]);
 * assert.deepEqual([...f.payload], [0x81, 0xa1, 0x43, 0x6d, 0x73, 0x67, 0x43, 0x66, 0x6f, 0x6f]);
 * ```
 */
export function createTextOutputFrame(
  stream: OutputStream,
  requestId: number,
  atoms: readonly TextAtom[],
  maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE,
): Frame {
  const payload = encodeCbor(atoms.map(atomMap));
  if (payload.length > maxFrameSize) {
    throw new RangeError("cannot encode data in a single frame");
  }
  return stream.makeFrame(requestId, FRAME_TYPE.TEXT_OUTPUT, 0, payload);
}

/**
 * Builds an `error-response` frame (`createerrorframe`), never encoded.
 *
 * @param stream The output stream.
 * @param requestId The request id.
 * @param message The message.
 * @param type The error type (`server`, `protocol` or `command`).
 * @returns The frame.
 *
 * @example Usage
 * ```ts
 * import { createErrorFrame, OutputStream } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(createErrorFrame(new OutputStream(2), 1, "boom").type, 5);
 * ```
 */
export function createErrorFrame(
  stream: OutputStream,
  requestId: number,
  message: string,
  type = "server",
): Frame {
  let bytes = TEXT_ENCODER.encode(message);
  if (bytes.length > DEFAULT_MAX_FRAME_SIZE) {
    bytes = bytes.subarray(0, DEFAULT_MAX_FRAME_SIZE);
  }
  const payload = encodeCbor(
    new Map<string, CborValue>([["type", type], ["message", [
      new Map([["msg", bytes]]),
    ]]]),
  );
  return stream.makeFrame(requestId, FRAME_TYPE.ERROR_RESPONSE, 0, payload);
}

/**
 * Builds the single, unencoded command-error response frame
 * (`{status: error, error: {message, args?}}`, flags `eos`).
 *
 * @param stream The output stream.
 * @param requestId The request id.
 * @param message The `%s` format string.
 * @param args Its arguments.
 * @returns The frame.
 *
 * @example Usage
 * ```ts
 * import { createCommandErrorFrame, OutputStream } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const f = createCommandErrorFrame(new OutputStream(2), 1, "unknown command: %s", ["bad"]);
 * assert.equal(f.flags, 2);
 * assert.equal(f.payload.length, 59);
 * ```
 */
export function createCommandErrorFrame(
  stream: OutputStream,
  requestId: number,
  message: string,
  args: readonly string[] = [],
): Frame {
  const error = new Map<string, CborValue>([["message", message]]);
  if (args.length > 0) error.set("args", [...args]);
  const payload = encodeCbor(
    new Map<string, CborValue>([["status", "error"], ["error", error]]),
  );
  return stream.makeFrame(
    requestId,
    FRAME_TYPE.COMMAND_RESPONSE,
    FRAME_FLAG.COMMAND_RESPONSE_EOS,
    payload,
  );
}

/** The payload of a `progress` frame (schema from Mercurial's spec). */
export interface Progress {
  /** What is progressing. */
  topic: string;
  /** Current position; `-1` ends the topic. */
  pos: number;
  /** Total units. */
  total: number;
  /**
   * Unit label.
   *
   * @default {undefined}
   */
  label?: string;
  /**
   * The item being worked on.
   *
   * @default {undefined}
   */
  item?: string;
}

/**
 * Builds a `progress` frame. Mercurial 6.3.2 neither produces nor accepts
 * these (its client raises on them); use them only with peers that do,
 * such as this module's `ClientReactor`.
 *
 * @param stream The output stream.
 * @param requestId The request id.
 * @param progress The progress fields.
 * @returns The frame.
 *
 * @example Usage
 * ```ts
 * import { createProgressFrame, OutputStream } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const f = createProgressFrame(new OutputStream(2), 1, { topic: "files", pos: 3, total: 10 });
 * assert.equal(f.type, 7);
 * ```
 */
export function createProgressFrame(
  stream: OutputStream,
  requestId: number,
  progress: Progress,
): Frame {
  const m = new Map<string, CborValue>([["topic", progress.topic], [
    "pos",
    progress.pos,
  ], ["total", progress.total]]);
  if (progress.label !== undefined) m.set("label", progress.label);
  if (progress.item !== undefined) m.set("item", progress.item);
  return stream.makeFrame(requestId, FRAME_TYPE.PROGRESS, 0, encodeCbor(m));
}
