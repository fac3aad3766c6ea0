// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Proxy method calls per second against the same CPython `SyncManager`
 * server: our proxies (this Deno process) against CPython's own proxies (a
 * Python client process), on the same calls. Goal: ours >= 1 x CPython.
 *
 * Rows: `d.get("k")` on a dict (a small reply), `d["k"] = <1 KiB bytes>`,
 * `q.put(i)` then `q.get()` on a queue (two calls), and 16 proxies calling
 * `d.get` at once (our 16 proxies in one process, CPython's 16 threads,
 * each with its own connection, as `BaseProxy` makes one per thread).
 *
 * Each row has a floor, measured in the same windows: the least a Deno
 * client can do for the same calls. Raw `Deno.TcpConn`s (one, or 16 for
 * the 16-proxy row) write the row's requests pre-encoded and read each
 * reply without decoding it: no proxy, no pickling. The server's work and
 * the kernel's are the same as for a proxy, so a floor under 1 x CPython
 * puts the goal beyond what Deno's sockets allow in that run, and the
 * summary says so.
 *
 * The manager, our client and CPython's client are three processes. Shared
 * machines are noisy, so the two clients take turns in short timed windows
 * (CPython, ours, floor, floor, ours, CPython, ... on the same proxies'
 * objects, the order alternating); the first window of each is dropped
 * (warm-up); each rate is the best window, the median in brackets. A ratio
 * is the median of the rounds' ratios (each round runs the three sides back
 * to back, as `compare.ts` pairs its rounds), that of the best windows in
 * brackets: a best window is one lucky moment of one side. Rows with a
 * goal are reported to `tools/bench.ts`'s summary through
 * `tools/bench_goal.ts`; a missed goal shows there, and the script exits 0
 * whenever it ran.
 *
 * Run: `npx -y deno@2.9.6 run -A connection/bench/managers_compare.ts
 * [--quick] [--python=<path>]` (default `python3`, CPython 3.11 here; the
 * pyenv 3.12.1 and 3.13.0 work the same way).
 *
 * @module
 */
import {
  connectManager,
  type DictProxy,
  dumps,
  encodeMessage,
  Handshake,
  MessageDecoder,
  type QueueProxy,
  Tuple,
} from "../mod.ts";
import {
  type GoalRow,
  pairedRatio,
  reportGoal,
} from "../../tools/bench_goal.ts";

const quick = Deno.args.includes("--quick");
const python = Deno.args.find((a) => a.startsWith("--python="))?.slice(9) ??
  "python3";
const ROUNDS = quick ? 3 : 15;
const SERVER = new URL("../testdata/manager_server.py", import.meta.url)
  .pathname;

type Row = "get" | "set1k" | "putget" | "get16";
const CALLS: Record<Row, number> = {
  get: quick ? 1000 : 2000,
  set1k: quick ? 1000 : 2000,
  putget: quick ? 500 : 1000, // two calls each
  get16: quick ? 100 : 200, // per proxy
};
const LABEL: Record<Row, string> = {
  get: 'd.get("k") (small reply)',
  set1k: 'd["k"] = 1 KiB bytes',
  putget: "q.put(i); q.get()",
  get16: "16 proxies at once, d.get",
};

const PY_CLIENT = String.raw`
import sys, time, json, threading
from multiprocessing.managers import SyncManager, DictProxy
address = json.loads(sys.argv[1])
address = address if isinstance(address, str) else (address["hostname"], address["port"])
m = SyncManager(address=address, authkey=sys.argv[2].encode())
m.connect()
d = m.dict({"k": 1})
q = m.Queue()
blob = bytes(1024)
def run(row, n):
    if row == "get":
        for _ in range(n): d.get("k")
        return n
    if row == "set1k":
        for _ in range(n): d["k"] = blob
        return n
    if row == "putget":
        for i in range(n):
            q.put(i); q.get()
        return 2 * n
for line in sys.stdin:
    row, n = line.split()
    n = int(n)
    if row == "get16":
        ready = threading.Barrier(17)
        def worker():
            d.get("k")  # opens this thread's connection
            ready.wait()
            for _ in range(n): d.get("k")
        ts = [threading.Thread(target=worker) for _ in range(16)]
        for t in ts: t.start()
        t0 = time.perf_counter()  # the barrier opens when this thread arrives
        ready.wait()
        for t in ts: t.join()
        calls = 16 * n
    else:
        t0 = time.perf_counter()
        calls = run(row, n)
    print(json.dumps({"calls": calls, "s": time.perf_counter() - t0}), flush=True)
`;

class LineReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buf = "";
  constructor(s: ReadableStream<Uint8Array>) {
    this.#reader = s.pipeThrough(new TextDecoderStream()).getReader();
  }
  async next(): Promise<string> {
    while (!this.#buf.includes("\n")) {
      const r = await this.#reader.read();
      if (r.done) throw new Error("Cannot read line: stream ended");
      this.#buf += r.value;
    }
    const i = this.#buf.indexOf("\n");
    const line = this.#buf.slice(0, i);
    this.#buf = this.#buf.slice(i + 1);
    return line;
  }
}

const key = crypto.randomUUID();
const server = new Deno.Command(python, {
  args: [SERVER, "tcp", key],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const serverLines = new LineReader(server.stdout);
const { address } = JSON.parse(await serverLines.next());

const pyClient = new Deno.Command(python, {
  args: ["-c", PY_CLIENT, JSON.stringify(address), key],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const pyIn = pyClient.stdin.getWriter();
const pyOut = new LineReader(pyClient.stdout);
const version = new TextDecoder().decode(
  (await new Deno.Command(python, { args: ["--version"], stdout: "piped" })
    .output()).stdout,
).trim();

/** A raw Deno socket served by `accept_connection`: the I/O floor. */
interface RawSocket {
  tcp: Deno.TcpConn;
  buf: Uint8Array;
}

async function rawSocket(): Promise<RawSocket> {
  const tcp = await Deno.connect({
    hostname: address.hostname,
    port: address.port,
  });
  tcp.setNoDelay(true);
  const buf = new Uint8Array(65536);
  const decoder = new MessageDecoder();
  const pending: Uint8Array[] = [];
  const read = async (): Promise<Uint8Array> => {
    while (pending.length === 0) {
      const n = await tcp.read(buf);
      if (n === null) throw new Error("Cannot read: EOF");
      pending.push(...decoder.push(buf.subarray(0, n)));
    }
    return pending.shift()!;
  };
  const write = async (m: Uint8Array): Promise<void> => {
    const f = encodeMessage(m);
    for (let o = 0; o < f.length;) o += await tcp.write(f.subarray(o));
  };
  const hs = new Handshake("client", {
    authkey: new TextEncoder().encode(key),
  });
  let step = hs.start();
  for (;;) {
    for (const m of step.send) await write(m);
    if (step.error !== undefined) throw step.error;
    if (step.done) break;
    step = hs.receive(await read());
  }
  await write(
    dumps(new Tuple([null, "accept_connection", new Tuple(["raw"]), {}])),
  );
  await read();
  return { tcp, buf };
}

/** A proxy call's request as it goes on the wire, framed. */
function request(id: string, method: string, args: unknown[]): Uint8Array {
  return encodeMessage(dumps(new Tuple([id, method, new Tuple(args), {}])));
}

/**
 * One call on a raw socket: the request written whole, the reply read and
 * not decoded. The manager answers each request before it reads the next,
 * and its small replies arrive in one read.
 */
async function rawCall(sock: RawSocket, framed: Uint8Array): Promise<void> {
  for (let o = 0; o < framed.length;) {
    o += await sock.tcp.write(framed.subarray(o));
  }
  if (await sock.tcp.read(sock.buf) === null) {
    throw new Error("Cannot read: EOF");
  }
}

const manager = await connectManager(address, { authkey: key });
const d: DictProxy = await manager.dict({ k: 1 });
const q: QueueProxy = await manager.queue();
const blob = new Uint8Array(1024);
const d16 = await Promise.all(Array.from({ length: 16 }, () => d.clone()));
for (const p of d16) await p.get("k"); // each opens its connection
const raw = await Promise.all(Array.from({ length: 16 }, () => rawSocket()));
/** Each row's requests, pre-encoded for the floor. */
const FLOOR_REQUESTS: Record<Row, Uint8Array[]> = {
  get: [request(d.token.id, "get", ["k"])],
  set1k: [request(d.token.id, "__setitem__", ["k", blob])],
  putget: [request(q.token.id, "put", [1]), request(q.token.id, "get", [])],
  get16: [request(d.token.id, "get", ["k"])],
};

async function floor(row: Row, n: number): Promise<number> {
  const requests = FLOOR_REQUESTS[row];
  const t0 = performance.now();
  const socks = row === "get16" ? raw : raw.slice(0, 1);
  await Promise.all(socks.map(async (sock) => {
    for (let i = 0; i < n; i++) {
      for (const framed of requests) await rawCall(sock, framed);
    }
  }));
  const calls = socks.length * n * requests.length;
  return calls / ((performance.now() - t0) / 1000);
}

async function ours(row: Row, n: number): Promise<number> {
  const t0 = performance.now();
  let calls = n;
  if (row === "get") {
    for (let i = 0; i < n; i++) await d.get("k");
  } else if (row === "set1k") {
    for (let i = 0; i < n; i++) await d.set("k", blob);
  } else if (row === "putget") {
    for (let i = 0; i < n; i++) {
      await q.put(i);
      await q.get();
    }
    calls = 2 * n;
  } else {
    await Promise.all(d16.map(async (p) => {
      for (let i = 0; i < n; i++) await p.get("k");
    }));
    calls = 16 * n;
  }
  return calls / ((performance.now() - t0) / 1000);
}

async function cpython(row: Row, n: number): Promise<number> {
  await pyIn.write(new TextEncoder().encode(`${row} ${n}\n`));
  const { calls, s } = JSON.parse(await pyOut.next());
  return calls / s;
}

interface Stats {
  best: number;
  median: number;
}

function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  return { best: s[s.length - 1]!, median: s[Math.floor(s.length / 2)]! };
}

const fmt = (x: number): string =>
  x >= 1000 ? `${(x / 1000).toFixed(1)}K` : x.toFixed(0);

console.log(
  `Manager proxy calls/s: ours (Deno ${Deno.version.deno}) vs CPython's proxies (${version}), same ${version} SyncManager server, TCP loopback; best window [median] of ${
    ROUNDS - 1
  }; ratios: median of the rounds' ratios; floor: raw Deno sockets, the same requests pre-encoded, replies not decoded`,
);
console.log(
  "| calls | ours calls/s | CPython calls/s | floor calls/s | ours / CPython [best windows] | floor / CPython [best windows] | goal |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
const goals: GoalRow[] = [];
for (const row of Object.keys(CALLS) as Row[]) {
  const sides = [
    { run: cpython, rates: [] as number[] },
    { run: ours, rates: [] as number[] },
    { run: floor, rates: [] as number[] },
  ];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order, so that no side always follows another.
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const rate = await side.run(row, CALLS[row]);
      if (r > 0) side.rates.push(rate); // the first round warms up
    }
  }
  const [cpy, mine, least] = sides.map((side) => side.rates) as [
    number[],
    number[],
    number[],
  ];
  const [p, o, f] = [stats(cpy), stats(mine), stats(least)];
  const ratio = pairedRatio(mine, cpy);
  const floorRatio = pairedRatio(least, cpy);
  goals.push({
    module: "connection",
    workload: `manager proxy calls/s: ${LABEL[row]}`,
    ratio,
    goal: 1,
    against: `ours/CPython ${version.replace("Python ", "")} proxies`,
    floor: floorRatio,
  });
  const verdict = ratio >= 1
    ? "ok"
    : floorRatio < 1
    ? "missed, beyond reach (floor < 1)"
    : "MISSED";
  console.log(
    `| ${LABEL[row]} | ${fmt(o.best)} [${fmt(o.median)}] | ${fmt(p.best)} [${
      fmt(p.median)
    }] | ${fmt(f.best)} [${fmt(f.median)}] | ${ratio.toFixed(2)} x [${
      (o.best / p.best).toFixed(2)
    } x] | ${floorRatio.toFixed(2)} x [${
      (f.best / p.best).toFixed(2)
    } x] | >= 1 x ${verdict} |`,
  );
}

for (const sock of raw) sock.tcp.close();
await Promise.all(d16.map((p) => p.close()));
await manager.close();
await pyIn.close();
await pyClient.status;
await server.stdin.close();
await server.status;
for (const g of goals) reportGoal(g);
