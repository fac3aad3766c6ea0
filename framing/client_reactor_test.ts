// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Ported from Mercurial's tests/test-wireproto-clientreactor.py, plus the
// cases where we answer with typed errors instead of raising.
import { deflateSync, zstdCompressSync } from "node:zlib";
import assert from "node:assert/strict";
import { fromHex } from "../_test_utils/hex.ts";
import {
  type ClientAction,
  ClientReactor,
  decodeCborAll,
  decodeFrames,
  encodeCbor,
  encodeFrame,
  type Frame,
  frameFromHumanString as ffs,
  OutputStream,
  ProtocolError,
  ServerError,
} from "./mod.ts";

const enc = new TextEncoder();

function sentReactor(
  options: ConstructorParameters<typeof ClientReactor>[0] = {
    bufferSends: false,
  },
) {
  const r = new ClientReactor(options);
  const { request, action } = r.callCommand("foo", {});
  if (action.action === "sendframes") [...action.frames];
  return { r, request };
}

function errorOf(a: ClientAction): string {
  if (a.action !== "error") throw new Error(`expected error, got ${a.action}`);
  if (
    !(a.error instanceof ProtocolError) && !(a.error instanceof ServerError)
  ) throw new Error("untyped");
  return a.message;
}

function dataOf(a: ClientAction): Uint8Array {
  if (a.action !== "responsedata") {
    throw new Error(`expected responsedata, got ${JSON.stringify(a)}`);
  }
  return a.data;
}

function resp(
  rid: number,
  flags: number,
  payload: Uint8Array,
  streamFlags = 4,
): Frame {
  return { requestId: rid, streamId: 2, streamFlags, type: 3, flags, payload };
}

Deno.test("client reactor: single send reactor refuses further commands", () => {
  const r = new ClientReactor({ hasMultipleSend: false, bufferSends: true });
  const { request, action } = r.callCommand("foo", {});
  assert.deepStrictEqual(request.state, "pending");
  assert.deepStrictEqual(action.action, "noop");
  const flushed = r.flushCommands();
  assert.deepStrictEqual(flushed.action, "sendframes");
  assert.deepStrictEqual(request.state, "sent");
  assert.throws(
    () => r.callCommand("foo", {}),
    (e) =>
      e instanceof TypeError && e.message.includes("cannot issue new commands"),
  );
});

Deno.test("client reactor: unbuffered sends go out at once with ids 1, 3", () => {
  const r = new ClientReactor({ hasMultipleSend: true, bufferSends: false });
  const a = r.callCommand("command1", {});
  assert.deepStrictEqual(a.request.requestId, 1);
  assert.deepStrictEqual(a.action.action, "sendframes");
  assert.deepStrictEqual(a.request.state, "sent");
  assert.deepStrictEqual(r.flushCommands().action, "noop");
  const b = r.callCommand("command2", {});
  assert.deepStrictEqual(b.request.requestId, 3);
  assert.deepStrictEqual(b.action.action, "sendframes");
});

Deno.test("client reactor: request ids wrap after 65535, skipping ids still in use", () => {
  const statusOk = encodeCbor(new Map([["status", "ok"]]));
  let begun = false;
  const finish = (r: ClientReactor, rid: number): void => {
    // The first response frame begins the stream; later ones continue it.
    const a = r.onFrameRecv(resp(rid, 2, statusOk, begun ? 0 : 1));
    begun = true;
    assert.deepStrictEqual(a.action, "responsedata");
  };
  const send = (r: ClientReactor): number => {
    const { request, action } = r.callCommand("c", {});
    if (action.action === "sendframes") [...action.frames];
    return request.requestId;
  };
  const r = new ClientReactor({ bufferSends: false, hasMultipleSend: true });
  // Ids 1 and 5 stay in flight; every other one is answered at once.
  const kept = new Set([1, 5]);
  for (let i = 0; i < 32768; i++) {
    const rid = send(r);
    assert.deepStrictEqual(rid, 2 * i + 1);
    if (!kept.has(rid)) finish(r, rid);
  }
  // 65535 was the last; the next free ids are 3, 7, 9 (1 and 5 are busy).
  assert.deepStrictEqual([send(r), send(r), send(r)], [3, 7, 9]);
  finish(r, 1);
  // Buffered requests hold their ids too.
  const b = new ClientReactor({ bufferSends: true, hasMultipleSend: true });
  for (let i = 0; i < 32767; i++) b.callCommand("c", {});
  assert.deepStrictEqual(b.callCommand("c", {}).request.requestId, 65535);
  assert.throws(
    () => b.callCommand("c", {}),
    (e) =>
      e instanceof RangeError &&
      e.message.includes("all 32768 request ids are in use"),
  );
});

