// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Micro benchmarks of the pickle codec: `deno bench -A connection/pickle_bench.ts`.
// connection/bench/pickle_compare.ts compares the same payloads with CPython.
import { dumps, loads, Tuple } from "./pickle.ts";
import { pickleBenchPayloads } from "./bench/_pickle_payloads.ts";

const message = new Tuple(["#RETURN", { result: [1, 2.5, "ok"], id: 42 }]);

const payloads: [string, unknown][] = [
  ...Object.entries(pickleBenchPayloads()),
  ["manager message", message],
];

for (const [name, value] of payloads) {
  const encoded = dumps(value);
  Deno.bench({
    group: name,
    name: `dumps ${name}`,
    baseline: true,
    fn: () => {
      dumps(value);
    },
  });
  Deno.bench({
    group: name,
    name: `loads ${name}`,
    fn: () => {
      loads(encoded);
    },
  });
}
