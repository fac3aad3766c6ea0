// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The server side of hgrpc as a sans-I/O state machine, after Mercurial's
 * `serverreactor`: feed it frames, it answers with actions (`wantframe`,
 * `runcommand`, `sendframes`, `noop`, `error`). Unlike Mercurial it limits
 * partially received requests, never throws on bad input (every violation
 * is an `error` action carrying a {@linkcode ProtocolError}), and falls back
 * to `identity` when the client lists no encoding it knows.
 *
 * @module
 */
import {
  BytestringChunk,
  type CborKey,
  CborStreamDecoder,
  type CborValue,
  decodeCborAll,
  encodeCbor,
  encodeCborChunks,
  IndefiniteBytes,
} from "./cbor.ts";
import { CommandError, ProtocolError } from "./errors.ts";
import {
  DEFAULT_MAX_FRAME_SIZE,
  type Frame,
  FRAME_FLAG,
  FRAME_TYPE,
  STREAM_FLAG,
} from "./frame_codec.ts";
import { allocBytes } from "./_byte_pool.ts";
import { concatBytes } from "./_concat.ts";
import {
  createCommandErrorFrame,
  createErrorFrame,
  OutputStream,
} from "./output_stream.ts";
import { STREAM_ENCODERS_ORDER } from "./stream_encoding.ts";
import { settingsFlagsError } from "./_settings.ts";

/** States of {@linkcode ServerReactor}. */
export type ServerReactorState =
  | "initial"
  | "protocol-settings-receiving"
  | "idle"
  | "command-receiving"
  | "errored";

/** A fully received command, ready to run. */
export interface RunCommandAction {
  /** Action name. */
  action: "runcommand";
  /** The request id. */
  requestId: number;
  /** The command name. */
  command: string;
  /** The arguments (an empty map when the request had none). */
  args: Map<CborKey, CborValue>;
  /** The `redirect` map, or `null`. */
  redirect: CborValue | null;
  /** The command data, or `null` when the request had none. */
  data: Uint8Array | null;
}

/** What the caller of {@linkcode ServerReactor} must do next. */
export type ServerAction =
  | { action: "wantframe"; state: ServerReactorState }
  | RunCommandAction
  | { action: "sendframes"; frames: Iterable<Frame> }
  | { action: "noop" }
  | { action: "error"; message: string; error: ProtocolError };

/**
 * A response object that is already CBOR (Mercurial's `encodedresponse`);
 * it still goes through the stream's encoder.
 *
 * @example Usage
 * ```ts
 * import { EncodedResponse, encodeCbor } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new EncodedResponse(encodeCbor(1)).data.length, 1);
 * ```
 */
export class EncodedResponse {
  /** The CBOR bytes. */
  readonly data: Uint8Array;
  /**
   * Wraps pre-encoded CBOR.
   *
   * @param data The CBOR bytes.
   */
  constructor(data: Uint8Array) {
    this.data = data;
  }
}

/** Where a redirected response can be fetched (`alternatelocationresponse`). */
export interface RedirectLocation {
  /** The URL. */
  url: string;
  /** The media type. */
  mediatype: string;
  /**
   * Size in bytes.
   *
   * @default {undefined}
   */
  size?: number;
  /**
   * Full hashes of the content.
   *
   * @default {undefined}
   */
  fullhashes?: CborValue;
  /**
   * Seed of the hashes.
   *
   * @default {undefined}
   */
  fullhashseed?: CborValue;
  /**
   * Server certificates (DER).
   *
   * @default {undefined}
   */
  serverdercerts?: CborValue;
  /**
   * CA certificates (DER).
   *
   * @default {undefined}
   */
  servercadercerts?: CborValue;
}

/**
 * A content redirect response; it must be the only object of a response.
 *
 * @example Usage
 * ```ts
 * import { RedirectResponse } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const r = new RedirectResponse({ url: "http://example.com/x", mediatype: "application/x" });
 * assert.equal(r.location.url, "http://example.com/x");
 * ```
 */
export class RedirectResponse {
  /** The location. */
  readonly location: RedirectLocation;
  /**
   * Creates a redirect.
   *
   * @param location Where the content is.
   */
  constructor(location: RedirectLocation) {
    this.location = location;
  }
}

/**
 * The `{status: redirect, location}` payload, keyed in Mercurial's order:
 * its optional location keys are `bytestr` objects, which Python sorts
 * after plain `bytes` keys, so they follow `mediatype` and `url`.
 */
