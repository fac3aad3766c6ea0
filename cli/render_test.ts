// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import fc from "fast-check";
import { dumps, loads } from "../connection/mod.ts";
import { findPython, peerTest } from "../_test_utils/peers.ts";
import { fromArg, fromJson, repr, toJson } from "./_render.ts";

// Values as the JSON a user types; each is pickled by us and shown by
// CPython's repr() and by ours.
const CASES = [
  "0",
  "-5",
  "123456789012345678901234567890",
  "-18446744073709551617",
  "1.0",
  "0.1",
  "1e16",
  "1.5e16",
  "1e-5",
  "0.0001",
  "123456789.125",
  "-0.0",
  '{"$float": "nan"}',
  '{"$float": "-inf"}',
  '"plain"',
  `"it's"`,
  `"both ' and \\""`,
  '"tab\\tnew\\nline\\u0001 \\u00e9 \\u4e2d"',
  '{"$bytes": "J2FiJw=="}',
  '{"$bytes": "AAF/gP8="}',
  '{"$bytearray": ""}',
  '{"$tuple": []}',
  '{"$tuple": [1]}',
  '{"$tuple": [1, [2, {"$tuple": ["x"]}]]}',
  '{"$set": []}',
  '{"$set": [7]}',
  '{"$frozenset": []}',
  '{"$frozenset": ["a"]}',
  '{"$dict": [[1, "one"], [{"$tuple": [2, 3]}, null]]}',
  '{"b": true, "a": false, "10": null}',
  "[]",
];

peerTest(
  "repr() of our values matches CPython's repr() of the same pickles",
  findPython("3.13"),
  "python3.13",
  async (py) => {
    const lines = CASES.map((c) => {
      const bytes = dumps(fromJson(c));
      return btoa(String.fromCharCode(...bytes));
    });
    const child = new Deno.Command(py.path, {
      args: [
        "-c",
        "import sys, pickle, base64\nfor l in sys.stdin:\n    print(repr(pickle.loads(base64.b64decode(l))))",
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(lines.join("\n") + "\n"));
    await w.close();
    const out = new TextDecoder().decode((await child.output()).stdout);
    const expected = out.trimEnd().split("\n");
    const ours = CASES.map((c) =>
      repr(loads(dumps(fromJson(c)), { floats: "wrap", dicts: "map" }))
    );
    assert.deepEqual(ours, expected);
  },
);

Deno.test("toJson and fromJson keep ints, floats and tags apart", () => {
  for (const c of CASES.filter((c) => !c.includes('"10"'))) {
    const text = toJson(fromJson(c));
    assert.deepEqual(toJson(fromJson(text)), text, c);
  }
  assert.equal(toJson(fromJson("1.0")), "1.0");
  assert.equal(toJson(fromJson("1")), "1");
  assert.equal(toJson(fromJson("-0")), "0");
  assert.equal(toJson(fromJson("[-0.0, 2e3, 0.5]")), "[-0.0,2000.0,0.5]");
  assert.equal(
    toJson(fromJson('{"$tuple": [5]}')),
    '{"$tuple":[5]}',
  );
  // A dict whose only key looks like a tag is written as a $dict.
  assert.equal(toJson(new Map([["$tuple", 1]])), '{"$dict":[["$tuple",1]]}');
  assert.throws(() => fromJson('{"$bytes": 5}'), SyntaxError);
  assert.throws(() => fromJson('{"$bytes": "@@"}'), /not valid base64/);
  assert.throws(() => fromJson('{"$dict": [[1]]}'), /pairs/);
  assert.throws(() => fromJson("{"), SyntaxError);
});

Deno.test("fromArg takes JSON when it parses, else the text", () => {
  assert.equal(fromArg("hello"), "hello");
  assert.equal(fromArg('"7"'), "7");
  assert.equal(fromArg("7"), 7);
  assert.throws(() => fromArg('{"$set": 1}'), /\$set needs a list/);
});

Deno.test("toJson/fromJson round-trips random Python-like values", () => {
  const leaf = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
    fc.double(),
    fc.string(),
    fc.uint8Array({ maxLength: 8 }),
  );
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: "small" },
      leaf,
      fc.array(tie("v"), { maxLength: 3 }),
      fc.dictionary(fc.string(), tie("v"), { maxKeys: 3 }),
    ),
  })).v;
  fc.assert(
    fc.property(value, (v) => {
      const text = toJson(v);
      assert.equal(toJson(fromJson(text)), text);
    }),
    { numRuns: 200 },
  );
});
