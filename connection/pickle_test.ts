// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import {
  ByteArray,
  dumps,
  dumpsChunks,
  dumpsInto,
  FrozenSet,
  loads,
  pickleCodec,
  PyDict,
  PyFloat,
  Tuple,
  UnpicklingError,
  type UnpicklingErrorReason,
} from "./pickle.ts";
import type { MessageCodec } from "./codec.ts";
import { fromHex, toHex } from "../_test_utils/hex.ts";
import {
  normalizeTagged,
  PICKLE_VECTORS as VECTORS,
  pyFloatRepr,
  toTagged,
} from "../_test_utils/connection/pickle.ts";

/** Vectors JavaScript cannot express without loss, with the reason. */
const NOT_LOSS_FREE: Record<string, string> = {
  "shared_str_twice_p3":
    "one str object referenced twice (strings have no identity in JS)",
  "shared_str_twice_p5":
    "one str object referenced twice (strings have no identity in JS)",
};

const EXACT = { floats: "wrap", dicts: "map" } as const;

function expectError(
  fn: () => unknown,
  reason: UnpicklingErrorReason,
  opcode?: string,
  offset?: number,
): UnpicklingError {
  try {
    fn();
  } catch (e) {
    assert.ok(
      e instanceof UnpicklingError,
      `expected UnpicklingError, got ${e}`,
    );
    assert.equal(e.reason, reason, e.message);
    if (opcode !== undefined) assert.equal(e.opcode, opcode, e.message);
    if (offset !== undefined) assert.equal(e.offset, offset, e.message);
    return e;
  }
  assert.fail("expected an UnpicklingError");
}

/** Bytes of a string whose characters are all below U+0100. */
function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

Deno.test("loads() decodes every vector to its expected value", () => {
  assert.equal(VECTORS.length, 240);
  for (const v of VECTORS) {
    const got = toTagged(loads(fromHex(v.hex), EXACT));
    assert.deepEqual(got, normalizeTagged(v.expected), v.name);
    // The default (natural) mode decodes every vector too.
    loads(fromHex(v.hex));
  }
});

Deno.test("dumps() re-encodes every loss-free vector byte-identically", () => {
  let checked = 0;
  for (const v of VECTORS) {
    const again = toHex(
      dumps(loads(fromHex(v.hex), EXACT), { protocol: v.protocol }),
    );
    if (v.name in NOT_LOSS_FREE) {
      assert.notEqual(again, v.hex, `${v.name} was expected to differ`);
      continue;
    }
    assert.equal(again, v.hex, v.name);
    checked++;
  }
  assert.equal(checked, 238);
});

Deno.test("dumpsInto() writes the same bytes as dumps() into a reused buffer", () => {
  const buffer = new Uint8Array(200_000);
  for (const v of VECTORS) {
    const value = loads(fromHex(v.hex), EXACT);
    const expected = dumps(value, { protocol: v.protocol });
    // Garbage from the previous pickle must not matter.
    buffer.fill(0xee);
    const n = dumpsInto(value, buffer, { protocol: v.protocol });
    assert.equal(n, expected.length, v.name);
    assert.deepEqual(buffer.subarray(0, n), expected, v.name);
    assert.equal(buffer[n], 0xee, v.name);
  }
  // A payload kept outside the encoder's buffer (>= 64 KiB) lands whole.
  const big = new Uint8Array(100_000).map((_, i) => i & 0xff);
  const value = [1, big, "after"];
  const n = dumpsInto(value, buffer);
  assert.deepEqual(buffer.subarray(0, n), dumps(value));
  assert.deepEqual(loads(buffer.subarray(0, n)), value);
});

Deno.test("dumpsInto() refuses a buffer that is too small and leaves it unchanged", () => {
  const value = { payload: new Uint8Array(70_000) };
  const needed = dumps(value).length;
  const small = new Uint8Array(needed - 1).fill(7);
  assert.throws(
    () => dumpsInto(value, small),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message.includes(`${needed} bytes are needed`),
  );
  assert.ok(small.every((b) => b === 7));
  assert.equal(dumpsInto(value, new Uint8Array(needed)), needed);
  assert.throws(
    () => dumpsInto(1, new Uint8Array(100), { protocol: 6 as 5 }),
    RangeError,
  );
});

