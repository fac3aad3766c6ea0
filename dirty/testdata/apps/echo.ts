// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Test fixture: a dirty app with one action of each kind.
import { DirtyApp, requestSignal } from "../../app.ts";
import { DirtyFloat } from "../../dirty_float.ts";

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
    const signal = requestSignal();
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      });
    });
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

/** Asks for a floats mode that does not exist. */
export class BadFloatsApp extends DirtyApp {
  static override floats = "exact" as unknown as "number";

  hello(): string {
    return "never";
  }
}
