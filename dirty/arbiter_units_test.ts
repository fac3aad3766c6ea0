// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  appWorkerLimit,
  DirtyApp,
  isStreamResult,
  parseAppSpec,
  resolveAction,
  resolveAppModule,
} from "./app.ts";
import { DirtyAppError, DirtyError, DirtyProtocolError } from "./errors.ts";
import { fnmatch, pyFloatRepr, pyStr, StashStore } from "./_stash.ts";
import { Router } from "./_router.ts";
import {
  getIdNumber,
  type RawFrame,
  RawFrameSplitter,
  readArbiterFrames,
  setIdNumber,
} from "./_frame_io.ts";
import { decodeHeader, HEADER_SIZE } from "./header.ts";
import { encodeChunk, encodeEnd, encodeRequest } from "./message_encoders.ts";
import { DirtyFloat } from "./dirty_float.ts";

Deno.test("app spec: gunicorn's forms and errors", () => {
  assert.deepEqual(parseAppSpec("./app.ts:Echo"), {
    spec: "./app.ts:Echo",
    appPath: "./app.ts:Echo",
    module: "./app.ts",
    exportName: "Echo",
    workers: undefined,
  });
  const url = parseAppSpec("file:///srv/a.ts:Model:2");
  assert.equal(url.appPath, "file:///srv/a.ts:Model");
  assert.equal(url.workers, 2);
  assert.equal(
    parseAppSpec("https://x.test:8443/a.ts:M").module,
    "https://x.test:8443/a.ts",
  );
  for (const bad of ["noColon", ":Cls", "m.ts:1bad", "m.ts:"]) {
    assert.throws(
      () => parseAppSpec(bad),
      (e) =>
        e instanceof DirtyAppError &&
        /^Invalid import path format/.test(e.message),
    );
  }
  for (const bad of ["m.ts:C:0", "m.ts:C:-1", "m.ts:C:2x", "m.ts:C:1.5"]) {
    assert.throws(
      () => parseAppSpec(bad),
      (e) =>
        e instanceof DirtyAppError &&
        /^Invalid worker count in spec/.test(e.message),
    );
  }
  assert.equal(resolveAppModule("/a/b.ts"), "file:///a/b.ts");
  assert.equal(resolveAppModule("../b.ts", "/a/c"), "file:///a/b.ts");
  assert.equal(resolveAppModule("npm:x@1"), "npm:x@1");
});

Deno.test("app: worker limits, actions, streams", () => {
  class Heavy extends DirtyApp {
    static override workers = 2;
    act(): number {
      return 1;
    }
    get prop(): number {
      return 2;
    }
  }
  assert.equal(appWorkerLimit(parseAppSpec("m:Heavy"), Heavy), 2);
  assert.equal(appWorkerLimit(parseAppSpec("m:Heavy:1"), Heavy), 1);
  assert.equal(appWorkerLimit(parseAppSpec("m:Heavy"), class {}), undefined);
  const h = new Heavy();
  assert.equal(resolveAction(h, "act")(), 1);
  for (
    const n of [
      "_x",
      "init",
      "close",
      "constructor",
      "hasOwnProperty",
      "prop",
      "",
    ]
  ) {
    assert.throws(() => resolveAction(h, n), /Unknown action/);
  }
  assert.ok(isStreamResult((function* () {})()));
  assert.ok(isStreamResult((async function* () {})()));
  assert.ok(isStreamResult(new ReadableStream()));
  assert.ok(!isStreamResult([1]));
  assert.ok(!isStreamResult(new Map()));
  assert.ok(!isStreamResult(null));
});

Deno.test("stash: Python fnmatch", () => {
  const cases: [string, string, boolean][] = [
    ["user:1", "user:*", true],
    ["user:1", "user:?", true],
    ["user:10", "user:?", false],
    ["a", "[abc]", true],
    ["d", "[!abc]", true],
    ["a", "[!abc]", false],
    ["b", "[a-c]", true],
    ["-", "[a-]", true],
    ["]", "[]]", true],
    ["[", "[", true],
    ["x[", "x[", true],
    ["a", "[z-a]", false],
    ["a.b", "a.b", true],
    ["axb", "a.b", false],
    ["line\nbreak", "line*", true],
    ["ABC", "abc", false],
    ["é", "?", true],
    ["(x)", "(*)", true],
  ];
  for (const [name, pat, want] of cases) {
    assert.equal(fnmatch(name, pat), want, `${name} ~ ${pat}`);
  }
  // Any literal text matches itself.
  fc.assert(
    fc.property(fc.string(), (s) => {
      const escaped = [...s].map((ch) => "*?[".includes(ch) ? `[${ch}]` : ch)
        .join("");
      return fnmatch(s, escaped) && fnmatch(s, "*");
    }),
    { numRuns: 200 },
  );
});

