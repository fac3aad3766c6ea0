// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Compares our pickle codec with CPython's C pickler (`pickle.dumps` /
 * `pickle.loads`, protocol 4) on the same payloads, in one run:
 *
 * - a dict of 1000 str -> float,
 * - a list of 100k ints, 10% of them above 2**31,
 * - a nested config-like object,
 * - a list of 10k (str, int, float) tuples,
 * - a 1 MiB bytes.
 *
 * Each side times its own encode and decode in process CPU time (runs of
 * at least 0.2 s, the two sides alternating, best of 5 rounds): on a shared
 * machine, time spent waiting for a core counts for neither side, and our
 * side's time includes V8's garbage collector threads. Our decoder reads
 * the bytes CPython produced. ratio = CPython's time / ours (1.0: as fast
 * as CPython); the goal of every row is 0.8. For the 1 MiB bytes, the goal of
 * `dumps()` is 0.8 of the floor that any `dumps()` returning a fresh buffer
 * has in V8 (allocate a `Uint8Array` of the pickle's size and copy the
 * payload into it); its row against CPython (whose `bytes` allocation
 * reuses freed memory) is shown without a goal. The floor varies with the
 * garbage collector's state (allocating 1 MiB buffers triggers it), so that
 * row alternates 10 ms runs of `dumps()` and of the floor, 41 times, and
 * shows the medians and the median of the per-pair ratios. `dumpsChunks()`
 * (no copy) is shown next to it. The "floor of pickle dumps" rows time
 * the walk that every pickler of JavaScript values does before it writes a
 * byte (`walkFloor()`), and the least writer (`_least_writer.ts`: the same
 * bytes as `dumps()`, checked, from one plain recursive function with no
 * checks and no other types), against CPython's whole `dumps()`: where
 * they are near CPython's time, the goal of 0.8 is near the floor.
 * Rows with a goal are reported to
 * `tools/bench.ts`'s summary through `tools/bench_goal.ts`.
 *
 * Run: `deno run -A connection/bench/pickle_compare.ts [python]`
 *
 * @module
 */
import process from "node:process";
import { dumps, loads } from "../pickle.ts";
import * as pickle from "../pickle.ts";
import { leastWriter } from "./_least_writer.ts";
import { pickleBenchPayloads } from "./_pickle_payloads.ts";
import { type GoalRow, median, reportGoal } from "../../tools/bench_goal.ts";

const PAYLOADS = `
payloads = {
    "dict 1000 str->float": {f"key{i}": i * 1.5 + 0.25 for i in range(1000)},
    "100k ints (10% above 2^31)": [2**31 + i * 7919 if i % 10 == 0 else i for i in range(100000)],
    "nested config": {
        "version": 3,
        "service": "inventory-api",
        "debug": False,
        "owner": None,
        "servers": [
            {
                "host": f"10.0.{i // 256}.{i % 256}",
                "port": 8000 + i,
                "weight": 0.5 + i / 64,
                "tags": [f"zone-{i % 4}", f"rack-{i % 16}"],
                "tls": {"enabled": i % 2 == 0, "ciphers": [f"c{i}a", f"c{i}b"]},
            }
            for i in range(200)
        ],
        "limits": {f"route{i}": {"rps": 100 * i, "burst": 2.5 * i + 0.5} for i in range(100)},
        "features": [f"feature-{i}" for i in range(100)],
    },
    "10k (str,int,float) tuples": [(f"name{i}", i, i * 0.5 + 0.1) for i in range(10000)],
    "bytes 1 MiB": bytes(range(256)) * 4096,
}
`;

// A Python process that times one payload per request, so that the two
// sides are measured alternately under the same machine load.
const PYTHON_TIMER = `
import json, pickle, sys, time
${PAYLOADS}
def once(fn):
    n = 0
    t0 = time.process_time()
    while True:
        fn(); n += 1
        dt = time.process_time() - t0
        if dt >= 0.2:
            return dt / n
print(json.dumps({"version": sys.version.split()[0],
                  "hex": {k: pickle.dumps(v, 4).hex() for k, v in payloads.items()}}), flush=True)
for line in sys.stdin:
    name = line.strip()
    if name.startswith("check "):
        # Does CPython load our bytes to a value equal to its own?
        name, data = line[6:].rstrip("\\n").split("\\t")
        ok = pickle.loads(bytes.fromhex(data)) == payloads[name]
        print(json.dumps({"equal": ok}), flush=True)
        continue
    value = payloads[name]
    data = pickle.dumps(value, 4)
    print(json.dumps({"dumps": once(lambda: pickle.dumps(value, 4)),
                      "loads": once(lambda: pickle.loads(data))}), flush=True)
`;

