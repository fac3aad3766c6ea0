// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Payloads shared by connection/pickle_bench.ts and
// connection/bench/pickle_compare.ts (which builds the same values in
// Python: keep the two in step).
import { Tuple } from "../pickle.ts";

/**
 * The comparison payloads (the same values as PAYLOADS in
 * pickle_compare.ts, in JavaScript).
 */
export function pickleBenchPayloads(): Record<string, unknown> {
  const dict: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) dict[`key${i}`] = i * 1.5 + 0.25;
  const bytes = new Uint8Array(1 << 20);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i & 0xff;
  const limits: Record<string, unknown> = {};
  for (let i = 0; i < 100; i++) {
    limits[`route${i}`] = { rps: 100 * i, burst: 2.5 * i + 0.5 };
  }
  return {
    "dict 1000 str->float": dict,
    "100k ints (10% above 2^31)": Array.from(
      { length: 100000 },
      (_, i) => i % 10 === 0 ? 2 ** 31 + i * 7919 : i,
    ),
    "bytes 1 MiB": bytes,
    "nested config": {
      version: 3,
      service: "inventory-api",
      debug: false,
      owner: null,
      servers: Array.from({ length: 200 }, (_, i) => ({
        host: `10.0.${Math.floor(i / 256)}.${i % 256}`,
        port: 8000 + i,
        weight: 0.5 + i / 64,
        tags: [`zone-${i % 4}`, `rack-${i % 16}`],
        tls: { enabled: i % 2 === 0, ciphers: [`c${i}a`, `c${i}b`] },
      })),
      limits,
      features: Array.from({ length: 100 }, (_, i) => `feature-${i}`),
    },
    "10k (str,int,float) tuples": Array.from(
      { length: 10000 },
      (_, i) => new Tuple([`name${i}`, i, i * 0.5 + 0.1]),
    ),
  };
}
