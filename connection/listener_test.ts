// Copyright 2026 the @sidecar/ipc authors. MIT license.
import {
  assertEquals,
  assertOk,
  assertRejects,
  assertThrows,
} from "../_test_utils/assert.ts";
import { tempDir } from "../_test_utils/peers.ts";
import { Reports } from "../_test_utils/connection/listener.ts";
import {
  ownTcpSockets,
  ownUnixSockets,
} from "../_test_utils/connection/sockets.ts";
import { connect } from "./connect.ts";
import {
  AuthenticationError,
  ConnectionError,
  ProtocolError,
} from "./errors.ts";
import { Listener } from "./listener.ts";

const enc = new TextEncoder();

async function echoOnce(
  listener: Listener,
  address = listener.address,
): Promise<Uint8Array> {
  const [server, client] = await Promise.all([
    listener.accept(),
    connect(address, { authkey: "k" }),
  ]);
  await client.sendBytes(enc.encode("ping"));
  await server.sendBytes(await server.recvBytes());
  const got = await client.recvBytes();
  await client.close();
  await server.close();
  return got;
}

Deno.test("Listener on TCP: address, lastAccepted, authenticated round trip, no socket leak", async () => {
  let port = 0;
  {
    await using listener = new Listener({ hostname: "127.0.0.1", port: 0 }, {
      authkey: "k",
    });
    const address = listener.address;
    port = (address as { port: number }).port;
    assertOk(
      typeof address === "object" && address.port > 0 &&
        address.hostname === "127.0.0.1",
    );
    assertEquals(listener.lastAccepted, null);
    assertEquals(await echoOnce(listener), enc.encode("ping"));
    const last = listener.lastAccepted as
      | { hostname: string; port: number }
      | null;
    assertOk(
      typeof last === "object" && last !== null &&
        last.hostname === "127.0.0.1" && last.port > 0,
    );
  }
  assertEquals(ownTcpSockets(port), []);
});

Deno.test("Listener on a Unix path: mode 0600, refuses a taken path, removes the file on close", async () => {
  let dirPath = "";
  {
    await using dir = await tempDir();
    dirPath = dir.path;
    const path = `${dir.path}/sidecar.sock`;
    const listener = new Listener(path, { authkey: "k" });
    const info = await Deno.lstat(path);
    assertOk(info.isSocket, "a socket file");
    assertEquals(info.mode! & 0o777, 0o600);
    assertEquals(await echoOnce(listener), enc.encode("ping"));
    assertEquals(listener.lastAccepted, "");
    assertThrows(() => new Listener(path), Deno.errors.AddrInUse);
    // No temporary directory is left next to the socket.
    const names = (await Array.fromAsync(Deno.readDir(dir.path))).map((e) =>
      e.name
    );
    assertEquals(names, ["sidecar.sock"]);
    const closing = listener.close();
    assertOk(closing instanceof Promise);
    assertOk(listener.close() === closing, "idempotent");
    await closing;
    assertEquals((await Array.fromAsync(Deno.readDir(dir.path))).length, 0);
    await assertRejects(() => listener.accept(), ConnectionError, "closed");
  }
  assertEquals(ownUnixSockets(dirPath), []);
});

Deno.test("Listener on a Linux abstract address", async () => {
  const name = `\0sidecar-ipc-test-${crypto.randomUUID()}`;
  await using listener = new Listener(name, { authkey: "k" });
  assertEquals(listener.address, name);
  assertEquals(await echoOnce(listener), enc.encode("ping"));
});

