// Copyright 2026 the @sidecar/ipc authors. MIT license.
// serveConnection and serveStdio on bad input: every protocol error, found
// by the frame decoder, the reactor or at the end of input, reaches
// onProtocolError and ends the connection with that error; a stdio server
// exits non-zero with Mercurial's message, as Mercurial's own does.
import assert from "node:assert/strict";
import { peerTest } from "../_test_utils/peers.ts";
import {
  HG,
  HG_CLIENT,
  HG_PEER_NAME,
  HG_SERVER,
  RESET_CLIENTS,
  runStdioServer,
  runWithInput,
} from "../_test_utils/framing/hg.ts";
import { pair } from "../_test_utils/framing/channels.ts";
import {
  encodeFrame,
  frameFromHumanString,
  FramingError,
  ProtocolError,
  serve,
  serveConnection,
} from "./mod.ts";
import { HANDLERS } from "./testdata/interop_handlers.ts";

const enc = new TextEncoder();

/** A header announcing 25 bytes, then 2 of them (issue 15). */
const SHORT_PAYLOAD = Uint8Array.of(
  0x19,
  0x00,
  0x00,
  0x01,
  0x00,
  0x01,
  0x01,
  0x11,
  0xa2,
  0x44,
);
/** 3 bytes of a header. */
const SHORT_HEADER = Uint8Array.of(0x19, 0x00, 0x00);
/** A header announcing 0xffffff bytes. */
const HUGE_LENGTH = Uint8Array.of(
  0xff,
  0xff,
  0xff,
  0x01,
  0x00,
  0x01,
  0x01,
  0x11,
);
/** Plain garbage: its first "length" is 0x544547. */
const GARBAGE = enc.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
/** A whole frame of an undefined type (15). */
const BAD_TYPE = Uint8Array.of(
  0x01,
  0x00,
  0x00,
  0x01,
  0x00,
  0x01,
  0x01,
  0xf0,
  0x00,
);

const CASES: {
  name: string;
  input: Uint8Array;
  /** Whether the input ends after the bytes (else it stays open). */
  ends: boolean;
  message: string | RegExp;
}[] = [
  {
    name: "a frame cut short by the end of input",
    input: SHORT_PAYLOAD,
    ends: true,
    message: "frame length error: expected 25; got 2",
  },
  {
    name: "a header cut short by the end of input",
    input: SHORT_HEADER,
    ends: true,
    message: /^received incomplete frame: got 3 bytes/,
  },
  {
    name: "a header announcing 0xffffff bytes, input still open",
    input: HUGE_LENGTH,
    ends: false,
    message: /16777215 bytes exceeds the maximum of 65535 bytes/,
  },
  {
    name: "plain garbage, input still open",
    input: GARBAGE,
    ends: false,
    message: /5522759 bytes exceeds the maximum of 65535 bytes/,
  },
  {
    name: "a frame of an undefined type, input still open",
    input: BAD_TYPE,
    ends: false,
    message:
      "expected sender protocol settings or command request frame; got 15",
  },
];

for (const c of CASES) {
  Deno.test(`serveConnection: ${c.name} reaches onProtocolError and rejects`, async () => {
    const { client, server } = pair();
    const seen: ProtocolError[] = [];
    const served = serveConnection(server, HANDLERS, {
      onProtocolError: (e) => seen.push(e),
    });
    const w = client.writable.getWriter();
    await w.write(c.input);
    if (c.ends) await w.close();
    const error = await served.then(() => null, (e) => e);
    assert.ok(error instanceof ProtocolError, `rejects: ${error}`);
    assert.equal(seen.length, 1);
    assert.equal(seen[0], error);
    if (typeof c.message === "string") assert.equal(error.message, c.message);
    else assert.match(error.message, c.message);
    assert.equal(typeof error.code, "string");
    // The server closed its side: the client sees the end of the stream.
    const rest = await new Response(client.readable).arrayBuffer();
    assert.equal(rest.byteLength, 0);
    await w.close().catch(() => {});
  });

  Deno.test(`serveStdio: ${c.name} exits non-zero with the message`, async () => {
    const ours = await runStdioServer(c.input, !c.ends);
    assert.notEqual(ours.code, 0, ours.stderr);
    if (typeof c.message === "string") {
      assert.ok(ours.stderr.includes(c.message), ours.stderr);
    } else {
      assert.match(ours.stderr, new RegExp(c.message.source.replace("^", "")));
    }
    assert.equal(ours.stdout.length, 0);
  });
}

