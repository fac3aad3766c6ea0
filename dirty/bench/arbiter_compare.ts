// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Round trips per second through a dirty arbiter with a trivial echo action,
 * with 1 and 16 concurrent callers (one connection each, one request at a
 * time per connection), against our arbiter and against a real gunicorn
 * 26 dirty arbiter (run stand-alone from its source with `python3 -S`).
 * Both arbiters run in processes of their own, driven by the same Deno
 * client from this process. Every round measures every side, in an order
 * that changes from round to round; a ratio is the median of the rounds'
 * ratios (CONTRIBUTING), and the ratio of each side's best round is shown
 * beside it. Goal (issue 18): ours (1 in flight per worker, as
 * gunicorn's workers run) >= 3 x gunicorn with 1 and with 16 callers; the
 * two rows are reported to `tools/bench.ts`'s summary through
 * `tools/bench_goal.ts` (without gunicorn, as not measured).
 *
 * A floor row runs the same hops with no protocol at all: a relay process
 * standing for the arbiter passes a request's bytes to echo servers in
 * Web Workers of other processes (one per worker, in turn: standing for
 * the workers' app threads and the round robin over them), and back
 * (`_floor_peers.ts`), with one caller. A ratio to gunicorn above
 * that row's is beyond what these hops allow in Deno: the row with 1
 * caller carries it as its floor.
 *
 * A second table gives the CPU time per round trip of each server (the
 * arbiter's process and every process it started, from `/proc`) and of
 * this client, the median of the rounds: on a shared machine it moves far
 * less than the rates do.
 *
 * ```sh
 * deno run -A dirty/bench/arbiter_compare.ts [--gunicorn /path/to/gunicorn-src] [--seconds 1.5] [--rounds 5]
 * ```
 *
 * The gunicorn source is looked up in `--gunicorn`, `$GUNICORN_SRC`, then
 * `/tmp/gunicorn_src`; without it only our numbers are printed.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { RawDirtyConn } from "../../_test_utils/dirty/arbiter_client.ts";
import { findGunicornSource } from "../../_test_utils/dirty/gunicorn.ts";
import { readUntil } from "../../_test_utils/child.ts";
import { median, pairedRatio, reportGoal } from "../../tools/bench_goal.ts";
import {
  cpuSecondsOf,
  processCpuSeconds,
  processTree,
} from "../../_test_utils/proc_cpu.ts";
import { encodeRequest } from "../message_encoders.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    gunicorn: { type: "string" },
    seconds: { type: "string" },
    workers: { type: "string" },
    rounds: { type: "string" },
  },
});
const SECONDS = Number(values.seconds ?? "1.5");
const ROUNDS = Number(values.rounds ?? "5");
const WORKERS = Number(values.workers ?? "2");
const here = new URL(".", import.meta.url).pathname;
/** The goal of ours (1 in flight) / gunicorn, with 1 and with 16 callers. */
const GOAL = 3;

/** A round's rate and the CPU time it cost per round trip. */
interface Round {
  /** Round trips per second. */
  rate: number;
  /** Microseconds of CPU per round trip of the server's processes. */
  server: number;
  /** Microseconds of CPU per round trip of this client process. */
  client: number;
}

/**
 * Runs `body` (which returns how many round trips it made) and measures it:
 * rate, and CPU per round trip of the processes `pids` and of this one.
 */
async function timed(
  pids: number[],
  body: () => Promise<number>,
): Promise<Round> {
  const s0 = cpuSecondsOf(pids);
  const c0 = processCpuSeconds(Deno.pid);
  const t0 = performance.now();
  const n = await body();
  const dt = (performance.now() - t0) / 1000;
  return {
    rate: n / dt,
    server: (cpuSecondsOf(pids) - s0) / n * 1e6,
    client: (processCpuSeconds(Deno.pid) - c0) / n * 1e6,
  };
}

async function measure(
  t: Target,
  callers: number,
): Promise<Round> {
  const { socket, app } = t;
  const conns = await Promise.all(
    Array.from({ length: callers }, () => RawDirtyConn.open(socket)),
  );
  // Warm up.
  await Promise.all(conns.map((c) => c.call(app, "echo", ["warm"])));
  const round = await timed(t.pids(), async () => {
    let n = 0;
    const end = performance.now() + SECONDS * 1000;
    await Promise.all(conns.map(async (c, k) => {
      while (performance.now() < end) {
        const r = await c.call(app, "echo", [k, n]);
        if (!Array.isArray(r) || r[0] !== k) throw new Error("bad reply");
        n++;
      }
    }));
    return n;
  });
  for (const c of conns) c.close();
  return round;
}

/**
 * Round trips per second of raw bytes (one echo request's size) through
 * the floor's relay and echo processes (`_floor_peers.ts`), one caller.
 */
