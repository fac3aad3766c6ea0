// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Round trips per second through a dirty arbiter with a trivial echo action,
 * with 1 and 16 concurrent callers (one connection each, one request at a
 * time per connection), against our arbiter and against a real gunicorn
 * 26 dirty arbiter (run stand-alone from its source with `python3 -S`).
 * Both arbiters run in processes of their own, driven by the same Deno
 * client from this process; rounds alternate between them and the best
 * round of each counts. Goal (issue 18): ours (1 in flight per worker, as
 * gunicorn's workers run) >= 3 x gunicorn with 1 and with 16 callers; the
 * two rows are reported to `tools/bench.ts`'s summary through
 * `tools/bench_goal.ts` (without gunicorn, as not measured).
 *
 * ```sh
 * deno run -A dirty/bench/arbiter_compare.ts [--gunicorn /path/to/gunicorn-src] [--seconds 1.5] [--rounds 3]
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
import { reportGoal } from "../../tools/bench_goal.ts";

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
const ROUNDS = Number(values.rounds ?? "3");
const WORKERS = Number(values.workers ?? "2");
const here = new URL(".", import.meta.url).pathname;
/** The goal of ours (1 in flight) / gunicorn, with 1 and with 16 callers. */
const GOAL = 3;

async function measure(
  socket: string,
  app: string,
  callers: number,
): Promise<number> {
  const conns = await Promise.all(
    Array.from({ length: callers }, () => RawDirtyConn.open(socket)),
  );
  // Warm up.
  await Promise.all(conns.map((c) => c.call(app, "echo", ["warm"])));
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(conns.map(async (c, k) => {
    while (performance.now() < end) {
      const r = await c.call(app, "echo", [k, n]);
      if (!Array.isArray(r) || r[0] !== k) throw new Error("bad reply");
      n++;
    }
  }));
  const rate = n / ((performance.now() - t0) / 1000);
  for (const c of conns) c.close();
  return rate;
}

interface Target {
  name: string;
  socket: string;
  app: string;
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
// Rounds alternate between the arbiters, and the best round counts, so
// that load from other processes on a shared machine hurts all alike.
const best = targets.map(() => ({ 1: 0, 16: 0 }));
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, t] of targets.entries()) {
      for (const k of [1, 16] as const) {
        best[i]![k] = Math.max(best[i]![k], await measure(t.socket, t.app, k));
      }
    }
  }
} finally {
  for (const t of targets) await t.stop();
}
const fmt = (x: number) => x.toFixed(0).padStart(9);
console.log(
  `dirty arbiter round trips/s (echo action, ${WORKERS} workers, best of ${ROUNDS} rounds of ${SECONDS}s)`,
);
console.log(
  `| callers | ${
    targets.map((t) => t.name).join(" | ")
  } | ratio (ours, 1 in flight / gunicorn) | goal | met |`,
);
console.log(`| --- |${" --- |".repeat(targets.length)} --- | --- | --- |`);
const ratios = new Map<1 | 16, number>();
for (const k of [1, 16] as const) {
  const g = src ? best[2]![k] : 0;
  const ratio = g ? best[0]![k] / g : NaN;
  ratios.set(k, ratio);
  console.log(
    `| ${k} | ${best.map((b) => fmt(b[k])).join(" | ")} | ${
      g ? ratio.toFixed(2) + "x" : "-"
    } | >= ${GOAL} | ${g ? (ratio >= GOAL ? "yes" : "no") : "-"} |`,
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
  });
}
