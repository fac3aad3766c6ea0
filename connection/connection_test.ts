// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import fc from "fast-check";
import { concatBytes } from "../_internal/bytes.ts";
import { splitAt } from "../_test_utils/chunks.ts";
import { fromHex } from "../_test_utils/hex.ts";
import { ownUnixSockets, unixSocketPair } from "../_test_utils/sockets.ts";
import { openFdCount, tempDir } from "../_test_utils/peers.ts";
import { bytesCodec, type MessageCodec } from "./codec.ts";
import { Connection } from "./connection.ts";
import {
  BufferTooShort,
  ConnectionError,
  EOFError,
  ProtocolError,
} from "./errors.ts";
import { encodeMessage, MessageDecoder } from "./message_codec.ts";
import { ByteArray, dumps, pickleCodec, Tuple } from "./pickle.ts";
import { pipe } from "./pipe.ts";
import { turn, within } from "../_test_utils/wait.ts";

const enc = new TextEncoder();

/**
 * A scripted Deno.Conn stand-in: reads come from `feed()`, writes are
 * recorded. Everything it does runs in microtasks, so its events
 * (`readWaiting()`) say exactly where the connection is.
 */
class FakeConn {
  #inbox: (Uint8Array | null | Error)[] = [];
  #wake: (() => void) | null = null;
  #blocked: (() => void)[] = [];
  /** Copies of the written chunks. */
  writes: Uint8Array[] = [];
  /** The chunks as they were passed to write(), not copied. */
  written: Uint8Array[] = [];
  gate: Promise<void> = Promise.resolve();
  closed = false;

  feed(...items: (Uint8Array | null | Error)[]): void {
    this.#inbox.push(...items);
    this.#wake?.();
  }

