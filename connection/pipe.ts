// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `pipe()`: two connected in-memory connections, like Python's
 * `multiprocessing.Pipe()`.
 *
 * @module
 */
import { Connection } from "./connection.ts";
import type { ConnectionOptions } from "./connection_options.ts";

/**
 * Creates two connected in-memory connections, like Python's
 * `multiprocessing.Pipe()` (duplex). Useful for tests and examples.
 *
 * @typeParam T The value type of `send()`/`recv()`.
 * @param options Options for both ends.
 * @returns The two ends.
 *
 * @example Usage
 * ```ts
 * import { pipe } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipe();
 * await b.sendBytes(new Uint8Array([1]));
 * assert.deepEqual(await a.recvBytes(), new Uint8Array([1]));
 * await a.close();
 * await b.close();
 * ```
 */
export function pipe<T = unknown>(
  options: ConnectionOptions<T> = {},
): [Connection<T>, Connection<T>] {
  // Buffer up to 1 MiB in each direction, like a socket's kernel buffers.
  const strategy = (): QueuingStrategy<Uint8Array> => ({
    highWaterMark: 1024 * 1024,
    size: (chunk) => chunk.byteLength,
  });
  const ab = new TransformStream<Uint8Array, Uint8Array>(
    {},
    strategy(),
    strategy(),
  );
  const ba = new TransformStream<Uint8Array, Uint8Array>(
    {},
    strategy(),
    strategy(),
  );
  return [
    new Connection<T>(
      { readable: ba.readable, writable: ab.writable },
      options,
    ),
    new Connection<T>(
      { readable: ab.readable, writable: ba.writable },
      options,
    ),
  ];
}
