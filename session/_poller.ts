// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The one shared poller of the process: one epoll instance, and at most one
 * outstanding `nonblocking` FFI `epoll_wait` on it. Deno runs `nonblocking`
 * FFI calls on its blocking pool (32 threads, shared with async file I/O),
 * so never one blocking call per socket.
 *
 * A wait registers its fd with `epoll_ctl` from the JS thread, which the
 * outstanding `epoll_wait` sees at once: adding a wait costs one system
 * call and no restart, however many fds are watched, and a wake-up costs
 * the ready fds only. An fd's registration lives while someone waits on it
 * (level-triggered, the union of the waiters' events) and is removed before
 * its owner closes it (`cancelAndClose`). An eventfd wakes the outstanding
 * call when the last wait goes, so that nothing is pending when nothing
 * waits and the process may exit.
 *
 * A wake-up crosses two threads (the pool thread, then the JS thread);
 * Deno has no way to wait for a foreign fd on its own event loop. Waking
 * the JS thread with `SIGIO` instead (`O_ASYNC` on the watched sockets, a
 * `Deno.addSignalListener` listener that looks at the epoll instance
 * without waiting) was built and measured on Linux 6.18, and not kept:
 * a Unix socket that gets room to write raises no `SIGIO`, so writers
 * still need the pool thread; a signal listener keeps `deno run` alive but
 * not `deno test`, so a timer must, and binding both costs 8-10 µs per
 * wait; a listening socket raises a signal per connection. The end-to-end
 * worker spent 6 µs less per connection, the front 7 µs more, and 64 B
 * sessions/s did not improve.
 *
 * @module
 */

import { closeFd, errno, fdTrace, libc, P, sysError } from "./_libc.ts";

/** `EEXIST`: `epoll_ctl(ADD)` of an fd already registered. */
const EEXIST = 17;

interface Waiter {
  fd: number;
  events: number;
  resolve: (revents: number) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** The waits on one fd and the events registered for them. */
interface Entry {
  waiters: Waiter[];
  registered: number;
}

/** Options for {@linkcode Poller.wait}. */
export interface WaitOptions {
  /** Cancels the wait; it rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
}

/** Events one `epoll_wait` returns at most. */
const MAX_EVENTS = 256;

/** A shared readiness waiter over raw fds. */
export class Poller {
  #epfd = -1;
  #wakeFd = -1;
  #entries = new Map<number, Entry>();
  #size = 0;
  #running = false;
  #woken = false;
  #events: Uint8Array<ArrayBuffer> | null = null;
  #eventsView: DataView | null = null;
  #ctl = new Uint8Array(new ArrayBuffer(16));
  #ctlView = new DataView(this.#ctl.buffer);
  #word = new BigUint64Array(1);
  /** Number of `epoll_wait` calls made, for tests and benchmarks. */
  polls = 0;
  /** Most `epoll_wait` calls ever outstanding at once (by design, 1). */
  maxOutstanding = 0;
  #outstanding = 0;

  #ensure(): number {
    if (this.#epfd < 0) {
      const ep = libc.epoll_create1(P.EPOLL_CLOEXEC);
      if (ep < 0) throw sysError("create epoll instance");
      const wake = libc.eventfd(0, P.EFD_NONBLOCK | P.EFD_CLOEXEC);
      if (wake < 0) {
        const err = sysError("create wake eventfd");
        closeFd(ep);
        throw err;
      }
      fdTrace.hook?.(ep);
      fdTrace.hook?.(wake);
      this.#epfd = ep;
      this.#wakeFd = wake;
      if (this.#control(P.EPOLL_CTL_ADD, wake, P.POLLIN) < 0) {
        throw sysError("watch wake eventfd");
      }
      this.#events = new Uint8Array(
        new ArrayBuffer(P.epollEventSize * MAX_EVENTS),
      );
      this.#eventsView = new DataView(this.#events.buffer);
    }
    return this.#epfd;
  }

  #control(op: number, fd: number, events: number): number {
    const v = this.#ctlView;
    v.setUint32(0, events, true);
    v.setInt32(P.epollData, fd, true);
    return libc.epoll_ctl(this.#epfd, op, fd, this.#ctl);
  }

  /**
   * Registers the union of `entry`'s waits for `fd`, or removes the fd when
   * none is left.
   *
   * @returns 0, or -1 with `errno` set when `epoll_ctl` failed.
   */
  #register(fd: number, entry: Entry): number {
    let events = 0;
    for (const w of entry.waiters) events |= w.events;
    if (events === entry.registered) return 0;
    if (events === 0) {
      this.#control(P.EPOLL_CTL_DEL, fd, 0);
      this.#entries.delete(fd);
      entry.registered = 0;
      return 0;
    }
    let rc = this.#control(
      entry.registered === 0 ? P.EPOLL_CTL_ADD : P.EPOLL_CTL_MOD,
      fd,
      events,
    );
    // Still registered from before (the same open file under the same
    // number): change it instead.
    if (rc < 0 && errno() === EEXIST) {
      rc = this.#control(P.EPOLL_CTL_MOD, fd, events);
    }
    if (rc === 0) entry.registered = events;
    return rc;
  }

  /**
   * Waits until `fd` is ready for `events` (`POLLIN`/`POLLOUT`), or has an
   * error or hang-up.
   *
   * @param fd The fd.
   * @param events The poll events.
   * @param options The abort signal.
   * @returns The events seen.
   */
  wait(fd: number, events: number, options: WaitOptions = {}): Promise<number> {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#ensure();
    const { promise, resolve, reject } = Promise.withResolvers<number>();
    const waiter: Waiter = {
      fd,
      events,
      resolve,
      reject,
      signal,
      onAbort: undefined,
    };
    let entry = this.#entries.get(fd);
    if (entry === undefined) {
      entry = { waiters: [], registered: 0 };
      this.#entries.set(fd, entry);
    }
    entry.waiters.push(waiter);
    if (this.#register(fd, entry) < 0) {
      const err = sysError(`watch fd ${fd}`);
      entry.waiters.pop();
      if (entry.waiters.length === 0) this.#entries.delete(fd);
      return Promise.reject(err);
    }
    this.#size++;
    if (signal !== undefined) {
      waiter.onAbort = () => {
        if (this.#remove(waiter)) waiter.reject(signal.reason);
      };
      signal.addEventListener("abort", waiter.onAbort, { once: true });
    }
    if (!this.#running) this.#run();
    return promise;
  }

  /** Takes a waiter out (true if it was still waiting). */
  #remove(waiter: Waiter): boolean {
    const entry = this.#entries.get(waiter.fd);
    const i = entry?.waiters.indexOf(waiter) ?? -1;
    if (i < 0) return false;
    entry!.waiters.splice(i, 1);
    this.#forget(waiter);
    this.#register(waiter.fd, entry!);
    return true;
  }

  #forget(waiter: Waiter): void {
    if (waiter.onAbort !== undefined) {
      waiter.signal!.removeEventListener("abort", waiter.onAbort);
    }
    // The last wait went while epoll_wait is outstanding (a cancel or an
    // abort): wake it, so that the loop can end. (A wait that an event
    // resolved needs no wake: that call has returned already.)
    if (--this.#size === 0 && this.#outstanding > 0) this.#wake();
  }

  /**
   * Rejects every wait on `fd` (before the fd is closed) and stops
   * watching it.
   *
   * @param fd The fd.
   * @param reason Makes the rejection reason (called only if someone
   * waits: an error's stack costs more than closing an fd).
   */
  cancel(fd: number, reason: () => unknown): void {
    const entry = this.#entries.get(fd);
    if (entry === undefined) return;
    const waiters = entry.waiters.splice(0);
    this.#register(fd, entry);
    const err = reason();
    for (const w of waiters) {
      this.#forget(w);
      w.reject(err);
    }
  }

  /**
   * Rejects every wait on `fd` with `reason()`, then closes `fd`: the one
   * way an owner closes an fd that others may be waiting on.
   *
   * @param fd The fd (nothing happens when negative).
   * @param reason Makes the rejection reason (if someone waits).
   */
  cancelAndClose(fd: number, reason: () => unknown): void {
    if (fd < 0) return;
    this.cancel(fd, reason);
    closeFd(fd);
  }

  /** Makes the outstanding `epoll_wait` return (when the last wait went). */
  #wake(): void {
    if (this.#woken) return;
    this.#woken = true;
    this.#word[0] = 1n;
    libc.write(this.#wakeFd, new Uint8Array(this.#word.buffer), 8n);
  }

  async #run(): Promise<void> {
    this.#running = true;
    const ep = this.#epfd;
    const events = this.#events!;
    try {
      while (this.#size > 0) {
        this.polls++;
        this.maxOutstanding = Math.max(
          this.maxOutstanding,
          ++this.#outstanding,
        );
        let n: number;
        try {
          n = await libc.epollWaitBlocking(ep, events, MAX_EVENTS, -1);
        } finally {
          this.#outstanding--;
        }
        // n < 0: EINTR (errno belongs to a pool thread); wait again.
        this.#dispatch(n);
      }
    } finally {
      this.#running = false;
      if (this.#woken) this.#drainWake();
    }
  }

  /** Resolves the waits that the first `n` returned events satisfy. */
  #dispatch(n: number): void {
    const view = this.#eventsView!;
    const size = P.epollEventSize;
    const data = P.epollData;
    for (let i = 0; i < n; i++) {
      const revents = view.getUint32(i * size, true);
      const fd = view.getInt32(i * size + data, true);
      if (fd === this.#wakeFd) {
        this.#drainWake();
        continue;
      }
      this.#ready(fd, revents);
    }
  }

  #drainWake(): void {
    libc.read(this.#wakeFd, new Uint8Array(this.#word.buffer), 8n);
    this.#woken = false;
  }

  /** Resolves the waits on `fd` that `revents` satisfies. */
  #ready(fd: number, revents: number): void {
    const entry = this.#entries.get(fd);
    // A wait cancelled after the kernel reported it: nothing to do.
    if (entry === undefined) return;
    const all = (revents & (P.POLLERR | P.POLLHUP)) !== 0;
    const done: Waiter[] = [];
    entry.waiters = entry.waiters.filter((w) => {
      if (all || (w.events & revents) !== 0) {
        done.push(w);
        return false;
      }
      return true;
    });
    if (done.length === 0) return;
    this.#register(fd, entry);
    for (const w of done) {
      this.#forget(w);
      w.resolve(revents);
    }
  }

  /**
   * Number of pending waits.
   *
   * @returns The count.
   */
  get size(): number {
    return this.#size;
  }

  /**
   * Whether an `epoll_wait` call is outstanding.
   *
   * @returns The state.
   */
  get running(): boolean {
    return this.#running;
  }

  /** Closes the epoll instance and eventfd when nothing waits (tests count fds). */
  closeIdle(): void {
    if (this.#running || this.#epfd < 0) return;
    closeFd(this.#epfd);
    closeFd(this.#wakeFd);
    this.#epfd = this.#wakeFd = -1;
    this.#entries.clear();
  }
}

/** The process-wide poller. */
export const poller: Poller = new Poller();