  /**
   * Resolves once a read finds nothing left to return and waits: the
   * connection has taken every byte fed so far and wants more.
   */
  readWaiting(): Promise<void> {
    if (this.#wake !== null && this.#inbox.length === 0) {
      return Promise.resolve();
    }
    return new Promise((r) => this.#blocked.push(r));
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#inbox.length === 0) {
      if (this.closed) throw new Deno.errors.BadResource("closed");
      const waiting = new Promise<void>((r) => this.#wake = r);
      for (const r of this.#blocked.splice(0)) r();
      await waiting;
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
    this.written.push(p);
    await this.gate;
    return p.length;
  }

  close(): void {
    this.closed = true;
    this.#wake?.();
  }

  bytes(): Uint8Array {
    return concatBytes(this.writes);
  }

  /** Whether a write was handed `bytes`' own memory (not a copy of it). */
  wroteFrom(bytes: Uint8Array): boolean {
    return this.written.some((w) =>
      w.buffer === bytes.buffer && w.byteOffset === bytes.byteOffset &&
      w.length === bytes.length
    );
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

/** The outcome of `p`: its value, or the error it rejected with. */
function outcome<V>(p: Promise<V>): Promise<V | unknown> {
  return p.then((v) => v, (e) => e);
}

Deno.test("Connection.sendBytes() follows CPython's offset and size rules", async () => {
  const [a, b] = pipe();
  const buf = enc.encode("abcdefghijklmnopqrstuvwxyz");
  await a.sendBytes(buf);
  await a.sendBytes(buf, 5);
  await a.sendBytes(buf, 7, 10);
  await a.sendBytes(buf, 26);
  await a.sendBytes(buf, 26, 0);
  assert.deepEqual(await b.recvBytes(), buf);
  assert.deepEqual(await b.recvBytes(), buf.subarray(5));
  assert.deepEqual(await b.recvBytes(), buf.subarray(7, 17));
  assert.deepEqual(await b.recvBytes(), new Uint8Array(0));
  assert.deepEqual(await b.recvBytes(), new Uint8Array(0));
  for (
    const args of [[27], [22, 5], [26, 1], [-1], [4, -1], [1.5]] as [
      number,
      number?,
    ][]
  ) {
    await assert.rejects(a.sendBytes(buf, ...args), RangeError);
  }
  await assert.rejects(a.sendBytes("x" as unknown as Uint8Array), TypeError);
  // Any view is sent as its raw bytes; offsets are in bytes.
  const ints = new Int32Array([1, 2]);
  await a.sendBytes(ints);
  await a.sendBytes(ints, 4);
  await a.sendBytes(ints.buffer);
  const native = new Uint8Array(ints.buffer);
  assert.deepEqual(await b.recvBytes(), native);
  assert.deepEqual(await b.recvBytes(), native.subarray(4));
  assert.deepEqual(await b.recvBytes(), native);
  await a.close();
  await b.close();
});

Deno.test("Connection.recvBytesInto() fills at byte offsets and throws BufferTooShort with the whole message", async () => {
  const [a, b] = pipe();
  await a.sendBytes(new Int32Array([0, 1, 2, 3]));
  const arr = new Int32Array(10);
  assert.equal(await b.recvBytesInto(arr), 16);
  assert.deepEqual([...arr.subarray(0, 5)], [0, 1, 2, 3, 0]);
  await a.sendBytes(new Int32Array([0, 1, 2, 3]));
  const arr2 = new Int32Array(10);
  assert.equal(await b.recvBytesInto(arr2, 3 * 4), 16);
  assert.deepEqual([...arr2], [0, 0, 0, 0, 1, 2, 3, 0, 0, 0]);
  // Argument checks run before reading: the message stays queued.
  const small = new Uint8Array(40);
  await a.sendBytes(new Uint8Array(110).fill(7));
  await a.sendBytes(enc.encode("next"));
  await assert.rejects(b.recvBytesInto(small, -1), RangeError);
  await assert.rejects(b.recvBytesInto(small, 41), RangeError);
  const err = await outcome(b.recvBytesInto(small));
  assert.ok(err instanceof BufferTooShort, String(err));
  assert.equal(err.code, "BUFFER_TOO_SHORT");
  assert.deepEqual(err.bytes, new Uint8Array(110).fill(7));
  // The message was consumed.
  assert.deepEqual(await b.recvBytes(), enc.encode("next"));
  await a.sendBytes(new Uint8Array(1));
  await assert.rejects(b.recvBytesInto(small, 40), BufferTooShort);
  await a.sendBytes(new Uint8Array(0));
  assert.equal(await b.recvBytesInto(small, 40), 0);
  await a.close();
  await b.close();
});

Deno.test("Connection.recvBytes(maxLength) accepts equal, refuses longer and becomes write-only", async () => {
  const [a, b] = pipe();
  await a.sendBytes(new Uint8Array(5));
  assert.equal((await b.recvBytes(5)).length, 5);
  await assert.rejects(b.recvBytes(-1), RangeError);
  await a.sendBytes(new Uint8Array(6));
  await assert.rejects(b.recvBytes(5), {
    name: "ProtocolError",
    code: "MESSAGE_TOO_LARGE",
    message: /exceeds the maximum of 5/,
  });
  const writeOnly = {
    name: "ConnectionError",
    code: "WRITE_ONLY",
    message: /write-only/,
  };
  await assert.rejects(b.recvBytes(), writeOnly);
  await assert.rejects(b.poll(), writeOnly);
  await b.sendBytes(enc.encode("still writable"));
  assert.deepEqual(await a.recvBytes(), enc.encode("still writable"));
  await a.close();
  await b.close();
});

Deno.test("Connection maxMessageSize bounds recv(), recvBytes() and recvBytesInto()", async () => {
  const [a, b] = pipe({ maxMessageSize: 3 });
  await a.sendBytes(new Uint8Array(4));
  await assert.rejects(b.recv(), { code: "MESSAGE_TOO_LARGE" });
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
      { closeTimeout: NaN },
      { closeTimeout: -1 },
    ]
  ) {
    const [name, value] = Object.entries(options)[0]!;
    assert.throws(() => new Connection(pair(), options), {
      name: "RangeError",
      message: name === "closeTimeout"
        ? `Cannot create connection: closeTimeout must be a number of milliseconds >= 0 or Infinity, got ${value}`
        : `Cannot create connection: invalid ${name} ${value}`,
    });
  }
});

Deno.test("Connection end-of-file rules match CPython, stricter on truncation", async (t) => {
  await t.step(
    "clean close at a boundary: EOFError, again and again",
    async () => {
      const [c, f] = fake();
      f.feed(fromHex("00000001ff"), null);
      assert.deepEqual(await c.recvBytes(), fromHex("ff"));
      await assert.rejects(c.recvBytes(), { name: "EOFError", code: "EOF" });
      await assert.rejects(c.recvBytes(), EOFError);
      await c.close();
    },
  );
  for (
    const [name, bytes] of [
      ["1 header byte", "00"],
      ["3 header bytes", "000000"],
      ["a complete header only", "00000004"],
      ["part of the payload", "00000004aabb"],
      ["part of an extended header", "ffffffff0000"],
    ]
  ) {
    await t.step(`EOF after ${name}: ProtocolError`, async () => {
      const [c, f] = fake();
      f.feed(fromHex(bytes!), null);
      await assert.rejects(c.recvBytes(), {
        name: "ProtocolError",
        code: "TRUNCATED",
        message: /closed/,
      });
      await c.close();
    });
  }
  await t.step(
    "a zero-length header then EOF is a complete message",
    async () => {
      const [c, f] = fake();
      f.feed(fromHex("00000000"), null);
      assert.deepEqual(await c.recvBytes(), new Uint8Array(0));
      await assert.rejects(c.recvBytes(), EOFError);
      await c.close();
    },
  );
  await t.step("ECONNRESET is a clean close", async () => {
    const [c, f] = fake();
    f.feed(new Deno.errors.ConnectionReset("reset"));
    await assert.rejects(c.recvBytes(), EOFError);
    await c.close();
  });
  await t.step(
    "a negative length other than -1 is a ProtocolError",
    async () => {
      const [c, f] = fake();
      f.feed(fromHex("fffffffe00000001"));
      await assert.rejects(c.recvBytes(), {
        name: "ProtocolError",
        code: "BAD_LENGTH",
        message: /negative length -2/,
      });
      await c.close();
    },
  );
  await t.step(
    "another transport error is a ConnectionError carrying it",
    async () => {
      const [c, f] = fake();
      const cause = new Error("boom");
      f.feed(cause);
      const err = await outcome(c.recvBytes());
      assert.ok(err instanceof ConnectionError, String(err));
      assert.equal(err.name, "ConnectionError");
      assert.equal(err.code, "TRANSPORT_FAILED");
      assert.equal(err.cause, cause);
      await c.close();
    },
  );
});

Deno.test("Connection errors carry the errno name of a failed system call as their code", async () => {
  await using dir = await tempDir();
  const [peer, raw] = await unixSocketPair(dir.path);
  const conn = new Connection(raw, { closeTimeout: 0 });
  peer.close();
  // Writing to a socket whose peer is gone fails with EPIPE (or, if the
  // kernel saw the close first, ECONNRESET).
  const chunk = new Uint8Array(1024 * 1024);
  let err: unknown;
  for (let i = 0; i < 64 && err === undefined; i++) {
    err = await conn.sendBytes(chunk).then(() => undefined, (e) => e);
  }
  assert.ok(err instanceof ConnectionError, String(err));
  assert.match(err.code, /^(EPIPE|ECONNRESET)$/);
  assert.equal(err.code, (err.cause as { code?: string }).code);
  // Later sends fail with the same error.
  await assert.rejects(conn.sendBytes(new Uint8Array(1)), (e) => e === err);
  await conn.close();
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
  assert.deepEqual(await c.recvBytes(), big);
  assert.deepEqual(await c.recvBytes(), enc.encode("after"));
  assert.deepEqual(await c.recvBytes(), big);
  await c.close();
});

Deno.test("Connection.recvBytes() never overwrites a message it handed out", async () => {
  const [c, f] = fake();
  // Many small messages through one 64 KiB read buffer and beyond.
  const messages = Array.from(
    { length: 3000 },
    (_, i) => new Uint8Array(1 + (i * 37) % 200).fill(i & 0xff),
  );
  const stream = concatBytes(messages.map((m) => encodeMessage(m)));
  const got: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += 5000) {
    f.feed(stream.subarray(i, i + 5000));
  }
  for (let i = 0; i < messages.length; i++) got.push(await c.recvBytes());
  // Each view still holds its message after everything after it was read.
  assert.deepEqual(got, messages);
  await c.close();
});

Deno.test("Connection.poll() sees bytes or EOF without consuming them", async () => {
  const [c, f] = fake();
  assert.equal(await c.poll(), false);
  assert.equal(await c.poll(-1), false);
  await assert.rejects(c.poll(NaN), RangeError);
  f.feed(fromHex("0000"));
  assert.equal(await c.poll(50), true); // only half a header buffered
  f.feed(fromHex("0001aa"));
  assert.equal(await c.poll(), true);
  assert.deepEqual(await c.recvBytes(), fromHex("aa"));
  f.feed(null);
  assert.equal(await c.poll(Infinity), true);
  await assert.rejects(c.recvBytes(), EOFError);
  await c.close();
  await assert.rejects(c.poll(), {
    name: "ConnectionError",
    code: "CONNECTION_CLOSED",
    message: /closed/,
  });
});

Deno.test("Connection.poll() waits out timeouts longer than setTimeout's 2^31 - 1 ms", async () => {
  const [c, f] = fake();
  // setTimeout runs a longer delay after 1 ms: poll() answered false then.
  const polled = c.poll(2 ** 31);
  // Timers fire in the order they fall due: this one, set later with a
  // longer delay, fires after a 1 ms timer set by poll() would have.
  await new Promise((r) => setTimeout(r, 5));
  f.feed(fromHex("00"));
  assert.equal(await polled, true);
  await c.close();
});

Deno.test("Connection keeps messages of aborted receives for the next receive", async () => {
  const [c, f] = fake();
  const aborted = AbortSignal.abort(new Error("already"));
  await assert.rejects(c.recvBytes(undefined, { signal: aborted }), {
    message: "already",
  });
  const ac = new AbortController();
  const p = c.recvBytes(undefined, { signal: ac.signal });
  f.feed(fromHex("00000003aa")); // half a message
  await f.readWaiting();
  ac.abort(new Error("stop"));
  await assert.rejects(p, { message: "stop" });
  f.feed(fromHex("bbcc00000001dd"));
  assert.deepEqual(await c.recvBytes(), fromHex("aabbcc"));
  assert.deepEqual(await c.recvBytes(), fromHex("dd"));
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
  assert.deepEqual(await Promise.all([r1, r2, r4]), [
    fromHex("01"),
    fromHex("02"),
    fromHex("03"),
  ]);
  await assert.rejects(r3, { message: "skip" });
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
  assert.ok(f.writes.length <= 3, `${f.writes.length} writes for 1000`);
  assert.deepEqual(decodeAll(f.bytes()), messages);
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
  await turn();
  assert.equal(accepted, false);
  release();
  await p;
  assert.equal(accepted, true);
  // A large payload resolves only once written from the caller's buffer.
  f.gate = new Promise((r) => release = r);
  let written = false;
  const payload = new Uint8Array(100_000);
  const big = c.sendBytes(payload).then(() => written = true);
  await turn();
  assert.equal(written, false);
  release();
  await big;
  assert.ok(f.wroteFrom(payload), "not written from the caller's buffer");
  await c.close();
  assert.deepEqual(decodeAll(f.bytes()).map((m) => m.length), [
    50,
    40,
    60,
    100_000,
  ]);
});

Deno.test("Connection.send() of large bytes writes the payload from the caller's memory, not a copy", async () => {
  for (const protocol of [4, 5] as const) {
    const f = new FakeConn();
    const c = new Connection(f as unknown as Deno.Conn, {
      codec: pickleCodec({ protocol }),
    });
    const payload = new Uint8Array(1 << 20).map((_, i) => i * 7);
    const other = new Uint8Array(300_000).fill(9);
    let release!: () => void;
    f.gate = new Promise((r) => release = r);
    const values = [
      payload,
      new ByteArray(other),
      new Tuple(["#RETURN", payload, [other, "tail"]]),
    ];
    let done = false;
    const sent = Promise.all(values.map((v) => c.send(v))).then(() =>
      done = true
    );
    await turn();
    // Resolves only once the caller's memory is written.
    assert.equal(done, false);
    release();
    await sent;
    await c.close();
    assert.ok(f.wroteFrom(payload), "payload copied");
    assert.ok(f.wroteFrom(other), "bytearray payload copied");
    // The bytes on the wire are CPython's pickles, framed.
    assert.deepEqual(
      decodeAll(f.bytes()),
      values.map((v) => dumps(v, { protocol })),
    );
  }
});

Deno.test("Connection.send() of a large payload with an aborted wait still writes the message whole", async () => {
  const codec: MessageCodec<Uint8Array> = {
    encode: (v) => v,
    encodeChunks: (v) => [v.subarray(0, 3), v.subarray(3)],
    decode: (v) => v,
  };
  const [x, y] = pipe({ codec });
  const payload = new Uint8Array(200_000).map((_, i) => i * 3);
  const ac = new AbortController();
  const sending = x.send(payload, { signal: ac.signal });
  ac.abort(new Error("stop waiting"));
  await assert.rejects(sending, { message: "stop waiting" });
  await x.send(fromHex("0102"));
  assert.deepEqual(await y.recv(), payload);
  assert.deepEqual(await y.recv(), fromHex("0102"));
  await assert.rejects(
    x.send(payload, { signal: AbortSignal.abort(new Error("before")) }),
    { message: "before" },
  );
  await x.close();
  await y.close();
});

Deno.test("Connection.close() flushes, is idempotent, and fails pending and later calls", async () => {
  const [c, f] = fake();
  let release!: () => void;
  f.gate = new Promise((r) => release = r);
  await c.sendBytes(enc.encode("one"));
  await c.sendBytes(enc.encode("two"));
  const pendingRecv = c.recvBytes();
  const closing = c.close();
  assert.equal(c.closed, true);
  const closed = {
    name: "ConnectionError",
    code: "CONNECTION_CLOSED",
    message: /closed/,
  };
  await assert.rejects(c.sendBytes(enc.encode("late")), closed);
  await assert.rejects(c.send(enc.encode("late")), closed);
  release();
  await closing;
  await c.close();
  assert.equal(f.closed, true);
  assert.deepEqual(decodeAll(f.bytes()), [
    enc.encode("one"),
    enc.encode("two"),
  ]);
  await assert.rejects(pendingRecv, closed);
  await assert.rejects(c.recvBytes(), closed);
});

Deno.test("Connection reports a failed write on later sends", async () => {
  const f = new FakeConn();
  const cause = new Deno.errors.BrokenPipe("gone");
  f.write = () => Promise.reject(cause);
  const c = new Connection(f as unknown as Deno.Conn);
  await c.sendBytes(new Uint8Array(1)); // queued: resolves at once
  const failed = {
    name: "ConnectionError",
    code: "TRANSPORT_FAILED",
    message: /transport failed/,
    cause,
  };
  // A large send resolves once written: the first write's failure fails it.
  await assert.rejects(c.sendBytes(new Uint8Array(100_000)), failed);
  await assert.rejects(c.sendBytes(new Uint8Array(1)), failed);
  await assert.rejects(c.sendBytes(new Uint8Array(100_000)), failed);
  await assert.rejects(c.send(new Uint8Array(100_000)), failed);
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
  await assert.rejects(c.sendBytes(new Uint8Array(100_000)), {
    name: "ConnectionError",
    message: /transport failed/,
  });
  assert.equal(writes, 2);
  await c.close();
});

Deno.test("Connection send()/recv() use the codec; bytes methods do not", async () => {
  const text: MessageCodec<string> = {
    encode: (s) => enc.encode(s),
    decode: (b) => new TextDecoder().decode(b),
  };
  const [a, b] = pipe({ codec: text });
  await a.send("héllo");
  assert.deepEqual(await b.recvBytes(), enc.encode("héllo"));
  await a.sendBytes(enc.encode("raw"));
  assert.equal(await b.recv(), "raw");
  const bad: MessageCodec<string> = {
    encode: () => {
      throw new TypeError("nope");
    },
    decode: () => "",
  };
  const [x, y] = pipe({ codec: bad });
  await assert.rejects(x.send("v"), { name: "TypeError", message: "nope" });
  for (const c of [a, b, x, y]) await c.close();
});

Deno.test("Connection streams and async iteration end at a clean close", async () => {
  const [a, b] = pipe({ codec: bytesCodec });
  const writer = a.writable.getWriter();
  for (const m of [[1], [], [2, 3]]) await writer.write(new Uint8Array(m));
  await writer.close();
  assert.deepEqual(await Array.fromAsync(b.readable), [
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
  assert.deepEqual(got, [fromHex("00000001")]);
  await d.close();
  const [e, g] = pipe({ codec: bytesCodec });
  await e.sendBytes(fromHex("01"));
  const reader = g.readable.getReader();
  assert.deepEqual((await reader.read()).value, fromHex("01"));
  await reader.cancel();
  assert.equal(g.closed, true);
  await e.close();
});

Deno.test("Connection refuses something that is not a transport", () => {
  assert.throws(() => new Connection({} as unknown as Deno.Conn), TypeError);
});

Deno.test("Connection over a Unix socket pair round-trips 0 B to 16 MiB without leaking sockets", async () => {
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
      assert.equal(got.length, size);
      assert.ok(got.every((v, i) => v === ((i * 31) & 0xff)));
    }
    // A large bytes value through send()/recv(), without a copy on the way.
    const big = new Uint8Array(3 << 20).map((_, i) => i * 13);
    const [, value] = await Promise.all([a.send(big), b.recv()]);
    assert.deepEqual(value, big);
  }
  assert.deepEqual(ownUnixSockets(dirPath), []);
});

Deno.test("Connection send()/recv() pickle by default (protocol 4, as CPython 3.8-3.13)", async () => {
  const [a, b] = pipe();
  await a.send(null);
  // Python's conn.send(None) writes exactly these payload bytes.
  assert.deepEqual(await b.recvBytes(), fromHex("80044e2e"));
  await a.send({ id: 7, tags: ["x", "y"] });
  assert.deepEqual(await b.recv(), { id: 7, tags: ["x", "y"] });
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
        assert.deepEqual(got, messages);
        await assert.rejects(c.recvBytes(), EOFError);
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
  await f.readWaiting();
  let answer: boolean | undefined;
  const polled = c.poll(Infinity).then((r) => answer = r);
  for (let i = 70_000; i < frame.length; i += 20_000) {
    f.feed(frame.subarray(i, i + 20_000));
    if (i + 20_000 < frame.length) await f.readWaiting();
  }
  assert.deepEqual(await receiving, big);
  // The poll reads again: the large receive's reads were not for it.
  await f.readWaiting();
  assert.equal(answer, undefined);
  f.feed(fromHex("00"));
  await polled;
  assert.equal(answer, true);
  await c.close();
});

Deno.test("Connection.poll() during a large receive never reads concurrently", async () => {
  const [c, f] = fake();
  let reading = 0;
  let overlapped = false;
  const read = f.read.bind(f);
  f.read = async (p: Uint8Array) => {
    if (++reading > 1) overlapped = true;
    try {
      return await read(p);
    } finally {
      reading--;
    }
  };
  const big = new Uint8Array(200_000).map((_, i) => i * 7);
  const stream = concatBytes([
    encodeMessage(big),
    encodeMessage(fromHex("0102")),
  ]);
  f.feed(stream.subarray(0, 70_000));
  const receiving = c.recvBytes();
  await f.readWaiting();
  const polls = [c.poll(10), c.poll(10), c.poll(10)];
  for (let i = 70_000; i < stream.length; i += 20_000) {
    f.feed(stream.subarray(i, i + 20_000));
    if (i + 20_000 < stream.length) await f.readWaiting();
  }
  assert.deepEqual(await receiving, big);
  await Promise.all(polls);
  assert.deepEqual(await c.recvBytes(), fromHex("0102"));
  assert.equal(overlapped, false);
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
      const sent = outcome(conn.sendBytes(new Uint8Array(64 * 1024 * 1024)));
      await conn.close();
      assert.ok(conn.closed);
      const result = await sent;
      assert.ok(result instanceof ConnectionError, String(result));
      assert.equal(result.code, "CONNECTION_CLOSED");
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
      const sent = outcome(conn.sendBytes(new Uint8Array(64 * 1024 * 1024)));
      const controller = new AbortController();
      const closing = conn.close({ signal: controller.signal });
      controller.abort();
      await closing;
      assert.ok((await sent) instanceof ConnectionError);
    });
  } finally {
    peer2.close();
  }
});

