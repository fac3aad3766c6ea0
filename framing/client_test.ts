// Copyright 2026 the @sidecar/ipc authors. MIT license.
// The client accepts every frame Mercurial sends: a command error is one
// frame however long its arguments (Mercurial never splits it), and an
// oversized frame fails only the call it belongs to.
import assert from "node:assert/strict";
import { peerTest } from "../_test_utils/peers.ts";
import { HG, HG_PEER_NAME, HG_SERVER } from "../_test_utils/framing/hg.ts";
import { pair } from "../_test_utils/framing/channels.ts";
import {
  CommandError,
  createCommandErrorFrame,
  createStreamEncoder,
  decodeFrames,
  encodeCbor,
  encodeFrames,
  type Frame,
  FRAME_FLAG,
  FRAME_TYPE,
  FramingClient,
  OutputStream,
  ProtocolError,
  STREAM_FLAG,
} from "./mod.ts";
import { concatBytes } from "../_internal/bytes.ts";

peerTest(
  "client: Mercurial's 70,048-byte command-error frame fails only its call",
  HG,
  HG_PEER_NAME,
  async (hg) => {
    const child = new Deno.Command(hg.path, {
      args: [HG_SERVER],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const seen: Uint8Array[] = [];
    const tap = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        seen.push(chunk.slice());
        c.enqueue(chunk);
      },
    });
    // Default options: the limits fit whatever Mercurial sends.
    const client = new FramingClient({
      readable: child.stdout.pipeThrough(tap),
      writable: child.stdin,
    });
    const before = Array.fromAsync(client.call("many", { count: 500 }));
    const big = Array.fromAsync(client.call("bigerror", { size: 70000 }));
    const after = Array.fromAsync(client.call("echo", { n: 1 }));
    const error = await big.then(() => null, (e) => e);
    assert.ok(error instanceof CommandError, String(error).slice(0, 200));
    assert.equal(error.format, "bad: %s");
    assert.equal(error.args.length, 1);
    assert.equal(error.args[0], "z".repeat(70000));
    assert.equal(error.code, "COMMAND_ERROR");
    assert.equal((await before).length, 500);
    assert.equal((await after).length, 1);
    await client.close();
    assert.equal((await child.status).code, 0);
    assert.equal(await stderr, "");
    // One frame, not split, with a correct 24-bit length; decodeFrames
    // takes it with its default options too.
    const frames = decodeFrames(concatBytes(seen));
    const errorFrame = frames.find((f) => f.requestId === 3)!;
    assert.equal(errorFrame.payload.length, 70048);
    assert.equal(errorFrame.flags, FRAME_FLAG.COMMAND_RESPONSE_EOS);
  },
);

/** A scripted server: reads the client's requests, writes `frames`. */
async function scripted(
  calls: (client: FramingClient) => Promise<unknown>[],
  frames: (out: OutputStream) => Frame[],
  options: ConstructorParameters<typeof FramingClient>[1] = {},
): Promise<PromiseSettledResult<unknown>[]> {
  const { client: c, server: s } = pair();
  const client = new FramingClient(c, { contentEncodings: null, ...options });
  const results = Promise.allSettled(calls(client));
  const requests = s.readable.pipeTo(new WritableStream());
  const w = s.writable.getWriter();
  await w.write(encodeFrames(frames(new OutputStream(2)), 0xffffff));
  const settled = await results;
  await client.close();
  await w.close().catch(() => {});
  await requests.catch(() => {});
  return settled;
}

function ok(out: OutputStream, rid: number): Frame {
  return out.makeFrame(
    rid,
    FRAME_TYPE.COMMAND_RESPONSE,
    FRAME_FLAG.COMMAND_RESPONSE_CONTINUATION,
    encodeCbor({ status: "ok" }),
  );
}

function value(
  out: OutputStream,
  rid: number,
  v: Uint8Array | number,
  flags: number = FRAME_FLAG.COMMAND_RESPONSE_EOS,
): Frame {
  return out.makeFrame(rid, FRAME_TYPE.COMMAND_RESPONSE, flags, encodeCbor(v));
}

function eos(out: OutputStream, rid: number): Frame {
  return out.makeFrame(
    rid,
    FRAME_TYPE.COMMAND_RESPONSE,
    FRAME_FLAG.COMMAND_RESPONSE_EOS,
    new Uint8Array(0),
  );
}

