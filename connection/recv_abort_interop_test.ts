// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Receives aborted in the middle of a large message sent by a real CPython:
// the message stays whole for the next receive, which checks it against its
// own limit.
import assert from "node:assert/strict";
import {
  openFdCount,
  peerTest,
  pythons,
  tempDir,
} from "../_test_utils/peers.ts";
import { finish, spawn } from "../_test_utils/connection/python.ts";
import { ownUnixSockets } from "../_test_utils/sockets.ts";
import type { Connection } from "./connection.ts";
import { Listener } from "./listener.ts";

const SIZE = 3 * 1024 * 1024;
const enc = new TextEncoder();
const dec = new TextDecoder();

// For each scenario: a real Client connects, waits for "go", writes the
// header and half of a SIZE-byte payload, says "half" on stdout, waits for
// "rest", writes the other half and then a whole message "after" (unless
// we closed first).
const PY_SLOW_SENDER = String.raw`
import os, struct, sys
from multiprocessing.connection import Client
n = int(sys.argv[2])
data = (bytes(range(256)) * (n // 256 + 1))[:n]
def write_all(fd, b):
    view = memoryview(b)
    while view:
        view = view[os.write(fd, view):]
for scenario in sys.argv[3].split(","):
    with Client(sys.argv[1]) as c:
        assert c.recv_bytes() == b"go"
        write_all(c.fileno(), struct.pack("!i", n) + data[: n // 2])
        print("half", flush=True)
        assert c.recv_bytes() == b"rest"
        try:
            write_all(c.fileno(), data[n // 2 :])
            c.send_bytes(b"after")
            c.recv_bytes()
        except (EOFError, BrokenPipeError, ConnectionResetError):
            pass  # we closed (after refusing the message, without reading)
    print("done " + scenario, flush=True)
`;

function payload(n: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => i & 0xff);
}

for (const { minor, python } of pythons()) {
  peerTest(
    `Connection keeps a real CPython ${minor} message whole across an aborted receive, under the next receive's limit`,
    python,
    `CPython ${minor}`,
    async (py, t) => {
      await using dir = await tempDir();
      const fdsBefore = openFdCount();
      const path = `${dir.path}/s`;
      const scenarios = ["larger limit", "smaller limit"];
      const peer = spawn(py, PY_SLOW_SENDER, [
        path,
        String(SIZE),
        scenarios.join(","),
      ]);
      {
        await using listener = new Listener(path);
        /** Aborts a receive (limit: the whole message) once half was sent. */
        const abortMidMessage = async (conn: Connection): Promise<void> => {
          // The receive waits before "go", so it reads the half as it
          // arrives; whatever it read when the abort comes, the rest must
          // behave the same.
          const ac = new AbortController();
          const receiving = conn.recvBytes(SIZE, { signal: ac.signal });
          await conn.sendBytes(enc.encode("go"));
          assert.equal(await peer.lines.next(), "half");
          ac.abort(new Error("stop"));
          await assert.rejects(receiving, { message: "stop" });
        };
        await t.step(scenarios[0]!, async () => {
          await using conn = await listener.accept();
          await abortMidMessage(conn);
          await conn.sendBytes(enc.encode("rest"));
          assert.deepEqual(await conn.recvBytes(2 * SIZE), payload(SIZE));
          assert.equal(dec.decode(await conn.recvBytes(5)), "after");
        });
        assert.equal(await peer.lines.next(), `done ${scenarios[0]}`);
        await t.step(scenarios[1]!, async () => {
          await using conn = await listener.accept();
          await abortMidMessage(conn);
          await conn.sendBytes(enc.encode("rest"));
          await assert.rejects(conn.recvBytes(SIZE - 1), {
            name: "ProtocolError",
            code: "MESSAGE_TOO_LARGE",
            message: `Cannot receive: message length ${SIZE} exceeds the ` +
              `maximum of ${SIZE - 1} bytes`,
          });
          // As after a fresh too-large receive: write-only.
          await assert.rejects(conn.recvBytes(), {
            name: "ConnectionError",
            code: "WRITE_ONLY",
            message: /write-only/,
          });
        });
        assert.equal(await peer.lines.next(), `done ${scenarios[1]}`);
      }
      assert.deepEqual(await finish(peer), []);
      assert.deepEqual(ownUnixSockets(dir.path), []);
      assert.equal(openFdCount(), fdsBefore);
    },
  );
}
