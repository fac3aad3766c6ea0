// Copyright 2026 the @sidecar/ipc authors. MIT license.
// The Listener's accept loop against hostile and slow peers, over real
// sockets: clients that reset before they are accepted, silent clients,
// the bound on pending handshakes, the order of accept(), onError, close()
// and abort. The legitimate clients are real CPython processes.
import assert from "node:assert/strict";
import { findPython, peerTest } from "../_test_utils/peers.ts";
import { finish, spawn } from "../_test_utils/connection/python.ts";
import { ownTcpSockets } from "../_test_utils/sockets.ts";
import {
  acceptedSockets,
  acceptQueueLength,
  listeningFd,
} from "../_test_utils/sockets.ts";
import {
  readSome,
  readToEnd,
  Reports,
} from "../_test_utils/connection/listener.ts";
import { shutdownSocket } from "../_test_utils/fd_table.ts";
import { waitFor, within } from "../_test_utils/wait.ts";
import { authenticate } from "./authenticate.ts";
import { connect } from "./connect.ts";
import { Connection } from "./connection.ts";
import { AuthenticationError, ConnectionError, EOFError } from "./errors.ts";
import type { Digest } from "./handshake.ts";
import { Listener } from "./listener.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
/** A `{sha256}` challenge as our listener sends it: header and payload. */
const CHALLENGE_SIZE = 4 + 11 + 8 + 40;
const python = findPython("3.13") ?? findPython("3.11");

// 100 clients connect and reset (SO_LINGER 0, then close) before anything
// accepts them; when told, a real Client() authenticates and echoes.
const PY_RESETS = String.raw`
import json, socket, struct, sys
from multiprocessing.connection import Client
port, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.connect(("127.0.0.1", port))
    s.close()
print(json.dumps({"reset": n}), flush=True)
sys.stdin.readline()
with Client(("127.0.0.1", port), authkey=b"secret") as c:
    c.send_bytes(b"hello")
    print(json.dumps({"reply": c.recv_bytes().decode()}), flush=True)
`;

peerTest(
  "Listener: 100 clients that reset before accept() are skipped and reported, then a real CPython Client is served by the same for-await loop",
  python,
  "CPython 3.13 or 3.11",
  async (py) => {
    const errors = new Reports();
    const listener = new Listener({ port: 0 }, {
      authkey: "secret",
      onError: errors.push,
    });
    const port = (listener.address as { port: number }).port;
    const client = spawn(py, PY_RESETS, [String(port), "100"]);
    assert.deepStrictEqual(await client.lines.json(), { reset: 100 });
    // All 100 are in the accept queue, reset, before the loop starts.
    const served: string[] = [];
    const loop = (async () => {
      for await (const conn of listener) {
        served.push(dec.decode(await conn.recvBytes()));
        await conn.sendBytes(enc.encode("world"));
        await conn.close();
        break;
      }
    })();
    const stdin = client.child.stdin.getWriter();
    await stdin.write(enc.encode("go\n"));
    await stdin.close();
    assert.deepStrictEqual(await within(client.lines.json(), "the reply"), {
      reply: "world",
    });
    await loop;
    assert.deepStrictEqual(served, ["hello"]);
    // Deno 2.9.6 reports each reset client as NotConnected (its
    // getpeername() fails); each one was skipped.
    assert.deepStrictEqual(errors.seen.length, 100);
    for (const e of errors.seen) {
      assert.ok(e instanceof Deno.errors.NotConnected, String(e));
    }
    await listener.close();
    assert.deepStrictEqual(await finish(client), []);
    assert.deepStrictEqual(ownTcpSockets(port), []);
  },
);

// Ten clients connect and say nothing; then a real Client() connects.
const PY_SILENT = String.raw`
import json, socket, sys
from multiprocessing.connection import Client
port = int(sys.argv[1])
silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
print(json.dumps({"silent": len(silent)}), flush=True)
with Client(("127.0.0.1", port), authkey=b"secret") as c:
    c.send_bytes(b"hello")
    print(json.dumps({"reply": c.recv_bytes().decode()}), flush=True)
sys.stdin.readline()
`;

