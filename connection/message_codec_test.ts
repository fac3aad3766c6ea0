// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import fc from "fast-check";
import { concatBytes } from "../_internal/bytes.ts";
import { byteByByte, collect, splitAt } from "../_test_utils/chunks.ts";
import { fromHex, toHex } from "../_test_utils/hex.ts";
import { ProtocolError } from "./errors.ts";
import {
  decodeHeader,
  encodeHeader,
  encodeHeaderInto,
  encodeMessage,
  MAX_SHORT_LENGTH,
  MessageDecoder,
} from "./message_codec.ts";
import { MessageDecoderStream } from "./message_decoder_stream.ts";
import { MessageEncoderStream } from "./message_encoder_stream.ts";

const enc = new TextEncoder();

Deno.test("encodeMessage() matches CPython send_bytes output", () => {
  assert.deepEqual(
    toHex(encodeMessage(enc.encode("hello"))),
    "0000000568656c6c6f",
  );
  assert.deepEqual(toHex(encodeMessage(new Uint8Array(0))), "00000000");
  assert.deepEqual(
    toHex(encodeMessage(fromHex("80044e2e"))),
    "0000000480044e2e",
  );
});

Deno.test("encodeHeader() uses the -1 + uint64 form only above 0x7fffffff", () => {
  assert.deepEqual(toHex(encodeHeader(MAX_SHORT_LENGTH)), "7fffffff");
  assert.deepEqual(
    toHex(encodeHeader(MAX_SHORT_LENGTH + 1)),
    "ffffffff0000000080000000",
  );
  assert.deepEqual(
    toHex(encodeHeader(2 ** 40 + 5)),
    "ffffffff0000010000000005",
  );
  assert.throws(() => encodeHeader(-1), RangeError);
  assert.throws(() => encodeHeader(1.5), RangeError);
});

Deno.test("encodeHeaderInto() writes encodeHeader()'s bytes in place and checks the room", () => {
  for (
    const size of [0, 5, MAX_SHORT_LENGTH, MAX_SHORT_LENGTH + 1, 2 ** 40 + 5]
  ) {
    const out = new Uint8Array(15).fill(0xee);
    const n = encodeHeaderInto(size, out, 2);
    assert.equal(n, size > MAX_SHORT_LENGTH ? 12 : 4);
    assert.deepEqual(out.subarray(2, 2 + n), encodeHeader(size));
    assert.deepEqual(out.subarray(0, 2), fromHex("eeee"));
    assert.ok(out.subarray(2 + n).every((b) => b === 0xee));
  }
  assert.throws(() => encodeHeaderInto(1, new Uint8Array(3)), RangeError);
  assert.throws(
    () => encodeHeaderInto(MAX_SHORT_LENGTH + 1, new Uint8Array(12), 1),
    RangeError,
  );
  assert.throws(() => encodeHeaderInto(-1, new Uint8Array(4)), RangeError);
  assert.throws(() => encodeHeaderInto(NaN, new Uint8Array(12)), RangeError);
});

Deno.test("decodeHeader() reads both forms and refuses other negative lengths", () => {
  assert.deepEqual(decodeHeader(fromHex("7fffffff")), {
    size: MAX_SHORT_LENGTH,
    headerLength: 4,
  });
  // A CPython receiver accepts the extended form even for tiny sizes.
  assert.deepEqual(decodeHeader(fromHex("ffffffff0000000000000003")), {
    size: 3,
    headerLength: 12,
  });
  assert.deepEqual(decodeHeader(fromHex("ffffffff00000000")), undefined);
  assert.deepEqual(decodeHeader(fromHex("000000")), undefined);
  assert.deepEqual(decodeHeader(fromHex("aa00000005"), 1), {
    size: 5,
    headerLength: 4,
  });
  assert.throws(() => decodeHeader(fromHex("fffffffe")), {
    name: "ProtocolError",
    code: "BAD_LENGTH",
    message: /negative length -2/,
  });
  assert.throws(() => decodeHeader(fromHex("80000000")), {
    name: "ProtocolError",
    code: "BAD_LENGTH",
    message: /negative/,
  });
  assert.throws(() => decodeHeader(fromHex("ffffffffffffffffffffffff")), {
    name: "ProtocolError",
    code: "BAD_LENGTH",
    message: /too large/,
  });
});

Deno.test("MessageDecoder decodes the extended header for a 3-byte message", () => {
  const d = new MessageDecoder();
  assert.deepEqual(d.push(fromHex("ffffffff000000000000000378797a")), [
    enc.encode("xyz"),
  ]);
  for (
    const chunk of byteByByte(fromHex("ffffffff000000000000000378797a00000000"))
  ) {
    for (const m of d.push(chunk)) assert.ok(m.length === 3 || m.length === 0);
  }
  assert.ok(d.atBoundary);
});

