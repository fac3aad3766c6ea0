// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Hostile input (issue 13): each pickle here made the old decoder take
// minutes or gigabytes; each must now give the exact value or a typed
// UnpicklingError. The payloads are shared with
// connection/bench/hostile_scaling.ts, which measures their scaling.
import assert from "node:assert/strict";
import {
  dumps,
  FrozenSet,
  loads,
  PyDict,
  PyFloat,
  Tuple,
  UnpicklingError,
} from "./pickle.ts";
import { fromHex, toHex } from "../_test_utils/hex.ts";
import * as P from "./bench/_hostile_payloads.ts";

function expectError(
  fn: () => unknown,
  reason: string,
  opcode: string,
): UnpicklingError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UnpicklingError, `expected UnpicklingError: ${e}`);
    assert.equal(e.reason, reason, e.message);
    assert.equal(e.opcode, opcode, e.message);
    return e;
  }
  assert.fail("expected an UnpicklingError");
}

/**
 * Runs a shape of bench/_hostile_child.ts in a child Deno with a 512 MiB
 * V8 heap: the old decoder needed gigabytes of heap for these (and
 * crashed with "Fatal JavaScript out of memory", which no try/catch sees).
 */
async function inSmallHeap(shape: string, n: number): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--max-old-space-size=512",
      new URL("./bench/_hostile_child.ts", import.meta.url).pathname,
      shape,
      String(n),
    ],
    env: { DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await child.output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `child failed: ${err.slice(-500)}`);
  return (JSON.parse(new TextDecoder().decode(stdout)) as { outcome: string })
    .outcome;
}

Deno.test("loads() finds tuple keys nested 40 levels deep, each level twice", () => {
  // 2**40 leaves per key in 289 bytes per key: the old code built a string
  // for each key that doubled at each level (1.35 GB at 24 levels).
  const bytes = P.nestedTupleKeys(40, 6);
  const d = loads(bytes);
  assert.ok(d instanceof PyDict);
  assert.equal(d.size, 6);
  for (let k = 0; k < 6; k++) assert.ok(P.nestedKeyFound(d, 40, k));
  assert.ok(!P.nestedKeyFound(d, 39, 0));
  assert.ok(!P.nestedKeyFound(d, 40, 6));
});

Deno.test("PyDict compares deep shared tuples by value, not by expansion", () => {
  const build = (leaf: unknown, depth: number): unknown => {
    let t = leaf;
    for (let i = 0; i < depth; i++) t = new Tuple([t, t]);
    return t;
  };
  // Two separate objects, equal by value: one key.
  const d = new PyDict<unknown, number>();
  d.set(build(1, 60), 1);
  d.set(build(1n, 60), 2);
  d.set(build(true, 60), 3);
  assert.equal(d.size, 1);
  assert.equal(d.get(build(new PyFloat(1), 60)), 3);
  d.set(build(2, 60), 4);
  assert.equal(d.size, 2);
  // Frozensets compare as sets.
  d.set(new FrozenSet([build("a", 50), build("b", 50)]), 5);
  assert.equal(d.get(new FrozenSet([build("b", 50), build("a", 50)])), 5);
});

Deno.test("loads() re-keys 1000 shared dicts next to memo index 16777215", () => {
  // The old code walked the whole 16M-slot memo for each re-keyed dict
  // (71 s for 70 dicts, then a "limit" error after 64).
  for (const count of [70, 1000]) {
    const list = loads(P.sparseMemoRekeys(count)) as PyDict[];
    assert.equal(list.length, 2 * count);
    for (let i = 0; i < count; i++) {
      assert.ok(list[2 * i] instanceof PyDict);
      assert.equal(list[2 * i], list[2 * i + 1]);
      assert.deepEqual([...list[2 * i]!], [[1, null]]);
    }
  }
});

Deno.test("loads() rejects a FLOAT of 2,000,000 digits and an x in one pass", () => {
  // The old regular expression backtracked: 11 s at 100k digits, growing
  // with the square (2M digits: over an hour).
  const e = expectError(
    () => loads(P.floatBacktrack(2_000_000)),
    "invalid",
    "FLOAT",
  );
  assert.equal(e.offset, 0);
  const tiny = `0.${"0".repeat(2_000_000)}1`;
  assert.equal(loads(new TextEncoder().encode(`F${tiny}\n.`)), 0);
  // Python raises OverflowError for a finite literal beyond a double.
  expectError(
    () => loads(new TextEncoder().encode(`F${"1".repeat(400)}\n.`)),
    "invalid",
    "FLOAT",
  );
  assert.equal(loads(new TextEncoder().encode("F-1.5e3\n.")), -1500);
  assert.equal(loads(new TextEncoder().encode("F-Infinity\n.")), -Infinity);
  for (const bad of ["F1e\n.", "F.\n.", "F1.2.3\n.", "F--1\n.", "Finfx\n."]) {
    expectError(() => loads(new TextEncoder().encode(bad)), "invalid", "FLOAT");
  }
});

Deno.test("loads() decodes a LONG4 of 32 MiB in a 512 MiB heap", async () => {
  // The old decoder built a hex string byte by byte (1.3 GB at 32 MiB).
  assert.equal(await inSmallHeap("LONG4 bytes", 32 * 1024 * 1024), "ok");
});