peerTest(
  "Listener: ten silent clients connected first do not delay a real CPython Client, which accept() returns first (default handshakeTimeout)",
  python,
  "CPython 3.13 or 3.11",
  async (py) => {
    const errors = new Reports();
    const listener = new Listener({ port: 0 }, {
      authkey: "secret",
      onError: errors.push,
    });
    const port = (listener.address as { port: number }).port;
    const client = spawn(py, PY_SILENT, [String(port)]);
    assert.deepStrictEqual(await client.lines.json(), { silent: 10 });
    // Before the fix, this accept() took the first silent client and
    // rejected with a ProtocolError after 5 s.
    const conn = await within(listener.accept(), "the CPython client");
    assert.deepStrictEqual(dec.decode(await conn.recvBytes()), "hello");
    await conn.sendBytes(enc.encode("world"));
    assert.deepStrictEqual(await client.lines.json(), { reply: "world" });
    await conn.close();
    // The ten are still in their handshakes; close() ends them unreported.
    assert.deepStrictEqual(acceptedSockets(port), 10);
    await listener.close();
    assert.deepStrictEqual(acceptedSockets(port), 0);
    assert.deepStrictEqual(errors.seen, []);
    assert.deepStrictEqual(await finish(client), []);
    assert.deepStrictEqual(ownTcpSockets(port), []);
  },
);

Deno.test("Listener: with 64 handshakes pending (the default bound), the 65th client waits in the kernel backlog until one of them ends", async () => {
  const errors = new Reports();
  // A long timeout: only the test ends these handshakes.
  const listener = new Listener({ port: 0 }, {
    authkey: "k",
    handshakeTimeout: 600_000,
    onError: errors.push,
  });
  const address = listener.address as { hostname: string; port: number };
  const port = address.port;
  const silent: Deno.Conn[] = [];
  for (let i = 0; i < 64; i++) silent.push(await Deno.connect(address));
  const first = listener.accept();
  // Every one of the 64 gets its challenge: their handshakes run at once.
  await within(
    Promise.all(silent.map((c) => readSome(c, CHALLENGE_SIZE))),
    "64 challenges",
  ).then((sizes) => assert.ok(sizes.every((n) => n === CHALLENGE_SIZE)));
  // The listener stopped accepting before the 64th challenge was sent:
  // the 65th stays in the accept queue.
  const late = await Deno.connect(address);
  await waitFor(
    "the 65th in the accept queue",
    () => acceptQueueLength(port) === 1,
  );
  assert.deepStrictEqual(acceptedSockets(port), 64);
  const lateConn = new Connection(late);
  const lateAuth = authenticate(lateConn, "client", {
    authkey: enc.encode("k"),
  });
  // One silent client leaves: its handshake fails (reported), its slot is
  // free, the 65th is accepted, authenticates, and is the first accepted.
  silent.shift()!.close();
  const report = await errors.next();
  assert.ok(report instanceof EOFError, String(report));
  await within(lateAuth, "the 65th handshake");
  await lateConn.sendBytes(new Uint8Array([65]));
  const server = await within(first, "accept()");
  assert.deepStrictEqual(await server.recvBytes(), new Uint8Array([65]));
  assert.deepStrictEqual(acceptQueueLength(port), 0);
  await server.close();
  await lateConn.close();
  await listener.close();
  for (const c of silent) {
    assert.deepStrictEqual(await readToEnd(c), 0); // closed by the listener
    c.close();
  }
  assert.deepStrictEqual(errors.seen.length, 1);
  assert.deepStrictEqual(ownTcpSockets(port), []);
});