Deno.test("dumps() maps natural JavaScript values like CPython", () => {
  const byName = new Map(VECTORS.map((v) => [v.name, v.hex]));
  const cases: [string, unknown][] = [
    ["none_p5", null],
    ["true_p4", true],
    ["int_256_p4", 256],
    ["int_neg1_p4", -1],
    ["int_2p31_p4", 2147483648],
    ["int_2p64_p4", 2n ** 64n],
    ["int_neg2p63_p4", -(2n ** 63n)],
    ["int_2p2048_long4_p4", 2n ** 2048n],
    ["float_1_5_p4", 1.5],
    ["float_neg0_p4", -0],
    ["float_nan_p4", NaN],
    ["float_inf_p4", Infinity],
    ["str_unicode_p4", "héllo € 😀"],
    ["str_surrogate_p5", "\ud800"],
    ["bytes_abc_p4", new Uint8Array([0x61, 0x62, 0x63])],
    ["list_mixed_p4", [null, true, 1.5, "x", new Uint8Array([0x79])]],
    ["dict_2_p4", { a: 1, b: [1, 2] }],
    ["dict_1_p4", new Map([["a", 1]])],
    ["set_123_p4", new Set([1, 2, 3])],
    ["frozenset_12_p4", new FrozenSet([1, 2])],
    ["tuple_4_p4", new Tuple([1, 2, 3, 4])],
    ["bytearray_xyz_p5", new ByteArray(ascii("xyz"))],
    ["bytearray_xyz_p4", new ByteArray(ascii("xyz"))],
    ["list_1001_ints_p4", Array.from({ length: 1001 }, (_, i) => i)],
    [
      "mp_style_message_p4",
      new Tuple(["#RETURN", { result: [1, 2.5, "ok"], id: 42 }]),
    ],
  ];
  for (const [name, value] of cases) {
    const hex = byName.get(name);
    assert.ok(hex, name);
    const protocol = Number(name.at(-1)) as 2 | 3 | 4 | 5;
    assert.equal(toHex(dumps(value, { protocol })), hex, name);
  }
  assert.equal(
    toHex(dumps(256)),
    byName.get("int_256_p4"),
    "protocol 4 is the default",
  );
});

Deno.test("dumps() writes shared and recursive references like CPython", () => {
  const byName = new Map(VECTORS.map((v) => [v.name, v.hex]));
  for (const protocol of [2, 3, 4, 5] as const) {
    const one = [1];
    const shared = toHex(dumps([one, one], { protocol }));
    if (byName.has(`shared_list_twice_p${protocol}`)) {
      assert.equal(shared, byName.get(`shared_list_twice_p${protocol}`));
    }
    const l: unknown[] = [];
    l.push(l);
    if (byName.has(`recursive_list_p${protocol}`)) {
      assert.equal(
        toHex(dumps(l, { protocol })),
        byName.get(`recursive_list_p${protocol}`),
      );
    }
    const inner: unknown[] = [];
    const t = new Tuple([inner]);
    inner.push(t);
    if (byName.has(`recursive_tuple_small_p${protocol}`)) {
      assert.equal(
        toHex(dumps(t, { protocol })),
        byName.get(`recursive_tuple_small_p${protocol}`),
      );
    }
    const inner2: unknown[] = [];
    const t2 = new Tuple([inner2, 1, 2, 3]);
    inner2.push(t2);
    assert.equal(
      toHex(dumps(t2, { protocol })),
      byName.get(`recursive_tuple_large_p${protocol}`),
    );
    const back = loads(dumps(t2, { protocol })) as Tuple;
    assert.equal((back.items[0] as unknown[])[0], back);
  }
});

Deno.test("loads() keeps shared and recursive references", () => {
  const byName = new Map(VECTORS.map((v) => [v.name, v.hex]));
  const shared = loads(
    fromHex(byName.get("shared_list_twice_p5")!),
  ) as unknown[][];
  assert.equal(shared[0], shared[1]);
  const rec = loads(fromHex(byName.get("recursive_dict_p5")!)) as Record<
    string,
    unknown
  >;
  assert.equal(rec.self, rec);
  const t = loads(fromHex(byName.get("recursive_tuple_large_p4")!)) as Tuple;
  assert.equal((t.items[0] as unknown[])[0], t);
});

