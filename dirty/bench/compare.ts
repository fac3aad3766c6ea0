// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Compares our TLV codec with gunicorn 26.1.0's own Python `TLVEncoder`
 * on the same values (a typical request and response: a dict with 4 KiB of
 * bytes, a list of 1,000 floats, nested dicts), and checks that both sides
 * produce the same bytes. Target: ours >= 10 x gunicorn for encode and
 * decode.
 *
 * Each side times its own encode and decode in process CPU time (runs of at
 * least 0.1 s, after a warm-up), so that time spent waiting for a core on a
 * shared machine counts for neither side (ours includes V8's garbage
 * collector threads). The two sides alternate, row by row, for 7 rounds
 * (which side goes first alternating too); a row's ratio is the median of
 * its per-round ratios (gunicorn's time / ours), with their range. The
 * four rows are reported to `tools/bench.ts`'s summary through
 * `tools/bench_goal.ts` (without gunicorn, as not measured).
 *
 * gunicorn's source (a local copy of the public repository at 26.1.0;
 * nothing is installed) is looked up in `$GUNICORN_SRC`, then
 * `/tmp/gunicorn_src`, and run with `python3 -S`. Without it, only our
 * numbers are printed, and the script says so.
 *
 * Run: `npx -y deno@2.9.6 run -A dirty/bench/compare.ts [--quick]`
 * (`--quick`: 3 rounds of 0.03 s runs).
 *
 * @module
 */
import process from "node:process";
import { findGunicornSource } from "../../_test_utils/dirty/gunicorn.ts";
import { type GoalRow, median, reportGoal } from "../../tools/bench_goal.ts";
import { decodeTlv } from "../tlv_decoder.ts";
import { encodeTlv } from "../tlv_encoder.ts";
import { PYTHON_VALUES, typicalRequest, typicalResponse } from "./typical.ts";

const quick = Deno.args.includes("--quick");
/** Rounds, each side measured once per row in each. */
const ROUNDS = quick ? 3 : 7;
/** Least CPU seconds of one timed run. */
const RUN = quick ? 0.03 : 0.1;
/** The goal of gunicorn's time / ours, for each row. */
const GOAL = 10;

type Name = "request" | "response";
type Op = "encode" | "decode";

// gunicorn's side: one process, which times one row per request line, so
// that the two sides take turns under the same machine load.
const PY = PYTHON_VALUES + String.raw`
import hashlib, json, os, sys, time
sys.path.insert(0, os.environ["GUNICORN_SRC"])
from gunicorn.dirty.tlv import TLVEncoder as E
run = float(sys.argv[1])
values = {"request": typical_request(), "response": typical_response()}
data = {k: E.encode(v) for k, v in values.items()}
for k, v in values.items():
    assert E.decode_full(data[k]) == v
print(json.dumps({k: {"size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
                  for k, d in data.items()}), flush=True)
def once(fn):
    n = 0
    t0 = time.process_time()
    while True:
        fn(); n += 1
        dt = time.process_time() - t0
        if dt >= run:
            return dt / n * 1e6
for line in sys.stdin:
    name, op = line.split()
    value, d = values[name], data[name]
    fn = (lambda: E.encode(value)) if op == "encode" else (lambda: E.decode_full(d))
    print(json.dumps({"us": once(fn)}), flush=True)
`;

