// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The one coalescing write queue of the package. Bytes queued while a
 * write is in flight go out together in the next write; small chunks are
 * copied into 64 KiB batch buffers as they are queued (the caller may
 * reuse its memory at once), large ones are written from the caller's
 * memory; a batch that is mostly empty when it is sealed or written is
 * copied out instead of being held whole, so a queue holds about the bytes
 * queued, not a 64 KiB buffer per small write. Queued bytes are counted:
 * past `highWaterMark`, {@linkcode WriteQueue.push} reports it and
 * {@linkcode WriteQueue.ready} waits (backpressure). The first failed write fails everything queued and
 * everything queued later.
 *
 * Writing runs on plain callbacks, not an async loop, so a queued chunk
 * costs no promise unless its caller asks for one.
 *
 * @module
 */

import { race } from "./abort.ts";

/** `Promise.withResolvers()`, which Node 20 lacks (the framing server runs there too). */
function resolvers<T>(): PromiseWithResolvers<T> {
  let resolve!: (value: T | PromiseLike<T>) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Where a {@linkcode WriteQueue}'s bytes go: `Deno.Conn` is one. */
export interface ByteSink {
  /**
   * Writes some of `p` (at least one byte unless `p` is empty) and
   * resolves with how many.
   */
  write(p: Uint8Array): Promise<number>;
}

/**
 * A {@linkcode ByteSink} over a stream writer. A stream may keep the
 * chunks it is given (a `TransformStream` hands them on as they are), so a
 * queue over it must be made with `sinkKeepsChunks: true`.
 *
 * @param writer The stream's writer.
 * @returns The sink.
 */
export function streamSink(
  writer: WritableStreamDefaultWriter<Uint8Array>,
): ByteSink {
  return {
    write: (p) => writer.write(p).then(() => p.length),
  };
}

/** Options of {@linkcode WriteQueue}. */
export interface WriteQueueOptions {
  /**
   * Queued bytes above which `push()` returns false and `ready()` waits.
   * @default {1048576}
   */
  highWaterMark?: number;
  /**
   * Chunks of at most this many bytes are copied when queued; larger ones
   * are written from the caller's memory.
   * @default {16384}
   */
  copyLimit?: number;
  /**
   * Whether the sink may keep a chunk after its write resolved (a stream
   * does): batch buffers are then never reused.
   * @default {false}
   */
  sinkKeepsChunks?: boolean;
  /**
   * Maps the sink's error to the error that queued and later writes
   * reject with.
   * @default {undefined}
   */
  mapError?: (error: unknown) => unknown;
  /**
   * Called once, with the mapped error, when a write fails.
   * @default {undefined}
   */
  onError?: (error: unknown) => void;
}

/** The batch buffer size; also the most that one `reserve()` may ask. */
export const BATCH_SIZE = 64 * 1024;
const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
/**
 * A batch holding fewer bytes than this is copied out rather than handed
 * on whole, so memory held stays within about twice the bytes queued.
 */
const SMALL_BATCH = BATCH_SIZE / 2;
/**
 * The default `copyLimit`: chunks of at most this many bytes are copied
 * when queued.
 */
export const DEFAULT_COPY_LIMIT = 16 * 1024;

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

interface Entry {
  data: Uint8Array;
  /** The batch buffer `data` is a region of, to reuse after the write. */
  batch: Uint8Array | null;
  /** Settled when `data` is written (null: nobody asked). */
  done: Waiter | null;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** A coalescing, bounded write queue over a {@linkcode ByteSink}. */
export class WriteQueue {
  #sink: ByteSink;
  #hwm: number;
  #copyLimit: number;
  #reuse: boolean;
  #mapError: ((error: unknown) => unknown) | undefined;
  #onError: ((error: unknown) => void) | undefined;

  /** Sealed entries, oldest first, from #head on. */
  #entries: Entry[] = [];
  #head = 0;
  /** The open batch (its bytes [0, #batchLen) are queued). */
  #batch: Uint8Array | null = null;
  #batchLen = 0;
  /**
   * Written batches kept for reuse: two, so that a batch being written and
   * one being filled never need a fresh one.
   */
  #spares: Uint8Array[] = [];
  #size = 0;

  #writing = false;
  #corked = false;
  #wData: Uint8Array | null = null;
  #wBatch: Uint8Array | null = null;
  #wDone: Waiter | null = null;
  #wOff = 0;
  #writeOp: Promise<void> = RESOLVED;
  #error: unknown = undefined;
  #failed = false;
  #readyWaiters: Waiter[] = [];
  #idleWaiters: Waiter[] = [];

  /**
   * @param sink Where the bytes go.
   * @param options Bounds, copying, and error handling.
   */
  constructor(sink: ByteSink, options: WriteQueueOptions = {}) {
    this.#sink = sink;
    this.#hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.#copyLimit = Math.min(
      options.copyLimit ?? DEFAULT_COPY_LIMIT,
      BATCH_SIZE,
    );
    this.#reuse = options.sinkKeepsChunks !== true;
    this.#mapError = options.mapError;
    this.#onError = options.onError;
  }

  /** Bytes queued and not yet written. */
  get size(): number {
    return this.#size;
  }

  /** Whether `size` is over the high-water mark. */
  get full(): boolean {
    return this.#size > this.#hwm;
  }

  /** Whether a write is in flight or bytes are queued. */
  get busy(): boolean {
    return this.#writing || this.#head < this.#entries.length ||
      this.#batchLen > 0;
  }

  /** Whether a write failed or {@linkcode WriteQueue.discard} was called. */
  get failed(): boolean {
    return this.#failed;
  }

  /** The error queued writes were failed with, once one was. */
  get error(): unknown {
    return this.#error;
  }

  /**
   * Settles (never rejects) once the write in flight, if any, has ended:
   * after `discard()`, when the sink has let go of the last chunk.
   */
  get settled(): Promise<void> {
    return this.#writeOp;
  }

  /**
   * Queues `bytes`: copied now if small, otherwise written from `bytes`
   * (which must then not change until {@linkcode WriteQueue.flush}
   * resolves). Writing starts at once if the sink is idle.
   *
   * @param bytes The bytes.
   * @returns False when the queue is over its high-water mark (or failed):
   * wait for {@linkcode WriteQueue.ready} before queuing more.
   */
  push(bytes: Uint8Array): boolean {
    if (this.#failed) return false;
    const n = bytes.length;
    if (n <= this.#copyLimit) {
      if (n === 0) return this.#size <= this.#hwm;
      const b = this.#room(n);
      const o = this.#batchLen;
      if (n <= 32) { for (let i = 0; i < n; i++) b[o + i] = bytes[i]!; }
      else b.set(bytes, o);
      this.#batchLen = o + n;
      this.#size += n;
    } else {
      this.#seal();
      this.#entries.push({ data: bytes, batch: null, done: null });
      this.#size += n;
    }
    if (!this.#writing && !this.#corked) this.#writeNext();
    return this.#size <= this.#hwm;
  }

  /**
   * Queues `bytes` without copying and resolves once they are written
   * (an empty array resolves once everything queued before it is).
   *
   * @param bytes The bytes; they must not change until written.
   * @returns Resolves when written; rejects with the queue's error.
   */
  write(bytes: Uint8Array): Promise<void> {
    if (this.#failed) return Promise.reject(this.#error);
    this.#seal();
    const done = resolvers<void>();
    this.#entries.push({ data: bytes, batch: null, done });
    this.#size += bytes.length;
    if (!this.#writing && !this.#corked) this.#writeNext();
    return done.promise;
  }

  /**
   * Makes room for `n` bytes in the open batch, to be encoded in place:
   * the caller fills `buffer[offset, offset + n)` before it yields to the
   * event loop. The bytes count as queued at once. Writing starts on the
   * next call that queues, or on {@linkcode WriteQueue.kick}.
   *
   * @param n How many bytes (at most 64 KiB).
   * @returns Where to write them: the open batch's offset; the buffer is
   * {@linkcode WriteQueue.buffer}.
   */
  reserve(n: number): number {
    if (n > BATCH_SIZE) {
      throw new RangeError(
        `Cannot reserve ${n} bytes: at most ${BATCH_SIZE} at once`,
      );
    }
    this.#room(n);
    const o = this.#batchLen;
    this.#batchLen = o + n;
    this.#size += n;
    return o;
  }

  /** The open batch buffer that {@linkcode WriteQueue.reserve} points into. */
  get buffer(): Uint8Array {
    return this.#batch!;
  }

  /** Starts writing what `reserve()` queued, if the sink is idle. */
  kick(): void {
    if (!this.#writing && !this.#failed && !this.#corked) this.#writeNext();
  }

  /**
   * Holds what is queued from now on instead of writing it (for output
   * deferred to a later moment): bytes are queued and counted as usual,
   * but no write starts until {@linkcode WriteQueue.uncork}. A write in
   * flight goes on.
   */
  cork(): void {
    this.#corked = true;
  }

  /** Starts writing what {@linkcode WriteQueue.cork} held. */
  uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.kick();
  }

  /** Whether the queue holds its bytes ({@linkcode WriteQueue.cork}). */
  get corked(): boolean {
    return this.#corked;
  }

  /**
   * Resolves when the queued bytes are at or under the high-water mark.
   *
   * @param signal Rejects the wait (only) with its reason.
   * @returns Resolves when there is room; rejects with the queue's error.
   */
  ready(signal?: AbortSignal): Promise<void> {
    if (this.#failed) return Promise.reject(this.#error);
    if (this.#size <= this.#hwm) return RESOLVED;
    const w = resolvers<void>();
    this.#readyWaiters.push(w);
    return race(w.promise, { signal });
  }

  /**
   * Resolves once everything queued so far is written.
   *
   * @returns Resolves when idle; rejects with the queue's error.
   */
  flush(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#error);
    if (!this.busy) return RESOLVED;
    const w = resolvers<void>();
    this.#idleWaiters.push(w);
    this.kick();
    return w.promise;
  }

  /**
   * Drops everything not written yet and stops writing: queued writes,
   * `ready()`, `flush()` and later calls reject with `reason`. A write in
   * flight is forgotten (see {@linkcode WriteQueue.settled}).
   *
   * @param reason The error to reject with.
   */
  discard(reason: unknown): void {
    if (this.#failed) return;
    this.#fail(reason);
  }

  // ----------------------------------------------------------- internals

  /** The open batch, sealed and replaced first if `n` bytes do not fit. */
  #room(n: number): Uint8Array {
    if (this.#batch === null || this.#batch.length - this.#batchLen < n) {
      this.#seal();
      this.#batch = this.#spares.pop() ?? new Uint8Array(BATCH_SIZE);
    }
    return this.#batch;
  }

  #seal(): void {
    if (this.#batch === null || this.#batchLen === 0) return;
    if (this.#batchLen < SMALL_BATCH) {
      // Mostly empty (a header before a large chunk): its bytes are copied
      // out and the batch stays open, so a few queued bytes never hold a
      // whole batch buffer.
      this.#entries.push({
        data: this.#batch.slice(0, this.#batchLen),
        batch: null,
        done: null,
      });
      this.#batchLen = 0;
      return;
    }
    this.#entries.push({
      data: this.#batch.subarray(0, this.#batchLen),
      batch: this.#reuse ? this.#batch : null,
      done: null,
    });
    this.#batch = null;
    this.#batchLen = 0;
  }

  /** Starts writing the oldest entry (the open batch last), or goes idle. */
  #writeNext(): void {
    if (this.#head < this.#entries.length) {
      const e = this.#entries[this.#head]!;
      this.#entries[this.#head++] = undefined as unknown as Entry;
      if (this.#head === this.#entries.length) {
        this.#entries.length = 0;
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= this.#entries.length) {
        this.#entries.splice(0, this.#head);
        this.#head = 0;
      }
      this.#wData = e.data;
      this.#wBatch = e.batch;
      this.#wDone = e.done;
    } else if (this.#batchLen > 0) {
      const b = this.#batch!;
      if (!this.#reuse && this.#batchLen < SMALL_BATCH) {
        // A sink that keeps chunks gets a copy of a mostly empty batch,
        // which stays open here.
        this.#wData = b.slice(0, this.#batchLen);
        this.#wBatch = null;
      } else {
        this.#wData = b.subarray(0, this.#batchLen);
        this.#wBatch = this.#reuse ? b : null;
        this.#batch = null;
      }
      this.#wDone = null;
      this.#batchLen = 0;
    } else {
      this.#writing = false;
      if (this.#idleWaiters.length > 0) {
        for (const w of this.#idleWaiters.splice(0)) w.resolve();
      }
      return;
    }
    this.#writing = true;
    this.#wOff = 0;
    if (this.#wData.length === 0) {
      this.#onWritten(0);
      return;
    }
    this.#issue(this.#wData);
  }

  #issue(data: Uint8Array): void {
    let op: Promise<number>;
    try {
      op = this.#sink.write(data);
    } catch (e) {
      this.#onFailed(e);
      return;
    }
    this.#writeOp = op.then(this.#onWritten, this.#onFailed);
  }

  #onWritten = (n: number): void => {
    const data = this.#wData;
    if (data === null) return; // Discarded meanwhile.
    this.#wOff += n;
    if (this.#wOff < data.length) {
      this.#issue(data.subarray(this.#wOff));
      return;
    }
    this.#size -= data.length;
    const batch = this.#wBatch;
    if (batch !== null && this.#spares.length < 2) this.#spares.push(batch);
    const done = this.#wDone;
    this.#wData = this.#wBatch = this.#wDone = null;
    done?.resolve();
    if (this.#size <= this.#hwm && this.#readyWaiters.length > 0) {
      for (const w of this.#readyWaiters.splice(0)) w.resolve();
    }
    if (this.#corked) this.#writing = false;
    else this.#writeNext();
  };

  #onFailed = (e: unknown): void => {
    if (this.#failed) return;
    const err = this.#mapError === undefined ? e : this.#mapError(e);
    this.#fail(err);
    this.#onError?.(err);
  };

  #fail(err: unknown): void {
    this.#failed = true;
    this.#error = err;
    const done = this.#wDone;
    this.#wData = this.#wBatch = this.#wDone = null;
    done?.reject(err);
    for (let i = this.#head; i < this.#entries.length; i++) {
      this.#entries[i]!.done?.reject(err);
    }
    this.#entries = [];
    this.#head = 0;
    this.#batch = null;
    this.#spares = [];
    this.#batchLen = 0;
    this.#size = 0;
    this.#writing = false;
    for (const w of this.#readyWaiters.splice(0)) w.reject(err);
    for (const w of this.#idleWaiters.splice(0)) w.reject(err);
  }
}
