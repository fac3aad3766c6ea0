// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BATCH_SIZE,
  type ByteSink,
  streamSink,
  WriteQueue,
} from "./write_queue.ts";

/** A sink whose writes wait until the test lets them finish. */
class ManualSink implements ByteSink {
  writes: Uint8Array[] = [];
  pending: {
    data: Uint8Array;
    resolve(n: number): void;
    reject(e: unknown): void;
  }[] = [];
  /** Bytes accepted per write at most (partial writes). */
  max = Infinity;
  write(p: Uint8Array): Promise<number> {
    const w = Promise.withResolvers<number>();
    this.pending.push({ data: p, resolve: w.resolve, reject: w.reject });
    return w.promise;
  }
  /** Completes the oldest write (as much as `max` allows); keeps a copy. */
  async step(): Promise<void> {
    const w = this.pending.shift()!;
    const n = Math.min(w.data.length, this.max);
    this.writes.push(w.data.slice(0, n));
    w.resolve(n);
    await tick();
  }
  all(): number[] {
    return this.writes.flatMap((w) => [...w]);
  }
}

async function tick(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

Deno.test("WriteQueue writes the first chunk at once and coalesces the rest into one write", async () => {
  const sink = new ManualSink();
  const q = new WriteQueue(sink);
  q.push(new Uint8Array([1]));
  assert.equal(sink.pending.length, 1);
  q.push(new Uint8Array([2]));
  q.push(new Uint8Array([3, 4]));
  assert.equal(q.size, 4);
  await sink.step();
  assert.equal(sink.pending.length, 1);
  assert.deepEqual([...sink.pending[0]!.data], [2, 3, 4]);
  await sink.step();
  assert.equal(q.size, 0);
  assert.equal(q.busy, false);
  assert.deepEqual(sink.all(), [1, 2, 3, 4]);
});

Deno.test("WriteQueue copies small chunks and writes large ones from the caller's memory, in order", async () => {
  const sink = new ManualSink();
  const q = new WriteQueue(sink, { copyLimit: 4 });
  const small = new Uint8Array([1, 2]);
  const large = new Uint8Array([3, 4, 5, 6, 7]);
  q.push(new Uint8Array([0]));
  q.push(small);
  small.fill(9); // the caller reuses its buffer at once
  q.push(large);
  q.push(new Uint8Array([8]));
  const flushed = q.flush();
  while (sink.pending.length > 0) await sink.step();
  await flushed;
  assert.deepEqual(sink.all(), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(
    sink.writes.some((w) => w.length === 5),
    "large chunk written on its own",
  );
});

Deno.test("WriteQueue.write() resolves when its bytes are written; partial writes continue", async () => {
  const sink = new ManualSink();
  sink.max = 2;
  const q = new WriteQueue(sink);
  let done = false;
  q.push(new Uint8Array([1, 2, 3]));
  const p = q.write(new Uint8Array([4, 5, 6])).then(() => done = true);
  while (!done && sink.pending.length > 0) await sink.step();
  await p;
  assert.deepEqual(sink.all(), [1, 2, 3, 4, 5, 6]);
  // An empty write is a barrier for what came before it.
  q.push(new Uint8Array([7]));
  let barrier = false;
  const b = q.write(new Uint8Array(0)).then(() => barrier = true);
  await tick();
  assert.equal(barrier, false);
  await sink.step();
  await b;
});

Deno.test("WriteQueue counts queued bytes against the high-water mark", async () => {
  const sink = new ManualSink();
  const q = new WriteQueue(sink, { highWaterMark: 4 });
  assert.equal(q.push(new Uint8Array(3)), true);
  assert.equal(q.push(new Uint8Array(2)), false);
  assert.equal(q.full, true);
  let ready = false;
  const r = q.ready().then(() => ready = true);
  const c = new AbortController();
  const aborted = q.ready(c.signal);
  c.abort(new Error("stop waiting"));
  await assert.rejects(aborted, /stop waiting/);
  await tick();
  assert.equal(ready, false);
  await sink.step(); // 3 written, 2 left
  await r;
  assert.equal(q.size, 2);
});

Deno.test("WriteQueue fails everything once a write fails, and reports it once", async () => {
  const sink = new ManualSink();
  const errors: unknown[] = [];
  const q = new WriteQueue(sink, {
    highWaterMark: 1,
    mapError: (e) => new Error("wrapped", { cause: e }),
    onError: (e) => errors.push(e),
  });
  q.push(new Uint8Array([1]));
  const w = q.write(new Uint8Array([2]));
  const ready = q.ready();
  const flushed = q.flush();
  sink.pending.shift()!.reject(new Error("EPIPE"));
  await assert.rejects(w, /wrapped/);
  await assert.rejects(ready, /wrapped/);
  await assert.rejects(flushed, /wrapped/);
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error).cause instanceof Error, true);
  assert.equal(q.failed, true);
  assert.equal(q.push(new Uint8Array([3])), false);
  await assert.rejects(q.write(new Uint8Array([4])), /wrapped/);
  assert.equal(q.size, 0);
  assert.equal(sink.pending.length, 0);
});

