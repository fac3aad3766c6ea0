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
 * Shared machines are noisy, so the Deno variants are measured paired: one
 * client process and one server process per run, which take turns in
 * short timed windows (ours, raw, ours, raw, ... on the same socket, at
 * message boundaries), so background load hits both alike. CPython runs
 * are interleaved with the Deno runs. The first window of each variant in
 * a run (JIT warm-up) is dropped; each rate is the best window of all runs,
 * the median window in brackets. On a virtual machine that is otherwise
 * idle, ping-pong is bound by how fast a sleeping vCPU wakes up (about 15K
 * round trips/s for every implementation here); the best windows show the
 * warm case.
 *
 * Run: `npx -y deno@2.9.6 run -A connection/bench/compare.ts [--quick]`.
 *
 * @module
 */
import { Connection } from "../connection.ts";

type Work = "pingpong" | "oneway64" | "oneway1m";
/**
 * What runs: `ours` = `recvBytes()`, `into` = `recvBytesInto()` into one
 * buffer, `raw` = raw sockets into one reused buffer, `fresh` = raw sockets
 * into a new buffer per message, `python` = CPython.
 */
type Variant = "ours" | "into" | "raw" | "fresh" | "python";

/** Message size, messages per timed window, window rounds per run, variants. */
const WORK: Record<
  Work,
  { size: number; count: number; rounds: number; deno: Variant[] }
