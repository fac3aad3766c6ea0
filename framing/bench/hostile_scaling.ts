// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * How the framing decoders scale on hostile input: each shape runs at n
 * and 4n, each run in a child process of its own (the best of three runs
 * is shown, the machine being shared), and the table shows the time, the
 * peak RSS and the growth factor of each (linear is about 4; garbage
 * collection of the values decoded adds a little; the RSS of an idle Deno,
 * about 40 MB, is in every figure). A benchmark, not a test.
 *
 *   deno run -A framing/bench/hostile_scaling.ts [shape ...]
 *
 * @module
 */
import {
  CborStreamDecoder,
  type CborValue,
  encodeCbor,
  encodeFrames,
  type Frame,
  FrameDecoder,
  FramingClient,
  ServerReactor,
} from "../mod.ts";

interface Shape {
  /** What a peer sends. */
  what: string;
  /** The smaller size. */
  n: number;
  /** Runs the shape at size `n`; returns a check value. */
  run(n: number): number | Promise<number>;
}

/** Feeds `bytes` to `decode` in pieces of `step` bytes. */
function feed(
  bytes: Uint8Array,
  step: number,
  decode: (chunk: Uint8Array) => number,
): number {
  let out = 0;
  for (let o = 0; o < bytes.length; o += step) {
    out += decode(bytes.subarray(o, o + step));
  }
  return out;
}

function frame(
  rid: number,
  type: number,
  flags: number,
  payload: Uint8Array,
  streamFlags = 0,
): Frame {
  return { requestId: rid, streamId: 2, streamFlags, type, flags, payload };
}

const SHAPES: Record<string, Shape> = {
  "cbor-array-byte-by-byte": {
    what: "CBOR array of n ints, one byte per decode() call",
    n: 200_000,
    run(n) {
      const bytes = encodeCbor(Array.from({ length: n }, (_, i) => i));
      const d = new CborStreamDecoder({ maxItems: n });
      return feed(bytes, 1, (c) => d.decode(c).length);
    },
  },
  "cbor-map-in-tiny-pieces": {
    what: "CBOR map of n entries, 3-byte pieces",
    n: 100_000,
    run(n) {
      const m = new Map<string, number>();
      for (let i = 0; i < n; i++) m.set(`k${i}`, i);
      const bytes = encodeCbor(m);
      const d = new CborStreamDecoder({ maxItems: n });
      return feed(bytes, 3, (c) => d.decode(c).length);
    },
  },
  "cbor-deep-nesting": {
    what: "CBOR arrays nested n deep (maxDepth n), whole then in 2 pieces",
    n: 200_000,
    run(n) {
      const bytes = new Uint8Array(n + 1).fill(0x81);
      bytes[n] = 0;
      const a = new CborStreamDecoder({ maxDepth: n }).decode(bytes).length;
      const d = new CborStreamDecoder({ maxDepth: n });
      return a + feed(bytes, (n >> 1) + 1, (c) => d.decode(c).length);
    },
  },
  "cbor-indefinite-tiny-chunks": {
    what: "top-level indefinite byte string of n 1-byte chunks, 1-byte pieces",
    n: 200_000,
    run(n) {
      const bytes = new Uint8Array(2 * n + 2);
      bytes[0] = 0x5f;
      for (let i = 0; i < n; i++) bytes.set([0x41, 0x61], 1 + 2 * i);
      bytes[2 * n + 1] = 0xff;
      const d = new CborStreamDecoder();
      return feed(bytes, 1, (c) => d.decode(c).length);
    },
  },
  "cbor-huge-declared-lengths": {
    what: "n decoders, each given the head of a 60 MiB byte string + 1 byte",
    n: 500,
    run(n) {
      const kept: CborStreamDecoder[] = [];
      const head = Uint8Array.of(0x5a, 0x03, 0xc0, 0x00, 0x00, 0x61);
      for (let i = 0; i < n; i++) {
        const d = new CborStreamDecoder();
        d.decode(head);
        kept.push(d);
      }
      return kept.reduce((s, d) => s + d.pendingSize, 0);
    },
  },
  "frames-empty-whole": {
    what: "n empty frames in one chunk",
    n: 1_000_000,
    run(n) {
      const bytes = new Uint8Array(8 * n);
      return new FrameDecoder().push(bytes).length;
    },
  },
  "frames-byte-by-byte": {
    what: "n 8-byte frames, one byte per push()",
    n: 100_000,
    run(n) {
      const f = frame(1, 3, 1, new Uint8Array(8));
      const bytes = encodeFrames(Array.from({ length: n }, () => f));
      const d = new FrameDecoder();
      return feed(bytes, 1, (c) => d.push(c).length);
    },
  },
  "frames-oversized-skipped": {
    what: "n frames of 1 MiB over the limit, skipped, 64 KiB pieces",
    n: 50,
    run(n) {
      const big = frame(1, 3, 1, new Uint8Array(1 << 20));
      const one = encodeFrames([big], 0xffffff);
      const d = new FrameDecoder({ oversized: "skip" });
      let pieces = 0;
      for (let i = 0; i < n; i++) {
        pieces += feed(one, 65536, (c) => d.push(c).length);
      }
      return pieces;
    },
  },
  "server-request-in-1-byte-frames": {
    what: "one request cut into n 1-byte frames (server reactor)",
    n: 500_000,
    run(n) {
      const r = new ServerReactor({ maxRequestSize: 2 * n });
      const body = encodeCbor(
        new Map<string, CborValue>([["name", "x"], ["args", {
          b: new Uint8Array(n),
        }]]),
      );
      let acted = 0;
      for (let o = 0; o < body.length; o++) {
        const a = r.onFrameRecv({
          requestId: 1,
          streamId: 1,
          streamFlags: o === 0 ? 1 : 0,
          type: 1,
          flags: o === 0 ? 0x05 : o === body.length - 1 ? 0x02 : 0x06,
          payload: body.subarray(o, o + 1),
        });
        if (a.action === "runcommand") acted++;
        if (a.action === "error") throw a.error;
      }
      return acted;
    },
  },
  "client-value-in-1-byte-frames": {
    what: "one response value cut into n 1-byte frames (FramingClient)",
    n: 100_000,
    async run(n) {
      const down = new TransformStream<Uint8Array, Uint8Array>();
      const up = new TransformStream<Uint8Array, Uint8Array>();
      const client = new FramingClient(
        { readable: down.readable, writable: up.writable },
        { contentEncodings: null, cborOptions: { maxItems: n } },
      );
      const requests = up.readable.pipeTo(new WritableStream());
      const call = Array.fromAsync(client.call("x"));
      const value = encodeCbor(Array.from({ length: n / 2 }, (_, i) => i));
      const frames: Frame[] = [
        frame(1, 3, 1, encodeCbor({ status: "ok" }), 1),
      ];
      for (let o = 0; o < value.length; o++) {
        frames.push(frame(1, 3, 1, value.subarray(o, o + 1)));
      }
      frames.push(frame(1, 3, 2, new Uint8Array(0)));
      const w = down.writable.getWriter();
      for (let i = 0; i < frames.length; i += 4096) {
        await w.write(encodeFrames(frames.slice(i, i + 4096)));
      }
      const [got] = await call;
      await client.close();
      await w.close().catch(() => {});
      await requests.catch(() => {});
      return (got as number[]).length;
    },
  },
};

