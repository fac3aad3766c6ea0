// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * An hgrpc client over any byte channel (a pair of Web Streams): TCP and
 * Unix sockets via {@linkcode connect}, or a child process's pipes.
 * `call()` sends a command at once and returns an async iterable of the
 * response's decoded objects; several calls can be in flight.
 *
 * @module
 */
import {
  type CborDecodeOptions,
  CborStreamDecoder,
  type CborValue,
} from "./cbor.ts";
import { ClientReactor, renderAtoms } from "./client_reactor.ts";
import { CommandError, FramingError, ProtocolError } from "./errors.ts";
import type { Frame } from "./frame_codec.ts";
import { BatchWriter } from "./_batch_writer.ts";
import { FrameBatchDecoderStream } from "./frame_stream.ts";
import { connChannel } from "./_conn_channel.ts";
import {
  STREAM_ENCODERS_ORDER,
  type StreamDecoderOptions,
} from "./stream_encoding.ts";

/** A bidirectional byte channel. */
export interface ByteChannel {
  /** Bytes from the peer. */
  readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  writable: WritableStream<Uint8Array>;
}

/** Options of {@linkcode FramingClient}. */
export interface FramingClientOptions {
  /**
   * Encodings to advertise, most preferred first; `null` sends no
   * sender-protocol-settings frame (the server then uses identity).
   *
   * @default {["zstd-8mb", "zlib", "identity"]}
   */
  contentEncodings?: readonly string[] | null;
  /**
   * How many decoded objects may wait in one response's queue before the
   * client stops reading from the connection (backpressure).
   *
   * @default {1024}
   */
  maxQueuedValues?: number;
  /**
   * Limits for decoding response CBOR.
   *
   * @default {{}}
   */
  cborOptions?: CborDecodeOptions;
  /**
   * Limits for stream decoders.
   *
   * @default {{}}
   */
  decoderOptions?: StreamDecoderOptions;
  /**
   * Largest frame payload accepted.
   *
   * @default {65535}
   */
  maxPayloadSize?: number;
  /**
   * Called once when the client has shut down (used to close sockets).
   *
   * @default {undefined}
   */
  onClose?: () => void;
  /**
   * Called with the decoded atoms of a `text-output` frame (servers other
   * than Mercurial may send them).
   *
   * @default {undefined}
   */
  onTextOutput?: (requestId: number, atoms: CborValue[]) => void;
  /**
   * Called with the decoded map of a `progress` frame.
   *
   * @default {undefined}
   */
  onProgress?: (requestId: number, progress: CborValue) => void;
  /**
   * How long {@linkcode FramingClient.close} waits for unsent request bytes
   * to be written, in milliseconds, before giving up on them: a peer that
   * stops reading cannot make `close()` hang. On giving up, `onClose` runs
   * at once (closing the socket for {@linkcode connect}) and the writable
   * is aborted.
   *
   * @default {10000}
   */
  closeTimeout?: number;
}

/** Options of {@linkcode FramingClient.call}. */
export interface CallOptions {
  /**
   * Command data (sent in `command-data` frames).
   *
   * @default {undefined}
   */
  data?: Uint8Array;
  /**
   * Aborts waiting for the response; the rest of it is discarded.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * A redirect map (`{targets, hashes}`).
   *
   * @default {undefined}
   */
  redirect?: CborValue;
}

const TEXT_DECODER = new TextDecoder();

function text(v: CborValue | undefined): string {
  if (v instanceof Uint8Array) return TEXT_DECODER.decode(v);
  return typeof v === "string" ? v : String(v);
}

class Pending {
  values: CborValue[] = [];
  head = 0;
  statusSeen = false;
  done = false;
  error: Error | null = null;
  abandoned = false;
  decoder: CborStreamDecoder;
  wake: (() => void) | null = null;
  constructor(options: CborDecodeOptions) {
    this.decoder = new CborStreamDecoder(options);
  }
  get queued(): number {
    return this.values.length - this.head;
  }
  notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
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
  #out: BatchWriter;
  #pending = new Map<number, Pending>();
  #cbor: CborDecodeOptions;
  #maxQueued: number;
  #maxPayload: number;
  #closed = false;
  #writeClosed = false;
  #failure: Error | null = null;
  #resume: (() => void) | null = null;
  /** The call whose full queue paused the read loop. */
  #full: Pending | null = null;
  #loop: Promise<void>;
  #onClose: (() => void) | undefined;
  #closeTimeout: number;
  #onText: FramingClientOptions["onTextOutput"];
  #onProgress: FramingClientOptions["onProgress"];