Deno.test("WriteQueue.discard() rejects what is queued with the reason and stops writing", async () => {
  const sink = new ManualSink();
  const q = new WriteQueue(sink);
  q.push(new Uint8Array([1]));
  const w = q.write(new Uint8Array([2]));
  q.discard(new Error("aborted"));
  await assert.rejects(w, /aborted/);
  await assert.rejects(q.flush(), /aborted/);
  await sink.step(); // the write in flight ends; nothing follows
  await q.settled;
  assert.equal(sink.pending.length, 0);
  assert.deepEqual(sink.all(), [1]);
});

Deno.test("WriteQueue.reserve() encodes in place; kick() starts the write", async () => {
  const sink = new ManualSink();
  const q = new WriteQueue(sink);
  const at = q.reserve(3);
  q.buffer.set([7, 8, 9], at);
  assert.equal(q.size, 3);
  assert.equal(sink.pending.length, 0);
  q.kick();
  await sink.step();
  assert.deepEqual(sink.all(), [7, 8, 9]);
  assert.throws(() => q.reserve(BATCH_SIZE + 1), RangeError);
});

Deno.test("WriteQueue.cork() holds and counts what is queued; uncork() writes it in order", async () => {
  const sink = new ManualSink();
  const q = new WriteQueue(sink, { highWaterMark: 4 });
  q.push(new Uint8Array([1]));
  q.cork();
  assert.equal(q.corked, true);
  q.push(new Uint8Array([2, 3]));
  const at = q.reserve(1);
  q.buffer[at] = 4;
  q.kick();
  const big = q.write(new Uint8Array([5, 6]));
  assert.equal(q.size, 6);
  assert.equal(q.full, true);
  let flushed = false;
  const f = q.flush().then(() => flushed = true);
  await sink.step(); // the write in flight when corked ends; nothing follows
  assert.equal(sink.pending.length, 0);
  assert.equal(flushed, false);
  assert.equal(q.size, 5);
  q.uncork();
  while (sink.pending.length > 0) await sink.step();
  await big;
  await f;
  assert.deepEqual(sink.all(), [1, 2, 3, 4, 5, 6]);
  assert.equal(q.corked, false);
});