// Clients that connect in order 0, 1, 2 and authenticate when told:
// "wait i" waits until client i has its challenge, "auth i" runs
// Client()'s handshake (answer, then deliver) and sends i.
const PY_STEPPED = String.raw`
import json, select, socket, sys
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge
port, n = int(sys.argv[1]), int(sys.argv[2])
conns, ports = [], []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    ports.append(s.getsockname()[1])
    conns.append(Connection(s.detach()))
print(json.dumps({"ports": ports}), flush=True)
for line in sys.stdin:
    cmd, i = line.split()
    c = conns[int(i)]
    if cmd == "wait":
        select.select([c], [], [])
        print(json.dumps({"challenged": int(i)}), flush=True)
    elif cmd == "auth":
        answer_challenge(c, b"secret")
        deliver_challenge(c, b"secret")
        c.send_bytes(i.encode())
        print(json.dumps({"authenticated": int(i)}), flush=True)
for c in conns:
    c.close()
`;

peerTest(
  "Listener: accept() returns connections in the order their handshakes finish, not the order they connected (real CPython handshakes)",
  python,
  "CPython 3.13 or 3.11",
  async (py) => {
    const errors = new Reports();
    const listener = new Listener({ port: 0 }, {
      authkey: "secret",
      onError: errors.push,
    });
    const port = (listener.address as { port: number }).port;
    const client = spawn(py, PY_STEPPED, [String(port), "3"]);
    const { ports } = await client.lines.json<{ ports: number[] }>();
    const stdin = client.child.stdin.getWriter();
    const say = (line: string) => stdin.write(enc.encode(line + "\n"));
    // Three waiting accept() calls, served first come first served.
    const accepts = [listener.accept(), listener.accept(), listener.accept()];
    for (const [k, i] of [2, 0, 1].entries()) {
      await say(`auth ${i}`);
      assert.deepStrictEqual(await client.lines.json(), { authenticated: i });
      const conn = await within(accepts[k]!, `accept() #${k}`);
      assert.deepStrictEqual(dec.decode(await conn.recvBytes()), String(i));
      assert.deepStrictEqual(
        (listener.lastAccepted as { port: number }).port,
        ports[i],
      );
      await conn.close();
    }
    // Once authenticated, a connection waits for the next accept().
    const more = spawn(py, PY_STEPPED, [String(port), "2"]);
    const { ports: morePorts } = await more.lines.json<{ ports: number[] }>();
    const moreIn = more.child.stdin.getWriter();
    for (const i of [1, 0]) {
      await moreIn.write(enc.encode(`auth ${i}\n`));
      assert.deepStrictEqual(await more.lines.json(), { authenticated: i });
    }
    for (const i of [1, 0]) {
      const conn = await within(listener.accept(), "a queued connection");
      assert.deepStrictEqual(dec.decode(await conn.recvBytes()), String(i));
      assert.deepStrictEqual(
        (listener.lastAccepted as { port: number }).port,
        morePorts[i],
      );
      await conn.close();
    }
    await stdin.close();
    await moreIn.close();
    assert.deepStrictEqual(await finish(client), []);
    assert.deepStrictEqual(await finish(more), []);
    await listener.close();
    assert.deepStrictEqual(errors.seen, []);
    assert.deepStrictEqual(ownTcpSockets(port), []);
  },
);

