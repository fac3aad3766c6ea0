// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The receive turn queue of a `Connection`: receives are served one at a
 * time, in call order, from a {@linkcode ReadBuffer} that it fills from
 * the transport (the only place a connection reads its socket).
 *
 * A receive without a signal, when no other is queued, is served from the
 * buffer at once or by callbacks on the read (no async function or extra
 * promise per message); everything else (signals, queued receives, large
 * or partial messages, EOF, errors) takes the general path, which holds
 * the turn until it is done. An aborted receive loses nothing: a header
 * stays buffered, a payload being assembled stays in the buffer's
 * {@linkcode PartialMessage} (with any read still under way), and the next
 * receive continues it under its own limit.
 *
 * @module
 */
import { deadlineSignal, race } from "../_internal/abort.ts";
import { checkDuration } from "../_internal/timers.ts";
import { BufferTooShort, ConnectionError, ProtocolError } from "./errors.ts";
import type { MessageHeader } from "./message_codec.ts";
import { type PartialMessage, ReadBuffer } from "./_read_buffer.ts";
import { transportError } from "./_transport.ts";

/** Where received bytes come from: `Deno.Conn` is one. */
export interface ByteSource {
  /** Reads into `p`; resolves with how many bytes, or `null` at EOF. */
  read(p: Uint8Array): Promise<number | null>;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Serves a connection's receives in call order. */
export class Receiver {
  #src: ByteSource;
  #rb = new ReadBuffer();
  #closed = false;
  #eof = false;
  #readError: unknown = null;
  /** Set by a protocol error: the connection is then write-only. */
  #broken: ProtocolError | null = null;
  #fillP: Promise<void> | null = null;
  #directRead: Promise<void> | null = null;
  /** Whether a receive holds the turn. */
  #busy = false;
  #turns: (() => void)[] = [];
  /** The pending plain receive (see #plainWait). */
  #wResolve: ((m: Uint8Array) => void) | null = null;
  #wReject: ((e: unknown) => void) | null = null;
  #waiterMax = 0;

  /** @param src Where bytes come from. */
  constructor(src: ByteSource) {
    this.#src = src;
  }

