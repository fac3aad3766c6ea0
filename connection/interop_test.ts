// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Interop with real CPython processes: 3.11 (legacy HMAC-MD5 handshake),
// 3.12 and 3.13 (the {sha256} handshake). One Python process per scenario
// group and interpreter; the cases run as steps against it.
import assert from "node:assert/strict";
import { toHex } from "../_test_utils/hex.ts";
import {
  findPython,
  peerTest,
  pythons,
  tempDir,
} from "../_test_utils/peers.ts";
import { finish, spawn } from "../_test_utils/connection/python.ts";
import { Reports } from "../_test_utils/connection/listener.ts";
import type { Address } from "./address.ts";
import { connect, type ConnectOptions } from "./connect.ts";
import {
  AuthenticationError,
  BufferTooShort,
  ConnectionError,
  ProtocolError,
} from "./errors.ts";
import { Listener } from "./listener.ts";
import { ownTcpSockets, ownUnixSockets } from "../_test_utils/sockets.ts";
import { Tuple } from "./pickle.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const SIZES = [0, 1, 64 * 1024, 16 * 1024 * 1024];

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + 3) & 0xff;
  return out;
}

// ---------------------------------------------------------------------------
// A real Python Listener, our connect().

const PY_SERVER = String.raw`
import sys, os, json, threading
from array import array
from multiprocessing.connection import Listener

def out(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()

def echo(name, conn):
    try:
        with conn:
            while True:
                try:
                    m = conn.recv_bytes()
                except EOFError:
                    break
                if m.startswith(b"CMD:into:"):
                    buf = array("i", [0] * 10)
                    try:
                        n = conn.recv_bytes_into(buf, int(m[9:]))
                        conn.send_bytes(json.dumps({"n": n, "buf": list(buf)}).encode())
                    except Exception as e:
                        conn.send_bytes(json.dumps({"error": type(e).__name__, "len": len(e.args[0])}).encode())
                elif m.startswith(b"CMD:maxlen:"):
                    try:
                        conn.recv_bytes(int(m[11:]))
                        conn.send_bytes(b"accepted")
                    except OSError as e:
                        conn.send_bytes(json.dumps({"error": str(e), "flags": [conn.readable, conn.writable, conn.closed]}).encode())
                        break
                elif m.startswith(b"CMD:send:"):
                    conn.send_bytes(bytes((i * 7 + 3) & 0xff for i in range(int(m[9:]))))
                elif m == b"CMD:pickle":
                    conn.send(("echo", "hello"))
                elif m == b"CMD:load":
                    conn.send_bytes(repr(conn.recv()).encode())
                else:
                    conn.send_bytes(m)
    except Exception as e:
        out(event="error", listener=name, type=type(e).__name__, msg=str(e))

def serve(name, listener):
    while True:
        try:
            conn = listener.accept()
        except OSError as e:
            if "closed" in str(e) or getattr(e, "errno", None) in (9, 22):
                return
            out(event="error", listener=name, type=type(e).__name__, msg=str(e))
            continue
        except Exception as e:
            out(event="error", listener=name, type=type(e).__name__, msg=str(e))
            continue
        threading.Thread(target=echo, args=(name, conn), daemon=True).start()

tmp = sys.argv[1]
listeners = {
    "tcp-key": Listener(("127.0.0.1", 0), authkey=b"secret"),
    "unix-key": Listener(os.path.join(tmp, "key.sock"), authkey=b"secret"),
    "tcp-nokey": Listener(("127.0.0.1", 0)),
    "unix-nokey": Listener(os.path.join(tmp, "nokey.sock")),
}
for n, l in listeners.items():
    threading.Thread(target=serve, args=(n, l), daemon=True).start()
out(event="ready", addresses={n: (list(l.address) if isinstance(l.address, tuple) else l.address) for n, l in listeners.items()})
sys.stdin.read()
`;

function toAddress(a: unknown): Address {
  return Array.isArray(a)
    ? { hostname: a[0] as string, port: a[1] as number }
    : a as string;
}

