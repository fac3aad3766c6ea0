// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Client and server over TCP, Unix sockets and in-memory channels.
import fc from "fast-check";
import {
  assertEquals,
  assertOk,
  assertRejects,
  assertThrows,
} from "../_test_utils/assert.ts";
import { openFdCount, tempDir } from "../_test_utils/peers.ts";
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
  type ProtocolError,
  renderAtoms,
  serve,
  serveConnection,
  ServerError,
} from "./mod.ts";
import { HANDLERS, testData } from "./testdata/interop_handlers.ts";

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

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

for (const encodings of [["identity"], ["zlib"], ["zstd-8mb"]]) {
  Deno.test(`client/server over TCP: interleaved calls, 100 KB data, errors (${encodings[0]})`, async () => {
    const fds = openFdCount();
    const server = serve({ hostname: "127.0.0.1", port: 0 }, {
      ...HANDLERS,
      async *slow(args) {
        for (let i = 0; i < 5; i++) {
          await delay(Number(args.get("ms")));
          yield i;
        }
      },
    }, { outputStreams: 2 });
    const { port } = server.addr as Deno.NetAddr;
    const client = await connect({ port }, { contentEncodings: encodings });
    const data = testData(100_000);
    const slowA = Array.fromAsync(client.call("slow", { ms: 3 }));
    const slowB = Array.fromAsync(client.call("slow", { ms: 1 }));
    const digest = Array.fromAsync(client.call("digest", {}, { data }));
    const stream = Array.fromAsync(client.call("stream", { pieces: 16 }));
    assertEquals(client.inFlight, 4);
    assertEquals(await slowA, [0, 1, 2, 3, 4]);
    assertEquals(await slowB, [0, 1, 2, 3, 4]);
    const [d] = await digest as Map<string, CborValue>[];
    assertEquals(d!.get("size"), 100_000);
    const pieces = await stream as Uint8Array[];
    assertEquals(pieces.length, 16);
    assertOk(
      pieces.every((p) => p.length === 65536 && p[1] === testData(2)[1]),
    );
    await assertRejects(
      () => Array.fromAsync(client.call("cmderror")),
      CommandError,
      "bad thing: oops",
    );
    await assertRejects(
      () => Array.fromAsync(client.call("servererror")),
      ServerError,
      "server broke",
    );
    assertEquals(await Array.fromAsync(client.call("many", { count: 3 })), [
      0,
      1,
      2,
    ]);
    await client.close();
    await server.close();
    assertEquals(openFdCount(), fds);
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
  assertEquals(
    (echo as Map<string, CborValue>).get("data"),
    Uint8Array.of(1, 2),
  );
  await client.close();
  await server.close();
  assertEquals(openFdCount(), fds);
});

Deno.test("client: abort signals", async () => {
  const { client: c, server: s } = pair();
  const served = serveConnection(s, {
    async *forever(_args, ctx) {
      for (let i = 0; !ctx.signal.aborted && i < 50; i++) {
        await delay(1);
        yield i;
      }
    },
    *one() {
      yield 1;
    },
  });
  const client = new FramingClient(c);
  const reason = new Error("stop");
  await assertRejects(
    () =>
      Array.fromAsync(
        client.call("one", {}, { signal: AbortSignal.abort(reason) }),
      ),
    Error,
    "stop",
  );
  const ac = new AbortController();
  const it = client.call("forever", {}, { signal: ac.signal });
  const first = await it.next();
  assertEquals(first.value, 0);
  ac.abort(reason);
  await assertRejects(() => it.next(), Error, "stop");
  // The connection is still usable.
  assertEquals(await Array.fromAsync(client.call("one")), [1]);
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
    maxQueuedValues: 4,
  });
  const it = client.call("flood");
  await it.next();
  await delay(200);
  // 4000 x 8 KiB = 32 MiB: far more than socket buffers and our queue hold.
  assertOk(produced < 4000, `produced ${produced}`);
  let n = 1;
  for await (const _ of it) n++;
  assertEquals(n, 4000);
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
  await assertRejects(
    () =>
      Array.fromAsync(
        client.call("digest", {}, { data: new Uint8Array(5000) }),
      ),
    FramingError,
  );
  await served;
  assertEquals(errors.length, 1);
  assertOk(errors[0]!.message.includes("exceeds the maximum of 1000 bytes"));
  await client.close();

  // A raw peer reusing an active request id.
  const p = pair();
  const errs: ProtocolError[] = [];
  const served2 = serveConnection(p.server, {
    async *wait() {
      await delay(20);
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
  await served2;
  assertEquals(errs[0]?.message, "request with ID 1 is already active");
  // In-flight handlers see their signal aborted; nothing more is written.
  assertEquals(decodeFrames(out).length, 0);
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
  assertEquals(await a, [0, 1, 2]);
  assertEquals(
    ((await b)[0] as Map<string, CborValue>).get("command"),
    new TextEncoder().encode("echo"),
  );
  await served;
  await client.close();
});

Deno.test("server: deferred output past maxDeferredBytes parks handlers until input ends, in order", async () => {
  const { client: c, server: s } = pair();
  let written = 0;
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
    readable: s.readable,
    writable: tap.writable,
  }, {
    async *blob(args) {
      const id = Number(args.get("id"));
      for (let i = 0; i < 20; i++) {
        made[id]!++;
        yield noise(id, i);
      }
    },
  }, { deferOutput: true, maxDeferredBytes: 25000, maxConcurrentCommands: 1 });
  const client = new FramingClient(c, { contentEncodings: ["zstd-8mb"] });
  const a = Array.fromAsync(client.call("blob", { id: 0 }));
  const b = Array.fromAsync(client.call("blob", { id: 1 }));
  await delay(50);
  // Nothing sent before the input ends; the first handler stopped early;
  // the second command waits unstarted (its output would only park), and
  // the read loop still reached the end of input (no deadlock below).
  assertEquals(written, 0);
  assertEquals(made[0]! < 20, true);
  assertEquals(made[1], 0);
  await client.closeWrite();
  for (const [id, got] of [await a, await b].entries()) {
    assertEquals(got.length, 20);
    got.forEach((v, i) => assertEquals(v, noise(id, i)));
  }
  assertEquals(made, [20, 20]);
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
    maxDeferredBytes: 15000,
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
  assertEquals(results[0]!.length, 5);
  results.slice(1).forEach((r, k) => assertEquals(r, [noise(1000 + k, 3000)]));
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
    maxDeferredBytes: 65536,
    maxConcurrentCommands: 4,
  });
  const client = new FramingClient(c, { contentEncodings: ["identity"] });
  const calls = Array.from(
    { length: 300 },
    () => Array.fromAsync(client.call("blob")),
  );
  await delay(100);
  assertEquals(maxLive <= 4, true);
  await client.closeWrite();
  const results = await Promise.all(calls);
  assertEquals(results.every((r) => r.length === 4), true);
  assertEquals(maxLive <= 4, true);
  await client.close();
  await served;
  await assertRejects(
    () => serveConnection(pair().server, {}, { maxDeferredBytes: -1 }),
    RangeError,
    "maxDeferredBytes",
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
  assertEquals(sum, (33000 * 33001) / 2);
  await client.close();
  await served;
});

