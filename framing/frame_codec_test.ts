// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Frame codec and human form; cases from Mercurial's
// tests/test-wireproto-framing.py plus our 24-bit length and robustness
// checks (fast-check re-chunking, random bytes into the reactors).
import fc from "fast-check";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../_test_utils/hex.ts";
import { concatBytes } from "../_internal/bytes.ts";
import { byteByByte, collect, splitAt } from "../_test_utils/chunks.ts";
import {
  ClientReactor,
  createCommandFrames,
  createTextOutputFrame,
  decodeFrames,
  describeFrame,
  encodeFrame,
  encodeFrameChunks,
  encodeFrameParts,
  encodeFrames,
  type Frame,
  FrameBatchDecoderStream,
  FrameDecoder,
  FrameDecoderStream,
  FrameEncoder,
  FrameEncoderStream,
  frameFromHumanString as ffs,
  FramingError,
  OutputStream,
  scanFrames,
  ServerReactor,
} from "./mod.ts";
import { turn } from "../_test_utils/wait.ts";

const hex = (f: Frame): string => toHex(encodeFrame(f));

Deno.test("human form: Mercurial's FrameHumanStringTests", () => {
  const cases: [string, string][] = [
    ["1 1 0 1 0 ", "0000000100010010"],
    ["2 4 0 1 0 ", "0000000200040010"],
    ["2 4 0 1 0 foo", "030000020004001066" + "6f6f"],
    ["1 1 0 1 0 cbor:15", "01000001000100100f"],
    ["1 1 0 1 0 cbor:42", "0200000100010010182a"],
    ["1 1 0 1 0 cbor:1048576", "05000001000100101a00100000"],
    ["1 1 0 1 0 cbor:0", "010000010001001000"],
    ["1 1 0 1 0 cbor:-1", "010000010001001020"],
    ["1 1 0 1 0 cbor:-342542", "05000001000100103a00053a0d"],
    ["1 1 0 1 0 cbor:b'foo'", "040000010001001043666f6f"],
    [
      "1 1 0 1 0 cbor:[None, True, False, 42, b'foo']",
      "0a0000010001001085f6f5f4182a43666f6f",
    ],
    [
      "1 1 0 1 0 cbor:{b'foo': b'val1', b'bar': b'val2'}",
      "13000001000100" + "10a243626172447661" + "6c3243666f6f4476616c31",
    ],
  ];
  for (const [text, expected] of cases) {
    assert.deepStrictEqual(hex(ffs(text)), expected, text);
  }
  assert.throws(() => ffs("1 1 0 4 0 "), SyntaxError);
  assert.throws(() => ffs("1 1 bogus 1 0 "), SyntaxError);
  // Names of Object.prototype are not flag or type names.
  assert.throws(() => ffs("1 1 constructor 1 new "), SyntaxError);
  assert.throws(() => ffs("1 1 0 1 toString "), SyntaxError);
  assert.throws(
    () => ffs("1 1 0 toString 0 "),
    (e) =>
      e instanceof SyntaxError &&
      e.message.includes('unknown frame type "toString"'),
  );
  assert.deepStrictEqual([...ffs("1 1 0 1 0 a\\x00\\\\b\\n").payload], [
    0x61,
    0,
    0x5c,
    0x62,
    10,
  ]);
});

