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
import { CommandError, ProtocolError } from "./errors.ts";
import {
  DEFAULT_MAX_FRAME_SIZE,
  type Frame,
  FRAME_FLAG,
  FRAME_TYPE,
  STREAM_FLAG,
} from "./frame_codec.ts";
import { OutputStream } from "./output_stream.ts";
import type { ResponseObject } from "./response_objects.ts";
import { ResponseWriter } from "./response_writer.ts";
import {
  availableStreamEncodings,
  STREAM_ENCODERS_ORDER,
} from "./stream_encoding.ts";
import {
  decodeRequest,
  isRefusal,
  PartialRequests,
  type Refusal,
  SettingsReceiver,
} from "./_server_input.ts";

export { PARTIAL_REQUEST_OVERHEAD } from "./_server_input.ts";

import type {
  ServerAction,
  ServerReactorOptions,
  ServerReactorState,
} from "./server_reactor_types.ts";

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
  #nextStreamId = 2;
  #deferred: Iterable<Frame>[] = [];
  #incoming = new Set<number>();
  #receiving: PartialRequests;
  #active = new Set<number>();
  #settings: SettingsReceiver | null = null;
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
    this.#receiving = new PartialRequests(
      this.#maxRequest,
      options.maxCommandDataSize ?? 256 * 1024 * 1024,
      options.maxBufferedSize ?? 256 * 1024 * 1024,
    );
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

  /**
   * Memory held by partially received requests, as counted against
   * `maxBufferedSize`.
   *
   * @returns The byte count.
   *
   * @example Usage
   * ```ts
   * import { frameFromHumanString, PARTIAL_REQUEST_OVERHEAD, ServerReactor } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const r = new ServerReactor();
   * r.onFrameRecv(frameFromHumanString("1 1 stream-begin command-request new|more \\xa1"));
   * assert.equal(r.bufferedSize, PARTIAL_REQUEST_OVERHEAD + 64);
   * ```
   */
  get bufferedSize(): number {
    return this.#receiving.bufferedSize;
  }

  #error(message: string, code = "PROTOCOL_ERROR"): ServerAction {
    this.#state = "errored";
    return {
      action: "error",
      message,
      error: new ProtocolError(message, { code }),
    };
  }

  #refuse(r: Refusal): ServerAction {
    return this.#error(r.message, r.code);
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
          this.#settings = new SettingsReceiver(this.#maxRequest);
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
    const r = this.#settings!.push(frame);
    if (r === null) return this.#want();
    if (isRefusal(r)) return this.#refuse(r);
    this.#settings = null;
    if (r.encodings !== undefined) this.#contentEncodings = r.encodings;
    this.#state = "idle";
    return this.#want();
  }

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
    if (this.#receiving.get(rid) !== undefined) {
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
        "LIMIT_EXCEEDED",
      );
    }
    const more = (frame.flags & FRAME_FLAG.COMMAND_REQUEST_MORE_FRAMES) !== 0;
    const expectingData =
      (frame.flags & FRAME_FLAG.COMMAND_REQUEST_EXPECT_DATA) !== 0;
    if (!more && !expectingData) {
      // A request in one frame (the usual case): decoded from the frame,
      // nothing buffered.
      const over = this.#receiving.checkSize(rid, frame.payload.length);
      if (over !== null) return this.#refuse(over);
      if (this.#receiving.size === 0) this.#state = "idle";
      return this.#dispatch(rid, frame.payload, null);
    }
    const over = this.#receiving.start(
      rid,
      !more,
      expectingData,
      frame.payload,
    );
    if (over !== null) return this.#refuse(over);
    this.#state = "command-receiving";
    return this.#want();
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
      const over = this.#receiving.addPayload(rid, entry, frame.payload);
      if (over !== null) return this.#refuse(over);
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
      const over = this.#receiving.addData(rid, entry, frame.payload);
      if (over !== null) return this.#refuse(over);
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
    const { payload, data } = this.#receiving.take(rid);
    this.#state = this.#receiving.size > 0 ? "command-receiving" : "idle";
    return this.#dispatch(rid, payload, data);
  }

  /** Decodes a complete request and dispatches it. */
  #dispatch(
    rid: number,
    payload: Uint8Array,
    data: Uint8Array | null,
  ): ServerAction {
    const request = decodeRequest(payload);
    if (isRefusal(request)) return this.#refuse(request);
    this.#active.add(rid);
    return {
      action: "runcommand",
      requestId: rid,
      command: request.command,
      args: request.args,
      redirect: request.redirect,
      data,
      size: request.size + (data?.length ?? 0),
    };
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
   * the server's order the client advertised and this runtime can run
   * (see {@linkcode availableStreamEncodings}), else `identity`.
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
    // Never an encoding this runtime lacks (Node 20 has no zstd).
    const available = availableStreamEncodings();
    const name =
      this.#order.find((n) =>
        this.#contentEncodings.includes(n) && available.includes(n)
      ) ?? "identity";
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
    return new ResponseWriter(stream, requestId, {
      maxFrameSize: this.#max,
      onDone: () => this.#active.delete(requestId),
    });
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
    if (!this.#defer || this.#deferred.length === 0) return { action: "noop" };
    const queued = this.#deferred;
    this.#deferred = [];
    function* gen(): Generator<Frame> {
      for (const g of queued) yield* g;
    }
    return { action: "sendframes", frames: gen() };
  }
}