Deno.test("client reactor: bad frames", () => {
  const r = new ClientReactor();
  assert.deepStrictEqual(
    errorOf(r.onFrameRecv(ffs("1 1 0 1 0 foo"))),
    "received frame with odd numbered stream ID: 1",
  );
  assert.deepStrictEqual(
    errorOf(r.onFrameRecv(ffs("1 0 0 1 0 foo"))),
    "received frame on unknown stream without beginning of stream flag set",
  );
  const { r: r2 } = sentReactor();
  // Mercurial raises ProgrammingError here; we report text output.
  const t = r2.onFrameRecv(
    ffs("1 0 stream-begin text-output 0 cbor:[{b'msg': b'hi'}]"),
  );
  assert.deepStrictEqual(t.action, "textoutput");
  assert.deepStrictEqual(
    errorOf(r2.onFrameRecv(ffs("1 0 0 command-request new "))),
    "unhandled frame type: 1",
  );
});

Deno.test("client reactor: multiple response frames", () => {
  const { r, request } = sentReactor();
  assert.deepStrictEqual(
    dataOf(
      r.onFrameRecv(
        ffs(`${request.requestId} 0 stream-begin command-response 0 foo`),
      ),
    ).length,
    3,
  );
  const last = r.onFrameRecv(
    ffs(`${request.requestId} 0 0 command-response eos bar`),
  );
  assert.deepStrictEqual(last.action === "responsedata" && last.eos, true);
  assert.deepStrictEqual(request.state, "received");
  assert.deepStrictEqual(
    errorOf(r.onFrameRecv(ffs("1 0 0 command-response eos bar"))),
    "received frame for inactive request ID: 1",
  );
});

Deno.test("client reactor: redirect request bytes", () => {
  const r = new ClientReactor({ bufferSends: false });
  const { action } = r.callCommand("foo", {}, {
    redirect: new Map([["targets", ["a", "b"]], ["hashes", ["sha256"]]]),
  });
  if (action.action !== "sendframes") throw new Error("no frames");
  const frames = [...action.frames];
  assert.deepStrictEqual(frames.length, 1);
  assert.deepStrictEqual(
    encodeFrame(frames[0]!),
    encodeFrame(
      ffs(
        "1 1 stream-begin command-request new cbor:{b'name': b'foo', b'redirect': {b'targets': [b'a', b'b'], b'hashes': [b'sha256']}}",
      ),
    ),
  );
});

Deno.test("client reactor: endless stream settings are refused, not kept", () => {
  const { r } = sentReactor();
  const frame = (first: boolean) => ({
    requestId: 1,
    streamId: 2,
    streamFlags: first ? 1 : 0,
    type: 9,
    flags: 1,
    payload: new Uint8Array(30000), // 30000 CBOR zeros
  });
  assert.deepStrictEqual(r.onFrameRecv(frame(true)).action, "noop");
  assert.deepStrictEqual(r.onFrameRecv(frame(false)).action, "noop");
  assert.deepStrictEqual(
    errorOf(r.onFrameRecv(frame(false))),
    "Cannot read stream settings: 90000 bytes exceed the maximum of 65536 bytes",
  );
});