  /**
   * Starts a client on a byte channel.
   *
   * @param channel The channel to the server.
   * @param options Encodings and limits.
   */
  constructor(channel: ByteChannel, options: FramingClientOptions = {}) {
    // Before taking the channel: a bad option leaves its streams unlocked.
    const closeTimeout = options.closeTimeout ?? 10_000;
    if (!(closeTimeout >= 0)) {
      throw new RangeError(
        `Cannot create client: invalid closeTimeout ${closeTimeout}`,
      );
    }
    this.#closeTimeout = closeTimeout;
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
    this.#out = new BatchWriter(this.#writer, (e) =>
      this.#fail(
        new FramingError("Cannot send request: the connection is closed", {
          cause: e,
        }),
      ));
    this.#readable = channel.readable;
    this.#cbor = options.cborOptions ?? {};
    this.#maxQueued = options.maxQueuedValues ?? 1024;
    this.#maxPayload = options.maxPayloadSize ?? 65535;
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
    return this.#pending.size;
  }

  #write(frames: Iterable<Frame>): void {
    void this.#out.send(frames);
  }

  /**
   * Calls a command. The request is sent at once; the returned iterable
   * yields each object of the response (after its status map). A command
   * error rejects with {@linkcode CommandError}, an `error-response` with
   * `ServerError`. Iterate (or abort) every call: once an unread response
   * holds `maxQueuedValues` objects the client stops reading from the
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
    if (signal?.aborted) return this.#failed(signal.reason);
    if (this.#closed || this.#writeClosed || this.#failure) {
      return this.#failed(
        this.#failure ??
          new FramingError("Cannot call command: the client is closed"),
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
      return this.#failed(e);
    }
    const p = new Pending(this.#cbor);
    this.#pending.set(sent.request.requestId, p);
    if (sent.action.action === "sendframes") this.#write(sent.action.frames);
    return this.#iterate(p, sent.request.requestId, signal);
  }

  // deno-lint-ignore require-yield
  async *#failed(reason: unknown): AsyncGenerator<CborValue> {
    throw reason;
  }

  async *#iterate(
    p: Pending,
    rid: number,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<CborValue> {
    const onAbort = (): void => p.notify();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        if (signal?.aborted) throw signal.reason;
        if (p.queued > 0) {
          const v = p.values[p.head]!;
          p.head++;
          if (p.head > 1024 && p.head * 2 > p.values.length) {
            p.values = p.values.slice(p.head);
            p.head = 0;
          }
          this.#maybeResume();
          yield v;
          continue;
        }
        if (p.error) throw p.error;
        if (p.done) return;
        await new Promise<void>((resolve) => p.wake = resolve);
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      // Abandoned before its end: drop what arrives for it until then.
      if (!p.done && !p.error) p.abandoned = true;
      // Values left unread (also of a call that had ended) no longer count
      // against the read loop's pause.
      p.values = [];
      p.head = 0;
      this.#maybeResume();
      // A call leaves #pending when its response ends (its request id may
      // then be reused); until then an abandoned one stays to drain.
      if ((p.done || p.error) && this.#pending.get(rid) === p) {
        this.#pending.delete(rid);
      }
    }
  }

  #maybeResume(): void {
    if (this.#resume === null) return;
    if (this.#full !== null && this.#full.queued >= this.#maxQueued) return;
    this.#full = null;
    const r = this.#resume;
    this.#resume = null;
    r();
  }

  async #readLoop(): Promise<void> {
    // Let the constructor finish before touching the stream.
    await Promise.resolve();
    // Batches: one stream read per chunk of bytes, not per frame.
    const batches = this.#readable.pipeThrough(
      new FrameBatchDecoderStream({ maxPayloadSize: this.#maxPayload }),
    );
    this.#reader = batches.getReader();
    try {
      read: for (;;) {
        const { value: frames, done } = await this.#reader.read();
        if (done) break;
        for (let i = 0; i < frames.length; i++) {
          const p = this.#onFrame(frames[i]!);
          if (this.#failure) break read;
          // Only the call that got values can have become full (the loop
          // stops at the first full one), so only it is checked.
          if (p !== undefined && p.queued >= this.#maxQueued) {
            this.#full = p;
            await new Promise<void>((resolve) => this.#resume = resolve);
            // Resumed by close() or a failure: take no further frame.
            if (this.#failure) break read;
          }
        }
      }
      this.#fail(
        new FramingError("Cannot read response: the connection closed"),
      );
    } catch (e) {
      this.#fail(
        e instanceof FramingError
          ? e
          : new FramingError("Cannot read response: the connection failed", {
            cause: e,
          }),
      );
    }
  }

  /** Handles one frame; returns the call whose queue it grew, if any. */
  #onFrame(frame: Frame): Pending | undefined {
    const a = this.#reactor.onFrameRecv(frame);
    if (a.action === "error") {
      if (a.request === undefined) {
        this.#fail(a.error);
        return;
      }
      const p = this.#pending.get(a.request.requestId);
      if (p) this.#finishWith(p, a.request.requestId, a.error);
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
    const p = this.#pending.get(rid);
    if (p === undefined) return;
    let values: CborValue[];
    try {
      values = p.decoder.decode(a.data);
    } catch (e) {
      this.#finishWith(p, rid, e as Error);
      return;
    }
    for (const v of values) {
      if (!p.statusSeen) {
        p.statusSeen = true;
        const err = statusError(v);
        if (err) {
          this.#finishWith(p, rid, err);
          return;
        }
        continue;
      }
      if (!p.abandoned) p.values.push(v);
    }
    if (a.eos) {
      if (p.decoder.inValue) {
        this.#finishWith(
          p,
          rid,
          new ProtocolError(
            "Cannot read response: it ended inside a CBOR value",
          ),
        );
        return;
      }
      p.done = true;
      // Its request id is free again (the reactor dropped it): a later
      // call may reuse it, so the entry must not outlive the response.
      this.#pending.delete(rid);
    }
    if (values.length > 0 || a.eos) p.notify();
    return p;
  }

  #finishWith(p: Pending, rid: number, error: Error): void {
    p.error = error;
    if (this.#pending.get(rid) === p) this.#pending.delete(rid);
    p.notify();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const [rid, p] of this.#pending) {
      if (!p.done && !p.error) this.#finishWith(p, rid, error);
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
    await this.#out.drained;
    await this.#writer.close().catch(() => {});
  }

  /**
   * Closes the client: pending calls reject, the channel is closed.
   * Idempotent. Unsent request bytes get at most `closeTimeout` (see
   * {@linkcode FramingClientOptions}) to be written.
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
    this.#fail(new FramingError("Cannot read response: the client was closed"));
    let onClose = this.#onClose;
    if (!this.#writeClosed) {
      this.#writeClosed = true;
      const flushed = (async () => {
        await this.#out.drained;
        await this.#writer.close().catch(() => {});
      })();
      if (!await settlesWithin(flushed, this.#closeTimeout)) {
        // The peer stopped reading: close the socket so the stuck write
        // fails, and drop what is left.
        onClose?.();
        onClose = undefined;
        this.#writer.abort(
          new FramingError("Cannot send request: the client was closed"),
        ).catch(() => {});
      }
    }
    this.#writer.releaseLock();
    await this.#reader?.cancel().catch(() => {});
    await this.#loop;
    this.#reactor.close();
    this.#pending.clear();
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

/** Whether `p` settles within `ms` milliseconds (it is never rejected). */
async function settlesWithin(p: Promise<void>, ms: number): Promise<boolean> {
  if (ms === Infinity) {
    await p;
    return true;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), Math.min(ms, 2 ** 31 - 1));
  });
  try {
    return await Promise.race([p.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

function statusError(v: CborValue): Error | null {
  if (!(v instanceof Map)) {
    return new ProtocolError(
      "Cannot read response: the first object is not a status map",
    );
  }
  const status = text(v.get("status"));
  if (status === "ok") return null;
  if (status === "error") {
    const e = v.get("error");
    if (!(e instanceof Map)) return new CommandError("unknown error");
    const message = e.get("message");
    if (Array.isArray(message)) return new CommandError(renderAtoms(message));
    const args = e.get("args");
    return new CommandError(
      text(message),
      Array.isArray(args) ? args.map((x) => text(x as CborValue)) : [],
    );
  }
  if (status === "redirect") {
    const loc = v.get("location");
    const url = loc instanceof Map ? text(loc.get("url")) : "";
    return new FramingError(
      `Cannot read response: the server redirected to ${url}`,
      { cause: loc },
    );
  }
  return new ProtocolError(`Cannot read response: unknown status ${status}`);
}

/** Where {@linkcode connect} connects. */
export type ConnectOptions =
  | { transport?: "tcp"; hostname?: string; port: number }
  | { transport: "unix"; path: string };

/**
 * Connects to an hgrpc server over TCP or a Unix socket.
 *
 * Permissions: `--allow-net` (TCP) or `--allow-read --allow-write` (Unix).
 *
 * @param options The address.
 * @param clientOptions Client options.
 * @returns A connected client.
 *
 * @example Usage
 * ```ts ignore
 * import { connect } from "@sidecar/ipc/framing";
 *
 * await using client = await connect({ hostname: "127.0.0.1", port: 8000 });
 * for await (const obj of client.call("heads")) console.log(obj);
 * ```
 */
export async function connect(
  options: ConnectOptions,
  clientOptions: FramingClientOptions = {},
): Promise<FramingClient> {
  const conn = options.transport === "unix"
    ? await Deno.connect({ transport: "unix", path: options.path })
    : await Deno.connect({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port,
    });
  const onClose = clientOptions.onClose;
  return new FramingClient(connChannel(conn), {
    ...clientOptions,
    onClose: () => {
      try {
        conn.close();
      } catch {
        // Already closed by the streams.
      }
      onClose?.();
    },
  });
}
