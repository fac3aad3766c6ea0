// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Compares, on AF_UNIX and on the same work, our `Connection` (Deno to
 * Deno), raw Deno sockets with no framing, and CPython's
 * `multiprocessing.connection` (CPython to CPython). Each side of every run
 * is its own process. Prints a table with the ratios against the targets:
 *
 * - 64-byte ping-pong round trips/s: ours >= 0.9 x raw Deno
 * - 64-byte one-way messages/s: ours >= 4 x CPython
 * - 1 MiB one-way throughput: ours >= 0.7 x raw Deno
 *
 * Raw Deno is what a careful user writes without framing: `conn.read` into
 * one reused buffer and `conn.write`. The 1 MiB rows also show raw Deno
 * reading into a new buffer per message (`new Uint8Array(n)`): the cost of
 * fresh memory that `recvBytes()`, which returns a buffer the caller owns,
 * cannot avoid.
 *
 * Shared machines are noisy: every client times several short windows,
 * runs are interleaved (ours, raw, CPython, ours, ...) so background load
 * hits all of them alike, the first window of every run (JIT warm-up) is
 * dropped, and each rate is the best window of all runs; the median window
 * is printed beside it.
 *
 * Run: `npx -y deno@2.9.6 run -A connection/bench/compare.ts [--quick]`.
 *
 * @module
 */
import { Connection } from "../connection.ts";

type Impl = "ours" | "raw" | "python";
type Work =
  | "pingpong"
  | "oneway64"
  | "oneway1m"
  | "oneway1mInto"
  | "oneway1mFresh";

/** Messages per timed window; windows per run. */
const WORK: Record<Work, { size: number; count: number; windows: number }> = {
  pingpong: { size: 64, count: 2_000, windows: 9 },
  oneway64: { size: 64, count: 200_000, windows: 4 },
  oneway1m: { size: 1024 * 1024, count: 200, windows: 6 },
  oneway1mInto: { size: 1024 * 1024, count: 200, windows: 6 },
  // Raw Deno only: a new buffer for every message.
  oneway1mFresh: { size: 1024 * 1024, count: 200, windows: 6 },
};

const PY = String.raw`
import sys, time
from multiprocessing.connection import Listener, Client
role, work, path = sys.argv[1], sys.argv[2], sys.argv[3]
size, count, windows = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
msg = b"x" * size
if role == "server":
    with Listener(path) as l:
        print("ready", flush=True)
        with l.accept() as c:
            buf = bytearray(size)
            for _ in range(windows):
                if work == "pingpong":
                    for _ in range(count):
                        c.send_bytes(c.recv_bytes())
                else:
                    for _ in range(count):
                        if work == "oneway1mInto":
                            c.recv_bytes_into(buf)
                        else:
                            c.recv_bytes()
                    c.send_bytes(b"k")
else:
    with Client(path) as c:
        for _ in range(windows):
            t0 = time.perf_counter()
            if work == "pingpong":
                for _ in range(count):
                    c.send_bytes(msg)
                    c.recv_bytes()
            else:
                for _ in range(count):
                    c.send_bytes(msg)
                c.recv_bytes()
            print(time.perf_counter() - t0, flush=True)
`;

async function readFull(conn: Deno.Conn, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const n = await conn.read(buf.subarray(off));
    if (n === null) throw new Error("Cannot read: unexpected EOF");
    off += n;
  }
}

async function writeFull(conn: Deno.Conn, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) off += await conn.write(buf.subarray(off));
}

