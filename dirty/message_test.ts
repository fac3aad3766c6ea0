// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import fc from "fast-check";
import { concatBytes } from "../_internal/bytes.ts";
import { byteByByte, splitAt } from "../_test_utils/chunks.ts";
import {
  fromTagged,
  loadVectors,
  type Vector,
} from "../_test_utils/dirty/vectors.ts";
import { fromHex, toHex } from "../_test_utils/hex.ts";
import {
  DirtyAppError,
  DirtyError,
  DirtyNoWorkersAvailableError,
  DirtyProtocolError,
  DirtyTimeoutError,
  DirtyWorkerError,
} from "./errors.ts";
import { decodeHeader, encodeHeader } from "./header.ts";
import { decodeMessage, DirtyMessageDecoder } from "./message_decoder.ts";
import {
  encodeChunk,
  encodeEnd,
  encodeError,
  encodeFrame,
  encodeManage,
  encodeRequest,
  encodeResponse,
  encodeStash,
  encodeStatus,
} from "./message_encoders.ts";
import { ManageOp, parseFrame, StashOp } from "./message.ts";
import { DirtyFloat } from "./dirty_float.ts";
import type { DirtyValue } from "./tlv.ts";

const vectors: Vector[] = [
  ...loadVectors("dirty-vectors.json"),
  ...loadVectors("extra-vectors.json"),
];
const EXACT = { float: "tagged" } as const;

function named(name: string): Vector {
  const v = vectors.find((x) => x.name === name && x.kind === "message");
  assert.ok(v, name);
  return v;
}

function pyError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

Deno.test("message: every gunicorn message vector decodes and re-encodes byte-identically", () => {
  let n = 0;
  for (const v of vectors.filter((x) => x.kind === "message")) {
    const bytes = fromHex(v.hex);
    const frame = decodeMessage(bytes, EXACT);
    assert.equal(frame.type, v.decoded_type, v.name);
    // JSON numbers above 2^53 lost precision in the shared file; the header is authoritative.
    const id =
      typeof v.decoded_id === "number" && !Number.isSafeInteger(v.decoded_id)
        ? new DataView(bytes.buffer).getBigUint64(8)
        : BigInt(v.decoded_id!);
    assert.equal(frame.id, id, v.name);
    assert.equal(
      toHex(encodeHeader(frame.type, frame.id, bytes.length - 16)),
      v.header_hex,
    );
    if (v.expected) {
      assert.deepStrictEqual(frame.payload, fromTagged(v.expected), v.name);
    }
    const again = frame.type === "end" || frame.type === "status"
      ? encodeFrame(frame.type, frame.id)
      : encodeFrame(frame.type, frame.id, frame.payload);
    assert.equal(toHex(again), v.hex, v.name);
    // The push decoder gives the same frame, whatever the chunking.
    const dec = new DirtyMessageDecoder(EXACT);
    const frames = byteByByte(bytes).flatMap((c) => dec.push(c));
    assert.deepStrictEqual(frames, [frame], v.name);
    n++;
  }
  assert.ok(n >= 38);
});

