// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Micro benchmarks: `npx -y deno@2.9.6 bench -A connection/connection_bench.ts`.
// The cross-process comparison with raw sockets and CPython is
// `connection/bench/compare.ts`.
import {
  Connection,
  encodeMessage,
  Handshake,
  MessageDecoder,
  pipe,
} from "./mod.ts";
import { unixSocketPair } from "../_test_utils/sockets.ts";

const payload64 = new Uint8Array(64).fill(7);
const frames = (() => {
  const frame = encodeMessage(payload64);
  const out = new Uint8Array(frame.length * 1000);
  for (let i = 0; i < 1000; i++) out.set(frame, i * frame.length);
  return out;
})();

Deno.bench("encodeMessage(64 B)", { group: "codec" }, () => {
  encodeMessage(payload64);
});

Deno.bench(
  "MessageDecoder.push(1000 x 64 B in one chunk)",
  { group: "codec" },
  () => {
    new MessageDecoder().push(frames);
  },
);

Deno.bench(
  "Handshake both sides in memory (sha256)",
  { group: "handshake" },
  () => {
    const authkey = new Uint8Array([1, 2, 3]);
    const server = new Handshake("listener", { authkey });
    const client = new Handshake("client", { authkey });
    client.start();
    let toClient = server.start().send;
    while (!(server.done && client.done)) {
      const toServer = toClient.flatMap((m) => client.receive(m).send);
      toClient = toServer.flatMap((m) => server.receive(m).send);
    }
  },
);

async function unixPair(): Promise<
  [Deno.Conn, Deno.Conn, () => Promise<void>]
> {
  const dir = await Deno.makeTempDir({ prefix: "sidecar-bench-" });
  const [a, b] = await unixSocketPair(dir);
  return [a, b, () => Deno.remove(dir, { recursive: true })];
}

const [rawA, rawB, cleanup] = await unixPair();
const ours = [new Connection(rawA), new Connection(rawB)] as const;
const [plainA, plainB, cleanup2] = await unixPair();
const buf = new Uint8Array(64);

// Each side has its own echo loop, as two communicating parties would.
const echoOurs = (async () => {
  try {
    while (true) await ours[1].sendBytes(await ours[1].recvBytes());
  } catch {
    // Closed at exit.
  }
})();
const echoRaw = (async () => {
  const b = new Uint8Array(64);
  try {
    while (true) {
      for (let n = 0; n < 64;) {
        const r = await plainB.read(b.subarray(n));
        if (r === null) return;
        n += r;
      }
      await plainB.write(b);
    }
  } catch {
    // Closed at exit.
  }
})();

Deno.bench("ours: 64 B ping-pong over AF_UNIX (one process)", {
  group: "ping-pong",
}, async () => {
  await ours[0].sendBytes(payload64);
  await ours[0].recvBytes();
});

Deno.bench("raw Deno.Conn: 64 B ping-pong over AF_UNIX (one process)", {
  group: "ping-pong",
  baseline: true,
}, async () => {
  await plainA.write(payload64);
  for (let n = 0; n < 64;) n += (await plainA.read(buf.subarray(n)))!;
});

const [oneA, oneB, cleanup3] = await unixPair();
const oneWay = [new Connection(oneA), new Connection(oneB)] as const;

Deno.bench("ours: 1000 x 64 B one-way over AF_UNIX (one process)", {
  group: "one-way",
}, async () => {
  const receiving = (async () => {
    for (let i = 0; i < 1000; i++) await oneWay[1].recvBytes();
  })();
  for (let i = 0; i < 1000; i++) await oneWay[0].sendBytes(payload64);
  await receiving;
});

Deno.bench("ours: 1000 x 64 B one-way over an in-memory pipe()", {
  group: "one-way",
}, async () => {
  const [a, b] = pipeOnce;
  const receiving = (async () => {
    for (let i = 0; i < 1000; i++) await b.recvBytes();
  })();
  for (let i = 0; i < 1000; i++) await a.sendBytes(payload64);
  await receiving;
});
const pipeOnce = pipe();

const [bigA, bigB, cleanup4] = await unixPair();
const large = [new Connection(bigA), new Connection(bigB)] as const;
const mib = new Uint8Array(1024 * 1024).fill(3);

Deno.bench(
  "ours: 16 x 1 MiB sendBytes() -> recvBytes() over AF_UNIX (one process)",
  {
    group: "1 MiB",
  },
  async () => {
    const receiving = (async () => {
      for (let i = 0; i < 16; i++) await large[1].recvBytes();
    })();
    for (let i = 0; i < 16; i++) await large[0].sendBytes(mib);
    await receiving;
  },
);

Deno.bench(
  "ours: 16 x 1 MiB bytes send() -> recv() over AF_UNIX (one process)",
  {
    group: "1 MiB",
  },
  async () => {
    const receiving = (async () => {
      for (let i = 0; i < 16; i++) await large[1].recv();
    })();
    for (let i = 0; i < 16; i++) await large[0].send(mib);
    await receiving;
  },
);

globalThis.addEventListener("unload", () => {
  // Best effort: the bench process is exiting.
  void Promise.all([
    ...ours.map((c) => c.close()),
    ...oneWay.map((c) => c.close()),
    ...pipeOnce.map((c) => c.close()),
    ...large.map((c) => c.close()),
    echoOurs,
    echoRaw,
  ]);
  plainA.close();
  plainB.close();
  void cleanup();
  void cleanup2();
  void cleanup3();
  void cleanup4();
});