Deno.test("stash: Python str() of keys", () => {
  assert.equal(pyStr(null), "None");
  assert.equal(pyStr(true), "True");
  assert.equal(pyStr(5), "5");
  assert.equal(pyStr(2n ** 63n - 1n), "9223372036854775807");
  assert.equal(pyStr(1.5), "1.5");
  assert.equal(pyStr(new DirtyFloat(1)), "1.0");
  assert.equal(pyStr(Uint8Array.of(0x6b, 0x27)), `b"k'"`);
  assert.equal(pyStr(Uint8Array.of(0, 0x41)), "b'\\x00A'");
  const floats: [number, string][] = [
    [1e16, "1e+16"],
    [1e15, "1000000000000000.0"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1.5e-7, "1.5e-07"],
    [-0, "-0.0"],
    [NaN, "nan"],
    [-Infinity, "-inf"],
    [123.456, "123.456"],
    [1e100, "1e+100"],
  ];
  for (const [x, s] of floats) assert.equal(pyFloatRepr(x), s);
});

Deno.test("stash: Python dict key semantics", () => {
  const s = new StashStore();
  const put = (key: unknown, value: unknown) =>
    s.handle({
      op: 1,
      table: "t",
      hasKey: true,
      key: key as null,
      value: value as null,
      pattern: null,
    });
  const get = (key: unknown) =>
    s.handle({
      op: 2,
      table: "t",
      hasKey: true,
      key: key as null,
      value: null,
      pattern: null,
    });
  put(1, "a");
  put(new DirtyFloat(1), "b");
  put(true, "c");
  // One slot: first key kept, last value wins.
  assert.deepEqual(get(1), { ok: true, result: "c" });
  const keys = s.handle({
    op: 4,
    table: "t",
    hasKey: false,
    key: null,
    value: null,
    pattern: null,
  });
  assert.deepEqual(keys, { ok: true, result: [1] });
  put(Uint8Array.of(1), "bytes");
  assert.deepEqual(get(Uint8Array.of(1)), { ok: true, result: "bytes" });
  put(null, "none");
  assert.deepEqual(get(null), { ok: true, result: "none" });
  const bad = put(new Map(), 1);
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.ok(bad.error instanceof DirtyError);
    assert.equal(bad.error.message, "unhashable type: 'dict'");
  }
  const missing = s.handle({
    op: undefined,
    table: "t",
    hasKey: false,
    key: null,
    value: null,
    pattern: null,
  });
  assert.equal(
    !missing.ok && missing.error.message,
    "Unknown stash operation: None",
  );
});

Deno.test("router: round-robin over ready workers with free slots, FIFO queues", () => {
  type W = { name: string; load: number; capacity: number };
  type R = { n: number; cancelled: boolean };
  const r = new Router<W, R>();
  r.addApp("a");
  const w1: W = { name: "w1", load: 0, capacity: 1 };
  const w2: W = { name: "w2", load: 0, capacity: 1 };
  assert.equal(r.pick("a"), undefined);
  r.setReady("a", w1);
  r.setReady("a", w2);
  assert.equal(r.pick("a"), w1);
  assert.equal(r.pick("a"), w2);
  w1.load = 1;
  assert.equal(r.pick("a"), w2);
  w2.load = 1;
  assert.equal(r.pick("a"), undefined);
  const q = [1, 2, 3].map((n) => ({ n, cancelled: false }));
  for (const x of q) r.enqueue("a", x);
  q[0]!.cancelled = true;
  assert.equal(r.queued("a"), 3);
  assert.equal(r.next(w1, ["a"]), undefined);
  w1.load = 0;
  assert.deepEqual(r.next(w1, ["a"])?.[1].n, 2);
  r.remove(w1);
  assert.equal(r.next(w1, ["a"]), undefined);
  assert.deepEqual(r.drain("a").map((x) => x.n), [3]);
  assert.equal(r.pick("nope"), undefined);
});