Deno.test("message: the typed encoders reproduce gunicorn's bytes", () => {
  const cases: [string, Uint8Array][] = [
    [
      "request_full",
      encodeRequest(1n, "myapp.ml:MLApp", "predict", ["data"], {
        temperature: 0.7,
      }),
    ],
    ["request_minimal", encodeRequest(2, "m:C", "ping")],
    ["response_dict", encodeResponse(1n, { ok: true })],
    ["response_none", encodeResponse(3n, null)],
    [
      "response_bytes",
      encodeResponse(4n, Uint8Array.of(0x89, 0x50, 0x4e, 0x47)),
    ],
    ["error_plain_exception", encodeError(7n, pyError("ValueError", "bad"))],
    [
      "error_dict",
      encodeError(8n, { error_type: "X", message: "m", details: {} }),
    ],
    [
      "error_timeout",
      encodeError(9n, new DirtyTimeoutError("Worker timeout", 300)),
    ],
    [
      "error_no_workers_for_app",
      encodeError(10n, new DirtyNoWorkersAvailableError("m:C")),
    ],
    [
      "error_worker_error",
      encodeError(
        11n,
        new DirtyWorkerError("Worker communication failed: x", {
          workerId: 1234,
        }),
      ),
    ],
    ["chunk_str", encodeChunk(12n, "Hello")],
    ["chunk_dict", encodeChunk(12n, { token: "hi", i: 0 })],
    ["manage_add", encodeManage(14n, ManageOp.ADD, 2)],
    [
      "stash_put",
      encodeStash(20n, StashOp.PUT, "sessions", {
        key: "user:1",
        value: { name: "Alice" },
      }),
    ],
    ["stash_get", encodeStash(21n, StashOp.GET, "sessions", { key: "user:1" })],
    [
      "stash_delete",
      encodeStash(22n, StashOp.DELETE, "sessions", { key: "user:1" }),
    ],
    [
      "stash_keys_pattern",
      encodeStash(23n, StashOp.KEYS, "sessions", { pattern: "user:*" }),
    ],
    [
      "stash_keys_all",
      encodeStash(24n, StashOp.KEYS, "sessions", { pattern: null }),
    ],
    ["stash_ensure", encodeStash(27n, StashOp.ENSURE, "cache")],
    ["stash_exists_table", encodeStash(30n, StashOp.EXISTS, "sessions")],
    [
      "request_string_id_hashed_PYTHONHASHSEED_0",
      encodeRequest(12654024964464268998n, "m:C", "ping"),
    ],
    ["end", encodeEnd(12n)],
    ["status", encodeStatus(13n)],
    ["status_max_id", encodeStatus(2n ** 64n - 1n)],
    ["manage_remove", encodeManage(15n, ManageOp.REMOVE, 5)],
    ["stash_clear", encodeStash(25n, StashOp.CLEAR, "sessions")],
    ["stash_info", encodeStash(26n, StashOp.INFO, "sessions")],
    ["stash_delete_table", encodeStash(28n, StashOp.DELETE_TABLE, "sessions")],
    ["stash_tables", encodeStash(29n, StashOp.TABLES, "")],
    [
      "stash_exists_key",
      encodeStash(31n, StashOp.EXISTS, "sessions", { key: "user:1" }),
    ],
    [
      "stash_put_int_key",
      encodeStash(32n, StashOp.PUT, "t", {
        key: 7,
        value: [1.5, Uint8Array.of(0x78)],
      }),
    ],
    ["response_float_list", encodeResponse(40n, [0.5, new DirtyFloat(1), 2])],
    ["response_big_int", encodeResponse(41n, 2n ** 63n - 1n)],
    ["response_live_deadbeef", encodeResponse(0xdeadbeefn, 3)],
    [
      "error_app",
      encodeError(
        42n,
        new DirtyAppError("kaput", {
          appPath: "m:C",
          action: "fail",
          traceback: "Traceback...",
        }),
      ),
    ],
    [
      "error_generic",
      encodeError(43n, new DirtyError("No dirty workers available")),
    ],
    ["chunk_none", encodeChunk(44n, null)],
    [
      "request_kwargs_order",
      encodeRequest(45n, "m:C", "f", [1, "x"], { z: 1, a: new DirtyFloat(2) }),
    ],
  ];
  for (const [name, bytes] of cases) {
    assert.equal(toHex(bytes), named(name).hex, name);
  }
  // The spec's live capture: add(1,2) answered with id 0xDEADBEEF.
  assert.equal(
    named("response_live_deadbeef").hex,
    "474401020000001900000000deadbeef21000000011100000006726573756c74050000000000000003",
  );
});

Deno.test("message: decode-error vectors fail in gunicorn's order with its messages", () => {
  let n = 0;
  for (const v of vectors.filter((x) => x.kind === "message_decode_error")) {
    const bytes = fromHex(v.hex);
    const err = (() => {
      try {
        (() => decodeMessage(bytes))();
      } catch (e) {
        return e;
      }
      return assert.fail("expected a throw");
    })();
    assert.ok(err instanceof DirtyProtocolError, String(err));
    assert.equal(err.message, v.error_message, v.name);
    assert.deepStrictEqual({ ...err.details }, v.error_details, v.name);
    n++;
    // The push decoder reports the same error (incomplete input only at finish()).
    if (bytes.length === 0) continue; // a clean EOF for a stream
    const dec = new DirtyMessageDecoder();
    const perr = (() => {
      try {
        (() => {
          for (const c of byteByByte(bytes)) dec.push(c);
          dec.finish();
        })();
      } catch (e) {
        return e;
      }
      return assert.fail("expected a throw");
    })();
    assert.ok(perr instanceof DirtyProtocolError, String(perr));
    if (/^(Incomplete message|Header too short)/.test(v.error_message!)) {
      assert.match(
        perr.message,
        /^Incomplete (header|payload): got \d+ bytes, expected \d+$/,
      );
    } else {
      assert.equal(perr.message, v.error_message, v.name);
    }
  }
  assert.ok(n >= 18);
});

