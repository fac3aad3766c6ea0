// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * An hgrpc server: dispatches commands to handlers (functions returning
 * iterables or async generators of response objects) over any byte
 * channel, a TCP or Unix listener ({@linkcode serve}), or stdin/stdout.
 * Requests run concurrently and their frames interleave; writes wait for
 * the channel (backpressure).
 *
 * @module
 */
import type { CborKey, CborValue } from "./cbor.ts";
import type { ByteChannel } from "./client.ts";
import { CommandError, FramingError, type ProtocolError } from "./errors.ts";
import { type Frame, FRAME_HEADER_SIZE } from "./frame_codec.ts";
import { BatchWriter } from "./_batch_writer.ts";
import { FrameBatchDecoderStream } from "./frame_stream.ts";
import { connChannel } from "./_conn_channel.ts";
import type { OutputStream } from "./output_stream.ts";
import {
  type ResponseObject,
  type RunCommandAction,
  ServerReactor,
  type ServerReactorOptions,
} from "./server_reactor.ts";

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
   * Called with a protocol violation before the connection is closed.
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
   * `maxDeferredBytes`) does not count.
   *
   * @default {64}
   */
  maxConcurrentCommands?: number;
  /**
   * With `deferOutput`: most bytes of response frames held until the
   * client's input ends. Past it, a handler waits at its next write until
   * the input ends (backpressure), and commands that arrive meanwhile start
   * only then, so memory stays bounded (this limit, one response object per
   * waiting handler, and the requests) instead of growing with the output,
   * as in Mercurial.
   *
   * @default {16777216}
   */
  maxDeferredBytes?: number;
}

function isAsyncIterable(v: unknown): v is AsyncIterable<ResponseObject> {
  return typeof v === "object" && v !== null && Symbol.asyncIterator in v;
}

