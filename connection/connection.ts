// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `Connection`: a message connection compatible with CPython's
 * `multiprocessing.connection.Connection`.
 *
 * @module
 */
import type { MessageCodec } from "./codec.ts";
import { pickleCodec } from "./pickle.ts";
import {
  BufferTooShort,
  ConnectionError,
  EOFError,
  ProtocolError,
} from "./errors.ts";
import {
  decodeHeader,
  DEFAULT_MAX_MESSAGE_SIZE,
  encodeHeader,
} from "./message_codec.ts";
import { abortable, setLongTimeout } from "./_abort.ts";
import { checkNumericOptions } from "./_options.ts";
import {
  type ByteTransport,
  isDenoConn,
  StreamTransport,
} from "./_transport.ts";

/** A pair of byte streams, such as an in-memory pipe or a socket's. */
export interface ByteStreamPair {
  /** Where received bytes come from. */
  readable: ReadableStream<Uint8Array>;
  /** Where bytes to send go. */
  writable: WritableStream<Uint8Array>;
}

/** Options of {@linkcode Connection}. */
export interface ConnectionOptions<T = unknown> {
  /**
   * How `send()`/`recv()` turn values into payloads. `sendBytes()` and
   * `recvBytes()` never use it.
   *
   * @default {pickleCodec()}
   */
  codec?: MessageCodec<T>;
  /**
   * The largest payload `recv()`, `recvBytes()` without a `maxLength`, and
   * `recvBytesInto()` accept; checked on the header, before allocating.
   * CPython has no limit; pass `Infinity` to match it.
   *
   * @default {256 * 1024 * 1024}
   */
  maxMessageSize?: number;
  /**
   * Bytes that may wait in the send queue before `sendBytes()` waits for
   * the transport to drain (backpressure).
   *
   * @default {1048576}
   */
  writeHighWaterMark?: number;
  /**
   * How long `close()` (and `await using`) waits for queued messages to be
   * written, in milliseconds, before closing anyway: a peer that stops
   * reading cannot make `close()` hang. Messages still queued then are
   * dropped and their `sendBytes()`/`send()` promises reject.
   *
   * @default {10000}
   */
  closeTimeout?: number;
}

/** Options of a single wait. */
export interface WaitOptions {
  /** Aborts the wait; an already-aborted signal rejects at once with its reason. */
  signal?: AbortSignal | undefined;
}

const READ_BUFFER_SIZE = 64 * 1024;
const BATCH_SIZE = 64 * 1024;
/** Payloads up to this size are copied into the write batch. */
const COPY_LIMIT = 16 * 1024;
const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
const DEFAULT_CLOSE_TIMEOUT = 10_000;
const RESOLVED: Promise<void> = Promise.resolve();
/** Pickle protocol 4, what CPython 3.8-3.13 `send()`. */
const DEFAULT_CODEC: MessageCodec<unknown> = pickleCodec();

/** A message whose payload is being read: kept across aborted receives. */
interface PartialMessage {
  size: number;
  out: Uint8Array;
  filled: number;
}

interface WriteEntry {
  data: Uint8Array;
  batch: Uint8Array | null;
  done: { resolve(): void; reject(e: unknown): void } | null;
}

/**
 * One end of a message connection, compatible on the wire with CPython's
 * `multiprocessing.connection.Connection` (each message is a 4-byte signed
 * big-endian length, or `-1` and a 64-bit length, then the payload).
 *
 * Runs on a `Deno.Conn` (read/write directly, the fast path) or on any pair
 * of byte streams. Small messages are copied into a batch buffer and
 * `sendBytes()` resolves at once; while a write is in flight, later
 * messages are gathered into one write. Payloads over 16 KiB are written
 * from the caller's buffer and `sendBytes()` resolves once they are
 * written. When more than `writeHighWaterMark` bytes are queued,
 * `sendBytes()` waits. `close()` flushes the queue first.
 *
 * Python mapping: `send_bytes` -> {@linkcode Connection.sendBytes},
 * `recv_bytes` -> {@linkcode Connection.recvBytes}, `recv_bytes_into` ->
 * {@linkcode Connection.recvBytesInto}, `send`/`recv` -> {@linkcode Connection.send} /
 * {@linkcode Connection.recv} through the codec, `poll` -> {@linkcode Connection.poll}
 * (milliseconds, not seconds). Errors are described in `errors.ts`.
 *
 * Receives are served one at a time in call order. If a receive is
 * aborted, a message it was already reading is kept whole for the next
 * receive, so the stream never loses sync. That receive checks the
 * message's length against its own limit (`maxLength`, or
 * `maxMessageSize`), not the aborted one's: over it, it fails with the
 * same {@linkcode ProtocolError} as a fresh receive and the connection
 * becomes write-only. A length is always checked before its payload
 * buffer is allocated.
 *
 * @typeParam T The value type of `send()`/`recv()`.
 *
 * @example Over an in-memory pipe
 * ```ts
 * import { pipe } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipe();
 * await a.sendBytes(new TextEncoder().encode("hello"));
 * assert.equal(new TextDecoder().decode(await b.recvBytes()), "hello");
 * await a.close();
 * await b.close();
 * ```
 */
