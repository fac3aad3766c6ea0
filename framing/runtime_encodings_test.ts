// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Compression negotiation that matches the runtime: where `node:zlib` has
 * no zstd (Node 20), or a zstd that throws (Deno before 2.7), servers and
 * clients neither offer nor pick zstd, and nothing throws. The runtime is
 * simulated by swapping the `node:zlib` the codecs use for one shaped like
 * those runtimes'; `node_runtime_test.ts` runs the same selection in the
 * real Node 20.
 */
import * as zlib from "node:zlib";
import assert from "node:assert/strict";
import { useZlibModule, type ZlibModule } from "./_zlib_sync.ts";
import {
  availableStreamEncodings,
  ClientReactor,
  createStreamDecoder,
  createStreamEncoder,
  decodeCborAll,
  decodeFrames,
  encodeFrame,
  type Frame,
  FRAME_TYPE,
  frameFromHumanString,
  FramingClient,
  ProtocolError,
  serveConnection,
} from "./mod.ts";

/** `node:zlib` as Node 20 has it: no zstd functions, no zstd constants. */
function node20Zlib(): ZlibModule {
  const constants = Object.fromEntries(
    Object.entries(zlib.constants).filter(([k]) => !k.startsWith("ZSTD")),
  );
  return {
    createDeflate: zlib.createDeflate,
    createInflate: zlib.createInflate,
    constants,
  };
}

/** `node:zlib` as Deno 2.5/2.6 have it: zstd functions that throw. */
function brokenZstdZlib(): ZlibModule {
  const fail = (): never => {
    throw new TypeError("ERR_ZSTD_INVALID_PARAM is not a constructor");
  };
  return {
    createDeflate: zlib.createDeflate,
    createInflate: zlib.createInflate,
    createZstdCompress: fail,
    createZstdDecompress: fail,
    constants: zlib.constants as unknown as Record<string, number>,
  };
}

async function withZlib<T>(
  module: ZlibModule,
  fn: () => T | Promise<T>,
): Promise<T> {
  useZlibModule(module);
  try {
    return await fn();
  } finally {
    useZlibModule(null);
  }
}

const COUNT = (n: number) =>
  `1 1 0 command-request new cbor:{b'name': b'count', b'args': {b'n': ${n}}}`;
const OFFER_ZSTD_FIRST =
  "1 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'zstd-8mb', b'zlib', b'identity']}";

/** Serves `count` to raw frames (a client that offers zstd, as hg does) and returns the server's frames. */
async function serveRaw(humans: string[]): Promise<Frame[]> {
  const up = new TransformStream<Uint8Array, Uint8Array>();
  const down = new TransformStream<Uint8Array, Uint8Array>();
  const served = serveConnection(
    { readable: up.readable, writable: down.writable },
    {
      async *count(args) {
        for (let i = 0; i < Number(args.get("n")); i++) yield i;
      },
    },
  );
  const writer = up.writable.getWriter();
  for (const h of humans) {
    await writer.write(encodeFrame(frameFromHumanString(h)));
  }
  await writer.close();
  const bytes = new Uint8Array(await new Response(down.readable).arrayBuffer());
  await served;
  return decodeFrames(bytes);
}

/** The stream encoding a server's response stream declared, and the values it carried. */
function readResponse(
  frames: Frame[],
): { encoding: string; values: unknown[] } {
  const settings = frames.find((f) => f.type === FRAME_TYPE.STREAM_SETTINGS);
  assert.ok(settings, "the server sent a stream-settings frame");
  const [name] = decodeCborAll(settings.payload) as Uint8Array[];
  const encoding = new TextDecoder().decode(name);
  const decoder = createStreamDecoder(encoding);
  const values = frames
    .filter((f) => f.type === FRAME_TYPE.COMMAND_RESPONSE)
    .flatMap((f) => decodeCborAll(decoder.decode(f.payload)));
  decoder.close();
  return { encoding, values };
}

Deno.test("runtime encodings: Deno 2.9 runs all three", () => {
  assert.deepEqual(availableStreamEncodings(), [
    "zstd-8mb",
    "zlib",
    "identity",
  ]);
});

