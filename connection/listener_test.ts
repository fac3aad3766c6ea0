// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { tempDir } from "../_test_utils/peers.ts";
import { Reports } from "../_test_utils/connection/listener.ts";
import { ownTcpSockets, ownUnixSockets } from "../_test_utils/sockets.ts";
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
    assert.ok(
      typeof address === "object" && address.port > 0 &&
        address.hostname === "127.0.0.1",
    );
    assert.deepStrictEqual(listener.lastAccepted, null);
    assert.deepStrictEqual(await echoOnce(listener), enc.encode("ping"));
    const last = listener.lastAccepted as
      | { hostname: string; port: number }
      | null;
    assert.ok(
      typeof last === "object" && last !== null &&
        last.hostname === "127.0.0.1" && last.port > 0,
    );
  }
  assert.deepStrictEqual(ownTcpSockets(port), []);
});

Deno.test("Listener on a Unix path: mode 0600, refuses a taken path, removes the file on close", async () => {
  let dirPath = "";
  {
    await using dir = await tempDir();
    dirPath = dir.path;
    const path = `${dir.path}/sidecar.sock`;
    const listener = new Listener(path, { authkey: "k" });
    const info = await Deno.lstat(path);
    assert.ok(info.isSocket, "a socket file");
    assert.deepStrictEqual(info.mode! & 0o777, 0o600);
    assert.deepStrictEqual(await echoOnce(listener), enc.encode("ping"));
    assert.deepStrictEqual(listener.lastAccepted, "");
    assert.throws(() => new Listener(path), Deno.errors.AddrInUse);
    // No temporary directory is left next to the socket.
    const names = (await Array.fromAsync(Deno.readDir(dir.path))).map((e) =>
      e.name
    );
    assert.deepStrictEqual(names, ["sidecar.sock"]);
    const closing = listener.close();
    assert.ok(closing instanceof Promise);
    assert.ok(listener.close() === closing, "idempotent");
    await closing;
    assert.deepStrictEqual(
      (await Array.fromAsync(Deno.readDir(dir.path))).length,
      0,
    );
    await assert.rejects(
      () => listener.accept(),
      (e) => e instanceof ConnectionError && e.message.includes("closed"),
    );
  }
  assert.deepStrictEqual(ownUnixSockets(dirPath), []);
});

Deno.test("Listener on a Linux abstract address", async () => {
  const name = `\0sidecar-ipc-test-${crypto.randomUUID()}`;
  await using listener = new Listener(name, { authkey: "k" });
  assert.deepStrictEqual(listener.address, name);
  assert.deepStrictEqual(await echoOnce(listener), enc.encode("ping"));
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
    assert.ok(wrong instanceof AuthenticationError);
    assert.ok(wrong.message.includes("rejected"));
    const report = await errors.next();
    assert.ok(report instanceof AuthenticationError, String(report));
    // The same accept() returns the next client that authenticates.
    const client = await connect(listener.address, { authkey: "right" });
    const server = await accepted;
    await client.sendBytes(new Uint8Array([7]));
    assert.deepStrictEqual(await server.recvBytes(), new Uint8Array([7]));
    await server.close();
    await client.close();
    assert.deepStrictEqual(errors.seen.length, 1);
  }
  assert.deepStrictEqual(ownTcpSockets(port), []);
});

Deno.test("Listener and connect() without keys skip the handshake", async () => {
  await using listener = new Listener({ port: 0 });
  const [server, client] = await Promise.all([
    listener.accept(),
    connect(listener.address),
  ]);
  await client.sendBytes(new Uint8Array([1]));
  assert.deepStrictEqual(await server.recvBytes(), new Uint8Array([1]));
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
  assert.ok(c instanceof AuthenticationError);
  assert.ok((await errors.next()) instanceof AuthenticationError);
  ac.abort(new Error("no good client"));
  assert.deepStrictEqual((await s).message, "no good client");
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
    assert.ok(err instanceof ProtocolError, String(err));
    assert.equal(err.code, "HANDSHAKE_TIMEOUT");
    assert.ok(err.message.includes("timed out after 200 ms"), err.message);
    assert.ok(err.cause instanceof DOMException);
    ac.abort(new Error("done"));
    assert.deepStrictEqual((await pending).message, "done");
    // The server closed its end: the silent client sees the challenge then EOF.
    const buf = new Uint8Array(1024);
    let total = 0;
    for (let n; (n = await silent.read(buf.subarray(total))) !== null;) {
      total += n;
    }
    assert.deepStrictEqual(total, 4 + 59);
    silent.close();
  }
  assert.deepStrictEqual(ownTcpSockets(port), []);
});