Deno.test("command frames: Mercurial's FrameTests for data and args", () => {
  const x = new Uint8Array(32768).fill(0x78);
  const data = (f: Frame[]): string[] => f.map(hex);
  assert.deepStrictEqual(
    data(
      createCommandFrames(new OutputStream(1), 1, "command", {}, { data: x }),
    ),
    [
      hex(
        ffs(
          "1 1 stream-begin command-request new|have-data cbor:{b'name': b'command'}",
        ),
      ),
      hex({
        requestId: 1,
        streamId: 1,
        streamFlags: 0,
        type: 2,
        flags: 1,
        payload: x,
      }),
      hex(ffs("1 1 0 command-data eos ")),
    ],
  );
  const x1 = new Uint8Array(32769).fill(0x78);
  assert.deepStrictEqual(
    data(
      createCommandFrames(new OutputStream(1), 1, "command", {}, { data: x1 }),
    ),
    [
      hex(
        ffs(
          "1 1 stream-begin command-request new|have-data cbor:{b'name': b'command'}",
        ),
      ),
      hex({
        requestId: 1,
        streamId: 1,
        streamFlags: 0,
        type: 2,
        flags: 1,
        payload: x,
      }),
      hex(ffs("1 1 0 command-data eos x")),
    ],
  );
  const args = { key1: "key1value", key2: "key2value", key3: "key3value" };
  assert.deepStrictEqual(
    data(
      createCommandFrames(new OutputStream(1), 1, "command", args, {
        data: new Uint8Array(100).fill(0x78),
      }),
    ),
    [
      hex(
        ffs(
          "1 1 stream-begin command-request new|have-data cbor:{b'name': b'command', b'args': {b'key1': b'key1value', b'key2': b'key2value', b'key3': b'key3value'}}",
        ),
      ),
      hex(ffs(`1 1 0 command-data eos ${"x".repeat(100)}`)),
    ],
  );
  const split = createCommandFrames(new OutputStream(1), 5, "mycommand", {
    key1: "key1value",
    key2: "key2value",
  }, {
    maxFrameSize: 16,
  });
  assert.deepStrictEqual(split.map((f) => f.flags), [0x05, 0x06, 0x06, 0x02]);
});

Deno.test("text output: Mercurial's text-output frame tests", () => {
  const cases: [Parameters<typeof createTextOutputFrame>[2], string][] = [
    [[{ msg: "foo" }], "cbor:[{b'msg': b'foo'}]"],
    [
      [{ msg: "foo" }, { msg: "bar" }],
      "cbor:[{b'msg': b'foo'}, {b'msg': b'bar'}]",
    ],
    [
      [{ msg: "foo %s", args: ["val1"] }],
      "cbor:[{b'msg': b'foo %s', b'args': [b'val1']}]",
    ],
    [
      [{ msg: "foo %s %s", args: ["val", "value"] }],
      "cbor:[{b'msg': b'foo %s %s', b'args': [b'val', b'value']}]",
    ],
    [
      [{ msg: "foo", labels: ["label"] }],
      "cbor:[{b'msg': b'foo', b'labels': [b'label']}]",
    ],
    [
      [{ msg: "foo %s", args: ["arg"], labels: ["label"] }],
      "cbor:[{b'msg': b'foo %s', b'args': [b'arg'], b'labels': [b'label']}]",
    ],
  ];
  for (const [atoms, payload] of cases) {
    assert.deepStrictEqual(
      hex(createTextOutputFrame(new OutputStream(1), 1, atoms)),
      hex(ffs(`1 1 stream-begin text-output 0 ${payload}`)),
    );
  }
  assert.throws(
    () => createTextOutputFrame(new OutputStream(1), 1, [{ msg: "é" }]),
    TypeError,
  );
  assert.throws(() =>
    createTextOutputFrame(new OutputStream(1), 1, [{
      msg: "x".repeat(40000),
    }]), RangeError);
});

Deno.test("frame codec: 24-bit lengths decode correctly; writes stay at or below 65535", () => {
  const big = new Uint8Array(70000).fill(1);
  assert.throws(() =>
    encodeFrame({
      requestId: 1,
      streamId: 2,
      streamFlags: 0,
      type: 3,
      flags: 1,
      payload: big,
    }), RangeError);
  const bytes = encodeFrame({
    requestId: 1,
    streamId: 2,
    streamFlags: 0,
    type: 3,
    flags: 1,
    payload: big,
  }, 0xffffff);
  assert.deepStrictEqual(toHex(bytes.subarray(0, 3)), "701101");
  // Mercurial would read 00 00 01 as 16384; we read 65536.
  const exact = encodeFrame({
    requestId: 1,
    streamId: 2,
    streamFlags: 0,
    type: 3,
    flags: 1,
    payload: new Uint8Array(65536),
  }, 65536);
  assert.deepStrictEqual(
    decodeFrames(exact, { maxPayloadSize: 65536 })[0]!.payload.length,
    65536,
  );
  assert.throws(
    () => decodeFrames(exact),
    (e) =>
      e instanceof FramingError &&
      e.message.includes("exceeds the maximum of 65535 bytes"),
  );
  assert.deepStrictEqual(
    decodeFrames(bytes, { maxPayloadSize: 0xffffff })[0]!.payload.length,
    70000,
  );
  assert.throws(() =>
    encodeFrame({
      requestId: 70000,
      streamId: 1,
      streamFlags: 0,
      type: 1,
      flags: 1,
      payload: new Uint8Array(0),
    }), RangeError);
  assert.throws(() =>
    encodeFrame({
      requestId: 1,
      streamId: 1,
      streamFlags: 0,
      type: 16,
      flags: 1,
      payload: new Uint8Array(0),
    }), RangeError);
});

