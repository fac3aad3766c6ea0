// Copyright 2026 the @sidecar/ipc authors. MIT license.
// CBOR subset tests; cases follow Mercurial's tests/test-cbor.py (encoding
// bytes, refusals and their messages, partial and byte-at-a-time decoding).
import fc from "fast-check";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../_test_utils/framing/hex.ts";
import {
  type BytestringChunk,
  CborDecodeError,
  CborStreamDecoder,
  type CborValue,
  decodeCbor,
  decodeCborAll,
  encodeCbor,
  encodeCborChunks,
  IndefiniteBytes,
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