Deno.test("WriteQueue holds about the bytes queued, not a batch buffer per small write", async () => {
  // A sink that keeps every chunk (as a stream with a slow reader does):
  // the memory it holds is what the queue handed it.
  const kept: Uint8Array[] = [];
  const sink: ByteSink = {
    write(p) {
      kept.push(p);
      return Promise.resolve(p.length);
    },
  };
  for (const corked of [false, true]) {
    kept.length = 0;
    const q = new WriteQueue(sink, { sinkKeepsChunks: true });
    if (corked) q.cork();
    let queued = 0;
    for (let i = 0; i < 500; i++) {
      // A header, then a large payload by reference (as frames are sent).
      const at = q.reserve(8);
      q.buffer.fill(i & 0xff, at, at + 8);
      q.push(new Uint8Array(20000));
      queued += 20008;
      if (!corked) await q.flush();
    }
    if (corked) q.uncork();
    await q.flush();
    const held = kept.reduce((n, c) => n + c.buffer.byteLength, 0);
    assert.ok(held < 2 * queued, `held ${held} for ${queued} queued`);
  }
});

Deno.test("WriteQueue reuses two batch buffers: pushing while a write is in flight allocates none after the first", async () => {
  const sink = new ManualSink();
  const q = new WriteQueue(sink);
  const seen = new Set<ArrayBufferLike>();
  for (let round = 0; round < 20; round++) {
    // One push is written at once, the next fills another batch meanwhile.
    q.push(Uint8Array.of(round));
    seen.add(sink.pending.at(-1)!.data.buffer);
    q.push(Uint8Array.of(round, round));
    while (sink.pending.length > 0) {
      seen.add(sink.pending[0]!.data.buffer);
      await sink.step();
    }
  }
  // With a single spare slot, every round allocated a new 64 KiB batch.
  assert.equal(seen.size, 2);
  assert.equal(sink.all().length, 60);
});

Deno.test("WriteQueue reuses batch buffers, but not over a sink that keeps chunks", async () => {
  const chunks: Uint8Array[] = [];
  const ts = new TransformStream<Uint8Array, Uint8Array>();
  const reading = (async () => {
    for await (const c of ts.readable) chunks.push(c);
  })();
  const writer = ts.writable.getWriter();
  const q = new WriteQueue(streamSink(writer), { sinkKeepsChunks: true });
  for (let i = 0; i < 50; i++) {
    q.push(new Uint8Array([i]));
    await q.flush();
  }
  await writer.close();
  await reading;
  assert.deepEqual(chunks.flatMap((c) => [...c]), [...Array(50).keys()]);
});

Deno.test("WriteQueue delivers any mix of pushes, writes and partial writes in order (fast-check)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          len: fc.oneof(fc.nat(40), fc.integer({ min: 16000, max: 70000 })),
          kind: fc.constantFrom("push", "write"),
        }),
        { maxLength: 30 },
      ),
      fc.integer({ min: 1, max: 100000 }),
      async (ops, max) => {
        const sink = new ManualSink();
        sink.max = max;
        const q = new WriteQueue(sink, { highWaterMark: 1000 });
        const expected: number[] = [];
        let seq = 0;
        const waits: Promise<void>[] = [];
        for (const op of ops) {
          const a = new Uint8Array(op.len);
          for (let i = 0; i < a.length; i++) a[i] = seq++ & 0xff;
          expected.push(...a);
          if (op.kind === "push") q.push(a);
          else waits.push(q.write(a));
          if (sink.pending.length > 0 && seq % 3 === 0) await sink.step();
        }
        const flushed = q.flush();
        while (sink.pending.length > 0) await sink.step();
        await flushed;
        await Promise.all(waits);
        assert.equal(q.size, 0);
        assert.deepEqual(sink.all(), expected);
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("WriteQueue handles many queued large chunks in linear time", async () => {
  // 20,000 queued entries: taking them one by one must not shift the
  // array each time.
  const sink = new ManualSink();
  const q = new WriteQueue(sink, { copyLimit: 0 });
  for (let i = 0; i < 20000; i++) q.push(new Uint8Array([i & 0xff]));
  let n = 0;
  while (sink.pending.length > 0) {
    const w = sink.pending.shift()!;
    n += w.data.length;
    w.resolve(w.data.length);
    await Promise.resolve();
    await Promise.resolve();
  }
  assert.equal(n, 20000);
  assert.equal(q.size, 0);
});
