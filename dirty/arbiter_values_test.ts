// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Apps get exact Python values: dict key order kept end to end (Map-based
 * dicts), keyword arguments apart from positional ones, and the stash from
 * inside a worker with the permissions the arbiter grants by default.
 */
import assert from "node:assert/strict";
import { APP, ECHO, quiet, test } from "../_test_utils/dirty/apps.ts";
import { startArbiter } from "./arbiter.ts";
import { DirtyClient } from "./client.ts";

const ORDERED = `${ECHO}:OrderedApp`;

test('values: dict key order is kept end to end by an app with static dicts = "map"', async () => {
  await using arb = await startArbiter({
    apps: [APP, ORDERED],
    workers: 1,
    log: quiet,
  });
  await using client = new DirtyClient({
    socketPath: arb.socketPath,
    decode: { dict: "map" },
  });
  const dict = new Map<string, number>([["b", 1], ["10", 2], ["a", 3], [
    "2",
    4,
  ]]);
  const order = ["b", "10", "a", "2"];
  assert.deepEqual(await client.execute(ORDERED, "keys", [dict]), order);
  const [back] = await client.execute(ORDERED, "echo", [[dict]]) as [
    Map<string, unknown>[],
  ];
  assert.deepEqual([...back![0]!.keys()], order);
  const probe = await client.execute(ORDERED, "probe", [], dict) as Map<
    string,
    Map<string, unknown>
  >;
  assert.deepEqual([...probe.get("kwargs")!.keys()], order);
  // A plain-object app gets JavaScript's order (integer-like keys first).
  const [plain] = await client.execute(APP, "echo", [dict]) as [
    Map<string, unknown>,
  ];
  assert.deepEqual([...plain!.keys()], ["2", "10", "b", "a"]);
});

test("values: keyword arguments never look like a positional dict", async () => {
  await using arb = await startArbiter({
    apps: [APP, ORDERED],
    workers: 1,
    log: quiet,
  });
  await using client = new DirtyClient({ socketPath: arb.socketPath });
  // f({a: 1}) and f(a=1) arrive differently.
  assert.deepEqual(await client.execute(APP, "probe", [{ a: 1 }]), {
    args: [{ a: 1 }],
    kwargs: {},
  });
  assert.deepEqual(await client.execute(APP, "probe", [], { a: 1 }), {
    args: [],
    kwargs: { a: 1 },
  });
  assert.deepEqual(await client.execute(APP, "probe", [{ a: 1 }], { a: 2 }), {
    args: [{ a: 1 }],
    kwargs: { a: 2 },
  });
  assert.equal(await client.execute(APP, "kw", [2], { scale: 5 }), 10);
  assert.equal(await client.execute(APP, "kw", [2]), 2);
});

test("values: the stash works from inside a worker with the default permissions", async () => {
  await using arb = await startArbiter({ apps: [APP], workers: 1, log: quiet });
  await using client = new DirtyClient({ socketPath: arb.socketPath });
  assert.equal(
    await client.execute(APP, "stashRoundTrip", ["from a worker"]),
    "from a worker",
  );
});