  /**
   * Receives one message.
   *
   * @param max The limit on its length.
   * @param signal Aborts the receive (the message is kept for the next).
   * @returns Its payload.
   */
  receive(max: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
    if (signal === undefined && this.#canTakeSync()) {
      let m: Uint8Array | undefined;
      try {
        m = this.#rb.take(max);
      } catch (e) {
        return Promise.reject(this.#breakWith(e));
      }
      return m !== undefined ? Promise.resolve(m) : this.#plainWait(max);
    }
    return this.#recv(max, signal, undefined);
  }

  /**
   * Receives one message and decodes it.
   *
   * @typeParam T The decoded value.
   * @param max The limit on its length.
   * @param signal Aborts the receive.
   * @param decode Turns the payload into the value.
   * @returns The value.
   */
  receiveValue<T>(
    max: number,
    signal: AbortSignal | undefined,
    decode: (bytes: Uint8Array) => T,
  ): Promise<T> {
    if (signal === undefined && this.#canTakeSync()) {
      let m: Uint8Array | undefined;
      try {
        m = this.#rb.take(max);
        if (m !== undefined) return Promise.resolve(decode(m));
      } catch (e) {
        return Promise.reject(m === undefined ? this.#breakWith(e) : e);
      }
      return this.#plainWait(max).then(decode);
    }
    return this.#recv(max, signal, undefined).then(decode);
  }

  /**
   * Receives one message into `target` (straight into it when there is no
   * signal and it fits).
   *
   * @param max The limit on its length.
   * @param signal Aborts the receive.
   * @param target Where the payload goes.
   * @returns Its length.
   * @throws {BufferTooShort} It does not fit (it is consumed).
   */
  async receiveInto(
    max: number,
    signal: AbortSignal | undefined,
    target: Uint8Array,
  ): Promise<number> {
    let msg: Uint8Array | undefined;
    if (signal === undefined && this.#canTakeSync()) {
      try {
        msg = this.#rb.take(max, target);
      } catch (e) {
        throw this.#breakWith(e);
      }
    }
    msg ??= await this.#recv(
      max,
      signal,
      signal === undefined ? target : undefined,
    );
    if (msg.buffer === target.buffer && msg.byteOffset === target.byteOffset) {
      return msg.length;
    }
    if (target.length < msg.length) {
      throw new BufferTooShort(msg, target.length);
    }
    target.set(msg);
    return msg.length;
  }

  /**
   * Waits up to `timeout` ms until a receive would find data or EOF,
   * consuming nothing.
   *
   * @param timeout Milliseconds (negative acts as 0; `Infinity` waits on).
   * @param signal Aborts the wait.
   * @returns Whether there is data or EOF.
   */
  async poll(
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    this.#checkReadable("poll");
    if (signal?.aborted) throw signal.reason;
    const ms = checkDuration(
      timeout < 0 ? 0 : timeout,
      "timeout",
      "poll",
    );
    if (this.#ready()) return true;
    const deadline = ms === Infinity ? undefined : deadlineSignal(ms, signal);
    try {
      // A read can end without data for us (a receive reading a large
      // payload straight into its own buffer, or one that took what came):
      // wait again until there is data or the time is up.
      while (true) {
        const filled = this.#fill();
        const waitSignal = deadline?.signal ?? signal;
        try {
          await (waitSignal === undefined
            ? filled
            : race(filled, { signal: waitSignal }));
        } catch (e) {
          if (deadline?.timedOut()) return this.#ready();
          throw e;
        }
        if (this.#ready()) return true;
      }
    } finally {
      deadline?.clear();
    }
  }

  /**
   * Fails pending and later receives with a `CONNECTION_CLOSED` error
   * (pending ones once their read ends, when the transport closes).
   */
  close(): void {
    this.#closed = true;
  }

  /** Settles once the reads under way have ended. */
  get settled(): Promise<void> {
    return Promise.all([this.#fillP, this.#directRead]).then(() => {});
  }

  // ------------------------------------------------------------- plain path

  #canTakeSync(): boolean {
    return !this.#busy && this.#rb.partial === null && !this.#closed &&
      this.#broken === null;
  }

  /** Takes the turn and waits for the next message by callbacks. */
  #plainWait(max: number): Promise<Uint8Array> {
    this.#busy = true;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#wResolve = resolve;
      this.#wReject = reject;
      this.#waiterMax = max;
      this.#waitMore();
    });
  }

  /** After a read: completes the pending plain receive, or reads on. */
  #serveWaiter(): void {
    let m: Uint8Array | undefined;
    try {
      m = this.#rb.take(this.#waiterMax);
    } catch (e) {
      const reject = this.#wReject!;
      this.#wResolve = this.#wReject = null;
      this.#passTurn();
      reject(this.#breakWith(e));
      return;
    }
    if (m === undefined) {
      this.#waitMore();
      return;
    }
    const resolve = this.#wResolve!;
    this.#wResolve = this.#wReject = null;
    this.#passTurn();
    resolve(m);
  }

  /** No complete message is buffered: read more, or take the general path. */
  #waitMore(): void {
    if (
      this.#rb.buffered < 4 && !this.#eof && this.#readError === null &&
      !this.#closed
    ) {
      // Header incomplete: read; #onRead calls #serveWaiter.
      this.#fill();
      if (this.#fillP !== null) return;
    }
    // A partial or large message, EOF or an error: the general path keeps
    // the turn until it is done.
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

  // ----------------------------------------------------------- general path

  /** Hands the receive turn to the next queued receive, or frees it. */
  #passTurn(): void {
    const next = this.#turns.shift();
    if (next !== undefined) next();
    else this.#busy = false;
  }

  #waitTurn(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const i = this.#turns.indexOf(turn);
        if (i >= 0) this.#turns.splice(i, 1);
        reject(signal!.reason);
      };
      this.#turns.push(turn);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  async #recv(
    max: number,
    signal: AbortSignal | undefined,
    into: Uint8Array | undefined,
  ): Promise<Uint8Array> {
    this.#checkReadable("receive");
    if (signal?.aborted) throw signal.reason;
    if (this.#busy) await this.#waitTurn(signal);
    else this.#busy = true;
    try {
      this.#checkReadable("receive");
      if (signal === undefined && this.#rb.partial === null) {
        // A message that arrives whole in one read.
        while (true) {
          let m: Uint8Array | undefined;
          try {
            m = this.#rb.take(max, into);
          } catch (e) {
            throw this.#breakWith(e);
          }
          if (m !== undefined) return m;
          if (
            this.#rb.buffered >= 4 || this.#eof || this.#closed ||
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

  /**
   * Reads one message for the receive that holds the turn. `into` is used
   * only without a signal: an aborted receive must not leave a read going
   * into its caller's buffer.
   */
  async #readMessage(
    max: number,
    into: Uint8Array | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    const rb = this.#rb;
    try {
      if (rb.partial === null) {
        let h: MessageHeader | undefined;
        while ((h = rb.header()) === undefined) {
          if (this.#readError !== null || this.#closed) this.#throwReadState();
          if (this.#eof) throw rb.endOfStream();
          const filled = this.#fill();
          await (signal === undefined ? filled : race(filled, { signal }));
        }
        const whole = rb.begin(h, max, signal === undefined ? into : undefined);
        if (whole !== undefined) return whole;
      } else {
        rb.resume(max);
      }
      const p = rb.partial!;
      while (!rb.assemble()) {
        if (this.#readError !== null || this.#closed) {
          rb.drop();
          this.#throwReadState();
        }
        if (this.#eof) throw rb.endOfStream();
        // A small remainder is read through the buffer, so that the next
        // messages' bytes are kept; a large one straight into the payload.
        const read = p.size - p.filled < rb.capacity / 2 || this.#fillP !== null
          ? this.#fill()
          : this.#readDirect(p);
        await (signal === undefined ? read : race(read, { signal }));
      }
      return rb.finish();
    } catch (e) {
      // A malformed header, a length over the limit or a truncated
      // message: the connection becomes write-only.
      if (e instanceof ProtocolError) this.#broken = e;
      throw e;
    }
  }

  // ------------------------------------------------------------------ reads

  /** Starts (or joins) one read into the buffer. Never rejects. */
  #fill(): Promise<void> {
    if (this.#fillP !== null) return this.#fillP;
    // A receive is reading a large payload straight into its own buffer:
    // never read concurrently (poll() can get here), wait for it instead.
    if (this.#directRead !== null) return this.#directRead;
    let op: Promise<number | null>;
    try {
      op = this.#src.read(this.#rb.space());
    } catch (e) {
      this.#onReadError(e);
      return RESOLVED;
    }
    this.#fillP = op.then(this.#onRead, this.#onReadFailed);
    return this.#fillP;
  }

  #onRead = (n: number | null): void => {
    this.#fillP = null;
    if (n === null) this.#eof = true;
    else this.#rb.commit(n);
    if (this.#wResolve !== null) this.#serveWaiter();
  };

  #onReadFailed = (e: unknown): void => {
    this.#fillP = null;
    this.#onReadError(e);
    if (this.#wResolve !== null) this.#serveWaiter();
  };

  /**
   * Starts (or joins) one read straight into the payload being assembled.
   * It counts what it read into `p` itself, so a read that an aborted
   * receive started still serves the next one. Never rejects.
   */
  #readDirect(p: PartialMessage): Promise<void> {
    if (this.#directRead !== null) return this.#directRead;
    let op: Promise<number | null>;
    try {
      op = this.#src.read(p.out.subarray(p.filled));
    } catch (e) {
      this.#onReadError(e);
      return RESOLVED;
    }
    const read = op.then((n) => {
      this.#directRead = null;
      if (n === null) this.#eof = true;
      else p.filled += n;
    }, (e) => {
      this.#directRead = null;
      this.#onReadError(e);
    });
    this.#directRead = read;
    return read;
  }

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

  // ----------------------------------------------------------------- states

  #ready(): boolean {
    return this.#rb.hasData || this.#eof || this.#readError !== null;
  }

  #checkReadable(action: string): void {
    if (this.#closed) {
      throw new ConnectionError(`Cannot ${action}: connection is closed`, {
        code: "CONNECTION_CLOSED",
      });
    }
    if (this.#broken !== null) {
      throw new ConnectionError(
        `Cannot ${action}: connection is write-only after a protocol error`,
        { cause: this.#broken, code: "WRITE_ONLY" },
      );
    }
  }

  #throwReadState(): never {
    if (this.#closed) {
      throw new ConnectionError("Cannot receive: connection is closed", {
        code: "CONNECTION_CLOSED",
      });
    }
    throw transportError("receive", this.#readError);
  }

  /** Marks the connection write-only after a malformed header. */
  #breakWith(e: unknown): unknown {
    this.#broken = e as ProtocolError;
    return e;
  }
}
