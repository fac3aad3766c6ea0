// Copyright 2026 the @sidecar/ipc authors. MIT license.
// CBOR subset tests; cases follow Mercurial's tests/test-cbor.py (encoding
// bytes, refusals and their messages, partial and byte-at-a-time decoding).
import fc from "fast-check";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../_test_utils/hex.ts";
import {
  type BytestringChunk,
  CborDecodeError,
  type CborDecodeOptions,
  CborStreamDecoder,
  type CborValue,
  decodeCbor,
  decodeCborAll,
  encodeCbor,
  encodeCborChunks,
  IndefiniteBytes,
  pythonRepr,
} from "./mod.ts";

const b = (s: string): Uint8Array => new TextEncoder().encode(s);

Deno.test("cbor: integers use the shortest head, up to 64 bits", () => {
  const cases: [number | bigint, string][] = [
    [0, "00"],
    [23, "17"],
    [24, "1818"],
    [255, "18ff"],
    [256, "190100"],
    [65535, "19ffff"],
    [65536, "1a00010000"],
    [4294967295, "1affffffff"],
    [4294967296, "1b0000000100000000"],
    [Number.MAX_SAFE_INTEGER, "1b001fffffffffffff"],
    [18446744073709551615n, "1bffffffffffffffff"],
    [-1, "20"],
    [-24, "37"],
    [-25, "3818"],
    [-256, "38ff"],
    [-257, "390100"],
    [-18446744073709551616n, "3bffffffffffffffff"],
  ];
  for (const [v, hex] of cases) {
    assert.deepStrictEqual(toHex(encodeCbor(v)), hex, String(v));
    const back = decodeCbor(fromHex(hex));
    assert.deepStrictEqual(BigInt(back as number | bigint), BigInt(v), hex);
  }
  assert.throws(
    () => encodeCbor(18446744073709551616n),
    (e) =>
      e instanceof RangeError &&
      e.message.includes("big integers not supported"),
  );
  assert.throws(() => encodeCbor(1.5), TypeError);
  // Non-minimal heads are accepted on input, as in Mercurial.
  assert.deepStrictEqual(decodeCbor(fromHex("1900ff")), 255);
});

Deno.test("cbor: byte strings, strings as bytes, bool, null, arrays", () => {
  assert.deepStrictEqual(toHex(encodeCbor(new Uint8Array(0))), "40");
  assert.deepStrictEqual(toHex(encodeCbor(b("foobar"))), "46666f6f626172");
  assert.deepStrictEqual(toHex(encodeCbor("foobar")), "46666f6f626172");
  assert.deepStrictEqual(
    toHex(encodeCbor(new Uint8Array(24))).slice(0, 4),
    "5818",
  );
  assert.deepStrictEqual(
    toHex(encodeCbor([null, true, false, 42, b("foo")])),
    "85f6f5f4182a43666f6f",
  );
  assert.deepStrictEqual(decodeCbor(fromHex("85f6f5f4182a43666f6f")), [
    null,
    true,
    false,
    42,
    b("foo"),
  ]);
  assert.deepStrictEqual(decodeCbor(fromHex("80")), []);
});

Deno.test("cbor: map keys sort like Python's (type name, then bytes order)", () => {
  assert.deepStrictEqual(
    toHex(encodeCbor({ msg: "m", args: [], labels: [] })),
    toHex(fromHex("a3446172677380466c6162656c7380436d7367416d")),
  );
  const mixed = new Map<string | number | boolean | null, CborValue>([
    [1, 1],
    ["b", 2],
    [true, 3],
    [null, 4],
    ["a", 5],
    ["ab", 6],
  ]);
  // NoneType < bool < bytes < int
  assert.deepStrictEqual(
    toHex(encodeCbor(mixed)),
    "a6f604f5034161054261620641620201" + "01",
  );
  assert.deepStrictEqual(
    toHex(encodeCbor(new Set(["b", "a", 3]))),
    "d9010283416141620" + "3",
  );
});

Deno.test("cbor: maps and sets decode to Map and Set; byte keys become strings when UTF-8", () => {
  const m = decodeCbor(encodeCbor({ foo: "val1", bar: "val2" })) as Map<
    string,
    Uint8Array
  >;
  assert.deepStrictEqual([...m.keys()], ["bar", "foo"]);
  const bin = decodeCbor(fromHex("a141ff01")) as Map<Uint8Array, number>;
  assert.deepStrictEqual([...bin.keys()][0], Uint8Array.of(0xff));
  assert.deepStrictEqual(toHex(encodeCbor(bin)), "a141ff01");
  assert.deepStrictEqual(
    decodeCbor(fromHex("d9010283010243666f6f")),
    new Set([1, 2, b("foo")]),
  );
  // Duplicate keys: the last wins.
  assert.deepStrictEqual(
    decodeCbor(fromHex("a2010201f5")),
    new Map([[1, true]]),
  );
});