Deno.test("Connection checks an aborted receive's message against the limit of the receive that returns it", async (t) => {
  await t.step(
    "a limit too small for the aborted receive does not apply later",
    async () => {
      const [c, f] = fake();
      const ac = new AbortController();
      const p = c.recvBytes(10, { signal: ac.signal });
      f.feed(fromHex("0000")); // half a header
      await f.readWaiting();
      ac.abort(new Error("stop"));
      await assert.rejects(p, { message: "stop" });
      const msg = new Uint8Array(100).map((_, i) => i);
      f.feed(encodeMessage(msg).subarray(2), encodeMessage(fromHex("ee")));
      assert.deepEqual(await c.recvBytes(), msg);
      assert.deepEqual(await c.recvBytes(), fromHex("ee"));
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
      await f.readWaiting();
      ac.abort(new Error("stop"));
      await assert.rejects(p, { message: "stop" });
      f.feed(frame.subarray(100_000));
      await assert.rejects(c.recvBytes(199_999), {
        name: "ProtocolError",
        code: "MESSAGE_TOO_LARGE",
        message: /exceeds the maximum of 199999 bytes/,
      });
      // What a fresh too-large receive leaves: write-only.
      await assert.rejects(c.recvBytes(), { code: "WRITE_ONLY" });
      await c.sendBytes(fromHex("01"));
      await c.close();
      assert.deepEqual(decodeAll(f.bytes()), [fromHex("01")]);
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
          await f.readWaiting();
          ac.abort(new Error("stop"));
          await assert.rejects(p, { message: "stop" });
          f.feed(frame.subarray(cut), encodeMessage(fromHex("0203")));
          // The kept message is data to poll(), which consumes nothing.
          assert.equal(await c.poll(Infinity), true);
          assert.deepEqual(await receive(c), big, `${name} after ${cut} bytes`);
          assert.deepEqual(await c.recvBytes(), fromHex("0203"));
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
    await f.readWaiting();
    ac.abort(new Error("stop"));
    await assert.rejects(p, { message: "stop" });
    await assert.rejects(c.recv(), {
      name: "ProtocolError",
      message: /maximum of 1000 bytes/,
    });
    await c.close();
  });
});

