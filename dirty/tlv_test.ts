// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  fromTagged,
  loadVectors,
  type Vector,
} from "../_test_utils/dirty/vectors.ts";
import { fromHex, toHex } from "../_test_utils/hex.ts";
import { tlvValue } from "../_test_utils/dirty/values.ts";
import { DirtyProtocolError } from "./errors.ts";
import { decodeTlv, decodeTlvAt } from "./tlv_decoder.ts";
import { DirtyFloat } from "./dirty_float.ts";
import { type DirtyInput, type DirtyValue, MAX_BYTES_SIZE } from "./tlv.ts";
import { encodeTlv } from "./tlv_encoder.ts";

const vectors: Vector[] = [
  ...loadVectors("dirty-vectors.json"),
  ...loadVectors("extra-vectors.json"),
];
const EXACT = { float: "tagged" } as const;

function byKind(kind: string): Vector[] {
  const out = vectors.filter((v) => v.kind === kind);
  assert.ok(out.length > 0, `no vectors of kind ${kind}`);
  return out;
}

Deno.test("tlv: every gunicorn TLV vector decodes to its value and re-encodes byte-identically", () => {
  let n = 0;
  for (const v of byKind("tlv")) {
    const bytes = fromHex(v.hex);
    const value = decodeTlv(bytes, EXACT);
    assert.deepStrictEqual(value, fromTagged(v.expected!), v.name);
    assert.equal(toHex(encodeTlv(value)), v.hex, v.name);
    n++;
  }
  assert.ok(n >= 30);
});

Deno.test("tlv: encoding the natural JS form of each vector gives gunicorn's bytes", () => {
  const cases: [string, DirtyInput][] = [
    ["none", null],
    ["bool_true", true],
    ["int_minus_1", -1],
    ["int_max", 2n ** 63n - 1n],
    ["int_min", -(2n ** 63n)],
    ["int_2_pow_32", 2 ** 32],
    ["float_1_0", new DirtyFloat(1)],
    ["float_3_14159", 3.14159],
    ["float_neg_zero", -0],
    ["float_nan", NaN],
    ["float_inf", Infinity],
    ["str_unicode", "\u00e9\u2603\u{1F600}"],
    ["list_mixed", [1, "a", null, true, Uint8Array.of(0x78), 1.5]],
    ["tuple_as_list", [1, 2]],
    ["dict_two_keys_order", { b: 1, a: 2 }],
    ["dict_int_key", { 1: "x" }],
    ["dict_nested", { a: [{ b: Uint8Array.of(0) }] }],
    ["request_payload", {
      app_path: "m:C",
      action: "run",
      args: [1],
      kwargs: {},
    }],
  ];
  for (const [name, value] of cases) {
    const v = vectors.find((x) => x.name === name && x.kind === "tlv");
    assert.ok(v, name);
    assert.equal(toHex(encodeTlv(value)), v.hex, name);
  }
});

Deno.test("tlv: decode-error vectors fail with gunicorn's message and details", () => {
  for (const v of byKind("tlv_decode_error")) {
    const err = (() => {
      try {
        (() => decodeTlv(fromHex(v.hex)))();
      } catch (e) {
        return e;
      }
      return assert.fail("expected a throw");
    })();
    assert.ok(err instanceof DirtyProtocolError, String(err));
    assert.equal(err.message, v.error_message, v.name);
    assert.deepStrictEqual({ ...err.details }, v.error_details, v.name);
    assert.equal(err.errorType, "DirtyProtocolError");
  }
});

Deno.test("tlv: lenient vectors decode like gunicorn", () => {
  for (const v of byKind("tlv_decode_lenient")) {
    const value = decodeTlv(fromHex(v.hex), EXACT);
    assert.deepStrictEqual(value, fromTagged(v.expected!), v.name);
  }
});