Deno.test("runtime encodings: a node:zlib without zstd (Node 20) or with a throwing zstd (Deno 2.5) leaves zlib and identity", async () => {
  for (const module of [node20Zlib(), brokenZstdZlib()]) {
    await withZlib(module, () => {
      assert.deepEqual(availableStreamEncodings(), ["zlib", "identity"]);
      // Asking for zstd anyway is Mercurial's "unknown" error, not a crash.
      assert.throws(
        () => createStreamEncoder("zstd-8mb"),
        (e) =>
          e instanceof ProtocolError &&
          e.message === "unknown stream encoder: zstd-8mb",
      );
      assert.throws(
        () => createStreamDecoder("zstd-8mb"),
        (e) =>
          e instanceof ProtocolError &&
          e.message === "unknown stream decoder: zstd-8mb",
      );
      const enc = createStreamEncoder("zlib");
      const dec = createStreamDecoder("zlib");
      const data = new TextEncoder().encode("still compressed");
      const wire = new Uint8Array([...enc.encode(data), ...enc.flush()]);
      assert.deepEqual(dec.decode(wire), data);
      enc.close();
      dec.close();
    });
  }
  // Back on the real node:zlib.
  assert.ok(availableStreamEncodings().includes("zstd-8mb"));
});

Deno.test("runtime encodings: without zstd a server answers a client that offers zstd first with zlib", async () => {
  const real = readResponse(await serveRaw([OFFER_ZSTD_FIRST, COUNT(3)]));
  assert.equal(real.encoding, "zstd-8mb");
  const simulated = await withZlib(
    node20Zlib(),
    async () => readResponse(await serveRaw([OFFER_ZSTD_FIRST, COUNT(3)])),
  );
  assert.equal(simulated.encoding, "zlib");
  for (const r of [real, simulated]) {
    assert.deepEqual(r.values.slice(1), [0, 1, 2]);
  }
});

Deno.test("runtime encodings: a server configured for zstd only falls back to identity where zstd is missing", async () => {
  await withZlib(node20Zlib(), async () => {
    const up = new TransformStream<Uint8Array, Uint8Array>();
    const down = new TransformStream<Uint8Array, Uint8Array>();
    const served = serveConnection(
      { readable: up.readable, writable: down.writable },
      {
        async *one() {
          yield 1;
        },
      },
      { encoders: ["zstd-8mb"] },
    );
    const writer = up.writable.getWriter();
    for (
      const h of [
        OFFER_ZSTD_FIRST,
        "1 1 0 command-request new cbor:{b'name': b'one'}",
      ]
    ) await writer.write(encodeFrame(frameFromHumanString(h)));
    await writer.close();
    const frames = decodeFrames(
      new Uint8Array(await new Response(down.readable).arrayBuffer()),
    );
    await served;
    const { encoding, values } = readResponse(frames);
    assert.equal(encoding, "identity");
    assert.deepEqual(values.slice(1), [1]);
  });
});

Deno.test("runtime encodings: without zstd a client offers zlib and identity only, and its calls work", async () => {
  await withZlib(node20Zlib(), async () => {
    const reactor = new ClientReactor({
      hasMultipleSend: true,
      bufferSends: false,
      clientContentEncoders: ["zstd-8mb", "zlib", "identity"],
    });
    const { action } = reactor.callCommand("heads", {});
    assert.equal(action.action, "sendframes");
    const settings = action.action === "sendframes"
      ? [...action.frames].find((f) =>
        f.type === FRAME_TYPE.SENDER_PROTOCOL_SETTINGS
      )
      : undefined;
    assert.ok(settings);
    const offered = decodeCborAll(settings.payload)[0] as Map<
      Uint8Array | string,
      Uint8Array[]
    >;
    const list = [...offered.values()][0]!;
    assert.deepEqual(list.map((b) => new TextDecoder().decode(b)), [
      "zlib",
      "identity",
    ]);

    // The default client against a default server, both without zstd.
    const up = new TransformStream<Uint8Array, Uint8Array>();
    const down = new TransformStream<Uint8Array, Uint8Array>();
    const served = serveConnection(
      { readable: up.readable, writable: down.writable },
      {
        async *count(args) {
          for (let i = 0; i < Number(args.get("n")); i++) yield i;
        },
      },
    );
    const client = new FramingClient({
      readable: down.readable,
      writable: up.writable,
    });
    const got: unknown[] = [];
    for await (const v of client.call("count", { n: 4 })) got.push(v);
    assert.deepEqual(got, [0, 1, 2, 3]);
    await client.close();
    await served;
  });
});
