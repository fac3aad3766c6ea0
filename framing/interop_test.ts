// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Interop with the real Mercurial (Debian's 6.3.2 `wireprotoframing`):
// Mercurial's clientreactor against our server, and our client against
// Mercurial's serverreactor, over OS pipes, with identity, zlib and zstd-8mb.
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { openFdCount, peerTest } from "../_test_utils/peers.ts";
import {
  HG,
  HG_CLIENT,
  HG_PEER_NAME,
  HG_SERVER,
  STDIO_SERVER,
} from "../_test_utils/framing/hg.ts";
import {
  BytestringChunk,
  type CborValue,
  ClientReactor,
  CommandError,
  decodeFrames,
  encodeFrames,
  type Frame,
  FramingClient,
  pythonRepr,
  serveConnection,
  ServerError,
} from "./mod.ts";
import { HANDLERS, testData } from "./testdata/interop_handlers.ts";
import { concatBytes } from "../_internal/bytes.ts";

/** The error `p` rejects with, checked to be a `cls`. */
async function rejection<E extends Error>(
  p: Promise<unknown>,
  cls: new (...args: never[]) => E,
): Promise<E> {
  const e = await p.then(
    () => assert.fail(`Expected a rejection with ${cls.name}`),
    (e: unknown) => e,
  );
  assert.ok(e instanceof cls, `Expected ${cls.name}, got ${String(e)}`);
  return e;
}

const dec = new TextDecoder();

function summary(v: CborValue): string {
  if (v instanceof Uint8Array && v.length > 64) {
    return `<${v.length} bytes sha1=${
      createHash("sha1").update(v).digest("hex")
    }>`;
  }
  return pythonRepr(v);
}

async function collect(it: AsyncIterable<CborValue>): Promise<CborValue[]> {
  return await Array.fromAsync(it);
}

for (const defer of [false, true]) {
  for (
    const encodings of [["identity"], ["zlib"], ["zstd-8mb"], [
      "zstd-8mb",
      "zlib",
      "identity",
    ]]
  ) {
    peerTest(
      `interop: our client -> Mercurial serverreactor (${encodings.join(",")}${
        defer ? ", deferred" : ""
      })`,
      HG,
      HG_PEER_NAME,
      async (hg) => {
        const fds = openFdCount();
        const child = new Deno.Command(hg.path, {
          args: [HG_SERVER, ...(defer ? ["--defer"] : [])],
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const stderr = new Response(child.stderr).text();
        // Record what the server sends to check the negotiated encoding.
        const seen: Uint8Array[] = [];
        const tap = new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            seen.push(chunk.slice());
            c.enqueue(chunk);
          },
        });
        const client = new FramingClient(
          { readable: child.stdout.pipeThrough(tap), writable: child.stdin },
          { contentEncodings: encodings },
        );
        const data = testData(100_000);
        const calls = {
          echo: client.call("echo", { foo: "bar", n: 7 }),
          digest: client.call("digest", {}, { data }),
          big: client.call("big", { size: 200_000 }),
          many: client.call("many", { count: 1000 }),
          chunks: client.call("chunks"),
          encoded: client.call("encoded"),
          cmderror: client.call("cmderror"),
          servererror: client.call("servererror"),
          boom: client.call("boom"),
          unknown: client.call("nosuchcommand"),
          echo2: client.call("echo", { again: true }),
        };
        if (defer) await client.closeWrite();
        const [echo] = await collect(calls.echo);
        assert.deepStrictEqual(
          pythonRepr(echo!),
          "{b'args': {b'foo': b'bar', b'n': 7}, b'command': b'echo', b'data': None}",
        );
        const [digest] = await collect(calls.digest) as Map<
          string,
          CborValue
        >[];
        assert.deepStrictEqual(digest!.get("size"), 100_000);
        assert.deepStrictEqual(
          dec.decode(digest!.get("sha1") as Uint8Array),
          createHash("sha1").update(data).digest("hex"),
        );
        const [big] = await collect(calls.big);
        assert.deepStrictEqual((big as Uint8Array).length, 200_000);
        assert.ok((big as Uint8Array).every((b) => b === 0x78));
        assert.deepStrictEqual(
          await collect(calls.many),
          Array.from({ length: 1000 }, (_, i) => i),
        );
        const chunks = await collect(calls.chunks) as BytestringChunk[];
        assert.ok(chunks.every((c) => c instanceof BytestringChunk));
        assert.deepStrictEqual(chunks.at(-1)!.isLast, true);
        assert.deepStrictEqual(
          dec.decode(concatBytes(chunks.map((c) => c.bytes))),
          "a".repeat(10) + "b".repeat(40000) + "c",
        );
        assert.deepStrictEqual(
          pythonRepr((await collect(calls.encoded))[0]!),
          "{b'pre': b'encoded'}",
        );
        const ce = await rejection(collect(calls.cmderror), CommandError);
        assert.deepStrictEqual([ce.format, ce.args, ce.message], [
          "bad thing: %s",
          [
            "oops",
          ],
          "bad thing: oops",
        ]);
        const se = await rejection(collect(calls.servererror), ServerError);
        assert.deepStrictEqual([se.type, se.message], [
          "server",
          "server broke",
        ]);
        const boom = await rejection(collect(calls.boom), ServerError);
        assert.deepStrictEqual(boom.message, "boom happened");
        await assert.rejects(
          () => collect(calls.unknown),
          (e) =>
            e instanceof CommandError &&
            e.message.includes("unknown command: nosuchcommand"),
        );
        // With zlib/zstd, Mercurial leaves the failed "boom" response's bytes in
        // its compressor; they come out in front of the next response's data.
        const echo2 = await collect(calls.echo2);
        // identity: the echo alone; zlib/zstd: b'partial', {status: ok}, echo.
        assert.deepStrictEqual(
          echo2.length,
          encodings[0] === "identity" ? 1 : 3,
        );
        assert.deepStrictEqual(
          pythonRepr(echo2.at(-1)!),
          "{b'args': {b'again': True}, b'command': b'echo', b'data': None}",
        );
        await client.close();
        const status = await child.status;
        assert.deepStrictEqual([status.code, await stderr], [0, ""]);
        const frames = decodeFrames(
          concatBytes(seen),
        );
        const settings = frames.find((f) => f.type === 9)!;
        assert.deepStrictEqual(
          dec.decode(settings.payload.subarray(1)),
          encodings[0],
        );
        assert.deepStrictEqual(openFdCount(), fds);
      },
    );
  }
}