/** One side of a Deno run (ours or raw), in its own process. */
async function denoPeer(
  impl: Impl,
  role: string,
  work: Work,
  path: string,
  size: number,
  count: number,
  windows: number,
): Promise<void> {
  const msg = new Uint8Array(size).fill(120);
  if (role === "server") {
    const listener = Deno.listen({ transport: "unix", path });
    console.log("ready");
    const raw = await listener.accept();
    listener.close();
    if (impl === "ours") {
      const conn = new Connection(raw);
      const buf = new Uint8Array(size);
      for (let w = 0; w < windows; w++) {
        if (work === "pingpong") {
          for (let i = 0; i < count; i++) {
            await conn.sendBytes(await conn.recvBytes());
          }
          continue;
        }
        if (work === "oneway1mInto") {
          for (let i = 0; i < count; i++) await conn.recvBytesInto(buf);
        } else {
          for (let i = 0; i < count; i++) await conn.recvBytes();
        }
        await conn.sendBytes(new Uint8Array([107]));
      }
      await conn.recvBytes().catch(() => {});
      await conn.close();
    } else {
      // A reused buffer, as a careful user would write it.
      const buf = new Uint8Array(Math.max(64 * 1024, size));
      const msgBuf = buf.subarray(0, size);
      for (let w = 0; w < windows; w++) {
        if (work === "pingpong") {
          for (let i = 0; i < count; i++) {
            await readFull(raw, msgBuf);
            await writeFull(raw, msgBuf);
          }
          continue;
        }
        if (work === "oneway1mFresh") {
          for (let i = 0; i < count; i++) {
            await readFull(raw, new Uint8Array(size));
          }
        } else {
          // No framing: count bytes, each read takes what has arrived.
          let left = size * count;
          while (left > 0) {
            const n = await raw.read(
              buf.subarray(0, Math.min(left, buf.length)),
            );
            if (n === null) throw new Error("Cannot read: unexpected EOF");
            left -= n;
          }
        }
        await writeFull(raw, new Uint8Array([107]));
      }
      raw.close();
    }
    return;
  }
  const raw = await Deno.connect({ transport: "unix", path });
  const conn = impl === "ours" ? new Connection(raw) : null;
  const buf = new Uint8Array(size);
  for (let w = 0; w < windows; w++) {
    const t0 = performance.now();
    if (conn !== null) {
      if (work === "pingpong") {
        for (let i = 0; i < count; i++) {
          await conn.sendBytes(msg);
          await conn.recvBytes();
        }
      } else {
        for (let i = 0; i < count; i++) await conn.sendBytes(msg);
        await conn.recvBytes();
      }
    } else if (work === "pingpong") {
      for (let i = 0; i < count; i++) {
        await writeFull(raw, msg);
        await readFull(raw, buf);
      }
    } else {
      for (let i = 0; i < count; i++) await writeFull(raw, msg);
      await readFull(raw, new Uint8Array(1));
    }
    console.log((performance.now() - t0) / 1000);
  }
  if (conn !== null) await conn.close();
  else raw.close();
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    if (text.includes("\n")) break;
  }
  return text.split("\n")[0]!.trim();
}

function command(
  impl: Impl,
  role: string,
  work: Work,
  path: string,
  count: number,
  windows: number,
): Deno.Command {
  const size = String(WORK[work].size);
  if (impl === "python") {
    return new Deno.Command("python3", {
      args: ["-c", PY, role, work, path, size, String(count), String(windows)],
      stdout: "piped",
      stderr: "inherit",
    });
  }
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--peer",
      impl,
      role,
      work,
      path,
      size,
      String(count),
      String(windows),
    ],
    stdout: "piped",
    stderr: "inherit",
  });
}

