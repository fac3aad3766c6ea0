// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Compares our socket session forwarding with the real BIND 10 code in Kea
 * 2.2 (C++, `libkea-util-io.so.0`) on the same machine, in one run, the two
 * sides alternating round by round (the median of each side is shown; the
 * ratio is the median of the rounds' ratios):
 *
 * - sessions forwarded per second, forwarder process -> receiver process,
 *   64 B, 4 KiB and 64 KiB data (rate measured by the receiver, first
 *   session to last), Deno -> Deno against Kea -> Kea, and the two mixed
 *   pairs against Kea -> Kea;
 * - end to end: TCP connections accepted by a front process, forwarded,
 *   answered ("ok") by a worker process, per second, Deno front + worker
 *   against Kea front + worker (the same Deno client, 50 connections at a
 *   time, drives both; each run serves 2000 connections before it
 *   measures 10000, so that both sides run warm), with our front as
 *   configured by default (the kernel holds each connection until its
 *   first bytes: `deferAccept`)
 *   and with `deferAccept: false`, and the two mixed pairs. A floor row
 *   runs a Deno front and worker built like the Kea-based peer's: each
 *   blocks its only thread in `accept()`, `recv()` or `recvmsg()` (which
 *   our acceptor and receiver must not do: one silent or slow peer would
 *   stall them), so neither needs a readiness wake-up; its ratio is what
 *   the peer's design reaches in Deno, through the same FFI calls.
 *
 * Rows with a goal (issue 18) say whether it is met, and are reported to
 * `tools/bench.ts`'s summary through `tools/bench_goal.ts` (without Kea,
 * as not measured). A second table gives the CPU time each side spent per
 * session (receiver and sender) or per connection (front and worker),
 * which a busy machine disturbs much less than the rates.
 *
 * Run: `deno run -A session/bench/compare.ts [--rounds N] [--ours PEER_TS]
 * [--only TEXT]` (needs kea-common and g++; `--ours` runs another
 * checkout's `session/bench/_peer.ts` as our side, to compare before and
 * after; `--only` keeps the rows whose label contains TEXT).
 *
 * @module
 */
import {
  type JsonProcess,
  keaPeer,
  startJsonProcess,
} from "../../_test_utils/session/kea.ts";
import {
  type GoalRow,
  median,
  pairedRatio,
  reportGoal,
} from "../../tools/bench_goal.ts";
// CPU seconds (user + system) a process used so far, from /proc.
import { processCpuSeconds as cpuOf } from "../../_test_utils/proc_cpu.ts";

function arg(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

const PEER_TS = arg("--ours") ??
  new URL("./_peer.ts", import.meta.url).pathname;
const dir = await Deno.makeTempDir({ prefix: "session-compare-" });
const ROUNDS = Number(arg("--rounds") ?? 5);

/** A measured rate and the CPU seconds per item of the two processes. */
interface Sample {
  rate: number;
  /** Receiver (or front) CPU seconds per item. */
  cpuA: number;
  /** Sender (or worker) CPU seconds per item. */
  cpuB: number;
}

type Proc = JsonProcess;

function deno(args: string[]): Proc {
  return startJsonProcess(Deno.execPath(), ["run", "-A", PEER_TS, ...args]);
}

async function sessionsPerSecond(
  recv: (path: string, n: number) => Proc,
  send: (path: string, n: number, len: number) => Proc,
  n: number,
  len: number,
): Promise<Sample> {
  const path = `${dir}/s-${crypto.randomUUID().slice(0, 8)}.sock`;
  const r = recv(path, n);
  await r.next();
  const s = send(path, n, len);
  const sent = await s.next();
  if (sent.error) throw new Error(`sender failed: ${sent.error}`);
  const got = await r.next();
  if (got.error) throw new Error(`receiver failed: ${got.error}`);
  await s.child.status;
  await r.closeStdin();
  await r.child.status;
  return {
    rate: n / (got.seconds as number),
    cpuA: (got.cpu as number) / n,
    cpuB: (sent.cpu as number) / n,
  };
}

/** Connections each end-to-end run serves before it measures. */
const WARMUP = 2000;
/** Connections each end-to-end run measures. */
const MEASURED = 10000;

async function e2e(
  front: (path: string) => Proc,
  worker: (path: string) => Proc,
): Promise<Sample> {
  const path = `${dir}/e-${crypto.randomUUID().slice(0, 8)}.sock`;
  const w = worker(path);
  await w.next();
  const f = front(path);
  const { port } = await f.next() as { port: number };
  let next = 0;
  let ok = 0;
  const request = new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n");
  const run = async (count: number): Promise<void> => {
    const buf = new Uint8Array(16);
    while (next < count) {
      next++;
      using conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(request);
      let text = "";
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      if (text === "ok") ok++;
    }
  };
  // Both sides serve WARMUP connections first, unmeasured: the rate is
  // that of a running server, not of one still compiling its code.
  await Promise.all(Array.from({ length: 50 }, () => run(WARMUP)));
  if (ok !== WARMUP) throw new Error(`warm-up: ${ok}/${WARMUP} answered`);
  next = ok = 0;
  const f0 = cpuOf(f.child.pid);
  const w0 = cpuOf(w.child.pid);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 50 }, () => run(MEASURED)));
  const seconds = (performance.now() - t0) / 1000;
  const cpuA = (cpuOf(f.child.pid) - f0) / MEASURED;
  const cpuB = (cpuOf(w.child.pid) - w0) / MEASURED;
  if (ok !== MEASURED) {
    throw new Error(`end to end: ${ok}/${MEASURED} answered`);
  }
  await f[Symbol.asyncDispose]();
  await w.child.status;
  return { rate: MEASURED / seconds, cpuA, cpuB };
}