for (const { minor, python } of pythons()) {
  peerTest(
    `connect() talks to a real CPython ${minor} Listener`,
    python,
    `CPython ${minor}`,
    async (py, t) => {
      const modern = minor !== "3.11";
      await using dir = await tempDir();
      const server = spawn(py, PY_SERVER, [dir.path]);
      const ready = await server.lines.json<
        { addresses: Record<string, unknown> }
      >();
      const addr = (name: string): Address => toAddress(ready.addresses[name]);

      async function echo(
        name: string,
        options: ConnectOptions<unknown>,
        sizes: number[],
      ): Promise<void> {
        await using conn = await connect(addr(name), options);
        for (const n of sizes) {
          const msg = pattern(n);
          await conn.sendBytes(msg);
          const got = await conn.recvBytes();
          assert.deepStrictEqual(got.length, n);
          assert.ok(got.every((v, i) => v === msg[i]), `echo of ${n} bytes`);
        }
      }

      for (const transport of ["tcp", "unix"]) {
        await t.step(
          `${transport}, authkey: echo of 0 B, 1 B, 64 KiB and 16 MiB`,
          async () => {
            await echo(`${transport}-key`, { authkey: "secret" }, SIZES);
          },
        );
        await t.step(`${transport}, no key on either side`, async () => {
          await echo(`${transport}-nokey`, {}, [0, 5]);
        });
      }
      await t.step(
        `our client in legacy (3.11) mode against ${minor}`,
        async () => {
          await echo("tcp-key", { authkey: "secret", protocol: "legacy" }, [3]);
        },
      );
      for (const digest of ["md5", "sha384", "sha3_256", "sha3_384"] as const) {
        await t.step(`our challenge asks for ${digest}`, async () => {
          await echo("tcp-key", { authkey: "secret", digest }, [1]);
        });
      }
      await t.step("wrong key: AuthenticationError on both sides", async () => {
        await assert.rejects(
          () => connect(addr("tcp-key"), { authkey: "wrong" }),
          (e) =>
            e instanceof AuthenticationError &&
            e.message.includes("digest sent was rejected"),
        );
        const event = await server.lines.json();
        assert.deepStrictEqual([event.type, event.msg], [
          "AuthenticationError",
          "digest received was wrong",
        ]);
      });
      await t.step(
        `allowLegacy false ${modern ? "works with" : "refuses"} ${minor}`,
        async () => {
          if (modern) {
            await echo("unix-key", { authkey: "secret", allowLegacy: false }, [
              1,
            ]);
          } else {
            await assert.rejects(
              () =>
                connect(addr("unix-key"), {
                  authkey: "secret",
                  allowLegacy: false,
                }),
              (e) =>
                e instanceof AuthenticationError &&
                e.message.includes("allowLegacy"),
            );
            const event = await server.lines.json();
            assert.deepStrictEqual(event.listener, "unix-key"); // the Python side sees EOF mid-handshake
          }
        },
      );
      await t.step(
        "Python recv_bytes_into at an offset, and BufferTooShort",
        async () => {
          await using conn = await connect(addr("tcp-key"), {
            authkey: "secret",
          });
          await conn.sendBytes(enc.encode("CMD:into:12"));
          await conn.sendBytes(new Int32Array([1, 2, 3, 4]));
          assert.deepStrictEqual(
            JSON.parse(dec.decode(await conn.recvBytes())),
            {
              n: 16,
              buf: [0, 0, 0, 1, 2, 3, 4, 0, 0, 0],
            },
          );
          await conn.sendBytes(enc.encode("CMD:into:36"));
          await conn.sendBytes(new Uint8Array(8));
          assert.deepStrictEqual(
            JSON.parse(dec.decode(await conn.recvBytes())),
            {
              error: "BufferTooShort",
              len: 8,
            },
          );
          await conn.sendBytes(enc.encode("still in sync"));
          assert.deepStrictEqual(
            dec.decode(await conn.recvBytes()),
            "still in sync",
          );
        },
      );
      await t.step(
        "Python recv_bytes(maxlength) accepts equal and refuses longer",
        async () => {
          await using conn = await connect(addr("tcp-key"), {
            authkey: "secret",
          });
          await conn.sendBytes(enc.encode("CMD:maxlen:5"));
          await conn.sendBytes(new Uint8Array(5));
          assert.deepStrictEqual(
            dec.decode(await conn.recvBytes()),
            "accepted",
          );
          await conn.sendBytes(enc.encode("CMD:maxlen:5"));
          await conn.sendBytes(new Uint8Array(6));
          assert.deepStrictEqual(
            JSON.parse(dec.decode(await conn.recvBytes())),
            {
              error: "bad message length",
              flags: [false, true, false],
            },
          );
        },
      );
      await t.step(
        "our recvBytes(maxLength) and recvBytesInto() on Python's messages",
        async () => {
          await using a = await connect(addr("unix-key"), {
            authkey: "secret",
          });
          await a.sendBytes(enc.encode("CMD:send:100"));
          await assert.rejects(
            () => a.recvBytes(99),
            (e) =>
              e instanceof ProtocolError &&
              e.message.includes("exceeds the maximum of 99"),
          );
          await assert.rejects(
            () => a.recvBytes(),
            (e) =>
              e instanceof ConnectionError && e.message.includes("write-only"),
          );
          await using b = await connect(addr("unix-key"), {
            authkey: "secret",
          });
          await b.sendBytes(enc.encode("CMD:send:100"));
          await assert.rejects(
            () => b.recvBytesInto(new Uint8Array(60), 10),
            (e) => {
              assert.ok(e instanceof BufferTooShort, String(e));
              assert.deepStrictEqual(e.bytes, pattern(100));
              return true;
            },
          );
          await b.sendBytes(enc.encode("CMD:send:40"));
          const buf = new Uint8Array(60);
          assert.deepStrictEqual(await b.recvBytesInto(buf, 20), 40);
          assert.deepStrictEqual(buf.subarray(20), pattern(40));
          assert.deepStrictEqual(buf.subarray(0, 20), new Uint8Array(20));
        },
      );
      await t.step(
        "pickle: Python's send() and recv() against ours",
        async () => {
          await using conn = await connect(addr("tcp-key"), {
            authkey: "secret",
          });
          await conn.sendBytes(enc.encode("CMD:pickle"));
          // The same bytes as the recorded conn.send(('echo', 'hello')).
          const raw = await conn.recvBytes();
          assert.deepStrictEqual(
            toHex(raw),
            "80049512000000000000008c046563686f948c0568656c6c6f9486942e",
          );
          await conn.sendBytes(enc.encode("CMD:pickle"));
          const value = await conn.recv();
          assert.ok(value instanceof Tuple);
          assert.deepStrictEqual(value.items, ["echo", "hello"]);
          await conn.sendBytes(enc.encode("CMD:load"));
          await conn.send({
            id: 7,
            tags: ["x", "y"],
            blob: new Uint8Array([1]),
          });
          assert.deepStrictEqual(
            dec.decode(await conn.recvBytes()),
            "{'id': 7, 'tags': ['x', 'y'], 'blob': b'\\x01'}",
          );
        },
      );
      const rest = await finish(server);
      assert.deepStrictEqual(rest, []);
      // None of our client sockets to the Python listeners is left open.
      for (const name of ["tcp-key", "tcp-nokey"]) {
        assert.deepStrictEqual(
          ownTcpSockets((addr(name) as { port: number }).port),
          [],
        );
      }
    },
  );
}