async function measureFloor(
  socket: string,
  pids: number[],
): Promise<Round> {
  const msg = encodeRequest(1, "echo_app:EchoApp", "echo", [0, 0]);
  const conn = await Deno.connect({ transport: "unix", path: socket });
  const buf = new Uint8Array(64 * 1024);
  const roundTrip = async (): Promise<void> => {
    await conn.write(msg);
    let got = 0;
    while (got < msg.length) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("The floor's relay went away");
      got += n;
    }
  };
  for (let i = 0; i < 1000; i++) await roundTrip();
  const round = await timed(pids, async () => {
    let n = 0;
    const end = performance.now() + SECONDS * 1000;
    while (performance.now() < end) {
      await roundTrip();
      n++;
    }
    return n;
  });
  conn.close();
  return round;
}

/** Starts the floor's echo and relay processes; returns the relay socket. */
async function startFloor(): Promise<
  { socket: string; pids: number[]; stop(): Promise<void> }
> {
  const dir = await Deno.makeTempDir({ prefix: "dirty-floor-" });
  const script = new URL("./_floor_peers.ts", import.meta.url).pathname;
  const start = async (args: string[]): Promise<Deno.ChildProcess> => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, ...args],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    await readUntil(child, "ready\n", "Cannot start the floor's processes");
    return child;
  };
  const echoes: Deno.ChildProcess[] = [];
  const sockets: string[] = [];
  for (let i = 0; i < WORKERS; i++) {
    sockets.push(`${dir}/echo${i}.sock`);
    echoes.push(await start(["echo", sockets[i]!]));
  }
  const relay = await start(["relay", `${dir}/relay.sock`, ...sockets]);
  return {
    socket: `${dir}/relay.sock`,
    pids: [relay, ...echoes].map((c) => c.pid),
    async stop() {
      for (const c of [relay, ...echoes]) {
        c.kill("SIGTERM");
        await c.status;
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

interface Target {
  name: string;
  socket: string;
  app: string;
  /** The server's processes: the arbiter's and all it started. */
  pids(): number[];
  stop(): Promise<void>;
}

/**
 * Waits for the arbiter `child` to print the line that `socketOf` maps to
 * its socket path and to answer a call, then returns it as a target.
 */
async function serving(
  name: string,
  child: Deno.ChildProcess,
  app: string,
  socketOf: (line: string) => string | undefined,
  cleanup?: () => Promise<void>,
): Promise<Target> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let buf = "";
  let socket: string | undefined;
  while (socket === undefined) {
    const { value, done } = await reader.read();
    if (done) throw new Error("Cannot start the arbiter: it exited");
    buf += value;
    for (const line of buf.split("\n").slice(0, -1)) {
      socket ??= socketOf(line);
    }
  }
  const drain = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  await untilServing(socket, app);
  return {
    name,
    socket,
    app,
    pids: () => processTree(child.pid),
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await drain;
      await cleanup?.();
    },
  };
}

async function untilServing(socket: string, app: string): Promise<void> {
  for (let i = 0;; i++) {
    try {
      await using c = await RawDirtyConn.open(socket);
      await c.call(app, "echo", [0]);
      return;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Our arbiter, run by its CLI in a process of its own (like gunicorn's). */
async function ours(threads: number): Promise<Target> {
  const app = `${new URL("./echo_app.ts", import.meta.url).href}:EchoApp`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../arbiter_cli.ts", import.meta.url).pathname,
      "--app",
      app,
      "--workers",
      String(WORKERS),
      "--threads",
      String(threads),
      "--log-level",
      "error",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return await serving(
    `ours (${threads} in flight/worker)`,
    child,
    app,
    (l) => l.startsWith("/") ? l : undefined,
  );
}

async function gunicorn(src: string): Promise<Target> {
  const dir = await Deno.makeTempDir({ prefix: "gdirty-bench-" });
  const socket = `${dir}/arbiter.sock`;
  const app = "gunicorn_echo_app:EchoApp";
  const child = new Deno.Command("python3", {
    args: [
      "-S",
      new URL("../testdata/gunicorn_peer/run_arbiter.py", import.meta.url)
        .pathname,
      "--gunicorn",
      src,
      "--path",
      here,
      "--workers",
      String(WORKERS),
      "--threads",
      "1",
      "--app",
      app,
      socket,
    ],
    env: { TMPDIR: dir },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return await serving(
    "gunicorn 26.1.0",
    child,
    app,
    (l) => l === "ready" ? socket : undefined,
    () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  );
}

const src = findGunicornSource(values.gunicorn);
const targets = [await ours(1), await ours(8)];
if (src) targets.push(await gunicorn(src));
// Every round measures every side back to back, so that load from other
// processes on a shared machine hurts the sides of a round alike.
const runs = targets.map(() => ({ 1: [] as Round[], 16: [] as Round[] }));
const floor = await startFloor();
const floorRuns: Round[] = [];
try {
  // Each round starts with a different side: whichever side went first
  // in a round was 10-20% slower (the same arbiter, measured first or
  // second).
  const sides: (() => Promise<void>)[] = [
    ...targets.map((t, i) => async () => {
      for (const k of [1, 16] as const) runs[i]![k].push(await measure(t, k));
    }),
    async () => {
      floorRuns.push(await measureFloor(floor.socket, floor.pids));
    },
  ];
  for (let round = 0; round < ROUNDS; round++) {
    for (let j = 0; j < sides.length; j++) {
      await sides[(round + j) % sides.length]!();
    }
  }
} finally {
  for (const t of targets) await t.stop();
  await floor.stop();
}
const fmt = (x: number) => x.toFixed(0).padStart(9);
const rates = (rs: Round[]): number[] => rs.map((r) => r.rate);
const bestRate = (rs: Round[]): number => Math.max(...rates(rs));
/** The paired ratio of two sides' rates (round i of a with round i of b). */
const rateRatio = (a: Round[], b: Round[]): number =>
  pairedRatio(rates(a), rates(b));
const gunicornRuns = src ? runs[2]! : undefined;
console.log(
  `dirty arbiter round trips/s (echo action, ${WORKERS} workers, median of ${ROUNDS} rounds of ${SECONDS}s; ratio: the median of the rounds' ratios [the ratio of the best rounds])`,
);
console.log(
  `| callers | ${
    targets.map((t) => t.name).join(" | ")
  } | ratio (ours, 1 in flight / gunicorn) | goal | met |`,
);
console.log(`| --- |${" --- |".repeat(targets.length)} --- | --- | --- |`);
const ratios = new Map<1 | 16, number>();
for (const k of [1, 16] as const) {
  const g = gunicornRuns?.[k];
  const ratio = g ? rateRatio(runs[0]![k], g) : NaN;
  ratios.set(k, ratio);
  console.log(
    `| ${k} | ${runs.map((r) => fmt(median(rates(r[k])))).join(" | ")} | ${
      g
        ? `${ratio.toFixed(2)}x [${
          (bestRate(runs[0]![k]) / bestRate(g)).toFixed(2)
        }x]`
        : "-"
    } | >= ${GOAL} | ${g ? (ratio >= GOAL ? "yes" : "no") : "-"} |`,
  );
}
// The floor: raw bytes over the same hops (see the module doc).
const floorRatio = gunicornRuns ? rateRatio(floorRuns, gunicornRuns[1]) : NaN;
console.log(
  `| 1, floor: raw Deno relay + ${WORKERS} echo processes (in a Web Worker), no protocol | ${
    fmt(median(rates(floorRuns)))
  } |${" - |".repeat(targets.length - 1)} ${
    gunicornRuns ? floorRatio.toFixed(2) + "x" : "-"
  } | none (a floor) | - |`,
);
console.log(
  `ours (1 caller, 1 in flight) reaches ${
    (100 * rateRatio(runs[0]![1], floorRuns)).toFixed(0)
  }% of the floor's round trips/s (the median of the rounds)`,
);
{
  // CPU per round trip: far less disturbed by other load than the rates.
  const cpu = (rs: Round[]): string =>
    `${median(rs.map((r) => r.server)).toFixed(1)} / ${
      median(rs.map((r) => r.client)).toFixed(1)
    }`;
  console.log(
    "\nCPU µs per round trip, median of the rounds: the server's processes (arbiter and workers, all they started) / this client process",
  );
  console.log(`| callers | ${targets.map((t) => t.name).join(" | ")} |`);
  console.log(`| --- |${" --- |".repeat(targets.length)}`);
  for (const k of [1, 16] as const) {
    console.log(`| ${k} | ${runs.map((r) => cpu(r[k])).join(" | ")} |`);
  }
  console.log(
    `| 1, floor (relay and echo processes / raw client) | ${cpu(floorRuns)} |${
      " - |".repeat(targets.length - 1)
    }`,
  );
}
if (!src) console.log("gunicorn source not found: comparison skipped");
for (const [k, ratio] of ratios) {
  reportGoal({
    module: "dirty",
    workload: `arbiter echo round trips/s, ${k} caller${k > 1 ? "s" : ""}`,
    ratio,
    goal: GOAL,
    against: "ours (1 in flight)/gunicorn 26.1",
    ...(k === 1 && Number.isFinite(floorRatio) ? { floor: floorRatio } : {}),
  });
}