Deno.test("message: lenient vectors", () => {
  const v = vectors.find((x) => x.name === "payload_not_dict_but_accepted")!;
  const frame = decodeMessage(fromHex(v.hex));
  assert.deepStrictEqual(frame, { type: "response", id: 1n, payload: 5 });
  assert.throws(
    () => parseFrame(frame),
    (e) =>
      e instanceof DirtyProtocolError &&
      /payload is not a dict/.test(e.message),
  );
  const s = vectors.find((x) => x.name === "status_with_payload")!;
  const st = decodeMessage(fromHex(s.hex));
  assert.equal(st.type, "status");
  assert.deepStrictEqual(parseFrame(st), { type: "status", id: 1n });
});

Deno.test("message: whole-buffer decode rejects trailing bytes (gunicorn ignores them)", () => {
  const bytes = concatBytes([encodeEnd(1n), Uint8Array.of(0)]);
  assert.throws(
    () => decodeMessage(bytes),
    (e) =>
      e instanceof DirtyProtocolError &&
      /Trailing data after message: 1 bytes/.test(e.message),
  );
});

Deno.test("message: a zero-length payload is an empty dict for any type", () => {
  const f = decodeMessage(encodeHeader("response", 1n, 0));
  assert.deepStrictEqual(f.payload, new Map());
  assert.deepStrictEqual(parseFrame(f), {
    type: "response",
    id: 1n,
    result: null,
  });
  assert.deepStrictEqual(
    decodeMessage(encodeHeader("chunk", 1n, 0), { dict: "object" }).payload,
    {},
  );
});

Deno.test("message: parseFrame reads every type with gunicorn's defaults", () => {
  const req = parseFrame(
    decodeMessage(encodeRequest(1n, "m:C", "f", [1], { k: 2 }), {
      dict: "object",
    }),
  );
  assert.deepStrictEqual(req, {
    type: "request",
    id: 1n,
    appPath: "m:C",
    action: "f",
    args: [1],
    kwargs: { k: 2 },
  });
  const bare = parseFrame(decodeMessage(encodeFrame("request", 2n, {})));
  assert.deepStrictEqual(bare, {
    type: "request",
    id: 2n,
    appPath: "",
    action: "",
    args: [],
    kwargs: new Map(),
  });
  const err = parseFrame(decodeMessage(fromHex(named("error_app").hex)));
  assert.ok(err.type === "error" && err.error instanceof DirtyAppError);
  assert.equal(err.error.traceback, "Traceback...");
  const foreign = parseFrame(
    decodeMessage(fromHex(named("error_plain_exception").hex)),
  );
  assert.ok(foreign.type === "error");
  assert.equal(foreign.error.constructor, DirtyError);
  assert.equal(foreign.error.errorType, "ValueError");
  const stash = parseFrame(
    decodeMessage(fromHex(named("stash_put").hex), { dict: "object" }),
  );
  assert.deepStrictEqual(stash, {
    type: "stash",
    id: 20n,
    op: 1,
    table: "sessions",
    hasKey: true,
    key: "user:1",
    value: { name: "Alice" },
    pattern: null,
  });
  const manage = parseFrame(
    decodeMessage(encodeFrame("manage", 3n, { op: 2 })),
  );
  assert.deepStrictEqual(manage, { type: "manage", id: 3n, op: 2, count: 1 });
  assert.throws(
    () =>
      parseFrame(decodeMessage(encodeFrame("request", 1n, { app_path: 5 }))),
    (e) =>
      e instanceof DirtyProtocolError &&
      /app_path is not a string/.test(e.message),
  );
  assert.throws(
    () => parseFrame(decodeMessage(encodeFrame("request", 1n, { args: "x" }))),
    (e) =>
      e instanceof DirtyProtocolError && /args is not a list/.test(e.message),
  );
});

