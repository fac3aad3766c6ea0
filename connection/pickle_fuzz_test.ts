// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Property tests: dumps/loads identity over generated values, and mutated,
// truncated or random input never throws anything but UnpicklingError.
import assert from "node:assert/strict";
import fc from "fast-check";
import { dumps, loads, UnpicklingError } from "./pickle.ts";
import { fromHex, toHex } from "../_test_utils/hex.ts";
import {
  picklableValue,
  PICKLE_VECTORS as VECTORS,
  toTagged,
} from "../_test_utils/connection/pickle.ts";

const SMALL = VECTORS.map((v) => fromHex(v.hex)).filter((b) =>
  b.length <= 3000
);
const EXACT = { floats: "wrap", dicts: "map" } as const;
const protocol = fc.constantFrom(
  2 as const,
  3 as const,
  4 as const,
  5 as const,
);

/** What the natural mode gives back: unsafe integers come back as bigint. */
function natural(value: unknown): unknown {
  if (typeof value === "number") {
    return Number.isInteger(value) && !Number.isSafeInteger(value)
      ? BigInt(value)
      : value;
  }
  if (Array.isArray(value)) return value.map(natural);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: natural(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/** Decodes, accepting success or an UnpicklingError, and nothing else. */
function tryLoads(bytes: Uint8Array): void {
  try {
    loads(bytes, { maxBytes: 1 << 20 });
  } catch (e) {
    if (!(e instanceof UnpicklingError)) {
      throw new assert.AssertionError({
        message: `untyped error ${e} for ${toHex(bytes)}`,
      });
    }
    assert.ok(e.offset >= 0 && e.offset <= bytes.length);
  }
}

Deno.test("loads(dumps(value)) gives the value back (exact mode)", () => {
  fc.assert(
    fc.property(picklableValue(), protocol, (value, p) => {
      const back = loads(dumps(value, { protocol: p }), EXACT);
      assert.deepEqual(toTagged(back), toTagged(value));
    }),
    { numRuns: 300 },
  );
});

Deno.test("loads(dumps(value)) gives JSON-like values back (natural mode)", () => {
  fc.assert(
    fc.property(fc.jsonValue(), protocol, (value, p) => {
      assert.deepEqual(loads(dumps(value, { protocol: p })), natural(value));
    }),
    { numRuns: 300 },
  );
});

Deno.test("loads() of mutated vectors throws only UnpicklingError", () => {
  const mutation = fc.record({
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
    kind: fc.constantFrom("set", "insert", "delete", "truncate"),
  });
  fc.assert(
    fc.property(
      fc.constantFrom(...SMALL),
      fc.array(mutation, { minLength: 1, maxLength: 6 }),
      (original, mutations) => {
        const bytes = Array.from(original);
        for (const m of mutations) {
          const at = m.at % (bytes.length + 1);
          if (m.kind === "set" && at < bytes.length) bytes[at] = m.byte;
          else if (m.kind === "insert") bytes.splice(at, 0, m.byte);
          else if (m.kind === "delete") bytes.splice(at, 1);
          else if (m.kind === "truncate") bytes.length = at;
        }
        tryLoads(Uint8Array.from(bytes));
      },
    ),
    { numRuns: 1500 },
  );
});

Deno.test("loads() of random bytes throws only UnpicklingError", () => {
  const opcodeSoup = fc.array(
    fc.constantFrom(
      0x28,
      0x2e,
      0x30,
      0x31,
      0x32,
      0x4e,
      0x5d,
      0x61,
      0x65,
      0x29,
      0x7d,
      0x73,
      0x75,
      0x8f,
      0x90,
      0x91,
      0x94,
      0x85,
      0x86,
      0x87,
      0x74,
      0x6c,
      0x64,
      0x68,
      0x00,
      0x01,
      0x4b,
      0x8c,
      0x02,
      0x61,
      0x62,
      0x52,
      0x63,
      0x0a,
      0x93,
      0x95,
    ),
    { maxLength: 80 },
  ).map((a) => Uint8Array.from(a));
  fc.assert(
    fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 200 }), opcodeSoup),
      (b) => tryLoads(b),
    ),
    { numRuns: 1500 },
  );
});

