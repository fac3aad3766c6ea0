// Copyright 2026 the @sidecar/ipc authors. MIT license.
import {
  assertEquals,
  assertOk,
  assertRejects,
  assertThrows,
  fromHex,
} from "../_test_utils/assert.ts";
import fc from "fast-check";
import {
  ownUnixSockets,
  unixSocketPair,
} from "../_test_utils/connection_sockets.ts";
import { concatBytes, splitAt } from "../_test_utils/chunks.ts";
import { bytesCodec, type MessageCodec } from "./codec.ts";
import { Connection } from "./connection.ts";
import { pipe } from "./pipe.ts";
import {
  BufferTooShort,
  ConnectionError,
  EOFError,
  ProtocolError,
} from "./errors.ts";
import { encodeMessage, MessageDecoder } from "./message_codec.ts";

const enc = new TextEncoder();

/** A scripted Deno.Conn stand-in: reads come from `feed()`, writes are recorded. */
class FakeConn {
  #inbox: (Uint8Array | null | Error)[] = [];
  #wake: (() => void) | null = null;
  writes: Uint8Array[] = [];
  gate: Promise<void> = Promise.resolve();
  closed = false;
  reads = 0;

  feed(...items: (Uint8Array | null | Error)[]): void {
    this.#inbox.push(...items);
    this.#wake?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    while (this.#inbox.length === 0) {
      if (this.closed) throw new Deno.errors.BadResource("closed");
      await new Promise<void>((r) => this.#wake = r);
      this.#wake = null;
    }
    if (this.closed) throw new Deno.errors.BadResource("closed");
    const item = this.#inbox.shift()!;
    if (item === null) return null;
    if (item instanceof Error) throw item;
    const n = Math.min(p.length, item.length);
    p.set(item.subarray(0, n));
    if (n < item.length) this.#inbox.unshift(item.subarray(n));
    return n;
  }

  async write(p: Uint8Array): Promise<number> {
    this.writes.push(p.slice());
    await this.gate;
    return p.length;
  }

  close(): void {
    this.closed = true;
    this.#wake?.();
  }

  written(): Uint8Array {
    return concatBytes(this.writes);
  }
}

function fake(): [Connection<Uint8Array>, FakeConn] {
  const f = new FakeConn();
  return [new Connection<Uint8Array>(f as unknown as Deno.Conn), f];
}

function decodeAll(bytes: Uint8Array): Uint8Array[] {
  const d = new MessageDecoder();
  const out = d.push(bytes).map((m) => m.slice());
  d.finish();
  return out;
}

const turns = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0));
};

Deno.test("Connection.sendBytes() follows CPython's offset and size rules", async () => {
  const [a, b] = pipe();
  const buf = enc.encode("abcdefghijklmnopqrstuvwxyz");
  await a.sendBytes(buf);
  await a.sendBytes(buf, 5);
  await a.sendBytes(buf, 7, 10);
  await a.sendBytes(buf, 26);
  await a.sendBytes(buf, 26, 0);
  assertEquals(await b.recvBytes(), buf);
  assertEquals(await b.recvBytes(), buf.subarray(5));
  assertEquals(await b.recvBytes(), buf.subarray(7, 17));
  assertEquals(await b.recvBytes(), new Uint8Array(0));
  assertEquals(await b.recvBytes(), new Uint8Array(0));
  for (
    const args of [[27], [22, 5], [26, 1], [-1], [4, -1], [1.5]] as [
      number,
      number?,
    ][]
  ) {
    await assertRejects(() => a.sendBytes(buf, ...args), RangeError);
  }
  await assertRejects(
    () => a.sendBytes("x" as unknown as Uint8Array),
    TypeError,
  );
  // Any view is sent as its raw bytes; offsets are in bytes.
  const ints = new Int32Array([1, 2]);
  await a.sendBytes(ints);
  await a.sendBytes(ints, 4);
  await a.sendBytes(ints.buffer);
  const native = new Uint8Array(ints.buffer);
  assertEquals(await b.recvBytes(), native);
  assertEquals(await b.recvBytes(), native.subarray(4));
  assertEquals(await b.recvBytes(), native);
  await a.close();
  await b.close();
});

