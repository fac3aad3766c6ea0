// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Writing one response: the objects a command handler produces become
 * `command-response` frames, buffered and cut exactly as Mercurial's
 * `bufferingcommandresponseemitter` does, through the output stream's
 * encoder; a command error or a server error ends the response.
 *
 * @module
 */
import { concatBytes } from "../_internal/bytes.ts";
import { Emitter } from "./_response_emitter.ts";
import { IndefiniteBytes } from "./cbor.ts";
import { encodeCbor, encodeCborChunks } from "./cbor_encoder.ts";
import {
  DEFAULT_MAX_FRAME_SIZE,
  type Frame,
  FRAME_FLAG,
  FRAME_TYPE,
} from "./frame_codec.ts";
import {
  createCommandErrorFrame,
  createErrorFrame,
  type OutputStream,
} from "./output_stream.ts";
import {
  EncodedResponse,
  redirectPayload,
  RedirectResponse,
  type ResponseObject,
} from "./response_objects.ts";

/** Options of {@linkcode ResponseWriter}. */
export interface ResponseWriterOptions {
  /**
   * Largest payload of the frames written (Mercurial's split size).
   *
   * @default {32768}
   */
  maxFrameSize?: number;
  /**
   * Called once when the response has ended (normally or with an error):
   * the server reactor frees the request id there.
   *
   * @default {undefined}
   */
  onDone?: () => void;
}

/**
 * Produces the frames of one response incrementally, so a handler can
 * stream a large response without it being held in memory. Each method
 * returns the frames to send now. A server gets one from
 * `ServerReactor.startResponse`, which frees the request id when the
 * response ends; on its own, a writer needs only an output stream.
 *
 * @example Usage
 * ```ts
 * import { OutputStream, ResponseWriter } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const stream = new OutputStream(2);
 * stream.setEncoder("identity");
 * let ended = false;
 * const w = new ResponseWriter(stream, 1, { onDone: () => ended = true });
 * const frames = [...w.write("a"), ...w.end()];
 * assert.deepEqual(frames.map((f) => f.type), [9, 3, 3, 3]);
 * assert.ok(ended);
 * ```
 */
export class ResponseWriter {
  #onDone: (() => void) | undefined;
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
   * Starts a response.
   *
   * @param stream The output stream (its encoder is used and shared with
   * other responses on it).
   * @param requestId The request id.
   * @param options The split size, and what to call when it ends.
   */
  constructor(
    stream: OutputStream,
    requestId: number,
    options: ResponseWriterOptions = {},
  ) {
    const max = Math.min(options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE, 65535);
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(
        `Cannot start response: maxFrameSize ${options.maxFrameSize} is outside 1..65535`,
      );
    }
    this.#onDone = options.onDone;
    this.#stream = stream;
    this.#rid = requestId;
    this.#max = max;
    this.#emitter = new Emitter(stream, requestId, max);
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
      if (prev !== null) { for (const f of prev.release()) this.#out.push(f); }
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
        for (const f of this.#stream.owner.release()) this.#out.push(f);
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
    const done = this.#onDone;
    this.#onDone = undefined;
    done?.();
  }
}