Deno.test("loads() decodes a protocol 0 V string of 64 MiB in a 512 MiB heap", async () => {
  // The old decoder added one character at a time (1.16 GB at 32 MiB).
  assert.equal(await inSmallHeap("V ASCII chars", 64 * 1024 * 1024), "ok");
  assert.equal(await inSmallHeap("V \\u20ac escapes", 4 * 1024 * 1024), "ok");
});

Deno.test("loads() decodes LONG4 and V values exactly", () => {
  // Negative and positive LONG4 around word boundaries, against CPython's
  // int.to_bytes semantics.
  for (const n of [7, 8, 9, 63, 64, 65, 1000]) {
    const bytes = new Uint8Array(5 + n + 1);
    bytes[0] = 0x8b;
    new DataView(bytes.buffer).setUint32(1, n, true);
    for (let i = 0; i < n; i++) bytes[5 + i] = (i * 37 + 11) & 0xff;
    bytes[5 + n] = 0x2e;
    let want = 0n;
    for (let i = n - 1; i >= 0; i--) {
      want = (want << 8n) | BigInt(bytes[5 + i]!);
    }
    if (bytes[5 + n - 1]! & 0x80) want -= 1n << BigInt(8 * n);
    const got = loads(bytes);
    assert.equal(BigInt(got as bigint), want);
    assert.equal(
      typeof got,
      Number.isSafeInteger(Number(want)) ? "number" : "bigint",
    );
  }
  const latin = Uint8Array.from([
    0x56,
    0x41,
    0x85,
    0xe9,
    0x5c,
    0x75,
    0x30,
    0x30,
    0x65,
    0x39,
    0x0a,
    0x2e,
  ]);
  assert.equal(loads(latin), "A\u0085\u00e9\u00e9");
  const long = new Uint8Array(10003);
  long[0] = 0x56;
  for (let i = 1; i <= 10000; i++) long[i] = 0x80 + (i % 0x80);
  long[10001] = 0x0a;
  long[10002] = 0x2e;
  const s = loads(long) as string;
  assert.equal(s.length, 10000);
  assert.ok(
    [...s].every((c, i) => c.charCodeAt(0) === 0x80 + ((i + 1) % 0x80)),
  );
});

Deno.test("dumps() of a 16 MiB int is linear and byte-exact", () => {
  // The old encoder shifted the whole value 48 bits at a time: 7-8 s at
  // 512 KiB, growing with the square (16 MiB: about two hours).
  const n = 16 * 1024 * 1024;
  const v = P.bigIntOfBytes(n);
  const out = dumps(v);
  // PROTO 4, FRAME, LONG4 n+1, n bytes 0xff, 0x00, STOP.
  assert.equal(out.length, 2 + 9 + 5 + n + 1 + 1);
  const head = new Uint8Array(16);
  const view = new DataView(head.buffer);
  head.set([0x80, 4, 0x95]);
  view.setUint32(3, 5 + n + 1 + 1, true); // the frame: LONG4, payload, STOP
  head[11] = 0x8b;
  view.setUint32(12, n + 1, true);
  assert.equal(toHex(out.subarray(0, 16)), toHex(head));
  assert.ok(out.subarray(16, 16 + n).every((b) => b === 0xff));
  assert.equal(out[16 + n], 0);
  assert.equal(loads(out), v);
  assert.equal(loads(dumps(-v)), -v);
});

Deno.test("-0.0 keeps its sign as a set member and a dict key, both ways", () => {
  // CPython 3.11: pickle.dumps({-0.0}, 4), ({-0.0: 1}, 4), (frozenset([-0.0]), 4)
  const set = fromHex("8004950e000000000000008f9428478000000000000000902e");
  const dict = fromHex("8004950f000000000000007d944780000000000000004b01732e");
  const frozen = fromHex("8004950d000000000000002847800000000000000091942e");
  const s = loads(set) as Set<unknown>;
  assert.equal(s.size, 1);
  const [member] = s;
  assert.ok(member instanceof PyFloat && Object.is(member.value, -0));
  assert.equal(toHex(dumps(s)), toHex(set));
  const d = loads(dict) as PyDict;
  assert.ok(d instanceof PyDict);
  const [key] = d.keys();
  assert.ok(key instanceof PyFloat && Object.is(key.value, -0));
  assert.equal(d.get(0), 1);
  assert.equal(toHex(dumps(d)), toHex(dict));
  const f = loads(frozen) as FrozenSet;
  assert.ok(f.has(0));
  assert.equal(toHex(dumps(f)), toHex(frozen));
  // Built in JavaScript: a -0 key or member stays a float.
  assert.equal(toHex(dumps(new PyDict([[-0, 1]]))), toHex(dict));
  assert.equal(toHex(dumps(new FrozenSet([-0]))), toHex(frozen));
  // As in Python, 0 and -0.0 are one key or member: the first one stays.
  assert.deepEqual([...new PyDict([[0, 1], [-0, 2]])], [[0, 2]]);
  assert.equal(new FrozenSet([0, -0]).size, 1);
  assert.ok([...new FrozenSet<unknown>([-0, 0])][0] instanceof PyFloat);
});
