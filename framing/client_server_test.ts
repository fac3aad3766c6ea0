// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Client and server over TCP, Unix sockets and in-memory channels.
import fc from "fast-check";
import assert from "node:assert/strict";
import { openFdCount, tempDir } from "../_test_utils/peers.ts";
import { pair } from "../_test_utils/framing/channels.ts";
import {
  type CborValue,
  CommandError,
  connect,
  createProgressFrame,
  createTextOutputFrame,
  decodeFrames,
  encodeFrame,
  encodeFrames,
  frameFromHumanString,
  FramingClient,
  FramingError,
  OutputStream,
  ProtocolError,
  renderAtoms,
  serve,
  serveConnection,
  ServerError,
} from "./mod.ts";
import { HANDLERS, testData } from "./testdata/interop_handlers.ts";
import { turn, within } from "../_test_utils/wait.ts";

for (const encodings of [["identity"], ["zlib"], ["zstd-8mb"]]) {
  Deno.test(`client/server over TCP: interleaved calls, 100 KB data, errors (${encodings[0]})`, async () => {
    const fds = openFdCount();
    const server = serve({ hostname: "127.0.0.1", port: 0 }, {
      ...HANDLERS,
      async *slow(args) {
        for (let i = 0; i < 5; i++) {
          for (let t = 0; t < Number(args.get("turns")); t++) await turn();
          yield i;
        }
      },
    }, { outputStreams: 2 });
    const { port } = server.addr as Deno.NetAddr;
    const client = await connect({ port }, { contentEncodings: encodings });
    const data = testData(100_000);
    const slowA = Array.fromAsync(client.call("slow", { turns: 3 }));
    const slowB = Array.fromAsync(client.call("slow", { turns: 1 }));
    const digest = Array.fromAsync(client.call("digest", {}, { data }));
    const stream = Array.fromAsync(client.call("stream", { pieces: 16 }));
    assert.deepStrictEqual(client.inFlight, 4);
    assert.deepStrictEqual(await slowA, [0, 1, 2, 3, 4]);
    assert.deepStrictEqual(await slowB, [0, 1, 2, 3, 4]);
    const [d] = await digest as Map<string, CborValue>[];
    assert.deepStrictEqual(d!.get("size"), 100_000);
    const pieces = await stream as Uint8Array[];
    assert.deepStrictEqual(pieces.length, 16);
    assert.ok(
      pieces.every((p) => p.length === 65536 && p[1] === testData(2)[1]),
    );
    await assert.rejects(
      () => Array.fromAsync(client.call("cmderror")),
      (e) => e instanceof CommandError && e.message.includes("bad thing: oops"),
    );
    await assert.rejects(
      () => Array.fromAsync(client.call("servererror")),
      (e) => e instanceof ServerError && e.message.includes("server broke"),
    );
    assert.deepStrictEqual(
      await Array.fromAsync(client.call("many", { count: 3 })),
      [
        0,
        1,
        2,
      ],
    );
    await client.close();
    await server.close();
    assert.deepStrictEqual(openFdCount(), fds);
  });
}

Deno.test("client/server over a Unix socket", async () => {
  const fds = openFdCount();
  await using dir = await tempDir();
  const path = `${dir.path}/hgrpc.sock`;
  await using server = serve({ transport: "unix", path }, HANDLERS);
  await using client = await connect({ transport: "unix", path });
  const [echo] = await Array.fromAsync(
    client.call("echo", { a: 1 }, { data: Uint8Array.of(1, 2) }),
  );
  assert.deepStrictEqual(
    (echo as Map<string, CborValue>).get("data"),
    Uint8Array.of(1, 2),
  );
  await client.close();
  await server.close();
  assert.deepStrictEqual(openFdCount(), fds);
});

