// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Ported from Mercurial's tests/test-wireproto-serverreactor.py (the cases
// that apply), plus our limits and the invalid vectors.
import assert from "node:assert/strict";
import { fromHex } from "../_test_utils/hex.ts";
import {
  CommandError,
  createCommandFrames,
  decodeFrames,
  encodeCbor,
  encodeFrame,
  type Frame,
  frameFromHumanString as ffs,
  OutputStream,
  ProtocolError,
  type ServerAction,
  ServerReactor,
} from "./mod.ts";

const enc = new TextEncoder();
const OK = encodeCbor(new Map([["status", "ok"]]));

function send(reactor: ServerReactor, frames: Iterable<Frame>): ServerAction[] {
  return [...frames].map((f) => reactor.onFrameRecv(f));
}

function sendCommand(
  reactor: ServerReactor,
  stream: OutputStream,
  rid: number,
  name: string,
  args: Record<string, string>,
  data?: Uint8Array,
): ServerAction[] {
  return send(reactor, createCommandFrames(stream, rid, name, args, { data }));
}

function run(a: ServerAction | undefined): Record<string, unknown> {
  if (a?.action !== "runcommand") {
    throw new Error(`expected runcommand, got ${JSON.stringify(a)}`);
  }
  return {
    requestId: a.requestId,
    command: a.command,
    args: Object.fromEntries(
      [...a.args].map((
        [k, v],
      ) => [k, new TextDecoder().decode(v as Uint8Array)]),
    ),
    redirect: a.redirect,
    data: a.data === null ? null : new TextDecoder().decode(a.data),
  };
}

function errorMessage(a: ServerAction | undefined): string {
  if (a?.action !== "error") {
    throw new Error(`expected error, got ${a?.action}`);
  }
  if (!(a.error instanceof ProtocolError)) throw new Error("untyped error");
  return a.message;
}

function frames(a: ServerAction): Frame[] {
  if (a.action !== "sendframes") {
    throw new Error(`expected sendframes, got ${a.action}`);
  }
  return [...a.frames];
}

function assertFrames(actual: Frame[], expected: (string | Frame)[]): void {
  assert.deepStrictEqual(
    actual.map((f) => encodeFrame(f)),
    expected.map((e) => encodeFrame(typeof e === "string" ? ffs(e) : e)),
  );
}

function okFrame(rid: number, begin = false): Frame {
  return {
    requestId: rid,
    streamId: 2,
    streamFlags: 4 | (begin ? 1 : 0),
    type: 3,
    flags: 1,
    payload: OK,
  };
}

Deno.test("server reactor: one-frame command gives runcommand", () => {
  const r = new ServerReactor();
  const results = sendCommand(r, new OutputStream(1), 1, "mycommand", {});
  assert.deepStrictEqual(results.length, 1);
  assert.deepStrictEqual(run(results[0]), {
    requestId: 1,
    command: "mycommand",
    args: {},
    redirect: null,
    data: null,
  });
  assert.deepStrictEqual(r.onInputEof().action, "noop");
});

Deno.test("server reactor: arguments", () => {
  const r = new ServerReactor();
  assert.deepStrictEqual(
    run(sendCommand(r, new OutputStream(1), 41, "mycommand", { foo: "bar" })[0])
      .args,
    { foo: "bar" },
  );
  const r2 = new ServerReactor();
  assert.deepStrictEqual(
    run(
      sendCommand(r2, new OutputStream(1), 1, "mycommand", {
        foo: "bar",
        biz: "baz",
      })[0],
    ).args,
    {
      biz: "baz",
      foo: "bar",
    },
  );
});

Deno.test("server reactor: simple and multi-frame command data", () => {
  const r = new ServerReactor();
  const res = sendCommand(
    r,
    new OutputStream(1),
    1,
    "mycommand",
    {},
    enc.encode("data!"),
  );
  assert.deepStrictEqual(res.map((a) => a.action), ["wantframe", "runcommand"]);
  assert.deepStrictEqual(run(res[1]).data, "data!");
  const r2 = new ServerReactor();
  const res2 = send(r2, [
    ffs(
      "1 1 stream-begin command-request new|have-data cbor:{b'name': b'mycommand'}",
    ),
    ffs("1 1 0 command-data continuation data1"),
    ffs("1 1 0 command-data continuation data2"),
    ffs("1 1 0 command-data eos data3"),
  ]);
  assert.deepStrictEqual(res2.map((a) => a.action), [
    "wantframe",
    "wantframe",
    "wantframe",
    "runcommand",
  ]);
  assert.deepStrictEqual(run(res2[3]).data, "data1data2data3");
  const r3 = new ServerReactor();
  const res3 = send(r3, [
    ffs(
      "1 1 stream-begin command-request new|have-data cbor:{b'name': b'command', b'args': {b'key': b'val',b'foo': b'bar'}}",
    ),
    ffs("1 1 0 command-data continuation value1"),
    ffs("1 1 0 command-data eos value2"),
  ]);
  assert.deepStrictEqual(run(res3[2]), {
    requestId: 1,
    command: "command",
    args: { foo: "bar", key: "val" },
    redirect: null,
    data: "value1value2",
  });
});