/** Runs one pair of processes; returns the seconds of each window. */
async function measure(
  impl: Impl,
  work: Work,
  count: number,
  windows: number,
): Promise<number[]> {
  const dir = await Deno.makeTempDir({ prefix: "sidecar-bench-" });
  const path = `${dir}/s`;
  try {
    const server = command(impl, "server", work, path, count, windows).spawn();
    const reader = server.stdout;
    const [ready, rest] = reader.tee();
    if (await firstLine(ready) !== "ready") {
      throw new Error("Cannot start server");
    }
    const drain = rest.pipeTo(new WritableStream());
    const client = await command(impl, "client", work, path, count, windows)
      .output();
    const seconds = new TextDecoder().decode(client.stdout).trim().split("\n")
      .map(Number);
    await server.status;
    await drain;
    if (
      !client.success || seconds.length !== windows ||
      !seconds.every((x) => x > 0)
    ) {
      throw new Error(`Cannot measure ${impl} ${work}`);
    }
    return seconds;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

interface Rate {
  best: number;
  median: number;
}

async function main(): Promise<void> {
  const quick = Deno.args.includes("--quick");
  const reps = quick ? 1 : 4;
  const impls: Impl[] = ["ours", "raw", "python"];
  const all = {} as Record<Work, Record<Impl, number[]>>;
  for (const work of Object.keys(WORK) as Work[]) {
    all[work] = { ours: [], raw: [], python: [] };
    const { size, count, windows } = WORK[work];
    for (let r = 0; r < reps; r++) {
      // Interleave implementations so background load hits all of them.
      for (const impl of impls) {
        // Raw Deno has no framing: one reused-buffer run serves both 1 MiB
        // rows; the fresh-buffer row is raw Deno only.
        if (work === "oneway1mInto" && impl === "raw") continue;
        if (work === "oneway1mFresh" && impl !== "raw") continue;
        // The first window of every run warms up the JIT: not counted.
        const seconds = await measure(impl, work, count, windows);
        for (const s of seconds.slice(1)) {
          all[work][impl].push(
            size > 64 ? (count * size) / s / 2 ** 20 : count / s,
          );
        }
      }
    }
  }
  all.oneway1mInto.raw = all.oneway1m.raw;
  const rate = (xs: number[]): Rate => {
    const sorted = [...xs].sort((a, b) => b - a);
    return {
      best: sorted[0] ?? NaN,
      median: sorted[Math.floor(sorted.length / 2)] ?? NaN,
    };
  };
  const fmt = (n: number): string =>
    n >= 1000 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);
  const cell = (r: Rate): string => `${fmt(r.best)} (${fmt(r.median)})`;
  const rows: [string, string, Work, Impl, number][] = [
    ["64 B ping-pong", "round trips/s", "pingpong", "raw", 0.9],
    ["64 B one-way", "messages/s", "oneway64", "python", 4],
    ["1 MiB one-way, recvBytes()", "MiB/s", "oneway1m", "raw", 0.7],
    ["1 MiB one-way, recvBytesInto()", "MiB/s", "oneway1mInto", "raw", 0.7],
  ];
  const py = await pyVersion();
  const windows = (w: Work): number => reps * (WORK[w].windows - 1);
  console.log(
    `AF_UNIX, each side its own process, ${reps} interleaved runs per ` +
      `implementation; best window (median window in brackets), ` +
      `${windows("pingpong")} windows of ${WORK.pingpong.count} round trips, ` +
      `${windows("oneway64")} of ${WORK.oneway64.count} messages, ` +
      `${windows("oneway1m")} of ${WORK.oneway1m.count} MiB; ` +
      `CPython ${py} (recv_bytes / recv_bytes_into), Deno ${Deno.version.deno}\n`,
  );
  console.log(
    "| workload | unit | ours (Deno<->Deno) | raw Deno (no framing) " +
      "| CPython<->CPython | ratio (best) | ratio (median) | target | met |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | --- | --- | --- | --- |");
  for (const [name, unit, work, vs, target] of rows) {
    const ours = rate(all[work].ours);
    const other = rate(all[work][vs]);
    const ratio = ours.best / other.best;
    const label = vs === "raw" ? "raw" : "CPython";
    console.log(
      `| ${name} | ${unit} | ${cell(ours)} | ${cell(rate(all[work].raw))} | ${
        cell(rate(all[work].python))
      } | ours/${label} ${ratio.toFixed(2)} | ${
        (ours.median / other.median).toFixed(2)
      } | >= ${target} | ${ratio >= target ? "yes" : "NO"} |`,
    );
  }
  const fresh = rate(all.oneway1mFresh.raw);
  const raw1m = rate(all.oneway1m.raw);
  const ours1m = rate(all.oneway1m.ours);
  console.log(
    `\n1 MiB, raw Deno reading into a new buffer per message: ${
      cell(fresh)
    } MiB/s = ${(fresh.best / raw1m.best).toFixed(2)} x raw; ` +
      `recvBytes() = ${(ours1m.best / fresh.best).toFixed(2)} x that.`,
  );
  const ratio = (w: Work, a: Impl, b: Impl): string =>
    (rate(all[w][a]).best / rate(all[w][b]).best).toFixed(2);
  console.log(
    `also: ours/CPython ping-pong ${ratio("pingpong", "ours", "python")}, ` +
      `ours/raw one-way 64 B ${ratio("oneway64", "ours", "raw")}, ` +
      `ours/CPython 1 MiB ${ratio("oneway1m", "ours", "python")}`,
  );
}

async function pyVersion(): Promise<string> {
  const out = await new Deno.Command("python3", {
    args: ["--version"],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim().replace("Python ", "");
}

if (Deno.args[0] === "--peer") {
  const [, impl, role, work, path, size, count, windows] = Deno.args;
  await denoPeer(
    impl as Impl,
    role!,
    work as Work,
    path!,
    Number(size),
    Number(count),
    Number(windows),
  );
} else if (import.meta.main) {
  await main();
}