function redirectPayload(location: RedirectLocation): Uint8Array {
  const parts: Uint8Array[] = [];
  let count = 0;
  const add = (k: string, v: CborValue): void => {
    parts.push(encodeCbor(k), encodeCbor(v));
    count++;
  };
  add("mediatype", location.mediatype);
  add("url", location.url);
  for (
    const k of [
      "fullhashes",
      "fullhashseed",
      "servercadercerts",
      "serverdercerts",
      "size",
    ] as const
  ) {
    const v = location[k];
    if (v !== undefined && v !== null) add(k, v);
  }
  const loc = concatBytes(
    [Uint8Array.of(0xa0 | count), ...parts],
    parts.reduce((n, p) => n + p.length, 1),
  );
  const head = encodeCbor("location");
  const tail = encodeCbor(new Map([["status", "redirect"]])).subarray(1);
  return concatBytes(
    [Uint8Array.of(0xa2), head, loc, tail],
    1 + head.length + loc.length + tail.length,
  );
}

/** Anything a command handler may produce as one response object. */
export type ResponseObject = CborValue | EncodedResponse | RedirectResponse;

/** Options of {@linkcode ServerReactor}. */
export interface ServerReactorOptions {
  /**
   * Hold all output until {@linkcode ServerReactor.onInputEof} (half-duplex
   * transports).
   *
   * @default {false}
   */
  deferOutput?: boolean;
  /**
   * The server's encoding preference order.
   *
   * @default {["zstd-8mb", "zlib", "identity"]}
   */
  encoders?: readonly string[];
  /**
   * Largest payload of frames the server emits.
   *
   * @default {32768}
   */
  maxFrameSize?: number;
  /**
   * Most requests that may be partially received at once.
   *
   * @default {64}
   */
  maxPendingRequests?: number;
  /**
   * Largest CBOR request (name, args, redirect) in bytes; also the most
   * bytes of sender protocol settings accepted.
   *
   * @default {16777216}
   */
  maxRequestSize?: number;
  /**
   * Largest command data of one request in bytes.
   *
   * @default {268435456}
   */
  maxCommandDataSize?: number;
  /**
   * Largest total of buffered request and data bytes over all partially
   * received requests.
   *
   * @default {268435456}
   */
  maxBufferedBytes?: number;
}

interface Receiving {
  payload: Uint8Array[];
  payloadSize: number;
  data: Uint8Array[] | null;
  dataSize: number;
  requestDone: boolean;
  expectingData: boolean;
}

const TEXT_DECODER = new TextDecoder();

function asText(v: CborValue | undefined): string | null {
  if (v instanceof Uint8Array) return TEXT_DECODER.decode(v);
  if (typeof v === "string") return v;
  return null;
}

/**
 * Buffers encoded response bytes into frames exactly as Mercurial's
 * `bufferingcommandresponseemitter` does.
 */
const EMPTY = new Uint8Array(0);