// ---------------------------------------------------------------------------
// Our Listener, a real Python Client.

const PY_CLIENT = String.raw`
import sys, json
from multiprocessing.connection import Client
for sc in json.loads(sys.argv[1]):
    a = sc["address"]
    addr = tuple(a) if isinstance(a, list) else a
    key = sc["authkey"].encode() if sc["authkey"] is not None else None
    try:
        with Client(addr, authkey=key) as c:
            ok = True
            for n in sc["sizes"]:
                m = (b"0123456789abcdef" * (n // 16 + 1))[:n]
                c.send_bytes(m)
                ok = ok and c.recv_bytes() == m
            res = {"ok": ok}
    except Exception as e:
        res = {"error": type(e).__name__, "msg": str(e)}
    print(json.dumps(res), flush=True)
`;

for (const { minor, python } of pythons()) {
  peerTest(
    `Listener serves a real CPython ${minor} Client`,
    python,
    `CPython ${minor}`,
    async (py, t) => {
      const modern = minor !== "3.11";
      await using dir = await tempDir();
      const ports: number[] = [];
      let abstractName = "";
      {
        const errors = new Reports();
        const options = { authkey: "secret", onError: errors.push };
        await using tcpKey = new Listener({ port: 0 }, options);
        await using unixKey = new Listener(`${dir.path}/key.sock`, options);
        await using abstract = new Listener(
          `\0sidecar-ipc-${crypto.randomUUID()}`,
          options,
        );
        await using tcpNoKey = new Listener({ port: 0 });
        await using strict = new Listener({ port: 0 }, {
          ...options,
          allowLegacy: false,
        });
        for (const l of [tcpKey, tcpNoKey, strict]) {
          ports.push((l.address as { port: number }).port);
        }
        abstractName = abstract.address as string;
        const toJson = (a: Address): unknown =>
          typeof a === "string" ? a : [a.hostname, a.port];
        const scenarios: [string, Listener, string | null, number[]][] = [
          [
            "tcp, authkey: echo of 0 B, 1 B, 64 KiB and 16 MiB",
            tcpKey,
            "secret",
            SIZES,
          ],
          ["unix path, authkey", unixKey, "secret", [0, 1, 64 * 1024]],
          ["abstract address, authkey", abstract, "secret", [1]],
          ["no key on either side", tcpNoKey, null, [1]],
          ["wrong key: AuthenticationError on both sides", tcpKey, "wrong", []],
          [
            `allowLegacy false ${modern ? "accepts" : "refuses"} ${minor}`,
            strict,
            "secret",
            [1],
          ],
        ];
        const client = spawn(py, PY_CLIENT, [
          JSON.stringify(
            scenarios.map(([, l, authkey, sizes]) => ({
              address: toJson(l.address),
              authkey,
              sizes,
            })),
          ),
        ]);
        for (const [name, listener, authkey, sizes] of scenarios) {
          await t.step(name, async () => {
            const shouldFail = authkey === "wrong" ||
              (listener === strict && !modern);
            if (shouldFail) {
              // accept() waits on for a good client; the failure is reported.
              const ac = new AbortController();
              const pending = listener.accept({ signal: ac.signal }).then(
                () => null,
                (e) => e,
              );
              const res = await client.lines.json();
              assert.deepStrictEqual(res.error, "AuthenticationError");
              const report = await errors.next();
              assert.ok(report instanceof AuthenticationError, String(report));
              ac.abort(new Error("no good client"));
              assert.deepStrictEqual(
                (await pending)?.message,
                "no good client",
              );
              return;
            }
            const conn = await listener.accept();
            for (const n of sizes) {
              await conn.sendBytes(await conn.recvBytes(n));
            }
            await conn.close();
            assert.deepStrictEqual(await client.lines.json(), { ok: true });
            if (typeof listener.address === "object") {
              assert.ok(typeof listener.lastAccepted === "object");
            }
          });
        }
        assert.deepStrictEqual(await finish(client), []);
      }
      for (const port of ports) assert.deepStrictEqual(ownTcpSockets(port), []);
      assert.deepStrictEqual(ownUnixSockets(dir.path), []);
      assert.deepStrictEqual(ownUnixSockets(abstractName), []);
    },
  );
}