Deno.test("server reactor: flag and state errors carry Mercurial's messages", () => {
  const cases: [string[], string][] = [
    [
      ["1 1 stream-begin command-request new|continuation "],
      "received command request frame with both new and continuation flags set",
    ],
    [
      ["1 1 stream-begin command-request 0 "],
      "received command request frame with neither new nor continuation flags set",
    ],
    [
      ["1 1 stream-begin command-data 0 ignored"],
      "expected sender protocol settings or command request frame; got 2",
    ],
    [
      [
        "1 1 stream-begin command-request new|more cbor:{b'name': b'ignored'}",
        "1 1 0 command-data eos ignored",
      ],
      "received command data frame for request that is not expecting data: 1",
    ],
    [
      [
        "1 1 stream-begin command-request new|more cbor:{b'name': b'command'}",
        "1 1 0 command-request new cbor:{b'name': b'command1'}",
      ],
      "request with ID 1 already received",
    ],
    [
      [
        "1 1 stream-begin command-request new|have-data cbor:{b'name': b'command1'}",
        "1 1 0 command-data 0 data",
      ],
      "command data frame without flags",
    ],
    [
      [
        "1 1 stream-begin command-request new cbor:{b'name': b'command1'}",
        "3 1 0 command-request new|have-data cbor:{b'name': b'command3'}",
        "5 1 0 command-data eos ignored",
      ],
      "received frame for request that is not receiving: 5",
    ],
    [
      ["0 1 stream-begin sender-protocol-settings 0 "],
      "sender protocol settings frame must have continuation or end of stream flag set",
    ],
    [
      ["0 1 stream-begin sender-protocol-settings continuation|eos "],
      "sender protocol settings frame cannot have both continuation and end of stream flags set",
    ],
    [
      ["0 1 stream-begin sender-protocol-settings eos "],
      "sender protocol settings frame did not contain CBOR data",
    ],
    [
      ["0 1 stream-begin sender-protocol-settings eos \\x46foobar\\x43foo"],
      "sender protocol settings frame contained multiple CBOR values",
    ],
    [
      [
        "1 1 stream-begin command-request new cbor:{b'name': b'mycommand'}",
        "0 1 0 sender-protocol-settings eos ",
      ],
      "expected command request frame; got 8",
    ],
  ];
  for (const [texts, message] of cases) {
    const results = send(new ServerReactor(), texts.map(ffs));
    assert.deepStrictEqual(errorMessage(results.at(-1)), message);
  }
  const bad = send(new ServerReactor(), [
    ffs("0 1 stream-begin sender-protocol-settings eos badvalue"),
  ]);
  assert.deepStrictEqual(
    errorMessage(bad[0]).startsWith(
      "error decoding CBOR from sender protocol settings frame: ",
    ),
    true,
  );
});

Deno.test("server reactor: a partial request is ignored when another completes", () => {
  const results = send(new ServerReactor(), [
    ffs(
      "1 1 stream-begin command-request new|have-data cbor:{b'name': b'command1'}",
    ),
    ffs("3 1 0 command-request new cbor:{b'name': b'command2'}"),
  ]);
  assert.deepStrictEqual(results.map((a) => a.action), [
    "wantframe",
    "runcommand",
  ]);
});