Deno.test("client: abort signals", async () => {
  const { client: c, server: s } = pair();
  const served = serveConnection(s, {
    async *forever(_args, ctx) {
      for (let i = 0; !ctx.signal.aborted && i < 50; i++) {
        await turn();
        yield i;
      }
    },
    *one() {
      yield 1;
    },
  });
  const client = new FramingClient(c);
  const reason = new Error("stop");
  await assert.rejects(
    () =>
      Array.fromAsync(
        client.call("one", {}, { signal: AbortSignal.abort(reason) }),
      ),
    (e) => e instanceof Error && e.message.includes("stop"),
  );
  const ac = new AbortController();
  const it = client.call("forever", {}, { signal: ac.signal });
  const first = await it.next();
  assert.deepStrictEqual(first.value, 0);
  ac.abort(reason);
  await assert.rejects(
    () => it.next(),
    (e) => e instanceof Error && e.message.includes("stop"),
  );
  // The connection is still usable.
  assert.deepStrictEqual(await Array.fromAsync(client.call("one")), [1]);
  await client.close();
  await served;
});

Deno.test("client/server: backpressure bounds what the server produces ahead of a slow reader", async () => {
  let produced = 0;
  const server = serve({ hostname: "127.0.0.1", port: 0 }, {
    *flood() {
      for (let i = 0; i < 4000; i++) {
        produced++;
        yield testData(8192);
      }
    },
  });
  const { port } = server.addr as Deno.NetAddr;
  const client = await connect({ port }, {
    contentEncodings: ["identity"],
    maxBufferedSize: 64 * 1024,
  });
  // A slow reader: one value per turn of the event loop. Without
  // backpressure the server would run ahead by nearly all 4000 values
  // (32 MiB); with it, by what the client's limit, the server's queue and
  // the socket buffers hold (a few MiB).
  let n = 0;
  let ahead = 0;
  for await (const _ of client.call("flood")) {
    n++;
    ahead = Math.max(ahead, produced - n);
    await turn();
  }
  assert.equal(n, 4000);
  assert.ok(ahead < 2500, `the server ran ${ahead} values ahead`);
  assert.ok(client.bufferedSize === 0);
  await client.close();
  await server.close();
});

Deno.test("server: protocol violations and limits close the connection with a typed error", async () => {
  const { client: c, server: s } = pair();
  const errors: ProtocolError[] = [];
  const served = serveConnection(s, HANDLERS, {
    maxCommandDataSize: 1000,
    onProtocolError: (e) => errors.push(e),
  });
  const client = new FramingClient(c);
  await assert.rejects(() =>
    Array.fromAsync(
      client.call("digest", {}, { data: new Uint8Array(5000) }),
    ), FramingError);
  await assert.rejects(served, (e) => e === errors[0]);
  assert.deepStrictEqual(errors.length, 1);
  assert.ok(errors[0]!.message.includes("exceeds the maximum of 1000 bytes"));
  assert.equal(errors[0]!.code, "LIMIT_EXCEEDED");
  await client.close();

  // A raw peer reusing an active request id.
  const p = pair();
  const errs: ProtocolError[] = [];
  const served2 = serveConnection(p.server, {
    async *wait(_args, ctx) {
      // Still running when the second request comes: until the abort.
      await new Promise((r) => ctx.signal.addEventListener("abort", r));
      yield 1;
    },
  }, { onProtocolError: (e) => errs.push(e) });
  const w = p.client.writable.getWriter();
  await w.write(
    encodeFrame(
      frameFromHumanString(
        "1 1 stream-begin command-request new cbor:{b'name': b'wait'}",
      ),
    ),
  );
  await w.write(
    encodeFrame(
      frameFromHumanString("1 1 0 command-request new cbor:{b'name': b'wait'}"),
    ),
  );
  const out = new Uint8Array(
    await new Response(p.client.readable).arrayBuffer(),
  );
  await assert.rejects(served2, (e) => e === errs[0]);
  assert.deepStrictEqual(
    errs[0]?.message,
    "request with ID 1 is already active",
  );
  // In-flight handlers see their signal aborted; nothing more is written.
  assert.deepStrictEqual(decodeFrames(out).length, 0);
  await w.close().catch(() => {});
});

