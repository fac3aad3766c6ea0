// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import fc from "fast-check";
import { concatBytes } from "../_internal/bytes.ts";
import { fromHex } from "../_test_utils/hex.ts";
import { EOFError, ProtocolError } from "./errors.ts";
import { encodeMessage } from "./message_codec.ts";
import { READ_BUFFER_SIZE, ReadBuffer } from "./_read_buffer.ts";

/** Copies `bytes` into the buffer's free room, as a read would. */
function put(rb: ReadBuffer, bytes: Uint8Array): void {
  const room = rb.space();
  assert.ok(room.length >= bytes.length, "no room");
  room.set(bytes);
  rb.commit(bytes.length);
}

Deno.test("ReadBuffer.take() returns whole messages within the limit, as views or copies", () => {
  const rb = new ReadBuffer();
  put(rb, fromHex("00000002aabb 00000003ccdd"));
  const first = rb.take(10)!;
  assert.deepEqual(first, fromHex("aabb"));
  // Incomplete payload, or over the limit: nothing is consumed.
  assert.equal(rb.take(10), undefined);
  put(rb, fromHex("ee"));
  assert.equal(rb.take(2), undefined);
  const into = new Uint8Array(8);
  const second = rb.take(3, into)!;
  assert.equal(second.buffer, into.buffer);
  assert.deepEqual(second, fromHex("ccddee"));
  assert.equal(rb.buffered, 0);
  // The extended header (-1, then a 64-bit length) for any size.
  put(rb, fromHex("ffffffff00000000"));
  assert.equal(rb.take(10), undefined);
  put(rb, fromHex("0000000101"));
  assert.deepEqual(rb.take(10), fromHex("01"));
  // A malformed header is a typed error.
  put(rb, fromHex("fffffffe"));
  assert.throws(() => rb.take(10), { code: "BAD_LENGTH" });
});

Deno.test("ReadBuffer checks a length against the limit before allocating its payload", () => {
  const rb = new ReadBuffer();
  put(rb, fromHex("ffffffff0000100000000000")); // 2^44 bytes announced
  const h = rb.header()!;
  assert.equal(h.size, 2 ** 44);
  assert.throws(() => rb.begin(h, 1024), {
    name: "ProtocolError",
    code: "MESSAGE_TOO_LARGE",
  });
  // Nothing was consumed.
  assert.equal(rb.buffered, 12);
  assert.equal(rb.partial, null);
});

Deno.test("ReadBuffer assembles a payload across reads and keeps it for the next receive", () => {
  const rb = new ReadBuffer();
  const payload = new Uint8Array(100_000).map((_, i) => i * 7);
  const frame = encodeMessage(payload);
  put(rb, frame.subarray(0, 30_000));
  const h = rb.header()!;
  assert.equal(rb.begin(h, 200_000), undefined);
  assert.equal(rb.partial!.filled, 30_000 - 4);
  assert.equal(rb.hasData, false);
  // A later receive with a smaller limit refuses it and drops it.
  const copy = new ReadBuffer();
  put(copy, frame.subarray(0, 30_000));
  copy.begin(copy.header()!, 200_000);
  assert.throws(() => copy.resume(99_999), { code: "MESSAGE_TOO_LARGE" });
  assert.equal(copy.partial, null);
  // One within the limit continues it: buffered bytes, then a direct read.
  rb.resume(100_000);
  put(rb, frame.subarray(30_000, 60_000));
  assert.equal(rb.assemble(), false);
  const p = rb.partial!;
  p.out.set(frame.subarray(60_000), p.filled);
  p.filled = p.size;
  assert.equal(rb.hasData, true);
  assert.equal(rb.assemble(), true);
  assert.deepEqual(rb.finish(), payload);
  assert.equal(rb.partial, null);
});

Deno.test("ReadBuffer.endOfStream() is an EOFError at a boundary, TRUNCATED elsewhere", () => {
  const rb = new ReadBuffer();
  assert.ok(rb.endOfStream() instanceof EOFError);
  put(rb, fromHex("000000"));
  const inHeader = rb.endOfStream();
  assert.ok(inHeader instanceof ProtocolError);
  assert.equal(inHeader.code, "TRUNCATED");
  assert.match(inHeader.message, /inside a message header after 3 bytes/);
  put(rb, fromHex("05aabb"));
  rb.begin(rb.header()!, 10);
  const inPayload = rb.endOfStream();
  assert.equal(inPayload.code, "TRUNCATED");
  assert.match(inPayload.message, /after 2 of 5 payload bytes/);
  assert.equal(rb.partial, null);
});

Deno.test("ReadBuffer never writes over a message it handed out, through any reads (property)", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.nat(300),
          fc.integer({ min: READ_BUFFER_SIZE / 2, max: 3 * READ_BUFFER_SIZE }),
        ),
        { maxLength: 40 },
      ),
      fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1 }),
      fc.boolean(),
      (sizes, reads, direct) => {
        const messages = sizes.map((n, k) =>
          new Uint8Array(n).map((_, i) => i * 13 + k)
        );
        const stream = concatBytes(messages.map((m) => encodeMessage(m)));
        const rb = new ReadBuffer();
        const got: Uint8Array[] = [];
        let pos = 0;
        let r = 0;
        // What a receiver does: take, else assemble, else read more.
        while (got.length < messages.length) {
          const m = rb.take(Infinity);
          if (m !== undefined) {
            got.push(m);
            continue;
          }
          if (rb.partial === null) {
            const h = rb.header();
            if (h !== undefined) {
              const whole = rb.begin(h, Infinity);
              if (whole !== undefined) got.push(whole);
              continue;
            }
          } else if (rb.assemble()) {
            got.push(rb.finish());
            continue;
          }
          const want = reads[r++ % reads.length]!;
          const p = rb.partial;
          const intoPayload = direct && p !== null;
          const room = intoPayload ? p.out.subarray(p.filled) : rb.space();
          const n = Math.min(want, room.length, stream.length - pos);
          assert.ok(n > 0, "stalled");
          room.set(stream.subarray(pos, pos + n));
          pos += n;
          if (intoPayload) p.filled += n;
          else rb.commit(n);
        }
        assert.deepEqual(got, messages);
        assert.equal(rb.buffered, 0);
      },
    ),
    { numRuns: 200 },
  );
});
