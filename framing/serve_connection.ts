// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Serving one connection: frames are read from any byte channel, fed to
 * the server reactor, and the commands run by handlers (functions
 * returning iterables or async generators of response objects).
 * Requests run concurrently and their frames interleave; writes go
 * through one coalescing write queue (backpressure past its high-water
 * mark). Every protocol error ends the connection with that error.
 *
 * @module
 */
import type { WriteQueue } from "../_internal/write_queue.ts";
import type { CborKey, CborValue } from "./cbor.ts";
import type { ByteChannel } from "./byte_channel.ts";
import { CommandError, FramingError, ProtocolError } from "./errors.ts";
import type { Frame } from "./frame_codec.ts";
import { FrameBatchDecoderStream } from "./frame_stream.ts";
import { framesSize, writeFrames } from "./_frame_writer.ts";
import { channelQueue } from "./_conn_channel.ts";
import type { OutputStream } from "./output_stream.ts";
import type { ResponseObject } from "./response_objects.ts";
import { ServerReactor } from "./server_reactor.ts";
import type {
  RunCommandAction,
  ServerReactorOptions,
} from "./server_reactor_types.ts";

/** What a handler gets besides its arguments. */
export interface CommandContext {
  /** The command name. */
  command: string;
  /** The request id. */
  requestId: number;
  /** The command data, or `null`. */
  data: Uint8Array | null;
  /** The redirect map, or `null`. */
  redirect: CborValue | null;
  /**
   * Aborted when the connection fails (a read or a write fails) or the
   * client breaks the protocol; not when the client only ends its input.
   */
  signal: AbortSignal;
}

/**
 * A command handler: returns (or resolves to) an iterable or async
 * iterable of response objects. Throw {@linkcode CommandError} for a
 * command error; any other error becomes an `error-response`.
 */
export type CommandHandler = (
  args: Map<CborKey, CborValue>,
  context: CommandContext,
) =>
  | Iterable<ResponseObject>
  | AsyncIterable<ResponseObject>
  | Promise<Iterable<ResponseObject> | AsyncIterable<ResponseObject>>;

/** Options of {@linkcode serveConnection}. */
export interface ServeConnectionOptions extends ServerReactorOptions {
  /**
   * Number of output streams; requests are spread over them round-robin so
   * compression contexts are independent.
   *
   * @default {1}
   */
  outputStreams?: number;
  /**
   * Called with the protocol error that ends the connection (from the
   * frame decoder, the reactor, or input that ends inside a frame), before
   * the connection is closed and `serveConnection` rejects with it.
   *
   * @default {undefined}
   */
  onProtocolError?: (error: ProtocolError) => void;
  /**
   * Largest frame payload accepted from the client.
   *
   * @default {65535}
   */
  maxPayloadSize?: number;
  /**
   * Most commands running at once; beyond it the server stops reading
   * requests until one finishes (backpressure on the client). With
   * `deferOutput`, a command waiting for the end of input (see
   * `maxDeferredSize`) does not count.
   *
   * @default {64}
   */
  maxConcurrentCommands?: number;
  /**
   * With `deferOutput`: most bytes of response frames held, encoded, until
   * the client's input ends. Past it, a handler waits at its next write
   * until the input ends (backpressure), and commands that arrive
   * meanwhile start only then; those requests are held (counted against
   * `maxBufferedSize`: a client that sends more is refused), so memory
   * stays bounded instead of growing with the output, as in Mercurial.
   *
   * @default {16777216}
   */
  maxDeferredSize?: number;
  /**
   * Bytes of response frames queued for the connection above which a
   * handler waits at its next write (backpressure).
   *
   * @default {1048576}
   */
  maxQueuedSize?: number;
}

/** What a request held until the end of input is counted for beyond its size. */
const HELD_REQUEST_OVERHEAD = 512;

function isAsyncIterable(v: unknown): v is AsyncIterable<ResponseObject> {
  return typeof v === "object" && v !== null && Symbol.asyncIterator in v;
}

function checkSize(value: number, name: string): number {
  if (typeof value !== "number" || !(value >= 0)) {
    throw new RangeError(
      `Cannot serve connection: ${name} ${value} is not a number >= 0`,
    );
  }
  return value;
}