Deno.test("Connection.recvBytesInto() fills at byte offsets and throws BufferTooShort with the whole message", async () => {
  const [a, b] = pipe();
  await a.sendBytes(new Int32Array([0, 1, 2, 3]));
  const arr = new Int32Array(10);
  assertEquals(await b.recvBytesInto(arr), 16);
  assertEquals([...arr.subarray(0, 5)], [0, 1, 2, 3, 0]);
  await a.sendBytes(new Int32Array([0, 1, 2, 3]));
  const arr2 = new Int32Array(10);
  assertEquals(await b.recvBytesInto(arr2, 3 * 4), 16);
  assertEquals([...arr2], [0, 0, 0, 0, 1, 2, 3, 0, 0, 0]);
  // Argument checks run before reading: the message stays queued.
  const small = new Uint8Array(40);
  await a.sendBytes(new Uint8Array(110).fill(7));
  await a.sendBytes(enc.encode("next"));
  await assertRejects(() => b.recvBytesInto(small, -1), RangeError);
  await assertRejects(() => b.recvBytesInto(small, 41), RangeError);
  const err = await assertRejects(() => b.recvBytesInto(small), BufferTooShort);
  assertEquals(err.bytes, new Uint8Array(110).fill(7));
  // The message was consumed.
  assertEquals(await b.recvBytes(), enc.encode("next"));
  await a.sendBytes(new Uint8Array(1));
  await assertRejects(() => b.recvBytesInto(small, 40), BufferTooShort);
  await a.sendBytes(new Uint8Array(0));
  assertEquals(await b.recvBytesInto(small, 40), 0);
  await a.close();
  await b.close();
});

Deno.test("Connection.recvBytes(maxLength) accepts equal, refuses longer and becomes write-only", async () => {
  const [a, b] = pipe();
  await a.sendBytes(new Uint8Array(5));
  assertEquals((await b.recvBytes(5)).length, 5);
  await assertRejects(() => b.recvBytes(-1), RangeError);
  await a.sendBytes(new Uint8Array(6));
  await assertRejects(
    () => b.recvBytes(5),
    ProtocolError,
    "exceeds the maximum of 5",
  );
  await assertRejects(() => b.recvBytes(), ConnectionError, "write-only");
  await assertRejects(() => b.poll(), ConnectionError, "write-only");
  await b.sendBytes(enc.encode("still writable"));
  assertEquals(await a.recvBytes(), enc.encode("still writable"));
  await a.close();
  await b.close();
});

Deno.test("Connection maxMessageSize bounds recv(), recvBytes() and recvBytesInto()", async () => {
  const [a, b] = pipe({ maxMessageSize: 3 });
  await a.sendBytes(new Uint8Array(4));
  await assertRejects(() => b.recv(), ProtocolError);
  await a.close();
  await b.close();
});

Deno.test("Connection refuses negative or NaN sizes (a NaN writeHighWaterMark made every large send wait forever)", () => {
  const pair = (): ReadableWritablePair<Uint8Array, Uint8Array> =>
    new TransformStream<Uint8Array, Uint8Array>();
  for (
    const options of [
      { writeHighWaterMark: NaN },
      { writeHighWaterMark: -1 },
      { maxMessageSize: NaN },
      { maxMessageSize: -1 },
    ]
  ) {
    const name = Object.keys(options)[0]!;
    assertThrows(
      () => new Connection(pair(), options),
      RangeError,
      `Cannot create connection: invalid ${name}`,
    );
  }
});

Deno.test("Connection end-of-file rules match CPython, stricter on truncation", async (t) => {
  await t.step(
    "clean close at a boundary: EOFError, again and again",
    async () => {
      const [c, f] = fake();
      f.feed(fromHex("00000001ff"), null);
      assertEquals(await c.recvBytes(), fromHex("ff"));
      await assertRejects(() => c.recvBytes(), EOFError);
      await assertRejects(() => c.recvBytes(), EOFError);
      await c.close();
    },
  );
  for (
    const [name, bytes] of [
      ["1 header byte", "00"],
      ["3 header bytes", "000000"],
      [
        "a complete header only",
        "00000004",
      ],
      ["part of the payload", "00000004aabb"],
      ["part of an extended header", "ffffffff0000"],
    ]
  ) {
    await t.step(`EOF after ${name}: ProtocolError`, async () => {
      const [c, f] = fake();
      f.feed(fromHex(bytes!), null);
      await assertRejects(() => c.recvBytes(), ProtocolError, "closed");
      await c.close();
    });
  }
  await t.step(
    "a zero-length header then EOF is a complete message",
    async () => {
      const [c, f] = fake();
      f.feed(fromHex("00000000"), null);
      assertEquals(await c.recvBytes(), new Uint8Array(0));
      await assertRejects(() => c.recvBytes(), EOFError);
      await c.close();
    },
  );
  await t.step("ECONNRESET is a clean close", async () => {
    const [c, f] = fake();
    f.feed(new Deno.errors.ConnectionReset("reset"));
    await assertRejects(() => c.recvBytes(), EOFError);
    await c.close();
  });
  await t.step(
    "a negative length other than -1 is a ProtocolError",
    async () => {
      const [c, f] = fake();
      f.feed(fromHex("fffffffe00000001"));
      await assertRejects(
        () => c.recvBytes(),
        ProtocolError,
        "negative length -2",
      );
      await c.close();
    },
  );
  await t.step(
    "another transport error is a ConnectionError carrying it",
    async () => {
      const [c, f] = fake();
      const cause = new Error("boom");
      f.feed(cause);
      const err = await assertRejects(() => c.recvBytes(), ConnectionError);
      assertEquals(err.cause, cause);
      await c.close();
    },
  );
});

