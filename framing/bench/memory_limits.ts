// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Peak memory while a hostile peer pushes at each memory limit of the
 * framing module: every case of `testdata/memory_cases.ts` runs in a child
 * process of its own, and the table shows the bytes held at the peak
 * (V8 heap plus external memory after a full GC, above what the process
 * held before the case) and the peak RSS of the process (`VmHWM`, which
 * includes Deno itself, about 40-50 MB, and garbage not yet collected).
 * A benchmark, not a test.
 *
 *   deno run -A framing/bench/memory_limits.ts [case ...]
 *
 * @module
 */

const CASES = new URL("../testdata/memory_cases.ts", import.meta.url).pathname;
const MiB = 1024 * 1024;

interface Case {
  /** What the peer does. */
  what: string;
  /** The limit it pushes at, as the table shows it. */
  limit: string;
  n: number;
  options?: Record<string, unknown>;
}

const TABLE: Record<string, Case> = {
  "deferred": {
    what: "300,000 tiny requests, output deferred to the end of input",
    limit: "maxDeferredSize 16 MiB",
    n: 300_000,
  },
  "immediate": {
    what: "the same requests, answered at once",
    limit: "maxQueuedSize 1 MiB",
    n: 300_000,
  },
  "deferred-flood": {
    what: "2,000 requests of 64 KiB of output each (131 MB), deferred",
    limit: "maxDeferredSize 16 MiB, maxBufferedSize 256 MiB",
    n: 2000,
  },
  "partial-request": {
    what: "a request cut into 4,000,000 frames of 1 byte, never finished",
    limit: "maxBufferedSize 256 MiB, maxRequestSize 16 MiB",
    n: 4_000_000,
  },
  "partial-data": {
    what: "command data in 4,000,000 frames of 1 byte, never finished",
    limit: "maxBufferedSize 256 MiB",
    n: 4_000_000,
  },
  "unread-output": {
    what: "a response of 2,000 x 1 MiB to a client that never reads",
    limit: "maxQueuedSize 1 MiB (server), maxBufferedSize 4 MiB (client)",
    n: 2000,
  },
  "client-queue": {
    what: "a response of 1,000 x 1 MiB, read one value per event-loop turn",
    limit: "maxBufferedSize 64 MiB",
    n: 1000,
  },
  "client-partials": {
    what: "100 calls, each sent all but the last byte of a 1 MiB value",
    limit: "maxBufferedSize 64 MiB",
    n: 100,
  },
};

const names = Deno.args.length > 0 ? Deno.args : Object.keys(TABLE);
console.log(
  "| case | what the peer does | limit | held at peak (MiB) | peak RSS (MB) | outcome |",
);
console.log("| --- | --- | --- | ---: | ---: | --- |");
for (const name of names) {
  const c = TABLE[name];
  if (c === undefined) throw new Error(`unknown case ${name}`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      CASES,
      name,
      String(c.n),
      JSON.stringify(c.options ?? {}),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`${name} failed`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const r = JSON.parse(lines.at(-1)!) as Record<string, number | string>;
  const held = ((r.peak as number) - (r.base as number)) / MiB;
  const notes: string[] = [];
  if (r.outputBytes !== undefined) {
    notes.push(`${((r.outputBytes as number) / 1e6).toFixed(1)} MB sent`);
  }
  if (r.failed !== undefined) {
    notes.push(`${r.failed} calls failed LIMIT_EXCEEDED`);
  }
  if (r.produced !== undefined) notes.push(`${r.produced} MiB produced`);
  if (r.refused) notes.push(`refused: ${r.refused}`);
  console.log(
    `| ${name} | ${c.what} | ${c.limit} | ${held.toFixed(1)} | ${
      ((r.peakRss as number) / 1e6).toFixed(0)
    } | ${notes.join("; ")} |`,
  );
}