Deno.test("tlv: encode-error vectors are typed errors with gunicorn's messages", () => {
  const inputs: Record<string, DirtyInput> = {
    "int_2_pow_63": 2n ** 63n,
    "int_minus_2_pow_63_minus_1": -(2n ** 63n) - 1n,
    "lone_surrogate_str": "\ud800",
  };
  for (const v of byKind("tlv_encode_error")) {
    if (!(v.name in inputs)) continue;
    const err = (() => {
      try {
        (() => encodeTlv(inputs[v.name]))();
      } catch (e) {
        return e;
      }
      return assert.fail("expected a throw");
    })();
    assert.ok(err instanceof DirtyProtocolError, String(err));
    assert.equal(err.message, v.error_message, v.name);
  }
  // Python's bytearray/object have JS counterparts that are refused the same way.
  const clamped = (() => {
    try {
      (() => encodeTlv(new Uint8ClampedArray(1) as unknown as DirtyInput))();
    } catch (e) {
      return e;
    }
    return assert.fail("expected a throw");
  })();
  assert.ok(clamped instanceof DirtyProtocolError, String(clamped));
  assert.equal(
    clamped.message,
    "Unsupported type for TLV encoding: Uint8ClampedArray",
  );
  const date = (() => {
    try {
      (() => encodeTlv(new Date() as unknown as DirtyInput))();
    } catch (e) {
      return e;
    }
    return assert.fail("expected a throw");
  })();
  assert.ok(date instanceof DirtyProtocolError, String(date));
  assert.equal(date.message, "Unsupported type for TLV encoding: Date");
  for (const bad of [Symbol("x"), () => 1, new Set([1]), new ArrayBuffer(1)]) {
    assert.throws(
      () => encodeTlv(bad as unknown as DirtyInput),
      (e) =>
        e instanceof DirtyProtocolError && /Unsupported type/.test(e.message),
    );
  }
});

Deno.test("tlv: int and float stay apart through a round trip", () => {
  assert.equal(toHex(encodeTlv(1)), "050000000000000001");
  assert.equal(toHex(encodeTlv(new DirtyFloat(1))), "063ff0000000000000");
  assert.equal(toHex(encodeTlv(1n)), "050000000000000001");
  // beyond 2^53 a number is a float; bigint is the int
  assert.equal(toHex(encodeTlv(2 ** 60)), "0643b0000000000000");
  assert.equal(toHex(encodeTlv(2n ** 60n)), "051000000000000000");
  const tagged = decodeTlv(fromHex("063ff0000000000000"), EXACT);
  assert.ok(tagged instanceof DirtyFloat);
  assert.equal(decodeTlv(fromHex("063ff0000000000000")), 1);
  assert.equal(
    decodeTlv(fromHex("050000000000000001"), { int: "bigint" }),
    1n,
  );
  // safe-integer boundaries
  for (const b of [2n ** 53n - 1n, -(2n ** 53n) + 1n]) {
    const bytes = encodeTlv(b);
    assert.equal(decodeTlv(bytes), Number(b));
    assert.equal(toHex(encodeTlv(decodeTlv(bytes))), toHex(bytes));
  }
  for (const b of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n]) {
    const bytes = encodeTlv(b);
    assert.equal(decodeTlv(bytes), b);
    assert.equal(toHex(encodeTlv(decodeTlv(bytes))), toHex(bytes));
  }
});

Deno.test("tlv: bool decodes any non-zero byte as true; dict duplicate keys keep the last", () => {
  assert.equal(decodeTlv(fromHex("0102")), true);
  assert.equal(decodeTlv(fromHex("01ff")), true);
  const dup = fromHex(
    "2100000002" +
      "1100000001610500000000000000011100000001610500000000000000" + "02",
  );
  assert.deepStrictEqual(decodeTlv(dup), new Map([["a", 2]]));
});

Deno.test("tlv: dict decoding as objects keeps __proto__ as a plain key", () => {
  const bytes = encodeTlv(new Map([["__proto__", 1], ["b", 2]]));
  const obj = decodeTlv(bytes, { dict: "object" }) as Record<
    string,
    DirtyValue
  >;
  assert.equal(Object.getPrototypeOf(obj), Object.prototype);
  assert.deepStrictEqual(Object.keys(obj), ["__proto__", "b"]);
  assert.equal(toHex(encodeTlv(obj)), toHex(bytes));
});