peerTest(
  "serveStdio: the same bytes end Mercurial's server and ours with the same message",
  HG,
  HG_PEER_NAME,
  async (hg) => {
    for (
      const [input, message] of [
        [SHORT_PAYLOAD, "frame length error: expected 25; got 2"],
        [SHORT_HEADER, "received incomplete frame: got 3 bytes"],
      ] as const
    ) {
      const theirs = await runWithInput(hg.path, [HG_SERVER], input);
      const ours = await runStdioServer(input);
      assert.notEqual(theirs.code, 0);
      assert.notEqual(ours.code, 0);
      assert.ok(theirs.stderr.includes(message), theirs.stderr);
      assert.ok(ours.stderr.includes(message), ours.stderr);
    }
    // A reactor error: Mercurial's test server exits 3 with the reactor's
    // message (input still open: the frame is whole).
    const theirs = await runWithInput(hg.path, [HG_SERVER], BAD_TYPE, true);
    const ours = await runStdioServer(BAD_TYPE, true);
    const message =
      "expected sender protocol settings or command request frame; got 15";
    assert.equal(theirs.code, 3);
    assert.ok(theirs.stderr.includes(message), theirs.stderr);
    assert.notEqual(ours.code, 0);
    assert.ok(ours.stderr.includes(message), ours.stderr);
  },
);

Deno.test("serveConnection: a protocol error after good requests still rejects, and running handlers see the abort", async () => {
  const { client, server } = pair();
  const seen: ProtocolError[] = [];
  let reason: unknown;
  let started!: () => void;
  const running = new Promise<void>((r) => started = r);
  const served = serveConnection(server, {
    async *wait(_args, ctx) {
      started();
      reason = await new Promise((resolve) =>
        ctx.signal.addEventListener("abort", () => resolve(ctx.signal.reason))
      );
      yield 1;
    },
  }, { onProtocolError: (e) => seen.push(e) });
  const w = client.writable.getWriter();
  await w.write(encodeFrame(frameFromHumanString(
    "1 1 stream-begin command-request new cbor:{b'name': b'wait'}",
  )));
  await running;
  await w.write(SHORT_PAYLOAD);
  await w.close();
  const error = await served.then(() => null, (e) => e);
  assert.ok(error instanceof ProtocolError);
  assert.equal(error.message, "frame length error: expected 25; got 2");
  assert.deepEqual(seen, [error]);
  assert.equal(reason, error);
});

Deno.test("serveConnection: a failed read rejects with a typed error and aborts the handlers", async () => {
  let input!: ReadableStreamDefaultController<Uint8Array>;
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      input = c;
    },
  });
  let reason: unknown;
  let started!: () => void;
  const running = new Promise<void>((r) => started = r);
  const served = serveConnection(
    { readable, writable: new WritableStream() },
    {
      async *wait(_args, ctx) {
        started();
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
  input.enqueue(encodeFrame(frameFromHumanString(
    "1 1 stream-begin command-request new cbor:{b'name': b'wait'}",
  )));
  await running;
  const cause = new Error("connection reset");
  input.error(cause);
  const error = await served.then(() => null, (e) => e);
  assert.ok(error instanceof FramingError);
  assert.equal(error.message, "Cannot read request: the connection failed");
  assert.equal(error.cause, cause);
  assert.equal(reason, error);
});

peerTest(
  "serve: clients that reset before accept are skipped and reported; Mercurial's client is still served",
  HG,
  HG_PEER_NAME,
  async (hg) => {
    const errors: FramingError[] = [];
    await using server = serve(
      { hostname: "127.0.0.1", port: 0 },
      HANDLERS,
      { onError: (e) => errors.push(e) },
    );
    const { port } = server.addr as Deno.NetAddr;
    // outputSync() blocks this process's event loop: none of the 50
    // connections can be accepted before it is reset.
    const reset = new Deno.Command(hg.path, {
      args: [RESET_CLIENTS, "127.0.0.1", String(port), "50"],
    }).outputSync();
    assert.ok(reset.success, new TextDecoder().decode(reset.stderr));
    const dir = await Deno.makeTempDir({ prefix: "framing-reset-" });
    try {
      await Deno.writeTextFile(
        `${dir}/calls.json`,
        JSON.stringify([["echo", { foo: "bar" }, null], ["many", {
          count: 3,
        }, null]]),
      );
      const out = await new Deno.Command(hg.path, {
        args: [
          HG_CLIENT,
          `${dir}/results.json`,
          "zstd-8mb,zlib,identity",
          `${dir}/calls.json`,
          `127.0.0.1:${port}`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const results = JSON.parse(
        await Deno.readTextFile(`${dir}/results.json`),
      );
      assert.deepEqual(results.errors, []);
      assert.deepEqual(results.requests["1"].objects, [
        "{b'status': b'ok'}",
        "{b'args': {b'foo': b'bar'}, b'command': b'echo', b'data': None}",
      ]);
      assert.deepEqual(results.requests["3"].objects, [
        "{b'status': b'ok'}",
        "0",
        "1",
        "2",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    // The resets reached the accept loop, which skipped each one.
    const resets = errors.filter((e) => e.message.startsWith("Cannot accept"));
    assert.equal(resets.length, 50);
    for (const e of resets) {
      assert.ok(["ENOTCONN", "ECONNRESET", "ECONNABORTED"].includes(e.code));
    }
  },
);