Deno.test("Connection reads large payloads spread over many reads, keeping what follows", async () => {
  const [c, f] = fake();
  const big = new Uint8Array(300_000).map((_, i) => i & 0xff);
  const stream = concatBytes([
    encodeMessage(big),
    encodeMessage(enc.encode("after")),
    encodeMessage(big),
  ]);
  for (let i = 0; i < stream.length; i += 7777) {
    f.feed(stream.subarray(i, i + 7777));
  }
  assertEquals(await c.recvBytes(), big);
  assertEquals(await c.recvBytes(), enc.encode("after"));
  assertEquals(await c.recvBytes(), big);
  await c.close();
});

Deno.test("Connection.poll() sees bytes or EOF without consuming them", async () => {
  const [c, f] = fake();
  assertEquals(await c.poll(), false);
  assertEquals(await c.poll(-1), false);
  f.feed(fromHex("0000"));
  assertEquals(await c.poll(50), true); // only half a header buffered
  f.feed(fromHex("0001aa"));
  assertEquals(await c.poll(), true);
  assertEquals(await c.recvBytes(), fromHex("aa"));
  f.feed(null);
  assertEquals(await c.poll(Infinity), true);
  await assertRejects(() => c.recvBytes(), EOFError);
  await c.close();
  await assertRejects(() => c.poll(), ConnectionError, "closed");
});

Deno.test("Connection.poll() waits out timeouts longer than setTimeout's 2^31 - 1 ms", async () => {
  const [c, f] = fake();
  // setTimeout runs a longer delay at once: poll() answered false at once.
  const polled = c.poll(2 ** 31);
  // A 5 ms timer set later fires later than a 1 ms one set now would.
  await new Promise((r) => setTimeout(r, 5));
  f.feed(fromHex("00"));
  assertEquals(await polled, true);
  await c.close();
});

Deno.test("Connection keeps messages of aborted receives for the next receive", async () => {
  const [c, f] = fake();
  const aborted = AbortSignal.abort(new Error("already"));
  await assertRejects(
    () => c.recvBytes(undefined, { signal: aborted }),
    Error,
    "already",
  );
  const ac = new AbortController();
  const p = c.recvBytes(undefined, { signal: ac.signal });
  f.feed(fromHex("00000003aa")); // half a message
  await turns();
  ac.abort(new Error("stop"));
  await assertRejects(() => p, Error, "stop");
  f.feed(fromHex("bbcc00000001dd"));
  assertEquals(await c.recvBytes(), fromHex("aabbcc"));
  assertEquals(await c.recvBytes(), fromHex("dd"));
  // Queued receives are served in call order.
  const r1 = c.recvBytes();
  const r2 = c.recvBytes();
  const ac2 = new AbortController();
  const r3 = c.recvBytes(undefined, { signal: ac2.signal });
  const r4 = c.recvBytes();
  ac2.abort(new Error("skip"));
  f.feed(
    encodeMessage(fromHex("01")),
    encodeMessage(fromHex("02")),
    encodeMessage(fromHex("03")),
  );
  assertEquals(await Promise.all([r1, r2, r4]), [
    fromHex("01"),
    fromHex("02"),
    fromHex("03"),
  ]);
  await assertRejects(() => r3, Error, "skip");
  await c.close();
});

Deno.test("Connection gathers queued small messages into few writes", async () => {
  const [c, f] = fake();
  let release!: () => void;
  f.gate = new Promise((r) => release = r);
  const messages = Array.from(
    { length: 1000 },
    (_, i) => enc.encode(`message ${i}`),
  );
  for (const m of messages) await c.sendBytes(m);
  release();
  await c.close();
  assertOk(f.writes.length <= 3, `${f.writes.length} writes for 1000 messages`);
  assertEquals(decodeAll(f.written()), messages);
});