export class Connection<T = unknown>
  implements AsyncIterable<T>, AsyncDisposable {
  #t: ByteTransport;
  #codec: MessageCodec<T>;
  #max: number;
  #hwm: number;
  #closed = false;
  #closing: Promise<void> | null = null;
  #closeTimeout: number;

  // Receive side.
  #rbuf = new Uint8Array(READ_BUFFER_SIZE);
  /** Set when a message handed out is a view into #rbuf: never overwrite it. */
  #rbufShared = false;
  #rstart = 0;
  #rend = 0;
  #eof = false;
  #readError: unknown = null;
  #broken: ProtocolError | null = null;
  #fillP: Promise<void> | null = null;
  #directRead: Promise<void> | null = null;
  /** The message whose payload is being read, header consumed. */
  #partial: PartialMessage | null = null;
  #recvBusy = false;
  #recvWaiters: (() => void)[] = [];
  /** The pending plain receive (see #recvPlain). */
  #wResolve: ((m: Uint8Array) => void) | null = null;
  #wReject: ((e: unknown) => void) | null = null;
  #waiterMax = 0;
  /** The payload length of the message #takeBuffered took last. */
  #takenSize = 0;

  // Send side.
  #queue: WriteEntry[] = [];
  #batch: Uint8Array | null = null;
  #batchLen = 0;
  #spare: Uint8Array | null = null;
  #queued = 0;
  #writing = false;
  /** The chunk being written, its batch buffer and its sender's promise. */
  #wData: Uint8Array | null = null;
  #wBatch: Uint8Array | null = null;
  #wDone: { resolve(): void; reject(e: unknown): void } | null = null;
  #wOff = 0;
  /** The write in flight, settled after its callback ran; never rejects. */
  #writeOp: Promise<void> | null = null;
  #writeError: unknown = null;
  #drainWaiters: { resolve(): void; reject(e: unknown): void }[] = [];
  #idleWaiters: (() => void)[] = [];

  #readable: ReadableStream<T> | null = null;
  #writable: WritableStream<T> | null = null;

  /**
   * Wraps a connected transport. The handshake is not run here; see
   * {@linkcode authenticate}, {@linkcode connect} and {@linkcode Listener}.
   *
   * @param transport A `Deno.Conn` or a pair of byte streams.
   * @param options Codec, limits and buffering.
   */
  constructor(
    transport: Deno.Conn | ByteStreamPair,
    options: ConnectionOptions<T> = {},
  ) {
    // Before taking the transport: a bad option leaves its streams unlocked.
    checkNumericOptions(options, "create connection");
    if (isDenoConn(transport)) {
      this.#t = transport;
    } else if (
      transport?.readable instanceof ReadableStream &&
      transport.writable instanceof WritableStream
    ) {
      this.#t = new StreamTransport(transport);
    } else {
      throw new TypeError(
        "Cannot create connection: expected a Deno.Conn or a byte stream pair",
      );
    }
    this.#codec = options.codec ?? (DEFAULT_CODEC as MessageCodec<T>);
    this.#max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.#hwm = options.writeHighWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.#closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
  }

  /**
   * True after {@linkcode Connection.close}.
   *
   * @returns Whether the connection is closed.
   *
   * @example Usage
   * ```ts
   * import { pipe } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe();
   * await a.close();
   * assert.equal(a.closed, true);
   * await b.close();
   * ```
   */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends `buf[offset, offset + size)` as one message (Python's
   * `send_bytes`). Offsets are in bytes for every kind of view.
   *
   * @param buf The bytes (any `ArrayBufferView` or `ArrayBuffer`).
   * @param offset Where the message starts.
   * @param size The message length (default: to the end of `buf`).
   * @param options An abort signal for the wait (backpressure, large
   * writes). Aborting rejects the wait only: a message already queued is
   * still written, a large one from `buf`, so do not reuse `buf` until a
   * later send or `close()` has resolved.
   * @returns Resolves when the message is queued (small) or written (large).
   *
   * @example Usage
   * ```ts
   * import { pipe } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe();
   * await a.sendBytes(new TextEncoder().encode("abcdefghij"), 2, 3);
   * assert.equal(new TextDecoder().decode(await b.recvBytes()), "cde");
   * await a.close();
   * await b.close();
   * ```
   */
  sendBytes(
    buf: ArrayBufferView | ArrayBuffer,
    offset = 0,
    size?: number,
    options?: WaitOptions,
  ): Promise<void> {
    if (
      size === undefined && offset === 0 && options === undefined &&
      buf instanceof Uint8Array && buf.length <= COPY_LIMIT && !this.#closed &&
      this.#writeError === null
    ) {
      // Fast path for the common small message.
      this.#appendSmall(buf);
      this.#kick();
      return this.#queued <= this.#hwm ? RESOLVED : this.#waitDrain(undefined);
    }
    let bytes: Uint8Array;
    if (buf instanceof Uint8Array) bytes = buf;
    else if (ArrayBuffer.isView(buf)) {
      bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } else if (buf instanceof ArrayBuffer) bytes = new Uint8Array(buf);
    else {return Promise.reject(
        new TypeError("Cannot send bytes: expected a buffer"),
      );}
    if (!Number.isInteger(offset) || offset < 0) {
      return Promise.reject(
        new RangeError(
          `Cannot send bytes: offset ${offset} is negative or not an integer`,
        ),
      );
    }
    if (offset > bytes.length) {
      return Promise.reject(
        new RangeError(
          `Cannot send bytes: buffer length ${bytes.length} < offset ${offset}`,
        ),
      );
    }
    const n = size ?? bytes.length - offset;
    if (!Number.isInteger(n) || n < 0) {
      return Promise.reject(
        new RangeError(
          `Cannot send bytes: size ${n} is negative or not an integer`,
        ),
      );
    }
    if (offset + n > bytes.length) {
      return Promise.reject(
        new RangeError(
          `Cannot send bytes: buffer length ${bytes.length} < offset + size ${
            offset + n
          }`,
        ),
      );
    }
    if (this.#closed) {
      return Promise.reject(
        new ConnectionError("Cannot send: connection is closed"),
      );
    }
    if (this.#writeError !== null) return Promise.reject(this.#sendFailed());
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const payload = bytes.subarray(offset, offset + n);
    if (n <= COPY_LIMIT) {
      this.#appendSmall(payload);
      this.#kick();
      if (this.#queued <= this.#hwm) return RESOLVED;
      return this.#waitDrain(signal);
    }
    // Large: the header goes with the batch, the payload is written from the
    // caller's buffer; resolve when written.
    const header = encodeHeader(n);
    this.#appendRaw(header);
    this.#sealBatch();
    const done = Promise.withResolvers<void>();
    this.#queue.push({ data: payload, batch: null, done });
    this.#queued += n;
    this.#kick();
    return abortable(done.promise, signal);
  }

  /**
   * Encodes `value` with the codec and sends it as one message (Python's `send`).
   *
   * @param value The value.
   * @param options An abort signal for the wait.
   * @returns Resolves when the message is queued or written.
   *
   * @example Usage
   * ```ts
   * import { bytesCodec, pipe } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe({ codec: bytesCodec });
   * await a.send(new Uint8Array([1, 2]));
   * assert.deepEqual(await b.recv(), new Uint8Array([1, 2]));
   * await a.close();
   * await b.close();
   * ```
   */
  send(value: T, options?: WaitOptions): Promise<void> {
    let payload: Uint8Array;
    try {
      payload = this.#codec.encode(value);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.sendBytes(payload, 0, payload.length, options);
  }

  /**
   * Receives one message (Python's `recv_bytes`).
   *
   * Small messages are returned without a copy, as views into a 64 KiB read
   * buffer that is never overwritten once it has been handed out; keeping
   * one small message alive keeps that buffer alive, so `slice()` messages
   * you keep for long. Large messages are read straight into their own
   * buffer, which is fresh memory the runtime zeroes first: for a stream of
   * large messages, {@linkcode Connection.recvBytesInto} into one reused
   * buffer is about twice as fast.
   *
   * @param maxLength Refuse a longer message. As in Python the payload is
   * then left unread and the connection becomes write-only.
   * @param options An abort signal.
   * @returns The payload.
   * @throws {EOFError} The peer closed at a message boundary.
   * @throws {ProtocolError} Truncated message, bad length or over `maxLength`.
   *
   * @example Usage
   * ```ts
   * import { pipe, ProtocolError } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe();
   * await a.sendBytes(new Uint8Array(10));
   * await assert.rejects(b.recvBytes(5), ProtocolError);
   * await a.close();
   * await b.close();
   * ```
   */
  recvBytes(maxLength?: number, options?: WaitOptions): Promise<Uint8Array> {
    if (maxLength !== undefined && !(maxLength >= 0)) {
      return Promise.reject(
        new RangeError(`Cannot receive: negative maxLength ${maxLength}`),
      );
    }
    const max = maxLength ?? this.#max;
    const signal = options?.signal;
    if (signal === undefined && this.#canTakeSync()) {
      return this.#recvPlain(max);
    }
    return this.#recv(max, signal, undefined);
  }

  /**
   * Receives one message into `buf` at byte `offset` (Python's
   * `recv_bytes_into`) and returns its length.
   *
   * @param buf Where to write (any `ArrayBufferView`; offsets in bytes).
   * @param offset Where to start writing.
   * @param options An abort signal.
   * @returns The message length.
   * @throws {BufferTooShort} The message does not fit; it is consumed and
   * carried in the error.
   * @throws {ProtocolError} Truncated message or bad length. A large
   * payload is read straight into `buf`, so unlike CPython (which reads the
   * whole message first) `buf` may then hold the part that arrived.
   *
   * @example Usage
   * ```ts
   * import { BufferTooShort, pipe } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe();
   * await a.sendBytes(new Uint8Array([1, 2, 3]));
   * const buf = new Uint8Array(5);
   * assert.equal(await b.recvBytesInto(buf, 2), 3);
   * assert.deepEqual(buf, new Uint8Array([0, 0, 1, 2, 3]));
   * await a.sendBytes(new Uint8Array(9));
   * const err = await assert.rejects(b.recvBytesInto(buf), BufferTooShort);
   * await a.close();
   * await b.close();
   * ```
   */
  async recvBytesInto(
    buf: ArrayBufferView,
    offset = 0,
    options?: WaitOptions,
  ): Promise<number> {
    if (!ArrayBuffer.isView(buf)) {
      throw new TypeError(
        "Cannot receive into buffer: expected an ArrayBufferView",
      );
    }
    const view = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    if (!Number.isInteger(offset) || offset < 0) {
      throw new RangeError(
        `Cannot receive into buffer: offset ${offset} is negative or not an integer`,
      );
    }
    if (offset > view.length) {
      throw new RangeError(
        `Cannot receive into buffer: offset ${offset} is too large`,
      );
    }
    const signal = options?.signal;
    const target = view.subarray(offset);
    if (signal === undefined && this.#canTakeSync()) {
      const h = this.#completeBuffered(this.#max);
      if (h !== undefined) {
        const start = this.#consume(h);
        const msg = this.#rbuf.subarray(start, start + h.size);
        if (target.length < h.size) {
          throw new BufferTooShort(msg.slice(), target.length);
        }
        target.set(msg);
        return h.size;
      }
    }
    // Without a signal the payload is read straight into `buf`.
    const msg = await this.#recv(
      this.#max,
      signal,
      signal === undefined ? target : undefined,
    );
    if (msg.buffer === target.buffer && msg.byteOffset === target.byteOffset) {
      return msg.length;
    }
    if (view.length - offset < msg.length) {
      throw new BufferTooShort(msg, view.length - offset);
    }
    view.set(msg, offset);
    return msg.length;
  }

  /**
   * Receives one message and decodes it with the codec (Python's `recv`).
   *
   * @param options An abort signal.
   * @returns The decoded value.
   *
   * @example Usage
   * ```ts
   * import { pipe } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe(); // pickle by default, as Python's send()/recv()
   * await a.send({ task: "resize", sizes: [64, 128] });
   * assert.deepEqual(await b.recv(), { task: "resize", sizes: [64, 128] });
   * await a.close();
   * await b.close();
   * ```
   */
  recv(options?: WaitOptions): Promise<T> {
    const signal = options?.signal;
    if (signal === undefined && this.#canTakeSync()) {
      const start = this.#takeBuffered(this.#max);
      if (start >= 0) {
        try {
          return Promise.resolve(
            this.#codec.decode(this.#view(start, this.#takenSize)),
          );
        } catch (e) {
          return Promise.reject(e);
        }
      }
      if (start === -2) return Promise.reject(this.#broken);
      return this.#recvPlain(this.#max).then((m) => this.#codec.decode(m));
    }
    return this.#recv(this.#max, signal, undefined).then((m) =>
      this.#codec.decode(m)
    );
  }

  /**
   * Waits up to `timeout` milliseconds until data can be read, without
   * consuming anything (Python's `poll`, which takes seconds). True as soon
   * as any byte is buffered or the peer has closed; it does not wait for a
   * whole message, as in CPython. `poll(0)` lets the event loop turn once.
   *
   * @param timeout Milliseconds; `Infinity` waits forever; negative acts as 0.
   * @param options An abort signal.
   * @returns Whether a receive would find data or EOF.
   *
   * @example Usage
   * ```ts
   * import { pipe } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe();
   * assert.equal(await b.poll(), false);
   * await a.sendBytes(new Uint8Array(0));
   * assert.equal(await b.poll(1000), true);
   * assert.equal(await b.poll(), true); // nothing consumed
   * await a.close();
   * await b.close();
   * ```
   */
  async poll(timeout = 0, options?: WaitOptions): Promise<boolean> {
    this.#checkReadable("poll");
    const signal = options?.signal;
    if (signal?.aborted) throw signal.reason;
    const ready = (): boolean =>
      this.#rend > this.#rstart || this.#eof || this.#readError !== null ||
      // An aborted receive's message, read in full, awaits the next receive.
      (this.#partial !== null && this.#partial.filled === this.#partial.size);
    if (ready()) return true;
    let cancel: (() => void) | undefined;
    let timedOut = false;
    const timer = timeout === Infinity ? undefined : new Promise<void>((r) => {
      cancel = setLongTimeout(() => {
        timedOut = true;
        r();
      }, Math.max(0, timeout));
    });
    try {
      // A read can end without data for us (a receive reading a large
      // payload straight into its own buffer, or one that took what came):
      // wait again until there is data or the time is up.
      while (true) {
        const pending = this.#fill();
        await abortable(
          timer === undefined ? pending : Promise.race([pending, timer]),
          signal,
        );
        if (ready()) return true;
        if (timedOut) return false;
      }
    } finally {
      cancel?.();
    }
  }

  /**
   * Flushes queued messages, then closes the transport. Idempotent. Pending
   * receives reject with a {@linkcode ConnectionError}. The flush waits at
   * most `closeTimeout` (see {@linkcode ConnectionOptions}) or until
   * `options.signal` aborts; then the transport is closed anyway and the
   * sends still waiting reject with a {@linkcode ConnectionError} (a small
   * send resolves once queued, so one dropped here does not reject: only
   * the peer can tell). Over {@linkcode pipe}, the peer's next receive
   * after the messages already passed on then rejects with a
   * `ConnectionError` ("transport failed") rather than an `EOFError`.
   * Closing never rejects.
   *
   * @param options A signal that cuts the flush short.
   * @returns Resolves when closed.
   *
   * @example Usage
   * ```ts
   * import { ConnectionError, pipe } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe();
   * await a.close();
   * await a.close();
   * await assert.rejects(a.sendBytes(new Uint8Array(1)), ConnectionError);
   * await b.close();
   * ```
   */
  close(options?: WaitOptions): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closed = true;
    this.#closing = (async () => {
      let flushed = true;
      if (this.#writing || this.#queue.length > 0 || this.#batchLen > 0) {
        // Register first, in case the writer goes idle synchronously.
        const idle = new Promise<void>((r) => this.#idleWaiters.push(r));
        this.#kick();
        flushed = await flushOrGiveUp(
          idle,
          this.#closeTimeout,
          options?.signal,
        );
      }
      if (flushed) {
        try {
          this.#t.close();
        } catch {
          // Already closed by the peer side or by the runtime.
        }
      } else {
        const err = new ConnectionError(
          "Cannot send: connection closed before the message was written",
        );
        this.#discardWrites(err);
        this.#dropTransport(err);
      }
      // Let pending reads and writes finish (they fail at once): the
      // runtime releases the socket only then, so the fd is closed when
      // this resolves.
      await this.#fillP;
      await this.#directRead;
      await this.#writeOp;
    })();
    return this.#closing;
  }

  /**
   * Closes the connection (for `await using`).
   *
   * @returns Resolves when closed.
   *
   * @example Usage
   * ```ts
   * import { pipe } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe();
   * {
   *   await using _a = a;
   * }
   * assert.ok(a.closed);
   * await b.close();
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Yields decoded messages until the peer closes cleanly.
   *
   * @returns An async iterator of values.
   *
   * @example Usage
   * ```ts
   * import { pipe } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe();
   * await a.send("one");
   * await a.send(2);
   * await a.close();
   * const got = [];
   * for await (const m of b) got.push(m);
   * assert.deepEqual(got, ["one", 2]);
   * await b.close();
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      let value: T;
      try {
        value = await this.recv();
      } catch (e) {
        if (e instanceof EOFError) return;
        throw e;
      }
      yield value;
    }
  }

  /**
   * A stream of decoded received messages; it closes when the peer closes
   * cleanly and cancelling it closes the connection.
   *
   * @returns The readable stream (the same one on every call).
   *
   * @example Usage
   * ```ts
   * import { bytesCodec, pipe } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe({ codec: bytesCodec });
   * const writer = a.writable.getWriter();
   * await writer.write(new Uint8Array([1, 2]));
   * await writer.close();
   * assert.deepEqual(await Array.fromAsync(b.readable), [new Uint8Array([1, 2])]);
   * await b.close();
   * ```
   */
  get readable(): ReadableStream<T> {
    this.#readable ??= new ReadableStream<T>({
      pull: async (controller) => {
        try {
          controller.enqueue(await this.recv());
        } catch (e) {
          if (e instanceof EOFError) controller.close();
          else controller.error(e);
        }
      },
      cancel: () => this.close(),
    }, { highWaterMark: 0 });
    return this.#readable;
  }

  /**
   * A stream that sends each written value with {@linkcode Connection.send};
   * closing it closes the connection (flushing first, as
   * {@linkcode Connection.close}).
   *
   * Aborting it (`writer.abort(reason)`) does not flush: messages not yet
   * written are discarded, the transport is closed at once (a peer that
   * stopped reading cannot make it hang) and the connection is closed. The
   * sends it discarded that were still waiting reject with a
   * {@linkcode ConnectionError} whose `cause` is `reason` (small sends
   * resolve once queued, so a discarded one does not reject; the stream's
   * own pending writes reject with `reason`). Over {@linkcode pipe}, the
   * peer's next receive after the messages already passed on rejects with
   * a `ConnectionError` ("transport failed") rather than an `EOFError`.
   * Later sends, receives and polls reject with a
   * {@linkcode ConnectionError} ("connection is closed"), and pending
   * receives reject with one too.
   *
   * @returns The writable stream (the same one on every call).
   *
   * @example Usage
   * ```ts
   * import { bytesCodec, pipe } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe({ codec: bytesCodec });
   * const writer = a.writable.getWriter();
   * await writer.write(new Uint8Array([9]));
   * assert.deepEqual(await b.recvBytes(), new Uint8Array([9]));
   * await writer.close();
   * await b.close();
   * ```
   *
   * @example Aborting discards what is not written yet
   * ```ts
   * import { bytesCodec, ConnectionError, pipe } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe({ codec: bytesCodec });
   * const writer = a.writable.getWriter();
   * await writer.abort(new Error("no longer needed"));
   * assert.equal(a.closed, true);
   * await assert.rejects(a.sendBytes(new Uint8Array(1)), ConnectionError);
   * await b.close();
   * ```
   */
  get writable(): WritableStream<T> {
    this.#writable ??= new WritableStream<T>({
      // The signal lets abort() end a write waiting on backpressure: the
      // stream calls the sink's abort only once the write in flight ends.
      write: (value, controller) =>
        this.send(value, { signal: controller.signal }),
      close: () => this.close(),
      abort: (reason) => this.#abort(reason),
    });
    return this.#writable;
  }

  // ---------------------------------------------------------------- receive

  #checkReadable(action: string): void {
    if (this.#closed) {
      throw new ConnectionError(`Cannot ${action}: connection is closed`);
    }
    if (this.#broken !== null) {
      throw new ConnectionError(
        `Cannot ${action}: connection is write-only after a protocol error`,
        { cause: this.#broken },
      );
    }
  }

  /** True when a receive may complete synchronously from the buffer. */
  #canTakeSync(): boolean {
    return !this.#recvBusy && this.#partial === null && !this.#closed &&
      this.#broken === null;
  }

  /**
   * The header of a message that is completely buffered and within `max`;
   * undefined otherwise (the slow path then reads or raises).
   */
  #completeBuffered(
    max: number,
  ): { size: number; headerLength: number } | undefined {
    let h;
    try {
      h = decodeHeader(this.#rbuf, this.#rstart, this.#rend);
    } catch (e) {
      throw this.#breakWith(e as ProtocolError);
    }
    if (h === undefined || h.size > max) return undefined;
    if (this.#rend - this.#rstart - h.headerLength < h.size) return undefined;
    return h;
  }

  /**
   * Takes a completely buffered message within `max`: returns where its
   * payload starts (its length in #takenSize), -1 if there is none, or -2
   * if the header is malformed (the connection is then broken).
   */
  #takeBuffered(max: number): number {
    const b = this.#rbuf;
    const s = this.#rstart;
    const avail = this.#rend - s;
    if (avail < 4) return -1;
    const size =
      (b[s]! << 24 | b[s + 1]! << 16 | b[s + 2]! << 8 | b[s + 3]!) >>>
      0;
    if (size <= 0x7fffffff) {
      if (size > max || avail - 4 < size) return -1;
      this.#rstart = s + 4 + size;
      this.#takenSize = size;
      return s + 4;
    }
    let h;
    try {
      h = this.#completeBuffered(max);
    } catch {
      return -2;
    }
    if (h === undefined) return -1;
    this.#takenSize = h.size;
    return this.#consume(h);
  }

  /**
   * A receive without a signal or target buffer when no other receive is
   * queued: served from the buffer at once, or by callbacks on the read
   * (no async function or extra promise per message on the hot path).
   */
  #recvPlain(max: number): Promise<Uint8Array> {
    const start = this.#takeBuffered(max);
    if (start >= 0) return Promise.resolve(this.#view(start, this.#takenSize));
    if (start === -2) return Promise.reject(this.#broken);
    this.#recvBusy = true;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#wResolve = resolve;
      this.#wReject = reject;
      this.#waiterMax = max;
      this.#waitMore();
    });
  }

  /** After a read: completes the pending plain receive, or reads on. */
  #serveWaiter(): void {
    const start = this.#takeBuffered(this.#waiterMax);
    if (start >= 0) {
      const resolve = this.#wResolve!;
      this.#wResolve = this.#wReject = null;
      this.#passTurn();
      resolve(this.#view(start, this.#takenSize));
    } else if (start === -1) {
      this.#waitMore();
    } else {
      this.#waitGeneral();
    }
  }

  /** No complete message is buffered: read more, or take the general path. */
  #waitMore(): void {
    if (
      this.#rend - this.#rstart < 4 && !this.#eof &&
      this.#readError === null && !this.#closed
    ) {
      // Header incomplete: read; #onRead calls #serveWaiter.
      this.#fill();
      if (this.#fillP !== null) return;
    }
    this.#waitGeneral();
  }

  /**
   * Hands the pending plain receive to the general path (partial or large
   * message, EOF, errors), which keeps the receive turn until it is done.
   */
  #waitGeneral(): void {
    const resolve = this.#wResolve!;
    const reject = this.#wReject!;
    this.#wResolve = this.#wReject = null;
    this.#readMessage(this.#waiterMax, undefined, undefined).then((m) => {
      this.#passTurn();
      resolve(m);
    }, (e) => {
      this.#passTurn();
      reject(e);
    });
  }

  /** Hands the receive turn to the next queued receive, or frees it. */
  #passTurn(): void {
    const next = this.#recvWaiters.shift();
    if (next !== undefined) next();
    else this.#recvBusy = false;
  }

  async #recv(
    max: number,
    signal: AbortSignal | undefined,
    into: Uint8Array | undefined,
  ): Promise<Uint8Array> {
    this.#checkReadable("receive");
    if (signal?.aborted) throw signal.reason;
    if (this.#recvBusy) await this.#waitTurn(signal);
    else this.#recvBusy = true;
    try {
      this.#checkReadable("receive");
      if (signal === undefined && this.#partial === null) {
        // Hot path: a message that arrives whole in one read.
        while (true) {
          const h = this.#completeBuffered(max);
          if (h !== undefined) {
            const start = this.#consume(h);
            if (into === undefined || into.length < h.size) {
              return this.#view(start, h.size);
            }
            const out = into.subarray(0, h.size);
            out.set(this.#rbuf.subarray(start, start + h.size));
            return out;
          }
          if (
            this.#rend - this.#rstart >= 4 || this.#eof || this.#closed ||
            this.#readError !== null
          ) break;
          await this.#fill();
        }
      }
      return await this.#readMessage(max, into, signal);
    } finally {
      this.#passTurn();
    }
  }

  #waitTurn(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const i = this.#recvWaiters.indexOf(turn);
        if (i >= 0) this.#recvWaiters.splice(i, 1);
        reject(signal!.reason);
      };
      this.#recvWaiters.push(turn);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Starts (or joins) one read into the buffer. Never rejects. */
  #fill(): Promise<void> {
    if (this.#fillP !== null) return this.#fillP;
    // A receive is reading a large payload straight into its own buffer:
    // never read concurrently (poll() can get here), wait for it instead.
    if (this.#directRead !== null) return this.#directRead.then(() => {});
    try {
      const left = this.#rend - this.#rstart;
      if (left === 0 && !this.#rbufShared) {
        this.#rstart = this.#rend = 0;
      } else if (this.#rbuf.length - this.#rend < 4096) {
        if (this.#rbufShared || left > this.#rbuf.length - 4096) {
          // Handed-out messages are views into the old buffer (or it is too
          // small): continue in a new one.
          const fresh = new Uint8Array(Math.max(READ_BUFFER_SIZE, left * 2));
          fresh.set(this.#rbuf.subarray(this.#rstart, this.#rend));
          this.#rbuf = fresh;
          this.#rbufShared = false;
        } else {
          this.#rbuf.copyWithin(0, this.#rstart, this.#rend);
        }
        this.#rstart = 0;
        this.#rend = left;
      }
      this.#fillP = this.#t.read(this.#rbuf.subarray(this.#rend)).then(
        this.#onRead,
        this.#onReadFailed,
      );
    } catch (e) {
      this.#onReadError(e);
      return RESOLVED;
    }
    return this.#fillP;
  }

  #onRead = (n: number | null): void => {
    this.#fillP = null;
    if (n === null) this.#eof = true;
    else this.#rend += n;
    if (this.#wResolve !== null) this.#serveWaiter();
  };

  #onReadFailed = (e: unknown): void => {
    this.#fillP = null;
    this.#onReadError(e);
    if (this.#wResolve !== null) this.#serveWaiter();
  };

  #onReadError(e: unknown): void {
    if (
      e instanceof Deno.errors.ConnectionReset ||
      e instanceof Deno.errors.BrokenPipe
    ) {
      // CPython's close() resets the socket when unread data is left: EOF.
      this.#eof = true;
    } else {
      this.#readError = e;
    }
  }

  #throwReadState(): never {
    if (this.#closed) {
      throw new ConnectionError("Cannot receive: connection is closed");
    }
    throw new ConnectionError("Cannot receive: transport failed", {
      cause: this.#readError,
    });
  }

  /**
   * Reads one message for the receive that holds the turn. Aborting it
   * (through `signal`) loses nothing: a header stays buffered until a
   * receive checks it, and a payload being read stays in #partial (with any
   * read still under way), so the next receive continues it after checking
   * its size against its own `max`, as a fresh receive would. `into` is
   * used only without a signal: an aborted receive must not leave a read
   * going into its caller's buffer.
   */
  async #readMessage(
    max: number,
    into: Uint8Array | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    let p = this.#partial;
    if (p === null) {
      // Header.
      let header;
      while (true) {
        try {
          header = decodeHeader(this.#rbuf, this.#rstart, this.#rend);
        } catch (e) {
          throw this.#breakWith(e as ProtocolError);
        }
        if (header !== undefined) break;
        if (this.#readError !== null || this.#closed) this.#throwReadState();
        if (this.#eof) {
          const have = this.#rend - this.#rstart;
          if (have === 0) throw new EOFError();
          throw this.#breakWith(
            new ProtocolError(
              `Cannot receive: connection closed inside a message header after ${have} bytes`,
            ),
          );
        }
        await abortable(this.#fill(), signal);
      }
      const size = header.size;
      if (size > max) throw this.#tooLarge(size, max);
      this.#rstart += header.headerLength;
      const have = this.#rend - this.#rstart;
      const target = signal === undefined && into !== undefined &&
          into.length >= size
        ? into.subarray(0, size)
        : undefined;
      if (have >= size) {
        const start = this.#rstart;
        this.#rstart += size;
        if (target === undefined) return this.#view(start, size);
        target.set(this.#rbuf.subarray(start, start + size));
        return target;
      }
      const out = target ?? new Uint8Array(size);
      out.set(this.#rbuf.subarray(this.#rstart, this.#rend), 0);
      // Consumed; #fill() decides whether the space can be reused (never
      // while a message handed out as a view still points into it).
      this.#rstart = this.#rend;
      p = this.#partial = { size, out, filled: have };
    } else if (p.size > max) {
      // An aborted receive's message, over this receive's limit.
      this.#partial = null;
      throw this.#tooLarge(p.size, max);
    }
    // Payload.
    while (p.filled < p.size) {
      const buffered = this.#rend - this.#rstart;
      if (buffered > 0) {
        const take = Math.min(p.size - p.filled, buffered);
        p.out.set(
          this.#rbuf.subarray(this.#rstart, this.#rstart + take),
          p.filled,
        );
        this.#rstart += take;
        p.filled += take;
        continue;
      }
      if (this.#eof || this.#readError !== null || this.#closed) {
        this.#partial = null;
        if (this.#readError !== null || this.#closed) this.#throwReadState();
        throw this.#breakWith(
          new ProtocolError(
            `Cannot receive: connection closed after ${p.filled} of ${p.size} payload bytes`,
          ),
        );
      }
      // A small remainder is read through the buffer, so that the next
      // messages' bytes are kept; a large one straight into `out`.
      await abortable(
        p.size - p.filled < this.#rbuf.length / 2 || this.#fillP !== null
          ? this.#fill()
          : this.#readDirect(p),
        signal,
      );
    }
    this.#partial = null;
    return p.out;
  }

  /**
   * Starts (or joins) one read straight into the partial message's buffer.
   * It counts what it read into `p` itself, so a read that an aborted
   * receive started still serves the next one. Never rejects.
   */
  #readDirect(p: PartialMessage): Promise<void> {
    if (this.#directRead !== null) return this.#directRead;
    let op: Promise<number | null>;
    try {
      op = this.#t.read(p.out.subarray(p.filled));
    } catch (e) {
      this.#onReadError(e);
      return RESOLVED;
    }
    const read = op.then((n) => {
      if (n === null) this.#eof = true;
      else p.filled += n;
    }, (e) => this.#onReadError(e)).finally(() => {
      this.#directRead = null;
    });
    this.#directRead = read;
    return read;
  }

  #tooLarge(size: number, max: number): ProtocolError {
    return this.#breakWith(
      new ProtocolError(
        `Cannot receive: message length ${size} exceeds the maximum of ${max} bytes`,
      ),
    );
  }

  /** Consumes a completely buffered message; returns where its payload starts. */
  #consume(h: { size: number; headerLength: number }): number {
    const start = this.#rstart + h.headerLength;
    this.#rstart = start + h.size;
    return start;
  }

  /** A view of a buffered payload; the buffer is then never reused. */
  #view(start: number, size: number): Uint8Array {
    this.#rbufShared = true;
    return new Uint8Array(
      this.#rbuf.buffer,
      this.#rbuf.byteOffset + start,
      size,
    );
  }

  #breakWith(e: ProtocolError): ProtocolError {
    this.#broken = e;
    return e;
  }

  // ------------------------------------------------------------------- send

  #appendSmall(payload: Uint8Array): void {
    const n = payload.length;
    const need = n + 4;
    const b = this.#batchWithRoom(need);
    let o = this.#batchLen;
    b[o] = n >>> 24;
    b[o + 1] = (n >>> 16) & 0xff;
    b[o + 2] = (n >>> 8) & 0xff;
    b[o + 3] = n & 0xff;
    o += 4;
    if (n <= 32) {
      for (let i = 0; i < n; i++) b[o + i] = payload[i]!;
    } else {
      b.set(payload, o);
    }
    this.#batchLen = o + n;
    this.#queued += need;
  }

  #appendRaw(bytes: Uint8Array): void {
    this.#batchWithRoom(bytes.length).set(bytes, this.#batchLen);
    this.#batchLen += bytes.length;
    this.#queued += bytes.length;
  }

  /** The open batch, sealed and replaced first if `need` bytes do not fit. */
  #batchWithRoom(need: number): Uint8Array {
    if (this.#batch === null || this.#batch.length - this.#batchLen < need) {
      this.#sealBatch();
      this.#batch = this.#spare ?? new Uint8Array(BATCH_SIZE);
      this.#spare = null;
    }
    return this.#batch;
  }

  #sealBatch(): void {
    if (this.#batch === null || this.#batchLen === 0) return;
    this.#queue.push({
      data: this.#batch.subarray(0, this.#batchLen),
      batch: this.#batch,
      done: null,
    });
    this.#batch = null;
    this.#batchLen = 0;
  }

  #kick(): void {
    if (!this.#writing) this.#writeNext();
  }

  /**
   * Starts writing the oldest queued chunk (the current batch last), or
   * goes idle. Plain callbacks rather than an async loop: no promise chain
   * per send on the hot path.
   */
  #writeNext(): void {
    const entry = this.#queue.length > 0 ? this.#queue.shift() : undefined;
    if (entry !== undefined) {
      this.#wData = entry.data;
      this.#wBatch = entry.batch;
      this.#wDone = entry.done;
    } else if (this.#batchLen > 0) {
      const batch = this.#batch!;
      this.#wData = batch.subarray(0, this.#batchLen);
      this.#wBatch = batch;
      this.#wDone = null;
      this.#batch = null;
      this.#batchLen = 0;
    } else {
      this.#writing = false;
      if (this.#idleWaiters.length > 0) {
        for (const w of this.#idleWaiters.splice(0)) w();
      }
      return;
    }
    this.#writing = true;
    this.#wOff = 0;
    this.#issueWrite(this.#wData);
  }

  #issueWrite(data: Uint8Array): void {
    let op: Promise<number>;
    try {
      op = this.#t.write(data);
    } catch (e) {
      this.#onWriteFailed(e);
      return;
    }
    this.#writeOp = op.then(this.#onWritten, this.#onWriteFailed);
  }

  #onWritten = (n: number): void => {
    const data = this.#wData;
    if (data === null) return; // Discarded by #discardWrites.
    this.#wOff += n;
    if (this.#wOff < data.length) {
      this.#issueWrite(data.subarray(this.#wOff));
      return;
    }
    this.#queued -= data.length;
    const batch = this.#wBatch;
    if (batch !== null && batch.length === BATCH_SIZE) this.#spare = batch;
    const done = this.#wDone;
    this.#wData = this.#wBatch = this.#wDone = null;
    done?.resolve();
    if (this.#queued <= this.#hwm && this.#drainWaiters.length > 0) {
      for (const w of this.#drainWaiters.splice(0)) w.resolve();
    }
    this.#writeNext();
  };

  #onWriteFailed = (e: unknown): void => {
    // After #discardWrites, the error it set stays.
    this.#writeError ??= e;
    this.#discardWrites(this.#sendFailed());
  };

  /**
   * Rejects every message not written yet with `err` (also the error of
   * later sends) and stops writing. A write in flight is forgotten: it ends
   * when the transport closes.
   */
  #discardWrites(err: ConnectionError): void {
    this.#writeError ??= err;
    const done = this.#wDone;
    this.#wData = this.#wBatch = this.#wDone = null;
    done?.reject(err);
    for (const entry of this.#queue.splice(0)) entry.done?.reject(err);
    this.#batch = null;
    this.#batchLen = 0;
    this.#queued = 0;
    for (const w of this.#drainWaiters.splice(0)) w.reject(err);
    this.#writing = false;
    if (this.#idleWaiters.length > 0) {
      for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  /** Closes the transport without flushing (a stream pair's writable is aborted). */
  #dropTransport(reason: unknown): void {
    try {
      if (this.#t instanceof StreamTransport) this.#t.abort(reason);
      else this.#t.close();
    } catch {
      // Already closed by the peer side or by the runtime.
    }
  }

  /**
   * `writable.abort(reason)`: discards what is not written yet, closes the
   * transport at once and closes the connection.
   */
  #abort(reason: unknown): Promise<void> {
    this.#closed = true;
    this.#discardWrites(
      new ConnectionError("Cannot send: the writable stream was aborted", {
        cause: reason,
      }),
    );
    this.#dropTransport(reason);
    // Joins a close() under way (its flush just ended) or closes.
    return this.close();
  }

  #sendFailed(): ConnectionError {
    if (this.#writeError instanceof ConnectionError) return this.#writeError;
    return new ConnectionError("Cannot send: transport failed", {
      cause: this.#writeError,
    });
  }

  #waitDrain(signal: AbortSignal | undefined): Promise<void> {
    const d = Promise.withResolvers<void>();
    this.#drainWaiters.push(d);
    return abortable(d.promise, signal);
  }
}

