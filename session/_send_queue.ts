// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The forwarder's queue: sessions that could not go out at once (the
 * receiver was not reading, or the kernel took only part of a large one)
 * wait here, whole and in order, and one drain loop writes them as the
 * socket becomes writable. It also answers `flush()` and `close()`: which
 * sessions accepted so far went out, and how many could not.
 *
 * Each session is one `sendmsg` with its fd attached to its first byte, so
 * sessions cannot be coalesced into larger writes: this is why the
 * forwarder does not use `_internal/write_queue.ts`.
 *
 * @module
 */

import { EAGAIN, EBADF, EINTR, P, sysError } from "./_libc.ts";
import type { MsgIo } from "./_msg_io.ts";
import { poller } from "./_poller.ts";
import { SocketSessionError } from "./errors.ts";

const PENDING = 0;
const SENT = 1;
const FAILED = 2;
/** Taken back by its caller's signal before any byte went out. */
const DROPPED = 3;

/** A session waiting to be written. */
interface Item {
  /** Its bytes (dummy byte, header, data), a copy. */
  buf: Uint8Array;
  /** Bytes already written. */
  sent: number;
  /** The fd to attach to its first byte (-1 once attached, or for a tail). */
  fd: number;
  /** Order of acceptance. */
  seq: number;
  /** A `push()`ed session's tail: nobody waits for it. */
  tail: boolean;
  state: number;
  /** Tells the caller (a `send()` promise), once. */
  done: (error?: unknown) => void;
}

/** A `flush()` or `close()` waiting for the sessions accepted before it. */
interface Watcher {
  upTo: number;
  remaining: number;
  failed: number;
  cause: unknown;
  resolve: (failed: number) => void;
}

/** What a watch of the queue reports. */
export interface Watch {
  /**
   * Settles when every session accepted before the watch started was
   * written or failed, with the number that failed.
   */
  done: Promise<number>;
  /** How many failed so far. */
  failed(): number;
  /** The first failure seen, if any. */
  cause(): unknown;
  /** Stops watching (its promise then never settles). */
  cancel(): void;
}

/** The queue of one forwarder; see the module doc. */
export class SendQueue {
  #sock = -1;
  #io: MsgIo | null = null;
  #broken: SocketSessionError | null = null;
  #queue: Item[] = [];
  /** `send()`s waiting for room in the queue, in call order. */
  #waiting: Item[] = [];
  #max: number;
  #draining = false;
  #seq = 0;
  #watchers: Watcher[] = [];
  /** Tails of `push()`ed sessions that failed with no watcher to tell. */
  #silentLosses = 0;

  /**
   * Creates the queue.
   *
   * @param max Most sessions queued; more `send()`s wait for room.
   */
  constructor(max: number) {
    this.#max = max;
  }

  /**
   * Starts a new connection (the queue is empty).
   *
   * @param sock The connected Unix socket.
   * @param io Its message buffers.
   */
  open(sock: number, io: MsgIo): void {
    this.#sock = sock;
    this.#io = io;
    this.#broken = null;
  }

  /**
   * The connected socket, or -1.
   *
   * @returns The fd.
   */
  get sock(): number {
    return this.#sock;
  }

  /**
   * Why the stream is out of step, or null.
   *
   * @returns The error.
   */
  get broken(): SocketSessionError | null {
    return this.#broken;
  }

  /**
   * Sessions queued (not `send()`s waiting for room).
   *
   * @returns The count.
   */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Whether anything is queued or waiting: a new session must queue behind.
   *
   * @returns The state.
   */
  get busy(): boolean {
    return this.#queue.length > 0 || this.#waiting.length > 0;
  }

  /**
   * Marks the stream broken (keeps the first reason).
   *
   * @param err The reason.
   * @returns The reason now in force.
   */
  fail(err: SocketSessionError): SocketSessionError {
    this.#broken ??= err;
    return this.#broken;
  }