Deno.test("connect() handshake timeout: a listener that never challenges", async () => {
  let port = 0;
  {
    using raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    port = raw.addr.port;
    const accepted = raw.accept();
    await assert.rejects(() =>
      connect({ port: raw.addr.port }, {
        authkey: "k",
        handshakeTimeout: 200,
      }), (e) => e instanceof ProtocolError && e.message.includes("timed out"));
    (await accepted).close();
  }
  assert.deepStrictEqual(ownTcpSockets(port), []);
});

Deno.test("Listener.accept() abort hands a later connection to the next accept", async () => {
  await using listener = new Listener({ port: 0 });
  await assert.rejects(
    () => listener.accept({ signal: AbortSignal.abort(new Error("pre")) }),
    (e) => e instanceof Error && e.message.includes("pre"),
  );
  const ac = new AbortController();
  const first = listener.accept({ signal: ac.signal });
  ac.abort(new Error("stop"));
  await assert.rejects(
    () => first,
    (e) => e instanceof Error && e.message.includes("stop"),
  );
  const client = await connect(listener.address);
  const server = await listener.accept();
  await client.sendBytes(new Uint8Array([3]));
  assert.deepStrictEqual(await server.recvBytes(), new Uint8Array([3]));
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
  assert.ok(bad instanceof AuthenticationError);
  const client = await connect(listener.address, { authkey: "k" });
  await client.sendBytes(new Uint8Array([9]));
  await assert.rejects(() => client.recvBytes(), Error); // the server closed after reading
  const report = await errors.next();
  assert.ok(report instanceof AuthenticationError, String(report));
  await listener.close();
  await loop;
  assert.deepStrictEqual(served, [9]);
  assert.deepStrictEqual(errors.seen.length, 1);
  await client.close();
});

Deno.test("Listener.close() rejects a pending accept", async () => {
  const listener = new Listener({ port: 0 });
  const pending = assert.rejects(
    () => listener.accept(),
    (e) => e instanceof ConnectionError && e.message.includes("closed"),
  );
  await listener.close();
  await pending;
});

Deno.test("Listener and connect() refuse bad addresses", async () => {
  assert.throws(() => new Listener({} as unknown as string), TypeError);
  await assert.rejects(() => connect(42 as unknown as string), TypeError);
  await assert.rejects(
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
    await assert.rejects(
      () => connect({ port }, { maxMessageSize: -1 }),
      (e) =>
        e instanceof RangeError &&
        e.message.includes("Cannot connect: invalid maxMessageSize -1"),
    );
    await assert.rejects(
      () => connect({ port }, { authkey: "k", handshakeTimeout: NaN }),
      (e) =>
        e instanceof RangeError &&
        e.message ===
          "Cannot connect: handshakeTimeout must be a number of milliseconds >= 0 or Infinity, got NaN",
    );
    // Only the listening socket (state 0A): no client socket was opened.
    assert.deepStrictEqual(
      ownTcpSockets(port).filter((s) => !s.endsWith("(state 0A)")),
      [],
    );
  }
  assert.deepStrictEqual(ownTcpSockets(port), []);
  // It listened, then every accepted socket leaked and accept() threw.
  assert.throws(
    () => new Listener({ port: 0 }, { writeHighWaterMark: NaN }),
    (e) =>
      e instanceof RangeError &&
      e.message.includes("Cannot listen: invalid writeHighWaterMark NaN"),
  );
  await using dir = await tempDir();
  assert.throws(
    () => new Listener(`${dir.path}/s.sock`, { handshakeTimeout: -5 }),
    (e) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot listen: handshakeTimeout must be a number of milliseconds >= 0 or Infinity, got -5",
  );
  assert.deepStrictEqual(ownUnixSockets(dir.path), []);
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
    assert.deepStrictEqual(err, reason);
    server.close();
  }
  assert.deepStrictEqual(ownTcpSockets(port), []);
});
