// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Property tests: dumps/loads identity over generated values, and mutated,
// truncated or random input never throws anything but UnpicklingError.
import assert from "node:assert/strict";
import fc from "fast-check";
import { dumps, loads, UnpicklingError } from "./pickle.ts";
import { fromHex } from "../_test_utils/assert.ts";
import {
  picklableValue,
  PICKLE_VECTORS as VECTORS,
  toTagged,
} from "../_test_utils/connection_pickle.ts";

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
        message: `untyped error ${e} for ${
          Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
        }`,
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