Deno.test("cbor: indefinite byte strings (top level only) decode to chunks", () => {
  const enc = encodeCbor(
    new IndefiniteBytes([b("foo"), new Uint8Array(0), b("bar")]),
  );
  assert.deepStrictEqual(toHex(enc), "5f43666f6f4043626172ff");
  const values = decodeCborAll(enc) as BytestringChunk[];
  assert.deepStrictEqual(
    values.map((c) => [new TextDecoder().decode(c.bytes), c.isFirst, c.isLast]),
    [
      ["foo", true, false],
      ["", false, false],
      ["bar", false, false],
      ["", false, true],
    ],
  );
  const empty = decodeCborAll(fromHex("5fff")) as BytestringChunk[];
  assert.deepStrictEqual(
    empty.map((c) => [c.bytes.length, c.isFirst, c.isLast]),
    [[
      0,
      true,
      true,
    ]],
  );
  assert.throws(() => encodeCbor([new IndefiniteBytes([])]), TypeError);
});

Deno.test("cbor: refusals carry Mercurial's messages", () => {
  const cases: [string, string][] = [
    ["6161", "string major type not supported"],
    ["7f6161ff", "string major type not supported"],
    [
      "815f41 61ff",
      "indefinite length bytestrings not allowed as array values",
    ],
    ["a15f4161ff01", "indefinite length bytestrings not allowed as map keys"],
    ["a1015f4161ff", "indefinite length bytestrings not allowed as map values"],
    ["9f01ff", "indefinite length uint not allowed here"],
    ["bf0101ff", "indefinite length uint not allowed here"],
    ["1c", "unsupported subtype on integer type: 28"],
    ["a18001", "collections not supported as map keys"],
    ["a1a00101", "collections not supported as map keys"],
    ["d9010201", "expected array after finite set semantic tag"],
    ["d901028180", "collections not allowed as set values"],
    ["c074", "semantic tag 0 not allowed"],
    ["f7", "special type 23 not allowed"],
    ["f93c00", "special type 25 not allowed"],
    ["fb3ff0000000000000", "special type 27 not allowed"],
    ["ff", "unhandled special state: 5"],
    ["81ff", "unhandled special item when expecting array value: 5"],
    ["5f01ff", "unexpected special value when expecting bytestring chunk: 1"],
  ];
  for (const [hex, message] of cases) {
    assert.throws(
      () => decodeCborAll(fromHex(hex)),
      (e) => e instanceof CborDecodeError && e.message.includes(message),
    );
  }
  assert.throws(
    () => decodeCborAll(fromHex("8201")),
    (e) =>
      e instanceof CborDecodeError &&
      e.message.includes("input data not complete"),
  );
  assert.throws(
    () => decodeCbor(fromHex("0102")),
    (e) =>
      e instanceof CborDecodeError &&
      e.message.includes("input data not fully consumed"),
  );
  assert.deepStrictEqual(decodeCborAll(new Uint8Array(0)), []);
  assert.deepStrictEqual(decodeCborAll(fromHex("0102")), [1, 2]);
});

Deno.test("cbor: limits are checked before buffering", () => {
  const d = new CborStreamDecoder({ maxByteStringSize: 1000 });
  assert.throws(
    () => d.decode(fromHex("5a00100000")),
    (e) =>
      e instanceof CborDecodeError &&
      e.message.includes("exceeds the limit of 1000"),
  );
  assert.throws(
    () => decodeCborAll(fromHex("9a00100000"), { maxItems: 10 }),
    (e) => e instanceof CborDecodeError && e.message.includes("limit of 10"),
  );
  const deep = new Uint8Array(100).fill(0x81);
  assert.throws(
    () => decodeCborAll(deep, { maxDepth: 64 }),
    (e) => e instanceof CborDecodeError && e.message.includes("depth limit"),
  );
});

const VALUES: CborValue[] = [
  0,
  1000,
  -70000,
  2 ** 40,
  b("hello"),
  new Uint8Array(300).fill(7),
  [1, [2, [3, b("x")]], null, true],
  new Map<string, CborValue>([["status", b("ok")], ["n", 65536]]),
  new Set([1, 2, 3]),
];