/** The frames a chunk completes, each a copy (as the arbiter takes them). */
function cut(sp: RawFrameSplitter, chunk: Uint8Array): RawFrame[] {
  const out: RawFrame[] = [];
  sp.split(chunk, true, (type, bytes) => out.push({ type, bytes }));
  return out;
}

/** Three frames, and all of them in one buffer. */
function threeFrames(): { frames: Uint8Array[]; all: Uint8Array } {
  const frames = [
    encodeRequest(1n, "m:C", "add", [1, 2]),
    encodeChunk(2n, "x".repeat(300)),
    encodeEnd(3n),
  ];
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    all.set(f, at);
    at += f.length;
  }
  return { frames, all };
}

/** Sorted distinct cut points of `all`, at most 10. */
const cutPoints = (all: Uint8Array): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: all.length }), { maxLength: 10 }).map(
    (cuts) => [...new Set(cuts)].sort((a, b) => a - b),
  );

Deno.test("frame io: splitter cuts any byte split into the same frames", () => {
  const { frames, all } = threeFrames();
  fc.assert(
    fc.property(
      cutPoints(all),
      (points) => {
        const sp = new RawFrameSplitter();
        const got: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...points, all.length]) {
          for (const f of cut(sp, all.subarray(prev, p))) got.push(f.bytes);
          prev = p;
        }
        sp.finish();
        assert.deepEqual(got, frames);
        return true;
      },
    ),
    { numRuns: 200 },
  );
  const sp = new RawFrameSplitter();
  cut(sp, frames[0]!.subarray(0, 5));
  assert.throws(() => sp.finish(), /Incomplete header/);
  assert.throws(
    () =>
      cut(new RawFrameSplitter(), Uint8Array.from({ length: 16 }, () => 0x58)),
    /Invalid magic/,
  );
  // A header split over chunks is checked once complete, before its
  // payload is buffered.
  const huge = encodeEnd(0n);
  new DataView(huge.buffer).setUint32(4, 0x7fffffff);
  const split = new RawFrameSplitter(1024);
  assert.deepEqual(cut(split, huge.subarray(0, 9)), []);
  assert.throws(() => cut(split, huge.subarray(9)), /Message too large/);
  const f = encodeEnd(0n);
  setIdNumber(f, 2 ** 40 + 7);
  assert.equal(getIdNumber(f), 2 ** 40 + 7);
});

Deno.test("frame io: split() without copies gives copied frames as views of whole-chunk frames", () => {
  const { frames, all } = threeFrames();
  fc.assert(
    fc.property(
      cutPoints(all),
      (points) => {
        const views = new RawFrameSplitter();
        const copies = new RawFrameSplitter();
        const got: Uint8Array[] = [];
        const want: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...points, all.length]) {
          // Each chunk in a buffer of its own, overwritten once split.
          const chunk = all.slice(prev, p);
          views.split(chunk, false, (type, bytes) => {
            assert.equal(type, decodeHeader(bytes).type);
            got.push(bytes.slice());
          });
          chunk.fill(0);
          for (const f of cut(copies, all.subarray(prev, p))) {
            want.push(f.bytes);
          }
          prev = p;
        }
        views.finish();
        assert.deepEqual(got, want);
        assert.deepEqual(got, frames);
      },
    ),
    { numRuns: 200 },
  );
  // A frame whole in its chunk is not copied; one completed from earlier
  // chunks is a buffer of its own.
  const sp = new RawFrameSplitter();
  const buffers: ArrayBufferLike[] = [];
  sp.split(all.subarray(0, frames[0]!.length + 5), false, (_t, b) => {
    buffers.push(b.buffer);
  });
  sp.split(all.subarray(frames[0]!.length + 5), false, (_t, b) => {
    buffers.push(b.buffer);
  });
  assert.equal(buffers.length, 3);
  assert.equal(buffers[0], all.buffer);
  assert.notEqual(buffers[1], all.buffer);
  assert.equal(buffers[2], all.buffer);
});