const kea = keaPeer();
if (kea === null) {
  console.error(
    "kea-common 2.2 (libkea-util-io.so.0) or g++ is missing: Kea columns are skipped",
  );
}
const start = (args: string[]): Proc => startJsonProcess(kea!, args);
const denoRecv = (p: string, n: number): Proc => deno(["recv", p, String(n)]);
const denoSend = (p: string, n: number, len: number): Proc =>
  deno(["send", p, String(n), String(len)]);
const keaRecv = (p: string, n: number): Proc =>
  start(["bench-recv", p, String(n)]);
const keaSend = (p: string, n: number, len: number): Proc =>
  start(["bench-send", p, String(n), String(len)]);
const denoFront = (p: string): Proc => deno(["e2e-front", p]);
const denoNoDeferFront = (p: string): Proc => deno(["e2e-front", p, "nodefer"]);
const blockingFront = (p: string): Proc => deno(["e2e-front-blocking", p]);
const blockingWorker = (p: string): Proc => deno(["e2e-worker-blocking", p]);
const denoWorker = (p: string): Proc => deno(["e2e-worker", p]);
const keaFront = (p: string): Proc => start(["e2e-front", p]);
const keaWorker = (p: string): Proc => start(["e2e-worker", p]);

interface Row {
  label: string;
  ours: () => Promise<Sample>;
  peer: (() => Promise<Sample>) | null;
  /** Goal for ours / peer, if the row has one. */
  goal?: number;
  /** The row's name in the summary, and what its ratio compares. */
  summary?: { workload: string; against: string };
  /** What the two CPU columns measure. */
  cpu: [string, string];
}
const SESSION_CPU: [string, string] = ["receiver", "sender"];
const E2E_CPU: [string, string] = ["front", "worker"];

const rows: Row[] = [];
for (
  const [label, len, n, goal] of [
    ["64 B", 64, 200000, 1.0],
    ["4 KiB", 4096, 100000, undefined],
    ["64 KiB", 65535, 20000, undefined],
  ] as const
) {
  rows.push({
    label: `sessions/s, ${label} data, forwarder process -> receiver process`,
    ours: () => sessionsPerSecond(denoRecv, denoSend, n, len),
    peer: kea ? () => sessionsPerSecond(keaRecv, keaSend, n, len) : null,
    ...(goal === undefined ? {} : {
      goal,
      summary: {
        workload: `${label} sessions/s, forwarder process -> receiver process`,
        against: "ours/Kea 2.2 C++",
      },
    }),
    cpu: SESSION_CPU,
  });
}
if (kea) {
  rows.push({
    label: "sessions/s, 64 B: Kea forwarder -> our receiver (peer: Kea -> Kea)",
    ours: () => sessionsPerSecond(denoRecv, keaSend, 200000, 64),
    peer: () => sessionsPerSecond(keaRecv, keaSend, 200000, 64),
    cpu: SESSION_CPU,
  });
  rows.push({
    label: "sessions/s, 64 B: our forwarder -> Kea receiver (peer: Kea -> Kea)",
    ours: () => sessionsPerSecond(keaRecv, denoSend, 200000, 64),
    peer: () => sessionsPerSecond(keaRecv, keaSend, 200000, 64),
    cpu: SESSION_CPU,
  });
}
rows.push({
  label: "TCP connections/s end to end (accept, forward, worker answers)",
  ours: () => e2e(denoFront, denoWorker),
  peer: kea ? () => e2e(keaFront, keaWorker) : null,
  goal: 0.8,
  summary: {
    workload: "TCP connections/s end to end (accept, forward, worker answers)",
    against: "ours/Kea-based C++ front+worker",
  },
  cpu: E2E_CPU,
});
rows.push({
  label: "TCP connections/s end to end, our front with deferAccept: false",
  ours: () => e2e(denoNoDeferFront, denoWorker),
  peer: kea ? () => e2e(keaFront, keaWorker) : null,
  cpu: E2E_CPU,
});
rows.push({
  label:
    "TCP connections/s end to end, floor: a Deno front and worker built like the peer's (blocking calls on their only thread)",
  ours: () => e2e(blockingFront, blockingWorker),
  peer: kea ? () => e2e(keaFront, keaWorker) : null,
  cpu: E2E_CPU,
});
if (kea) {
  rows.push({
    label: "TCP connections/s: Kea front -> our worker (peer: Kea -> Kea)",
    ours: () => e2e(keaFront, denoWorker),
    peer: () => e2e(keaFront, keaWorker),
    cpu: E2E_CPU,
  });
  rows.push({
    label: "TCP connections/s: our front -> Kea worker (peer: Kea -> Kea)",
    ours: () => e2e(denoFront, keaWorker),
    peer: () => e2e(keaFront, keaWorker),
    cpu: E2E_CPU,
  });
}

