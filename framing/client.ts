// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * An hgrpc client over any byte channel (a pair of Web Streams): TCP and
 * Unix sockets via `connect`, or a child process's pipes. `call()` sends a
 * command at once and returns an async iterable of the response's decoded
 * objects; several calls can be in flight. What the client holds of the
 * responses is bounded in bytes (`maxBufferedSize`).
 *
 * @module
 */
import { race } from "../_internal/abort.ts";
import { checkDuration } from "../_internal/timers.ts";
import type { WriteQueue } from "../_internal/write_queue.ts";
import type { CborDecodeOptions, CborValue } from "./cbor.ts";
import type { ByteChannel } from "./byte_channel.ts";
import { Call, statusError } from "./_call.ts";
import { ClientReactor } from "./client_reactor.ts";
import { FramingError, ProtocolError } from "./errors.ts";
import type { Frame } from "./frame_codec.ts";
import { FrameBatchDecoderStream } from "./frame_stream.ts";
import { writeFrames } from "./_frame_writer.ts";
import { channelQueue } from "./_conn_channel.ts";
import { STREAM_ENCODERS_ORDER } from "./stream_encoding.ts";
import type { CallOptions, FramingClientOptions } from "./client_types.ts";

function checkLimit(value: number, name: string): number {
  if (typeof value !== "number" || !(value >= 0)) {
    throw new RangeError(
      `Cannot create client: ${name} ${value} is not a number >= 0`,
    );
  }
  return value;
}

/**
 * The client.
 *
 * @example Usage
 * ```ts
 * import { FramingClient, serveConnection } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const a = new TransformStream<Uint8Array, Uint8Array>();
 * const b = new TransformStream<Uint8Array, Uint8Array>();
 * const served = serveConnection({ readable: a.readable, writable: b.writable }, {
 *   async *echo(args) { yield args; },
 * });
 * await using client = new FramingClient({ readable: b.readable, writable: a.writable });
 * const [reply] = await Array.fromAsync(client.call("echo", { foo: "bar" }));
 * assert.deepEqual(reply, new Map([["foo", new TextEncoder().encode("bar")]]));
 * await client.close();
 * await served;
 * ```
 */
export class FramingClient implements AsyncDisposable {
  #reactor: ClientReactor;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #readable: ReadableStream<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Frame[]> | null = null;
  /** Request frames out, coalesced. */
  #out: WriteQueue;
  #calls = new Map<number, Call>();
  #cbor: CborDecodeOptions;
  #maxBuffered: number;
  #maxPayload: number;
  #maxErrorPayload: number;
  /** Bytes held: values not yet read plus partial values, all calls. */
  #held = 0;
  /** The partial values' share of `#held`. */
  #partial = 0;
  #closed = false;
  #writeClosed = false;
  #failure: Error | null = null;
  /** Resumes the read loop, paused while `#held` is over the limit. */
  #resume: (() => void) | null = null;
  #loop: Promise<void>;
  #onClose: (() => void) | undefined;
  #closeTimeout: number;
  #onText: FramingClientOptions["onTextOutput"];
  #onProgress: FramingClientOptions["onProgress"];