Deno.test("Listener and connect(): wrong key fails on both sides, accept() goes on to the next good client", async () => {
  let port = 0;
  {
    const errors = new Reports();
    await using listener = new Listener({ port: 0 }, {
      authkey: "right",
      onError: errors.push,
    });
    port = (listener.address as { port: number }).port;
    const accepted = listener.accept();
    const wrong = await connect(listener.address, { authkey: "wrong" }).then(
      () => null,
      (e) => e,
    );
    assertOk(wrong instanceof AuthenticationError);
    assertOk(wrong.message.includes("rejected"));
    const report = await errors.next();
    assertOk(report instanceof AuthenticationError, String(report));
    // The same accept() returns the next client that authenticates.
    const client = await connect(listener.address, { authkey: "right" });
    const server = await accepted;
    await client.sendBytes(new Uint8Array([7]));
    assertEquals(await server.recvBytes(), new Uint8Array([7]));
    await server.close();
    await client.close();
    assertEquals(errors.seen.length, 1);
  }
  assertEquals(ownTcpSockets(port), []);
});

Deno.test("Listener and connect() without keys skip the handshake", async () => {
  using listener = new Listener({ port: 0 });
  const [server, client] = await Promise.all([
    listener.accept(),
    connect(listener.address),
  ]);
  await client.sendBytes(new Uint8Array([1]));
  assertEquals(await server.recvBytes(), new Uint8Array([1]));
  await server.close();
  await client.close();
});

Deno.test("Listener allowLegacy false refuses a client behaving as CPython 3.11", async () => {
  const errors = new Reports();
  await using listener = new Listener({ port: 0 }, {
    authkey: "k",
    allowLegacy: false,
    onError: errors.push,
  });
  const ac = new AbortController();
  const s = listener.accept({ signal: ac.signal }).catch((e) => e);
  const c = await connect(listener.address, {
    authkey: "k",
    protocol: "legacy",
  })
    .catch((e) => e);
  assertOk(c instanceof AuthenticationError);
  assertOk((await errors.next()) instanceof AuthenticationError);
  ac.abort(new Error("no good client"));
  assertEquals((await s).message, "no good client");
  // Both legacy: works.
  await using legacy = new Listener({ port: 0 }, {
    authkey: "k",
    protocol: "legacy",
  });
  const [server, client] = await Promise.all([
    legacy.accept(),
    connect(legacy.address, { authkey: "k", protocol: "legacy" }),
  ]);
  await server.close();
  await client.close();
});

Deno.test("Listener handshake timeout: a silent client ends in a ProtocolError reported to onError, no leak", async () => {
  let port = 0;
  {
    const errors = new Reports();
    await using listener = new Listener({ port: 0 }, {
      authkey: "k",
      handshakeTimeout: 200,
      onError: errors.push,
    });
    const address = listener.address as { hostname: string; port: number };
    port = address.port;
    const silent = await Deno.connect(address);
    const ac = new AbortController();
    const pending = listener.accept({ signal: ac.signal }).catch((e) => e);
    const err = await errors.next();
    assertOk(err instanceof ProtocolError, String(err));
    assertOk(err.message.includes("timed out after 200 ms"), err.message);
    assertOk(err.cause instanceof DOMException);
    ac.abort(new Error("done"));
    assertEquals((await pending).message, "done");
    // The server closed its end: the silent client sees the challenge then EOF.
    const buf = new Uint8Array(1024);
    let total = 0;
    for (let n; (n = await silent.read(buf.subarray(total))) !== null;) {
      total += n;
    }
    assertEquals(total, 4 + 59);
    silent.close();
  }
  assertEquals(ownTcpSockets(port), []);
});

Deno.test("connect() handshake timeout: a listener that never challenges", async () => {
  let port = 0;
  {
    using raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    port = raw.addr.port;
    const accepted = raw.accept();
    await assertRejects(
      () =>
        connect({ port: raw.addr.port }, {
          authkey: "k",
          handshakeTimeout: 200,
        }),
      ProtocolError,
      "timed out",
    );
    (await accepted).close();
  }
  assertEquals(ownTcpSockets(port), []);
});