Deno.test("client reactor: stream settings errors and accepted forms", () => {
  const cases: [string, string][] = [
    [
      "1 2 stream-begin stream-settings 0 ",
      "stream encoding settings frame must have continuation or end of stream flag set",
    ],
    [
      "1 2 stream-begin stream-settings continuation|eos ",
      "stream encoding settings frame cannot have both continuation and end of stream flags set",
    ],
    [
      "1 2 stream-begin stream-settings eos ",
      "stream encoding settings frame did not contain CBOR data",
    ],
    [
      '1 2 stream-begin stream-settings eos cbor:b"badvalue"',
      "error setting stream decoder: unknown stream decoder: badvalue",
    ],
  ];
  for (const [text, message] of cases) {
    assert.deepStrictEqual(
      errorOf(sentReactor().r.onFrameRecv(ffs(text))),
      message,
    );
  }
  assert.deepStrictEqual(
    errorOf(
      sentReactor().r.onFrameRecv(
        ffs("1 2 stream-begin stream-settings eos badvalue"),
      ),
    ).startsWith(
      "error decoding CBOR from stream encoding settings frame: ",
    ),
    true,
  );
  assert.deepStrictEqual(
    sentReactor().r.onFrameRecv(
      ffs('1 2 stream-begin stream-settings eos cbor:b"identity"'),
    ).action,
    "noop",
  );
  const extra = new Uint8Array([
    ...encodeCbor("identity"),
    ...encodeCbor(new Set(["foo", "bar"])),
  ]);
  assert.deepStrictEqual(
    errorOf(
      sentReactor().r.onFrameRecv({
        requestId: 1,
        streamId: 2,
        streamFlags: 1,
        type: 9,
        flags: 2,
        payload: extra,
      }),
    ),
    "error setting stream decoder: identity decoder received unexpected additional values",
  );
  const data = encodeCbor("identity");
  const { r } = sentReactor();
  assert.deepStrictEqual(
    r.onFrameRecv({
      requestId: 1,
      streamId: 2,
      streamFlags: 1,
      type: 9,
      flags: 1,
      payload: data.subarray(0, 3),
    }).action,
    "noop",
  );
  assert.deepStrictEqual(
    r.onFrameRecv({
      requestId: 1,
      streamId: 2,
      streamFlags: 0,
      type: 9,
      flags: 2,
      payload: data.subarray(3),
    }).action,
    "noop",
  );
});

for (
  const [name, compress] of [
    ["zlib", (b: Uint8Array) => new Uint8Array(deflateSync(b))],
    ["zstd-8mb", (b: Uint8Array) => new Uint8Array(zstdCompressSync(b))],
  ] as const
) {
  Deno.test(`client reactor: ${name} response, whole and one byte per frame`, () => {
    const encoded = encodeCbor(new Map([["status", "ok"]]));
    const { r, request } = sentReactor();
    r.onFrameRecv(
      ffs(
        `${request.requestId} 2 stream-begin stream-settings eos cbor:b"${name}"`,
      ),
    );
    assert.deepStrictEqual(
      dataOf(r.onFrameRecv(resp(1, 2, compress(encoded)))),
      encoded,
    );

    const { r: r2 } = sentReactor();
    r2.onFrameRecv(ffs(`1 2 stream-begin stream-settings eos cbor:b"${name}"`));
    const compressed = compress(encoded);
    const chunks: number[] = [];
    for (const b of compressed) {
      const a = r2.onFrameRecv(resp(1, 1, Uint8Array.of(b)));
      if (a.action !== "responsedata") throw new Error("bad action");
      assert.deepStrictEqual([a.expectMore, a.eos], [true, false]);
      chunks.push(...a.data);
    }
    assert.deepStrictEqual(Uint8Array.from(chunks), encoded);
    const end = r2.onFrameRecv(ffs("1 2 stream-end command-response eos "));
    if (end.action !== "responsedata") throw new Error("bad action");
    assert.deepStrictEqual([end.data.length, end.expectMore, end.eos], [
      0,
      false,
      true,
    ]);
  });

  Deno.test(`client reactor: ${name} context carries across two responses`, () => {
    const r = new ClientReactor({ bufferSends: false, hasMultipleSend: true });
    for (const x of [r.callCommand("foo", {}), r.callCommand("foo", {})]) {
      if (x.action.action === "sendframes") [...x.action.frames];
    }
    const out = new OutputStream(2);
    out.setEncoder(name);
    const response1 = encodeCbor({
      status: "ok",
      extra: "response1".repeat(10),
    });
    const response2 = encodeCbor({
      status: "error",
      extra: "response2".repeat(10),
    });
    assert.deepStrictEqual(
      r.onFrameRecv(ffs(`1 2 stream-begin stream-settings eos cbor:b"${name}"`))
        .action,
      "noop",
    );
    const part = dataOf(r.onFrameRecv(resp(1, 1, out.encode(response1))));
    const rest = dataOf(r.onFrameRecv(resp(1, 2, out.flush())));
    assert.deepStrictEqual(new Uint8Array([...part, ...rest]), response1);
    const p2 = dataOf(r.onFrameRecv(resp(3, 1, out.encode(response2))));
    const r2 = dataOf(r.onFrameRecv(resp(3, 2, out.flush())));
    assert.deepStrictEqual(new Uint8Array([...p2, ...r2]), response2);
    out.close();
    r.close();
  });
}

