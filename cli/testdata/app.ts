// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Test fixture: a dirty app for the `ipc dirty` command tests.
import { delay } from "../../_internal/timers.ts";
import { requestKwargs, requestSignal } from "../../dirty/app.ts";

export class TestApp {
  add(a: number, b: number): number {
    return a + b;
  }

  echo(...args: unknown[]): unknown[] {
    return args;
  }

  scale(a: number): number {
    return a * ((requestKwargs() as { by?: number }).by ?? 1);
  }

  fail(message: string): never {
    throw new Error(message);
  }

  *count(n: number): Generator<string> {
    for (let i = 0; i < n; i++) yield `tok${i}`;
  }

  /** Waits `ms`, or less when the arbiter gives up on the request. */
  async slow(ms: number): Promise<number> {
    await delay(ms, requestSignal()).catch(() => {});
    return ms;
  }
}

/** Imports fine, then fails in every worker: its constructor throws. */
export class BrokenApp {
  constructor() {
    throw new Error("cannot open the model file");
  }
}