const MORE = FRAME_FLAG.COMMAND_RESPONSE_CONTINUATION;

Deno.test("client: a data frame over maxPayloadSize fails only its call; one at the limit passes", async () => {
  const [a, b, c] = await scripted(
    (client) => [
      Array.fromAsync(client.call("a")),
      Array.fromAsync(client.call("b")),
      Array.fromAsync(client.call("c")),
    ],
    (out) => [
      ok(out, 1),
      ok(out, 3),
      ok(out, 5),
      // 70,000 bytes of data (a continuation: no error frame), over the
      // default 65535.
      value(out, 1, new Uint8Array(69995), MORE),
      // 65,535 bytes: at the limit.
      value(out, 3, new Uint8Array(65530), MORE),
      value(out, 5, 7),
      eos(out, 1),
      eos(out, 3),
    ],
  );
  assert.equal(a!.status, "rejected");
  const error = (a as PromiseRejectedResult).reason;
  assert.ok(error instanceof ProtocolError, String(error).slice(0, 200));
  assert.equal(error.code, "FRAME_TOO_LARGE");
  assert.match(error.message, /70000 bytes exceeds the maximum of 65535 bytes/);
  assert.equal(b!.status, "fulfilled");
  assert.equal(
    ((b as PromiseFulfilledResult<Uint8Array[]>).value[0]!).length,
    65530,
  );
  assert.deepEqual(c, { status: "fulfilled", value: [7] });
});

Deno.test("client: a command-error frame over maxErrorPayloadSize fails only its call", async () => {
  const [a, b] = await scripted(
    (client) => [
      Array.fromAsync(client.call("a")),
      Array.fromAsync(client.call("b")),
    ],
    (out) => [
      createCommandErrorFrame(out, 1, "bad: %s", ["z".repeat(5000)]),
      ok(out, 3),
      value(out, 3, 7),
    ],
    { maxErrorPayloadSize: 1000 },
  );
  assert.equal(a!.status, "rejected");
  const error = (a as PromiseRejectedResult).reason;
  assert.ok(error instanceof ProtocolError, String(error).slice(0, 200));
  assert.equal(error.code, "FRAME_TOO_LARGE");
  assert.deepEqual(b, { status: "fulfilled", value: [7] });
});

Deno.test("client: an oversized encoded frame still goes through its stream's decoder, so later calls on the stream decode", async () => {
  const noise = new Uint8Array(100_000);
  for (let o = 0; o < noise.length; o += 65536) {
    crypto.getRandomValues(noise.subarray(o, o + 65536));
  }
  const [a, b] = await scripted(
    (client) => [
      Array.fromAsync(client.call("a")),
      Array.fromAsync(client.call("b")),
    ],
    (out) => {
      const zstd = createStreamEncoder("zstd-8mb");
      const frame = (rid: number, flags: number, data: Uint8Array): Frame => {
        const bytes = new Uint8Array([...zstd.encode(data), ...zstd.flush()]);
        return out.makeFrame(
          rid,
          FRAME_TYPE.COMMAND_RESPONSE,
          flags,
          bytes,
          true,
        );
      };
      const frames = [
        out.makeFrame(
          1,
          FRAME_TYPE.STREAM_SETTINGS,
          FRAME_FLAG.STREAM_SETTINGS_EOS,
          encodeCbor("zstd-8mb"),
        ),
        frame(1, 1, encodeCbor({ status: "ok" })),
        frame(3, 1, encodeCbor({ status: "ok" })),
        // Incompressible: about 100 KB on the wire, over the limit.
        frame(1, 2, encodeCbor(noise)),
        frame(3, 2, encodeCbor(7)),
      ];
      zstd.close();
      assert.ok(frames[3]!.payload.length > 65535);
      assert.equal(frames[3]!.streamFlags, STREAM_FLAG.ENCODED);
      return frames;
    },
    { contentEncodings: ["zstd-8mb"] },
  );
  assert.equal(a!.status, "rejected");
  assert.equal((a as PromiseRejectedResult).reason.code, "FRAME_TOO_LARGE");
  assert.deepEqual(b, { status: "fulfilled", value: [7] });
});
