// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Per-app routing: for each app, the workers that have *finished* loading
 * it, a round-robin index over them, and a FIFO of requests waiting for a
 * worker with a free slot (each worker takes up to `capacity` requests at
 * once). Sans-I/O.
 *
 * @module
 */

/** What the router needs to know about a worker. */
export interface Routable {
  /** Requests in flight on it now. */
  readonly load: number;
  /** Most requests in flight at once. */
  readonly capacity: number;
}

/** A queued item that may have been cancelled while waiting. */
export interface Queued {
  /** Set once the item left the queue another way (e.g. timed out). */
  cancelled: boolean;
}

class Fifo<T extends Queued> {
  #items: (T | undefined)[] = [];
  #head = 0;

  push(item: T): void {
    this.#items.push(item);
  }

  /** The next live item, removed. */
  shift(): T | undefined {
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head];
      this.#items[this.#head++] = undefined;
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      if (item !== undefined && !item.cancelled) return item;
    }
    return undefined;
  }

  /** Every live item, removed. */
  drain(): T[] {
    const out: T[] = [];
    for (let x = this.shift(); x !== undefined; x = this.shift()) out.push(x);
    return out;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }
}

interface AppRoute<W, R extends Queued> {
  ready: W[];
  rr: number;
  queue: Fifo<R>;
}

/** Round-robin routing with per-app wait queues. */
export class Router<W extends Routable, R extends Queued> {
  readonly #apps = new Map<string, AppRoute<W, R>>();
  /** Items in all queues (cancelled ones included until skipped). */
  #queued = 0;

  /** Declares an app (configured apps only are routable). */
  addApp(app: string): void {
    if (!this.#apps.has(app)) {
      this.#apps.set(app, { ready: [], rr: 0, queue: new Fifo() });
    }
  }

  /** Whether the app is configured. */
  hasApp(app: string): boolean {
    return this.#apps.has(app);
  }

  /** The configured apps, in order. */
  apps(): string[] {
    return [...this.#apps.keys()];
  }

  /** Workers ready for an app. */
  readyWorkers(app: string): readonly W[] {
    return this.#apps.get(app)?.ready ?? [];
  }

  /** Marks a worker ready for an app (it finished loading it). */
  setReady(app: string, worker: W): void {
    const r = this.#apps.get(app);
    if (r && !r.ready.includes(worker)) r.ready.push(worker);
  }

  /** Takes a worker out of every app's rotation. */
  remove(worker: W): void {
    for (const r of this.#apps.values()) {
      const i = r.ready.indexOf(worker);
      if (i >= 0) {
        r.ready.splice(i, 1);
        if (r.rr > i) r.rr--;
        if (r.rr >= r.ready.length) r.rr = 0;
      }
    }
  }

  /**
   * The next ready worker for an app that has a free slot, in round-robin
   * order; `undefined` when all are full or none is ready.
   */
  pick(app: string): W | undefined {
    const r = this.#apps.get(app);
    if (r === undefined) return undefined;
    const n = r.ready.length;
    for (let k = 0; k < n; k++) {
      const i = (r.rr + k) % n;
      const w = r.ready[i]!;
      if (w.load < w.capacity) {
        r.rr = (i + 1) % n;
        return w;
      }
    }
    return undefined;
  }

  /** Queues a request until a worker for its app has room. */
  enqueue(app: string, item: R): void {
    const r = this.#apps.get(app);
    if (r === undefined) return;
    r.queue.push(item);
    this.#queued++;
  }

  /** Requests waiting for an app. */
  queued(app: string): number {
    return this.#apps.get(app)?.queue.length ?? 0;
  }

  /** The next waiting request that this worker can take, if any. */
  next(
    worker: W,
    apps: Iterable<string>,
  ): [string, R] | undefined {
    if (this.#queued === 0 || worker.load >= worker.capacity) return undefined;
    for (const app of apps) {
      const r = this.#apps.get(app);
      if (r === undefined || !r.ready.includes(worker)) continue;
      const before = r.queue.length;
      const item = r.queue.shift();
      this.#queued -= before - r.queue.length;
      if (item !== undefined) return [app, item];
    }
    return undefined;
  }

  /** Removes and returns every waiting request of an app. */
  drain(app: string): R[] {
    const r = this.#apps.get(app);
    if (r === undefined) return [];
    const before = r.queue.length;
    const out = r.queue.drain();
    this.#queued -= before - r.queue.length;
    return out;
  }
}