// ---------------------------------------------------------------------------
// Bad peers (raw Python sockets): each ends in a typed error, no hang, no leak.

const PY_BAD = String.raw`
import sys, socket, struct, json
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(json.dumps({"port": s.getsockname()[1]}), flush=True)
def frame(b):
    return struct.pack("!i", len(b)) + b
for behaviour in sys.argv[1].split(","):
    c, _ = s.accept()
    if behaviour == "over-max":
        c.sendall(frame(b"x" * 1000))
    elif behaviour == "truncated-header":
        c.sendall(b"\x00\x00")
    elif behaviour == "truncated-payload":
        c.sendall(struct.pack("!i", 10) + b"abc")
    elif behaviour == "garbage-challenge":
        c.sendall(frame(b"#HELLO#" + bytes(20)))
    elif behaviour == "challenge-300":
        c.sendall(frame(b"#CHALLENGE#" + bytes(289)))
    elif behaviour == "silent":
        pass
    if behaviour == "silent":
        c.recv(1)  # wait until the client gives up
    else:
        c.shutdown(socket.SHUT_WR)
        c.recv(65536)
    c.close()
    print(json.dumps({"done": behaviour}), flush=True)
`;

peerTest(
  "connect() fails cleanly against bad peers",
  findPython("3.11"),
  "CPython 3.11",
  async (py, t) => {
    const behaviours = [
      "over-max",
      "truncated-header",
      "truncated-payload",
      "garbage-challenge",
      "challenge-300",
      "silent",
    ];
    const peer = spawn(py, PY_BAD, [behaviours.join(",")]);
    const { port } = await peer.lines.json<{ port: number }>();
    const address = { hostname: "127.0.0.1", port };
    const framing: [string, ConnectOptions, string][] = [
      [
        "a length over the maximum",
        { maxMessageSize: 999 },
        "exceeds the maximum of 999",
      ],
      ["a truncated header", {}, "inside a message header"],
      ["a truncated payload", {}, "after 3 of 10 payload bytes"],
    ];
    for (const [name, options, error] of framing) {
      await t.step(name, async () => {
        await using conn = await connect(address, options);
        await assert.rejects(
          () => conn.recvBytes(),
          (e) => e instanceof ProtocolError && e.message.includes(error),
        );
      });
    }
    await t.step("garbage instead of a challenge", async () => {
      await assert.rejects(
        () => connect(address, { authkey: "k" }),
        (e) =>
          e instanceof AuthenticationError &&
          e.message.includes("expected a challenge"),
      );
    });
    await t.step("a 300-byte challenge", async () => {
      await assert.rejects(
        () => connect(address, { authkey: "k" }),
        (e) =>
          e instanceof ProtocolError &&
          e.message.includes("exceeds the maximum of 256"),
      );
    });
    await t.step("a peer that never answers: timeout", async () => {
      await assert.rejects(
        () => connect(address, { authkey: "k", handshakeTimeout: 300 }),
        (e) =>
          e instanceof ProtocolError && e.code === "HANDSHAKE_TIMEOUT" &&
          e.message.includes("timed out after 300 ms"),
      );
    });
    const rest = await finish(peer);
    assert.deepStrictEqual(rest.length, behaviours.length);
    assert.deepStrictEqual(ownTcpSockets(port), []);
  },
);