peerTest(
  "Listener: an accept() aborted while a client is in its handshake loses nothing: the next accept() returns that client",
  python,
  "CPython 3.13 or 3.11",
  async (py) => {
    const errors = new Reports();
    const listener = new Listener({ port: 0 }, {
      authkey: "secret",
      onError: errors.push,
    });
    const port = (listener.address as { port: number }).port;
    const client = spawn(py, PY_STEPPED, [String(port), "1"]);
    await client.lines.json();
    const stdin = client.child.stdin.getWriter();
    const ac = new AbortController();
    const reason = new Error("gave up");
    const aborted = listener.accept({ signal: ac.signal }).then(
      () => null,
      (e) => e,
    );
    await stdin.write(enc.encode("wait 0\n"));
    assert.deepStrictEqual(await client.lines.json(), { challenged: 0 });
    ac.abort(reason);
    assert.deepStrictEqual(await aborted, reason);
    await stdin.write(enc.encode("auth 0\n"));
    assert.deepStrictEqual(await client.lines.json(), { authenticated: 0 });
    const conn = await within(listener.accept(), "the next accept()");
    assert.deepStrictEqual(dec.decode(await conn.recvBytes()), "0");
    await conn.close();
    await stdin.close();
    assert.deepStrictEqual(await finish(client), []);
    await listener.close();
    assert.deepStrictEqual(errors.seen, []);
    assert.deepStrictEqual(ownTcpSockets(port), []);
  },
);

Deno.test("Listener.close() closes every socket in its handshake and every authenticated connection not yet taken; the one taken stays open", async () => {
  const errors = new Reports();
  const listener = new Listener({ port: 0 }, {
    authkey: "k",
    onError: errors.push,
  });
  const address = listener.address as { hostname: string; port: number };
  const port = address.port;
  const taken = listener.accept();
  const silent: Deno.Conn[] = [];
  for (let i = 0; i < 3; i++) silent.push(await Deno.connect(address));
  const clients = await within(
    Promise.all([0, 1, 2].map(() => connect(address, { authkey: "k" }))),
    "three authenticated clients",
  );
  for (const c of silent) {
    assert.deepStrictEqual(
      await within(readSome(c, CHALLENGE_SIZE), "a challenge"),
      CHALLENGE_SIZE,
    );
  }
  const server = await taken;
  // Held: three in their handshake, two authenticated, one taken.
  assert.deepStrictEqual(acceptedSockets(port), 6);
  await listener.close();
  assert.deepStrictEqual(acceptedSockets(port), 1);
  // The taken connection still works; the others see the listener close.
  await server.sendBytes(new Uint8Array([1]));
  let open = 0;
  for (const c of clients) {
    try {
      assert.deepStrictEqual(await c.recvBytes(), new Uint8Array([1]));
      open++;
    } catch (e) {
      assert.ok(e instanceof EOFError, String(e));
    }
    await c.close();
  }
  assert.deepStrictEqual(open, 1);
  for (const c of silent) {
    assert.deepStrictEqual(await readToEnd(c), 0);
    c.close();
  }
  await server.close();
  assert.deepStrictEqual(errors.seen, []);
  assert.deepStrictEqual(ownTcpSockets(port), []);
});

Deno.test("Listener: a listening socket that stops listening ends accept() and the iteration with a ConnectionError (reported to onError)", async () => {
  const errors = new Reports();
  const listener = new Listener({ port: 0 }, { onError: errors.push });
  const port = (listener.address as { port: number }).port;
  const pending = listener.accept().then(() => null, (e) => e);
  const iteration = (async () => {
    for await (const _ of listener) {
      // Nothing arrives.
    }
  })().then(() => null, (e) => e);
  shutdownSocket(listeningFd(port));
  const err = await within(pending, "accept() rejecting");
  assert.ok(err instanceof ConnectionError, String(err));
  assert.deepStrictEqual(err.message, "Cannot accept: the listener failed");
  assert.deepStrictEqual((err.cause as { code?: string }).code, "EINVAL");
  assert.deepStrictEqual(await iteration, err);
  assert.deepStrictEqual(errors.seen, [err]);
  const again = await listener.accept().then(() => null, (e) => e);
  assert.deepStrictEqual(again, err);
  await listener.close();
  assert.deepStrictEqual(ownTcpSockets(port), []);
});