Deno.test("client reactor: error-response frames become ServerError actions", () => {
  const { r, request } = sentReactor();
  const a = r.onFrameRecv(
    ffs(
      "1 2 stream-begin error-response 0 cbor:{b'type': b'server', b'message': [{b'msg': b'some %s', b'args': [b'message']}]}",
    ),
  );
  if (a.action !== "error") throw new Error("expected error");
  assert.deepStrictEqual([a.type, a.message, a.error instanceof ServerError], [
    "server",
    "some message",
    true,
  ]);
  assert.deepStrictEqual(request.state, "errored");
  const { r: r2 } = sentReactor();
  assert.deepStrictEqual(
    r2.onFrameRecv(ffs("1 2 stream-begin error-response 0 \\xff")).action,
    "error",
  );
});

Deno.test("client reactor: invalid vector fails with Mercurial's message", async () => {
  const vectors: { name: string; hex: string }[] = JSON.parse(
    await Deno.readTextFile(
      new URL("./testdata/framing-vectors.json", import.meta.url),
    ),
  );
  const v = vectors.find((x) => x.name.startsWith("INVALID -> clientreactor"))!;
  const m = /'(.*)'$/.exec(v.name)!;
  assert.deepStrictEqual(
    errorOf(new ClientReactor().onFrameRecv(decodeFrames(fromHex(v.hex))[0]!)),
    m[1],
  );
});

Deno.test("client reactor: server vectors decode through the reactor (zlib and zstd)", async () => {
  const vectors: { name: string; hex: string }[] = JSON.parse(
    await Deno.readTextFile(
      new URL("./testdata/framing-vectors.json", import.meta.url),
    ),
  );
  for (const profile of ["zlib", "zstd-8mb"]) {
    const frames = vectors.filter((v) =>
      v.name.startsWith(`serverreactor ${profile}:`)
    )
      .map((v) => decodeFrames(fromHex(v.hex))[0]!);
    // The zlib vectors leave out the 2-byte `78 9c` status frame that
    // starts Mercurial's deflate stream; put it back.
    if (profile === "zlib") {
      frames.splice(1, 0, resp(1, 1, Uint8Array.of(0x78, 0x9c)));
    }
    const r = new ClientReactor({ bufferSends: false, hasMultipleSend: true });
    for (const x of [r.callCommand("a", {}), r.callCommand("b", {})]) {
      if (x.action.action === "sendframes") [...x.action.frames];
    }
    const byRequest = new Map<number, number[]>();
    for (const f of frames) {
      const a = r.onFrameRecv(f);
      if (a.action === "error") throw new Error(`${profile}: ${a.message}`);
      if (a.action === "responsedata") {
        const list = byRequest.get(a.request.requestId) ?? [];
        list.push(...a.data);
        byRequest.set(a.request.requestId, list);
      }
    }
    for (const rid of [1, 3]) {
      const values = decodeCborAll(Uint8Array.from(byRequest.get(rid) ?? []));
      assert.deepStrictEqual(
        values[0],
        new Map([["status", enc.encode("ok")]]),
        `${profile} request ${rid}`,
      );
    }
    r.close();
  }
});