/**
 * Creates two connected in-memory connections, like Python's
 * `multiprocessing.Pipe()` (duplex). Useful for tests and examples.
 *
 * @typeParam T The value type of `send()`/`recv()`.
 * @param options Options for both ends.
 * @returns The two ends.
 *
 * @example Usage
 * ```ts
 * import { pipe } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipe();
 * await b.sendBytes(new Uint8Array([1]));
 * assert.deepEqual(await a.recvBytes(), new Uint8Array([1]));
 * await a.close();
 * await b.close();
 * ```
 */
export function pipe<T = unknown>(
  options: ConnectionOptions<T> = {},
): [Connection<T>, Connection<T>] {
  // Buffer up to 1 MiB in each direction, like a socket's kernel buffers.
  const strategy = (): QueuingStrategy<Uint8Array> => ({
    highWaterMark: 1024 * 1024,
    size: (chunk) => chunk.byteLength,
  });
  const ab = new TransformStream<Uint8Array, Uint8Array>(
    {},
    strategy(),
    strategy(),
  );
  const ba = new TransformStream<Uint8Array, Uint8Array>(
    {},
    strategy(),
    strategy(),
  );
  return [
    new Connection<T>(
      { readable: ba.readable, writable: ab.writable },
      options,
    ),
    new Connection<T>(
      { readable: ab.readable, writable: ba.writable },
      options,
    ),
  ];
}

/**
 * Waits for `flushed`, at most `timeout` ms or until `signal` aborts; never
 * rejects (closing goes on either way). Resolves to whether it flushed.
 */
async function flushOrGiveUp(
  flushed: Promise<void>,
  timeout: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  if (signal?.aborted) return false;
  let done!: () => void;
  const gaveUp = new Promise<false>((r) => done = () => r(false));
  const cancelTimer = timeout === Infinity
    ? () => {}
    : setLongTimeout(done, timeout);
  signal?.addEventListener("abort", done, { once: true });
  try {
    return await Promise.race([flushed.then(() => true), gaveUp]);
  } finally {
    cancelTimer();
    signal?.removeEventListener("abort", done);
  }
}
