// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Hostile peers pushing at each memory limit of the framing module, one
 * case per process (run with `--v8-flags=--expose-gc`):
 *
 *   deno run -A --v8-flags=--expose-gc memory_cases.ts <case> <n> [options]
 *
 * Prints one JSON line: the bytes held (V8 heap used plus external
 * memory, after a full GC) before the case and at its peak, and the peak
 * RSS of the process (`VmHWM`). `options` (JSON) go to the server or
 * client under test. Used by `limits_test.ts` (small n, held
 * bytes asserted) and `bench/memory_limits.ts` (large n, peak RSS shown).
 *
 * Cases:
 * - `deferred`: n tiny requests to a server in deferred mode; the output
 *   is held until the input ends (`maxDeferredSize`).
 * - `client-queue`: a response of n values of 1 MiB read one value per
 *   event-loop turn (the client's queues, `maxBufferedSize`).
 * - `partial-request`: a request cut into n frames of 1 byte, never
 *   finished (partial requests, `maxBufferedSize` of the server).
 * - `partial-data`: command data in n frames of 1 byte, never finished.
 * - `immediate`: the `deferred` requests to a server that answers at once.
 * - `deferred-flood`: n requests of 64 KiB of output each to a server in
 *   deferred mode: past `maxDeferredSize` handlers park and the requests
 *   are held (counted against `maxBufferedSize`).
 * - `client-partials`: n calls, each answered with all but the last byte
 *   of a 1 MiB byte string (the client's partial values).
 * - `unread-output`: a handler producing n MiB for a client that never
 *   reads (the server's queue, `maxQueuedSize`).
 *
 * @module
 */
import {
  type CborValue,
  encodeFrames,
  type Frame,
  frameFromHumanString,
  FramingClient,
  serveConnection,
} from "../mod.ts";

declare const gc: () => void;

/** Bytes held after a full GC. */
function held(): number {
  gc();
  gc();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

/** Peak resident set size of this process so far (`VmHWM`), in bytes. */
function peakRss(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

function pair(): {
  client: {
    readable: ReadableStream<Uint8Array>;
    writable: WritableStream<Uint8Array>;
  };
  server: {
    readable: ReadableStream<Uint8Array>;
    writable: WritableStream<Uint8Array>;
  };
} {
  const a = new TransformStream<Uint8Array, Uint8Array>();
  const b = new TransformStream<Uint8Array, Uint8Array>();
  return {
    client: { readable: b.readable, writable: a.writable },
    server: { readable: a.readable, writable: b.writable },
  };
}

/** Encodes `frames` and writes them in chunks of about 64 KiB. */
async function writeFrames(
  w: WritableStreamDefaultWriter<Uint8Array>,
  frames: Iterable<Frame>,
): Promise<void> {
  let batch: Frame[] = [];
  let size = 0;
  for (const f of frames) {
    batch.push(f);
    size += 8 + f.payload.length;
    if (size >= 65536) {
      await w.write(encodeFrames(batch));
      batch = [];
      size = 0;
    }
  }
  if (batch.length > 0) await w.write(encodeFrames(batch));
}

/**
 * Writes `n` copies of `frame` (`first` once before them) in chunks of
 * about 64 KiB, `patch` adjusting each copy's bytes in place: the peer
 * itself makes almost no garbage, so the figures are the server's.
 */
async function writeCopies(
  w: WritableStreamDefaultWriter<Uint8Array>,
  first: Frame,
  frame: Frame,
  n: number,
  patch: (bytes: Uint8Array, at: number, i: number) => void = () => {},
): Promise<void> {
  await w.write(encodeFrames([first]));
  const one = encodeFrames([frame]);
  const per = Math.max(1, Math.floor(65536 / one.length));
  for (let i = 0; i < n; i += per) {
    const k = Math.min(per, n - i);
    const chunk = new Uint8Array(k * one.length);
    for (let j = 0; j < k; j++) {
      chunk.set(one, j * one.length);
      patch(chunk, j * one.length, i + j);
    }
    await w.write(chunk);
  }
}

/** Sets the request id of the encoded frame at `at` to `i` mod 65536. */
function patchId(bytes: Uint8Array, at: number, i: number): void {
  bytes[at + 3] = i & 0xff;
  bytes[at + 4] = (i >> 8) & 0xff;
}

function request(rid: number, first: boolean, name: string): Frame {
  return frameFromHumanString(
    `${rid} 1 ${
      first ? "stream-begin" : "0"
    } command-request new cbor:{b'name': b'${name}'}`,
  );
}

async function deferred(
  n: number,
  options: Options,
  defer = true,
): Promise<Result> {
  const { client, server } = pair();
  let done = 0;
  let allDone!: () => void;
  const finished = new Promise<void>((r) => allDone = r);
  const served = serveConnection(server, {
    *ping() {
      yield 1;
      if (++done === n) allDone();
    },
  }, { ...options, deferOutput: defer });
  const base = held();
  const output = new Response(client.readable).arrayBuffer();
  const w = client.writable.getWriter();
  // Request ids 0..65535 over and over: Mercurial's server does not check
  // parity, and an id is free again once its response is made.
  await writeCopies(
    w,
    request(0, true, "ping"),
    request(1, false, "ping"),
    n - 1,
    (b, at, i) => patchId(b, at, i + 1),
  );
  await finished;
  await new Promise((r) => setTimeout(r, 0));
  const peak = held();
  await w.close();
  const bytes = (await output).byteLength;
  await served;
  return { base, peak, outputBytes: bytes };
}

async function clientQueue(n: number, options: Options): Promise<Result> {
  const { client, server } = pair();
  const blob = new Uint8Array(1024 * 1024).fill(7);
  const served = serveConnection(server, {
    *blobs() {
      for (let i = 0; i < n; i++) yield blob;
    },
  });
  const c = new FramingClient(client, {
    ...options,
    contentEncodings: ["identity"],
  });
  const base = held();
  let peak = base;
  let count = 0;
  for await (const v of c.call("blobs")) {
    if ((v as Uint8Array).length !== blob.length) throw new Error("bad value");
    count++;
    // One value per event-loop turn: a slow reader.
    await new Promise((r) => setTimeout(r, 0));
    if (count % 8 === 0) peak = Math.max(peak, held());
  }
  if (count !== n) throw new Error(`got ${count} values`);
  await c.close();
  await served;
  return { base, peak };
}

async function partial(
  n: number,
  options: Options,
  data: boolean,
): Promise<Result> {
  const { client, server } = pair();
  let error: unknown = null;
  const served = serveConnection(server, {}, {
    ...options,
    onProtocolError: (e) => error = e,
  }).catch(() => {});
  const output = new Response(client.readable).arrayBuffer();
  const w = client.writable.getWriter();
  const base = held();
  if (data) {
    await writeCopies(
      w,
      frameFromHumanString(
        "1 1 stream-begin command-request new|have-data cbor:{b'name': b'x'}",
      ),
      frameFromHumanString("1 1 0 command-data continuation x"),
      n,
    );
  } else {
    await writeCopies(
      w,
      frameFromHumanString("1 1 stream-begin command-request new|more \\xa1"),
      frameFromHumanString("1 1 0 command-request continuation|more x"),
      n,
    );
  }
  await new Promise((r) => setTimeout(r, 0));
  const peak = held();
  await w.close();
  await output;
  await served;
  if (error !== null) throw error;
  return { base, peak };
}

// deno-lint-ignore no-explicit-any
type Options = Record<string, any>;

async function deferredFlood(n: number, options: Options): Promise<Result> {
  const { client, server } = pair();
  const blob = new Uint8Array(65536).fill(1);
  let error: unknown = null;
  const served = serveConnection(server, {
    *big() {
      yield blob;
    },
  }, {
    ...options,
    deferOutput: true,
    encoders: ["identity"],
    onProtocolError: (e) => error = e,
  }).catch(() => {});
  const base = held();
  const output = new Response(client.readable).arrayBuffer();
  const w = client.writable.getWriter();
  await writeCopies(
    w,
    request(0, true, "big"),
    request(1, false, "big"),
    n - 1,
    (b, at, i) => patchId(b, at, i + 1),
  ).catch(() => {});
  await new Promise((r) => setTimeout(r, 0));
  const peak = held();
  await w.close().catch(() => {});
  const bytes = (await output).byteLength;
  await served;
  return {
    base,
    peak,
    outputBytes: bytes,
    refused: error === null ? "" : (error as Error).message,
  };
}

async function clientPartials(n: number, options: Options): Promise<Result> {
  const down = new TransformStream<Uint8Array, Uint8Array>();
  const up = new TransformStream<Uint8Array, Uint8Array>();
  const c = new FramingClient(
    { readable: down.readable, writable: up.writable },
    { ...options, contentEncodings: null },
  );
  const requests = up.readable.pipeTo(new WritableStream());
  const calls = Array.from(
    { length: n },
    () => Array.fromAsync(c.call("x")).then(() => "", (e) => e.code),
  );
  const base = held();
  const w = down.writable.getWriter();
  const size = 1024 * 1024;
  const head = Uint8Array.of(0x5a, 0x00, 0x10, 0x00, 0x00);
  for (let i = 0; i < n; i++) {
    const rid = 1 + 2 * i;
    const frames: Frame[] = [{
      requestId: rid,
      streamId: 2,
      streamFlags: i === 0 ? 1 : 0,
      type: 3,
      flags: 1,
      payload: Uint8Array.of(
        0xa1,
        0x46,
        ...new TextEncoder().encode("status"),
        0x42,
        0x6f,
        0x6b,
      ),
    }, {
      requestId: rid,
      streamId: 2,
      streamFlags: 0,
      type: 3,
      flags: 1,
      payload: head,
    }];
    for (let o = 0; o < size - 1; o += 32768) {
      frames.push({
        requestId: rid,
        streamId: 2,
        streamFlags: 0,
        type: 3,
        flags: 1,
        payload: new Uint8Array(Math.min(32768, size - 1 - o)),
      });
    }
    await writeFrames(w, frames);
  }
  await new Promise((r) => setTimeout(r, 0));
  const peak = held();
  const buffered = c.bufferedSize;
  await c.close();
  const outcomes = await Promise.all(calls);
  await w.close().catch(() => {});
  await requests.catch(() => {});
  return {
    base,
    peak,
    buffered,
    failed: outcomes.filter((o) => o === "LIMIT_EXCEEDED").length,
  };
}

async function unreadOutput(n: number, options: Options): Promise<Result> {
  const { client, server } = pair();
  const blob = new Uint8Array(1024 * 1024).fill(3);
  let produced = 0;
  const c = new FramingClient(client, {
    contentEncodings: ["identity"],
    maxBufferedSize: 4 * 1024 * 1024,
  });
  const served = serveConnection(server, {
    *blobs() {
      for (let i = 0; i < n; i++) {
        produced++;
        yield blob;
      }
    },
  }, options).catch(() => {});
  const it = c.call("blobs");
  await it.next();
  const base = held();
  // Wait until the handler stops producing (the queues are full).
  let last = -1;
  while (produced !== last) {
    last = produced;
    await new Promise((r) => setTimeout(r, 50));
  }
  const peak = held();
  await it.return?.();
  await c.close();
  await served;
  return { base, peak, produced };
}

interface Result {
  base: number;
  peak: number;
  [key: string]: CborValue;
}

const [name, count, json] = Deno.args;
const n = Number(count);
const options = JSON.parse(json ?? "{}") as Options;
const cases: Record<string, (n: number, o: Options) => Promise<Result>> = {
  "deferred": deferred,
  "immediate": (n, o) => deferred(n, o, false),
  "deferred-flood": deferredFlood,
  "client-partials": clientPartials,
  "unread-output": unreadOutput,
  "client-queue": clientQueue,
  "partial-request": (n, o) => partial(n, o, false),
  "partial-data": (n, o) => partial(n, o, true),
};
const run = cases[name ?? ""];
if (run === undefined || !(n > 0)) {
  console.error(`usage: memory_cases.ts <${Object.keys(cases).join("|")}> <n>`);
  Deno.exit(2);
}
const result = await run(n, options);
console.log(JSON.stringify({ case: name, n, ...result, peakRss: peakRss() }));
