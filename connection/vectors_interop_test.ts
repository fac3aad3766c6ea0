// Copyright 2026 the @sidecar/ipc authors. MIT license.
// deno-lint-ignore-file camelcase -- the keys are those of the recorded JSON vectors
// The recorded handshakes (testdata/handshake-vectors.json) replayed against
// real CPython 3.11.7 / 3.12.1 / 3.13.0 with os.urandom patched, our side
// playing the other interpreter with the same fixed random bytes: every
// frame on the wire, in both directions, must equal the recording.
import {
  assertEquals,
  assertOk,
  fromHex,
  toHex,
} from "../_test_utils/assert.ts";
import { peerTest, type Python, pythons } from "../_test_utils/peers.ts";
import { ownTcpSockets } from "../_test_utils/connection_sockets.ts";
import { authenticate } from "./authenticate.ts";
import { Connection } from "./connection.ts";
import { AuthenticationError } from "./errors.ts";
import { encodeMessage, MessageDecoder } from "./message_codec.ts";
import { Tuple } from "./pickle.ts";

interface Scenario {
  server_python: string;
  client_python: string;
  server_authkey: string;
  client_authkey: string;
  server_result: { ok: boolean };
  frames: { dir: "S->C" | "C->S"; wire_hex: string }[];
}
const vectors = JSON.parse(
  await Deno.readTextFile(
    new URL("./testdata/handshake-vectors.json", import.meta.url),
  ),
) as {
  server_random: { legacy_20: string; modern_40: string };
  client_random: { legacy_20: string; modern_40: string };
  scenarios: Scenario[];
};

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

function expected(s: Scenario, dir: "S->C" | "C->S"): string[] {
  return s.frames.filter((f) => f.dir === dir).map((f) => f.wire_hex);
}

function fixedRandom(
  r: { legacy_20: string; modern_40: string },
): (n: number) => Uint8Array {
  return (n) => fromHex(n === 20 ? r.legacy_20 : r.modern_40);
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

async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<Record<string, unknown>> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  }
}

function run(py: Python, script: string, args: string[]): {
  child: Deno.ChildProcess;
  out: AsyncGenerator<Record<string, unknown>>;
} {
  const child = new Deno.Command(py.path, {
    args: ["-c", script, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return { child, out: lines(child.stdout) };
}

const byVersion = new Map(
  pythons().map(({ minor, python }) => [minor, python]),
);
const minorOf = (v: string): "3.11" | "3.12" | "3.13" =>
  v.slice(0, 4) as "3.11" | "3.12" | "3.13";
const protocolOf = (v: string): "legacy" | "modern" =>
  v.startsWith("3.11") ? "legacy" : "modern";

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
      const server = run(py, PY_SERVER, [
        JSON.stringify(vectors.server_random),
        String(asServer.length),
      ]);
      const { port } = (await server.out.next()).value as { port: number };
      for (const s of asServer) {
        await t.step(
          `${s.server_python} (real) server, ${s.client_python} client key ${s.client_authkey}`,
          async () => {
            const rec = new Recorder(
              await Deno.connect({ hostname: "127.0.0.1", port }),
            );
            const conn = new Connection(rec as unknown as Deno.Conn);
            try {
              await authenticate(conn, "client", {
                authkey: enc.encode(s.client_authkey),
                protocol: protocolOf(s.client_python),
                randomBytes: fixedRandom(vectors.client_random),
              });
              await conn.send("hello");
              const reply = await conn.recv();
              assertOk(reply instanceof Tuple);
              assertEquals(reply.items, ["echo", "hello"]);
              assertOk(s.server_result.ok);
            } catch (e) {
              assertOk(
                !s.server_result.ok && e instanceof AuthenticationError,
                String(e),
              );
            } finally {
              await conn.close();
            }
            const report = (await server.out.next()).value as Record<
              string,
              unknown
            >;
            assertEquals(report.ok === true, s.server_result.ok);
            assertEquals(frames(rec.written), expected(s, "C->S"));
            assertEquals(frames(rec.readBytes), expected(s, "S->C"));
          },
        );
      }
      await server.child.status;
      // CPython as the client, our listener playing the recorded listener.
      const asClient = vectors.scenarios.filter((s) =>
        minorOf(s.client_python) === minor
      );
      using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const client = run(py, PY_CLIENT, [
        JSON.stringify(vectors.client_random),
        String(listener.addr.port),
        JSON.stringify(asClient.map((s) => s.client_authkey)),
      ]);
      for (const s of asClient) {
        await t.step(
          `${s.server_python} server, ${s.client_python} (real) client key ${s.client_authkey}`,
          async () => {
            const rec = new Recorder(await listener.accept());
            const conn = new Connection(rec as unknown as Deno.Conn);
            try {
              await authenticate(conn, "listener", {
                authkey: enc.encode(s.server_authkey),
                protocol: protocolOf(s.server_python),
                randomBytes: fixedRandom(vectors.server_random),
              });
              assertEquals(await conn.recv(), "hello");
              await conn.send(new Tuple(["echo", "hello"]));
              assertOk(s.server_result.ok);
            } catch (e) {
              assertOk(
                !s.server_result.ok && e instanceof AuthenticationError,
                String(e),
              );
            } finally {
              await conn.close();
            }
            const report = (await client.out.next()).value as Record<
              string,
              unknown
            >;
            assertEquals(report.ok === true, s.server_result.ok);
            assertEquals(frames(rec.readBytes), expected(s, "C->S"));
            assertEquals(frames(rec.written), expected(s, "S->C"));
          },
        );
      }
      await client.child.status;
      // None of our sockets to or from the Python peers is left open.
      assertEquals(ownTcpSockets(port), []);
      const ours = ownTcpSockets(listener.addr.port);
      assertEquals(ours.length, 1, ours.join(", ")); // the listener itself
    },
  );
}