Deno.test("Listener: an onError hook that throws closes the listener, and accept() rejects with what it threw", async () => {
  const thrown = new Error("stop serving");
  const listener = new Listener({ port: 0 }, {
    authkey: "right",
    onError: () => {
      throw thrown;
    },
  });
  const port = (listener.address as { port: number }).port;
  const pending = listener.accept().then(() => null, (e) => e);
  const bad = await connect(listener.address, { authkey: "wrong" }).then(
    () => null,
    (e) => e,
  );
  assert.ok(bad instanceof AuthenticationError);
  assert.deepStrictEqual(await within(pending, "accept() rejecting"), thrown);
  await listener.close();
  assert.deepStrictEqual(ownTcpSockets(port), []);
});

Deno.test("Listener refuses a bad maxPendingHandshakes or handshake choice before it binds", () => {
  for (const bad of [0, -1, 1.5, NaN]) {
    assert.throws(
      () => new Listener({ port: 0 }, { maxPendingHandshakes: bad }),
      (e) =>
        e instanceof RangeError &&
        e.message.includes(
          `Cannot listen: invalid maxPendingHandshakes ${bad}`,
        ),
    );
  }
  assert.throws(
    () =>
      new Listener({ port: 0 }, {
        authkey: "k",
        digest: "sha1" as Digest,
      }),
    (e) =>
      e instanceof TypeError && e.message.includes('unsupported digest "sha1"'),
  );
  assert.throws(
    () =>
      new Listener({ port: 0 }, {
        authkey: 42 as unknown as string,
      }),
    (e) =>
      e instanceof TypeError &&
      e.message.includes("authkey must be a Uint8Array"),
  );
});

Deno.test("Listener survives EMFILE: reports it, backs off, and accepts the waiting client once fds are free (in a child with a full fd table)", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../_test_utils/connection/emfile.ts", import.meta.url).pathname,
    ],
    env: { DENO_NO_UPDATE_CHECK: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const { Lines } = await import("../_test_utils/connection/python.ts");
  const lines = new Lines(child.stdout);
  const stdin = child.stdin.getWriter();
  const say = (line: string) => stdin.write(enc.encode(line + "\n"));
  const { port } = await lines.json<{ port: number }>();
  await using client = await connect({ port });
  await client.sendBytes(new Uint8Array([42]));
  await say("fill");
  const filled = await lines.json<{ filled: number }>();
  assert.ok(filled.filled > 0, JSON.stringify(filled));
  await say("accept");
  // accept() does not reject: the failure is reported, and retried.
  assert.deepStrictEqual(await within(lines.json(), "a report"), {
    error: "EMFILE",
  });
  assert.deepStrictEqual(await within(lines.json(), "a second report"), {
    error: "EMFILE",
  });
  await say("free");
  let line: Record<string, unknown>;
  while ("error" in (line = await within(lines.json(), "freed"))) {
    assert.deepStrictEqual(line, { error: "EMFILE" });
  }
  assert.deepStrictEqual(line, { freed: filled.filled });
  assert.deepStrictEqual(await within(lines.json(), "the accept"), {
    accepted: 42,
  });
  await say("close");
  assert.deepStrictEqual(await within(lines.json(), "close"), { closed: true });
  await stdin.close();
  assert.ok((await child.status).success);
});

Deno.test("Listener: the background accept keeps a process alive only while someone waits in accept() (a script that took its client and never closed the listener still exits)", async () => {
  const url = new URL("./mod.ts", import.meta.url).href;
  const script = `
    import { connect, Listener } from ${JSON.stringify(url)};
    const listener = new Listener({ port: 0 }, { authkey: "k" });
    const [server, client] = await Promise.all([
      listener.accept(),
      connect(listener.address, { authkey: "k" }),
    ]);
    await server.close();
    await client.close();
    // Authenticated in the background; nobody takes it.
    await connect(listener.address, { authkey: "k" });
    console.log("end of script");
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env: { DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = await within(child.output(), "the script's exit").catch(
    async (e) => {
      child.kill();
      await child.status;
      throw e;
    },
  );
  assert.ok(out.success);
  assert.deepStrictEqual(dec.decode(out.stdout), "end of script\n");
});