interface HgResults {
  requests: Record<
    string,
    {
      name: string;
      objects: string[];
      eos: boolean;
      error: [string, string] | null;
    }
  >;
  errors: string[];
}

async function runHgClient(
  hgPath: string,
  encoders: string,
  calls: [string, Record<string, unknown>, number | null][],
  serveSide: (
    channel: {
      readable: ReadableStream<Uint8Array>;
      writable: WritableStream<Uint8Array>;
    },
  ) => Promise<void>,
): Promise<{ results: HgResults; c2s: Uint8Array }> {
  const dir = await Deno.makeTempDir({ prefix: "framing-interop-" });
  try {
    await Deno.writeTextFile(`${dir}/calls.json`, JSON.stringify(calls));
    const child = new Deno.Command(hgPath, {
      args: [HG_CLIENT, `${dir}/results.json`, encoders, `${dir}/calls.json`],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const c2s: Uint8Array[] = [];
    const tap = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        c2s.push(chunk.slice());
        c.enqueue(chunk);
      },
    });
    await serveSide({
      readable: child.stdout.pipeThrough(tap),
      writable: child.stdin,
    });
    const status = await child.status;
    assert.deepStrictEqual([status.code, await stderr], [0, ""]);
    const results = JSON.parse(
      await Deno.readTextFile(`${dir}/results.json`),
    ) as HgResults;
    return { results, c2s: concatBytes(c2s) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const HG_CALLS: [string, Record<string, unknown>, number | null][] = [
  ["echo", { foo: "bar" }, null],
  ["digest", {}, 100_000],
  ["big", { size: 300_000 }, null],
  ["many", { count: 500 }, null],
  ["chunks", {}, null],
  ["encoded", {}, null],
  ["cmderror", {}, null],
  ["servererror", {}, null],
  ["nosuchcommand", {}, null],
  ["stream", { pieces: 32 }, null],
  ["echo", { second: "call" }, 10],
  ["empty", {}, null],
];

function checkHgResults(results: HgResults): void {
  const r = results.requests;
  assert.deepStrictEqual(results.errors, []);
  const ok = "{b'status': b'ok'}";
  assert.deepStrictEqual(r["1"]!.objects, [
    ok,
    "{b'args': {b'foo': b'bar'}, b'command': b'echo', b'data': None}",
  ]);
  const sha = createHash("sha1").update(testData(100_000)).digest("hex");
  assert.deepStrictEqual(r["3"]!.objects, [
    ok,
    `{b'sha1': b'${sha}', b'size': 100000}`,
  ]);
  assert.deepStrictEqual(r["5"]!.objects, [
    ok,
    summary(new Uint8Array(300_000).fill(0x78)),
  ]);
  assert.deepStrictEqual(r["7"]!.objects, [
    ok,
    ...Array.from({ length: 500 }, (_, i) => String(i)),
  ]);
  // Mercurial's decoder reports an indefinite bytestring as its chunks.
  assert.deepStrictEqual(r["9"]!.objects, [
    ok,
    `b'${"a".repeat(10)}'`,
    summary(new Uint8Array(40000).fill(0x62)),
    "b'c'",
    "b''",
  ]);
  assert.deepStrictEqual(r["11"]!.objects, [ok, "{b'pre': b'encoded'}"]);
  assert.deepStrictEqual(r["13"]!.objects, [
    "{b'error': {b'args': [b'oops'], b'message': b'bad thing: %s'}, b'status': b'error'}",
  ]);
  assert.deepStrictEqual(r["15"]!.error, [
    "server",
    "[{b'msg': b'server broke'}]",
  ]);
  assert.deepStrictEqual(r["17"]!.objects, [
    "{b'error': {b'args': [b'nosuchcommand'], b'message': b'unknown command: %s'}, b'status': b'error'}",
  ]);
  assert.deepStrictEqual(r["19"]!.objects, [
    ok,
    ...Array.from({ length: 32 }, () => summary(testData(65536))),
  ]);
  assert.deepStrictEqual(r["21"]!.objects, [
    ok,
    `{b'args': {b'second': b'call'}, b'command': b'echo', b'data': b'${
      pythonBytes(testData(10))
    }'}`,
  ]);
  // An empty response still ends (Mercurial's own server sends nothing).
  assert.deepStrictEqual(r["23"]!.objects, [ok]);
  for (
    const id of ["1", "3", "5", "7", "9", "11", "13", "17", "19", "21", "23"]
  ) {
    assert.deepStrictEqual(r[id]!.eos, true, id);
  }
}

function pythonBytes(b: Uint8Array): string {
  return pythonRepr(b).slice(2, -1);
}

for (const defer of [false, true]) {
  for (
    const encoders of [
      "identity",
      "zlib",
      "zstd-8mb",
      "zstd-8mb,zlib,identity",
      "none",
    ]
  ) {
    peerTest(
      `interop: Mercurial clientreactor -> our server (${encoders}${
        defer ? ", deferred" : ""
      })`,
      HG,
      HG_PEER_NAME,
      async (hg) => {
        const fds = openFdCount();
        let s2c: Uint8Array[] = [];
        const { results } = await runHgClient(
          hg.path,
          encoders,
          HG_CALLS,
          (channel) => {
            const tap = new TransformStream<Uint8Array, Uint8Array>({
              transform(chunk, c) {
                s2c.push(chunk.slice());
                c.enqueue(chunk);
              },
            });
            const done = tap.readable.pipeTo(channel.writable);
            return serveConnection(
              { readable: channel.readable, writable: tap.writable },
              HANDLERS,
              {
                deferOutput: defer,
              },
            ).then(() => done);
          },
        );
        checkHgResults(results);
        const frames = decodeFrames(concatBytes(s2c));
        s2c = [];
        const expected = encoders === "none"
          ? "identity"
          : encoders.split(",")[0];
        assert.deepStrictEqual(
          dec.decode(frames.find((f) => f.type === 9)!.payload.subarray(1)),
          expected,
        );
        assert.ok(frames.every((f) => f.payload.length <= 32768));
        assert.deepStrictEqual(openFdCount(), fds);
      },
    );
  }
}

peerTest(
  "interop: Mercurial clientreactor -> our server as a child process over stdin/stdout",
  HG,
  HG_PEER_NAME,
  async (hg) => {
    const { results } = await runHgClient(
      hg.path,
      "zstd-8mb,zlib,identity",
      HG_CALLS,
      async (channel) => {
        const server = new Deno.Command(Deno.execPath(), {
          args: ["run", "--no-lock", "-A", STDIO_SERVER, "--defer"],
          stdin: "piped",
          stdout: "piped",
          stderr: "inherit",
        }).spawn();
        await Promise.all([
          channel.readable.pipeTo(server.stdin),
          server.stdout.pipeTo(channel.writable),
        ]);
        assert.deepStrictEqual((await server.status).code, 0);
      },
    );
    checkHgResults(results);
  },
);

function sha1(b: Uint8Array): string {
  return createHash("sha1").update(b).digest("hex");
}

/** Decoded response bytes per request id, through a fresh client reactor. */
function decodeAll(frames: Frame[]): Record<number, string> {
  const r = new ClientReactor({ hasMultipleSend: true, bufferSends: false });
  for (let i = 0; i < 10; i++) {
    const c = r.callCommand("x", {});
    if (c.action.action === "sendframes") [...c.action.frames];
  }
  const out: Record<number, number[]> = {};
  for (const f of frames) {
    const a = r.onFrameRecv(f);
    if (a.action === "responsedata") {
      (out[a.request.requestId] ??= []).push(...a.data);
    } else if (a.action === "error" && a.request === undefined) throw a.error;
  }
  r.close();
  return Object.fromEntries(
    Object.entries(out).map(([k, v]) => [Number(k), sha1(Uint8Array.from(v))]),
  );
}

async function golden(
  hgPath: string,
  encoding: string,
  defer: boolean,
): Promise<{ ours: Uint8Array; theirs: Uint8Array }> {
  const client = new ClientReactor({ clientContentEncoders: [encoding] });
  client.callCommand("echo", { foo: "bar", n: 3 });
  client.callCommand("big", { size: 70000 });
  client.callCommand("many", { count: 300 });
  client.callCommand("chunks", {});
  client.callCommand("encoded", {});
  client.callCommand("digest", {}, { data: testData(100_000) });
  client.callCommand("cmderror", {});
  client.callCommand("servererror", {});
  client.callCommand("nosuchcommand", {});
  client.callCommand("echo", { last: true });
  const a = client.flushCommands();
  if (a.action !== "sendframes") throw new Error("no frames");
  const request = encodeFrames(a.frames);
  const out = await new Deno.Command(hgPath, {
    args: [HG_SERVER, ...(defer ? ["--defer"] : [])],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // Read while writing: the server answers before its input ends.
  const reading = new Response(out.stdout).arrayBuffer();
  const writer = out.stdin.getWriter();
  await writer.write(request);
  await writer.close();
  const theirs = new Uint8Array(await reading);
  await out.status;
  const chunks: Uint8Array[] = [];
  await serveConnection(
    {
      readable: ReadableStream.from([request]),
      writable: new WritableStream({
        write: (c) => void chunks.push(c.slice()),
      }),
    },
    HANDLERS,
    { deferOutput: defer, maxConcurrentCommands: 1 },
  );
  return { ours: concatBytes(chunks), theirs };
}

for (const encoding of ["identity", "zlib", "zstd-8mb"]) {
  peerTest(
    `interop: our server answers the same requests like Mercurial's serverreactor (${encoding})`,
    HG,
    HG_PEER_NAME,
    async (hg) => {
      for (const defer of [false, true]) {
        const { ours, theirs } = await golden(hg.path, encoding, defer);
        if (encoding === "identity") {
          // Identity output is byte-identical, frame boundaries included.
          assert.deepStrictEqual(sha1(ours), sha1(theirs), `defer=${defer}`);
          continue;
        }
        // Compressed payloads depend on the zlib/libzstd build, but the
        // frames around them and the decoded bytes are the same.
        const [a, b] = [decodeFrames(ours), decodeFrames(theirs)];
        const shape = (fs: Frame[]): string[] =>
          fs.map((f) =>
            `${f.requestId} ${f.streamId} ${f.streamFlags} ${f.type} ${f.flags}`
          );
        assert.deepStrictEqual(shape(a), shape(b), `defer=${defer}`);
        assert.deepStrictEqual(decodeAll(a), decodeAll(b), `defer=${defer}`);
      }
    },
  );
}