Deno.test("Listener.accept() abort hands a later connection to the next accept", async () => {
  using listener = new Listener({ port: 0 });
  await assertRejects(
    () => listener.accept({ signal: AbortSignal.abort(new Error("pre")) }),
    Error,
    "pre",
  );
  const ac = new AbortController();
  const first = listener.accept({ signal: ac.signal });
  ac.abort(new Error("stop"));
  await assertRejects(() => first, Error, "stop");
  const client = await connect(listener.address);
  const server = await listener.accept();
  await client.sendBytes(new Uint8Array([3]));
  assertEquals(await server.recvBytes(), new Uint8Array([3]));
  await server.close();
  await client.close();
});

Deno.test("Listener async iteration skips failed handshakes and ends on close", async () => {
  const errors = new Reports();
  const listener = new Listener({ port: 0 }, {
    authkey: "k",
    onError: errors.push,
  });
  const served: number[] = [];
  const loop = (async () => {
    for await (const conn of listener) {
      served.push((await conn.recvBytes())[0]!);
      await conn.close();
    }
  })();
  const bad = await connect(listener.address, { authkey: "bad" }).then(
    () => null,
    (e) => e,
  );
  assertOk(bad instanceof AuthenticationError);
  const client = await connect(listener.address, { authkey: "k" });
  await client.sendBytes(new Uint8Array([9]));
  await assertRejects(() => client.recvBytes(), Error); // the server closed after reading
  const report = await errors.next();
  assertOk(report instanceof AuthenticationError, String(report));
  await listener.close();
  await loop;
  assertEquals(served, [9]);
  assertEquals(errors.seen.length, 1);
  await client.close();
});

Deno.test("Listener.close() rejects a pending accept", async () => {
  const listener = new Listener({ port: 0 });
  const pending = assertRejects(
    () => listener.accept(),
    ConnectionError,
    "closed",
  );
  await listener.close();
  await pending;
});

Deno.test("Listener and connect() refuse bad addresses", async () => {
  assertThrows(() => new Listener({} as unknown as string), TypeError);
  await assertRejects(() => connect(42 as unknown as string), TypeError);
  await assertRejects(
    () => connect("/nonexistent/sidecar.sock"),
    Deno.errors.NotFound,
  );
});

Deno.test("connect() and Listener check sizes and timeouts before opening a socket", async () => {
  let port = 0;
  {
    using raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    port = raw.addr.port;
    // It connected first and then threw from the Connection constructor,
    // leaving the socket open.
    await assertRejects(
      () => connect({ port }, { maxMessageSize: -1 }),
      RangeError,
      "Cannot connect: invalid maxMessageSize -1",
    );
    await assertRejects(
      () => connect({ port }, { authkey: "k", handshakeTimeout: NaN }),
      RangeError,
      "Cannot connect: invalid handshakeTimeout NaN",
    );
    // Only the listening socket (state 0A): no client socket was opened.
    assertEquals(
      ownTcpSockets(port).filter((s) => !s.endsWith("(state 0A)")),
      [],
    );
  }
  assertEquals(ownTcpSockets(port), []);
  // It listened, then every accepted socket leaked and accept() threw.
  assertThrows(
    () => new Listener({ port: 0 }, { writeHighWaterMark: NaN }),
    RangeError,
    "Cannot listen: invalid writeHighWaterMark NaN",
  );
  await using dir = await tempDir();
  assertThrows(
    () => new Listener(`${dir.path}/s.sock`, { handshakeTimeout: -5 }),
    RangeError,
    "Cannot listen: invalid handshakeTimeout -5",
  );
  assertEquals(ownUnixSockets(dir.path), []);
});

Deno.test("connect() signal aborts a handshake that never starts, closing the socket", async () => {
  let port = 0;
  {
    using raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    port = raw.addr.port;
    const accepted = raw.accept();
    const reason = new Error("user gave up");
    const ac = new AbortController();
    const pending = connect({ port }, { authkey: "k", signal: ac.signal });
    const server = await accepted;
    ac.abort(reason);
    const err = await pending.then(() => null, (e) => e);
    assertEquals(err, reason);
    server.close();
  }
  assertEquals(ownTcpSockets(port), []);
});
