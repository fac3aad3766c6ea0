// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import fc from "fast-check";
import { tlvValue } from "../_test_utils/dirty/values.ts";
import { toHex } from "../_test_utils/hex.ts";
import { DirtyProtocolError } from "./errors.ts";
import { appFloatMode, FloatSlots } from "./_floats.ts";
import { decodeTlv } from "./tlv_decoder.ts";
import { DirtyFloat } from "./dirty_float.ts";
import { type DirtyInput, type DirtyValue, TLV_INT64 } from "./tlv.ts";
import { encodeTlv } from "./tlv_encoder.ts";

const TAGGED = { float: "tagged", dict: "object" } as const;

function hasDirtyFloat(v: unknown): boolean {
  if (v instanceof DirtyFloat) return true;
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) {
    return false;
  }
  const items = v instanceof Map ? [...v.values()] : Object.values(v);
  return items.some(hasDirtyFloat);
}

Deno.test("floats: plain() gives numbers, restore() puts unchanged slots back as floats", () => {
  const slots = new FloatSlots();
  const wire = encodeTlv([
    new DirtyFloat(1),
    1,
    { f: new DirtyFloat(1), i: 1, deep: [{ x: new DirtyFloat(-3) }] },
  ]);
  const args = decodeTlv(wire, TAGGED) as DirtyValue[];
  const plain = args.map((a) => slots.plain(a));
  assert.deepStrictEqual(plain, [1, 1, { f: 1, i: 1, deep: [{ x: -3 }] }]);
  // The containers passed through come back as they came.
  assert.equal(
    toHex(encodeTlv(slots.restore(plain[2]))),
    toHex(encodeTlv(
      { f: new DirtyFloat(1), i: 1, deep: [{ x: new DirtyFloat(-3) }] },
    )),
  );
  // A bare number has no slot: it follows the codec's rule.
  assert.equal(encodeTlv(slots.restore(plain[0]))[0], TLV_INT64);
});

Deno.test("floats: restore() never modifies the app's objects and copies only what changes", () => {
  const slots = new FloatSlots();
  const d = slots.plain(
    decodeTlv(encodeTlv({ a: [new DirtyFloat(2)], b: ["s", 1] }), TAGGED),
  ) as { a: number[]; b: unknown[] };
  const out = slots.restore(d) as { a: unknown[]; b: unknown[] };
  assert.notEqual(out, d);
  assert.notEqual(out.a, d.a);
  assert.equal(out.b, d.b);
  assert.deepStrictEqual(out.a, [new DirtyFloat(2)]);
  assert.deepStrictEqual(d, { a: [2], b: ["s", 1] });
  // A new container holding the same number is not a float slot.
  assert.equal(slots.restore([2])[0], 2);
});

Deno.test("floats: a slot the app changed is encoded from its new number", () => {
  const slots = new FloatSlots();
  const d = slots.plain(
    decodeTlv(
      encodeTlv({ n: new DirtyFloat(1), m: new DirtyFloat(1) }),
      TAGGED,
    ),
  ) as { n: number; m: number };
  d.n += 1;
  assert.deepStrictEqual(slots.restore(d), { n: 2, m: new DirtyFloat(1) });
  d.n -= 1;
  assert.deepStrictEqual(slots.restore(d), {
    n: new DirtyFloat(1),
    m: new DirtyFloat(1),
  });
});

Deno.test("floats: a list that grew or shrank keeps no float slots (an int put in front stays an int)", () => {
  const slots = new FloatSlots();
  const list = slots.plain(
    decodeTlv(encodeTlv([new DirtyFloat(1), 2]), TAGGED),
  ) as number[];
  list.unshift(1);
  // Python would give [1, 1.0, 2]; positions moved, so the codec's rule.
  assert.deepStrictEqual(slots.restore(list), [1, 1, 2]);
  list.shift();
  assert.deepStrictEqual(slots.restore(list), [new DirtyFloat(1), 2]);
  list.pop();
  assert.deepStrictEqual(slots.restore(list), [1]);
});

Deno.test("floats: a __proto__ key stays an own key through plain() and restore()", () => {
  const slots = new FloatSlots();
  const d = slots.plain(
    decodeTlv(encodeTlv(new Map([["__proto__", new DirtyFloat(5)]])), TAGGED),
  ) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(d), Object.prototype);
  const out = slots.restore(d);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepStrictEqual(
    Object.getOwnPropertyDescriptor(out, "__proto__")?.value,
    new DirtyFloat(5),
  );
  assert.equal(
    toHex(encodeTlv(out as DirtyInput)),
    toHex(encodeTlv(new Map([["__proto__", new DirtyFloat(5)]]))),
  );
});

Deno.test("floats: restore() of a cycle fails as the encoder does", () => {
  const slots = new FloatSlots();
  const d = slots.plain(
    decodeTlv(encodeTlv([new DirtyFloat(1)]), TAGGED),
  ) as unknown[];
  const cyclic: unknown[] = [d, d];
  cyclic.push(cyclic);
  assert.throws(
    () => slots.restore(cyclic),
    (e) =>
      e instanceof DirtyProtocolError &&
      e.message === "Cannot encode TLV: nesting deeper than 1000 levels",
  );
});

Deno.test("floats: appFloatMode reads static floats", () => {
  assert.equal(appFloatMode(class {}), "number");
  assert.equal(
    appFloatMode(
      class {
        static floats = "number";
      },
    ),
    "number",
  );
  assert.equal(
    appFloatMode(
      class {
        static floats = "tagged";
      },
    ),
    "tagged",
  );
  assert.throws(
    () =>
      appFloatMode(
        class {
          static floats = 1;
        },
      ),
    (e) =>
      e instanceof TypeError &&
      e.message ===
        'Cannot load app: static floats must be "number" or "tagged", got number',
  );
});

Deno.test("floats: fast-check pass-through keeps the bytes, plain() leaves no DirtyFloat", () => {
  fc.assert(
    fc.property(tlvValue, (v) => {
      const slots = new FloatSlots();
      const bytes = encodeTlv([v]);
      const plain = slots.plain(decodeTlv(bytes, { float: "tagged" }));
      assert.equal(hasDirtyFloat(plain), false);
      const before = encodeTlv(plain);
      assert.equal(toHex(encodeTlv(slots.restore(plain))), toHex(bytes));
      // restore() left the app's value as it was.
      assert.equal(toHex(encodeTlv(plain)), toHex(before));
    }),
    { numRuns: 300 },
  );
});