Deno.test("frame codec: truncated input fails with readframe's messages", () => {
  const d = new FrameDecoder();
  d.push(fromHex("0300"));
  assert.throws(
    () => d.finish(),
    (e) =>
      e instanceof FramingError &&
      e.message.includes("received incomplete frame: got 2 bytes"),
  );
  const d2 = new FrameDecoder();
  d2.push(fromHex("030000010001001066"));
  assert.throws(
    () => d2.finish(),
    (e) =>
      e instanceof FramingError &&
      e.message.includes("frame length error: expected 3; got 1"),
  );
  assert.deepStrictEqual(
    describeFrame(
      ffs("1 2 stream-begin|encoded command-response continuation|eos x"),
    ),
    "frame(size=1; request=1; stream=2; streamflags=stream-begin|encoded; type=command-response; flags=continuation|eos)",
  );
});

/** Frames with any header fields and payloads from `payload`. */
function arbFrameWith(payload: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Frame> {
  return fc.record({
    requestId: fc.integer({ min: 0, max: 0xffff }),
    streamId: fc.integer({ min: 0, max: 0xff }),
    streamFlags: fc.integer({ min: 0, max: 0xff }),
    type: fc.integer({ min: 0, max: 15 }),
    flags: fc.integer({ min: 0, max: 15 }),
    payload,
  });
}

const arbFrame = arbFrameWith(fc.uint8Array({ maxLength: 300 }));

Deno.test("frame codec: fast-check random frame sequences survive arbitrary re-chunking", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(arbFrame, { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      async (frames, cuts) => {
        const bytes = encodeFrames(frames);
        const expected = frames.map(hex);
        const pieces = splitAt(bytes, cuts.map((c) => c % (bytes.length + 1)));
        assert.deepStrictEqual(
          (await collect(pieces, new FrameDecoderStream())).map(hex),
          expected,
        );
        const d = new FrameDecoder();
        const out = byteByByte(bytes).flatMap((b) => d.push(b));
        assert.deepStrictEqual(out.map(hex), expected);
        const round = await collect(frames, new FrameEncoderStream());
        assert.deepStrictEqual(
          toHex(concatBytes(round)),
          toHex(bytes),
        );
      },
    ),
    { numRuns: 150 },
  );
});

/** Frames with small payloads and, now and then, one of 16 KiB or more. */
const arbMixedFrame = arbFrameWith(fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.integer({ min: 16380, max: 65535 }),
      fc.integer({ min: 0, max: 255 }),
    ).map(([n, b]) => new Uint8Array(n).fill(b)),
  },
));