Deno.test("Connection applies backpressure past writeHighWaterMark", async () => {
  const f = new FakeConn();
  const c = new Connection(f as unknown as Deno.Conn, {
    writeHighWaterMark: 100,
  });
  let release!: () => void;
  f.gate = new Promise((r) => release = r);
  await c.sendBytes(new Uint8Array(50)); // written at once (in flight)
  await c.sendBytes(new Uint8Array(40)); // 98 bytes queued or in flight
  let accepted = false;
  const p = c.sendBytes(new Uint8Array(60)).then(() => accepted = true); // 162 > 100
  await turns();
  assertEquals(accepted, false);
  release();
  await p;
  assertEquals(accepted, true);
  // A large payload resolves only once written from the caller's buffer.
  f.gate = new Promise((r) => release = r);
  let written = false;
  const big = c.sendBytes(new Uint8Array(100_000)).then(() => written = true);
  await turns();
  assertEquals(written, false);
  release();
  await big;
  await c.close();
  assertEquals(decodeAll(f.written()).map((m) => m.length), [
    50,
    40,
    60,
    100_000,
  ]);
});

Deno.test("Connection.close() flushes, is idempotent, and fails pending and later calls", async () => {
  const [c, f] = fake();
  let release!: () => void;
  f.gate = new Promise((r) => release = r);
  await c.sendBytes(enc.encode("one"));
  await c.sendBytes(enc.encode("two"));
  const pendingRecv = c.recvBytes();
  const closing = c.close();
  assertEquals(c.closed, true);
  await assertRejects(
    () => c.sendBytes(enc.encode("late")),
    ConnectionError,
    "closed",
  );
  release();
  await closing;
  await c.close();
  assertEquals(f.closed, true);
  assertEquals(decodeAll(f.written()), [enc.encode("one"), enc.encode("two")]);
  await assertRejects(() => pendingRecv, ConnectionError, "closed");
  await assertRejects(() => c.recvBytes(), ConnectionError, "closed");
});

Deno.test("Connection reports a failed write on later sends", async () => {
  const f = new FakeConn();
  f.write = () => Promise.reject(new Deno.errors.BrokenPipe("gone"));
  const c = new Connection(f as unknown as Deno.Conn);
  await c.sendBytes(new Uint8Array(1));
  await turns();
  await assertRejects(
    () => c.sendBytes(new Uint8Array(1)),
    ConnectionError,
    "transport failed",
  );
  await assertRejects(
    () => c.sendBytes(new Uint8Array(100_000)),
    ConnectionError,
  );
  await c.close();
});

Deno.test("Connection rejects a large send whose payload write fails", async () => {
  const f = new FakeConn();
  let writes = 0;
  // The header goes out, the payload write (in flight) fails.
  f.write = (p: Uint8Array) =>
    ++writes === 1
      ? Promise.resolve(p.length)
      : Promise.reject(new Deno.errors.BrokenPipe("gone"));
  const c = new Connection(f as unknown as Deno.Conn);
  await assertRejects(
    () => c.sendBytes(new Uint8Array(100_000)),
    ConnectionError,
    "transport failed",
  );
  assertEquals(writes, 2);
  await c.close();
});

Deno.test("Connection send()/recv() use the codec; bytes methods do not", async () => {
  const text: MessageCodec<string> = {
    encode: (s) => enc.encode(s),
    decode: (b) => new TextDecoder().decode(b),
  };
  const [a, b] = pipe({ codec: text });
  await a.send("héllo");
  assertEquals(await b.recvBytes(), enc.encode("héllo"));
  await a.sendBytes(enc.encode("raw"));
  assertEquals(await b.recv(), "raw");
  const bad: MessageCodec<string> = {
    encode: () => {
      throw new TypeError("nope");
    },
    decode: () => "",
  };
  const [x, y] = pipe({ codec: bad });
  await assertRejects(() => x.send("v"), TypeError, "nope");
  for (const c of [a, b, x, y]) await c.close();
});