Deno.test("loads() turns a dict with a non-string key into a PyDict", () => {
  const byName = new Map(VECTORS.map((v) => [v.name, v.hex]));
  const d = loads(fromHex(byName.get("dict_int_keys_p5")!));
  assert.ok(d instanceof PyDict);
  assert.equal(d.get(1), "one");
  assert.equal(d.get(new Tuple([2, 3])), null);
  // Python: d = {}; d['a'] = [d]; d[1] = d. The plain object already has
  // references (from the memo) when the int key arrives.
  const rec = loads(fromHex(
    "80049512000000000000007d94288c0161945d946800614b016800752e",
  ));
  assert.ok(rec instanceof PyDict);
  assert.equal(rec.get(1), rec);
  assert.equal((rec.get("a") as unknown[])[0], rec);
  // Integer-like string keys keep Python's order only in "map" mode.
  const hex = "80049511000000000000007d94288c0162944b018c0131944b02752e";
  assert.deepEqual(Object.keys(loads(fromHex(hex)) as object), ["1", "b"]);
  assert.deepEqual([
    ...(loads(fromHex(hex), { dicts: "map" }) as PyDict).keys(),
  ], ["b", "1"]);
  // "__proto__" is an ordinary key, not a prototype change.
  const proto = loads(dumps(new Map([["__proto__", 1]]))) as Record<
    string,
    unknown
  >;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.deepEqual(Object.keys(proto), ["__proto__"]);
});

Deno.test("PyDict looks keys up with Python equality", () => {
  const d = new PyDict<unknown, string>();
  d.set(1, "a").set(true, "b").set(new PyFloat(1), "c").set(1n, "d");
  assert.equal(d.size, 1);
  assert.deepEqual([...d], [[1, "d"]]);
  d.set(new Tuple([1, "x", new Uint8Array([1])]), "t");
  assert.equal(d.get(new Tuple([1n, "x", new Uint8Array([1])])), "t");
  d.set(new FrozenSet([1, 2]), "f");
  assert.equal(d.get(new FrozenSet([2, 1])), "f");
  assert.ok(!d.has("1"));
  assert.ok(!d.has([1] as unknown));
  assert.throws(() => d.set([1], "list"), TypeError);
  assert.ok(d.delete(new FrozenSet([1, 2])));
  assert.equal(d.size, 2);
  d.clear();
  assert.equal(d.size, 0);
  assert.equal(d.get(1), undefined);
});

Deno.test("wrapper types round-trip through dumps() and loads()", () => {
  for (const protocol of [2, 3, 4, 5] as const) {
    const value = new Tuple([
      new PyFloat(1),
      new ByteArray(new Uint8Array([0, 255])),
      new ByteArray(),
      new FrozenSet(["a"]),
      new Set<unknown>([new Tuple([1, 2])]),
      new Uint8Array(0),
      new PyDict([[new Tuple([1]), 2]]),
    ]);
    const back = loads(dumps(value, { protocol }), EXACT);
    assert.deepEqual(toTagged(back), toTagged(value));
  }
  assert.equal(+new PyFloat(2.5), 2.5);
  assert.deepEqual([...new Tuple([1, 2])], [1, 2]);
});

Deno.test("dumps() keeps lone surrogates (surrogatepass)", () => {
  for (
    const s of [
      "\ud800",
      "a\udfffb",
      "\ud83d\ude00",
      "x".repeat(100) + "\udc00",
    ]
  ) {
    assert.equal(loads(dumps(s)), s);
    assert.equal(loads(dumps(s, { protocol: 2 })), s);
  }
  assert.equal(
    toHex(dumps("\ud800")),
    "8004950700000000000000" + "8c03eda080942e",
  );
});

Deno.test("dumps() handles strings at every header and frame size", () => {
  for (const n of [0, 85, 86, 255, 256, 21845, 21846, 65535, 65536, 70000]) {
    for (const ch of ["a", "é", "€", "😀"]) {
      const s = ch.repeat(Math.ceil(n / ch.length));
      for (const protocol of [2, 4] as const) {
        assert.equal(loads(dumps([s, s.length], { protocol })) !== null, true);
        assert.deepEqual(loads(dumps([s, 1], { protocol })), [s, 1]);
      }
    }
  }
});