Deno.test("frame io: readArbiterFrames passes on onFrame's errors and ends quietly on a bad frame", async () => {
  /** A connection that reads `chunks` in turn, then ends. */
  const conn = (chunks: Uint8Array[]): Deno.Conn =>
    ({
      read(p: Uint8Array): Promise<number | null> {
        const c = chunks.shift();
        if (c === undefined) return Promise.resolve(null);
        p.set(c);
        return Promise.resolve(c.length);
      },
    }) as unknown as Deno.Conn;
  const two = new Uint8Array([...encodeEnd(1n), ...encodeEnd(2n)]);
  // Every frame, in order, its bytes valid while onFrame runs.
  const ids: number[] = [];
  await readArbiterFrames(conn([two, encodeEnd(3n)]), 1024, (f) => {
    assert.equal(f.type, "end");
    ids.push(getIdNumber(f.bytes));
  });
  assert.deepEqual(ids, [1, 2, 3]);
  // An error of onFrame rejects, even one of the codec's own class.
  const boom = new DirtyProtocolError("from onFrame");
  await assert.rejects(
    readArbiterFrames(conn([two]), 1024, () => {
      throw boom;
    }),
    (e) => e === boom,
  );
  // A bad frame ends the reading quietly (said on stderr), after the
  // frames before it.
  const bad = new Uint8Array([...encodeEnd(4n), ...new Uint8Array(16)]);
  const seen: number[] = [];
  const error = console.error;
  const said: unknown[] = [];
  console.error = (...a: unknown[]) => said.push(a[0]);
  try {
    await readArbiterFrames(conn([bad, encodeEnd(5n)]), 1024, (f) => {
      seen.push(getIdNumber(f.bytes));
    });
  } finally {
    console.error = error;
  }
  assert.deepEqual(seen, [4]);
  assert.match(String(said[0]), /bad frame from arbiter/);
});

Deno.test("arbiter units: the splitter accepts and refuses every header as decodeHeader does", () => {
  const limit = 1024;
  // Mostly valid headers, with one field at a time broken.
  const header = fc.tuple(
    fc.constantFrom(0x47, 0x58),
    fc.constantFrom(0x44, 0x00),
    fc.constantFrom(1, 0, 2),
    fc.integer({ min: 0, max: 255 }),
    fc.constantFrom(0, 1, limit, limit + 1, 0xffffffff),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  );
  const outcome = (f: () => unknown): string => {
    try {
      return JSON.stringify(f(), (_k, v) => typeof v === "bigint" ? "n" : v);
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  };
  fc.assert(
    fc.property(header, ([m0, m1, version, code, length, id]) => {
      const h = new Uint8Array(HEADER_SIZE);
      const view = new DataView(h.buffer);
      h.set([m0, m1, version, code]);
      view.setUint32(4, length);
      view.setBigUint64(8, id);
      const codec = outcome(() => {
        const d = decodeHeader(h, { maxMessageSize: limit });
        return { type: d.type, length: d.length };
      });
      // Split from the chunks: the type and payload length of the last of
      // `count` frames, or the error.
      const split = (chunks: Uint8Array[], count: number): string =>
        outcome(() => {
          const sp = new RawFrameSplitter(limit);
          const frames = chunks.flatMap((c) => cut(sp, c));
          assert.equal(frames.length, count);
          const f = frames[count - 1]!;
          return { type: f.type, length: f.bytes.length - HEADER_SIZE };
        });
      // (Over the limit, the header alone is refused.)
      const payload = new Uint8Array(length <= limit ? length : 0);
      // A header alone, then its payload.
      assert.equal(split([h, payload], 1), codec);
      // The same header in the middle of a chunk (after a whole frame).
      const first = encodeEnd(1n);
      const chunk = new Uint8Array(first.length + HEADER_SIZE);
      chunk.set(first);
      chunk.set(h, first.length);
      const mid = split([chunk, payload], 2);
      assert.equal(mid, codec);
    }),
    { numRuns: 500 },
  );
});

Deno.test("cli: usage errors", async () => {
  const { main } = await import("./arbiter_cli.ts");
  const log = console.error;
  console.error = () => {};
  try {
    assert.equal(await main([]), 2);
    assert.equal(await main(["--app", "m.ts:A", "--log-level", "loud"]), 2);
    await assert.rejects(
      main(["--app", "m.ts:A", "--workers=-1"]),
      RangeError,
    );
    await assert.rejects(main(["--bogus"]), TypeError);
    await assert.rejects(
      main(["--app", "no-colon"]),
      (e) => e instanceof DirtyAppError,
    );
  } finally {
    console.error = log;
  }
});