const GOAL = 0.8;

/** CPU time of this process in ms (all its threads: V8's GC included). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function once(fn: () => unknown): number {
  let n = 0;
  const t0 = cpuMs();
  let dt = 0;
  do {
    fn();
    n++;
    dt = cpuMs() - t0;
  } while (dt < 200);
  return dt / 1000 / n;
}

/**
 * Alternates 10 ms runs of `a` and `b`, `pairs` times: the median seconds
 * per call of each, and the median of the per-pair ratios (b's time / a's:
 * a's speed relative to b's).
 */
function alternate(
  a: () => unknown,
  b: () => unknown,
  pairs = 41,
): { a: number; b: number; ratio: number } {
  const run = (fn: () => unknown): number => {
    let n = 0;
    const t0 = cpuMs();
    let dt = 0;
    do {
      fn();
      n++;
      dt = cpuMs() - t0;
    } while (dt < 10);
    return dt / 1000 / n;
  };
  const ta: number[] = [];
  const tb: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const x = run(a);
    const y = run(b);
    ta.push(x);
    tb.push(y);
    ratios.push(y / x);
  }
  return { a: median(ta), b: median(tb), ratio: median(ratios) };
}

/** The rows shown with their walk floor: plain objects, lists, the memo. */
const WALK_FLOOR_ROWS = new Set(["dict 1000 str->float", "nested config"]);

/**
 * The walk that any pickler of JavaScript values does before it writes a
 * byte: each plain object's keys in order (`Object.keys()`), each value
 * read, each list and plain object put in an identity memo (a `Map`, as
 * CPython's memo). Nothing is written. Its time is a floor for `dumps()`.
 */
function walkFloor(value: unknown): number {
  const memo = new Map<object, number>();
  let touched = 0;
  const walk = (v: unknown): void => {
    if (typeof v !== "object" || v === null) {
      touched++;
      return;
    }
    if (memo.has(v)) return;
    memo.set(v, memo.size);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(v[i]);
    } else if (!(v instanceof Uint8Array)) {
      const rec = v as Record<string, unknown>;
      const keys = Object.keys(rec);
      for (let i = 0; i < keys.length; i++) walk(rec[keys[i]!]);
    }
  };
  walk(value);
  return touched;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const python = Deno.args[0] ?? "python3";