Deno.test("dumps() is reentrant and recovers after an error", () => {
  const byName = new Map(VECTORS.map((v) => [v.name, v.hex]));
  const tricky = {
    get a() {
      // A getter that pickles while the outer dumps() is running.
      return loads(dumps({ b: [1, 2] }));
    },
  };
  assert.deepEqual(loads(dumps(tricky)), { a: { b: [1, 2] } });
  assert.throws(() => dumps([new Array(5000).fill("x"), undefined]), TypeError);
  assert.equal(toHex(dumps({ a: 1, b: [1, 2] })), byName.get("dict_2_p4"));
  const shared = [1];
  assert.throws(() => dumps([shared, () => 0]), TypeError);
  // The memo of the failed call is gone: `shared` is written in full again.
  assert.equal(
    toHex(dumps([shared, shared], { protocol: 5 })),
    byName.get("shared_list_twice_p5"),
  );
});

Deno.test("dumps() refuses values with no Python equivalent", () => {
  assert.throws(() => dumps(undefined), TypeError);
  assert.throws(() => dumps([() => 1]), TypeError);
  assert.throws(() => dumps({ a: Symbol("x") }), TypeError);
  assert.throws(() => dumps(new Date(0)), TypeError);
  assert.throws(() => dumps(new Int32Array(1)), TypeError);
  assert.throws(() => dumps(1, { protocol: 1 as 2 }), RangeError);
  assert.throws(() => pickleCodec({ protocol: 6 as 5 }), RangeError);
  let deep: unknown = [];
  for (let i = 0; i < 20; i++) deep = [deep];
  assert.throws(() => dumps(deep, { maxDepth: 10 }), RangeError);
  assert.doesNotThrow(() => dumps(deep, { maxDepth: 30 }));
});

Deno.test("loads() refuses a pickle that would run os.system", () => {
  // class E: __reduce__ = lambda self: (os.system, ('echo pwned',))
  const p4 = fromHex(
    "80049525000000000000008c05706f736978948c0673797374656d9493948c0a6563686f2070776e656494859452942e",
  );
  const e = expectError(() => loads(p4), "refused", "STACK_GLOBAL", 28);
  assert.match(e.message, /posix\.system/);
  const p0 = ascii("cposix\nsystem\np0\n(Vecho pwned\np1\ntp2\nRp3\n.");
  expectError(() => loads(p0), "refused", "GLOBAL", 0);
  expectError(
    () => loads(ascii("cos\nsystem\n(S'true'\ntR.")),
    "refused",
    "GLOBAL",
    0,
  );
  expectError(() => loads(ascii("cbuiltins\neval\n.")), "refused", "GLOBAL", 0);
});

Deno.test("loads() refuses every code-executing opcode by name and offset", () => {
  const cases: [string, string][] = [
    ["REDUCE", "80024e4e522e"],
    ["BUILD", "80025d4e622e"],
    ["INST", "800228696f730a73797374656d0a2e"],
    ["OBJ", "8002284e6f2e"],
    ["NEWOBJ", "80024e29812e"],
    ["NEWOBJ_EX", "80044e297d922e"],
    ["EXT1", "800282012e"],
    ["EXT2", "80028301002e"],
    ["EXT4", "8002840100000000"],
    ["PERSID", "800250310a2e"],
    ["BINPERSID", "80024e512e"],
    ["NEXT_BUFFER", "8005972e"],
    ["READONLY_BUFFER", "80054e982e"],
  ];
  for (const [name, hex] of cases) {
    const bytes = fromHex(hex);
    const offset = bytes.findIndex((b, i) =>
      i >= 2 && b === fromHex(
          {
            REDUCE: "52",
            BUILD: "62",
            INST: "69",
            OBJ: "6f",
            NEWOBJ: "81",
            NEWOBJ_EX: "92",
            EXT1: "82",
            EXT2: "83",
            EXT4: "84",
            PERSID: "50",
            BINPERSID: "51",
            NEXT_BUFFER: "97",
            READONLY_BUFFER: "98",
          }[name]!,
        )[0]
    );
    expectError(() => loads(bytes), "refused", name, offset);
  }
});