/**
 * Serves one connection until the client's input ends and every response
 * has been written.
 *
 * @param channel The byte channel.
 * @param handlers Command handlers by name.
 * @param options Reactor options, output streams, limits, error hook.
 * @returns Resolves when the connection is done.
 * @throws {ProtocolError} The protocol error that ended the connection
 * (also given to `onProtocolError`).
 * @throws {FramingError} Code `"CONNECTION_FAILED"` when reading failed,
 * `"CONNECTION_CLOSED"` when a response could not be written.
 *
 * @example Usage
 * ```ts
 * import { FramingClient, serveConnection } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const a = new TransformStream<Uint8Array, Uint8Array>();
 * const b = new TransformStream<Uint8Array, Uint8Array>();
 * const served = serveConnection({ readable: a.readable, writable: b.writable }, {
 *   *count(args) { for (let i = 0; i < Number(args.get("n")); i++) yield i; },
 * });
 * const client = new FramingClient({ readable: b.readable, writable: a.writable });
 * assert.deepEqual(await Array.fromAsync(client.call("count", { n: 3 })), [0, 1, 2]);
 * await client.close();
 * await served;
 * ```
 */
export async function serveConnection(
  channel: ByteChannel,
  handlers: Readonly<Record<string, CommandHandler>>,
  options: ServeConnectionOptions = {},
): Promise<void> {
  const maxDeferred = checkSize(
    options.maxDeferredSize ?? 16 * 1024 * 1024,
    "maxDeferredSize",
  );
  const maxBuffered = checkSize(
    options.maxBufferedSize ?? 256 * 1024 * 1024,
    "maxBufferedSize",
  );
  const maxQueued = checkSize(
    options.maxQueuedSize ?? 1024 * 1024,
    "maxQueuedSize",
  );
  const maxPayload = checkSize(
    options.maxPayloadSize ?? 65535,
    "maxPayloadSize",
  );
  const reactor = new ServerReactor({ ...options, deferOutput: false });
  const defer = options.deferOutput ?? false;
  const writer = channel.writable.getWriter();
  const abort = new AbortController();
  const streams: OutputStream[] = [];
  const nStreams = Math.max(1, options.outputStreams ?? 1);
  let nextStream = 0;
  // Response frames out, coalesced; a failed write aborts the handlers.
  const queue: WriteQueue = channelQueue(channel, writer, {
    highWaterMark: maxQueued,
    mapError: (e) =>
      new FramingError("Cannot write response: the connection is closed", {
        cause: e,
        code: "CONNECTION_CLOSED",
      }),
    onError: (e) => abort.abort(e),
  });
  const tasks = new Set<Promise<void>>();
  const maxConcurrent = Math.max(1, options.maxConcurrentCommands ?? 64);
  // Deferred output: frames held, encoded, in the corked queue until the
  // input ends, up to maxDeferred bytes; past that, handlers park at their
  // write until the input ends, and commands that arrive meanwhile wait
  // unstarted (their output would only park too).
  let holding = defer;
  if (holding) queue.cork();
  /** Parked writes, in the order their frames were made. */
  const parked: { frames: Frame[]; resume: () => void }[] = [];
  /** Commands received while writes are parked; started at end of input. */
  const unstarted: RunCommandAction[] = [];
  let unstartedSize = 0;
  /** Wakes the read loop when a handler parks (it no longer counts). */
  let wakeReader: (() => void) | null = null;

  /** Queues a handler's frames; a promise when the handler must wait. */
  function write(frames: Frame[]): Promise<void> | undefined {
    if (frames.length === 0) return undefined;
    if (holding) {
      // Once one write parks, later ones park behind it: frames must reach
      // the wire in the order they were made (encoders are shared).
      if (
        parked.length === 0 && queue.size + framesSize(frames) <= maxDeferred
      ) {
        writeFrames(queue, frames);
        return undefined;
      }
      const done = new Promise<void>((resume) =>
        parked.push({ frames, resume })
      );
      wakeReader?.();
      return done;
    }
    writeFrames(queue, frames);
    return queue.full ? queue.ready() : undefined;
  }

  /**
   * Ends deferral: queues every parked write in order, all at once (so
   * nothing made later can get ahead of them), lets the parked handlers go
   * on, and writes what is held.
   */
  function endInput(): void {
    if (!holding) return;
    holding = false;
    for (const p of parked.splice(0)) {
      writeFrames(queue, p.frames);
      p.resume();
    }
    queue.uncork();
  }

  function streamFor(): OutputStream {
    // Streams are made lazily, after the client's settings are known.
    if (streams.length < nStreams) streams.push(reactor.makeOutputStream());
    const s = streams[nextStream % streams.length]!;
    nextStream++;
    return s;
  }

  async function respond(
    stream: OutputStream,
    a: RunCommandAction,
    ctx: CommandContext,
  ): Promise<void> {
    const w = reactor.startResponse(stream, a.requestId);
    const handler = Object.hasOwn(handlers, a.command)
      ? handlers[a.command]
      : undefined;
    if (handler === undefined) {
      await write(w.commandError("unknown command: %s", [a.command]));
      return;
    }
    try {
      const result = await handler(a.args, ctx);
      if (isAsyncIterable(result)) {
        for await (const obj of result) {
          if (abort.signal.aborted) return;
          const wait = write(w.write(obj));
          if (wait !== undefined) await wait;
        }
      } else {
        for (const obj of result) {
          // Writes go nowhere after a failure: stop here, or an endless
          // generator would spin forever.
          if (abort.signal.aborted) return;
          const wait = write(w.write(obj));
          if (wait !== undefined) await wait;
        }
      }
      await write(w.end());
    } catch (e) {
      if (w.done || abort.signal.aborted) return;
      if (e instanceof CommandError) {
        await write(w.commandError(e.format, e.args));
      } else {
        await write(w.serverError(e instanceof Error ? e.message : String(e)));
      }
    }
  }

  function start(a: RunCommandAction): void {
    const ctx: CommandContext = {
      command: a.command,
      requestId: a.requestId,
      data: a.data,
      redirect: a.redirect,
      signal: abort.signal,
    };
    const task = respond(streamFor(), a, ctx).catch(() => {
      // A write that failed: the queue reported it (abort).
    });
    tasks.add(task);
    task.finally(() => tasks.delete(task));
  }

  /** The error that ends the connection, if any. */
  let failure: FramingError | null = null;
  function protocolError(e: ProtocolError): void {
    failure = e;
    try {
      options.onProtocolError?.(e);
    } finally {
      abort.abort(e);
    }
  }

  // Batches: one stream read per chunk of bytes, not per frame. Clients
  // send no error frames: one limit for every frame.
  const reader = channel.readable
    .pipeThrough(
      new FrameBatchDecoderStream({
        maxPayloadSize: maxPayload,
        maxErrorPayloadSize: maxPayload,
      }),
    )
    .getReader();
  try {
    read: for (;;) {
      let r: ReadableStreamReadResult<Frame[]>;
      try {
        r = await reader.read();
      } catch (e) {
        if (e instanceof ProtocolError) {
          protocolError(e);
        } else {
          failure = new FramingError(
            "Cannot read request: the connection failed",
            { cause: e, code: "CONNECTION_FAILED" },
          );
          abort.abort(failure);
        }
        break;
      }
      if (r.done) break;
      const frames = r.value;
      for (let i = 0; i < frames.length; i++) {
        const a = reactor.onFrameRecv(frames[i]!);
        if (a.action === "error") {
          protocolError(a.error);
          await reader.cancel(a.error).catch(() => {});
          break read;
        }
        if (a.action !== "runcommand") continue;
        if (parked.length > 0) {
          unstartedSize += a.size + HELD_REQUEST_OVERHEAD;
          if (unstartedSize > maxBuffered) {
            const e = new ProtocolError(
              `Cannot receive request ${a.requestId}: ${unstartedSize} bytes of requests held until the end of input exceed the maximum of ${maxBuffered} bytes`,
              { code: "LIMIT_EXCEEDED" },
            );
            protocolError(e);
            await reader.cancel(e).catch(() => {});
            break read;
          }
          unstarted.push(a);
          continue;
        }
        start(a);
        while (tasks.size - parked.length >= maxConcurrent) {
          await Promise.race([
            ...tasks,
            new Promise<void>((resolve) => wakeReader = resolve),
          ]);
          wakeReader = null;
        }
      }
    }
    if (failure === null) {
      reactor.onInputEof();
      endInput();
      for (const a of unstarted.splice(0)) {
        while (tasks.size >= maxConcurrent) await Promise.race(tasks);
        if (abort.signal.aborted) break;
        start(a);
      }
    } else {
      // Nothing more goes out after a protocol or read error; parked
      // handlers go on to see the abort.
      queue.discard(failure);
      for (const p of parked.splice(0)) p.resume();
    }
    unstarted.length = 0;
    await Promise.all([...tasks]);
    if (failure === null) await queue.flush().catch(() => {});
  } finally {
    endInput();
    for (const s of streams) s.close();
    await queue.settled;
    await writer.close().catch(() => {});
    reader.releaseLock();
  }
  if (failure !== null) throw failure;
  if (queue.failed) throw queue.error;
}