Deno.test("Connection streams and async iteration end at a clean close", async () => {
  const [a, b] = pipe({ codec: bytesCodec });
  const writer = a.writable.getWriter();
  for (const m of [[1], [], [2, 3]]) await writer.write(new Uint8Array(m));
  await writer.close();
  assertEquals(await Array.fromAsync(b.readable), [
    new Uint8Array([1]),
    new Uint8Array([]),
    new Uint8Array([2, 3]),
  ]);
  await b.close();
  const [c, d] = pipe({ codec: bytesCodec });
  await c.sendBytes(fromHex("00000001")); // a payload that looks like a header
  await c.close();
  const got: unknown[] = [];
  for await (const m of d) got.push(m);
  assertEquals(got, [fromHex("00000001")]);
  await d.close();
  const [e, g] = pipe({ codec: bytesCodec });
  await e.sendBytes(fromHex("01"));
  const reader = g.readable.getReader();
  assertEquals((await reader.read()).value, fromHex("01"));
  await reader.cancel();
  assertEquals(g.closed, true);
  await e.close();
});

Deno.test("Connection refuses something that is not a transport", () => {
  let threw = false;
  try {
    new Connection({} as unknown as Deno.Conn);
  } catch (e) {
    threw = e instanceof TypeError;
  }
  assertOk(threw);
});

Deno.test("Connection over a Unix socket pair round-trips 0 B to 16 MiB without leaking sockets", async () => {
  const { tempDir } = await import("../_test_utils/peers.ts");
  let dirPath = "";
  {
    await using dir = await tempDir();
    dirPath = dir.path;
    const [rawA, rawB] = await unixSocketPair(dir.path);
    await using a = new Connection(rawA);
    await using b = new Connection(rawB);
    for (const size of [0, 1, 64 * 1024, 16 * 1024 * 1024]) {
      const msg = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
      const [, got] = await Promise.all([a.sendBytes(msg), b.recvBytes()]);
      assertEquals(got.length, size);
      assertOk(got.every((v, i) => v === ((i * 31) & 0xff)));
    }
  }
  assertEquals(ownUnixSockets(dirPath), []);
});

Deno.test("Connection send()/recv() pickle by default (protocol 4, as CPython 3.8-3.13)", async () => {
  const [a, b] = pipe();
  await a.send(null);
  // Python's conn.send(None) writes exactly these payload bytes.
  assertEquals(await b.recvBytes(), fromHex("80044e2e"));
  await a.send({ id: 7, tags: ["x", "y"] });
  assertEquals(await b.recv(), { id: 7, tags: ["x", "y"] });
  await a.close();
  await b.close();
});

Deno.test("Connection receives any messages through any re-chunking of the stream (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.integer({ min: 30_000, max: 140_000 }).map((n) =>
            new Uint8Array(n).map((_, i) => i * 13)
          ),
        ),
        { maxLength: 12 },
      ),
      fc.array(fc.nat(400_000), { maxLength: 40 }),
      fc.array(fc.boolean(), { maxLength: 12 }),
      async (messages, cuts, into) => {
        const [c, f] = fake();
        f.feed(
          ...splitAt(concatBytes(messages.map((m) => encodeMessage(m))), cuts),
          null,
        );
        const got: Uint8Array[] = [];
        for (let i = 0; i < messages.length; i++) {
          if (into[i] === true) {
            const buf = new Uint8Array(150_000);
            const n = await c.recvBytesInto(buf, 3);
            got.push(buf.slice(3, 3 + n));
          } else {
            got.push(await c.recvBytes());
          }
        }
        assertEquals(got, messages);
        await assertRejects(() => c.recvBytes(), EOFError);
        await c.close();
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("Connection.poll(Infinity) during a large receive waits for data of its own", async () => {
  const [c, f] = fake();
  const big = new Uint8Array(200_000).map((_, i) => i * 3);
  const frame = encodeMessage(big);
  f.feed(frame.subarray(0, 70_000));
  const receiving = c.recvBytes();
  await turns();
  let answer: boolean | undefined;
  const polled = c.poll(Infinity).then((r) => answer = r);
  for (let i = 70_000; i < frame.length; i += 20_000) {
    f.feed(frame.subarray(i, i + 20_000));
    await turns(1);
  }
  assertEquals(await receiving, big);
  await turns();
  // It answered false as soon as the large receive read a chunk.
  assertEquals(answer, undefined);
  f.feed(fromHex("00"));
  await polled;
  assertEquals(answer, true);
  await c.close();
});

Deno.test("Connection.poll() during a large receive never reads concurrently", async () => {
  const [c, f] = fake();
  const big = new Uint8Array(200_000).map((_, i) => i * 7);
  const stream = concatBytes([
    encodeMessage(big),
    encodeMessage(fromHex("0102")),
  ]);
  f.feed(stream.subarray(0, 70_000));
  const receiving = c.recvBytes();
  await turns();
  const polls = [c.poll(10), c.poll(10), c.poll(10)];
  for (let i = 70_000; i < stream.length; i += 20_000) {
    f.feed(stream.subarray(i, i + 20_000));
    await turns(1);
  }
  assertEquals(await receiving, big);
  await Promise.all(polls);
  assertEquals(await c.recvBytes(), fromHex("0102"));
  await c.close();
});

Deno.test("Connection.close() gives up flushing to a peer that never reads", async (t) => {
  // A raw TCP peer that accepts and never reads: 64 MiB cannot drain.
  using server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = server.accept();
  const raw = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.addr.port,
  });
  const peer = await accepted;
  try {
    await t.step("after closeTimeout", async () => {
      const conn = new Connection(raw, {
        closeTimeout: 200,
        writeHighWaterMark: Infinity,
      });
      const sent = conn.sendBytes(new Uint8Array(64 * 1024 * 1024));
      const sentResult = sent.then(() => "sent", (e) => e);
      await conn.close();
      assertOk(conn.closed);
      const result = await sentResult;
      assertOk(result instanceof ConnectionError, String(result));
    });
  } finally {
    peer.close();
  }
  const accepted2 = server.accept();
  const raw2 = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.addr.port,
  });
  const peer2 = await accepted2;
  try {
    await t.step("when the close signal aborts", async () => {
      const conn = new Connection(raw2, { writeHighWaterMark: Infinity });
      const sent = conn.sendBytes(new Uint8Array(64 * 1024 * 1024)).catch((e) =>
        e
      );
      const controller = new AbortController();
      const closing = conn.close({ signal: controller.signal });
      controller.abort();
      await closing;
      assertOk((await sent) instanceof ConnectionError);
    });
  } finally {
    peer2.close();
  }
});