Deno.test("loads() allows the built-in globals only with plain-data arguments", () => {
  // Protocol 2 forms CPython writes.
  assert.deepEqual(loads(ascii("c__builtin__\nset\n]\x85R.")), new Set());
  assert.deepEqual(
    loads(
      ascii(
        "c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xbfX\x06\x00\x00\x00latin1\x86R.",
      ),
    ),
    new Uint8Array([0xff]),
  );
  assert.deepEqual(loads(ascii("c__builtin__\nbytes\n)R.")), new Uint8Array(0));
  // Wrong shapes are refused.
  expectError(
    () => loads(ascii("c__builtin__\nset\nK\x01\x85R.")),
    "refused",
    "REDUCE",
  );
  expectError(
    () =>
      loads(
        ascii(
          "c_codecs\nencode\nX\x01\x00\x00\x00aX\x04\x00\x00\x00utf8\x86R.",
        ),
      ),
    "refused",
    "REDUCE",
  );
  expectError(
    () => loads(ascii("c__builtin__\nbytes\n]\x85R.")),
    "refused",
    "REDUCE",
  );
  // A global may only be called, never returned or stored.
  expectError(() => loads(ascii("c__builtin__\nset\n.")), "refused", "STOP");
  expectError(
    () => loads(ascii("]c__builtin__\nset\na.")),
    "refused",
    "APPEND",
  );
  expectError(() => loads(ascii("(c__builtin__\nset\nt.")), "refused", "TUPLE");
  // REDUCE of something that is not a global.
  expectError(() => loads(ascii("])R.")), "refused", "REDUCE");
});

Deno.test("loads() calls the resolveGlobal hook for other globals", () => {
  // pickle.dumps(complex(1, 2)) and pickle.dumps(datetime.date(2020, 1, 2))
  const complexBytes = fromHex(
    "8004952e000000000000008c086275696c74696e73948c07636f6d706c6578949394473ff0000000000000474000000000000000869452942e",
  );
  expectError(() => loads(complexBytes), "refused", "STACK_GLOBAL");
  const calls: string[] = [];
  const value = loads(complexBytes, {
    resolveGlobal(module, name) {
      calls.push(`${module}.${name}`);
      if (module === "builtins" && name === "complex") {
        return ([re, im]) => ({ re, im });
      }
      return undefined;
    },
  });
  assert.deepEqual(value, { re: 1, im: 2 });
  assert.deepEqual(calls, ["builtins.complex"]);
  const date = fromHex(
    "80049520000000000000008c086461746574696d65948c0464617465949394430407e4010294859452942e",
  );
  expectError(
    () => loads(date, { resolveGlobal: () => undefined }),
    "refused",
    "STACK_GLOBAL",
  );
  const failing = () => () => {
    throw new Error("boom");
  };
  const e = expectError(
    () => loads(date, { resolveGlobal: failing }),
    "invalid",
    "REDUCE",
  );
  assert.ok(e.cause instanceof Error);
});

Deno.test("loads() stays linear on crafted memo reuse", () => {
  // One 50,000-item tuple used as the key of 100,000 SETITEMS pairs: the
  // key's value is computed once, not once per use.
  const parts: number[] = [0x80, 4, 0x7d, 0x94, 0x28, 0x28];
  for (let i = 0; i < 50000; i++) parts.push(0x4b, i & 0xff);
  parts.push(0x74, 0x94, 0x4e);
  for (let i = 0; i < 100000; i++) parts.push(0x68, 1, 0x4e);
  parts.push(0x75, 0x2e);
  const d = loads(Uint8Array.from(parts));
  assert.ok(d instanceof PyDict);
  assert.equal(d.size, 1);
  // Dicts referenced before they get an int key: all of them become
  // PyDicts, with one walk at STOP for all ("map" mode needs none).
  const bytes: number[] = [0x80, 4, 0x5d, 0x94, 0x28];
  for (let k = 1; k <= 100; k++) {
    bytes.push(0x7d, 0x94, 0x68, k, 0x30, 0x4b, 1, 0x4e, 0x73);
  }
  bytes.push(0x65, 0x2e);
  const crafted = Uint8Array.from(bytes);
  for (const dicts of ["object", "map"] as const) {
    const list = loads(crafted, { dicts }) as PyDict[];
    assert.equal(list.length, 100);
    assert.ok(list.every((d) => d instanceof PyDict && d.get(1) === null));
  }
});