Deno.test("server reactor: interleaved commands", () => {
  const cbor1 = encodeCbor({
    name: "command1",
    args: { foo: "bar", key1: "val" },
  });
  const cbor3 = encodeCbor({
    name: "command3",
    args: { biz: "baz", key: "val" },
  });
  const f = (
    rid: number,
    begin: boolean,
    flags: number,
    payload: Uint8Array,
  ): Frame => ({
    requestId: rid,
    streamId: 1,
    streamFlags: begin ? 1 : 0,
    type: 1,
    flags,
    payload,
  });
  const results = send(new ServerReactor(), [
    f(1, true, 0x05, cbor1.subarray(0, 6)),
    f(3, false, 0x05, cbor3.subarray(0, 10)),
    f(1, false, 0x06, cbor1.subarray(6, 9)),
    f(3, false, 0x06, cbor3.subarray(10, 13)),
    f(3, false, 0x02, cbor3.subarray(13)),
    f(1, false, 0x02, cbor1.subarray(9)),
  ]);
  assert.deepStrictEqual(results.map((a) => a.action), [
    "wantframe",
    "wantframe",
    "wantframe",
    "wantframe",
    "runcommand",
    "runcommand",
  ]);
  assert.deepStrictEqual(run(results[4]), {
    requestId: 3,
    command: "command3",
    args: { biz: "baz", key: "val" },
    redirect: null,
    data: null,
  });
  assert.deepStrictEqual(run(results[5]), {
    requestId: 1,
    command: "command1",
    args: { foo: "bar", key1: "val" },
    redirect: null,
    data: null,
  });
});

Deno.test("server reactor: request ids may be reused once the response was produced", () => {
  const r = new ServerReactor();
  const out = r.makeOutputStream();
  for (const body of ["response1", "response2", "response3"]) {
    const a = r.onFrameRecv(
      ffs("1 1 stream-begin command-request new cbor:{b'name': b'command'}"),
    );
    assert.deepStrictEqual(run(a).requestId, 1);
    frames(r.onCommandResponseReadyObjects(out, 1, [body]));
  }
});

Deno.test("server reactor: an active request id is rejected until its response is consumed", () => {
  const r = new ServerReactor();
  const s = new OutputStream(1);
  sendCommand(r, s, 1, "command1", {});
  assert.deepStrictEqual(
    errorMessage(sendCommand(r, s, 1, "command1", {})[0]),
    "request with ID 1 is already active",
  );

  const r2 = new ServerReactor();
  const s2 = new OutputStream(1);
  sendCommand(r2, s2, 1, "command1", {});
  const out = r2.makeOutputStream();
  const pending = r2.onCommandResponseReadyObjects(out, 1, ["response"]);
  assert.deepStrictEqual(
    errorMessage(sendCommand(r2, s2, 1, "command1", {})[0]),
    "request with ID 1 is already active",
  );
  void pending;

  const r3 = new ServerReactor();
  const s3 = new OutputStream(1);
  sendCommand(r3, s3, 1, "command1", {});
  frames(
    r3.onCommandResponseReadyObjects(r3.makeOutputStream(), 1, ["response"]),
  );
  assert.deepStrictEqual(
    sendCommand(r3, s3, 1, "command1", {})[0]?.action,
    "runcommand",
  );
});

Deno.test("server reactor: simple and multi-frame responses are byte-identical to Mercurial's", () => {
  const r = new ServerReactor();
  sendCommand(r, new OutputStream(1), 1, "mycommand", {});
  const out = r.makeOutputStream();
  assertFrames(frames(r.onCommandResponseReadyObjects(out, 1, ["response"])), [
    '1 2 stream-begin stream-settings eos cbor:b"identity"',
    okFrame(1),
    '1 2 encoded command-response continuation cbor:b"response"',
    "1 2 0 command-response eos ",
  ]);

  const r2 = new ServerReactor();
  sendCommand(r2, new OutputStream(1), 1, "mycommand", {});
  const first = new Uint8Array(32768).fill(0x78);
  const second = new Uint8Array(100).fill(0x79);
  const body = new Uint8Array([...first, ...second]);
  const resp = (payload: Uint8Array): Frame => ({
    requestId: 1,
    streamId: 2,
    streamFlags: 4,
    type: 3,
    flags: 1,
    payload,
  });
  assertFrames(
    frames(r2.onCommandResponseReadyObjects(r2.makeOutputStream(), 1, [body])),
    [
      '1 2 stream-begin stream-settings eos cbor:b"identity"',
      okFrame(1),
      "1 2 encoded command-response continuation Y\\x80d",
      resp(first),
      resp(second),
      "1 2 0 command-response eos ",
    ],
  );
});

Deno.test("server reactor: server error frame", () => {
  const r = new ServerReactor();
  sendCommand(r, new OutputStream(1), 1, "mycommand", {});
  assertFrames(
    frames(r.onServerError(r.makeOutputStream(), 1, "some message")),
    [
      "1 2 stream-begin error-response 0 cbor:{b'type': b'server', b'message': [{b'msg': b'some message'}]}",
    ],
  );
});