class Emitter {
  #stream: OutputStream;
  #rid: number;
  #max: number;
  /** Buffered output; grows on demand up to `max` (most responses are small). */
  #buf: Uint8Array = EMPTY;
  #n = 0;
  constructor(stream: OutputStream, rid: number, max: number) {
    this.#stream = stream;
    this.#rid = rid;
    this.#max = max;
  }
  send(d: Uint8Array, out: Frame[]): void {
    if (d.length === 0) return;
    if (d.length > this.#max) {
      this.flush(out);
      for (let o = 0; o < d.length; o += this.#max) {
        out.push(this.#frame(d.slice(o, o + this.#max)));
      }
      return;
    }
    if (d.length + this.#n >= this.#max) this.flush(out);
    this.#room(this.#n + d.length);
    this.#buf.set(d, this.#n);
    this.#n += d.length;
  }
  #room(need: number): void {
    if (need <= this.#buf.length) return;
    let size = Math.max(256, this.#buf.length * 2);
    while (size < need) size *= 2;
    const next = allocBytes(Math.min(size, this.#max));
    next.set(this.#buf.subarray(0, this.#n));
    this.#buf = next;
  }
  flush(out: Frame[]): void {
    if (this.#n === 0) return;
    const payload = allocBytes(this.#n);
    payload.set(this.#buf.subarray(0, this.#n));
    out.push(this.#frame(payload));
    this.#n = 0;
  }
  #frame(payload: Uint8Array): Frame {
    return this.#stream.makeFrame(
      this.#rid,
      FRAME_TYPE.COMMAND_RESPONSE,
      FRAME_FLAG.COMMAND_RESPONSE_CONTINUATION,
      payload,
      true,
    );
  }
}

/**
 * Produces the frames of one response incrementally, so a handler can
 * stream a large response without it being held in memory. Obtained from
 * {@linkcode ServerReactor.startResponse}. Each method returns the frames
 * to send now.
 *
 * @example Usage
 * ```ts
 * import { ServerReactor } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const r = new ServerReactor();
 * const w = r.startResponse(r.makeOutputStream(), 1);
 * const frames = [...w.write("a"), ...w.end()];
 * assert.deepEqual(frames.map((f) => f.type), [9, 3, 3, 3]);
 * ```
 */
export class ResponseWriter {
  #reactor: ServerReactor;
  #stream: OutputStream;
  #rid: number;
  #emitter: Emitter;
  #max: number;
  #identity: boolean;
  #emitted = false;
  #redirected = false;
  #done = false;
  #pending: Uint8Array[] = [];
  #pendingSize = 0;
  #out: Frame[] = [];
  #sink = (chunk: Uint8Array): void => this.#chunk(chunk);

  /**
   * Use {@linkcode ServerReactor.startResponse}.
   *
   * @param reactor The reactor.
   * @param stream The output stream.
   * @param requestId The request id.
   * @param maxFrameSize Split size.
   */
  constructor(
    reactor: ServerReactor,
    stream: OutputStream,
    requestId: number,
    maxFrameSize: number,
  ) {
    this.#reactor = reactor;
    this.#stream = stream;
    this.#rid = requestId;
    this.#max = maxFrameSize;
    this.#emitter = new Emitter(stream, requestId, maxFrameSize);
    this.#identity = stream.encoder === null ||
      stream.encoder.name === "identity";
  }

  /**
   * True once the response ended (normally or with an error).
   *
   * @returns Whether the response is over.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ServerReactor();
   * const w = r.startResponse(r.makeOutputStream(), 1);
   * w.end();
   * assert.ok(w.done);
   * ```
   */
  get done(): boolean {
    return this.#done;
  }

  #encode(data: Uint8Array): Uint8Array {
    if (!this.#identity && this.#stream.owner !== this) {
      const prev = this.#stream.owner;
      if (prev !== null) this.#out.push(...prev.release());
      this.#stream.owner = this;
    }
    return this.#stream.encode(data);
  }

  /**
   * Flushes this response's bytes out of the shared encoder, as frames of
   * this request, so another response can use the encoder.
   *
   * @returns The frames to send before the other response's frames.
   */
  release(): Frame[] {
    const out: Frame[] = [];
    const saved = this.#out;
    this.#out = out;
    this.#drain();
    this.#emitter.flush(out);
    this.#flushTail(FRAME_FLAG.COMMAND_RESPONSE_CONTINUATION);
    this.#out = saved;
    this.#stream.owner = null;
    return out;
  }

  #flushTail(lastFlags: number): void {
    const payload = this.#stream.flush();
    let o = 0;
    for (;;) {
      const chunk = payload.subarray(o, o + this.#max);
      o += chunk.length;
      const last = o === payload.length;
      if (
        chunk.length > 0 ||
        (last && lastFlags === FRAME_FLAG.COMMAND_RESPONSE_EOS)
      ) {
        this.#out.push(
          this.#stream.makeFrame(
            this.#rid,
            FRAME_TYPE.COMMAND_RESPONSE,
            last ? lastFlags : FRAME_FLAG.COMMAND_RESPONSE_CONTINUATION,
            chunk.slice(),
            payload.length > 0,
          ),
        );
      }
      if (last) break;
    }
  }

  #chunk(chunk: Uint8Array): void {
    if (this.#identity) {
      this.#emitter.send(this.#stream.encode(chunk), this.#out);
      return;
    }
    // A compressing encoder: coalesce small CBOR chunks before encoding.
    // Compressed output is not byte-comparable anyway; fewer calls are faster.
    // Large chunks go straight to the encoder, without a copy.
    if (chunk.length >= 4096) {
      this.#drain();
      this.#emitter.send(this.#encode(chunk), this.#out);
      return;
    }
    this.#pending.push(chunk.length < 64 ? chunk.slice() : chunk);
    this.#pendingSize += chunk.length;
    if (this.#pendingSize >= this.#max) this.#drain();
  }

  #drain(): void {
    if (this.#pendingSize === 0) return;
    const joined = concatBytes(this.#pending, this.#pendingSize);
    this.#pending = [];
    this.#pendingSize = 0;
    this.#emitter.send(this.#encode(joined), this.#out);
  }

  #take(): Frame[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #check(): void {
    if (this.#done) {
      throw new TypeError("Cannot write response: the response has ended");
    }
  }

  #begin(): void {
    if (this.#emitted) return;
    const settings = this.#stream.makeStreamSettingsFrame(this.#rid);
    if (settings) this.#out.push(settings);
    const status = encodeCbor(new Map([["status", "ok"]]));
    if (this.#stream.streamSettingsSent) {
      const enc = this.#encode(status);
      if (enc.length > 0) {
        this.#out.push(
          this.#stream.makeFrame(
            this.#rid,
            FRAME_TYPE.COMMAND_RESPONSE,
            FRAME_FLAG.COMMAND_RESPONSE_CONTINUATION,
            enc,
            true,
          ),
        );
      }
    } else {
      this.#out.push(
        this.#stream.makeFrame(
          this.#rid,
          FRAME_TYPE.COMMAND_RESPONSE,
          FRAME_FLAG.COMMAND_RESPONSE_CONTINUATION,
          status,
        ),
      );
    }
    this.#emitted = true;
  }

  /**
   * Adds one response object. The first call also emits the stream-settings
   * frame (once per stream) and the `{status: ok}` frame.
   *
   * @param obj A CBOR value, an {@linkcode EncodedResponse}, an
   * `IndefiniteBytes` or a {@linkcode RedirectResponse}.
   * @returns Frames to send now (often none: output is buffered up to the
   * frame size).
   * @throws {TypeError} After the end, or when anything follows a redirect.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ServerReactor();
   * const w = r.startResponse(r.makeOutputStream(), 1);
   * assert.equal(w.write(new Uint8Array(100000)).length, 7);
   * ```
   */
  write(obj: ResponseObject): Frame[] {
    this.#check();
    if (obj instanceof RedirectResponse) {
      if (this.#emitted) {
        throw new TypeError(
          "alternatelocationresponse seen after initial output object",
        );
      }
      const settings = this.#stream.makeStreamSettingsFrame(this.#rid);
      if (settings) this.#out.push(settings);
      let payload = redirectPayload(obj.location);
      const encoded = this.#stream.streamSettingsSent;
      if (encoded) payload = this.#encode(payload);
      this.#out.push(
        this.#stream.makeFrame(
          this.#rid,
          FRAME_TYPE.COMMAND_RESPONSE,
          FRAME_FLAG.COMMAND_RESPONSE_CONTINUATION,
          payload,
          encoded,
        ),
      );
      this.#redirected = true;
      this.#emitted = true;
      return this.#take();
    }
    if (this.#redirected) {
      throw new TypeError("object follows alternatelocationresponse");
    }
    this.#begin();
    if (obj instanceof EncodedResponse) {
      this.#chunk(obj.data);
    } else if (obj instanceof IndefiniteBytes) {
      this.#chunk(Uint8Array.of(0x5f));
      for (const c of obj.chunks) encodeCborChunks(c, this.#sink);
      this.#chunk(Uint8Array.of(0xff));
    } else {
      encodeCborChunks(obj, this.#sink);
    }
    return this.#take();
  }

  /**
   * Ends the response: flushes buffered output, flushes the encoder (never
   * finishing it) and emits the `eos` frame(s). A response with no objects
   * still gets its status and `eos` frames (Mercurial sends nothing at all
   * there, which leaves the client waiting forever).
   *
   * @returns Frames to send.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ServerReactor();
   * const w = r.startResponse(r.makeOutputStream(), 1);
   * assert.deepEqual(w.end().map((f) => [f.type, f.flags]), [[9, 2], [3, 1], [3, 2]]);
   * ```
   */
  end(): Frame[] {
    this.#check();
    this.#begin();
    this.#drain();
    this.#emitter.flush(this.#out);
    if (this.#emitted) {
      if (
        !this.#identity && this.#stream.owner !== this &&
        this.#stream.owner !== null
      ) {
        this.#out.push(...this.#stream.owner.release());
      }
      this.#flushTail(FRAME_FLAG.COMMAND_RESPONSE_EOS);
    }
    if (this.#stream.owner === this) this.#stream.owner = null;
    this.#finish();
    return this.#take();
  }

  /**
   * Ends the response with a command error (`{status: error}`, unencoded).
   * With `identity`, buffered output is dropped, as in Mercurial.
   *
   * @param message The `%s` format string.
   * @param args Its arguments.
   * @returns Frames to send.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ServerReactor();
   * const w = r.startResponse(r.makeOutputStream(), 1);
   * assert.equal(w.commandError("unknown command: %s", ["x"])[0]?.flags, 2);
   * ```
   */
  commandError(message: string, args: readonly string[] = []): Frame[] {
    this.#check();
    this.#dropBuffered();
    this.#out.push(
      createCommandErrorFrame(this.#stream, this.#rid, message, args),
    );
    this.#finish();
    return this.#take();
  }

  /**
   * Ends the response with an `error-response` frame (type `server`).
   *
   * @param message The message.
   * @returns Frames to send.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ServerReactor();
   * const w = r.startResponse(r.makeOutputStream(), 1);
   * assert.equal(w.serverError("boom")[0]?.type, 5);
   * ```
   */
  serverError(message: string): Frame[] {
    this.#check();
    this.#dropBuffered();
    this.#out.push(
      createErrorFrame(this.#stream, this.#rid, message, "server"),
    );
    this.#finish();
    return this.#take();
  }

  #dropBuffered(): void {
    if (this.#identity) {
      // As Mercurial: output still buffered in the emitter is dropped.
      this.#emitter.flush([]);
      return;
    }
    // Mercurial leaves encoded bytes inside the compressor here, and the
    // next response on the stream then carries this one's objects. We flush
    // them as frames of this request, before its error frame, so the
    // stream's decoder stays in step and later responses are clean.
    this.#drain();
    this.#emitter.flush(this.#out);
    if (this.#stream.owner === this) {
      this.#flushTail(FRAME_FLAG.COMMAND_RESPONSE_CONTINUATION);
      this.#stream.owner = null;
    }
  }

  #finish(): void {
    this.#done = true;
    this.#reactor._responseDone(this.#rid);
  }
}

