// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Every memory limit counts the bytes really held, per-frame overhead
// included: each case runs in its own process (testdata/memory_cases.ts)
// and reports the bytes held after a full GC. The bounds are outcomes,
// not timings; bench/memory_limits.ts shows the peak RSS at larger sizes.
import assert from "node:assert/strict";

const CASES = new URL("./testdata/memory_cases.ts", import.meta.url).pathname;
const MiB = 1024 * 1024;

interface Measured {
  base: number;
  peak: number;
  outputBytes?: number;
}

async function measure(
  name: string,
  n: number,
  options: Record<string, unknown> = {},
): Promise<Measured> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-lock",
      "-A",
      "--v8-flags=--expose-gc",
      CASES,
      name,
      String(n),
      JSON.stringify(options),
    ],
    env: { DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!) as Measured;
}

Deno.test("limits: deferred output holds its bytes, not an object per frame (60000 tiny responses)", async () => {
  const m = await measure("deferred", 60000);
  const wire = m.outputBytes!;
  assert.ok(wire > 60000 * 20, `output ${wire}`);
  // Old code: about 1 KB per response (58 MB here), 25 x the output.
  const extra = m.peak - m.base;
  assert.ok(extra < 2 * wire + 8 * MiB, `held ${extra} for ${wire} bytes`);
});

Deno.test("limits: a partial request held in 1-byte frames costs its bytes", async () => {
  const m = await measure("partial-request", 1_000_000);
  // 1 MB of request bytes. Old code: a view object per frame (124 MB).
  const extra = m.peak - m.base;
  assert.ok(extra < 16 * MiB, `held ${extra}`);
});

Deno.test("limits: partial command data held in 1-byte frames costs its bytes", async () => {
  const m = await measure("partial-data", 1_000_000);
  const extra = m.peak - m.base;
  assert.ok(extra < 16 * MiB, `held ${extra}`);
});

Deno.test("limits: the client's queues are bounded in bytes (300 values of 1 MiB, read slowly)", async () => {
  const m = await measure("client-queue", 300, { maxBufferedSize: 8 * MiB });
  // Old code: bounded by 1024 values whatever their size (315 MB here).
  const extra = m.peak - m.base;
  assert.ok(extra < 24 * MiB, `held ${extra}`);
});