Deno.test("tlv: non-string Map keys are refused on encode", () => {
  assert.throws(
    () => encodeTlv(new Map([[1, 2]]) as unknown as DirtyInput),
    (e) =>
      e instanceof DirtyProtocolError &&
      /Dict key must be string, got number/.test(e.message),
  );
});

Deno.test("tlv: limits are checked before allocating", () => {
  // Huge declared lengths fail on the header, never allocate.
  assert.throws(
    () => decodeTlv(fromHex("10ffffffff")),
    (e) =>
      e instanceof DirtyProtocolError &&
      /Bytes too large: 4294967295/.test(e.message),
  );
  assert.throws(
    () => decodeTlv(fromHex("11ffffffff")),
    (e) =>
      e instanceof DirtyProtocolError && /String too large/.test(e.message),
  );
  assert.throws(
    () => decodeTlv(fromHex("20ffffffff")),
    (e) =>
      e instanceof DirtyProtocolError &&
      /List too large: 4294967295 items/.test(e.message),
  );
  // Exactly at the limit the length is accepted, then truncation is reported.
  assert.throws(
    () => decodeTlv(fromHex("1004000000")),
    (e) =>
      e instanceof DirtyProtocolError &&
      new RegExp(`expected ${MAX_BYTES_SIZE} bytes, got 0`).test(e.message),
  );
  // A list that claims a million items but has none.
  assert.throws(
    () => decodeTlv(fromHex("2000100000")),
    (e) => e instanceof DirtyProtocolError && /no type byte/.test(e.message),
  );
});

Deno.test("tlv: nesting is capped (decode and encode) and cycles are refused", () => {
  const depth = 1000;
  const ok = new Uint8Array(depth * 5 + 5);
  for (let i = 0; i < depth; i++) ok.set([0x20, 0, 0, 0, 1], i * 5);
  ok.set([0x20, 0, 0, 0, 0], (depth - 1) * 5);
  assert.ok(Array.isArray(decodeTlv(ok.subarray(0, depth * 5))));
  const deep = new Uint8Array((depth + 1) * 5);
  for (let i = 0; i <= depth; i++) {
    deep.set([0x20, 0, 0, 0, i === depth ? 0 : 1], i * 5);
  }
  assert.throws(
    () => decodeTlv(deep),
    (e) =>
      e instanceof DirtyProtocolError &&
      /nesting deeper than 1000/.test(e.message),
  );
  const cyc: unknown[] = [];
  cyc.push(cyc);
  assert.throws(
    () => encodeTlv(cyc as DirtyInput),
    (e) => e instanceof DirtyProtocolError && /nesting deeper/.test(e.message),
  );
  assert.equal(decodeTlv(deep, { maxDepth: 1001 }) instanceof Array, true);
});

Deno.test("tlv: strings are strict UTF-8 with Python's error texts, BOM kept", () => {
  assert.equal(decodeTlv(fromHex("1100000003efbbbf")), "\ufeff");
  for (const v of vectors.filter((x) => x.kind === "utf8_decode_error")) {
    const body = fromHex(v.hex);
    const tlv = new Uint8Array(5 + body.length);
    tlv[0] = 0x11;
    new DataView(tlv.buffer).setUint32(1, body.length);
    tlv.set(body, 5);
    const err = (() => {
      try {
        (() => decodeTlv(tlv))();
      } catch (e) {
        return e;
      }
      return assert.fail("expected a throw");
    })();
    assert.ok(err instanceof DirtyProtocolError, String(err));
    assert.equal(
      err.message,
      `Invalid UTF-8 in string: ${v.error_message}`,
      v.name,
    );
  }
  for (const v of vectors.filter((x) => x.kind === "utf8_encode_error")) {
    const s = JSON.parse(v.python_repr) as string;
    const err = (() => {
      try {
        (() => encodeTlv(s))();
      } catch (e) {
        return e;
      }
      return assert.fail("expected a throw");
    })();
    assert.ok(err instanceof DirtyProtocolError, String(err));
    assert.equal(err.message, v.error_message, v.name);
  }
});