/**
 * The server reactor.
 *
 * @example Usage
 * ```ts
 * import { frameFromHumanString, ServerReactor } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const r = new ServerReactor();
 * const a = r.onFrameRecv(frameFromHumanString("1 1 stream-begin command-request new cbor:{b'name': b'heads'}"));
 * assert.equal(a.action, "runcommand");
 * if (a.action === "runcommand") assert.equal(a.command, "heads");
 * ```
 */
export class ServerReactor {
  #state: ServerReactorState = "initial";
  #defer: boolean;
  #order: readonly string[];
  #max: number;
  #maxPending: number;
  #maxRequest: number;
  #maxData: number;
  #maxBuffered: number;
  #buffered = 0;
  #nextStreamId = 2;
  #deferred: Iterable<Frame>[] = [];
  #incoming = new Set<number>();
  #receiving = new Map<number, Receiving>();
  #active = new Set<number>();
  #settingsDecoder: CborStreamDecoder | null = null;
  #contentEncodings: string[] = ["identity"];

  /**
   * Creates a reactor.
   *
   * @param options Output mode, encodings and limits.
   */
  constructor(options: ServerReactorOptions = {}) {
    this.#defer = options.deferOutput ?? false;
    this.#order = options.encoders ?? STREAM_ENCODERS_ORDER;
    this.#max = Math.min(options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE, 65535);
    this.#maxPending = options.maxPendingRequests ?? 64;
    this.#maxRequest = options.maxRequestSize ?? 16 * 1024 * 1024;
    this.#maxData = options.maxCommandDataSize ?? 256 * 1024 * 1024;
    this.#maxBuffered = options.maxBufferedBytes ?? 256 * 1024 * 1024;
  }