> = {
  pingpong: { size: 64, count: 2_000, rounds: 9, deno: ["ours", "raw"] },
  oneway64: { size: 64, count: 200_000, rounds: 4, deno: ["ours", "raw"] },
  oneway1m: {
    size: 1024 * 1024,
    count: 200,
    rounds: 5,
    deno: ["ours", "into", "raw", "fresh"],
  },
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
            for _ in range(windows):
                if work == "pingpong":
                    for _ in range(count):
                        c.send_bytes(c.recv_bytes())
                else:
                    for _ in range(count):
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

/** One side of a Deno run, in its own process: every variant, in turns. */
async function denoPeer(
  role: string,
  work: Work,
  path: string,
): Promise<void> {
  const { size, count, rounds, deno } = WORK[work];
  const msg = new Uint8Array(size).fill(120);
  let raw: Deno.Conn;
  if (role === "server") {
    const listener = Deno.listen({ transport: "unix", path });
    console.log("ready");
    raw = await listener.accept();
    listener.close();
  } else {
    raw = await Deno.connect({ transport: "unix", path });
  }
  // Between windows the stream is at a message boundary with nothing
  // buffered, so the variants can take turns on one socket.
  const conn = new Connection(raw);
  // A reused buffer, as a careful user would write it.
  const buf = new Uint8Array(Math.max(64 * 1024, size));
  const msgBuf = buf.subarray(0, size);
  const ack = new Uint8Array([107]);
  for (let r = 0; r < rounds; r++) {
    for (const v of deno) {
      const t0 = performance.now();
      if (role === "client") {
        if (v === "raw" || v === "fresh") {
          if (work === "pingpong") {
            for (let i = 0; i < count; i++) {
              await writeFull(raw, msg);
              await readFull(raw, msgBuf);
            }
          } else {
            for (let i = 0; i < count; i++) await writeFull(raw, msg);
            await readFull(raw, buf.subarray(0, 1));
          }
        } else if (work === "pingpong") {
          for (let i = 0; i < count; i++) {
            await conn.sendBytes(msg);
            await conn.recvBytes();
          }
        } else {
          for (let i = 0; i < count; i++) await conn.sendBytes(msg);
          await conn.recvBytes();
        }
        console.log(`${v} ${(performance.now() - t0) / 1000}`);
        continue;
      }
      if (v === "raw" || v === "fresh") {
        if (work === "pingpong") {
          for (let i = 0; i < count; i++) {
            await readFull(raw, msgBuf);
            await writeFull(raw, msgBuf);
          }
          continue;
        }
        if (v === "fresh") {
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
        await writeFull(raw, ack);
        continue;
      }
      if (work === "pingpong") {
        for (let i = 0; i < count; i++) {
          await conn.sendBytes(await conn.recvBytes());
        }
        continue;
      }
      if (v === "into") {
        for (let i = 0; i < count; i++) await conn.recvBytesInto(msgBuf);
      } else {
        for (let i = 0; i < count; i++) await conn.recvBytes();
      }
      await conn.sendBytes(ack);
    }
  }
  if (role === "server") await conn.recvBytes().catch(() => {});
  await conn.close();
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    if (text.includes("\n")) break;
  }
  return text.split("\n")[0]!.trim();
}

function command(role: string, work: Work, path: string, py: boolean) {
  if (py) {
    const { size, count, rounds } = WORK[work];
    return new Deno.Command("python3", {
      args: [
        "-c",
        PY,
        role,
        work,
        path,
        String(size),
        String(count),
        String(rounds),
      ],
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
      role,
      work,
      path,
    ],
    stdout: "piped",
    stderr: "inherit",
  });
}

/**
 * Runs one pair of processes (Deno or CPython); returns each variant's
 * window rates, the first window of each variant dropped.
 */
async function measure(
  work: Work,
  py: boolean,
): Promise<Map<Variant, number[]>> {
  const dir = await Deno.makeTempDir({ prefix: "sidecar-bench-" });
  const path = `${dir}/s`;
  try {
    const server = command("server", work, path, py).spawn();
    const [ready, rest] = server.stdout.tee();
    if (await firstLine(ready) !== "ready") {
      throw new Error("Cannot start server");
    }
    const drain = rest.pipeTo(new WritableStream());
    const client = await command("client", work, path, py).output();
    await server.status;
    await drain;
    const { size, count, rounds, deno } = WORK[work];
    const lines = new TextDecoder().decode(client.stdout).trim().split("\n");
    if (!client.success || lines.length !== rounds * (py ? 1 : deno.length)) {
      throw new Error(`Cannot measure ${work}`);
    }
    const out = new Map<Variant, number[]>();
    for (const line of lines) {
      const [v, text] = py ? ["python", line] : line.split(" ");
      const seconds = Number(text);
      if (!(seconds > 0)) throw new Error(`Cannot measure ${work}: ${line}`);
      const list = out.get(v as Variant);
      if (list === undefined) {
        out.set(v as Variant, []);
        continue; // warm-up window
      }
      list.push(
        size > 64 ? (count * size) / seconds / 2 ** 20 : count / seconds,
      );
    }
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

interface Rate {
  best: number;
  median: number;
}

function rate(xs: number[] | undefined): Rate {
  const sorted = [...(xs ?? [])].sort((a, b) => b - a);
  return {
    best: sorted[0] ?? NaN,
    median: sorted[Math.floor(sorted.length / 2)] ?? NaN,
  };
}

async function main(): Promise<void> {
  const quick = Deno.args.includes("--quick");
  const reps = quick ? 1 : 4;
  const all = {} as Record<Work, Map<Variant, number[]>>;
  for (const work of Object.keys(WORK) as Work[]) {
    all[work] = new Map();
    for (let r = 0; r < reps; r++) {
      // Deno and CPython runs alternate, so background load hits both.
      for (const py of [false, true]) {
        for (const [v, xs] of await measure(work, py)) {
          all[work].set(v, [...(all[work].get(v) ?? []), ...xs]);
        }
      }
    }
  }
  const fmt = (n: number): string =>
    n >= 1000 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);
  const cell = (r: Rate): string => `${fmt(r.best)} (${fmt(r.median)})`;
  const rows: [string, string, Work, Variant, Variant, number][] = [
    ["64 B ping-pong", "round trips/s", "pingpong", "ours", "raw", 0.9],
    ["64 B one-way", "messages/s", "oneway64", "ours", "python", 4],
    ["1 MiB one-way, recvBytes()", "MiB/s", "oneway1m", "ours", "raw", 0.7],
    [
      "1 MiB one-way, recvBytesInto()",
      "MiB/s",
      "oneway1m",
      "into",
      "raw",
      0.7,
    ],
  ];
  const py = await pyVersion();
  const windows = (w: Work): number => reps * (WORK[w].rounds - 1);
  console.log(
    `AF_UNIX, each side its own process; ${reps} runs per workload, Deno ` +
      `variants paired in turns within each run; best window (median ` +
      `window in brackets) of ${windows("pingpong")} x ` +
      `${WORK.pingpong.count} round trips, ${windows("oneway64")} x ` +
      `${WORK.oneway64.count} messages, ${windows("oneway1m")} x ` +
      `${WORK.oneway1m.count} MiB; CPython ${py} ` +
      `(recv_bytes), Deno ${Deno.version.deno}\n`,
  );
  console.log(
    "| workload | unit | ours (Deno<->Deno) | raw Deno (no framing) " +
      "| CPython<->CPython | ratio (best) | ratio (median) | target | met |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | --- | --- | --- | --- |");
  for (const [name, unit, work, mine, vs, target] of rows) {
    const ours = rate(all[work].get(mine));
    const other = rate(all[work].get(vs));
    const ratio = ours.best / other.best;
    const label = vs === "raw" ? "raw" : "CPython";
    const pyRate = rate(all[work].get("python"));
    console.log(
      `| ${name} | ${unit} | ${cell(ours)} | ${
        cell(rate(all[work].get("raw")))
      } | ${cell(pyRate)} | ours/${label} ${ratio.toFixed(2)} | ${
        (ours.median / other.median).toFixed(2)
      } | >= ${target} | ${ratio >= target ? "yes" : "NO"} |`,
    );
  }
  const fresh = rate(all.oneway1m.get("fresh"));
  const raw1m = rate(all.oneway1m.get("raw"));
  const ours1m = rate(all.oneway1m.get("ours"));
  console.log(
    `\n1 MiB, raw Deno reading into a new buffer per message: ${
      cell(fresh)
    } MiB/s = ${(fresh.best / raw1m.best).toFixed(2)} x raw; ` +
      `recvBytes() = ${(ours1m.best / fresh.best).toFixed(2)} x that.`,
  );
  const ratio = (w: Work, a: Variant, b: Variant): string =>
    (rate(all[w].get(a)).best / rate(all[w].get(b)).best).toFixed(2);
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
  const [, role, work, path] = Deno.args;
  await denoPeer(role!, work as Work, path!);
} else if (import.meta.main) {
  await main();
}