Deno.test("loads() enforces its limits before allocating", () => {
  const big = dumps(Array.from({ length: 2000 }, (_, i) => i));
  expectError(() => loads(big, { maxBytes: 100 }), "limit");
  expectError(
    () => loads(big, { maxContainerLength: 1500 }),
    "limit",
    "APPENDS",
  );
  assert.equal(
    (loads(big, { maxContainerLength: 2000 }) as unknown[]).length,
    2000,
  );
  let deep: unknown = 1;
  for (let i = 0; i < 50; i++) deep = [deep];
  expectError(() => loads(dumps(deep), { maxDepth: 20 }), "limit");
  let deepTuple: unknown = 1;
  for (let i = 0; i < 50; i++) deepTuple = new Tuple([deepTuple]);
  expectError(
    () => loads(dumps(deepTuple), { maxDepth: 20 }),
    "limit",
    "TUPLE1",
  );
  let deepDict: unknown = 1;
  for (let i = 0; i < 50; i++) deepDict = { k: deepDict };
  expectError(
    () => loads(dumps(deepDict), { maxDepth: 20 }),
    "limit",
    "SETITEM",
  );
  assert.doesNotThrow(() => loads(dumps(deepDict), { maxDepth: 60 }));
  expectError(
    () => loads(fromHex("80024e71ff2e"), { maxMemo: 10 }),
    "limit",
    "BINPUT",
  );
  expectError(
    () => loads(fromHex("80024e72ffffffff2e")),
    "limit",
    "LONG_BINPUT",
  );
  expectError(() => loads(ascii(`I${"9".repeat(5000)}\n.`)), "limit", "INT");
  // A declared length beyond the input is "truncated", never an allocation.
  expectError(
    () => loads(fromHex("80048effffffffffffff7f")),
    "truncated",
    "BINBYTES8",
  );
  expectError(
    () => loads(fromHex("800495ffffffffffffff7f4e2e")),
    "truncated",
    "FRAME",
  );
});

Deno.test("loads() reports malformed input as invalid", () => {
  expectError(() => loads(new Uint8Array(0)), "truncated");
  expectError(() => loads(fromHex("8006 4e2e")), "invalid", "PROTO");
  expectError(() => loads(fromHex("8004 6805 2e")), "invalid", "BINGET");
  expectError(
    () => loads(fromHex("8004 8c02c328 2e")),
    "invalid",
    "SHORT_BINUNICODE",
  );
  expectError(() => loads(fromHex("8004 2e")), "invalid", "STOP");
  expectError(() => loads(fromHex("8004 65 2e")), "invalid", "APPENDS");
  expectError(() => loads(fromHex("8004 4e 4e 61 2e")), "invalid", "APPEND");
  expectError(
    () => loads(fromHex("8004 4e 284e 75 2e")),
    "invalid",
    "SETITEMS",
  );
  expectError(
    () => loads(fromHex("8004 5d 28 4e 75 2e")),
    "invalid",
    "SETITEMS",
  );
  expectError(() => loads(fromHex("8004 ff")), "invalid");
  expectError(
    () => loads(fromHex("8004 7d 5d 4e 73 2e")),
    "invalid",
    "SETITEM",
  );
  // Bytes after STOP are ignored, as in Python; FRAME is optional.
  assert.equal(loads(fromHex("80044b012e ffff")), 1);
  assert.equal(loads(fromHex("4b012e")), 1);
});

Deno.test("loads() decodes the protocol 0 and 1 text opcodes", () => {
  // pickle.dumps([1, True, 2**70, 1.5, 'a\\u20ac', {'k': (None,)}], 0)
  const p0 = ascii(
    "(lp0\nI1\naI01\naL1180591620717411303424L\naF1.5\naVa\\u20ac\np1\na(dp2\nVk\np3\n(Ntp4\nsa.",
  );
  assert.deepEqual(loads(p0), [1, true, 2n ** 70n, 1.5, "a\u20ac", {
    k: new Tuple([null]),
  }]);
  expectError(
    () => loads(ascii("(F-inf\nFnan\nI-5\ng99\n.")),
    "invalid",
    "GET",
  );
  assert.deepEqual(loads(ascii("(F-inf\nFnan\nI-5\nI00\nl.")), [
    -Infinity,
    NaN,
    -5,
    false,
  ]);
  assert.equal(loads(ascii("V\\\\u0041\n.")), "\\\\u0041");
  assert.equal(loads(ascii("V\\\\\\u0041\n.")), "\\\\A");
  assert.equal(loads(ascii("V\\u0041\\U0001f600\n.")), "A\u{1f600}");
  assert.equal(loads(fromHex("55026869" + "2e")), "hi");
  assert.equal(loads(fromHex("5402000000" + "6869" + "2e")), "hi");
  assert.deepEqual(loads(ascii("(K\x01K\x022t.")), new Tuple([1, 2, 2]));
});