  /**
   * Starts a client on a byte channel.
   *
   * @param channel The channel to the server.
   * @param options Encodings, limits and hooks.
   */
  constructor(channel: ByteChannel, options: FramingClientOptions = {}) {
    // Before taking the channel: a bad option leaves its streams unlocked.
    this.#closeTimeout = checkDuration(
      options.closeTimeout ?? 10_000,
      "closeTimeout",
      "create client",
    );
    this.#maxBuffered = checkLimit(
      options.maxBufferedSize ?? 64 * 1024 * 1024,
      "maxBufferedSize",
    );
    this.#maxPayload = checkLimit(
      options.maxPayloadSize ?? 65535,
      "maxPayloadSize",
    );
    this.#maxErrorPayload = checkLimit(
      options.maxErrorPayloadSize ?? 0xffffff,
      "maxErrorPayloadSize",
    );
    const encoders = options.contentEncodings === undefined
      ? STREAM_ENCODERS_ORDER
      : options.contentEncodings;
    this.#reactor = new ClientReactor({
      hasMultipleSend: true,
      bufferSends: false,
      clientContentEncoders: encoders,
      ...(options.decoderOptions
        ? { decoderOptions: options.decoderOptions }
        : {}),
    });
    this.#writer = channel.writable.getWriter();
    this.#out = channelQueue(channel, this.#writer, {
      mapError: (e) =>
        new FramingError("Cannot send request: the connection is closed", {
          cause: e,
          code: "CONNECTION_CLOSED",
        }),
      onError: (e) => this.#fail(e as Error),
    });
    this.#readable = channel.readable;
    this.#cbor = options.cborOptions ?? {};
    this.#onClose = options.onClose;
    this.#onText = options.onTextOutput;
    this.#onProgress = options.onProgress;
    this.#loop = this.#readLoop();
  }

  /**
   * Number of calls whose responses are not complete.
   *
   * @returns The count.
   *
   * @example Usage
   * ```ts
   * import { FramingClient } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const t = new TransformStream<Uint8Array, Uint8Array>();
   * const client = new FramingClient({ readable: new ReadableStream(), writable: t.writable });
   * assert.equal(client.inFlight, 0);
   * await client.close();
   * ```
   */
  get inFlight(): number {
    return this.#calls.size;
  }

  /**
   * Memory held of responses, as counted against `maxBufferedSize`:
   * values no caller has read yet and partly received values.
   *
   * @returns The byte count.
   *
   * @example Usage
   * ```ts
   * import { FramingClient } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const t = new TransformStream<Uint8Array, Uint8Array>();
   * const client = new FramingClient({ readable: new ReadableStream(), writable: t.writable });
   * assert.equal(client.bufferedSize, 0);
   * await client.close();
   * ```
   */
  get bufferedSize(): number {
    return this.#held;
  }

  /**
   * Calls a command. The request is sent at once; the returned iterable
   * yields each object of the response (after its status map). A command
   * error rejects with `CommandError`, an `error-response` with
   * `ServerError`. Iterate (or abort) every call: once unread responses
   * hold `maxBufferedSize` bytes the client stops reading from the
   * connection, which is what bounds its memory.
   *
   * @param name The command name.
   * @param args The arguments.
   * @param options Data, abort signal and redirect.
   * @returns The response objects.
   *
   * @example Usage
   * ```ts
   * import { CommandError, FramingClient, serveConnection } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const a = new TransformStream<Uint8Array, Uint8Array>();
   * const b = new TransformStream<Uint8Array, Uint8Array>();
   * const served = serveConnection({ readable: a.readable, writable: b.writable }, {});
   * const client = new FramingClient({ readable: b.readable, writable: a.writable });
   * await assert.rejects(Array.fromAsync(client.call("nope")), CommandError);
   * await client.close();
   * await served;
   * ```
   */
  call(
    name: string,
    args: ReadonlyMap<string, CborValue> | {
      readonly [key: string]: CborValue;
    } = {},
    options: CallOptions = {},
  ): AsyncIterableIterator<CborValue> {
    const signal = options.signal;
    if (signal?.aborted) return failed(signal.reason);
    if (this.#closed || this.#writeClosed || this.#failure) {
      return failed(
        this.#failure ??
          new FramingError("Cannot call command: the client is closed", {
            code: "CLIENT_CLOSED",
          }),
      );
    }
    let sent;
    try {
      sent = this.#reactor.callCommand(name, args, {
        ...(options.data !== undefined ? { data: options.data } : {}),
        ...(options.redirect !== undefined
          ? { redirect: options.redirect }
          : {}),
      });
    } catch (e) {
      return failed(e);
    }
    const call = new Call(this.#cbor);
    this.#calls.set(sent.request.requestId, call);
    if (sent.action.action === "sendframes") {
      writeFrames(this.#out, sent.action.frames);
    }
    return this.#iterate(call, sent.request.requestId, signal);
  }

  async *#iterate(
    call: Call,
    rid: number,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<CborValue> {
    const onAbort = (): void => call.notify();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        if (signal?.aborted) throw signal.reason;
        if (call.queued > 0) {
          const v = call.take();
          this.#release(call.lastSize);
          yield v;
          continue;
        }
        if (call.error) throw call.error;
        if (call.done) return;
        await call.wait();
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      // Abandoned before its end: drop what arrives for it until then.
      if (!call.done && !call.error) call.abandoned = true;
      // Values left unread (also of a call that had ended) no longer
      // count against the read loop's pause.
      this.#release(call.clear());
      // A call leaves the map when its response ends (its request id may
      // then be reused); until then an abandoned one stays to drain.
      if ((call.done || call.error) && this.#calls.get(rid) === call) {
        this.#calls.delete(rid);
      }
    }
  }

  /** Frees `size` bytes of held values; resumes the read loop under the limit. */
  #release(size: number): void {
    this.#held -= size;
    if (this.#resume !== null && this.#held <= this.#maxBuffered) {
      const r = this.#resume;
      this.#resume = null;
      r();
    }
  }

  async #readLoop(): Promise<void> {
    // Let the constructor finish before touching the stream.
    await Promise.resolve();
    // Batches: one stream read per chunk of bytes, not per frame. A frame
    // over its limit comes as pieces, which fail just its call.
    const batches = this.#readable.pipeThrough(
      new FrameBatchDecoderStream({
        maxPayloadSize: this.#maxPayload,
        maxErrorPayloadSize: this.#maxErrorPayload,
        oversized: "skip",
      }),
    );
    this.#reader = batches.getReader();
    try {
      read: for (;;) {
        const { value: frames, done } = await this.#reader.read();
        if (done) break;
        for (let i = 0; i < frames.length; i++) {
          this.#onFrame(frames[i]!);
          if (this.#failure) break read;
          if (this.#held > this.#maxBuffered) {
            await new Promise<void>((resolve) => this.#resume = resolve);
            // Resumed by close() or a failure: take no further frame.
            if (this.#failure) break read;
          }
        }
      }
      this.#fail(
        new FramingError("Cannot read response: the connection closed", {
          code: "CONNECTION_CLOSED",
        }),
      );
    } catch (e) {
      this.#fail(
        e instanceof FramingError
          ? e
          : new FramingError("Cannot read response: the connection failed", {
            cause: e,
            code: "CONNECTION_FAILED",
          }),
      );
    }
  }

  /** Handles one frame. */
  #onFrame(frame: Frame): void {
    const a = this.#reactor.onFrameRecv(frame);
    if (a.action === "error") {
      if (a.request === undefined) {
        this.#fail(a.error);
        return;
      }
      const call = this.#calls.get(a.request.requestId);
      if (call) this.#finishWith(call, a.request.requestId, a.error);
      return;
    }
    if (a.action === "textoutput") {
      this.#onText?.(a.request.requestId, a.atoms);
      return;
    }
    if (a.action === "progress") {
      this.#onProgress?.(a.request.requestId, a.progress);
      return;
    }
    if (a.action !== "responsedata") return;
    const rid = a.request.requestId;
    const call = this.#calls.get(rid);
    if (call === undefined || call.error) return;
    const partialBefore = call.partial;
    const queuedBefore = call.queuedSize;
    const sizes: number[] = [];
    let values: CborValue[];
    try {
      values = call.decode(a.data, sizes);
    } catch (e) {
      this.#account(call, partialBefore, queuedBefore);
      this.#finishWith(call, rid, e as Error);
      return;
    }
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!call.statusSeen) {
        call.statusSeen = true;
        const err = statusError(v);
        if (err) {
          this.#account(call, partialBefore, queuedBefore);
          this.#finishWith(call, rid, err);
          return;
        }
        continue;
      }
      call.enqueue(v, sizes[i]!);
    }
    this.#account(call, partialBefore, queuedBefore);
    if (this.#partial > this.#maxBuffered && call.partial > partialBefore) {
      // Reading values cannot make room for this: fail the call that grew.
      this.#finishWith(
        call,
        rid,
        new ProtocolError(
          `Cannot read response: ${this.#partial} bytes of partly received values exceed the maximum of ${this.#maxBuffered} bytes`,
          { code: "LIMIT_EXCEEDED" },
        ),
      );
      return;
    }
    if (a.eos) {
      if (call.inValue) {
        this.#finishWith(
          call,
          rid,
          new ProtocolError(
            "Cannot read response: it ended inside a CBOR value",
          ),
        );
        return;
      }
      call.done = true;
      // Its request id is free again (the reactor dropped it): a later
      // call may reuse it, so the entry must not outlive the response.
      this.#calls.delete(rid);
    }
    if (values.length > 0 || a.eos) call.notify();
  }

  /** Brings `#held` and `#partial` up to date with `call`'s sizes. */
  #account(call: Call, partialBefore: number, queuedBefore: number): void {
    const dp = call.partial - partialBefore;
    this.#partial += dp;
    this.#held += dp + call.queuedSize - queuedBefore;
  }

  #finishWith(call: Call, rid: number, error: Error): void {
    call.error = error;
    const partial = call.dropPartial();
    this.#partial -= partial;
    this.#release(partial);
    if (this.#calls.get(rid) === call) this.#calls.delete(rid);
    call.notify();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const [rid, call] of this.#calls) {
      if (!call.done && !call.error) this.#finishWith(call, rid, error);
    }
    const r = this.#resume;
    this.#resume = null;
    r?.();
  }

  /**
   * Closes the sending side (half-close) after queued requests are written:
   * servers that answer only at end of input (Mercurial's deferred mode)
   * then reply. Responses can still be read.
   *
   * @returns Resolves once the sending side is closed.
   *
   * @example Usage
   * ```ts
   * import { FramingClient } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const t = new TransformStream<Uint8Array, Uint8Array>();
   * const client = new FramingClient({ readable: new ReadableStream(), writable: t.writable });
   * await client.closeWrite();
   * assert.equal(client.inFlight, 0);
   * await client.close();
   * ```
   */
  async closeWrite(): Promise<void> {
    if (this.#writeClosed) return;
    this.#writeClosed = true;
    await this.#out.flush().catch(() => {});
    await this.#writer.close().catch(() => {});
  }

  /**
   * Closes the client: pending calls reject (`FramingError`, code
   * `"CLIENT_CLOSED"`), the channel is closed. Idempotent. Unsent request
   * bytes get at most `closeTimeout` (see {@linkcode FramingClientOptions})
   * to be written.
   *
   * @returns Resolves once everything is released.
   *
   * @example Usage
   * ```ts
   * import { FramingClient } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const t = new TransformStream<Uint8Array, Uint8Array>();
   * const client = new FramingClient({ readable: new ReadableStream(), writable: t.writable });
   * await client.close();
   * await client.close();
   * assert.equal(client.inFlight, 0);
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#fail(
      new FramingError("Cannot read response: the client was closed", {
        code: "CLIENT_CLOSED",
      }),
    );
    let onClose = this.#onClose;
    if (!this.#writeClosed) {
      this.#writeClosed = true;
      const flushed = (async () => {
        await this.#out.flush().catch(() => {});
        await this.#writer.close().catch(() => {});
      })();
      try {
        await race(flushed, { timeout: this.#closeTimeout });
      } catch {
        // The peer stopped reading: close the socket so the stuck write
        // fails, and drop what is left.
        onClose?.();
        onClose = undefined;
        const reason = new FramingError(
          "Cannot send request: the client was closed",
          { code: "CLIENT_CLOSED" },
        );
        this.#out.discard(reason);
        this.#writer.abort(reason).catch(() => {});
      }
    }
    this.#writer.releaseLock();
    await this.#reader?.cancel().catch(() => {});
    await this.#loop;
    this.#reactor.close();
    this.#calls.clear();
    onClose?.();
  }

  /**
   * Same as {@linkcode FramingClient.close}.
   *
   * @returns Resolves once closed.
   *
   * @example Usage
   * ```ts
   * import { FramingClient } from "@sidecar/ipc/framing";
   * import assert from "node:assert/strict";
   *
   * const t = new TransformStream<Uint8Array, Uint8Array>();
   * {
   *   await using _client = new FramingClient({ readable: new ReadableStream(), writable: t.writable });
   * }
   * assert.ok(true);
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

// deno-lint-ignore require-yield
async function* failed(reason: unknown): AsyncGenerator<CborValue> {
  throw reason;
}