Deno.test("cbor: every prefix is incomplete, byte-at-a-time and split decoding give the value", () => {
  for (const v of VALUES) {
    const bytes = encodeCbor(v);
    for (let i = 1; i < bytes.length; i++) {
      assert.throws(
        () => decodeCborAll(bytes.subarray(0, i)),
        (e) =>
          e instanceof CborDecodeError &&
          e.message.includes("input data not complete"),
      );
      const d = new CborStreamDecoder();
      assert.deepStrictEqual(d.decode(bytes.subarray(0, i)), []);
      assert.deepStrictEqual(d.decode(bytes.subarray(i)), [v]);
    }
    const d = new CborStreamDecoder();
    const out: CborValue[] = [];
    for (const byte of bytes) out.push(...d.decode(Uint8Array.of(byte)));
    assert.deepStrictEqual(out, [v]);
    assert.deepStrictEqual(d.pending, 0);
  }
});

Deno.test("cbor: chunked encoding follows streamencode boundaries", () => {
  const chunks: string[] = [];
  encodeCborChunks(
    new Map<string, CborValue>([["a", [1, b("xy")]]]),
    (c) => chunks.push(toHex(c)),
  );
  assert.deepStrictEqual(chunks, ["a1", "41", "61", "82", "01", "42", "7879"]);
});

const arbValue: fc.Arbitrary<CborValue> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie("value"), { maxKeys: 4 })
      .map((o) => new Map(Object.entries(o))),
  ),
})).value as fc.Arbitrary<CborValue>;

Deno.test("cbor: results from the shared scratch and pool never change later", () => {
  const kept: [Uint8Array, string][] = [];
  for (let i = 0; i < 100; i++) {
    // Sizes below and above the pooled size and the kept scratch size.
    const n = i % 3 === 0 ? (i * 877) % 70000 : i * 13;
    const v = new Map<string, CborValue>([["i", i], [
      "blob",
      new Uint8Array(n).fill(i & 0xff),
    ]]);
    const whole = encodeCbor(v);
    kept.push([whole, toHex(whole)]);
    encodeCborChunks(v, (c) => kept.push([c, toHex(c)]));
  }
  for (const [bytes, hex] of kept) assert.deepStrictEqual(toHex(bytes), hex);
  // A failed encoding leaves the scratch usable.
  assert.throws(() => encodeCbor([1, Symbol("x")] as never), TypeError);
  assert.deepStrictEqual(toHex(encodeCbor([1, 2])), "820102");
});

Deno.test("cbor: fast-check round trip under arbitrary re-chunking", () => {
  fc.assert(
    fc.property(
      fc.array(arbValue, { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      (values, cuts) => {
        const bytes = new Uint8Array(values.flatMap((v) => [...encodeCbor(v)]));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))]
          .sort((x, y) => x - y);
        const d = new CborStreamDecoder();
        const out: CborValue[] = [];
        let prev = 0;
        for (const p of [...points, bytes.length]) {
          out.push(...d.decode(bytes.subarray(prev, p)));
          prev = p;
        }
        assert.deepStrictEqual(
          out.map((v) => toHex(encodeCbor(v))),
          values.map((v) => toHex(encodeCbor(v))),
        );
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("cbor: fast-check random bytes only ever raise CborDecodeError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        decodeCborAll(bytes);
      } catch (e) {
        if (!(e instanceof CborDecodeError)) throw e;
      }
    }),
    { numRuns: 300 },
  );
});

/** What decoding `bytes` in the given pieces gives: values, sizes, error. */
function outcome(
  pieces: Uint8Array[],
  options: CborDecodeOptions = {},
): { values: string[]; sizes: number[]; error: string | null } {
  const d = new CborStreamDecoder(options);
  const values: string[] = [];
  const sizes: number[] = [];
  try {
    for (const p of pieces) {
      for (const v of d.decode(p, sizes)) values.push(pythonRepr(v));
    }
    return { values, sizes, error: d.inValue ? "incomplete" : null };
  } catch (e) {
    assert.ok(e instanceof CborDecodeError, String(e));
    return { values, sizes, error: e.message };
  }
}