Deno.test("server: deferred output over an in-memory channel", async () => {
  const { client: c, server: s } = pair();
  const served = serveConnection(s, HANDLERS, { deferOutput: true });
  const client = new FramingClient(c, {
    contentEncodings: ["zlib", "identity"],
  });
  const a = Array.fromAsync(client.call("many", { count: 3 }));
  const b = Array.fromAsync(client.call("echo", { x: "y" }));
  await client.closeWrite();
  assert.deepStrictEqual(await a, [0, 1, 2]);
  assert.deepStrictEqual(
    ((await b)[0] as Map<string, CborValue>).get("command"),
    new TextEncoder().encode("echo"),
  );
  await served;
  await client.close();
});

Deno.test("server: deferred output past maxDeferredSize parks handlers until input ends, in order", async () => {
  const { client: c, server: s } = pair();
  let written = 0;
  // What the server had done when its input ended.
  let atEof: { written: number; made: number[] } | null = null;
  const input = new TransformStream<Uint8Array, Uint8Array>({
    flush() {
      atEof = { written, made: [...made] };
    },
  });
  void s.readable.pipeTo(input.writable);
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctl) {
      written += chunk.length;
      ctl.enqueue(chunk);
    },
  });
  void tap.readable.pipeTo(s.writable);
  const made = [0, 0];
  // Incompressible, so the zstd encoder emits frames as it goes.
  const noise = (id: number, i: number): Uint8Array => {
    const out = new Uint8Array(10000);
    let x = id * 1000 + i + 1;
    for (let k = 0; k < out.length; k++) {
      x = (x * 1103515245 + 12345) >>> 0;
      out[k] = x >>> 24;
    }
    return out;
  };
  const served = serveConnection({
    readable: input.readable,
    writable: tap.writable,
  }, {
    async *blob(args) {
      const id = Number(args.get("id"));
      for (let i = 0; i < 20; i++) {
        made[id]!++;
        yield noise(id, i);
      }
    },
  }, { deferOutput: true, maxDeferredSize: 25000, maxConcurrentCommands: 1 });
  const client = new FramingClient(c, { contentEncodings: ["zstd-8mb"] });
  const a = Array.fromAsync(client.call("blob", { id: 0 }));
  const b = Array.fromAsync(client.call("blob", { id: 1 }));
  await client.closeWrite();
  // When the input ended: nothing sent; the first handler had stopped
  // early (parked: 25,000 bytes hold two objects); the second command
  // waited unstarted (its output would only park), and the read loop still
  // reached the end of input (no deadlock below).
  const eof = await Promise.all([a, b]).then(() => atEof!);
  assert.equal(eof.written, 0);
  assert.ok(eof.made[0]! < 20, `made ${eof.made}`);
  assert.equal(eof.made[1], 0);
  for (const [id, got] of [await a, await b].entries()) {
    assert.equal(got.length, 20);
    got.forEach((v, i) => assert.deepStrictEqual(v, noise(id, i)));
  }
  assert.deepStrictEqual(made, [20, 20]);
  await served;
  await client.close();
});

Deno.test("server: deferred output keeps parked frames ahead of writes made after the input ends (shared zstd context)", async () => {
  const up = new TransformStream<Uint8Array, Uint8Array>();
  const down = new TransformStream<Uint8Array, Uint8Array>();
  let eof = false;
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    flush() {
      eof = true;
    },
  });
  void up.readable.pipeTo(tap.writable);
  const noise = (seed: number, n: number): Uint8Array => {
    const out = new Uint8Array(n);
    let x = seed + 1;
    for (let k = 0; k < n; k++) {
      x = (x * 1103515245 + 12345) >>> 0;
      out[k] = x >>> 24;
    }
    return out;
  };
  const served = serveConnection({
    readable: tap.readable,
    writable: down.writable,
  }, {
    async *big() {
      for (let i = 0; i < 5; i++) yield noise(i, 10000);
    },
    // Spins on microtasks until the input ended, then writes at once: its
    // frames are made after the parked ones.
    async *late(args) {
      const k = Number(args.get("k"));
      while (!eof) await null;
      for (let i = 0; i < k; i++) await null;
      yield noise(1000 + k, 3000);
    },
  }, {
    deferOutput: true,
    maxDeferredSize: 15000,
    maxConcurrentCommands: 1000,
  });
  const client = new FramingClient({
    readable: down.readable,
    writable: up.writable,
  }, { contentEncodings: ["zstd-8mb"] });
  const calls = [Array.fromAsync(client.call("big"))];
  for (let k = 0; k < 60; k++) {
    calls.push(Array.fromAsync(client.call("late", { k })));
  }
  await client.closeWrite();
  const results = await Promise.all(calls);
  assert.deepStrictEqual(results[0]!.length, 5);
  results.slice(1).forEach((r, k) =>
    assert.deepStrictEqual(r, [noise(1000 + k, 3000)])
  );
  await client.close();
  await served;
});