Deno.test("Connection refuses a negative or NaN closeTimeout", () => {
  const pair = {
    readable: new ReadableStream<Uint8Array>(),
    writable: new WritableStream<Uint8Array>(),
  };
  assertThrows(
    () => new Connection(pair, { closeTimeout: -1 }),
    RangeError,
    "closeTimeout",
  );
  assertThrows(
    () => new Connection(pair, { closeTimeout: NaN }),
    RangeError,
    "closeTimeout",
  );
});

Deno.test("Connection checks an aborted receive's message against the limit of the receive that returns it", async (t) => {
  await t.step(
    "a limit too small for the aborted receive does not apply later",
    async () => {
      const [c, f] = fake();
      const ac = new AbortController();
      const p = c.recvBytes(10, { signal: ac.signal });
      f.feed(fromHex("0000")); // half a header
      await turns();
      ac.abort(new Error("stop"));
      await assertRejects(() => p, Error, "stop");
      const msg = new Uint8Array(100).map((_, i) => i);
      f.feed(encodeMessage(msg).subarray(2), encodeMessage(fromHex("ee")));
      assertEquals(await c.recvBytes(), msg);
      assertEquals(await c.recvBytes(), fromHex("ee"));
      await c.close();
    },
  );
  await t.step(
    "a smaller limit refuses the message, as a fresh receive",
    async () => {
      const [c, f] = fake();
      const big = new Uint8Array(200_000).map((_, i) => i * 5);
      const frame = encodeMessage(big);
      const ac = new AbortController();
      const p = c.recvBytes(300_000, { signal: ac.signal });
      f.feed(frame.subarray(0, 100_000)); // header and half the payload
      await turns();
      ac.abort(new Error("stop"));
      await assertRejects(() => p, Error, "stop");
      f.feed(frame.subarray(100_000));
      const err = await assertRejects(
        () => c.recvBytes(199_999),
        ProtocolError,
        "exceeds the maximum of 199999 bytes",
      );
      // What a fresh too-large receive leaves: write-only.
      await assertRejects(() => c.recvBytes(), ConnectionError, "write-only");
      await c.sendBytes(fromHex("01"));
      await c.close();
      assertEquals(decodeAll(f.written()), [fromHex("01")]);
      assertOk(err instanceof ProtocolError);
    },
  );
  await t.step(
    "every kind of receive takes the rest under its own limit",
    async () => {
      const big = new Uint8Array(200_000).map((_, i) => i * 7);
      const frame = encodeMessage(big);
      const receives: [
        string,
        (c: Connection<Uint8Array>) => Promise<Uint8Array>,
      ][] = [
        ["recvBytes", (c) => c.recvBytes(200_000)],
        [
          "recvBytes with a signal",
          (c) => c.recvBytes(200_000, { signal: new AbortController().signal }),
        ],
        ["recvBytesInto", async (c) => {
          const buf = new Uint8Array(200_004);
          const n = await c.recvBytesInto(buf, 4);
          return buf.subarray(4, 4 + n);
        }],
      ];
      for (const [name, receive] of receives) {
        for (const cut of [2, 4, 70_000, frame.length - 1]) {
          const [c, f] = fake();
          const ac = new AbortController();
          const p = c.recvBytes(undefined, { signal: ac.signal });
          f.feed(frame.subarray(0, cut));
          await turns();
          ac.abort(new Error("stop"));
          await assertRejects(
            () => p,
            Error,
            "stop",
          );
          f.feed(frame.subarray(cut), encodeMessage(fromHex("0203")));
          // The kept message is data to poll(), which consumes nothing.
          assertEquals(await c.poll(Infinity), true);
          assertEquals(await receive(c), big, `${name} after ${cut} bytes`);
          assertEquals(await c.recvBytes(), fromHex("0203"));
          await c.close();
        }
      }
    },
  );
  await t.step("recv() and maxMessageSize", async () => {
    const f = new FakeConn();
    const c = new Connection<Uint8Array>(f as unknown as Deno.Conn, {
      codec: bytesCodec,
      maxMessageSize: 1000,
    });
    const ac = new AbortController();
    const p = c.recvBytes(5000, { signal: ac.signal });
    const frame = encodeMessage(new Uint8Array(2000));
    f.feed(frame.subarray(0, 1000));
    await turns();
    ac.abort(new Error("stop"));
    await assertRejects(() => p, Error, "stop");
    await assertRejects(() => c.recv(), ProtocolError, "maximum of 1000 bytes");
    await c.close();
  });
});