/**
 * Serves one connection until the client's input ends and every response
 * has been written.
 *
 * @param channel The byte channel.
 * @param handlers Command handlers by name.
 * @param options Reactor options, output streams, error hook.
 * @returns Resolves when the connection is done.
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
  const maxDeferred = options.maxDeferredBytes ?? 16 * 1024 * 1024;
  if (typeof maxDeferred !== "number" || !(maxDeferred >= 0)) {
    throw new RangeError(
      `Cannot serve connection: maxDeferredBytes ${maxDeferred} is not a number >= 0`,
    );
  }
  const reactor = new ServerReactor({ ...options, deferOutput: false });
  const defer = options.deferOutput ?? false;
  const writer = channel.writable.getWriter();
  const abort = new AbortController();
  const streams: OutputStream[] = [];
  const nStreams = Math.max(1, options.outputStreams ?? 1);
  let nextStream = 0;
  // Response frames out, coalesced; a failed write aborts the handlers.
  const out = new BatchWriter(writer, () =>
    abort.abort(
      new FramingError("Cannot write response: the connection is closed"),
    ));
  const tasks = new Set<Promise<void>>();
  const maxConcurrent = Math.max(1, options.maxConcurrentCommands ?? 64);
  // Deferred output: frames held until the input ends, up to maxDeferred
  // bytes; past that, handlers park at their write until the input ends,
  // and commands that arrive meanwhile wait unstarted (their output would
  // only park too), so memory stays bounded by the limit, one response
  // object per parked handler and the requests themselves.
  let holding = defer;
  const held: Frame[] = [];
  let heldBytes = 0;
  /** Parked writes, in the order their frames were made. */
  const parked: { frames: Frame[]; resume: (p: Promise<void>) => void }[] = [];
  /** Commands received while writes are parked; started at end of input. */
  const unstarted: RunCommandAction[] = [];
  /** Wakes the read loop when a handler parks (it no longer counts). */
  let wakeReader: (() => void) | null = null;

  function write(frames: Frame[]): Promise<void> {
    if (frames.length === 0) return out.drained;
    if (!holding) return out.send(frames);
    let size = 0;
    for (const f of frames) size += FRAME_HEADER_SIZE + f.payload.length;
    // Once one write parks, later ones park behind it: frames must reach
    // the wire in the order they were made (encoders are shared).
    if (parked.length === 0 && heldBytes + size <= maxDeferred) {
      for (const f of frames) held.push(f);
      heldBytes += size;
      return out.drained;
    }
    const done = new Promise<void>((resume) => parked.push({ frames, resume }));
    wakeReader?.();
    return done;
  }

  /**
   * Ends deferral: queues what is held, then every parked write in order,
   * all at once (so nothing made later can get ahead of them), and lets
   * the parked handlers go on.
   */
  function endInput(): void {
    if (!holding) return;
    holding = false;
    if (held.length > 0) void out.send(held.splice(0));
    heldBytes = 0;
    for (const p of parked.splice(0)) p.resume(out.send(p.frames));
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
    rid: number,
    command: string,
    args: Map<CborKey, CborValue>,
    ctx: CommandContext,
  ): Promise<void> {
    const w = reactor.startResponse(stream, rid);
    const handler = Object.hasOwn(handlers, command)
      ? handlers[command]
      : undefined;
    if (handler === undefined) {
      await write(w.commandError("unknown command: %s", [command]));
      return;
    }
    try {
      const result = await handler(args, ctx);
      if (isAsyncIterable(result)) {
        for await (const obj of result) {
          if (abort.signal.aborted) return;
          await write(w.write(obj));
        }
      } else {
        for (const obj of result) {
          // Writes resolve at once after a failure: stop here, or an endless
          // generator would spin forever.
          if (abort.signal.aborted) return;
          await write(w.write(obj));
        }
      }
      await write(w.end());
    } catch (e) {
      if (w.done) return;
      if (e instanceof CommandError) {
        await write(w.commandError(e.format, e.args));
      } else {await write(
          w.serverError(e instanceof Error ? e.message : String(e)),
        );}
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
    const task = respond(streamFor(), a.requestId, a.command, a.args, ctx);
    tasks.add(task);
    task.finally(() => tasks.delete(task));
  }

  // Batches: one stream read per chunk of bytes, not per frame.
  const reader = channel.readable
    .pipeThrough(
      new FrameBatchDecoderStream({
        maxPayloadSize: options.maxPayloadSize ?? 65535,
      }),
    )
    .getReader();
  try {
    read: for (;;) {
      let r: ReadableStreamReadResult<Frame[]>;
      try {
        r = await reader.read();
      } catch (e) {
        abort.abort(
          new FramingError("Cannot read request: the connection failed", {
            cause: e,
          }),
        );
        break;
      }
      if (r.done) break;
      const frames = r.value;
      for (let i = 0; i < frames.length; i++) {
        const a = reactor.onFrameRecv(frames[i]!);
        if (a.action === "error") {
          options.onProtocolError?.(a.error);
          abort.abort(a.error);
          await reader.cancel().catch(() => {});
          break read;
        }
        if (a.action !== "runcommand") continue;
        if (parked.length > 0) {
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
    reactor.onInputEof();
    endInput();
    for (const a of unstarted.splice(0)) {
      while (tasks.size >= maxConcurrent) await Promise.race(tasks);
      if (abort.signal.aborted) break;
      start(a);
    }
    await Promise.all([...tasks]);
    await out.drained;
  } finally {
    endInput();
    for (const s of streams) s.close();
    await writer.close().catch(() => {});
    reader.releaseLock();
  }
}

/** Where {@linkcode serve} listens. */
export type ServeOptions =
  | { transport?: "tcp"; hostname?: string; port: number }
  | { transport: "unix"; path: string };

/** A running listener from {@linkcode serve}. */
export interface FramingServer extends AsyncDisposable {
  /** The bound address. */
  readonly addr: Deno.Addr;
  /** Resolves when the listener and all connections are done. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting, closes open connections and waits for them.
   *
   * @returns Resolves when everything is closed.
   */
  close(): Promise<void>;
}

/**
 * Listens on TCP or a Unix socket and serves every connection.
 *
 * Permissions: `--allow-net` (TCP) or `--allow-read --allow-write` (Unix).
 *
 * @param address Where to listen (`port: 0` picks a free port).
 * @param handlers Command handlers by name.
 * @param options Per-connection options.
 * @returns The running server.
 *
 * @example Usage
 * ```ts ignore
 * import { connect, serve } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * await using server = serve({ hostname: "127.0.0.1", port: 0 }, { *hello() { yield "hi"; } });
 * const { port } = server.addr as Deno.NetAddr;
 * await using client = await connect({ port });
 * assert.equal((await Array.fromAsync(client.call("hello"))).length, 1);
 * ```
 */
export function serve(
  address: ServeOptions,
  handlers: Readonly<Record<string, CommandHandler>>,
  options: ServeConnectionOptions = {},
): FramingServer {
  const listener = address.transport === "unix"
    ? Deno.listen({ transport: "unix", path: address.path })
    : Deno.listen({
      hostname: address.hostname ?? "127.0.0.1",
      port: address.port,
    });
  const conns = new Set<Deno.Conn>();
  const running = new Set<Promise<void>>();
  let closing = false;
  const finished = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        break;
      }
      if (closing) {
        conn.close();
        break;
      }
      conns.add(conn);
      const p = serveConnection(connChannel(conn), handlers, options).catch(
        () => {},
      )
        .finally(() => {
          conns.delete(conn);
          try {
            conn.close();
          } catch {
            // Closed by its streams already.
          }
        });
      running.add(p);
      p.finally(() => running.delete(p));
    }
    await Promise.all([...running]);
  })();
  async function close(): Promise<void> {
    if (!closing) {
      closing = true;
      try {
        listener.close();
      } catch {
        // Already closed.
      }
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // Already closed.
        }
      }
    }
    await finished;
  }
  return { addr: listener.addr, finished, close, [Symbol.asyncDispose]: close };
}

/**
 * Serves one connection over this process's stdin and stdout (for a
 * server started as a child process, as Mercurial's tools do).
 *
 * Permissions: none beyond stdio.
 *
 * @param handlers Command handlers by name.
 * @param options Per-connection options.
 * @returns Resolves when stdin ended and every response was written.
 *
 * @example Usage
 * ```ts ignore
 * import { serveStdio } from "@sidecar/ipc/framing";
 *
 * await serveStdio({ *hello() { yield "hi"; } });
 * ```
 */
export function serveStdio(
  handlers: Readonly<Record<string, CommandHandler>>,
  options: ServeConnectionOptions = {},
): Promise<void> {
  return serveConnection(
    { readable: Deno.stdin.readable, writable: Deno.stdout.writable },
    handlers,
    options,
  );
}
