// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Scaling of the decoders a peer feeds, on the hostile shapes of issue 13:
 * each shape runs at n and at 4n, each run in its own child process (so
 * that its peak RSS is its own), and the table shows the time ratio
 * (linear is about 4, quadratic about 16) next to the peak RSS. Rows cover
 * the pickle codec (`loads()` and `dumps()`), the dirty TLV decoder, the
 * framing CBOR decoder and the session header decoder.
 *
 * Run: `deno run -A connection/bench/hostile_scaling.ts [shape filter]`
 *
 * @module
 */
import { SHAPES } from "./_hostile_child.ts";

/** Shape name -> n (the 4n run follows). */
const SIZES: Record<string, number> = {
  "nested tuple keys": 24,
  "sparse memo re-keys": 2500,
  "FLOAT digits + x": 1_000_000,
  "LONG4 bytes": 8 * 1024 * 1024,
  "V ASCII chars": 16 * 1024 * 1024,
  "V \\u20ac escapes": 1_000_000,
  "LONG text digits": 1_000_000,
  "BINUNICODE bytes": 16 * 1024 * 1024,
  "dumps bigint bytes": 1024 * 1024,
  "TLV nested lists": 200,
  "TLV list of strings": 100_000,
  "TLV dict of n keys (map)": 100_000,
  "TLV dict of n int-like keys (object)": 100_000,
  "CBOR array of n ints": 200_000,
  "CBOR map of n keys": 100_000,
  "CBOR indefinite bytes": 100_000,
  "CBOR stream: n ints, 1-byte chunks": 5_000,
  "CBOR stream: n ints, 64-byte chunks": 50_000,
  "session headers x n": 50_000,
};

/** Shapes whose "n" is not a size: growth in bytes for 4n is given. */
const NOTES: Record<string, string> = {
  "nested tuple keys":
    "n = depth; 4n levels = 4x the bytes, 2^(3n)x the leaves",
  "TLV nested lists": "n = depth",
};

interface Run {
  ms: number;
  rssBefore: number;
  peakRss: number;
  outcome: string;
}

async function runChild(shape: string, n: number): Promise<Run> {
  // Best of 3 for the time; the peak RSS of the first run.
  let best: Run | undefined;
  for (let i = 0; i < 3; i++) {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./_hostile_child.ts", import.meta.url).pathname,
        shape,
        String(n),
      ],
      env: { DENO_NO_UPDATE_CHECK: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      const err = new TextDecoder().decode(stderr).trim().split("\n").at(-1);
      return {
        ms: NaN,
        rssBefore: NaN,
        peakRss: NaN,
        outcome: `crashed: ${err}`,
      };
    }
    const r = JSON.parse(new TextDecoder().decode(stdout)) as Run;
    if (best === undefined || r.ms < best.ms) {
      best = { ...r, peakRss: best?.peakRss ?? r.peakRss };
    }
  }
  return best!;
}

const mb = (b: number): string => (b / 1048576).toFixed(0);
const filter = Deno.args[0];
console.log(
  "| shape | n | time n (ms) | time 4n (ms) | growth | peak RSS n (MiB) | peak RSS 4n (MiB) | RSS before run 4n (MiB) | outcome |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const [shape, n] of Object.entries(SIZES)) {
  if (filter !== undefined && !shape.includes(filter)) continue;
  if (!(shape in SHAPES)) throw new Error(`Cannot find shape: ${shape}`);
  const a = await runChild(shape, n);
  const b = await runChild(shape, 4 * n);
  const outcome = a.outcome === b.outcome
    ? a.outcome
    : `${a.outcome} / ${b.outcome}`;
  const note = NOTES[shape] ? ` (${NOTES[shape]})` : "";
  console.log(
    `| ${shape}${note} | ${n} | ${a.ms.toFixed(1)} | ${b.ms.toFixed(1)} | ${
      (b.ms / a.ms).toFixed(1)
    } | ${mb(a.peakRss)} | ${mb(b.peakRss)} | ${
      mb(b.rssBefore)
    } | ${outcome} |`,
  );
}
