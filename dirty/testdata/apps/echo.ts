// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Test fixture: a dirty app with one action of each kind.
import { delay } from "../../../_internal/timers.ts";
import { DirtyApp, requestSignal } from "../../app.ts";
import { DirtyFloat } from "../../dirty_float.ts";
import { StashClient } from "../../stash_client.ts";

/** Resolves after `ms`, or at once when the current request is given up. */
function nap(ms: number, signal = requestSignal()): Promise<void> {
  return delay(ms, signal).catch(() => {});
}

export class EchoApp extends DirtyApp {
  calls = 0;
  ready = false;

  override init(): void {
    this.ready = true;
  }

  echo(...args: unknown[]): unknown[] {
    this.calls++;
    return args;
  }

  add(a: number, b: number): number {
    return a + b;
  }

  kept: unknown = null;

  /** Keeps a value in the app's state, for recall(). */
  keep(value: unknown): null {
    this.kept = value;
    return null;
  }

  recall(): unknown {
    return this.kept;
  }

  /** Adds 1 to `d.n` in place and returns `d`. */
  bump(d: { n: number }): { n: number } {
    d.n += 1;
    return d;
  }

  /** Streams each item given. */
  *each(items: unknown[]): Generator<unknown> {
    yield* items;
  }

  kw(a: number): number {
    return a * ((this.kwargs as { scale?: number }).scale ?? 1);
  }

  /** Its args and kwargs, as gunicorn's demo app's `probe`. */
  probe(...args: unknown[]): { args: unknown[]; kwargs: unknown } {
    return { args, kwargs: this.kwargs };
  }

  pid(): number {
    return Deno.pid;
  }

  fail(message: string): never {
    throw new Error(message);
  }

  async sleep(ms: number): Promise<number> {
    await nap(ms);
    return ms;
  }

  #waiting: (() => void)[] = [];

  /** True when `n` calls are in here at once (within `ms`). */
  async barrier(n: number, ms: number): Promise<boolean> {
    if (this.#waiting.length + 1 >= n) {
      for (const w of this.#waiting.splice(0)) w();
      return true;
    }
    return await new Promise<boolean>((resolve) => {
      const wake = () => {
        clearTimeout(t);
        resolve(true);
      };
      const t = setTimeout(() => {
        this.#waiting = this.#waiting.filter((w) => w !== wake);
        resolve(false);
      }, ms);
      this.#waiting.push(wake);
    });
  }

  /** Blocks the event loop (a wedged worker). */
  spin(ms: number): number {
    const end = Date.now() + ms;
    while (Date.now() < end) { /* busy */ }
    return ms;
  }

  *stream(n: number): Generator<string> {
    for (let i = 0; i < n; i++) yield `tok${i}`;
  }

  async *astream(n: number): AsyncGenerator<Record<string, number>> {
    for (let i = 0; i < n; i++) {
      await new Promise((r) => setTimeout(r, 1));
      yield { i };
    }
  }

  aborted = 0;

  /** Streams until aborted; counts the streams that saw their abort. */
  async *forever(): AsyncGenerator<number> {
    try {
      for (let i = 0;; i++) {
        await new Promise((r) => setTimeout(r, 2));
        yield i;
      }
    } finally {
      this.aborted++;
    }
  }

  abortedStreams(): number {
    return this.aborted;
  }

  *streamFail(n: number): Generator<string> {
    for (let i = 0; i < n; i++) yield `tok${i}`;
    throw new Error("stream broke");
  }

  /** Counts of requests that started, and that saw their signal abort. */
  started = 0;
  abortsSeen = 0;

  /** Waits until the request is given up (or `ms`); counts what it saw. */
  async waitForAbort(ms = 60_000): Promise<boolean> {
    this.started++;
    const signal = requestSignal();
    await nap(ms, signal);
    if (signal.aborted) this.abortsSeen++;
    return signal.aborted;
  }

  /** Sleeps `ms` whatever happens (ignores its signal). */
  async stubborn(ms: number): Promise<number> {
    this.started++;
    await new Promise((r) => setTimeout(r, ms));
    return ms;
  }

  counts(): { started: number; abortsSeen: number; aborted: number } {
    return {
      started: this.started,
      abortsSeen: this.abortsSeen,
      aborted: this.aborted,
    };
  }

  /** Yields `i` every `ms` (cut short by its signal) until stopped. */
  async *ticks(ms: number): AsyncGenerator<number> {
    try {
      for (let i = 0;; i++) {
        yield i;
        await nap(ms);
      }
    } finally {
      this.aborted++;
    }
  }

  /** Yields `size` bytes again and again, as fast as it is pulled. */
  *flood(size: number): Generator<Uint8Array> {
    const chunk = new Uint8Array(size);
    try {
      for (;;) yield chunk;
    } finally {
      this.aborted++;
    }
  }

  /** Answers, then throws from a timer (an uncaught error in app code). */
  throwLater(message: string): string {
    setTimeout(() => {
      throw new Error(message);
    }, 20);
    return "ok";
  }

  /** Answers, and leaves a rejected promise unhandled. */
  rejectLater(message: string): string {
    Promise.reject(new Error(message));
    return "ok";
  }

  /** Puts a value in the stash and reads it back, from inside the worker. */
  async stashRoundTrip(value: string): Promise<unknown> {
    await using stash = new StashClient();
    await stash.put("from_worker", "k", value);
    return await stash.get("from_worker", "k");
  }

  unsupported(): unknown {
    return new Set([1]);
  }

  _secret(): string {
    return "hidden";
  }
}

/** Hosted on one worker only. */
export class LimitedApp extends DirtyApp {
  static override workers = 1;

