// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { DEFAULT_COPY_LIMIT } from "../_internal/write_queue.ts";
import { getIdNumber } from "./_frame_io.ts";
import { WorkerLink } from "./_worker_link.ts";
import { encodeChunk, encodeEnd } from "./message_encoders.ts";

/** A connection that reads `chunks` in turn (into the caller's buffer), then ends. */
function fakeConn(chunks: Uint8Array[]): Deno.UnixConn {
  return {
    read(p: Uint8Array): Promise<number | null> {
      const c = chunks.shift();
      if (c === undefined) return Promise.resolve(null);
      p.set(c);
      return Promise.resolve(c.length);
    },
    write: (p: Uint8Array) => Promise.resolve(p.length),
    close() {},
  } as unknown as Deno.UnixConn;
}

Deno.test("worker link: small frames are views for the moment, large ones stay intact after later reads", async () => {
  const big = encodeChunk(2n, "b".repeat(DEFAULT_COPY_LIMIT + 100));
  const frames = [encodeChunk(1n, "small"), big, encodeEnd(3n), encodeEnd(4n)];
  // Each read overwrites the start of the link's read buffer.
  const link = new WorkerLink(fakeConn(frames.map((f) => f.slice())));
  const kept: Uint8Array[] = [];
  link.onFrame = (f) => {
    assert.equal(getIdNumber(f.bytes), kept.length + 1);
    // As a client's write queue does: a small frame is copied at once, a
    // larger one kept as it is.
    kept.push(
      f.bytes.length <= DEFAULT_COPY_LIMIT ? f.bytes.slice() : f.bytes,
    );
  };
  assert.equal(await link.run(), "it closed its connection");
  assert.deepEqual(kept, frames);
});

Deno.test("worker link: a large frame completed over several reads is copied once", async () => {
  const big = encodeChunk(1n, "b".repeat(DEFAULT_COPY_LIMIT * 2));
  const half = big.length >> 1;
  const link = new WorkerLink(
    fakeConn([big.slice(0, half), big.slice(half), encodeEnd(2n)]),
  );
  const kept: Uint8Array[] = [];
  link.onFrame = (f) => {
    kept.push(f.bytes.length <= DEFAULT_COPY_LIMIT ? f.bytes.slice() : f.bytes);
  };
  // Count the copies of frames as big as this one.
  const proto = Object.getPrototypeOf(Uint8Array.prototype) as {
    slice(this: Uint8Array, s?: number, e?: number): Uint8Array;
  };
  const slice = proto.slice;
  let copies = 0;
  proto.slice = function (this: Uint8Array, s?: number, e?: number) {
    const out = slice.call(this, s, e);
    if (out.length === big.length) copies++;
    return out;
  };
  try {
    assert.equal(await link.run(), "it closed its connection");
  } finally {
    proto.slice = slice;
  }
  assert.deepEqual(kept, [big, encodeEnd(2n)]);
  assert.equal(copies, 1);
});