Deno.test("MessageDecoder checks maxMessageSize on the header, before the payload", () => {
  const d = new MessageDecoder({ maxMessageSize: 10 });
  assert.deepEqual(d.push(fromHex("0000000a")).length, 0);
  d.push(new Uint8Array(10));
  // 4 GiB announced: refused without allocating.
  const big = new MessageDecoder({ maxMessageSize: 1024 });
  assert.throws(() => big.push(fromHex("ffffffff0000000100000000")), {
    name: "ProtocolError",
    code: "MESSAGE_TOO_LARGE",
    message: /exceeds/,
  });
  const split = new MessageDecoder({ maxMessageSize: 3 });
  split.push(fromHex("0000"));
  assert.throws(() => split.push(fromHex("0004")), {
    name: "ProtocolError",
    code: "MESSAGE_TOO_LARGE",
    message: /exceeds the maximum of 3/,
  });
  assert.throws(() => new MessageDecoder({ maxMessageSize: -1 }), RangeError);
});

Deno.test("MessageDecoder.finish() refuses truncation at every byte offset", () => {
  const stream = concatBytes([
    encodeMessage(enc.encode("hello")),
    encodeMessage(new Uint8Array(0)),
  ]);
  const boundaries = new Set([0, 9, 13]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new MessageDecoder();
    d.push(stream.subarray(0, cut));
    if (boundaries.has(cut)) d.finish();
    else {
      assert.throws(() => d.finish(), {
        name: "ProtocolError",
        code: "TRUNCATED",
        message: /stream ended/,
      });
    }
  }
  const ext = fromHex("ffffffff0000000000000002abcd");
  for (let cut = 1; cut < ext.length; cut++) {
    const d = new MessageDecoder();
    d.push(ext.subarray(0, cut));
    assert.throws(() => d.finish(), { code: "TRUNCATED" });
  }
});

Deno.test("MessageDecoder round-trips any messages through any re-chunking (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
      fc.array(fc.nat(8000), { maxLength: 30 }),
      fc.boolean(),
      (messages, cuts, extended) => {
        const frames = messages.map((m) =>
          extended
            ? concatBytes([fromHex("ffffffff00000000"), encodeMessage(m)])
            : encodeMessage(m)
        );
        // The extended header: -1, then uint64 high word 0, then the 4-byte length.
        const stream = concatBytes(frames);
        const d = new MessageDecoder();
        const out: Uint8Array[] = [];
        for (const chunk of splitAt(stream, cuts)) {
          for (const m of d.push(chunk)) {
            out.push(m.slice());
          }
        }
        d.finish();
        assert.deepEqual(out, messages);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("MessageDecoder refuses malformed input with a typed error, never a crash (property)", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 64 }),
      fc.array(fc.nat(64), { maxLength: 8 }),
      (bytes, cuts) => {
        const d = new MessageDecoder({ maxMessageSize: 1000 });
        try {
          for (const chunk of splitAt(bytes, cuts)) d.push(chunk);
          d.finish();
        } catch (e) {
          assert.ok(e instanceof ProtocolError, String(e));
          assert.ok(
            ["BAD_LENGTH", "MESSAGE_TOO_LARGE", "TRUNCATED"].includes(e.code),
            e.code,
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("MessageDecoderStream and MessageEncoderStream round-trip", async () => {
  const messages = [
    enc.encode("a"),
    new Uint8Array(0),
    new Uint8Array(70000).fill(3),
  ];
  const bytes = await collect(messages, new MessageEncoderStream());
  assert.deepEqual(bytes.map((b) => b.length), [5, 4, 70004]);
  const stream = concatBytes(bytes);
  const out = await collect(
    splitAt(stream, [1, 2, 7, 9, 100, 40000]),
    new MessageDecoderStream(),
  );
  assert.deepEqual(out, messages);
});

Deno.test("MessageDecoderStream errors on truncation and oversize", async () => {
  await assert.rejects(
    collect([fromHex("0000000568")], new MessageDecoderStream()),
    { name: "ProtocolError", code: "TRUNCATED", message: /stream ended/ },
  );
  await assert.rejects(
    collect(
      [fromHex("00000005")],
      new MessageDecoderStream({ maxMessageSize: 4 }),
    ),
    { name: "ProtocolError", code: "MESSAGE_TOO_LARGE", message: /exceeds/ },
  );
});