Deno.test("server: with deferred output parked, later commands wait unstarted, so handlers stay bounded", async () => {
  const { client: c, server: s } = pair();
  let live = 0;
  let maxLive = 0;
  const served = serveConnection(s, {
    async *blob() {
      live++;
      maxLive = Math.max(maxLive, live);
      try {
        for (let i = 0; i < 4; i++) yield new Uint8Array(20000).fill(i + 1);
      } finally {
        live--;
      }
    },
  }, {
    deferOutput: true,
    maxDeferredSize: 65536,
    maxConcurrentCommands: 4,
  });
  const client = new FramingClient(c, { contentEncodings: ["identity"] });
  const calls = Array.from(
    { length: 300 },
    () => Array.fromAsync(client.call("blob")),
  );
  await client.closeWrite();
  const results = await Promise.all(calls);
  assert.deepStrictEqual(results.every((r) => r.length === 4), true);
  assert.deepStrictEqual(maxLive <= 4, true);
  await client.close();
  await served;
  await assert.rejects(
    () => serveConnection(pair().server, {}, { maxDeferredSize: -1 }),
    (e) => e instanceof RangeError && e.message.includes("maxDeferredSize"),
  );
});

Deno.test("client/server: one connection outlives 32768 calls (request ids wrap, the server frees them)", async () => {
  const { client: c, server: s } = pair();
  const served = serveConnection(s, {
    *inc(args) {
      yield Number(args.get("n")) + 1;
    },
  });
  const client = new FramingClient(c);
  let sum = 0;
  for (let done = 0; done < 33000; done += 500) {
    const got = await Promise.all(
      Array.from(
        { length: 500 },
        (_, i) => Array.fromAsync(client.call("inc", { n: done + i })),
      ),
    );
    for (const [v] of got) sum += v as number;
  }
  assert.deepStrictEqual(sum, (33000 * 33001) / 2);
  await client.close();
  await served;
});

Deno.test("client: a finished response still being read when its request id comes round again", async () => {
  const { client: c, server: s } = pair();
  const served = serveConnection(s, {
    *two() {
      yield 1;
      yield 2;
    },
    *inc(args) {
      yield Number(args.get("n")) + 1;
    },
  });
  const client = new FramingClient(c);
  // Request id 1: read one value, keep the rest for later.
  const slow = client.call("two");
  assert.deepStrictEqual((await slow.next()).value, 1);
  // Ids 3..65535; the next call gets id 1 again.
  for (let done = 0; done < 32767; done += 500) {
    const n = Math.min(500, 32767 - done);
    await Promise.all(
      Array.from(
        { length: n },
        (_, i) => Array.fromAsync(client.call("inc", { n: i })),
      ),
    );
  }
  const reused = client.call("inc", { n: 41 });
  const first = reused.next();
  assert.deepStrictEqual(await Array.fromAsync(slow), [2]);
  assert.deepStrictEqual(await within(first, "the reused id's first value"), {
    done: false,
    value: 42,
  });
  await client.close();
  await served;
});