  whoami(): number {
    return Deno.pid;
  }
}

/** init() always throws. */
export class BrokenApp extends DirtyApp {
  override init(): void {
    throw new Error("broken init");
  }

  hello(): string {
    return "never";
  }
}

/** A stateful counter, for routing checks. */
export class CounterApp extends DirtyApp {
  n = 0;

  incr(): number {
    return ++this.n;
  }
}

/** init() takes a while (async). */
export class SlowInitApp extends DirtyApp {
  booted = false;

  override async init(): Promise<void> {
    await new Promise((r) => setTimeout(r, 400));
    this.booted = true;
  }

  isBooted(): boolean {
    return this.booted;
  }
}

/** init() blocks the event loop for 3 s: a worker stuck in boot. */
export class StuckInitApp extends DirtyApp {
  override init(): void {
    const end = Date.now() + 3000;
    while (Date.now() < end) { /* busy */ }
  }

  hello(): string {
    return "late";
  }
}

/** Sees integral floats as DirtyFloat (`static floats = "tagged"`). */
export class ExactEchoApp extends DirtyApp {
  static override floats = "tagged" as const;

  echo(...args: unknown[]): unknown[] {
    return args;
  }

  double(x: number | DirtyFloat): DirtyFloat {
    return new DirtyFloat(+x * 2);
  }

  probe(...args: unknown[]): { args: unknown[]; kwargs: unknown } {
    return { args, kwargs: this.kwargs };
  }
}

/** Receives dicts as Maps: key order is kept end to end. */
export class OrderedApp extends DirtyApp {
  static override dicts = "map" as const;

  echo(...args: unknown[]): unknown[] {
    return args;
  }

  keys(d: Map<string, unknown>): string[] {
    return [...d.keys()];
  }

  probe(...args: unknown[]): { args: unknown[]; kwargs: unknown } {
    return { args, kwargs: this.kwargs };
  }
}

/** Asks for a floats mode that does not exist. */
export class BadFloatsApp extends DirtyApp {
  static override floats = "exact" as unknown as "number";

  hello(): string {
    return "never";
  }
}

/**
 * Its `close()` takes 300 ms, then writes `closed` to
 * `<tmp>/sidecar-dirty-close-<worker pid>` (the worker needs write access
 * there): a stop that does not wait for `close()` leaves no file.
 */
export class SlowCloseApp extends DirtyApp {
  pid(): number {
    return Deno.pid;
  }

  override async close(): Promise<void> {
    await new Promise((r) => setTimeout(r, 300));
    await Deno.writeTextFile(closeMarkPath(Deno.pid), "closed");
  }
}

/** Where {@linkcode SlowCloseApp} of worker `pid` writes its mark. */
export function closeMarkPath(pid: number): string {
  return `${Deno.env.get("TMPDIR") ?? "/tmp"}/sidecar-dirty-close-${pid}`;
}
