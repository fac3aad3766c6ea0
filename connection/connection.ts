// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `Connection`: a message connection compatible with CPython's
 * `multiprocessing.connection.Connection`. Its receives are served by
 * `_receiver.ts` (which reads the socket) from the buffer of
 * `_read_buffer.ts` (which parses the bytes); its sends are framed by
 * `_sender.ts` onto the package's write queue (which writes the socket).
 *
 * @module
 */
import type { MessageCodec } from "./codec.ts";
import type {
  ByteStreamPair,
  ConnectionOptions,
  WaitOptions,
} from "./connection_options.ts";
import { EOFError } from "./errors.ts";
import { DEFAULT_MAX_MESSAGE_SIZE } from "./message_codec.ts";
import { pickleCodec } from "./pickle.ts";
import { checkNumericOptions } from "./_options.ts";
import { Receiver } from "./_receiver.ts";
import { COPY_LIMIT, Sender } from "./_sender.ts";
import {
  type ByteTransport,
  closeTransport,
  dropTransport,
  isDenoConn,
  StreamTransport,
} from "./_transport.ts";

export type {
  ByteStreamPair,
  ConnectionOptions,
  WaitOptions,
} from "./connection_options.ts";

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
const DEFAULT_CLOSE_TIMEOUT = 10_000;
/** Pickle protocol 4, what CPython 3.8-3.13 `send()`. */
const DEFAULT_CODEC: MessageCodec<unknown> = pickleCodec();

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
 * `sendBytes()` waits. `close()` flushes the queue first. `send()` of a
 * value holding a `bytes`/`bytearray` of 64 KiB or more (with the default
 * pickle codec, or any codec with `encodeChunks`) writes that payload from
 * the value's memory, without a copy, and resolves once it is written.
 *
 * Python mapping: `send_bytes` -> {@linkcode Connection.sendBytes},
 * `recv_bytes` -> {@linkcode Connection.recvBytes}, `recv_bytes_into` ->
 * {@linkcode Connection.recvBytesInto}, `send`/`recv` -> {@linkcode Connection.send} /
 * {@linkcode Connection.recv} through the codec, `poll` -> {@linkcode Connection.poll}
 * (milliseconds, not seconds). Errors are described in `errors.ts`; each
 * carries a stable `code` (`CONNECTION_CLOSED`, `WRITE_ONLY`, `EOF`, ...).
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
  #closed = false;
  #closing: Promise<void> | null = null;
  #closeTimeout: number;
  #receiver: Receiver;
  #sender: Sender;
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
    this.#closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    this.#receiver = new Receiver(this.#t);
    this.#sender = new Sender(
      this.#t,
      options.writeHighWaterMark ?? DEFAULT_HIGH_WATER_MARK,
    );
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
      buf instanceof Uint8Array && buf.length <= COPY_LIMIT &&
      this.#sender.open
    ) {
      // The common small message.
      return this.#sender.sendSmall(buf);
    }
    return this.#sender.sendBytes(buf, offset, size, options?.signal);
  }

  /**
   * Encodes `value` with the codec and sends it as one message (Python's
   * `send`). With a codec that has `encodeChunks` (the default pickle
   * codec has), large parts of the payload that are views of the value's
   * memory, such as a `bytes` payload of 64 KiB or more, are written from
   * that memory without a copy: the value must then not change until the
   * returned promise resolves.
   *
   * @param value The value.
   * @param options An abort signal for the wait.
   * @returns Resolves when the message is queued (small) or written.
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
    const codec = this.#codec;
    let payload: Uint8Array;
    try {
      if (codec.encodeChunks === undefined) {
        payload = codec.encode(value);
      } else {
        const chunks = codec.encodeChunks(value);
        if (chunks.length !== 1) {
          return this.#sender.sendChunks(chunks, options?.signal);
        }
        payload = chunks[0]!;
      }
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
    return this.#receiver.receive(maxLength ?? this.#max, options?.signal);
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
   * await assert.rejects(b.recvBytesInto(buf), BufferTooShort);
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
    return await this.#receiver.receiveInto(
      this.#max,
      options?.signal,
      view.subarray(offset),
    );
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
    return this.#receiver.receiveValue(
      this.#max,
      options?.signal,
      this.#decode,
    );
  }

  #decode = (bytes: Uint8Array): T => this.#codec.decode(bytes);

  /**
   * Waits up to `timeout` milliseconds until data can be read, without
   * consuming anything (Python's `poll`, which takes seconds). True as soon
   * as any byte is buffered or the peer has closed; it does not wait for a
   * whole message, as in CPython. `poll(0)` lets the event loop turn once.
   *
   * @param timeout Milliseconds; `Infinity` waits forever; negative acts as
   * 0; NaN is a `RangeError`.
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
  poll(timeout = 0, options?: WaitOptions): Promise<boolean> {
    return this.#receiver.poll(timeout, options?.signal);
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
    this.#receiver.close();
    this.#sender.close();
    this.#closing = (async () => {
      const flushed = await this.#sender.flush(
        this.#closeTimeout,
        options?.signal,
      );
      if (flushed) {
        closeTransport(this.#t);
      } else {
        dropTransport(
          this.#t,
          this.#sender.discard(
            "Cannot send: connection closed before the message was written",
          ),
        );
      }
      // Let pending reads and writes finish (they fail at once): the
      // runtime releases the socket only then, so the fd is closed when
      // this resolves.
      await this.#receiver.settled;
      await this.#sender.settled;
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

  /**
   * `writable.abort(reason)`: discards what is not written yet, closes the
   * transport at once and closes the connection.
   */
  #abort(reason: unknown): Promise<void> {
    this.#closed = true;
    this.#receiver.close();
    this.#sender.close();
    this.#sender.discard(
      "Cannot send: the writable stream was aborted",
      reason,
    );
    dropTransport(this.#t, reason);
    // Joins a close() under way (its flush just ended) or closes.
    return this.close();
  }
}
