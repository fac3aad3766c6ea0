// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { peerTest, tempDir } from "../_test_utils/peers.ts";
import { keaPeer, startPeer } from "../_test_utils/session/kea.ts";
import { runIpc, spawnIpc } from "../_test_utils/cli_run.ts";

async function exchange(port: number, text: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(text));
  const buf = new Uint8Array(1024);
  let got = "";
  while (got.length < text.length) {
    const n = await conn.read(buf);
    if (n === null) break;
    got += new TextDecoder().decode(buf.subarray(0, n));
  }
  conn.close();
  return got;
}

Deno.test("ipc session forward hands TCP connections to ipc session receive", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/sessions.sock`;
  const receiver = spawnIpc([
    "session",
    "receive",
    sock,
    "--count",
    "2",
    "--json",
  ]);
  await receiver.waitFor(/receiving on/, "stderr");
  const forwarder = spawnIpc(["session", "forward", sock, "--count", "2"]);
  const addr = await forwarder.waitFor(/^127\.0\.0\.1:\d+$/, "stdout");
  const port = Number(addr.split(":")[1]);
  // The receiving process serves the connection: it echoes.
  assert.equal(await exchange(port, "hello"), "hello");
  assert.equal(await exchange(port, "second"), "second");
  const f = await forwarder.wait();
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stderr, /2 connections forwarded/);
  const r = await receiver.wait();
  assert.equal(r.code, 0, r.stderr);
  const sessions = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(sessions.length, 2);
  assert.equal(sessions[0].type, "tcp");
  assert.equal(sessions[0].local.port, port);
  assert.equal(sessions[0].remote.hostname, "127.0.0.1");
  assert.deepEqual(sessions.map((s) => atob(s.data.$bytes)), [
    "hello",
    "second",
  ]);
  await assert.rejects(Deno.lstat(sock), Deno.errors.NotFound);
});

Deno.test("ipc session receive --reply answers each connection", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/reply.sock`;
  const receiver = spawnIpc([
    "session",
    "receive",
    sock,
    "--reply",
    "pong",
    "--count",
    "1",
  ]);
  await receiver.waitFor(/receiving on/, "stderr");
  const forwarder = spawnIpc(["session", "forward", sock, "--count", "1"]);
  const port = Number(
    (await forwarder.waitFor(/^127\.0\.0\.1:\d+$/, "stdout")).split(":")[1],
  );
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode("ping"));
  assert.equal(await new Response(conn.readable).text(), "pong");
  assert.equal((await forwarder.wait()).code, 0);
  const r = await receiver.wait();
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^session 1: tcp 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ data b'ping'$/,
  );
});

Deno.test("ipc session receive: SIGINT removes the socket file", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/int.sock`;
  const receiver = spawnIpc(["session", "receive", sock]);
  await receiver.waitFor(/receiving on/, "stderr");
  assert.ok((await Deno.lstat(sock)).isSocket);
  receiver.kill("SIGINT");
  const r = await receiver.wait();
  // Stopped by a signal: 130, as the table says (it exited 0).
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /0 sessions received/);
  await assert.rejects(Deno.lstat(sock), Deno.errors.NotFound);
});

Deno.test("ipc session receive: SIGINT closes a session whose client is idle", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/idle.sock`;
  const receiver = spawnIpc(["session", "receive", sock], { timeout: 15_000 });
  await receiver.waitFor(/receiving on/, "stderr");
  const forwarder = spawnIpc(["session", "forward", sock]);
  const port = Number(
    (await forwarder.waitFor(/^127\.0\.0\.1:\d+$/, "stdout")).split(":")[1],
  );
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode("hi"));
    const buf = new Uint8Array(16);
    const n = await conn.read(buf);
    assert.equal(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "hi");
    // The client stays connected and silent.
    receiver.kill("SIGINT");
    const r = await receiver.wait();
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /1 session received/);
    // Its connection was closed by the receiver.
    assert.equal(await conn.read(buf), null);
  } finally {
    conn.close();
    forwarder.kill("SIGINT");
    await forwarder.wait();
  }
});

Deno.test("ipc session forward: SIGINT stops it, missing receiver exits 1, bad --listen exits 2", async () => {
  await using dir = await tempDir();
  const missing = await runIpc(["session", "forward", `${dir.path}/none.sock`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Cannot connect to the receiver/);
  const bad = await runIpc([
    "session",
    "forward",
    `${dir.path}/x.sock`,
    "--listen",
    "localhost",
  ]);
  assert.equal(bad.code, 2);
  const sock = `${dir.path}/f.sock`;
  const receiver = spawnIpc(["session", "receive", sock]);
  await receiver.waitFor(/receiving on/, "stderr");
  const forwarder = spawnIpc(["session", "forward", sock]);
  await forwarder.waitFor(/^127\.0\.0\.1:\d+$/, "stdout");
  forwarder.kill("SIGINT");
  assert.equal((await forwarder.wait()).code, 130);
  receiver.kill("SIGTERM");
  assert.equal((await receiver.wait()).code, 130);
  await assert.rejects(Deno.lstat(sock), Deno.errors.NotFound);
});

Deno.test("ipc session --help exits 0, unknown command exits 2", async () => {
  const r = await runIpc(["session", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /ipc session receive SOCKET/);
  const u = await runIpc(["session", "bounce", "/tmp/x"]);
  assert.equal(u.code, 2);
  const top = await runIpc(["nope"]);
  assert.equal(top.code, 2);
  const help = await runIpc(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: ipc <group> <command>/);
});

const KEA = keaPeer();

peerTest(
  "ipc session receive serves connections pushed by Kea 2.2's forwarder",
  KEA,
  "kea-common (libkea-util-io.so.0) + g++",
  async (peer) => {
    await using dir = await tempDir();
    const sock = `${dir.path}/kea-front.sock`;
    const receiver = spawnIpc([
      "session",
      "receive",
      sock,
      "--count",
      "1",
      "--reply",
      "from deno",
    ]);
    await receiver.waitFor(/receiving on/, "stderr");
    await using front = startPeer(peer, ["e2e-front", sock]);
    const { port } = await front.next() as { port: number };
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("hello kea"));
    assert.equal(await new Response(conn.readable).text(), "from deno");
    const r = await receiver.wait();
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^session 1: tcp 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ data b'hello kea'$/,
    );
    await assert.rejects(Deno.lstat(sock), Deno.errors.NotFound);
  },
);

peerTest(
  "ipc session forward hands connections to Kea 2.2's receiver",
  KEA,
  "kea-common (libkea-util-io.so.0) + g++",
  async (peer) => {
    await using dir = await tempDir();
    const sock = `${dir.path}/kea-worker.sock`;
    await using worker = startPeer(peer, ["e2e-worker", sock]);
    assert.deepEqual(await worker.next(), { ready: true });
    const forwarder = spawnIpc(["session", "forward", sock, "--count", "2"]);
    const port = Number(
      (await forwarder.waitFor(/^127\.0\.0\.1:\d+$/, "stdout")).split(":")[1],
    );
    for (const text of ["one", "two"]) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode(text));
      assert.equal(await new Response(conn.readable).text(), "ok");
    }
    const f = await forwarder.wait();
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stderr, /2 connections forwarded/);
    assert.deepEqual(await worker.next(), { sessions: 2 });
  },
);
