// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { concatBytes } from "../_internal/bytes.ts";
import { byteByByte, collect } from "../_test_utils/chunks.ts";
import { loadVectors } from "../_test_utils/dirty/vectors.ts";
import { fromHex } from "../_test_utils/hex.ts";
import { DirtyProtocolError } from "./errors.ts";
import { decodeMessage } from "./message_decoder.ts";
import { encodeChunk, encodeEnd, encodeResponse } from "./message_encoders.ts";
import { DirtyMessageDecoderStream } from "./message_stream.ts";

const messages = [
  ...loadVectors("dirty-vectors.json"),
  ...loadVectors("extra-vectors.json"),
].filter((v) => v.kind === "message").map((v) => fromHex(v.hex));

Deno.test("message stream: every vector message, fed byte by byte, comes out whole", async () => {
  const all = concatBytes(messages);
  const frames = await collect(
    byteByByte(all),
    new DirtyMessageDecoderStream({ float: "tagged" }),
  );
  assert.equal(frames.length, messages.length);
  frames.forEach((f, i) =>
    assert.deepStrictEqual(f, decodeMessage(messages[i]!, { float: "tagged" }))
  );
});

Deno.test("message stream: one chunk holding many frames", async () => {
  const bytes = concatBytes([
    encodeChunk(1n, "a"),
    encodeChunk(1n, "b"),
    encodeEnd(1n),
  ]);
  const frames = await collect(
    [bytes],
    new DirtyMessageDecoderStream({ dict: "object" }),
  );
  assert.deepStrictEqual(frames.map((f) => f.payload), [{ data: "a" }, {
    data: "b",
  }, {}]);
});

Deno.test("message stream: the maximum message size is enforced from the header", async () => {
  const big = encodeResponse(1n, new Uint8Array(1000));
  await assert.rejects(
    () =>
      collect(
        [big.subarray(0, 16)],
        new DirtyMessageDecoderStream({ maxMessageSize: 100 }),
      ),
    (e) =>
      e instanceof DirtyProtocolError &&
      /Message too large: 1021 bytes \(max: 100\)/.test(e.message),
  );
});

Deno.test("message stream: a stream ending mid-message errors, a bad header errors", async () => {
  const bytes = encodeResponse(1n, "abc");
  await assert.rejects(
    () => collect([bytes.subarray(0, 20)], new DirtyMessageDecoderStream()),
    (e) =>
      e instanceof DirtyProtocolError &&
      /Incomplete payload: got 4 bytes/.test(e.message),
  );
  await assert.rejects(
    () => collect([bytes.subarray(0, 5)], new DirtyMessageDecoderStream()),
    (e) =>
      e instanceof DirtyProtocolError &&
      /Incomplete header: got 5 bytes, expected 16/.test(e.message),
  );
  await assert.rejects(
    () =>
      collect(
        [fromHex("47440201000000000000000000000000")],
        new DirtyMessageDecoderStream(),
      ),
    (e) =>
      e instanceof DirtyProtocolError &&
      /Unsupported protocol version: 2, expected 1/.test(e.message),
  );
});