Deno.test("Connection.writable.abort() discards unsent messages and closes at once, even when the peer stopped reading", async () => {
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
  const receiving = outcome(conn.recvBytes());
  const reason = new Error("enough");
  await within(writer.abort(reason), "writer.abort()");
  assert.ok(conn.closed);
  const results = await within(Promise.all(sends), "the queued sends");
  const discarded = results.filter((r) => r !== "sent");
  assert.ok(discarded.length > 0);
  for (const r of discarded) {
    assert.ok(r instanceof ConnectionError, String(r));
    assert.equal(r.code, "CONNECTION_CLOSED");
    assert.equal(r.cause, reason);
  }
  assert.deepEqual(await Promise.all(writes), writes.map(() => reason));
  assert.ok((await receiving) instanceof ConnectionError);
  await assert.rejects(conn.sendBytes(new Uint8Array(1)), {
    code: "CONNECTION_CLOSED",
  });
  await assert.rejects(conn.recvBytes(), { code: "CONNECTION_CLOSED" });
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
  assert.ok(got < total, `the peer got ${got} of ${total} bytes`);
  assert.equal(openFdCount(), fdsBefore);
});

Deno.test("Connection.writable.abort() over a stream pair drops the unsent writes", async () => {
  const [a, b] = pipe({ codec: bytesCodec, closeTimeout: Infinity });
  const writer = a.writable.getWriter();
  const sends: Promise<unknown>[] = [];
  // b never reads: pipe() buffers 2 MiB, the rest stays queued.
  for (let i = 0; i < 6; i++) {
    sends.push(outcome(a.sendBytes(new Uint8Array(1024 * 1024))));
  }
  const written = outcome(writer.write(new Uint8Array(1024 * 1024)));
  const reason = new Error("enough");
  await within(writer.abort(reason), "writer.abort()");
  assert.ok(a.closed);
  let dropped = 0;
  for (const r of await within(Promise.all(sends), "the sends")) {
    if (r === undefined) continue; // written before the abort
    dropped++;
    assert.ok(r instanceof ConnectionError, String(r));
    assert.equal(r.cause, reason);
  }
  assert.ok(dropped > 0);
  assert.equal(await written, reason);
  await b.close();
});

