// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Micro benchmarks of the pickle codec: `deno bench -A connection/pickle_bench.ts`.
// connection/bench/pickle_compare.ts compares the same payloads with CPython.
import { dumps, loads, Tuple } from "./pickle.ts";

const dict: Record<string, number> = {};
for (let i = 0; i < 1000; i++) dict[`key${i}`] = i * 1.5 + 0.25;
const ints = Array.from({ length: 100000 }, (_, i) => i);
const bytes = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
const config = {
  version: 3,
  service: "inventory-api",
  servers: Array.from({ length: 200 }, (_, i) => ({
    host: `10.0.${Math.floor(i / 256)}.${i % 256}`,
    port: 8000 + i,
    weight: 0.5 + i / 64,
    tags: [`zone-${i % 4}`, `rack-${i % 16}`],
    tls: { enabled: i % 2 === 0, ciphers: [`c${i}a`, `c${i}b`] },
  })),
};
const message = new Tuple(["#RETURN", { result: [1, 2.5, "ok"], id: 42 }]);

const payloads: [string, unknown][] = [
  ["dict 1000 str->float", dict],
  ["list 100k ints", ints],
  ["bytes 1 MiB", bytes],
  ["nested config", config],
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
