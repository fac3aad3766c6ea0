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
 * Run: `npx -y deno@2.9.6 run -A connection/bench/compare.ts [--quick]`.
 *
 * @module
 */
import { Connection } from "../connection.ts";

type Impl = "ours" | "raw" | "python";
type Work = "pingpong" | "oneway64" | "oneway1m" | "oneway1mInto";

const WORK: Record<Work, { size: number; count: number; quick: number }> = {
  pingpong: { size: 64, count: 20_000, quick: 3_000 },
  oneway64: { size: 64, count: 300_000, quick: 50_000 },
  oneway1m: { size: 1024 * 1024, count: 1_000, quick: 200 },
  oneway1mInto: { size: 1024 * 1024, count: 1_000, quick: 200 },
};

const PY = String.raw`
import sys, time
from multiprocessing.connection import Listener, Client
role, work, path, size, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
msg = b"x" * size
if role == "server":
    with Listener(path) as l:
        print("ready", flush=True)
        with l.accept() as c:
            if work == "pingpong":
                for _ in range(count):
                    c.send_bytes(c.recv_bytes())
            elif work == "oneway1mInto":
                buf = bytearray(size)
                for _ in range(count):
                    c.recv_bytes_into(buf)
                c.send_bytes(b"k")
            else:
                for _ in range(count):
                    c.recv_bytes()
                c.send_bytes(b"k")
else:
    with Client(path) as c:
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
): Promise<void> {
  const msg = new Uint8Array(size).fill(120);
  if (role === "server") {
    const listener = Deno.listen({ transport: "unix", path });
    console.log("ready");
    const raw = await listener.accept();
    listener.close();
    if (impl === "ours") {
      const conn = new Connection(raw);
      if (work === "pingpong") {
        for (let i = 0; i < count; i++) {
          await conn.sendBytes(await conn.recvBytes());
        }
      } else if (work === "oneway1mInto") {
        const buf = new Uint8Array(size);
        for (let i = 0; i < count; i++) await conn.recvBytesInto(buf);
        await conn.sendBytes(new Uint8Array([107]));
      } else {
        for (let i = 0; i < count; i++) await conn.recvBytes();
        await conn.sendBytes(new Uint8Array([107]));
      }
      await conn.recvBytes().catch(() => {});
      await conn.close();
    } else {
      if (work === "pingpong") {
        const buf = new Uint8Array(size);
        for (let i = 0; i < count; i++) {
          await readFull(raw, buf);
          await writeFull(raw, buf);
        }
      } else {
        const buf = new Uint8Array(Math.max(64 * 1024, size));
        let left = size * count;
        while (left > 0) {
          const n = await raw.read(buf);
          if (n === null) throw new Error("Cannot read: unexpected EOF");
          left -= n;
        }
        await writeFull(raw, new Uint8Array([107]));
      }
      raw.close();
    }
    return;
  }
  const raw = await Deno.connect({ transport: "unix", path });
  const t0 = performance.now();
  if (impl === "ours") {
    const conn = new Connection(raw);
    if (work === "pingpong") {
      for (let i = 0; i < count; i++) {
        await conn.sendBytes(msg);
        await conn.recvBytes();
      }
    } else {
      for (let i = 0; i < count; i++) await conn.sendBytes(msg);
      await conn.recvBytes();
    }
    console.log((performance.now() - t0) / 1000);
    await conn.close();
  } else {
    if (work === "pingpong") {
      const buf = new Uint8Array(size);
      for (let i = 0; i < count; i++) {
        await writeFull(raw, msg);
        await readFull(raw, buf);
      }
    } else {
      for (let i = 0; i < count; i++) await writeFull(raw, msg);
      await readFull(raw, new Uint8Array(1));
    }
    console.log((performance.now() - t0) / 1000);
    raw.close();
  }
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
): Deno.Command {
  const size = String(WORK[work].size);
  if (impl === "python") {
    return new Deno.Command("python3", {
      args: ["-c", PY, role, work, path, size, String(count)],
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
    ],
    stdout: "piped",
    stderr: "inherit",
  });
}

/** Runs one measurement; returns seconds. */
async function measure(impl: Impl, work: Work, count: number): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "sidecar-bench-" });
  const path = `${dir}/s`;
  try {
    const server = command(impl, "server", work, path, count).spawn();
    const reader = server.stdout;
    const [ready, rest] = reader.tee();
    if (await firstLine(ready) !== "ready") {
      throw new Error("Cannot start server");
    }
    const drain = rest.pipeTo(new WritableStream());
    const client = await command(impl, "client", work, path, count).output();
    const seconds = Number(new TextDecoder().decode(client.stdout).trim());
    await server.status;
    await drain;
    if (!client.success || !(seconds > 0)) {
      throw new Error(`Cannot measure ${impl} ${work}`);
    }
    return seconds;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function main(): Promise<void> {
  const quick = Deno.args.includes("--quick");
  const reps = quick ? 1 : 5;
  const impls: Impl[] = ["ours", "raw", "python"];
  const rates = {} as Record<Work, Record<Impl, number>>;
  for (const work of Object.keys(WORK) as Work[]) {
    rates[work] = { ours: 0, raw: 0, python: 0 };
    const count = quick ? WORK[work].quick : WORK[work].count;
    for (let r = 0; r < reps; r++) {
      // Interleave implementations so background load hits all of them.
      for (const impl of impls) {
        // Raw Deno has no framing: one 1 MiB run serves both 1 MiB rows.
        if (work === "oneway1mInto" && impl === "raw") continue;
        const s = await measure(impl, work, count);
        const size = WORK[work].size;
        const rate = size > 64 ? (count * size) / s / 2 ** 20 : count / s;
        rates[work][impl] = Math.max(rates[work][impl], rate);
      }
    }
  }
  rates.oneway1mInto.raw = rates.oneway1m.raw;
  const fmt = (n: number): string =>
    n >= 1000 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);
  const rows: [string, string, Work, Impl, number][] = [
    ["64 B ping-pong", "round trips/s", "pingpong", "raw", 0.9],
    ["64 B one-way", "messages/s", "oneway64", "python", 4],
    ["1 MiB one-way, recvBytes()", "MiB/s", "oneway1m", "raw", 0.7],
    ["1 MiB one-way, recvBytesInto()", "MiB/s", "oneway1mInto", "raw", 0.7],
  ];
  const py = await pyVersion();
  console.log(
    `AF_UNIX, best of ${reps}, each side its own process; ` +
      `CPython ${py} (recv_bytes / recv_bytes_into), Deno ${Deno.version.deno}\n`,
  );
  console.log(
    "| workload | unit | ours (Deno<->Deno) | raw Deno (no framing) " +
      "| CPython<->CPython | ratio | target | met |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | --- | --- | --- |");
  for (const [name, unit, work, vs, target] of rows) {
    const r = rates[work];
    const ratio = r.ours / r[vs];
    const label = vs === "raw" ? "raw" : "CPython";
    console.log(
      `| ${name} | ${unit} | ${fmt(r.ours)} | ${fmt(r.raw)} | ${
        fmt(r.python)
      } ` +
        `| ours/${label} ${ratio.toFixed(2)} | >= ${target} | ` +
        `${ratio >= target ? "yes" : "NO"} |`,
    );
  }
  console.log(
    `\nalso: ours/CPython ping-pong ` +
      `${(rates.pingpong.ours / rates.pingpong.python).toFixed(2)}, ` +
      `ours/raw one-way 64 B ` +
      `${(rates.oneway64.ours / rates.oneway64.raw).toFixed(2)}, ` +
      `ours/CPython 1 MiB ` +
      `${(rates.oneway1m.ours / rates.oneway1m.python).toFixed(2)}`,
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
  const [, impl, role, work, path, size, count] = Deno.args;
  await denoPeer(
    impl as Impl,
    role!,
    work as Work,
    path!,
    Number(size),
    Number(count),
  );
} else if (import.meta.main) {
  await main();
}
