// Copyright 2026 the @sidecar/ipc authors. MIT license.
// The pickler's memo: tuples found by their stamp, records' keys fetched by
// shape (_pickle_tuple.ts, _pickle_records.ts), through dumps().
import assert from "node:assert/strict";
import { dumps, Tuple } from "./pickle.ts";
import { toHex } from "../_test_utils/hex.ts";

Deno.test("dumps() finds a shared tuple within one pickle only", () => {
  // Python: t = (1, 2); pickle.dumps([t, t]) and pickle.dumps([t]).
  const t = new Tuple([1, 2]);
  const twice = "8004950d000000000000005d94284b014b0286946801652e";
  const once = "8004950a000000000000005d944b014b028694612e";
  assert.equal(toHex(dumps([t, t])), twice);
  // A later pickle writes the tuple in full, even after a failed one.
  assert.equal(toHex(dumps([t])), once);
  assert.throws(() => dumps([t, t, () => 0]), TypeError);
  assert.equal(toHex(dumps([t])), once);
  assert.equal(
    toHex(dumps([t, t], { protocol: 2 })),
    "80025d7100284b014b028671016801652e",
  );
  // A dumps() nested in a getter does not hide the outer pickle's tuple.
  // Python: pickle.dumps({"b": t, "a": 1, "c": t})
  const value = {
    b: t,
    get a() {
      assert.equal(toHex(dumps([t])), once);
      return 1;
    },
    c: t,
  };
  assert.equal(
    toHex(dumps(value)),
    "8004951b000000000000007d94288c0162944b014b0286948c0161944b018c0163946802752e",
  );
});

Deno.test("dumps() writes records shaped like earlier ones like CPython", () => {
  // Python: [{"a": 1, "b": 2}, {"a": 3, "b": 4}, {"a": 5, "c": 6},
  // {"a": 7, "b": 8}]: equal keys are fetched from the memo.
  const expected =
    "8004953b000000000000005d94287d94288c0161944b018c0162944b0275" +
    "7d942868024b0368034b04757d942868024b058c0163944b06757d942868024b07" +
    "68034b0875652e";
  const value = () => [{ a: 1, b: 2 }, { a: 3, b: 4 }, { a: 5, c: 6 }, {
    a: 7,
    b: 8,
  }];
  assert.equal(toHex(dumps(value())), expected);
  // An enumerable property inherited from Object.prototype is not a key.
  Object.defineProperty(Object.prototype, "zz", {
    value: 1,
    enumerable: true,
    configurable: true,
  });
  try {
    assert.equal(toHex(dumps(value())), expected);
  } finally {
    delete (Object.prototype as Record<string, unknown>).zz;
  }
  // A getter that deletes a later key: that key's value is undefined.
  const rec = {
    a: 1,
    get b() {
      delete (rec as Record<string, unknown>).c;
      return 2;
    },
    c: 3,
  };
  assert.throws(() => dumps([{ a: 0, b: 0, c: 0 }, rec]), TypeError);
});