Deno.test("client: breaking out of a finished call whose full queue paused the read loop", async () => {
  const { client: c, server: s } = pair();
  const served = serveConnection(s, {
    *three() {
      yield 1;
      yield 2;
      yield 3;
    },
    *one() {
      yield "ok";
    },
  });
  // zlib: the values and the end arrive in one frame, so the call is done
  // while its queue is full.
  const client = new FramingClient(c, {
    contentEncodings: ["zlib"],
    maxBufferedSize: 100,
  });
  for await (const v of client.call("three")) {
    assert.deepStrictEqual(v, 1);
    break;
  }
  const next = await within(
    Array.fromAsync(client.call("one")),
    "the next call",
  );
  assert.deepStrictEqual(next, [new TextEncoder().encode("ok")]);
  await client.close();
  await served;
});

Deno.test("server: requests spread over several output streams, each with its own encoder", async () => {
  const { client: c, server: s } = pair();
  const seen: Uint8Array[] = [];
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctl) {
      seen.push(chunk.slice());
      ctl.enqueue(chunk);
    },
  });
  const done = tap.readable.pipeTo(s.writable);
  const served = serveConnection(
    { readable: s.readable, writable: tap.writable },
    HANDLERS,
    { outputStreams: 3 },
  );
  const client = new FramingClient(c, { contentEncodings: ["zlib"] });
  const results = await Promise.all(
    Array.from(
      { length: 6 },
      (_, i) => Array.fromAsync(client.call("many", { count: i + 1 })),
    ),
  );
  assert.deepStrictEqual(results.map((r) => r.length), [1, 2, 3, 4, 5, 6]);
  await client.closeWrite();
  await served;
  await done;
  await client.close();
  const frames = decodeFrames(new Uint8Array(seen.flatMap((x) => [...x])));
  assert.deepStrictEqual([...new Set(frames.map((f) => f.streamId))].sort(), [
    2,
    4,
    6,
  ]);
  // One stream-settings frame per stream, each announcing zlib.
  assert.deepStrictEqual(
    frames.filter((f) => f.type === 9).map((f) => f.streamId).sort(),
    [2, 4, 6],
  );
});

Deno.test("server: at most maxConcurrentCommands handlers run at once", async () => {
  const { client: c, server: s } = pair();
  let running = 0;
  let peak = 0;
  const served = serveConnection(s, {
    async *work() {
      running++;
      peak = Math.max(peak, running);
      await turn();
      running--;
      yield 1;
    },
  }, { maxConcurrentCommands: 2 });
  const client = new FramingClient(c);
  const all = await Promise.all(
    Array.from({ length: 8 }, () => Array.fromAsync(client.call("work"))),
  );
  assert.deepStrictEqual(all.flat(), [1, 1, 1, 1, 1, 1, 1, 1]);
  assert.deepStrictEqual(peak, 2);
  await client.close();
  await served;
});

Deno.test("client/server over TCP: half-close, then read deferred responses", async () => {
  const fds = openFdCount();
  const server = serve({ hostname: "127.0.0.1", port: 0 }, HANDLERS, {
    deferOutput: true,
  });
  const client = await connect({ port: (server.addr as Deno.NetAddr).port });
  const a = Array.fromAsync(client.call("many", { count: 4 }));
  const b = Array.fromAsync(client.call("big", { size: 50_000 }));
  await client.closeWrite();
  assert.deepStrictEqual(await a, [0, 1, 2, 3]);
  assert.deepStrictEqual(((await b)[0] as Uint8Array).length, 50_000);
  await client.close();
  await server.close();
  assert.deepStrictEqual(openFdCount(), fds);
});

