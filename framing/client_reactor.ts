// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The client side of hgrpc as a sans-I/O state machine, after Mercurial's
 * `clientreactor`: issue commands (`callCommand`, `flushCommands`) and feed
 * received frames (`onFrameRecv`); it answers with actions. Unlike Mercurial
 * it never throws on bad input: every violation is an `error` action with a
 * typed error, and `text-output`/`progress` frames are reported instead of
 * crashing.
 *
 * @module
 */
import type { CborKey, CborValue } from "./cbor.ts";
import { CborStreamDecoder, decodeCborAll } from "./cbor_decoder.ts";
import { encodeCbor } from "./cbor_encoder.ts";
import { ProtocolError, renderAtoms, ServerError } from "./errors.ts";
import {
  DEFAULT_MAX_FRAME_SIZE,
  type Frame,
  FRAME_FLAG,
  FRAME_TYPE,
  STREAM_FLAG,
} from "./frame_codec.ts";
import { OversizedFrame } from "./frame_decoder.ts";
import { createCommandFrames, OutputStream } from "./output_stream.ts";
import { settingsFlagsError } from "./_settings.ts";
import {
  createStreamDecoder,
  onlyAvailableEncodings,
  type StreamDecoder,
  type StreamDecoderOptions,
} from "./stream_encoding.ts";
import {
  type CallCommandOptions,
  type ClientAction,
  type ClientReactorOptions,
  ClientRequest,
} from "./client_reactor_types.ts";

const TEXT_DECODER = new TextDecoder();
/** Most bytes of stream settings accepted on one stream. */
const MAX_STREAM_SETTINGS_SIZE = 65536;

function text(v: CborValue | undefined): string {
  if (v instanceof Uint8Array) return TEXT_DECODER.decode(v);
  if (typeof v === "string") return v;
  return String(v);
}

/** The action for a stream decoder that failed on a payload. */
function decodeFailure(e: unknown): ClientAction {
  return {
    action: "error",
    message: e instanceof Error ? e.message : String(e),
    error: e instanceof ProtocolError
      ? e
      : new ProtocolError(String(e), { cause: e }),
  };
}

interface InputStream {
  decoder: StreamDecoder | null;
}

/**
 * The client reactor.
 *
 * @example Usage
 * ```ts
 * import { ClientReactor } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const r = new ClientReactor({ hasMultipleSend: true, bufferSends: false });
 * const { action } = r.callCommand("heads", {});
 * assert.equal(action.action, "sendframes");
 * ```
 */
export class ClientReactor {
  #multiple: boolean;
  #buffer: boolean;
  #encoders: readonly string[] | null;
  #max: number;
  #decoderOptions: StreamDecoderOptions;
  #canIssue = true;
  #canSend = true;
  #settingsSent = false;
  #nextId = 1;
  #out = new OutputStream(1);
  #pending: ClientRequest[] = [];
  #pendingIds = new Set<number>();
  #active = new Map<number, ClientRequest>();
  #incoming = new Map<number, InputStream>();
  #settingsDecoders = new Map<
    number,
    { decoder: CborStreamDecoder; values: CborValue[]; bytes: number }
  >();

  /**
   * Creates a reactor.
   *
   * @param options Send mode and advertised encodings.
   */
  constructor(options: ClientReactorOptions = {}) {
    this.#multiple = options.hasMultipleSend ?? false;
    this.#buffer = options.bufferSends ?? true;
    this.#encoders = options.clientContentEncoders ?? null;
    this.#max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.#decoderOptions = options.decoderOptions ?? {};
  }

  /**
   * Number of requests sent and not yet finished.
   *
   * @returns The count.
   *
   * @example Usage
   * ```ts
   * import { ClientReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ClientReactor().activeRequests, 0);
   * ```
   */
  get activeRequests(): number {
    return this.#active.size;
  }

