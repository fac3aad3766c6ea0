// Copyright 2026 the @sidecar/ipc authors. MIT license.
import { constants, deflateSync, zstdCompressSync } from "node:zlib";
import assert from "node:assert/strict";
import {
  chooseStreamEncoding,
  createStreamDecoder,
  createStreamEncoder,
  ProtocolError,
} from "./mod.ts";

const text = new TextEncoder().encode(
  "changeset manifest filelog ".repeat(2000),
);

Deno.test("stream encodings: one context across responses, flushed not finished", () => {
  for (const name of ["identity", "zlib", "zstd-8mb"]) {
    const enc = createStreamEncoder(name);
    const dec = createStreamDecoder(name);
    for (let i = 0; i < 3; i++) {
      const wire = new Uint8Array([...enc.encode(text), ...enc.flush()]);
      // Everything encoded so far decodes after each flush.
      assert.deepStrictEqual(dec.decode(wire), text, `${name} response ${i}`);
      // zstd's 2 MiB window still holds the earlier responses.
      if (name === "zstd-8mb" && i > 0) {
        assert.deepStrictEqual(
          wire.length < 100,
          true,
          "zstd reuses its window",
        );
      }
    }
    enc.close();
    dec.close();
  }
});

Deno.test("stream encodings: zstd frames carry Mercurial's window (windowLog 21) and no content size", () => {
  const enc = createStreamEncoder("zstd-8mb");
  const out = new Uint8Array([...enc.encode(text), ...enc.flush()]);
  assert.deepStrictEqual([...out.subarray(0, 6)], [
    0x28,
    0xb5,
    0x2f,
    0xfd,
    0x00,
    0x58,
  ]);
  enc.close();
});

Deno.test("stream encodings: decoders refuse windows above 8 MiB, bombs and garbage with typed errors", () => {
  const big = new Uint8Array(9 * 1024 * 1024);
  const z = new Uint8Array(
    zstdCompressSync(big, { params: { [constants.ZSTD_c_windowLog]: 24 } }),
  );
  assert.throws(() => createStreamDecoder("zstd-8mb").decode(z), ProtocolError);
  const bomb = new Uint8Array(deflateSync(new Uint8Array(4 * 1024 * 1024)));
  assert.throws(
    () =>
      createStreamDecoder("zlib", [], { maxOutputSize: 1024 * 1024 }).decode(
        bomb,
      ),
    (e) => e instanceof ProtocolError && e.message.includes("exceeds"),
  );
  assert.throws(
    () => createStreamDecoder("zlib").decode(Uint8Array.of(1, 2, 3, 4)),
    ProtocolError,
  );
  assert.throws(() =>
    createStreamDecoder("zstd-8mb").decode(
      Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 9, 9, 9, 9, 9),
    ), ProtocolError);
  assert.throws(
    () => createStreamDecoder("zlib", [1]),
    (e) =>
      e instanceof ProtocolError &&
      e.message.includes("zlib decoder received unexpected additional values"),
  );
  assert.throws(
    () => createStreamDecoder("zstd-8mb", [1]),
    (e) =>
      e instanceof ProtocolError &&
      e.message.includes(
        "zstd8mb decoder received unexpected additional values",
      ),
  );
  assert.throws(
    () => createStreamEncoder("br"),
    (e) =>
      e instanceof ProtocolError &&
      e.message.includes("unknown stream encoder: br"),
  );
});

Deno.test("stream encodings: the server's order wins", () => {
  assert.deepStrictEqual(
    chooseStreamEncoding(["identity", "zlib", "zstd-8mb"]),
    "zstd-8mb",
  );
  assert.deepStrictEqual(chooseStreamEncoding(["br"]), null);
  assert.deepStrictEqual(
    chooseStreamEncoding(["zlib", "identity"], ["identity", "zlib"]),
    "identity",
  );
});