Deno.test("server reactor: deferred output comes out at EOF in registration order", () => {
  const r = new ServerReactor({ deferOutput: true });
  const s = new OutputStream(1);
  assert.deepStrictEqual(
    sendCommand(r, s, 1, "command1", {})[0]?.action,
    "runcommand",
  );
  sendCommand(r, s, 3, "command2", {});
  sendCommand(r, s, 5, "command3", {});
  const out = r.makeOutputStream();
  assert.deepStrictEqual(
    r.onCommandResponseReadyObjects(out, 3, ["response3"]).action,
    "noop",
  );
  assert.deepStrictEqual(
    r.onCommandResponseReadyObjects(out, 1, ["response1"]).action,
    "noop",
  );
  assert.deepStrictEqual(
    r.onCommandResponseReadyObjects(out, 5, ["response5"]).action,
    "noop",
  );
  assertFrames(frames(r.onInputEof()), [
    '3 2 stream-begin stream-settings eos cbor:b"identity"',
    okFrame(3),
    '3 2 encoded command-response continuation cbor:b"response3"',
    "3 2 0 command-response eos ",
    okFrame(1),
    '1 2 encoded command-response continuation cbor:b"response1"',
    "1 2 0 command-response eos ",
    okFrame(5),
    '5 2 encoded command-response continuation cbor:b"response5"',
    "5 2 0 command-response eos ",
  ]);
});

Deno.test("server reactor: sender protocol settings, in one frame or several", () => {
  const r = new ServerReactor();
  const a = r.onFrameRecv(
    ffs(
      '0 1 stream-begin sender-protocol-settings eos cbor:{b"contentencodings": [b"a", b"b"]}',
    ),
  );
  assert.deepStrictEqual(a.action, "wantframe");
  assert.deepStrictEqual(r.state, "idle");
  assert.deepStrictEqual(r.contentEncodings, ["a", "b"]);
  const data = encodeCbor({ contentencodings: ["value1", "value2"] });
  const r2 = new ServerReactor();
  const res = send(r2, [
    {
      requestId: 0,
      streamId: 1,
      streamFlags: 1,
      type: 8,
      flags: 1,
      payload: data.subarray(0, 5),
    },
    {
      requestId: 0,
      streamId: 1,
      streamFlags: 0,
      type: 8,
      flags: 2,
      payload: data.subarray(5),
    },
  ]);
  assert.deepStrictEqual(res.map((x) => x.action), ["wantframe", "wantframe"]);
  assert.deepStrictEqual(r2.contentEncodings, ["value1", "value2"]);
  // No encoding in common: we fall back to identity instead of crashing.
  assert.deepStrictEqual(r.makeOutputStream().encoder?.name, "identity");
});

Deno.test("server reactor: negotiation picks the server's order", () => {
  const r = new ServerReactor();
  r.onFrameRecv(
    ffs(
      "1 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'identity', b'zlib', b'zstd-8mb']}",
    ),
  );
  const s = r.makeOutputStream();
  assert.deepStrictEqual(s.encoder?.name, "zstd-8mb");
  s.close();
});

Deno.test("server reactor: command errors from handlers, redirects and text", () => {
  const r = new ServerReactor();
  sendCommand(r, new OutputStream(1), 1, "x", {});
  const out = r.makeOutputStream();
  // deno-lint-ignore require-yield
  function* failing(): Generator<string> {
    throw new CommandError("unknown command: %s", ["bad"]);
  }
  assertFrames(frames(r.onCommandResponseReadyObjects(out, 1, failing())), [
    "1 2 stream-begin command-response eos cbor:{b'error': {b'args': [b'bad'], b'message': b'unknown command: %s'}, b'status': b'error'}",
  ]);
  sendCommand(r, new OutputStream(1), 3, "y", {});
  function* boom(): Generator<string> {
    yield "partial";
    throw new Error("boom");
  }
  const got = frames(r.onCommandResponseReadyObjects(out, 3, boom()));
  assert.deepStrictEqual(got.map((f) => f.type), [9, 3, 5]);
  assert.deepStrictEqual(got[0]?.streamFlags, 0); // stream-settings after a command error: no stream-begin
});