  /**
   * The current state.
   *
   * @returns The state name.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ServerReactor().state, "initial");
   * ```
   */
  get state(): ServerReactorState {
    return this.#state;
  }

  /**
   * Whether output is deferred until end of input.
   *
   * @returns The mode.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ServerReactor({ deferOutput: true }).deferOutput, true);
   * ```
   */
  get deferOutput(): boolean {
    return this.#defer;
  }

  /**
   * The encodings the client advertised (default `["identity"]`).
   *
   * @returns The list.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new ServerReactor().contentEncodings, ["identity"]);
   * ```
   */
  get contentEncodings(): readonly string[] {
    return this.#contentEncodings;
  }

  /**
   * Number of requests partially received.
   *
   * @returns The count.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ServerReactor().pendingRequests, 0);
   * ```
   */
  get pendingRequests(): number {
    return this.#receiving.size;
  }

  #error(message: string): ServerAction {
    this.#state = "errored";
    return { action: "error", message, error: new ProtocolError(message) };
  }

  #want(): ServerAction {
    return { action: "wantframe", state: this.#state };
  }

  /**
   * Processes one received frame.
   *
   * @param frame The frame.
   * @returns The action to take.
   *
   * @example Usage
   * ```ts
   * import { frameFromHumanString, ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ServerReactor();
   * const a = r.onFrameRecv(frameFromHumanString("1 2 stream-begin command-request new cbor:{b'name': b'x'}"));
   * assert.equal(a.action, "error");
   * if (a.action === "error") assert.equal(a.message, "received frame with even numbered stream ID: 2");
   * ```
   */
  onFrameRecv(frame: Frame): ServerAction {
    if (frame.streamId % 2 === 0) {
      return this.#error(
        `received frame with even numbered stream ID: ${frame.streamId}`,
      );
    }
    if (!this.#incoming.has(frame.streamId)) {
      if (!(frame.streamFlags & STREAM_FLAG.BEGIN)) {
        return this.#error(
          "received frame on unknown inactive stream without beginning of stream flag set",
        );
      }
      this.#incoming.add(frame.streamId);
    }
    if (frame.streamFlags & STREAM_FLAG.ENCODED) {
      return this.#error(
        "support for decoding stream payloads not yet implemented",
      );
    }
    if (frame.streamFlags & STREAM_FLAG.END) {
      this.#incoming.delete(frame.streamId);
    }
    switch (this.#state) {
      case "initial":
        if (frame.type === FRAME_TYPE.SENDER_PROTOCOL_SETTINGS) {
          this.#state = "protocol-settings-receiving";
          this.#settingsDecoder = new CborStreamDecoder({
            maxBytesLength: 1024 * 1024,
          });
          return this.#onProtocolSettings(frame);
        }
        if (frame.type === FRAME_TYPE.COMMAND_REQUEST) {
          this.#state = "idle";
          return this.#onIdle(frame);
        }
        return this.#error(
          `expected sender protocol settings or command request frame; got ${frame.type}`,
        );
      case "protocol-settings-receiving":
        return this.#onProtocolSettings(frame);
      case "idle":
        return this.#onIdle(frame);
      case "command-receiving":
        return this.#onCommandReceiving(frame);
      default:
        return this.#error("server already errored");
    }
  }

  #onProtocolSettings(frame: Frame): ServerAction {
    if (frame.type !== FRAME_TYPE.SENDER_PROTOCOL_SETTINGS) {
      return this.#error(
        `expected sender protocol settings frame; got ${frame.type}`,
      );
    }
    const bad = settingsFlagsError(
      frame.flags,
      "sender protocol settings frame",
    );
    if (bad !== null) return this.#error(bad);
    const more = frame.flags & FRAME_FLAG.SENDER_PROTOCOL_SETTINGS_CONTINUATION;
    this.#settingsBytes += frame.payload.length;
    if (this.#settingsBytes > this.#maxRequest) {
      return this.#error(
        `Cannot receive sender protocol settings: ${this.#settingsBytes} bytes exceed the maximum of ${this.#maxRequest} bytes`,
      );
    }
    const decoder = this.#settingsDecoder!;
    let values: CborValue[];
    try {
      values = decoder.decode(frame.payload);
    } catch (e) {
      return this.#error(
        `error decoding CBOR from sender protocol settings frame: ${
          e instanceof Error ? e.message : String(e)
        }`,
      );
    }
    this.#settingsValues.push(...values);
    if (this.#settingsValues.length > 1) {
      // Refused now rather than at the last frame: nothing more is kept.
      this.#settingsValues = [];
      return this.#error(
        "sender protocol settings frame contained multiple CBOR values",
      );
    }
    if (more) return this.#want();
    const decoded = this.#settingsValues;
    this.#settingsValues = [];
    this.#settingsDecoder = null;
    if (decoded.length === 0 || decoder.inValue) {
      return this.#error(
        "sender protocol settings frame did not contain CBOR data",
      );
    }
    if (decoded.length > 1) {
      return this.#error(
        "sender protocol settings frame contained multiple CBOR values",
      );
    }
    const d = decoded[0];
    if (d instanceof Map && d.has("contentencodings")) {
      const list = d.get("contentencodings");
      if (!Array.isArray(list)) {
        return this.#error(
          "sender protocol settings contentencodings is not a list",
        );
      }
      this.#contentEncodings = list.map((v) => asText(v as CborValue) ?? "");
    }
    this.#state = "idle";
    return this.#want();
  }
  #settingsValues: CborValue[] = [];
  #settingsBytes = 0;

  #validateRequestFlags(frame: Frame): ServerAction | null {
    const isNew = frame.flags & FRAME_FLAG.COMMAND_REQUEST_NEW;
    const cont = frame.flags & FRAME_FLAG.COMMAND_REQUEST_CONTINUATION;
    if (isNew && cont) {
      return this.#error(
        "received command request frame with both new and continuation flags set",
      );
    }
    if (!isNew && !cont) {
      return this.#error(
        "received command request frame with neither new nor continuation flags set",
      );
    }
    return null;
  }

  #onIdle(frame: Frame): ServerAction {
    if (frame.type !== FRAME_TYPE.COMMAND_REQUEST) {
      return this.#error(`expected command request frame; got ${frame.type}`);
    }
    const bad = this.#validateRequestFlags(frame);
    if (bad) return bad;
    const rid = frame.requestId;
    if (this.#receiving.has(rid)) {
      return this.#error(`request with ID ${rid} already received`);
    }
    if (this.#active.has(rid)) {
      return this.#error(`request with ID ${rid} is already active`);
    }
    if (!(frame.flags & FRAME_FLAG.COMMAND_REQUEST_NEW)) {
      return this.#error("received command request frame without new flag set");
    }
    if (this.#receiving.size >= this.#maxPending) {
      return this.#error(
        `Cannot receive request ${rid}: ${this.#receiving.size} partially received requests reach the limit of ${this.#maxPending}`,
      );
    }
    const more = (frame.flags & FRAME_FLAG.COMMAND_REQUEST_MORE_FRAMES) !== 0;
    const expectingData =
      (frame.flags & FRAME_FLAG.COMMAND_REQUEST_EXPECT_DATA) !== 0;
    const entry: Receiving = {
      payload: [],
      payloadSize: 0,
      data: null,
      dataSize: 0,
      requestDone: !more,
      expectingData,
    };
    this.#receiving.set(rid, entry);
    const over = this.#addPayload(rid, entry, frame.payload);
    if (over) return over;
    if (!more && !expectingData) return this.#runCommand(rid);
    this.#state = "command-receiving";
    return this.#want();
  }

  #addPayload(
    rid: number,
    entry: Receiving,
    payload: Uint8Array,
  ): ServerAction | null {
    entry.payloadSize += payload.length;
    this.#buffered += payload.length;
    if (entry.payloadSize > this.#maxRequest) {
      return this.#error(
        `Cannot receive request ${rid}: request of ${entry.payloadSize} bytes exceeds the maximum of ${this.#maxRequest} bytes`,
      );
    }
    if (this.#buffered > this.#maxBuffered) {
      return this.#error(
        `Cannot receive request ${rid}: ${this.#buffered} buffered bytes exceed the maximum of ${this.#maxBuffered} bytes`,
      );
    }
    if (payload.length > 0) entry.payload.push(payload);
    return null;
  }

  #onCommandReceiving(frame: Frame): ServerAction {
    if (frame.type === FRAME_TYPE.COMMAND_REQUEST) {
      if (frame.flags & FRAME_FLAG.COMMAND_REQUEST_NEW) {
        return this.#onIdle(frame);
      }
      const bad = this.#validateRequestFlags(frame);
      if (bad) return bad;
    }
    const rid = frame.requestId;
    if (this.#active.has(rid)) {
      return this.#error(
        `received frame for request that is still active: ${rid}`,
      );
    }
    const entry = this.#receiving.get(rid);
    if (entry === undefined) {
      return this.#error(
        `received frame for request that is not receiving: ${rid}`,
      );
    }
    if (frame.type === FRAME_TYPE.COMMAND_REQUEST) {
      const more = (frame.flags & FRAME_FLAG.COMMAND_REQUEST_MORE_FRAMES) !== 0;
      const expectingData =
        (frame.flags & FRAME_FLAG.COMMAND_REQUEST_EXPECT_DATA) !== 0;
      if (entry.requestDone) {
        return this.#error(
          "received command request frame when request frames were supposedly done",
        );
      }
      if (expectingData !== entry.expectingData) {
        return this.#error(
          "mismatch between expect data flag and previous frame",
        );
      }
      const over = this.#addPayload(rid, entry, frame.payload);
      if (over) return over;
      if (!more) entry.requestDone = true;
      if (!more && !expectingData) return this.#runCommand(rid);
      return this.#want();
    }
    if (frame.type === FRAME_TYPE.COMMAND_DATA) {
      if (!entry.expectingData) {
        return this.#error(
          `received command data frame for request that is not expecting data: ${rid}`,
        );
      }
      entry.data ??= [];
      entry.dataSize += frame.payload.length;
      this.#buffered += frame.payload.length;
      if (entry.dataSize > this.#maxData) {
        return this.#error(
          `Cannot receive request ${rid}: command data of ${entry.dataSize} bytes exceeds the maximum of ${this.#maxData} bytes`,
        );
      }
      if (this.#buffered > this.#maxBuffered) {
        return this.#error(
          `Cannot receive request ${rid}: ${this.#buffered} buffered bytes exceed the maximum of ${this.#maxBuffered} bytes`,
        );
      }
      if (frame.payload.length > 0) entry.data.push(frame.payload);
      if (frame.flags & FRAME_FLAG.COMMAND_DATA_CONTINUATION) {
        return this.#want();
      }
      if (frame.flags & FRAME_FLAG.COMMAND_DATA_EOS) {
        if (!entry.requestDone) {
          return this.#error(
            `received end of command data before the end of request ${rid}`,
          );
        }
        return this.#runCommand(rid);
      }
      return this.#error("command data frame without flags");
    }
    return this.#error(`received unexpected frame type: ${frame.type}`);
  }

  #runCommand(rid: number): ServerAction {
    const entry = this.#receiving.get(rid)!;
    this.#receiving.delete(rid);
    this.#buffered -= entry.payloadSize + entry.dataSize;
    this.#state = this.#receiving.size > 0 ? "command-receiving" : "idle";
    let values: CborValue[];
    try {
      values = decodeCborAll(concatBytes(entry.payload, entry.payloadSize));
    } catch (e) {
      return this.#error(
        `error decoding CBOR from command request: ${
          e instanceof Error ? e.message : String(e)
        }`,
      );
    }
    const request = values[0];
    if (!(request instanceof Map)) {
      return this.#error("command request is not a CBOR map");
    }
    if (values.length > 1 || request instanceof BytestringChunk) {
      return this.#error("command request contains more than one CBOR value");
    }
    if (!request.has("name")) {
      return this.#error('command request missing "name" field');
    }
    const command = asText(request.get("name"));
    if (command === null) {
      return this.#error('command request "name" field is not a byte string');
    }
    const args = request.get("args") ?? new Map();
    if (!(args instanceof Map)) {
      return this.#error('command request "args" field is not a map');
    }
    this.#active.add(rid);
    return {
      action: "runcommand",
      requestId: rid,
      command,
      args: args as Map<CborKey, CborValue>,
      redirect: (request.get("redirect") as CborValue | undefined) ?? null,
      data: entry.data === null
        ? null
        : concatBytes(entry.data, entry.dataSize),
    };
  }

  /** @internal Called by {@linkcode ResponseWriter} when a response is over. */
  _responseDone(requestId: number): void {
    this.#active.delete(requestId);
  }

  /**
   * Whether a request id is active (dispatched, response not yet fully
   * produced).
   *
   * @param requestId The request id.
   * @returns True while active.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ServerReactor().isActive(1), false);
   * ```
   */
  isActive(requestId: number): boolean {
    return this.#active.has(requestId);
  }

  /**
   * Creates an output stream (ids 2, 4, ...) whose encoder is the first of
   * the server's order the client advertised, else `identity`.
   *
   * @returns The stream.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ServerReactor();
   * assert.equal(r.makeOutputStream().streamId, 2);
   * assert.equal(r.makeOutputStream().streamId, 4);
   * ```
   */
  makeOutputStream(): OutputStream {
    const s = new OutputStream(this.#nextStreamId);
    this.#nextStreamId += 2;
    const name = this.#order.find((n) => this.#contentEncodings.includes(n)) ??
      "identity";
    s.setEncoder(name);
    return s;
  }

  /**
   * Starts an incremental response for a dispatched request.
   *
   * @param stream The output stream.
   * @param requestId The request id.
   * @returns The writer.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ServerReactor();
   * assert.equal(r.startResponse(r.makeOutputStream(), 1).done, false);
   * ```
   */
  startResponse(stream: OutputStream, requestId: number): ResponseWriter {
    return new ResponseWriter(this, stream, requestId, this.#max);
  }

  #send(frames: Iterable<Frame>): ServerAction {
    if (this.#defer) {
      this.#deferred.push(frames);
      return { action: "noop" };
    }
    return { action: "sendframes", frames };
  }

  /**
   * Responds with objects (Mercurial's `oncommandresponsereadyobjects`).
   * The frames are produced lazily while the returned iterable is consumed;
   * a {@linkcode CommandError} thrown by `objs` becomes a command error, any
   * other error an `error-response`.
   *
   * @param stream The output stream.
   * @param requestId The request id.
   * @param objs The response objects.
   * @returns `sendframes`, or `noop` when output is deferred.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ServerReactor();
   * const a = r.onCommandResponseReadyObjects(r.makeOutputStream(), 1, ["response"]);
   * assert.equal(a.action, "sendframes");
   * if (a.action === "sendframes") assert.equal([...a.frames].length, 4);
   * ```
   */
  onCommandResponseReadyObjects(
    stream: OutputStream,
    requestId: number,
    objs: Iterable<ResponseObject>,
  ): ServerAction {
    const writer = this.startResponse(stream, requestId);
    function* gen(): Generator<Frame> {
      const it = objs[Symbol.iterator]();
      for (;;) {
        let r: IteratorResult<ResponseObject>;
        try {
          r = it.next();
        } catch (e) {
          if (e instanceof CommandError) {
            yield* writer.commandError(e.format, e.args);
          } else {yield* writer.serverError(
              e instanceof Error ? e.message : String(e),
            );}
          return;
        }
        if (r.done) {
          yield* writer.end();
          return;
        }
        let frames: Frame[];
        try {
          frames = writer.write(r.value);
        } catch (e) {
          yield* writer.serverError(e instanceof Error ? e.message : String(e));
          return;
        }
        yield* frames;
      }
    }
    return this.#send(gen());
  }

  /**
   * Responds with a command error (`oncommanderror`).
   *
   * @param stream The output stream.
   * @param requestId The request id.
   * @param message The `%s` format string.
   * @param args Its arguments.
   * @returns `sendframes`, or `noop` when deferred.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ServerReactor();
   * assert.equal(r.onCommandError(r.makeOutputStream(), 1, "bad").action, "sendframes");
   * ```
   */
  onCommandError(
    stream: OutputStream,
    requestId: number,
    message: string,
    args: readonly string[] = [],
  ): ServerAction {
    const writer = this.startResponse(stream, requestId);
    function* gen(): Generator<Frame> {
      yield* writer.commandError(message, args);
    }
    return this.#send(gen());
  }

  /**
   * Responds with an `error-response` frame (`onservererror`).
   *
   * @param stream The output stream.
   * @param requestId The request id.
   * @param message The message.
   * @returns `sendframes`, or `noop` when deferred.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ServerReactor();
   * assert.equal(r.onServerError(r.makeOutputStream(), 1, "boom").action, "sendframes");
   * ```
   */
  onServerError(
    stream: OutputStream,
    requestId: number,
    message: string,
  ): ServerAction {
    const writer = this.startResponse(stream, requestId);
    function* gen(): Generator<Frame> {
      yield* writer.serverError(message);
    }
    return this.#send(gen());
  }

  /**
   * Signals end of input: in deferred mode returns every queued response,
   * in registration order; otherwise `noop`. Partially received requests
   * are dropped.
   *
   * @returns `sendframes` or `noop`.
   *
   * @example Usage
   * ```ts
   * import { ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ServerReactor().onInputEof().action, "noop");
   * ```
   */
  onInputEof(): ServerAction {
    this.#receiving.clear();
    this.#buffered = 0;
    if (!this.#defer || this.#deferred.length === 0) return { action: "noop" };
    const queued = this.#deferred;
    this.#deferred = [];
    function* gen(): Generator<Frame> {
      for (const g of queued) yield* g;
    }
    return { action: "sendframes", frames: gen() };
  }
}
