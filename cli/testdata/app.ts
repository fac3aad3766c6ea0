// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Test fixture: a dirty app for the `ipc dirty` command tests.

export class TestApp {
  add(a: number, b: number): number {
    return a + b;
  }

  echo(...args: unknown[]): unknown[] {
    return args;
  }

  scale(a: number, kwargs: { by?: number }): number {
    return a * (kwargs?.by ?? 1);
  }

  fail(message: string): never {
    throw new Error(message);
  }

  *count(n: number): Generator<string> {
    for (let i = 0; i < n; i++) yield `tok${i}`;
  }

  async slow(ms: number): Promise<number> {
    await new Promise((r) => setTimeout(r, ms));
    return ms;
  }
}
