// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Round trips per second through a dirty arbiter with a trivial echo action,
 * with 1 and 16 concurrent callers (one connection each, one request at a
 * time per connection), against our arbiter and against a real gunicorn
 * 26 dirty arbiter (run stand-alone from its source with `python3 -S`).
 * The same Deno client drives both.
 *
 * ```sh
 * deno run -A dirty/bench/arbiter_compare.ts [--gunicorn /path/to/gunicorn-src] [--seconds 2]
 * ```
 *
 * The gunicorn source is looked up in `--gunicorn`, `$GUNICORN_SRC`, then
 * `/tmp/gunicorn_src`; without it only our numbers are printed.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startArbiter } from "../arbiter.ts";
import { RawDirtyConn } from "../../_test_utils/dirty_arbiter_client.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    gunicorn: { type: "string" },
    seconds: { type: "string" },
    workers: { type: "string" },
  },
});
const SECONDS = Number(values.seconds ?? "2");
const WORKERS = Number(values.workers ?? "2");
const here = new URL(".", import.meta.url).pathname;

function findGunicorn(): string | null {
  for (
    const dir of [
      values.gunicorn,
      Deno.env.get("GUNICORN_SRC"),
      "/tmp/gunicorn_src",
    ]
  ) {
    if (!dir) continue;
    try {
      Deno.statSync(`${dir}/gunicorn/dirty/arbiter.py`);
      return dir;
    } catch {
      // Not there.
    }
  }
  return null;
}

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

async function ours(concurrency: number): Promise<Record<number, number>> {
  const app = `${new URL("./echo_app.ts", import.meta.url).href}:EchoApp`;
  await using arb = await startArbiter({
    apps: [app],
    workers: WORKERS,
    concurrency,
    log: () => {},
  });
  await arb.ready();
  return {
    1: await measure(arb.socketPath, app, 1),
    16: await measure(arb.socketPath, app, 16),
  };
}

async function gunicorn(src: string): Promise<Record<number, number>> {
  const dir = await Deno.makeTempDir({ prefix: "gdirty-bench-" });
  const socket = `${dir}/arbiter.sock`;
  const child = new Deno.Command("python3", {
    args: [
      "-S",
      `${here}gunicorn_arbiter.py`,
      src,
      socket,
      String(WORKERS),
      "1",
      "gunicorn_echo_app:EchoApp",
    ],
    env: { TMPDIR: dir },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let out = "";
  while (!out.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("gunicorn runner exited early");
    out += value;
  }
  const drain = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  try {
    // Workers boot after the socket appears; wait until a call succeeds.
    for (let i = 0;; i++) {
      try {
        await using c = await RawDirtyConn.open(socket);
        await c.call("gunicorn_echo_app:EchoApp", "echo", [0]);
        break;
      } catch (e) {
        if (i > 100) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return {
      1: await measure(socket, "gunicorn_echo_app:EchoApp", 1),
      16: await measure(socket, "gunicorn_echo_app:EchoApp", 16),
    };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await drain;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const src = findGunicorn();
const ours1 = await ours(1);
const ours8 = await ours(8);
const ref = src ? await gunicorn(src) : null;
const fmt = (x: number) => x.toFixed(0).padStart(9);
console.log(
  `dirty arbiter round trips/s (echo, ${WORKERS} workers, ${SECONDS}s per row)`,
);
console.log(
  "| callers | ours (1 in flight/worker) | ours (8 in flight/worker) | gunicorn 26.1.0 | ratio (ours/gunicorn) |",
);
console.log("| --- | --- | --- | --- | --- |");
for (const k of [1, 16] as const) {
  const g = ref?.[k];
  console.log(
    `| ${k} | ${fmt(ours1[k]!)} | ${fmt(ours8[k]!)} | ${
      g ? fmt(g) : "  (absent)"
    } | ${g ? (ours1[k]! / g).toFixed(2) + "x" : "-"} |`,
  );
}
if (!src) console.log("gunicorn source not found: comparison skipped");