/**
 * `p`, or a failure if it has not settled within `ms`: a guard that turns a
 * hang into a failing test, not a timing assertion.
 */
async function settlesOrFail<V>(
  p: Promise<V>,
  what: string,
  ms = 30_000,
): Promise<V> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} hung for ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, hung]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("Connection.writable.abort() discards unsent messages and closes at once, even when the peer stopped reading", async () => {
  const { openFdCount, tempDir } = await import("../_test_utils/peers.ts");
  await using dir = await tempDir();
  const fdsBefore = openFdCount();
  const [peer, raw] = await unixSocketPair(dir.path);
  // No close timeout: a flush would wait for the peer forever.
  const conn = new Connection<Uint8Array>(raw, {
    codec: bytesCodec,
    closeTimeout: Infinity,
  });
  const chunk = new Uint8Array(1024 * 1024).fill(7);
  let total = 0;
  const sends: Promise<unknown>[] = [];
  // Large sends wait until written; small ones queue past the high-water mark.
  for (let i = 0; i < 8; i++) {
    sends.push(conn.sendBytes(chunk).then(() => "sent", (e) => e));
    total += 4 + chunk.length;
  }
  for (let i = 0; i < 2000; i++) {
    sends.push(
      conn.sendBytes(new Uint8Array(1000)).then(() => "sent", (e) => e),
    );
    total += 1004;
  }
  const writer = conn.writable.getWriter();
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < 4; i++) {
    writes.push(writer.write(chunk).then(() => "written", (e) => e));
    total += 4 + chunk.length;
  }
  const receiving = conn.recvBytes().then(() => "received", (e) => e);
  await turns();
  const reason = new Error("enough");
  await settlesOrFail(writer.abort(reason), "writer.abort()");
  assertOk(conn.closed);
  const results = await settlesOrFail(Promise.all(sends), "the queued sends");
  const discarded = results.filter((r) => r !== "sent");
  assertOk(discarded.length > 0);
  for (const r of discarded) {
    assertOk(r instanceof ConnectionError, String(r));
    assertEquals(r.cause, reason);
  }
  assertEquals(await Promise.all(writes), writes.map(() => reason));
  assertOk((await receiving) instanceof ConnectionError);
  await assertRejects(
    () => conn.sendBytes(new Uint8Array(1)),
    ConnectionError,
    "closed",
  );
  await assertRejects(() => conn.recvBytes(), ConnectionError, "closed");
  await conn.close();
  // The peer gets what was written before the abort, then EOF: not the rest.
  let got = 0;
  const buf = new Uint8Array(1024 * 1024);
  while (true) {
    const n = await peer.read(buf);
    if (n === null) break;
    got += n;
  }
  peer.close();
  assertOk(got < total, `the peer got ${got} of ${total} bytes`);
  assertEquals(openFdCount(), fdsBefore);
});