  /**
   * One `sendmsg` of `io.buffer[offset, offset + length)`, retried on
   * `EINTR`.
   *
   * @param offset Start in the message buffer.
   * @param length Byte count.
   * @param fd The fd to attach, or -1.
   * @returns Bytes sent, or `-errno`.
   */
  write(offset: number, length: number, fd: number): number {
    let n: number;
    do n = this.#io!.send(this.#sock, offset, length, fd); while (
      n === -EINTR
    );
    return n;
  }

  /**
   * Queues a session (a copy of its bytes, `sent` of them written) for the
   * drain loop; at most `max` are queued, later ones wait for room.
   *
   * @param buf The session's bytes.
   * @param sent Bytes already written (the fd went with them when > 0).
   * @param fd The fd to attach to its first byte when `sent` is 0.
   * @param signal Takes it back while no byte went out; halfway, it breaks
   * the stream.
   * @returns When it was written whole.
   */
  enqueue(
    buf: Uint8Array,
    sent: number,
    fd: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const item = this.#add(buf, sent, fd, false, (error) => {
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) resolve();
      else reject(error);
    });
    const onAbort = (): void => {
      if (item.state !== PENDING) return;
      if (item.sent === 0) {
        this.#remove(item);
        this.#settle(item, DROPPED, signal!.reason);
        this.#admit();
        this.#kick();
        return;
      }
      this.fail(
        new SocketSessionError(
          "BROKEN",
          "Cannot forward socket session: aborted halfway",
          { bytesWritten: item.sent },
        ),
      );
      this.#remove(item);
      this.#settle(item, FAILED, signal!.reason);
      this.#admit();
      this.#kick();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#kick();
    return promise;
  }

  /**
   * Queues the tail of a `push()`ed session that the kernel cut: it is
   * committed, nobody waits for it; a failure is counted for `close()`.
   *
   * @param buf The tail (a copy).
   */
  enqueueTail(buf: Uint8Array): void {
    this.#add(buf, 0, -1, true, () => {});
    this.#kick();
  }

  #add(
    buf: Uint8Array,
    sent: number,
    fd: number,
    tail: boolean,
    done: (error?: unknown) => void,
  ): Item {
    const item: Item = {
      buf,
      sent,
      fd: sent > 0 ? -1 : fd,
      seq: ++this.#seq,
      tail,
      state: PENDING,
      done,
    };
    if (this.#queue.length < this.#max && this.#waiting.length === 0) {
      this.#queue.push(item);
    } else {
      this.#waiting.push(item);
    }
    return item;
  }

  #remove(item: Item): void {
    const i = this.#queue.indexOf(item);
    if (i >= 0) this.#queue.splice(i, 1);
    else {
      const w = this.#waiting.indexOf(item);
      if (w >= 0) this.#waiting.splice(w, 1);
    }
  }

  #settle(item: Item, state: number, error?: unknown): void {
    if (item.state !== PENDING) return;
    item.state = state;
    let watched = false;
    for (let i = 0; i < this.#watchers.length; i++) {
      const w = this.#watchers[i]!;
      if (item.seq > w.upTo) continue;
      watched = true;
      if (state === FAILED) {
        w.failed++;
        w.cause ??= error;
      }
      if (--w.remaining === 0) {
        this.#watchers.splice(i--, 1);
        w.resolve(w.failed);
      }
    }
    // A lost tail that no flush() or close() counts: the next close()
    // reports it. (A send() caller hears of its own failure.)
    if (state === FAILED && item.tail && !watched) this.#silentLosses++;
    item.done(state === SENT ? undefined : error);
  }

  /**
   * Watches the sessions accepted so far (queued or waiting).
   *
   * @returns The watch.
   */
  watch(): Watch {
    const { promise, resolve } = Promise.withResolvers<number>();
    const remaining = this.#queue.length + this.#waiting.length;
    const w: Watcher = {
      upTo: this.#seq,
      remaining,
      failed: 0,
      cause: undefined,
      resolve,
    };
    if (remaining === 0) resolve(0);
    else this.#watchers.push(w);
    return {
      done: promise,
      failed: () => w.failed,
      cause: () => w.cause,
      cancel: () => {
        const i = this.#watchers.indexOf(w);
        if (i >= 0) this.#watchers.splice(i, 1);
      },
    };
  }

  /**
   * Tails lost before with nobody told; reading resets the count.
   *
   * @returns The count.
   */
  takeSilentLosses(): number {
    const n = this.#silentLosses;
    this.#silentLosses = 0;
    return n;
  }

  /**
   * Fails every session still queued or waiting with `reason` and forgets
   * the socket (the caller closes it).
   *
   * @param reason The rejection of their `send()`s.
   * @returns How many there were.
   */
  abandon(reason: unknown): number {
    const items = [...this.#queue.splice(0), ...this.#waiting.splice(0)];
    // Counted by the caller: not silent.
    for (const item of items) item.tail = false;
    for (const item of items) this.#settle(item, FAILED, reason);
    this.#sock = -1;
    return items.length;
  }

  /** Moves waiting `send()`s into the queue while there is room. */
  #admit(): void {
    while (this.#waiting.length > 0 && this.#queue.length < this.#max) {
      this.#queue.push(this.#waiting.shift()!);
    }
  }

  #dequeue(item: Item, state: number, error?: unknown): void {
    this.#queue.shift();
    this.#admit();
    this.#settle(item, state, error);
  }

  #kick(): void {
    // The flag is cleared synchronously when the loop ends, so a session
    // queued right after always finds a running drain or starts one.
    if (this.#draining) return;
    this.#draining = true;
    this.#drain().finally(() => {
      this.#draining = false;
      if (this.#queue.length > 0 && this.#sock >= 0) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && this.#sock >= 0) {
      const item = this.#queue[0]!;
      if (this.#broken) {
        this.#dequeue(item, FAILED, this.#broken);
        continue;
      }
      const rest = item.buf.length - item.sent;
      this.#io!.buffer.set(item.buf.subarray(item.sent), 0);
      const n = this.write(0, rest, item.fd);
      if (n === -EAGAIN) {
        const sock = this.#sock;
        try {
          await poller.wait(sock, P.POLLOUT);
        } catch (err) {
          // Closed while waiting (the items were settled already), or
          // poll() failed. A session cut halfway leaves the stream out of
          // step: broken.
          if (item.sent > 0) {
            this.fail(
              new SocketSessionError(
                "BROKEN",
                "Cannot forward socket session: the wait to write its rest failed",
                { bytesWritten: item.sent, cause: err },
              ),
            );
          }
          if (this.#queue[0] === item) this.#dequeue(item, FAILED, err);
        }
        continue;
      }
      if (n === -EBADF && item.sent === 0) {
        this.#dequeue(
          item,
          FAILED,
          new TypeError(
            `Cannot forward socket session: fd ${item.fd} is not open`,
          ),
        );
        continue;
      }
      if (n < 0) {
        this.#dequeue(
          item,
          FAILED,
          this.fail(sysError("forward socket session", -n, item.sent)),
        );
        continue;
      }
      item.sent += n;
      item.fd = -1;
      if (item.sent === item.buf.length) this.#dequeue(item, SENT);
    }
  }
}