Deno.test("cbor: fast-check any bytes, cut anywhere, decode as they do whole (values, sizes, errors)", () => {
  // Valid values with a few bytes changed: mostly decodable, with errors
  // at every depth.
  const arbTop: fc.Arbitrary<CborValue> = fc.oneof(
    arbValue,
    fc.array(fc.integer({ min: -300, max: 300 }), { maxLength: 4 })
      .map((a) => new Set(a)),
    fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 4 })
      .map((a) => new IndefiniteBytes(a)),
  );
  const arbBytes = fc.tuple(
    fc.array(arbTop, { minLength: 1, maxLength: 3 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
      maxLength: 3,
    }),
  ).map(([values, edits]) => {
    const bytes = new Uint8Array(values.flatMap((v) => [...encodeCbor(v)]));
    for (const [at, byte] of edits) bytes[at % bytes.length] = byte;
    return bytes;
  });
  fc.assert(
    fc.property(
      fc.oneof(arbBytes, fc.uint8Array({ maxLength: 80 })),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.integer({ min: 1, max: 6 }),
      (bytes, cuts, maxDepth) => {
        const options = { maxDepth, maxItems: 5, maxByteStringSize: 30 };
        const whole = outcome([bytes], options);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))]
          .sort((x, y) => x - y);
        const pieces: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...points, bytes.length]) {
          pieces.push(bytes.subarray(prev, p));
          prev = p;
        }
        const single = [...bytes].map((b) => Uint8Array.of(b));
        for (
          const cut of [outcome(pieces, options), outcome(single, options)]
        ) {
          // The same error at the same place (every value before it
          // counted in sizes); values completed in the call that threw
          // are not returned, so a finer cut returns more of them.
          assert.equal(cut.error, whole.error);
          assert.deepStrictEqual(cut.sizes, whole.sizes);
          assert.deepStrictEqual(
            cut.values.slice(0, whole.values.length),
            whole.values,
          );
          if (whole.error === null) {
            assert.deepStrictEqual(cut.values, whole.values);
          }
        }
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("cbor: a value of 100,000 items fed one byte at a time decodes in linear time", () => {
  // The old decoder re-read the partial value from its start on every
  // byte (and copied it): about 2 * 10^10 steps here.
  const items = Array.from({ length: 100_000 }, (_, i) => i);
  const bytes = encodeCbor(items);
  const d = new CborStreamDecoder({ maxItems: 200_000 });
  const out: CborValue[] = [];
  for (let i = 0; i < bytes.length; i++) {
    out.push(...d.decode(bytes.subarray(i, i + 1)));
    if (i === 1000) assert.ok(d.pending === 1001 && d.pendingSize > 1001);
  }
  assert.equal(out.length, 1);
  assert.deepStrictEqual(out[0], items);
  assert.equal(d.pending, 0);
  assert.equal(d.pendingSize, 0);
});

Deno.test("cbor: nesting 100,000 deep decodes without the call stack (maxDepth raised)", () => {
  const depth = 100_000;
  const bytes = new Uint8Array(depth + 1).fill(0x81);
  bytes[depth] = 0x07;
  for (
    const pieces of [[bytes], [bytes.subarray(0, 5000), bytes.subarray(5000)]]
  ) {
    const d = new CborStreamDecoder({ maxDepth: depth });
    const out = pieces.flatMap((p) => d.decode(p));
    assert.equal(out.length, 1);
    let v = out[0] as CborValue;
    for (let i = 0; i < depth; i++) {
      assert.ok(Array.isArray(v) && v.length === 1);
      v = (v as CborValue[])[0]!;
    }
    assert.equal(v, 7);
  }
  // One level less is refused with the depth message.
  assert.throws(
    () => decodeCborAll(bytes, { maxDepth: depth - 1 }),
    (e) => e instanceof CborDecodeError && e.code === "LIMIT_EXCEEDED",
  );
});

Deno.test("cbor: a huge declared byte string costs what has arrived, not what it announces", () => {
  // 200 decoders, each with the head of a 60 MiB byte string, then 1 byte
  // of it: the old decoder allocated the 60 MiB on the second piece (12 GB
  // in all).
  const head = fromHex("5a03c00000");
  const before = Deno.memoryUsage().external;
  const decoders: CborStreamDecoder[] = [];
  for (let i = 0; i < 200; i++) {
    const d = new CborStreamDecoder();
    assert.deepStrictEqual(d.decode(head), []);
    assert.deepStrictEqual(d.decode(Uint8Array.of(0x61)), []);
    assert.ok(d.pendingSize < 64 * 1024, `pendingSize ${d.pendingSize}`);
    decoders.push(d);
  }
  const grown = Deno.memoryUsage().external - before;
  assert.ok(grown < 64 * 1024 * 1024, `external memory grew by ${grown}`);
  // Its bytes arriving in pieces grow the buffer with them, and the value
  // comes out whole.
  const d = new CborStreamDecoder();
  const value = new Uint8Array(1_000_000).map((_, i) => i & 0xff);
  const bytes = encodeCbor(value);
  const out: CborValue[] = [];
  for (let o = 0; o < bytes.length; o += 1000) {
    out.push(...d.decode(bytes.subarray(o, o + 1000)));
    if (out.length === 0) {
      assert.ok(d.pendingSize <= 2 * (o + 1000) + 16384 + 64);
    }
  }
  assert.deepStrictEqual(out, [value]);
});
