// Copyright 2026 the @sidecar/ipc authors. MIT license.
// send() of values with large bytes/bytearray payloads, which our
// Connection writes from the value's own memory (header, payload view and
// tail as separate writes), received by a real CPython's conn.recv(); and
// the same values sent back by CPython's conn.send() to our recv().
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  openFdCount,
  peerTest,
  pythons,
  tempDir,
} from "../_test_utils/peers.ts";
import { finish, spawn } from "../_test_utils/connection/python.ts";
import { ownUnixSockets } from "../_test_utils/sockets.ts";
import { connect } from "./connect.ts";
import { ByteArray, pickleCodec, Tuple } from "./pickle.ts";

// Describes each value it receives (type, length and SHA-256 of bytes),
// then sends the value back with the protocol it was given.
const PY_PEER = String.raw`
import hashlib, json, sys
from multiprocessing.connection import Listener
from multiprocessing.reduction import ForkingPickler

def describe(o):
    if isinstance(o, (bytes, bytearray)):
        return [type(o).__name__, len(o), hashlib.sha256(o).hexdigest()]
    if isinstance(o, (list, tuple)):
        return [type(o).__name__, [describe(x) for x in o]]
    return [type(o).__name__, o]

with Listener(sys.argv[1]) as listener:
    print("ready", flush=True)
    for protocol in (4, 5):
        with listener.accept() as conn:
            while True:
                try:
                    value = conn.recv()
                except EOFError:
                    break
                conn.send_bytes(json.dumps(describe(value)).encode())
                conn.send_bytes(bytes(ForkingPickler.dumps(value, protocol)))
`;

function describe(v: unknown): unknown {
  if (v instanceof Uint8Array || v instanceof ByteArray) {
    const bytes = v instanceof ByteArray ? v.bytes : v;
    return [
      v instanceof ByteArray ? "bytearray" : "bytes",
      bytes.length,
      createHash("sha256").update(bytes).digest("hex"),
    ];
  }
  if (v instanceof Tuple) return ["tuple", v.items.map(describe)];
  if (Array.isArray(v)) return ["list", v.map(describe)];
  return [typeof v === "string" ? "str" : typeof v, v];
}

function pattern(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);
}

for (const { minor, python } of pythons()) {
  peerTest(
    `Connection.send() of large bytes without a copy is what a real CPython ${minor} recv() loads`,
    python,
    `CPython ${minor}`,
    async (py, t) => {
      await using dir = await tempDir();
      const fdsBefore = openFdCount();
      const path = `${dir.path}/s`;
      const peer = spawn(py, PY_PEER, [path]);
      assert.equal(await peer.lines.next(), "ready");
      const big = pattern(3 << 20, 1);
      const other = pattern(200_000, 2);
      const values = [
        big,
        new ByteArray(other),
        new Tuple(["#RETURN", big, [other, "tail", new ByteArray(big)]]),
        pattern(100, 3), // small: one chunk, copied
        pattern(0, 0),
      ];
      for (const protocol of [4, 5] as const) {
        await t.step(`protocol ${protocol}`, async () => {
          await using conn = await connect(path, {
            codec: pickleCodec({ protocol }),
          });
          for (const value of values) {
            await conn.send(value);
            const seen = JSON.parse(new TextDecoder().decode(
              await conn.recvBytes(),
            ));
            assert.deepEqual(seen, describe(value));
            assert.deepEqual(await conn.recv(), value);
          }
        });
      }
      assert.deepEqual(await finish(peer), []);
      assert.deepEqual(ownUnixSockets(dir.path), []);
      assert.equal(openFdCount(), fdsBefore);
    },
  );
}