/** CPU time of this process in seconds (all its threads). */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Microseconds of CPU time per call of `fn`, over a run of >= RUN s. */
function once(fn: () => unknown): number {
  let n = 0;
  const t0 = cpuSeconds();
  let dt = 0;
  do {
    fn();
    n++;
    dt = cpuSeconds() - t0;
  } while (dt < RUN);
  return (dt / n) * 1e6;
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** gunicorn's side, or null when its source is missing. */
class Gunicorn {
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #lines: ReadableStreamDefaultReader<string>;
  #pending = "";
  constructor(src: string) {
    this.#child = new Deno.Command("python3", {
      args: ["-S", "-c", PY, String(RUN)],
      env: { GUNICORN_SRC: src },
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
  }
  async line<T>(): Promise<T> {
    while (!this.#pending.includes("\n")) {
      const { value, done } = await this.#lines.read();
      if (done) throw new Error("Cannot read from gunicorn's side: it exited");
      this.#pending += value;
    }
    const i = this.#pending.indexOf("\n");
    const line = this.#pending.slice(0, i);
    this.#pending = this.#pending.slice(i + 1);
    return JSON.parse(line) as T;
  }
  async time(name: Name, op: Op): Promise<number> {
    await this.#stdin.write(new TextEncoder().encode(`${name} ${op}\n`));
    return (await this.line<{ us: number }>()).us;
  }
  async close(): Promise<void> {
    await this.#stdin.close();
    await this.#lines.cancel();
    await this.#child.status;
  }
}

const values = { request: typicalRequest(), response: typicalResponse() };
const data = {
  request: encodeTlv(values.request),
  response: encodeTlv(values.response),
};
const ourRun = (name: Name, op: Op): () => unknown =>
  op === "encode"
    ? () => encodeTlv(values[name])
    : () => decodeTlv(data[name], { dict: "object" });
const src = findGunicornSource();
const py = src === null ? null : new Gunicorn(src);
const theirInfo = py === null
  ? null
  : await py.line<Record<Name, { size: number; sha256: string }>>();

const ROWS: [Name, Op][] = [
  ["request", "encode"],
  ["request", "decode"],
  ["response", "encode"],
  ["response", "decode"],
];
// Warm-up: one untimed run of each row of ours, for V8's JIT (CPython 3.11
// has no JIT to warm up).
for (const [name, op] of ROWS) once(ourRun(name, op));
const ours = ROWS.map((): number[] => []);
const theirs = ROWS.map((): number[] => []);
for (let r = 0; r < ROUNDS; r++) {
  for (const [i, [name, op]] of ROWS.entries()) {
    if (py !== null && r % 2 === 1) theirs[i]!.push(await py.time(name, op));
    ours[i]!.push(once(ourRun(name, op)));
    if (py !== null && r % 2 === 0) theirs[i]!.push(await py.time(name, op));
  }
}
await py?.close();

console.log(
  `TLV codec, ours (Deno ${Deno.version.deno}) vs gunicorn 26.1.0's TLVEncoder; CPU µs per op, median of ${ROUNDS} alternating rounds of >= ${RUN} s runs\n`,
);
const rows: string[][] = [[
  "work",
  "bytes",
  "gunicorn µs/op",
  "ours µs/op",
  "ratio (x faster, median [range])",
  "target",
  "met",
  "same bytes",
]];
const goals: GoalRow[] = [];
for (const [i, [name, op]] of ROWS.entries()) {
  const size = data[name].length;
  const t = theirInfo?.[name];
  const ratios = theirs[i]!.map((x, r) => x / ours[i]![r]!);
  const ratio = t ? median(ratios) : NaN;
  rows.push([
    `${op} ${name}`,
    String(size),
    t ? median(theirs[i]!).toFixed(1) : "n/a",
    median(ours[i]!).toFixed(1),
    t
      ? `${ratio.toFixed(1)} [${Math.min(...ratios).toFixed(1)}-${
        Math.max(...ratios).toFixed(1)
      }]`
      : "n/a",
    `>= ${GOAL}`,
    t ? (ratio >= GOAL ? "yes" : "no") : "-",
    t ? (t.sha256 === await sha256(data[name]) ? "yes" : "NO") : "n/a",
  ]);
  goals.push({
    module: "dirty",
    workload: `TLV ${op} of a typical ${name} (${size} B)`,
    ratio,
    goal: GOAL,
    against: "ours/gunicorn 26.1 TLVEncoder",
  });
}
const widths = rows[0]!.map((_, i) =>
  Math.max(...rows.map((r) => r[i]!.length))
);
for (const [i, r] of rows.entries()) {
  console.log("| " + r.map((c, j) => c.padEnd(widths[j]!)).join(" | ") + " |");
  if (i === 0) {
    console.log("| " + widths.map((w) => "-".repeat(w)).join(" | ") + " |");
  }
}
if (py === null) {
  console.log(
    "\ngunicorn reference absent: set GUNICORN_SRC to a local copy of gunicorn 26.1.0's source " +
      "(e.g. a git checkout of benoitc/gunicorn) to compare; only our numbers are shown.",
  );
}
for (const g of goals) reportGoal(g);