Deno.test("client: text-output and progress frames reach their callbacks", async () => {
  const { client: c, server: s } = pair();
  const texts: string[] = [];
  const progress: CborValue[] = [];
  const client = new FramingClient(c, {
    contentEncodings: null,
    onTextOutput: (rid, atoms) => texts.push(`${rid}:${renderAtoms(atoms)}`),
    onProgress: (_rid, p) => progress.push(p),
  });
  const it = client.call("x");
  const reader = s.readable.getReader();
  await reader.read(); // the request
  const out = new OutputStream(2);
  const w = s.writable.getWriter();
  await w.write(encodeFrames([
    createTextOutputFrame(out, 1, [{ msg: "hello %s", args: ["world"] }]),
    createProgressFrame(out, 1, { topic: "files", pos: 1, total: 2 }),
    frameFromHumanString(
      "1 2 0 command-response continuation cbor:{b'status': b'ok'}",
    ),
    frameFromHumanString("1 2 0 command-response eos cbor:7"),
  ]));
  assert.deepStrictEqual(await Array.fromAsync(it), [7]);
  assert.deepStrictEqual(texts, ["1:hello world"]);
  assert.deepStrictEqual(progress.length, 1);
  await w.close();
  reader.releaseLock();
  await client.close();
});

Deno.test("server: a handler that yields nothing still ends its response", async () => {
  const { client: c, server: s } = pair();
  const served = serveConnection(s, {
    *empty() {},
  });
  const client = new FramingClient(c);
  assert.deepStrictEqual(await Array.fromAsync(client.call("empty")), []);
  await client.close();
  await served;
});

Deno.test("server: fast-check random input ends the connection cleanly, errors typed", async () => {
  const prefix = encodeFrame(
    frameFromHumanString(
      "1 1 stream-begin command-request new cbor:{b'name': b'many', b'args': {b'count': 2}}",
    ),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 200 }),
      fc.boolean(),
      async (bytes, withPrefix) => {
        const input = withPrefix
          ? new Uint8Array([...prefix, ...bytes])
          : bytes;
        const errors: unknown[] = [];
        const outcome = await serveConnection(
          {
            readable: ReadableStream.from([input]),
            writable: new WritableStream(),
          },
          HANDLERS,
          { onProtocolError: (e) => errors.push(e) },
        ).then(() => null, (e: unknown) => e);
        // Either served, or ended by the one protocol error reported.
        if (outcome === null) assert.deepStrictEqual(errors, []);
        else {
          assert.ok(outcome instanceof ProtocolError, String(outcome));
          assert.deepStrictEqual(errors, [outcome]);
        }
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("server: an endless sync generator stops once the client is gone", async () => {
  const { client, server } = pair();
  let stopped!: () => void;
  const finished = new Promise<void>((r) => stopped = r);
  const served = serveConnection(server, {
    *forever() {
      try {
        for (let i = 0;; i++) yield i;
      } finally {
        stopped();
      }
    },
  });
  const c = new FramingClient(client, { maxBufferedSize: 1024 });
  const got: CborValue[] = [];
  for await (const v of c.call("forever")) {
    got.push(v);
    if (got.length === 3) break;
  }
  await c.close();
  await finished;
  // The responses it was still making could not all be written.
  await served.catch((e) => assert.equal(e.code, "CONNECTION_CLOSED"));
  assert.deepStrictEqual(got, [0, 1, 2]);
});

Deno.test("client: close() gives up on request bytes a peer never reads", async () => {
  // A raw TCP peer that accepts and never reads.
  using server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = server.accept();
  const client = await connect({ port: server.addr.port }, {
    closeTimeout: 200,
  });
  const peer = await accepted;
  try {
    const call = Array.fromAsync(
      client.call("big", {}, { data: new Uint8Array(32 * 1024 * 1024) }),
    ).then(() => "answered", (e) => e);
    await client.close();
    assert.ok((await call) instanceof FramingError);
    assert.deepStrictEqual(client.inFlight, 0);
  } finally {
    peer.close();
  }
});

Deno.test("client: a negative or NaN closeTimeout is refused", () => {
  const t = new TransformStream<Uint8Array, Uint8Array>();
  for (const closeTimeout of [-1, NaN]) {
    assert.throws(
      () =>
        new FramingClient({ readable: t.readable, writable: t.writable }, {
          closeTimeout,
        }),
      (e) => e instanceof RangeError && e.message.includes("closeTimeout"),
    );
  }
});