const only = arg("--only");
if (only !== undefined) {
  rows.splice(0, rows.length, ...rows.filter((r) => r.label.includes(only)));
}
const results: { row: Row; ours: Sample[]; peer: Sample[] }[] = [];
for (const row of rows) {
  const r = { row, ours: [] as Sample[], peer: [] as Sample[] };
  for (let i = 0; i < ROUNDS; i++) {
    // Alternate which side goes first, so neither always runs warm.
    if (i % 2 === 1 && row.peer) r.peer.push(await row.peer());
    r.ours.push(await row.ours());
    if (i % 2 === 0 && row.peer) r.peer.push(await row.peer());
  }
  results.push(r);
}

const fmt = (x: number | null): string =>
  x === null ? "-" : Math.round(x).toLocaleString("en-US");
const us = (x: number | null): string =>
  x === null ? "-" : (x * 1e6).toFixed(1);
const pick = (xs: Sample[], k: keyof Sample): number | null =>
  xs.length ? median(xs.map((x) => x[k])) : null;
console.log(
  `\nsession/ vs Kea 2.2 C++ (${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs, median of ${ROUNDS} alternating rounds, load ${
    Deno.loadavg()[0]!.toFixed(2)
  })\n`,
);
console.log(
  "| workload | ours | peer | ratio | goal | met | ours per round / peer per round |",
);
console.log("| --- | ---: | ---: | ---: | ---: | :---: | --- |");
const goals: GoalRow[] = [];
for (const { row, ours, peer } of results) {
  const o = pick(ours, "rate")!;
  const p = pick(peer, "rate");
  // Each round runs both sides back to back: the median of the rounds'
  // ratios is less swayed by a machine that slows down for a while than
  // the ratio of the medians.
  const ratio = p && peer.length === ours.length
    ? pairedRatio(ours.map((x) => x.rate), peer.map((x) => x.rate))
    : null;
  const goal = row.goal === undefined ? "-" : `>= ${row.goal.toFixed(1)}`;
  const met = row.goal === undefined || ratio === null
    ? "-"
    : ratio >= row.goal
    ? "yes"
    : "no";
  const rounds = `${ours.map((x) => fmt(x.rate)).join(" ")} / ${
    peer.map((x) => fmt(x.rate)).join(" ")
  }`;
  console.log(
    `| ${row.label} | ${fmt(o)} | ${fmt(p)} | ${
      ratio === null ? "-" : ratio.toFixed(2)
    } | ${goal} | ${met} | ${rounds} |`,
  );
  if (row.goal !== undefined && row.summary !== undefined) {
    goals.push({
      module: "session",
      workload: row.summary.workload,
      ratio: ratio ?? NaN,
      goal: row.goal,
      against: row.summary.against,
    });
  }
}
console.log(
  "\nCPU time per session (sessions rows) or per connection (TCP rows), microseconds, median:\n",
);
console.log("| workload | ours | peer | ours / peer |");
console.log("| --- | ---: | ---: | ---: |");
for (const { row, ours, peer } of results) {
  for (const [i, k] of [[0, "cpuA"], [1, "cpuB"]] as const) {
    const o = pick(ours, k);
    const p = pick(peer, k);
    console.log(
      `| ${row.label}: ${row.cpu[i]} | ${us(o)} | ${us(p)} | ${
        o !== null && p ? (o / p).toFixed(2) : "-"
      } |`,
    );
  }
}
for (const g of goals) reportGoal(g);
await Deno.remove(dir, { recursive: true }).catch(() => {});
