// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The one shared poller of the process: at most one outstanding
 * `nonblocking` FFI `poll()` over every fd anyone waits on, plus a wake
 * pipe. Deno runs `nonblocking` FFI calls on its blocking pool (32 threads,
 * shared with async file I/O), so never one blocking call per socket.
 *
 * When nothing waits, no call is outstanding and the process may exit.
 *
 * @module
 */

import { closeFd, EAGAIN, errno, fdTrace, libc, P, sysError } from "./_libc.ts";

interface Waiter {
  fd: number;
  events: number;
  resolve: (revents: number) => void;
  reject: (reason: unknown) => void;
  cleanup: () => void;
}

/** Options for {@linkcode Poller.wait}. */
export interface WaitOptions {
  /** Cancels the wait; it rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
}

/** A shared readiness waiter over raw fds. */
export class Poller {
  #waiters = new Set<Waiter>();
  #pipe: [number, number] | null = null;
  #running = false;
  #woken = false;
  #scratch = new Uint8Array(new ArrayBuffer(64));
  /** Number of `poll()` calls made, for tests and benchmarks. */
  polls = 0;
  /** Most `poll()` calls ever outstanding at once (by design, 1). */
  maxOutstanding = 0;
  #outstanding = 0;

  #ensurePipe(): [number, number] {
    if (this.#pipe === null) {
      const fds = new Int32Array(2);
      if (libc.pipe2(fds, P.O_NONBLOCK | 0x80000 /* O_CLOEXEC */) < 0) {
        throw sysError("create wake pipe");
      }
      this.#pipe = [fds[0]!, fds[1]!];
      fdTrace.hook?.(fds[0]!);
      fdTrace.hook?.(fds[1]!);
    }
    return this.#pipe;
  }

  /**
   * Waits until `fd` is ready for `events` (`POLLIN`/`POLLOUT`), or has an
   * error or hang-up.
   *
   * @param fd The fd.
   * @param events The poll events.
   * @param options The abort signal.
   * @returns The `revents` seen.
   */
  wait(fd: number, events: number, options: WaitOptions = {}): Promise<number> {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<number>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        waiter.cleanup();
        this.#wake();
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        fd,
        events,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(waiter);
      if (this.#running) this.#wake();
      else this.#run();
    });
  }

  /**
   * Rejects every wait on `fd` (before the fd is closed) and wakes the
   * outstanding poll so that it stops watching it.
   *
   * @param fd The fd.
   * @param reason The rejection reason.
   */
  cancel(fd: number, reason: unknown): void {
    let any = false;
    for (const w of this.#waiters) {
      if (w.fd !== fd) continue;
      this.#waiters.delete(w);
      w.cleanup();
      w.reject(reason);
      any = true;
    }
    if (any) this.#wake();
  }

  /**
   * Rejects every wait on `fd` with `reason`, then closes `fd`: the one way
   * an owner closes an fd that others may be waiting on.
   *
   * @param fd The fd (nothing happens when negative).
   * @param reason The rejection reason.
   */
  cancelAndClose(fd: number, reason: unknown): void {
    if (fd < 0) return;
    this.cancel(fd, reason);
    closeFd(fd);
  }

  #wake(): void {
    if (!this.#running || this.#woken) return;
    this.#woken = true;
    libc.write(this.#ensurePipe()[1], this.#scratch, 1n);
  }

  #drainPipe(): void {
    const r = this.#ensurePipe()[0];
    while (
      Number(libc.read(r, this.#scratch, BigInt(this.#scratch.length))) > 0
    ) {
      // Keep reading until the pipe is empty.
    }
    this.#woken = false;
  }

  async #run(): Promise<void> {
    this.#running = true;
    const [wakeFd] = this.#ensurePipe();
    try {
      while (this.#waiters.size > 0) {
        const list = [...this.#waiters];
        // A fresh buffer per call: the pool thread reads it while we run.
        const fds = new Uint8Array(new ArrayBuffer(8 * (list.length + 1)));
        const view = new DataView(fds.buffer);
        view.setInt32(0, wakeFd, true);
        view.setInt16(4, P.POLLIN, true);
        list.forEach((w, i) => {
          view.setInt32(8 * (i + 1), w.fd, true);
          view.setInt16(8 * (i + 1) + 4, w.events, true);
        });
        this.polls++;
        this.maxOutstanding = Math.max(
          this.maxOutstanding,
          ++this.#outstanding,
        );
        let rc: number;
        try {
          rc = await libc.pollBlocking(fds, BigInt(list.length + 1), -1);
        } finally {
          this.#outstanding--;
        }
        if (rc < 0) {
          // errno belongs to a pool thread; retry with a sync zero-timeout poll.
          if (
            libc.poll(fds, BigInt(list.length + 1), 0) < 0 && errno() !== EAGAIN
          ) {
            const err = sysError("poll");
            for (const w of list) this.#settle(w, err, true);
            continue;
          }
        }
        if (view.getInt16(6, true) !== 0) this.#drainPipe();
        list.forEach((w, i) => {
          const revents = view.getInt16(8 * (i + 1) + 6, true);
          if (revents !== 0 && this.#waiters.has(w)) {
            this.#settle(w, revents, false);
          }
        });
      }
    } finally {
      this.#running = false;
      if (this.#woken) this.#drainPipe();
    }
  }

  #settle(w: Waiter, value: unknown, isError: boolean): void {
    this.#waiters.delete(w);
    w.cleanup();
    if (isError) w.reject(value);
    else w.resolve(value as number);
  }

  /**
   * Number of pending waits.
   *
   * @returns The count.
   */
  get size(): number {
    return this.#waiters.size;
  }

  /**
   * Whether a `poll()` call is outstanding.
   *
   * @returns The state.
   */
  get running(): boolean {
    return this.#running;
  }

  /** Closes the wake pipe when nothing waits (tests use it to count fds). */
  closeIdle(): void {
    if (this.#running || this.#pipe === null) return;
    closeFd(this.#pipe[0]);
    closeFd(this.#pipe[1]);
    this.#pipe = null;
  }
}

/** The process-wide poller. */
export const poller: Poller = new Poller();