Deno.test("server reactor: limits on partially received requests", () => {
  const r = new ServerReactor({ maxPendingRequests: 2 });
  const res = send(r, [
    ffs("1 1 stream-begin command-request new|have-data cbor:{b'name': b'a'}"),
    ffs("3 1 0 command-request new|have-data cbor:{b'name': b'b'}"),
    ffs("5 1 0 command-request new|have-data cbor:{b'name': b'c'}"),
  ]);
  assert.deepStrictEqual(
    errorMessage(res[2]).includes(
      "partially received requests reach the limit of 2",
    ),
    true,
  );
  assert.deepStrictEqual(r.state, "errored");
  assert.deepStrictEqual(
    errorMessage(
      r.onFrameRecv(ffs("7 1 0 command-request new cbor:{b'name': b'd'}")),
    ),
    "server already errored",
  );

  const r2 = new ServerReactor({ maxCommandDataSize: 10 });
  const res2 = send(r2, [
    ffs("1 1 stream-begin command-request new|have-data cbor:{b'name': b'a'}"),
    ffs("1 1 0 command-data continuation 0123456789"),
    ffs("1 1 0 command-data eos x"),
  ]);
  assert.deepStrictEqual(
    errorMessage(res2[2]).includes(
      "command data of 11 bytes exceeds the maximum of 10 bytes",
    ),
    true,
  );

  const r3 = new ServerReactor({ maxRequestSize: 8 });
  const res3 = send(r3, [
    ffs("1 1 stream-begin command-request new|more 0123456789"),
  ]);
  assert.deepStrictEqual(
    errorMessage(res3[0]).includes(
      "request of 10 bytes exceeds the maximum of 8 bytes",
    ),
    true,
  );
});

Deno.test("server reactor: endless sender protocol settings are refused, not buffered", () => {
  // Continuation frames of CBOR zeros: more than one value is refused at
  // once, without waiting for the last frame.
  const zeros = (first: boolean) => ({
    requestId: 0,
    streamId: 1,
    streamFlags: first ? 1 : 0,
    type: 8,
    flags: 1,
    payload: new Uint8Array(1000),
  });
  const r = new ServerReactor();
  assert.deepStrictEqual(
    errorMessage(r.onFrameRecv(zeros(true))),
    "sender protocol settings frame contained multiple CBOR values",
  );
  // One value that never ends (a long definite array) stops at maxRequestSize.
  const big = new Uint8Array(1000);
  big.set([0x99, 0xff, 0xff]); // an array of 65535 items
  const r2 = new ServerReactor({ maxRequestSize: 4000 });
  const res = send(r2, [
    { ...zeros(true), payload: big },
    ...Array.from({ length: 10 }, () => zeros(false)),
  ]);
  assert.deepStrictEqual(res.slice(0, 4).map((a) => a.action), [
    "wantframe",
    "wantframe",
    "wantframe",
    "wantframe",
  ]);
  assert.deepStrictEqual(
    errorMessage(res[4]),
    "Cannot receive sender protocol settings: 5000 bytes exceed the maximum of 4000 bytes",
  );
});

Deno.test("server reactor: bad request CBOR is a typed error, not a crash", () => {
  for (
    const text of [
      "1 1 stream-begin command-request new ",
      "1 1 stream-begin command-request new \\x61a",
      "1 1 stream-begin command-request new cbor:[1]",
      "1 1 stream-begin command-request new cbor:{b'name': 1}",
      "1 1 stream-begin command-request new cbor:{b'name': b'x', b'args': 3}",
      "1 1 stream-begin|encoded command-request new cbor:{b'name': b'x'}",
    ]
  ) {
    const a = new ServerReactor().onFrameRecv(ffs(text));
    assert.deepStrictEqual(a.action, "error", text);
  }
});

Deno.test("server reactor: invalid vectors fail with Mercurial's message", async () => {
  const vectors: { name: string; hex: string }[] = JSON.parse(
    await Deno.readTextFile(
      new URL("./testdata/framing-vectors.json", import.meta.url),
    ),
  );
  let n = 0;
  for (const v of vectors) {
    const m = /^INVALID -> serverreactor error(?: \(initial state\))?: '(.*)'$/
      .exec(v.name);
    if (!m) continue;
    const [frame] = decodeFrames(fromHex(v.hex));
    assert.deepStrictEqual(
      errorMessage(new ServerReactor().onFrameRecv(frame!)),
      m[1],
      v.name,
    );
    n++;
  }
  assert.deepStrictEqual(n, 6);
});
