// Copyright 2026 the @sidecar/ipc authors. MIT license.
// The recorded handshakes (testdata/handshake-vectors.json) replayed against
// real CPython 3.11.7 / 3.12.1 / 3.13.0 with os.urandom patched, our side
// playing the other interpreter with the same fixed random bytes: every
// frame on the wire, in both directions, must equal the recording.
import assert from "node:assert/strict";
import { toHex } from "../_test_utils/hex.ts";
import { peerTest, pythons } from "../_test_utils/peers.ts";
import { finish, type Lines, spawn } from "../_test_utils/connection/python.ts";
import { ownTcpSockets } from "../_test_utils/sockets.ts";
import {
  fixedRandom,
  type HandshakeScenario,
  loadHandshakeVectors,
  protocolOf,
} from "../_test_utils/connection/vectors.ts";
import { authenticate } from "./authenticate.ts";
import { Connection } from "./connection.ts";
import { AuthenticationError } from "./errors.ts";
import { encodeMessage, MessageDecoder } from "./message_codec.ts";
import { Tuple } from "./pickle.ts";

const vectors = await loadHandshakeVectors();

const enc = new TextEncoder();

/** A Deno.Conn stand-in that records every byte read and written. */
class Recorder {
  readBytes: Uint8Array[] = [];
  written: Uint8Array[] = [];
  constructor(readonly conn: Deno.Conn) {}
  async read(p: Uint8Array): Promise<number | null> {
    const n = await this.conn.read(p);
    if (n !== null) this.readBytes.push(p.slice(0, n));
    return n;
  }
  write(p: Uint8Array): Promise<number> {
    this.written.push(p.slice());
    return this.conn.write(p);
  }
  close(): void {
    this.conn.close();
  }
}

function frames(chunks: Uint8Array[]): string[] {
  const d = new MessageDecoder();
  return chunks.flatMap((c) => d.push(c)).map((m) => toHex(encodeMessage(m)));
}

function expected(s: HandshakeScenario, dir: "S->C" | "C->S"): string[] {
  return s.frames.filter((f) => f.dir === dir).map((f) => f.wire_hex);
}

const PATCH = String.raw`
import sys, json
import multiprocessing.connection as mc
R = json.loads(sys.argv[1])
mc.os.urandom = lambda n: bytes.fromhex(R["legacy_20"] if n == 20 else R["modern_40"])
`;

const PY_SERVER = PATCH + String.raw`
count = int(sys.argv[2])
with mc.Listener(("127.0.0.1", 0), authkey=b"secret") as l:
    print(json.dumps({"port": l.address[1]}), flush=True)
    for _ in range(count):
        try:
            with l.accept() as c:
                c.send(("echo", c.recv()))
            print(json.dumps({"ok": True}), flush=True)
        except Exception as e:
            print(json.dumps({"error": type(e).__name__, "msg": str(e)}), flush=True)
`;

const PY_CLIENT = PATCH + String.raw`
port = int(sys.argv[2])
for key in json.loads(sys.argv[3]):
    try:
        with mc.Client(("127.0.0.1", port), authkey=key.encode()) as c:
            c.send("hello")
            c.recv()
        print(json.dumps({"ok": True}), flush=True)
    except Exception as e:
        print(json.dumps({"error": type(e).__name__, "msg": str(e)}), flush=True)
`;

/**
 * Plays one side of a recorded scenario against the real peer and checks
 * every frame on the wire: ours as the client sends 'hello' and receives
 * ('echo', 'hello'); ours as the listener does the opposite.
 */
async function replay(
  s: HandshakeScenario,
  role: "client" | "listener",
  reports: Lines,
  open: () => Promise<Deno.Conn>,
): Promise<void> {
  const client = role === "client";
  const rec = new Recorder(await open());
  const conn = new Connection(rec as unknown as Deno.Conn);
  try {
    await authenticate(conn, role, {
      authkey: enc.encode(client ? s.client_authkey : s.server_authkey),
      protocol: protocolOf(client ? s.client_python : s.server_python),
      randomBytes: fixedRandom(
        client ? vectors.client_random : vectors.server_random,
      ),
    });
    if (client) {
      await conn.send("hello");
      const reply = await conn.recv();
      assert.ok(reply instanceof Tuple);
      assert.deepStrictEqual(reply.items, ["echo", "hello"]);
    } else {
      assert.deepStrictEqual(await conn.recv(), "hello");
      await conn.send(new Tuple(["echo", "hello"]));
    }
    assert.ok(s.server_result.ok);
  } catch (e) {
    assert.ok(
      !s.server_result.ok && e instanceof AuthenticationError,
      String(e),
    );
  } finally {
    await conn.close();
  }
  const report = await reports.json();
  assert.deepStrictEqual(report.ok === true, s.server_result.ok);
  const [sent, received] = client
    ? ["C->S", "S->C"] as const
    : ["S->C", "C->S"] as const;
  assert.deepStrictEqual(frames(rec.written), expected(s, sent));
  assert.deepStrictEqual(frames(rec.readBytes), expected(s, received));
}

const byVersion = new Map(
  pythons().map(({ minor, python }) => [minor, python]),
);
const minorOf = (v: string): "3.11" | "3.12" | "3.13" =>
  v.slice(0, 4) as "3.11" | "3.12" | "3.13";

for (const minor of ["3.11", "3.12", "3.13"] as const) {
  const py = byVersion.get(minor) ?? null;
  peerTest(
    `recorded handshakes replay byte for byte against real CPython ${minor}`,
    py,
    `CPython ${minor}`,
    async (py, t) => {
      // CPython as the listener, our client playing the recorded client.
      const asServer = vectors.scenarios.filter((s) =>
        minorOf(s.server_python) === minor
      );
      const server = spawn(py, PY_SERVER, [
        JSON.stringify(vectors.server_random),
        String(asServer.length),
      ]);
      const { port } = await server.lines.json<{ port: number }>();
      for (const s of asServer) {
        await t.step(
          `${s.server_python} (real) server, ${s.client_python} client key ${s.client_authkey}`,
          () =>
            replay(
              s,
              "client",
              server.lines,
              () => Deno.connect({ hostname: "127.0.0.1", port }),
            ),
        );
      }
      assert.deepStrictEqual(await finish(server), []);
      // CPython as the client, our listener playing the recorded listener.
      const asClient = vectors.scenarios.filter((s) =>
        minorOf(s.client_python) === minor
      );
      using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const client = spawn(py, PY_CLIENT, [
        JSON.stringify(vectors.client_random),
        String(listener.addr.port),
        JSON.stringify(asClient.map((s) => s.client_authkey)),
      ]);
      for (const s of asClient) {
        await t.step(
          `${s.server_python} server, ${s.client_python} (real) client key ${s.client_authkey}`,
          () => replay(s, "listener", client.lines, () => listener.accept()),
        );
      }
      assert.deepStrictEqual(await finish(client), []);
      // None of our sockets to or from the Python peers is left open.
      assert.deepStrictEqual(ownTcpSockets(port), []);
      const ours = ownTcpSockets(listener.addr.port);
      assert.deepStrictEqual(ours.length, 1, ours.join(", ")); // the listener itself
    },
  );
}