Deno.test("message: payload keys never override the header (gunicorn bug 15 not copied)", () => {
  const f = parseFrame(
    decodeMessage(
      encodeFrame("request", 7n, { type: "status", id: 99, action: "a" }),
    ),
  );
  assert.equal(f.type, "request");
  assert.equal(f.id, 7n);
});

Deno.test("message: encoders refuse bad ids and oversize payloads before writing", () => {
  assert.throws(() => encodeEnd(-1), RangeError);
  assert.throws(() => encodeEnd(2n ** 64n), RangeError);
  assert.throws(() => encodeEnd(1.5), RangeError);
  assert.throws(
    () => encodeResponse(1n, new Uint8Array(100), { maxMessageSize: 50 }),
    (e) =>
      e instanceof DirtyProtocolError &&
      /Message too large: 121 bytes \(max: 50\)/.test(e.message),
  );
  assert.throws(
    () => encodeResponse(1n, null, { maxMessageSize: 2 ** 30 }),
    RangeError,
  );
});

Deno.test("message: the header is validated as soon as 16 bytes are in, before any payload", () => {
  const dec = new DirtyMessageDecoder({ maxMessageSize: 10 });
  dec.push(fromHex("474401020000"));
  assert.equal(dec.buffered, 6);
  assert.throws(
    () => dec.push(fromHex("000b00000000000000010000")),
    (e) =>
      e instanceof DirtyProtocolError &&
      /Message too large: 11 bytes \(max: 10\)/.test(e.message),
  );
  // The decoder stays failed.
  assert.throws(
    () => dec.push(encodeEnd(1n)),
    (e) =>
      e instanceof DirtyProtocolError && /Message too large/.test(e.message),
  );
  assert.throws(
    () => decodeHeader(fromHex("4744")),
    (e) =>
      e instanceof DirtyProtocolError &&
      /Header too short: 2 bytes/.test(e.message),
  );
});

Deno.test("message: finish() reports a connection cut mid-header or mid-payload", () => {
  const bytes = encodeResponse(1n, "abc");
  for (let cut = 1; cut < bytes.length; cut++) {
    const dec = new DirtyMessageDecoder();
    assert.deepStrictEqual(dec.push(bytes.subarray(0, cut)), []);
    const err = (() => {
      try {
        (() => dec.finish())();
      } catch (e) {
        return e;
      }
      return assert.fail("expected a throw");
    })();
    assert.ok(err instanceof DirtyProtocolError, String(err));
    if (cut < 16) {
      assert.equal(
        err.message,
        `Incomplete header: got ${cut} bytes, expected 16`,
      );
    } else {assert.equal(
        err.message,
        `Incomplete payload: got ${cut - 16} bytes, expected ${
          bytes.length - 16
        }`,
      );}
  }
  const ok = new DirtyMessageDecoder();
  ok.push(bytes);
  ok.finish();
});

Deno.test("message: fast-check split points never change the decoded frames", () => {
  const stream = concatBytes([
    encodeRequest(1n, "m:C", "f", [1, "two", Uint8Array.of(3)], { k: 4.5 }),
    encodeChunk(2n, { token: "t" }),
    encodeEnd(2n),
    encodeStatus(3n),
    encodeResponse(4n, new Uint8Array(300).fill(7)),
  ]);
  const expected = new DirtyMessageDecoder().push(stream);
  assert.equal(expected.length, 5);
  fc.assert(
    fc.property(
      fc.array(fc.nat({ max: stream.length }), { maxLength: 12 }),
      (cuts) => {
        const dec = new DirtyMessageDecoder();
        const got = splitAt(stream, cuts).flatMap((c) => dec.push(c));
        dec.finish();
        assert.deepStrictEqual(got, expected);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("message: fast-check random headers give typed errors only", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), (bytes) => {
      const dec = new DirtyMessageDecoder({ maxMessageSize: 1024 });
      try {
        dec.push(bytes);
        dec.finish();
      } catch (e) {
        assert.ok(e instanceof DirtyProtocolError, String(e));
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("message: decoded request args keep int/float apart in tagged mode", () => {
  const f = decodeMessage(fromHex(named("request_kwargs_order").hex), EXACT);
  const kw = (f.payload as Map<string, DirtyValue>).get("kwargs") as Map<
    string,
    DirtyValue
  >;
  assert.deepStrictEqual([...kw], [["z", 1], ["a", new DirtyFloat(2)]]);
});