Deno.test("Connection.writable.abort() over a stream pair drops the unsent writes", async () => {
  const [a, b] = pipe({ codec: bytesCodec, closeTimeout: Infinity });
  const writer = a.writable.getWriter();
  const sends: Promise<unknown>[] = [];
  // b never reads: pipe() buffers 2 MiB, the rest stays queued.
  for (let i = 0; i < 6; i++) {
    sends.push(a.sendBytes(new Uint8Array(1024 * 1024)).catch((e) => e));
  }
  const written = writer.write(new Uint8Array(1024 * 1024)).catch((e) => e);
  await turns();
  const reason = new Error("enough");
  await settlesOrFail(writer.abort(reason), "writer.abort()");
  assertOk(a.closed);
  for (const r of await settlesOrFail(Promise.all(sends), "the sends")) {
    if (r === undefined) continue; // written before the abort
    assertOk(r instanceof ConnectionError, String(r));
    assertEquals(r.cause, reason);
  }
  assertEquals(await written, reason);
  await b.close();
});

Deno.test("Connection.close() past closeTimeout settles every queued send on a stream pair", async () => {
  const [a, b] = pipe({ closeTimeout: 50 });
  // b never reads: pipe() buffers 2 MiB, the rest cannot drain.
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < 6; i++) {
    sends.push(a.sendBytes(new Uint8Array(1024 * 1024)).catch((e) => e));
  }
  await turns();
  await settlesOrFail(a.close(), "close()");
  const results = await settlesOrFail(Promise.all(sends), "the sends");
  const dropped = results.filter((r) => r !== undefined);
  assertOk(dropped.length > 0);
  for (const r of dropped) assertOk(r instanceof ConnectionError, String(r));
  await b.close();
});

Deno.test("Connection aborted receives never lose or reorder messages, and each receive applies its own limit (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          fc.nat(300),
          fc.integer({ min: 30_000, max: 140_000 }),
        ),
        { minLength: 1, maxLength: 6 },
      ),
      fc.array(fc.nat(500_000), { maxLength: 30 }),
      fc.array(
        fc.record({
          limit: fc.option(fc.oneof(fc.nat(300), fc.nat(200_000)), {
            nil: undefined,
          }),
          abortAfter: fc.option(fc.nat(4), { nil: null }),
          into: fc.boolean(),
        }),
        { maxLength: 12 },
      ),
      async (sizes, cuts, plans) => {
        const messages = sizes.map((n, k) =>
          new Uint8Array(n).map((_, i) => i * 11 + k)
        );
        const chunks = splitAt(
          concatBytes(messages.map((m) => encodeMessage(m))),
          cuts,
        );
        const [c, f] = fake();
        let fed = 0;
        const feed = async (n: number): Promise<void> => {
          for (let i = 0; i < n && fed < chunks.length; i++) {
            f.feed(chunks[fed++]!);
            await turns(1);
          }
        };
        let next = 0; // the next message a receive must return
        for (const plan of plans) {
          if (next === messages.length) break;
          const ac = new AbortController();
          const reason = new Error("abort");
          let received: Promise<Uint8Array>;
          const into = plan.into && plan.abortAfter === null;
          if (into) {
            const buf = new Uint8Array(150_000);
            received = c.recvBytesInto(buf, 1).then((n) => buf.slice(1, 1 + n));
          } else {
            received = c.recvBytes(plan.limit, { signal: ac.signal });
          }
          type Outcome = { v?: Uint8Array; e?: unknown };
          const settled = received.then(
            (v): Outcome => ({ v }),
            (e): Outcome => ({ e }),
          );
          if (plan.abortAfter !== null) {
            await feed(plan.abortAfter);
            ac.abort(reason);
          } else {
            await feed(chunks.length);
          }
          const r = await settled;
          if (r.e === reason) continue; // aborted: nothing taken
          const expected = messages[next]!;
          const limit = into ? Infinity : plan.limit ?? Infinity;
          if (expected.length > limit) {
            assertOk(r.e instanceof ProtocolError, String(r.e));
            await assertRejects(
              () => c.recvBytes(),
              ConnectionError,
              "write-only",
            );
            await c.close();
            return;
          }
          assertOk(r.v !== undefined, String(r.e));
          assertEquals(r.v, expected);
          next++;
        }
        await feed(chunks.length);
        for (; next < messages.length; next++) {
          assertEquals(await c.recvBytes(), messages[next]);
        }
        await c.close();
      },
    ),
    { numRuns: 60 },
  );
});