Deno.test("frame codec: fast-check encodeFrameChunks writes encodeFrames' bytes and copies no large payload", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(arbMixedFrame, { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      async (frames, cuts) => {
        const bytes = encodeFrames(frames);
        const chunks = encodeFrameChunks(frames);
        assert.deepStrictEqual(toHex(concatBytes(chunks)), toHex(bytes));
        // Each large payload is a chunk of its own, the caller's array.
        const large = frames.filter((f) => f.payload.length >= 16384);
        const passed = chunks.filter((c) => large.some((f) => f.payload === c));
        assert.deepStrictEqual(passed.length, large.length);
        assert.deepStrictEqual(chunks.every((c) => c.length > 0), true);
        // A large payload follows a chunk ending with its header; copied
        // chunks stay within 64 KiB.
        chunks.forEach((c, k) => {
          if (passed.includes(c)) {
            assert.deepStrictEqual(
              k > 0 && !passed.includes(chunks[k - 1]!),
              true,
            );
          } else {
            assert.deepStrictEqual(c.length <= 65536, true);
          }
        });
        // Decoding the chunks as written gives views of those payloads.
        const d = new FrameDecoder();
        const out = chunks.flatMap((c) => d.push(c));
        d.finish();
        assert.deepStrictEqual(out.map(hex), frames.map(hex));
        for (let i = 0; i < frames.length; i++) {
          if (frames[i]!.payload.length >= 16384) {
            assert.deepStrictEqual(
              out[i]!.payload.buffer,
              frames[i]!.payload.buffer,
            );
          }
        }
        // Arrays through the encoder stream, any re-chunking, batches out.
        const streamed = await collect([frames], new FrameEncoderStream());
        assert.deepStrictEqual(toHex(concatBytes(streamed)), toHex(bytes));
        const pieces = splitAt(bytes, cuts.map((c) => c % (bytes.length + 1)));
        const batches = await collect(pieces, new FrameBatchDecoderStream());
        assert.deepStrictEqual(batches.every((b) => b.length > 0), true);
        assert.deepStrictEqual(batches.flat().map(hex), frames.map(hex));
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("frame codec: encodeFrameChunks and FrameBatchDecoderStream refuse bad input with typed errors", async () => {
  const f: Frame = {
    requestId: 1,
    streamId: 2,
    streamFlags: 0,
    type: 3,
    flags: 1,
    payload: new Uint8Array(20000),
  };
  assert.deepStrictEqual(encodeFrameChunks([]), []);
  // Copied bytes are cut into buffers of at most 64 KiB, between frames.
  const many = Array.from({ length: 60 }, (_, i) => ({
    ...f,
    requestId: i,
    payload: new Uint8Array(i % 2 ? 100 : 16383).fill(i & 0xff),
  }));
  const cut = encodeFrameChunks(many);
  assert.deepStrictEqual(cut.length > 5, true);
  assert.deepStrictEqual(cut.every((c) => c.length <= 65536), true);
  assert.deepStrictEqual(toHex(concatBytes(cut)), toHex(encodeFrames(many)));
  const d = new FrameDecoder();
  for (const c of cut) {
    d.push(c);
    assert.deepStrictEqual(d.pending, 0); // every chunk ends on a frame boundary
  }
  assert.deepStrictEqual(encodeFrameChunks(new Set([f])).length, 2);
  assert.throws(
    () => encodeFrameChunks([f, { ...f, payload: new Uint8Array(65536) }]),
    (e) =>
      e instanceof RangeError &&
      e.message.includes(
        "payload of 65536 bytes exceeds the maximum of 65535 bytes",
      ),
  );
  assert.throws(
    () => encodeFrameChunks([f], 1000),
    (e) =>
      e instanceof RangeError &&
      e.message.includes("exceeds the maximum of 1000 bytes"),
  );
  assert.throws(
    () => encodeFrameChunks([f, { ...f, streamId: 256 }]),
    (e) =>
      e instanceof RangeError &&
      e.message.includes("stream id 256 is outside 0..255"),
  );
  const bytes = encodeFrames([f]);
  // Truncated at every offset inside the frame: a FramingError at the end.
  for (const cut of [1, 7, 8, 9, bytes.length - 1]) {
    await assert.rejects(
      () => collect([bytes.subarray(0, cut)], new FrameBatchDecoderStream()),
      (e) =>
        e instanceof FramingError &&
        e.message.includes(
          cut < 8 ? "received incomplete frame" : "frame length error",
        ),
    );
  }
  await assert.rejects(
    () =>
      collect([bytes], new FrameBatchDecoderStream({ maxPayloadSize: 100 })),
    (e) =>
      e instanceof FramingError &&
      e.message.includes(
        "payload of 20000 bytes exceeds the maximum of 100 bytes",
      ),
  );
});

Deno.test("reactors: fast-check random bytes never produce an untyped error", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 400 }),
      fc.boolean(),
      (bytes, settings) => {
        const frames: Frame[] = [];
        const d = new FrameDecoder();
        try {
          frames.push(...d.push(bytes));
        } catch (e) {
          if (!(e instanceof FramingError)) throw e;
        }
        const server = new ServerReactor();
        const client = new ClientReactor({
          bufferSends: false,
          hasMultipleSend: true,
        });
        for (let i = 0; i < 3; i++) {
          const c = client.callCommand("x", {});
          if (c.action.action === "sendframes") [...c.action.frames];
        }
        if (settings) {
          client.onFrameRecv(
            ffs("1 2 stream-begin stream-settings eos cbor:b'zlib'"),
          );
        }
        for (const f of frames) {
          const a = server.onFrameRecv(f);
          if (
            a.action === "error" && !(a.error instanceof FramingError)
          ) throw new Error("untyped");
          const b = client.onFrameRecv({ ...f, streamId: f.streamId & 0xfe });
          if (
            b.action === "error" && !(b.error instanceof FramingError)
          ) throw new Error("untyped");
        }
        client.close();
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("reactors: fast-check frames with valid headers and random payloads", () => {
  const arb = fc.array(
    fc.record({
      requestId: fc.constantFrom(1, 3, 5),
      streamId: fc.constantFrom(1, 2, 3),
      streamFlags: fc.constantFrom(0, 1, 2, 4, 5),
      type: fc.integer({ min: 1, max: 9 }),
      flags: fc.integer({ min: 0, max: 15 }),
      payload: fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.constant(
          Uint8Array.of(0xa1, 0x44, 0x6e, 0x61, 0x6d, 0x65, 0x41, 0x78),
        ),
      ),
    }),
    { maxLength: 12 },
  );
  fc.assert(
    fc.property(arb, (frames) => {
      const server = new ServerReactor({ maxPendingRequests: 2 });
      const client = new ClientReactor({
        bufferSends: false,
        hasMultipleSend: true,
      });
      for (let i = 0; i < 3; i++) {
        const c = client.callCommand("x", {});
        if (c.action.action === "sendframes") [...c.action.frames];
      }
      for (const f of frames) {
        const a = server.onFrameRecv(f);
        if (a.action === "error" && !(a.error instanceof FramingError)) {
          throw new Error("untyped");
        }
        if (a.action === "runcommand") {
          const r = server.onCommandResponseReadyObjects(
            server.makeOutputStream(),
            a.requestId,
            [a.args],
          );
          if (r.action === "sendframes") [...r.frames];
        }
        const b = client.onFrameRecv(f);
        if (b.action === "error" && !(b.error instanceof FramingError)) {
          throw new Error("untyped");
        }
      }
      client.close();
    }),
    { numRuns: 300 },
  );
});

Deno.test("frame codec: zero-copy parts, reused encoder and allocation-free scan", async () => {
  const payload = new Uint8Array(20000).fill(5);
  const f: Frame = {
    requestId: 3,
    streamId: 2,
    streamFlags: 4,
    type: 3,
    flags: 1,
    payload,
  };
  const [header, body] = encodeFrameParts(f);
  const d = new FrameDecoder();
  assert.deepStrictEqual(d.push(header), []);
  const [got] = d.push(body);
  assert.deepStrictEqual(got!.payload.buffer === payload.buffer, true); // a view, not a copy
  assert.deepStrictEqual(hex(got!), hex(f));
  const chunks = await collect([f, f], new FrameEncoderStream());
  assert.deepStrictEqual(chunks.length, 4);
  assert.deepStrictEqual(
    (await collect(chunks, new FrameDecoderStream())).map(hex),
    [
      hex(f),
      hex(f),
    ],
  );
  const small: Frame = { ...f, payload: Uint8Array.of(1, 2, 3) };
  const enc = new FrameEncoder();
  const bytes = enc.encode([small, f, small]);
  assert.deepStrictEqual(toHex(bytes), toHex(encodeFrames([small, f, small])));
  const seen: number[] = [];
  const used = scanFrames(
    new Uint8Array([...bytes, 1, 2]),
    (h) => seen.push(h.payloadLength),
  );
  assert.deepStrictEqual([seen, used], [[3, 20000, 3], bytes.length]);
  assert.throws(
    () => scanFrames(fromHex("ffffff0100010010"), () => {}),
    FramingError,
  );
});

Deno.test("frame codec: pooled small results never alias each other", () => {
  const kept: [Uint8Array, string][] = [];
  for (let i = 0; i < 300; i++) {
    const n = (i * 71) % 1100; // below and above the pooled size
    const f: Frame = {
      requestId: i,
      streamId: i & 0xff,
      streamFlags: 0,
      type: 3,
      flags: 1,
      payload: new Uint8Array(n).fill(i & 0xff),
    };
    const parts = encodeFrameParts(f);
    for (
      const b of [encodeFrame(f), encodeFrames([f, f]), parts[0]]
    ) kept.push([b, toHex(b)]);
    assert.deepStrictEqual(toHex(parts[0]), hex(f).slice(0, 16));
  }
  // Later allocations left every earlier result as it was.
  for (const [b, h] of kept) assert.deepStrictEqual(toHex(b), h);
  // Results sharing a buffer occupy disjoint regions.
  const byBuffer = new Map<ArrayBufferLike, [number, number][]>();
  for (const [b] of kept) {
    const list = byBuffer.get(b.buffer) ?? [];
    list.push([b.byteOffset, b.byteOffset + b.byteLength]);
    byBuffer.set(b.buffer, list);
  }
  for (const list of byBuffer.values()) {
    list.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < list.length; i++) {
      assert.deepStrictEqual(list[i]![0] >= list[i - 1]![1], true);
    }
  }
});

Deno.test("frame codec: field checks keep their messages", () => {
  const f: Frame = {
    requestId: 1,
    streamId: 1,
    streamFlags: 0,
    type: 3,
    flags: 0,
    payload: new Uint8Array(0),
  };
  const bad: [Partial<Frame>, string][] = [
    [{ requestId: 70000 }, "request id 70000 is outside 0..65535"],
    [{ requestId: -1 }, "request id -1 is outside 0..65535"],
    [{ streamId: 1.5 }, "stream id 1.5 is outside 0..255"],
    [{ streamFlags: 256 }, "stream flags 256 is outside 0..255"],
    [{ type: 16 }, "frame type 16 is outside 0..15"],
    [{ flags: NaN }, "frame flags NaN is outside 0..15"],
    [
      { type: "3" as unknown as number },
      "frame type 3 is outside 0..15",
    ],
  ];
  for (const [change, message] of bad) {
    const g = { ...f, ...change };
    for (
      const encode of [
        () => encodeFrame(g),
        () => encodeFrames([f, g]),
        () => encodeFrameParts(g),
        () => new FrameEncoder().encode([g]),
      ]
    ) {
      assert.throws(
        encode,
        (e) => e instanceof RangeError && e.message.includes(message),
      );
    }
  }
});

Deno.test("frame codec: decoder views, copies and pending across chunks", () => {
  const bytes = fromHex("05000003000204" + "31" + "6162636465");
  // Header split, then the whole payload: a view of the pushed chunk.
  const d = new FrameDecoder();
  assert.deepStrictEqual(d.push(bytes.subarray(0, 3)), []);
  assert.deepStrictEqual(d.pending, 3);
  assert.deepStrictEqual(d.push(bytes.subarray(3, 8)), []);
  assert.deepStrictEqual(d.pending, 8);
  const tail = bytes.slice(8);
  const [viewed] = d.push(tail);
  assert.deepStrictEqual(viewed!.payload.buffer === tail.buffer, true);
  assert.deepStrictEqual([
    viewed!.requestId,
    viewed!.streamId,
    viewed!.streamFlags,
  ], [
    3,
    2,
    4,
  ]);
  assert.deepStrictEqual([viewed!.type, viewed!.flags], [3, 1]);
  assert.deepStrictEqual(d.pending, 0);
  d.finish();
  // A payload spanning chunks is copied: reusing the chunks is safe.
  const src = bytes.slice();
  const parts = [src.subarray(0, 10), src.subarray(10, 11), src.subarray(11)];
  assert.deepStrictEqual(d.push(parts[0]!), []);
  assert.deepStrictEqual(d.pending, 10);
  assert.deepStrictEqual(d.push(parts[1]!), []);
  assert.throws(
    () => d.finish(),
    (e) => e instanceof FramingError && e.message.includes("expected 5; got 3"),
  );
  const [copied] = d.push(parts[2]!);
  src.fill(0);
  assert.deepStrictEqual(toHex(copied!.payload), "6162636465");
  assert.deepStrictEqual(Object.keys(copied!), Object.keys(viewed!));
  // Whole frames inside a chunk that is itself a view with an offset,
  // followed by a partial frame.
  const big = new Uint8Array(100);
  big.set(bytes, 7);
  big.set(bytes, 7 + 13);
  big.set(bytes.subarray(0, 4), 7 + 26);
  const frames = d.push(big.subarray(7, 7 + 30));
  assert.deepStrictEqual(frames.map(hex), [toHex(bytes), toHex(bytes)]);
  assert.deepStrictEqual(frames[1]!.payload.byteOffset, 7 + 13 + 8);
  assert.deepStrictEqual(d.pending, 4);
  assert.deepStrictEqual(d.push(bytes.subarray(4)).map(hex), [toHex(bytes)]);
  // An oversized length is refused from the header alone.
  const small = new FrameDecoder({ maxPayloadSize: 4 });
  assert.throws(
    () => small.push(bytes.subarray(0, 8)),
    (e) =>
      e instanceof FramingError &&
      e.message.includes("payload of 5 bytes exceeds the maximum of 4 bytes"),
  );
  // A header completed across pushes is refused too, and stays refused
  // when the payload comes.
  const split = new FrameDecoder({ maxPayloadSize: 4 });
  assert.deepStrictEqual(split.push(bytes.subarray(0, 3)), []);
  assert.throws(
    () => split.push(bytes.subarray(3, 8)),
    (e) =>
      e instanceof FramingError &&
      e.message.includes("payload of 5 bytes exceeds the maximum of 4 bytes"),
  );
  assert.throws(
    () => split.push(bytes.subarray(8)),
    (e) =>
      e instanceof FramingError &&
      e.message.includes("payload of 5 bytes exceeds the maximum of 4 bytes"),
  );
});

Deno.test("frame streams: highWaterMark bounds the frames and batches waiting", async () => {
  const f: Frame = {
    requestId: 1,
    streamId: 2,
    streamFlags: 0,
    type: 3,
    flags: 1,
    payload: Uint8Array.of(1, 2),
  };
  const enc = new FrameEncoderStream({ highWaterMark: 4 });
  const ew = enc.writable.getWriter();
  assert.deepStrictEqual(ew.desiredSize, 4);
  await ew.abort();
  const dec = new FrameDecoderStream({ highWaterMark: 2 });
  const w = dec.writable.getWriter();
  await w.write(encodeFrames([f, f, f]));
  let second = false;
  const written = w.write(encodeFrames([f])).then(() => second = true);
  // Streams run on promise jobs: once the event loop has turned, every
  // step that could run has run.
  await turn();
  assert.deepStrictEqual(second, false); // three frames unread: no more bytes taken
  const r = dec.readable.getReader();
  const got: Frame[] = [];
  for (let i = 0; i < 4; i++) got.push((await r.read()).value!);
  await written;
  assert.deepStrictEqual(second, true);
  assert.deepStrictEqual(got.map(hex), [hex(f), hex(f), hex(f), hex(f)]);
  await w.close();
  assert.deepStrictEqual((await r.read()).done, true);

  // An array written to the encoder counts as its frames.
  const enc2 = new FrameEncoderStream({ highWaterMark: 4 });
  const ew2 = enc2.writable.getWriter();
  void ew2.write([f, f, f]).catch(() => {});
  assert.deepStrictEqual(ew2.desiredSize, 1);
  await ew2.abort();

  // The batch decoder counts batches: one unread batch stops the bytes.
  const bdec = new FrameBatchDecoderStream();
  const bw = bdec.writable.getWriter();
  await bw.write(encodeFrames([f, f, f]));
  let more = false;
  const moreWritten = bw.write(encodeFrames([f])).then(() => more = true);
  await turn();
  assert.deepStrictEqual(more, false);
  const br = bdec.readable.getReader();
  assert.deepStrictEqual((await br.read()).value?.length, 3);
  await moreWritten;
  assert.deepStrictEqual((await br.read()).value?.length, 1);
  await bw.close();
  assert.deepStrictEqual((await br.read()).done, true);
});
