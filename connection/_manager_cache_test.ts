// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { ReplyCache, RequestCache } from "./_manager_cache.ts";
import { encodeRequest, parseReply } from "./_manager_protocol.ts";
import { dumps, loads, Tuple } from "./mod.ts";

Deno.test("RequestCache: a hit is exactly the pickle of the same call", () => {
  const cache = new RequestCache();
  const calls: unknown[][] = [
    [],
    ["k"],
    [1],
    ["1"],
    [0],
    [-0],
    [1.5],
    [NaN],
    [true],
    [1, true],
    [null],
    ["z"],
    ["a\u0000s1:b"],
    ["a", "b"],
    ["é\u{1F600}"],
  ];
  for (let round = 0; round < 2; round++) {
    for (const args of calls) {
      const got = cache.encode("7f", "get", args, {}, true);
      assert.deepEqual(got, encodeRequest("7f", "get", args), String(args));
    }
  }
  // Same values, other method: another entry.
  assert.deepEqual(
    cache.encode("7f", "put", ["k"], {}, true),
    encodeRequest("7f", "put", ["k"]),
  );
});

Deno.test("RequestCache: objects, long strings and kwargs are encoded each time", () => {
  const cache = new RequestCache();
  const list = [1];
  const first = cache.encode("7f", "put", [list], {}, true);
  list.push(2); // a mutated argument must not come back stale
  const second = cache.encode("7f", "put", [list], {}, true);
  assert.deepEqual(loads(second), loads(encodeRequest("7f", "put", [[1, 2]])));
  assert.notDeepEqual(first, second);
  const long = "x".repeat(300);
  assert.deepEqual(
    cache.encode("7f", "put", [long], {}, true),
    encodeRequest("7f", "put", [long]),
  );
  assert.deepEqual(
    cache.encode("7f", "put", [1], { block: false }, false),
    encodeRequest("7f", "put", [1], { block: false }),
  );
  // Over 32 entries the cache starts again; results stay right.
  for (let i = 0; i < 100; i++) {
    assert.deepEqual(
      cache.encode("7f", "get", [i], {}, true),
      encodeRequest("7f", "get", [i]),
    );
  }
});

Deno.test("ReplyCache: only small #RETURN replies of a primitive, by exact bytes", () => {
  const cache = new ReplyCache();
  // Each reply comes twice: a reply is kept when it comes again.
  const twice = (bytes: Uint8Array): void => {
    cache.set(bytes, parseReply(loads(bytes)));
    cache.set(bytes, parseReply(loads(bytes)));
  };
  const none = dumps(new Tuple(["#RETURN", null]));
  const r = parseReply(loads(none));
  cache.set(none, r);
  cache.set(none, r);
  assert.equal(cache.get(none.slice()), r);
  const one = dumps(new Tuple(["#RETURN", 1]));
  assert.equal(cache.get(one), undefined);
  const list = dumps(new Tuple(["#RETURN", [1]]));
  twice(list);
  assert.equal(cache.get(list), undefined); // an array is mutable
  const err = dumps(new Tuple(["#TRACEBACK", "x"]));
  twice(err);
  assert.equal(cache.get(err), undefined);
  // Four entries, oldest replaced first.
  for (let i = 0; i < 5; i++) twice(dumps(new Tuple(["#RETURN", i])));
  assert.equal(cache.get(dumps(new Tuple(["#RETURN", 0]))), undefined);
  assert.deepEqual(cache.get(dumps(new Tuple(["#RETURN", 4]))), {
    kind: "#RETURN",
    value: 4,
  });
});

Deno.test("ReplyCache: a reply is kept when it comes again, so replies that change every time are never kept", () => {
  const cache = new ReplyCache();
  const reply = (v: number): Uint8Array => dumps(new Tuple(["#RETURN", v]));
  // q.get() answers a new value each time: none is kept.
  for (let i = 0; i < 100; i++) {
    cache.set(reply(i), parseReply(loads(reply(i))));
  }
  for (let i = 0; i < 100; i++) assert.equal(cache.get(reply(i)), undefined);
  // The same reply a second time is kept, also when another came between.
  const a = reply(1000);
  const b = reply(2000);
  cache.set(a, parseReply(loads(a)));
  cache.set(b, parseReply(loads(b)));
  assert.equal(cache.get(a), undefined);
  cache.set(a, parseReply(loads(a)));
  cache.set(b, parseReply(loads(b)));
  assert.deepEqual(cache.get(a), { kind: "#RETURN", value: 1000 });
  assert.deepEqual(cache.get(b), { kind: "#RETURN", value: 2000 });
});
