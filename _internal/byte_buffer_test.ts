// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import fc from "fast-check";
import { ByteBuffer } from "./byte_buffer.ts";

Deno.test("ByteBuffer appends, consumes and takes in order", () => {
  const b = new ByteBuffer();
  b.append(new Uint8Array([1, 2, 3]));
  b.append(new Uint8Array([4]));
  assert.deepEqual(b.bytes, new Uint8Array([1, 2, 3, 4]));
  b.consume(1);
  assert.deepEqual(b.take(2), new Uint8Array([2, 3]));
  assert.equal(b.length, 1);
  assert.throws(() => b.consume(2), RangeError);
  assert.throws(() => b.take(-1), RangeError);
  const room = b.reserve(3);
  room.set([5, 6]);
  b.commit(2);
  assert.deepEqual(b.bytes, new Uint8Array([4, 5, 6]));
  assert.throws(() => b.commit(1 << 20), RangeError);
  b.clear(true);
  assert.equal(b.length, 0);
  assert.equal(b.capacity, 0);
});

Deno.test("ByteBuffer matches a plain array model (fast-check)", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((a) => ({ add: a })),
          fc.nat(400).map((n) => ({ drop: n })),
        ),
        { maxLength: 60 },
      ),
      (ops) => {
        const b = new ByteBuffer();
        let model: number[] = [];
        for (const op of ops) {
          if ("add" in op) {
            b.append(op.add);
            model = model.concat([...op.add]);
          } else {
            const n = Math.min(op.drop, model.length);
            b.consume(n);
            model = model.slice(n);
          }
          assert.deepEqual([...b.bytes], model);
        }
      },
    ),
  );
});

Deno.test("ByteBuffer stays within twice the bytes held when a stream passes through", () => {
  // A stream of 1 MiB in 1000-byte appends, consumed down to < 2000 bytes
  // each time: the capacity stays small (no growth from consumed space).
  const b = new ByteBuffer();
  const chunk = new Uint8Array(1000);
  for (let i = 0; i < 1024; i++) {
    b.append(chunk);
    if (b.length > 1500) b.consume(b.length - 500);
  }
  assert.ok(b.capacity <= 4096, `capacity ${b.capacity}`);
});