Deno.test("Connection.close() past closeTimeout settles every queued send on a stream pair", async () => {
  const [a, b] = pipe({ closeTimeout: 50 });
  // b never reads: pipe() buffers 2 MiB, the rest cannot drain.
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < 6; i++) {
    sends.push(outcome(a.sendBytes(new Uint8Array(1024 * 1024))));
  }
  await within(a.close(), "close()");
  const results = await within(Promise.all(sends), "the sends");
  const dropped = results.filter((r) => r !== undefined);
  assert.ok(dropped.length > 0);
  for (const r of dropped) {
    assert.ok(r instanceof ConnectionError, String(r));
    assert.equal(r.code, "CONNECTION_CLOSED");
  }
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
        /** Feeds `n` chunks, each once the receive is done or wants more. */
        const feed = async (n: number, done: Promise<unknown>) => {
          for (let i = 0; i < n && fed < chunks.length; i++) {
            f.feed(chunks[fed++]!);
            await Promise.race([f.readWaiting(), done]);
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
            await feed(plan.abortAfter, settled);
            ac.abort(reason);
          } else {
            await feed(chunks.length, settled);
          }
          const r = await settled;
          if (r.e === reason) continue; // aborted: nothing taken
          const expected = messages[next]!;
          const limit = into ? Infinity : plan.limit ?? Infinity;
          if (expected.length > limit) {
            assert.ok(r.e instanceof ProtocolError, String(r.e));
            await assert.rejects(c.recvBytes(), { code: "WRITE_ONLY" });
            await c.close();
            return;
          }
          assert.ok(r.v !== undefined, String(r.e));
          assert.deepEqual(r.v, expected);
          next++;
        }
        while (fed < chunks.length) f.feed(chunks[fed++]!);
        for (; next < messages.length; next++) {
          assert.deepEqual(await c.recvBytes(), messages[next]);
        }
        await c.close();
      },
    ),
    { numRuns: 60 },
  );
});
