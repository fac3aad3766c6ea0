// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { dumps } from "../pickle.ts";
import { leastWriter } from "./_least_writer.ts";
import { pickleBenchPayloads } from "./_pickle_payloads.ts";

Deno.test("leastWriter() writes the same bytes as dumps() for the payloads pickle_compare.ts times it on", () => {
  const payloads = pickleBenchPayloads();
  for (const name of ["dict 1000 str->float", "nested config"]) {
    assert.deepEqual(leastWriter(payloads[name]), dumps(payloads[name]), name);
  }
});

Deno.test("leastWriter() writes dumps()'s bytes for shared objects, long records, 1000-item batches and int kinds", () => {
  const shared = { a: 1 };
  const big: Record<string, unknown> = {};
  for (let i = 0; i < 2000; i++) big[`k${i}`] = i % 3 === 0 ? null : i;
  const value = {
    list: [shared, shared, [], [1], -5, 70000, -0, 2.5, true, false, ""],
    big,
    many: Array.from({ length: 1000 }, (_, i) => ({ a: i, b: `v${i}` })),
  };
  assert.deepEqual(leastWriter(value), dumps(value));
});