function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(
    Deno.readTextFileSync("/proc/self/status"),
  );
  return m ? Number(m[1]) * 1024 : 0;
}

if (Deno.args[0] === "--child") {
  const shape = SHAPES[Deno.args[1]!]!;
  const n = Number(Deno.args[2]);
  const t0 = performance.now();
  const check = await shape.run(n);
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ ms, rss: peakRss(), check }));
  Deno.exit(0);
}

async function child(name: string, n: number): Promise<{
  ms: number;
  rss: number;
}> {
  let best = { ms: Infinity, rss: 0 };
  for (let i = 0; i < 3; i++) {
    const r = await once(name, n);
    if (r.ms < best.ms) best = r;
  }
  return best;
}

async function once(name: string, n: number): Promise<{
  ms: number;
  rss: number;
}> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--child",
      name,
      String(n),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`${name} ${n} failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const names = Deno.args.length > 0 ? Deno.args : Object.keys(SHAPES);
const mb = (b: number): string => (b / 1e6).toFixed(0);
console.log(
  "| shape | what a peer sends | n | time n (ms) | time 4n (ms) | growth | peak RSS n (MB) | peak RSS 4n (MB) |",
);
console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const name of names) {
  const shape = SHAPES[name];
  if (shape === undefined) throw new Error(`unknown shape ${name}`);
  const a = await child(name, shape.n);
  const b = await child(name, 4 * shape.n);
  console.log(
    `| ${name} | ${shape.what} | ${shape.n} | ${a.ms.toFixed(1)} | ${
      b.ms.toFixed(1)
    } | ${(b.ms / a.ms).toFixed(1)} | ${mb(a.rss)} | ${mb(b.rss)} |`,
  );
}