/** Resolves to "hung" if `p` takes more than 2 s (a hang guard, not a timing check). */
function orHung<T>(p: Promise<T>): Promise<T | "hung"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<"hung">((r) => timer = setTimeout(() => r("hung"), 2000)),
  ]).finally(() => clearTimeout(timer));
}

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
  assertEquals((await slow.next()).value, 1);
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
  assertEquals(await Array.fromAsync(slow), [2]);
  assertEquals(await orHung(first), { done: false, value: 42 });
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
    maxQueuedValues: 2,
  });
  for await (const v of client.call("three")) {
    assertEquals(v, 1);
    break;
  }
  const next = await orHung(Array.fromAsync(client.call("one")));
  assertEquals(next, [new TextEncoder().encode("ok")]);
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
  assertEquals(results.map((r) => r.length), [1, 2, 3, 4, 5, 6]);
  await client.closeWrite();
  await served;
  await done;
  await client.close();
  const frames = decodeFrames(new Uint8Array(seen.flatMap((x) => [...x])));
  assertEquals([...new Set(frames.map((f) => f.streamId))].sort(), [2, 4, 6]);
  // One stream-settings frame per stream, each announcing zlib.
  assertEquals(
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
      await delay(2);
      running--;
      yield 1;
    },
  }, { maxConcurrentCommands: 2 });
  const client = new FramingClient(c);
  const all = await Promise.all(
    Array.from({ length: 8 }, () => Array.fromAsync(client.call("work"))),
  );
  assertEquals(all.flat(), [1, 1, 1, 1, 1, 1, 1, 1]);
  assertEquals(peak, 2);
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
  assertEquals(await a, [0, 1, 2, 3]);
  assertEquals(((await b)[0] as Uint8Array).length, 50_000);
  await client.close();
  await server.close();
  assertEquals(openFdCount(), fds);
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
  assertEquals(await Array.fromAsync(it), [7]);
  assertEquals(texts, ["1:hello world"]);
  assertEquals(progress.length, 1);
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
  assertEquals(await Array.fromAsync(client.call("empty")), []);
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
        await serveConnection(
          {
            readable: ReadableStream.from([input]),
            writable: new WritableStream(),
          },
          HANDLERS,
          { onProtocolError: (e) => errors.push(e) },
        );
        for (const e of errors) assertOk(e instanceof FramingError);
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
  const c = new FramingClient(client, { maxQueuedValues: 4 });
  const got: CborValue[] = [];
  for await (const v of c.call("forever")) {
    got.push(v);
    if (got.length === 3) break;
  }
  await c.close();
  await finished;
  await served;
  assertEquals(got, [0, 1, 2]);
});

Deno.test("server: a failed read aborts the handlers' signal", async () => {
  let input!: ReadableStreamDefaultController<Uint8Array>;
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      input = c;
    },
  });
  let reason: unknown;
  const served = serveConnection(
    { readable, writable: new WritableStream() },
    {
      async *wait(_args, ctx) {
        reason = await new Promise((resolve) =>
          ctx.signal.addEventListener(
            "abort",
            () => resolve(ctx.signal.reason),
          )
        );
        yield 1;
      },
    },
  );
  input.enqueue(encodeFrames([
    frameFromHumanString(
      "1 1 stream-begin command-request new cbor:{b'name': b'wait'}",
    ),
  ]));
  await delay(0);
  input.error(new Error("connection reset"));
  await served;
  assertOk(reason instanceof FramingError);
  assertEquals(
    (reason as FramingError).message,
    "Cannot read request: the connection failed",
  );
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
    assertOk((await call) instanceof FramingError);
    assertEquals(client.inFlight, 0);
  } finally {
    peer.close();
  }
});

Deno.test("client: a negative or NaN closeTimeout is refused", () => {
  const t = new TransformStream<Uint8Array, Uint8Array>();
  for (const closeTimeout of [-1, NaN]) {
    assertThrows(
      () =>
        new FramingClient({ readable: t.readable, writable: t.writable }, {
          closeTimeout,
        }),
      RangeError,
      "closeTimeout",
    );
  }
});