/** Counts the calls of a `TextDecoder` / `TextEncoder` method while `fn` runs. */
function countCalls(
  proto: object,
  name: string,
  fn: () => void,
): number {
  const target = proto as Record<string, (...a: unknown[]) => unknown>;
  const original = target[name]!;
  let calls = 0;
  target[name] = function (this: unknown, ...a: unknown[]) {
    calls++;
    return original.apply(this, a);
  };
  try {
    fn();
  } finally {
    target[name] = original;
  }
  return calls;
}

Deno.test("tlv: strings of 1-256 bytes read again come from the cache, never a stale one", () => {
  const path = "file:///srv/app/models/summarizer.ts:Summarizer";
  const bytes = encodeTlv(path);
  assert.equal(decodeTlv(bytes), path);
  // Read again: no TextDecoder call.
  const again = countCalls(TextDecoder.prototype, "decode", () => {
    for (let i = 0; i < 3; i++) assert.equal(decodeTlv(bytes), path);
  });
  assert.equal(again, 0);
  // Short ones too (a request's keys and action): read again, no string
  // is built char by char.
  const request = encodeTlv(
    new Map<string, DirtyInput>([
      ["app_path", path],
      ["action", "summarize"],
      ["args", ["k"]],
      ["kwargs", new Map()],
    ]),
  );
  const first = decodeTlv(request);
  const built = countCalls(String, "fromCharCode", () => {
    for (let i = 0; i < 3; i++) assert.deepEqual(decodeTlv(request), first);
  });
  assert.equal(built, 0);
  // Strings that share a slot (same length, same last and middle bytes)
  // and differ elsewhere: each reads as itself, whatever came before.
  const twins = ["a", "b", "\u00e9"].map((c) => `${c}${"x".repeat(38)}y`);
  const shortTwins = ["a", "b", "c"].map((c) => `${c}xy`);
  for (let round = 0; round < 3; round++) {
    for (const t of [...twins, ...shortTwins]) {
      assert.equal(decodeTlv(encodeTlv(t)), t);
    }
  }
  // Bytes that are not UTF-8 are refused every time, and leave the slot
  // to the string that holds it.
  for (const n of [3, 40]) {
    const bad = encodeTlv("z".repeat(n));
    bad[5 + 1] = 0xff;
    for (let i = 0; i < 2; i++) {
      assert.throws(() => decodeTlv(bad), /Invalid UTF-8 in string/);
    }
  }
  fc.assert(
    fc.property(
      fc.array(
        fc.string({ unit: "binary", minLength: 0, maxLength: 90 }),
        { minLength: 1, maxLength: 20 },
      ),
      (strings) => {
        const wellFormed = strings.filter((x) => x.isWellFormed());
        for (const x of [...wellFormed, ...wellFormed]) {
          assert.equal(decodeTlv(encodeTlv(x)), x);
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("tlv: ASCII strings up to 256 chars are written without TextEncoder, others as UTF-8", () => {
  const ascii = "k".repeat(256);
  const calls = countCalls(TextEncoder.prototype, "encodeInto", () => {
    encodeTlv(ascii);
    encodeTlv("file:///srv/app/models/summarizer.ts:Summarizer");
  });
  assert.equal(calls, 0);
  // A non-ASCII char anywhere (the ASCII copy stops there and starts over).
  for (const n of [47, 48, 100, 256, 257, 300]) {
    for (const at of [0, n >> 1, n - 1]) {
      const s = "a".repeat(at) + "\u00e9" + "b".repeat(n - at - 1);
      const utf8 = new TextEncoder().encode(s);
      const want = new Uint8Array(5 + utf8.length);
      want[0] = 0x11;
      new DataView(want.buffer).setUint32(1, utf8.length);
      want.set(utf8, 5);
      assert.deepEqual(encodeTlv(s), want, `${n} ${at}`);
      assert.equal(decodeTlv(want), s);
    }
  }
});

Deno.test("tlv: truncating any encoded value at any offset gives a typed error", () => {
  const value = {
    s: "h\u00e9llo",
    b: Uint8Array.of(1, 2, 3),
    l: [1, 2.5, null, true, [new Map([["k", -7n]])]],
    big: 2n ** 62n,
  };
  const bytes = encodeTlv(value);
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.throws(() => decodeTlv(bytes.subarray(0, cut)), DirtyProtocolError);
  }
  for (let i = 0; i < bytes.length; i++) {
    // Flipping each byte never crashes untyped.
    const copy = bytes.slice();
    copy[i] = copy[i]! ^ 0xff;
    try {
      decodeTlv(copy);
    } catch (e) {
      assert.ok(e instanceof DirtyProtocolError, `byte ${i}: ${e}`);
    }
  }
});

Deno.test("tlv: decodeTlvAt reads consecutive values like gunicorn's decode(data, offset)", () => {
  const bytes = fromHex("05000000000000002a" + "0101" + "00");
  let r = decodeTlvAt(bytes, 0);
  assert.deepStrictEqual(r, { value: 42, offset: 9 });
  r = decodeTlvAt(bytes, r.offset);
  assert.deepStrictEqual(r, { value: true, offset: 11 });
  r = decodeTlvAt(bytes, r.offset);
  assert.deepStrictEqual(r, { value: null, offset: 12 });
  assert.throws(
    () => decodeTlvAt(bytes, 12),
    (e) => e instanceof DirtyProtocolError && /no type byte/.test(e.message),
  );
});

Deno.test("tlv: decoded bytes are copies, not views of the input", () => {
  const input = fromHex("1000000002abcd");
  const out = decodeTlv(input) as Uint8Array;
  input[5] = 0;
  assert.deepStrictEqual([...out], [0xab, 0xcd]);
});

Deno.test("tlv: fast-check round trip (exact mode) is lossless and byte-stable", () => {
  fc.assert(
    fc.property(tlvValue, (v) => {
      const bytes = encodeTlv(v);
      const back = decodeTlv(bytes, EXACT);
      assert.deepStrictEqual(back, v);
      assert.equal(toHex(encodeTlv(back)), toHex(bytes));
    }),
    { numRuns: 300 },
  );
});

Deno.test("tlv: fast-check random bytes never crash untyped", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        decodeTlv(bytes);
      } catch (e) {
        assert.ok(e instanceof DirtyProtocolError, String(e));
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("tlv: DirtyFloat reads as its number in text and arithmetic", () => {
  const f = new DirtyFloat(3);
  assert.equal(`${f}`, "3");
  assert.equal(String(new DirtyFloat(-0.5)), "-0.5");
  assert.equal(+f * 2, 6);
  assert.equal(Math.max(f as unknown as number, 1), 3);
});

Deno.test("tlv: a Map that a getter grows or shrinks while it is encoded is refused, never miscounted", () => {
  for (const change of ["grow", "shrink"] as const) {
    const m = new Map<string, DirtyInput>();
    const value = {
      get x(): number {
        if (change === "grow") m.set("later", 1);
        else m.delete("b");
        return 1;
      },
    };
    m.set("a", value as unknown as DirtyInput);
    m.set("b", 2);
    assert.throws(
      () => encodeTlv(m),
      (e) =>
        e instanceof DirtyProtocolError &&
        /changed size while it was encoded/.test(e.message),
      change,
    );
  }
  // Unchanged maps are written as before.
  const same = new Map<string, DirtyInput>([["a", 1], ["b", [2]]]);
  assert.deepEqual(decodeTlv(encodeTlv(same)), same);
});