Deno.test("loads() reports a truncation at every byte offset", () => {
  for (const v of VECTORS) {
    const bytes = fromHex(v.hex);
    const step = bytes.length <= 600 ? 1 : Math.ceil(bytes.length / 150);
    for (let n = 0; n < bytes.length; n += step) {
      expectError(() => loads(bytes.subarray(0, n)), "truncated");
    }
    expectError(() => loads(bytes.subarray(0, bytes.length - 1)), "truncated");
  }
});

Deno.test("loads() returns large bytes as views, small ones as copies", () => {
  const big = new Uint8Array(65536).fill(7);
  const input = dumps([new Uint8Array([1, 2, 3]), big, new ByteArray(big)]);
  const [small, view, ba] = loads(input) as [Uint8Array, Uint8Array, ByteArray];
  assert.notEqual(small.buffer, input.buffer);
  assert.equal(view.buffer, input.buffer);
  assert.notEqual(ba.bytes.buffer, input.buffer);
  const [, copy] = loads(input, {
    bytesViewThreshold: Infinity,
  }) as Uint8Array[];
  assert.notEqual(copy!.buffer, input.buffer);
  const [allView] = loads(input, { bytesViewThreshold: 0 }) as Uint8Array[];
  assert.equal(allView!.buffer, input.buffer);
  input.fill(0);
  assert.deepEqual([...small], [1, 2, 3]);
  assert.equal(copy![0], 7);
  assert.equal(view[0], 0);
});

Deno.test("pickleCodec() is a MessageCodec", () => {
  const codec: MessageCodec = pickleCodec({ floats: "wrap" });
  const bytes = codec.encode({ x: new PyFloat(1), y: 2 });
  assert.equal(bytes[1], 4);
  const back = codec.decode(bytes) as Record<string, unknown>;
  assert.ok(back.x instanceof PyFloat);
  assert.equal(back.y, 2);
  assert.equal(pyFloatRepr(1e16), "1e+16");
  assert.equal(pyFloatRepr(1e-5), "1e-05");
  assert.equal(pyFloatRepr(123.0), "123.0");
  assert.equal(pyFloatRepr(0.0001), "0.0001");
});

Deno.test("dumpsChunks() gives dumps()' bytes, large payloads as views", () => {
  const big = new Uint8Array(70000).map((_, i) => i & 0xff);
  const big2 = new Uint8Array(65536).fill(7);
  const values: unknown[] = [
    big,
    [big, "x", big2, new ByteArray(big2)],
    { a: 1, b: [1, 2, 3] },
    new Uint8Array(100),
  ];
  for (const v of values) {
    for (const protocol of [2, 3, 4, 5] as const) {
      const chunks = dumpsChunks(v, { protocol });
      const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        joined.set(c, at);
        at += c.length;
      }
      assert.equal(toHex(joined), toHex(dumps(v, { protocol })));
    }
  }
  const chunks = dumpsChunks([big, "x", big2]);
  assert.equal(chunks.length, 5);
  assert.equal(chunks[1], big);
  assert.equal(chunks[3], big2);
});

Deno.test("dumps() shares equal keys of small plain objects like CPython", () => {
  // pickle.dumps([{"host": 1, "port": 2}, {"host": 3, "port": 4}], 4)
  const rows = [{ host: 1, port: 2 }, { host: 3, port: 4 }];
  assert.equal(
    toHex(dumps(rows)),
    "80049527000000000000005d94287d94288c04686f7374944b018c04706f7274944b02757d" +
      "942868024b0368034b0475652e",
  );
});