  /**
   * Issues a command. Ids go 1, 3, 5, ...
   *
   * @param name The command name.
   * @param args The arguments.
   * @param options Data and redirect.
   * @returns The request and the action (`noop` while buffering,
   * else `sendframes`).
   * @throws {TypeError} `cannot issue new commands` or `sends cannot be
   * performed on this instance` (Mercurial's ProgrammingErrors); a
   * `RangeError` when all 32768 request ids are in use at once.
   *
   * @example Usage
   * ```ts
   * import { ClientReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ClientReactor();
   * r.callCommand("a", {});
   * assert.equal(r.callCommand("b", {}).request.requestId, 3);
   * ```
   */
  callCommand(
    name: string,
    args: ReadonlyMap<string, CborValue> | {
      readonly [key: string]: CborValue;
    },
    options: CallCommandOptions = {},
  ): { request: ClientRequest; action: ClientAction } {
    if (!this.#canIssue) throw new TypeError("cannot issue new commands");
    const request = new ClientRequest(
      this.#takeId(),
      name,
      args,
      options.data,
      options.redirect,
    );
    if (this.#buffer) {
      this.#pending.push(request);
      this.#pendingIds.add(request.requestId);
      return { request, action: { action: "noop" } };
    }
    if (!this.#canSend) {
      throw new TypeError("sends cannot be performed on this instance");
    }
    if (!this.#multiple) {
      this.#canSend = false;
      this.#canIssue = false;
    }
    return {
      request,
      action: { action: "sendframes", frames: this.#commandFrames(request) },
    };
  }

  /**
   * The next free request id: odd ids 1, 3, ... 65535 (Mercurial's client
   * counts up from 1 by 2 and stops at the u16 limit), then from 1 again,
   * skipping ids whose request is still buffered or awaiting its response
   * (a server frees an id once its response is sent), so a long-lived
   * connection never runs out.
   */
  #takeId(): number {
    for (let tries = 0; tries < 0x8000; tries++) {
      const id = this.#nextId;
      this.#nextId = id >= 0xffff ? 1 : id + 2;
      if (!this.#active.has(id) && !this.#pendingIds.has(id)) return id;
    }
    throw new RangeError(
      "Cannot issue command: all 32768 request ids are in use",
    );
  }

  /**
   * Sends every queued command.
   *
   * @returns `sendframes`, or `noop` when nothing is queued.
   * @throws {TypeError} When sending is closed on this instance.
   *
   * @example Usage
   * ```ts
   * import { ClientReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ClientReactor({ clientContentEncoders: ["identity"] });
   * r.callCommand("heads", {});
   * const a = r.flushCommands();
   * assert.equal(a.action, "sendframes");
   * if (a.action === "sendframes") assert.deepEqual([...a.frames].map((f) => f.type), [8, 1]);
   * ```
   */
  flushCommands(): ClientAction {
    if (this.#pending.length === 0) return { action: "noop" };
    if (!this.#canSend) {
      throw new TypeError("sends cannot be performed on this instance");
    }
    if (!this.#multiple) {
      this.#canIssue = false;
      this.#canSend = false;
    }
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingIds.clear();
    const frames: Frame[] = [];
    for (const r of pending) {
      for (const f of this.#commandFrames(r)) frames.push(f);
    }
    return { action: "sendframes", frames };
  }

  #commandFrames(request: ClientRequest): Frame[] {
    this.#active.set(request.requestId, request);
    request.state = "sending";
    const frames: Frame[] = [];
    // Only what this runtime can decode is offered (no zstd on Node 20).
    const offer = this.#settingsSent || this.#encoders === null
      ? []
      : onlyAvailableEncodings(this.#encoders);
    if (offer.length > 0) {
      this.#settingsSent = true;
      frames.push(this.#out.makeFrame(
        request.requestId,
        FRAME_TYPE.SENDER_PROTOCOL_SETTINGS,
        FRAME_FLAG.SENDER_PROTOCOL_SETTINGS_EOS,
        encodeSettings(offer),
      ));
    }
    const command = createCommandFrames(
      this.#out,
      request.requestId,
      request.name,
      request.args,
      {
        data: request.data,
        redirect: request.redirect,
        maxFrameSize: this.#max,
      },
    );
    for (let i = 0; i < command.length; i++) frames.push(command[i]!);
    request.state = "sent";
    return frames;
  }

  #error(message: string, code = "PROTOCOL_ERROR"): ClientAction {
    return {
      action: "error",
      message,
      error: new ProtocolError(message, { code }),
    };
  }

  /**
   * Processes one received frame.
   *
   * @param frame The frame.
   * @returns The action.
   *
   * @example Usage
   * ```ts
   * import { ClientReactor, frameFromHumanString } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ClientReactor();
   * const a = r.onFrameRecv(frameFromHumanString("1 1 0 command-response eos foo"));
   * assert.equal(a.action === "error" && a.message, "received frame with odd numbered stream ID: 1");
   * ```
   */
  onFrameRecv(frame: Frame): ClientAction {
    if (frame instanceof OversizedFrame) return this.#onOversized(frame);
    if (frame.streamId % 2 === 1) {
      return this.#error(
        `received frame with odd numbered stream ID: ${frame.streamId}`,
      );
    }
    let stream = this.#incoming.get(frame.streamId);
    if (stream === undefined) {
      if (!(frame.streamFlags & STREAM_FLAG.BEGIN)) {
        return this.#error(
          "received frame on unknown stream without beginning of stream flag set",
        );
      }
      stream = { decoder: null };
      this.#incoming.set(frame.streamId, stream);
    }
    let payload = frame.payload;
    if (frame.streamFlags & STREAM_FLAG.ENCODED && stream.decoder !== null) {
      try {
        payload = stream.decoder.decode(payload);
      } catch (e) {
        return decodeFailure(e);
      }
    }
    if (frame.streamFlags & STREAM_FLAG.END) {
      stream.decoder?.close();
      this.#incoming.delete(frame.streamId);
    }
    if (frame.type === FRAME_TYPE.STREAM_SETTINGS) {
      return this.#onStreamSettings(frame, payload);
    }
    const request = this.#active.get(frame.requestId);
    if (request === undefined) {
      return this.#error(
        `received frame for inactive request ID: ${frame.requestId}`,
      );
    }
    request.state = "receiving";
    switch (frame.type) {
      case FRAME_TYPE.COMMAND_RESPONSE: {
        const eos = (frame.flags & FRAME_FLAG.COMMAND_RESPONSE_EOS) !== 0;
        if (eos) {
          request.state = "received";
          this.#active.delete(request.requestId);
        }
        return {
          action: "responsedata",
          request,
          expectMore:
            (frame.flags & FRAME_FLAG.COMMAND_RESPONSE_CONTINUATION) !== 0,
          eos,
          data: payload,
        };
      }
      case FRAME_TYPE.ERROR_RESPONSE: {
        request.state = "errored";
        this.#active.delete(request.requestId);
        let m: CborValue;
        try {
          m = decodeCborAll(payload)[0] ?? null;
        } catch (e) {
          return {
            action: "error",
            request,
            message: `error decoding CBOR from error response frame: ${
              e instanceof Error ? e.message : e
            }`,
            error: new ProtocolError(
              "error decoding CBOR from error response frame",
              { cause: e },
            ),
          };
        }
        if (!(m instanceof Map) || !m.has("type")) {
          const message = "error response frame is missing the type field";
          return {
            action: "error",
            request,
            message,
            error: new ProtocolError(message),
          };
        }
        const type = text(m.get("type"));
        const message = renderAtoms(m.get("message") ?? []);
        return {
          action: "error",
          request,
          type,
          message,
          error: new ServerError(type, message),
        };
      }
      case FRAME_TYPE.TEXT_OUTPUT:
      case FRAME_TYPE.PROGRESS: {
        let v: CborValue;
        try {
          v = decodeCborAll(payload)[0] ?? null;
        } catch (e) {
          return {
            action: "error",
            request,
            message: `error decoding CBOR from frame type ${frame.type}`,
            error: new ProtocolError(
              `error decoding CBOR from frame type ${frame.type}`,
              { cause: e },
            ),
          };
        }
        if (frame.type === FRAME_TYPE.PROGRESS) {
          return { action: "progress", request, progress: v };
        }
        return {
          action: "textoutput",
          request,
          atoms: Array.isArray(v) ? [...v as CborValue[]] : [v],
        };
      }
      default:
        return this.#error(`unhandled frame type: ${frame.type}`);
    }
  }

  /**
   * A piece of a frame over the reader's limit: the frame's request fails
   * (once, at the first piece); an encoded payload still goes through the
   * stream's decoder, so the stream stays in step for other requests; the
   * last piece ends the request or the stream as the frame's flags say.
   */
  #onOversized(frame: OversizedFrame): ClientAction {
    if (frame.isFirst && frame.streamId % 2 === 1) {
      return this.#error(
        `received frame with odd numbered stream ID: ${frame.streamId}`,
      );
    }
    let stream = this.#incoming.get(frame.streamId);
    if (stream === undefined && frame.isFirst) {
      if (!(frame.streamFlags & STREAM_FLAG.BEGIN)) {
        return this.#error(
          "received frame on unknown stream without beginning of stream flag set",
        );
      }
      stream = { decoder: null };
      this.#incoming.set(frame.streamId, stream);
    }
    if (
      stream !== undefined && stream.decoder !== null &&
      frame.streamFlags & STREAM_FLAG.ENCODED
    ) {
      try {
        stream.decoder.decode(frame.payload);
      } catch (e) {
        return decodeFailure(e);
      }
    }
    let action: ClientAction = { action: "noop" };
    const request = this.#active.get(frame.requestId);
    if (frame.isFirst) {
      const message =
        `Cannot read response: frame of ${frame.payloadLength} bytes exceeds the maximum of ${frame.limit} bytes`;
      const error = new ProtocolError(message, { code: "FRAME_TOO_LARGE" });
      if (frame.type === FRAME_TYPE.STREAM_SETTINGS || request === undefined) {
        // Nothing to blame but the connection.
        return { action: "error", message, error };
      }
      request.state = "errored";
      action = { action: "error", request, message, error };
    }
    if (frame.isLast) {
      if (frame.streamFlags & STREAM_FLAG.END) {
        stream?.decoder?.close();
        this.#incoming.delete(frame.streamId);
      }
      const ends = frame.type === FRAME_TYPE.ERROR_RESPONSE ||
        (frame.type === FRAME_TYPE.COMMAND_RESPONSE &&
          (frame.flags & FRAME_FLAG.COMMAND_RESPONSE_EOS) !== 0);
      if (ends && request !== undefined) this.#active.delete(frame.requestId);
    }
    return action;
  }

  #onStreamSettings(frame: Frame, payload: Uint8Array): ClientAction {
    const bad = settingsFlagsError(
      frame.flags,
      "stream encoding settings frame",
    );
    if (bad !== null) return this.#error(bad);
    const more = frame.flags & FRAME_FLAG.STREAM_SETTINGS_CONTINUATION;
    let entry = this.#settingsDecoders.get(frame.streamId);
    if (entry === undefined) {
      entry = {
        decoder: new CborStreamDecoder({ maxByteStringSize: 65536 }),
        values: [],
        bytes: 0,
      };
      this.#settingsDecoders.set(frame.streamId, entry);
    }
    // An encoding name and its parameters: a few bytes. Continuation frames
    // beyond this are refused rather than kept.
    entry.bytes += payload.length;
    if (entry.bytes > MAX_STREAM_SETTINGS_SIZE) {
      this.#settingsDecoders.delete(frame.streamId);
      return this.#error(
        `Cannot read stream settings: ${entry.bytes} bytes exceed the maximum of ${MAX_STREAM_SETTINGS_SIZE} bytes`,
        "LIMIT_EXCEEDED",
      );
    }
    try {
      for (const v of entry.decoder.decode(payload)) entry.values.push(v);
    } catch (e) {
      this.#settingsDecoders.delete(frame.streamId);
      return this.#error(
        `error decoding CBOR from stream encoding settings frame: ${
          e instanceof Error ? e.message : String(e)
        }`,
      );
    }
    if (more) return { action: "noop" };
    this.#settingsDecoders.delete(frame.streamId);
    if (entry.values.length === 0 || entry.decoder.inValue) {
      return this.#error(
        "stream encoding settings frame did not contain CBOR data",
      );
    }
    const stream = this.#incoming.get(frame.streamId);
    try {
      const decoder = createStreamDecoder(
        text(entry.values[0]),
        entry.values.slice(1),
        this.#decoderOptions,
      );
      if (stream === undefined) decoder.close();
      else {
        stream.decoder?.close();
        stream.decoder = decoder;
      }
    } catch (e) {
      return this.#error(
        `error setting stream decoder: ${
          e instanceof Error ? e.message : String(e)
        }`,
      );
    }
    return { action: "noop" };
  }

  /**
   * Releases every stream decoder.
   *
   * @example Usage
   * ```ts
   * import { ClientReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ClientReactor();
   * r.close();
   * assert.equal(r.activeRequests, 0);
   * ```
   */
  close(): void {
    for (const s of this.#incoming.values()) s.decoder?.close();
    this.#incoming.clear();
  }
}

function encodeSettings(encoders: readonly string[]): Uint8Array {
  const m = new Map<CborKey, CborValue>([["contentencodings", [...encoders]]]);
  return encodeCbor(m);
}