Deno.test("loads() of every prefix of a generated pickle is truncated", () => {
  fc.assert(
    fc.property(picklableValue(), protocol, (value, p) => {
      const bytes = dumps(value, { protocol: p });
      for (let n = 0; n < bytes.length; n++) {
        try {
          loads(bytes.subarray(0, n));
          assert.fail(`prefix of ${n} bytes decoded`);
        } catch (e) {
          assert.ok(e instanceof UnpicklingError, String(e));
          assert.equal(e.reason, "truncated");
        }
      }
    }),
    { numRuns: 100 },
  );
});

/**
 * One opcode with well-formed operands: every opcode of protocols 0-5,
 * with small memo indices (so GETs hit), small counts, and text lines of
 * digits, signs, dots, letters and escapes.
 */
const opcodeWithOperands: fc.Arbitrary<number[]> = (() => {
  const u32 = (n: number): number[] => [
    n & 0xff,
    (n >>> 8) & 0xff,
    (n >>> 16) & 0xff,
    n >>> 24,
  ];
  const u64 = (n: number): number[] => [...u32(n), 0, 0, 0, 0];
  const payload = fc.uint8Array({ maxLength: 12 });
  const line = fc.array(
    fc.constantFrom(..."0123456789+-.eEinfaxL\\uU \x80".split("")),
    { maxLength: 12 },
  ).map((cs) => [...cs.map((c) => c.charCodeAt(0)), 0x0a]);
  const op = (code: number): fc.Arbitrary<number[]> => fc.constant([code]);
  const withByte = (code: number) =>
    fc.integer({ min: 0, max: 255 }).map((b) => [code, b]);
  const withIndex4 = (code: number) =>
    fc.integer({ min: 0, max: 20 }).map((i) => [code, ...u32(i)]);
  const counted1 = (code: number) => payload.map((p) => [code, p.length, ...p]);
  const counted4 = (code: number) =>
    payload.map((p) => [code, ...u32(p.length), ...p]);
  const counted8 = (code: number) =>
    payload.map((p) => [code, ...u64(p.length), ...p]);
  const textOp = (code: number) => line.map((l) => [code, ...l]);
  return fc.oneof(
    ...[
      0x28,
      0x2e,
      0x30,
      0x31,
      0x32,
      0x4e,
      0x52,
      0x5d,
      0x29,
      0x7d,
      0x8f,
      0x61,
      0x65,
      0x73,
      0x75,
      0x90,
      0x91,
      0x74,
      0x6c,
      0x64,
      0x85,
      0x86,
      0x87,
      0x88,
      0x89,
      0x93,
      0x94,
      0x62,
      0x81,
      0x92,
      0x51,
      0x97,
      0x98,
      0x6f,
    ].map(op),
    ...[0x4b, 0x68, 0x71, 0x80, 0x82].map(withByte),
    fc.integer({ min: 0, max: 65535 }).map((v) => [0x4d, v & 0xff, v >> 8]),
    ...[0x4a, 0x6a, 0x72, 0x84].map(withIndex4),
    fc.double().map((f) => {
      const b = new Uint8Array(9);
      b[0] = 0x47;
      new DataView(b.buffer).setFloat64(1, f, false);
      return [...b];
    }),
    ...[0x8a, 0x8c, 0x43, 0x55].map(counted1),
    ...[0x8b, 0x58, 0x42, 0x54].map(counted4),
    ...[0x8d, 0x8e, 0x96].map(counted8),
    fc.integer({ min: 0, max: 40 }).map((n) => [0x95, ...u64(n)]),
    ...[0x46, 0x49, 0x4c, 0x56, 0x53, 0x67, 0x70, 0x50].map(textOp),
    fc.constantFrom(
      [..."cbuiltins\nset\n"].map((c) => c.charCodeAt(0)),
      [..."c__builtin__\nfrozenset\n"].map((c) => c.charCodeAt(0)),
      [..."c_codecs\nencode\n"].map((c) => c.charCodeAt(0)),
      [..."cos\nsystem\n"].map((c) => c.charCodeAt(0)),
    ),
  );
})();

Deno.test("loads() of random opcode streams gives a value or an UnpicklingError", () => {
  fc.assert(
    fc.property(
      fc.array(opcodeWithOperands, { maxLength: 60 }),
      fc.boolean(),
      (ops, stop) => {
        const bytes = ops.flat();
        if (stop) bytes.push(0x2e);
        tryLoads(Uint8Array.from(bytes));
        tryLoads(Uint8Array.from([0x80, 4, ...bytes]));
      },
    ),
    { numRuns: 3000 },
  );
});