const child = new Deno.Command(python, {
  args: ["-c", PYTHON_TIMER],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let pending = "";
async function readLine(): Promise<string> {
  while (!pending.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`Cannot read from ${python}: it exited`);
    pending += value;
  }
  const i = pending.indexOf("\n");
  const line = pending.slice(0, i);
  pending = pending.slice(i + 1);
  return line;
}
const stdin = child.stdin.getWriter();
async function ask<T>(line: string): Promise<T> {
  await stdin.write(new TextEncoder().encode(line + "\n"));
  return JSON.parse(await readLine()) as T;
}
const hello = JSON.parse(await readLine()) as {
  version: string;
  hex: Record<string, string>;
};

// dumpsChunks() (no copy of large payloads) where this version has it.
const dumpsChunks = (pickle as Record<string, unknown>).dumpsChunks as
  | ((value: unknown) => Uint8Array[])
  | undefined;

const ROUNDS = 5;
const values = pickleBenchPayloads();
interface Row {
  name: string;
  ours: number;
  peer: number;
  unit: string;
  note: string;
  /** ours / peer speed, when not ours / peer (a median of pair ratios). */
  ratio?: number;
  /** No goal: shown for information. */
  noGoal?: boolean;
}
const dumpRows: Row[] = [];
const loadRows: Row[] = [];
const walkRows: Row[] = [];
const leastRows: Row[] = [];
const sizes: string[] = [];
let floorRow: Row | undefined;
let chunksNote = "";
for (const [name, value] of Object.entries(values)) {
  const pyBytes = fromHex(hello.hex[name]!);
  const ours = dumps(value);
  const same = sameBytes(ours, pyBytes);
  const equal = same ||
    (await ask<{ equal: boolean }>(`check ${name}\t${toHex(ours)}`)).equal;
  sizes.push(
    `${name}: ours ${ours.length} B, CPython ${pyBytes.length} B, ${
      same
        ? "byte-identical"
        : equal
        ? "CPython loads ours to an equal value"
        : "NOT EQUAL"
    }`,
  );
  let pyDumps = Infinity;
  let pyLoads = Infinity;
  let enc = Infinity;
  let dec = Infinity;
  let chunks = Infinity;
  let walked = Infinity;
  let least = Infinity;
  // The least writer is a floor only where it writes the same bytes.
  const leastSame = WALK_FLOOR_ROWS.has(name) &&
    sameBytes(leastWriter(value), ours);
  for (let r = 0; r < ROUNDS; r++) {
    const t = await ask<{ dumps: number; loads: number }>(name);
    pyDumps = Math.min(pyDumps, t.dumps);
    pyLoads = Math.min(pyLoads, t.loads);
    enc = Math.min(enc, once(() => dumps(value)));
    dec = Math.min(dec, once(() => loads(pyBytes)));
    if (WALK_FLOOR_ROWS.has(name)) {
      walked = Math.min(walked, once(() => walkFloor(value)));
    }
    if (leastSame) least = Math.min(least, once(() => leastWriter(value)));
    if (value instanceof Uint8Array) {
      if (dumpsChunks !== undefined) {
        chunks = Math.min(chunks, once(() => dumpsChunks(value)));
      }
    }
  }
  const mb = pyBytes.length / 1e6;
  dumpRows.push({
    name,
    ours: mb / enc,
    peer: mb / pyDumps,
    unit: "MB/s",
    note: "",
    noGoal: value instanceof Uint8Array,
  });
  if (walked < Infinity) {
    walkRows.push({
      name,
      ours: mb / walked,
      peer: mb / pyDumps,
      unit: "MB/s",
      note: "",
      noGoal: true,
    });
  }
  if (least < Infinity) {
    leastRows.push({
      name,
      ours: mb / least,
      peer: mb / pyDumps,
      unit: "MB/s",
      note: "",
      noGoal: true,
    });
  }
  loadRows.push({
    name,
    ours: mb / dec,
    peer: mb / pyLoads,
    unit: "MB/s",
    note: "",
  });
  if (value instanceof Uint8Array) {
    // Any dumps() that returns one fresh buffer: allocate and copy.
    const alt = alternate(
      () => dumps(value),
      () =>
        new Uint8Array(ours.length).set(value, ours.length - value.length - 1),
    );
    floorRow = {
      name,
      ours: mb / alt.a,
      peer: mb / alt.b,
      unit: "MB/s",
      note: "peer = the floor: new Uint8Array(size) + set()",
      ratio: alt.ratio,
    };
    if (dumpsChunks !== undefined) {
      chunksNote = `dumpsChunks() of the 1 MiB bytes (header, a view of ` +
        `the payload, tail; no copy): ${(mb / chunks).toFixed(0)} MB/s, ` +
        `${(pyDumps / chunks).toFixed(2)}x CPython's dumps()`;
    }
  }
}
await stdin.close();
await lines.cancel();
await child.status;

console.log(
  `Deno ${Deno.version.deno} vs CPython ${hello.version} (C pickle, protocol 4)\n`,
);
console.log("| row | ours | CPython | ratio | goal | met |");
console.log("| --- | --- | --- | --- | --- | --- |");
const goals: GoalRow[] = [];
const print = (
  label: string,
  r: Row,
  peerName = "",
  noGoalText = "none (see the floor row)",
): void => {
  const ratio = r.ratio ?? r.ours / r.peer;
  const goal = r.noGoal ? noGoalText : `>= ${GOAL}`;
  const met = r.noGoal ? "-" : ratio >= GOAL ? "yes" : "no";
  console.log(
    `| ${label} | ${r.ours.toFixed(0)} ${r.unit} | ${
      r.peer.toFixed(0)
    } ${r.unit}${peerName} | ${ratio.toFixed(2)} | ${goal} | ${met} |`,
  );
  if (r.noGoal) return;
  goals.push({
    module: "connection",
    workload: label,
    ratio,
    goal: GOAL,
    against: peerName ? "ours/floor" : `ours/CPython ${hello.version} C pickle`,
  });
};
for (const r of dumpRows) print(`pickle dumps: ${r.name}`, r);
for (const r of loadRows) print(`pickle loads: ${r.name}`, r);
if (floorRow) {
  print(
    `pickle dumps of ${floorRow.name} vs the V8 floor (medians of 41 alternating pairs)`,
    floorRow,
    " (floor)",
  );
}
for (const r of walkRows) {
  print(
    `floor of pickle dumps: ${r.name}: the walk alone (keys, values, identity memo), nothing written`,
    r,
    "",
    "none (a floor for dumps())",
  );
}
for (const r of leastRows) {
  print(
    `floor of pickle dumps: ${r.name}: the least writer (the same bytes, one plain function, no checks)`,
    r,
    "",
    "none (a floor for dumps())",
  );
}
for (const g of goals) reportGoal(g);
console.log("\nratio = CPython's time / ours (MB/s of the pickle's size)");
for (const s of sizes) console.log(`- ${s}`);
if (chunksNote) console.log(`- ${chunksNote}`);
