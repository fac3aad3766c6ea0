// Copyright 2026 the @sidecar/ipc authors. MIT license.
import fc from "fast-check";
import assert from "node:assert/strict";
import { tempDir } from "../_test_utils/peers.ts";
import { startJsonProcess } from "../_test_utils/session/kea.ts";
import { BAD_SESSION_CASES } from "../_test_utils/session/cases.ts";
import { sessionPair, udpSession } from "../_test_utils/session/pair.ts";
import {
  acceptOne,
  bindSocket,
  closeFd,
  hasCloexec,
  localAddress,
  poller,
  rawConnect,
  recvSome,
  sendAll,
  sendRaw,
  sendTo,
  trackFds,
} from "../_test_utils/session/raw.ts";
import {
  SessionsLostError,
  SocketSessionError,
  WouldBlockError,
} from "./errors.ts";
import { P } from "./_libc.ts";
import { SocketSessionForwarder } from "./forwarder.ts";
import { SocketSessionListener } from "./listener.ts";
import { encodeSessionHeader } from "./session_header.ts";
import { encodeSockaddr } from "./sockaddr.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("SocketSessionForwarder and SocketSessionReceiver pass UDP and TCP sockets, IPv4 and IPv6 (pushAndPop)", async () => {
  await using dir = await tempDir();
  using fds = trackFds();
  {
    await using c = await sessionPair(dir.path);
    for (const host of ["127.0.0.1", "::1"]) {
      for (const size of [1, 100, 65535]) {
        // UDP: forward the bound socket; the receiver answers with sendto on its copy.
        const udp = bindSocket(host, false);
        const data = new Uint8Array(size).fill(0x61);
        c.forwarder.push({
          fd: udp.fd,
          type: 2,
          protocol: 17,
          local: { hostname: host, port: udp.port },
          remote: {
            hostname: host === "::1" ? "2001:db8::1" : "192.0.2.2",
            port: 5300,
          },
          data,
        });
        const s = await c.receiver.pop();
        assert.ok(s.fd >= 0 && s.fd !== udp.fd);
        assert.ok(hasCloexec(s.fd), "received fd is close-on-exec");
        assert.deepEqual([s.family, s.type, s.protocol], [
          host === "::1" ? 10 : 2,
          2,
          17,
        ]);
        assert.deepEqual(s.local.port, udp.port);
        assert.deepEqual(
          s.remote.hostname,
          host === "::1" ? "2001:db8::1" : "192.0.2.2",
        );
        assert.deepEqual(s.data, data);
        assert.deepEqual(localAddress(s.fd).port, udp.port);
        sendTo(s.fd, enc.encode("BIND10 test"), {
          hostname: host,
          port: udp.port,
        });
        assert.deepEqual(dec.decode(await recvSome(udp.fd)), "BIND10 test");
        s.close();
        closeFd(udp.fd);

        // TCP: forward an accepted connection; the receiver answers the client.
        const server = bindSocket(host, true);
        const client = await Deno.connect({
          hostname: host,
          port: server.port,
        });
        const conn = await acceptOne(server.fd);
        c.forwarder.push({
          fd: conn,
          type: 1,
          protocol: 6,
          local: { hostname: host, port: server.port },
          remote: {
            hostname: host,
            port: (client.localAddr as Deno.NetAddr).port,
          },
          data,
        });
        closeFd(conn);
        using t = await c.receiver.pop();
        assert.deepEqual([t.type, t.protocol], [1, 6]);
        assert.deepEqual(
          t.remote.port,
          (client.localAddr as Deno.NetAddr).port,
        );
        await sendAll(t.fd, enc.encode("reply"));
        const buf = new Uint8Array(16);
        const n = await client.read(buf);
        assert.deepEqual(dec.decode(buf.subarray(0, n ?? 0)), "reply");
        client.close();
        closeFd(server.fd);
      }
    }
  }
  assert.deepEqual(await fds.leaks(), []);
});

Deno.test("SocketSessionForwarder checks paths and connection state like BIND 10 (construct, connect, close)", async () => {
  await using dir = await tempDir();
  assert.throws(() => new SocketSessionForwarder("x".repeat(108)), RangeError);
  new SocketSessionForwarder("x".repeat(107));
  const missing = new SocketSessionForwarder(`${dir.path}/missing.sock`);
  assert.throws(() => missing.connect(), {
    name: "SocketSessionError",
    code: "ENOENT",
  });
  assert.deepEqual(missing.connected, false);
  using listener = SocketSessionListener.listen(`${dir.path}/c.sock`);
  await using f = new SocketSessionForwarder(`${dir.path}/c.sock`);
  f.connect();
  assert.throws(() => f.connect(), {
    name: "TypeError",
    message: /already connected/,
  });
  await f.close();
  await f.close();
  f.connect();
  assert.deepEqual(f.connected, true);
  (await listener.accept()).close();
  (await listener.accept()).close();
  assert.throws(() => SocketSessionListener.listen(`${dir.path}/c.sock`), {
    name: "SocketSessionError",
    message: /in use/,
  });
  SocketSessionListener.listen(`${dir.path}/c2.sock`).close();
});

Deno.test("SocketSessionForwarder.push() rejects bad sessions like BIND 10 (badPush)", async () => {
  await using dir = await tempDir();
  const v4 = { hostname: "192.0.2.1", port: 53 };
  const v6 = { hostname: "2001:db8::1", port: 53 };
  const base = {
    fd: 0,
    type: 2,
    protocol: 17,
    local: v4,
    remote: v4,
    data: enc.encode("x"),
  };
  const notConnected = new SocketSessionForwarder(`${dir.path}/none.sock`);
  assert.throws(() => notConnected.push(base), {
    name: "TypeError",
    message: /not connected/,
  });
  await using c = await sessionPair(dir.path);
  const unspec = new Uint8Array(16);
  assert.throws(() => c.forwarder.push({ ...base, local: unspec }), {
    name: "TypeError",
    message: /family/,
  });
  assert.throws(() => c.forwarder.push({ ...base, remote: unspec }), {
    name: "TypeError",
    message: /family/,
  });
  assert.throws(() => c.forwarder.push({ ...base, local: v6 }), {
    name: "TypeError",
    message: /inconsistent/,
  });
  assert.throws(() =>
    c.forwarder.push({
      ...base,
      family: 10,
      remote: v6,
      local: v6,
      data: new Uint8Array(),
    }), RangeError);
  assert.throws(
    () => c.forwarder.push({ ...base, data: new Uint8Array(65536) }),
    RangeError,
  );
  assert.throws(() => c.forwarder.push({ ...base, fd: -1 }), TypeError);
  // A closed fd: nothing is sent, the forwarder stays usable.
  assert.throws(() => c.forwarder.push({ ...base, fd: 999 }), {
    name: "TypeError",
    message: /not open/,
  });
  c.forwarder.push(base);
  (await c.receiver.pop()).close();
  // The receiver goes away: EPIPE, then the forwarder is broken.
  c.receiver.close();
  assert.throws(() => c.forwarder.push(base), {
    name: "SocketSessionError",
    code: "EPIPE",
  });
  assert.throws(() => c.forwarder.push(base), {
    name: "SocketSessionError",
    code: "BROKEN",
  });
});

Deno.test("SocketSessionForwarder.push() throws WouldBlockError when the receiver stops reading, send() waits and honours its signal (pushTooFast)", async () => {
  await using dir = await tempDir();
  using fds = trackFds();
  {
    await using c = await sessionPair(dir.path);
    const s = udpSession(new Uint8Array(65535));
    let pushed = 0;
    let blocked: unknown = null;
    for (let i = 0; i < 10 && blocked === null; i++) {
      try {
        c.forwarder.push(s);
        pushed++;
      } catch (err) {
        blocked = err;
      }
    }
    assert.ok(
      blocked instanceof WouldBlockError,
      `push should block within 10, pushed ${pushed}`,
    );
    assert.deepEqual((blocked as WouldBlockError).bytesWritten, 0);
    // send() with an abort before any byte went out: rejected, stream intact.
    const ac = new AbortController();
    const pending = c.forwarder.send({ ...s, data: new Uint8Array([7]) }, {
      signal: ac.signal,
    });
    ac.abort(new Error("stop"));
    await assert.rejects(() => pending, { message: /stop/ });
    // send() completes once the receiver reads again.
    const sent = c.forwarder.send({ ...s, data: new Uint8Array([9]) });
    // Every pushed session arrives whole, including one that Linux may have
    // cut after its fd (its tail was finished in the background).
    for (let i = 0; i < pushed; i++) {
      using got = await c.receiver.pop({ timeout: 5000 });
      assert.deepEqual(got.data.length, 65535);
    }
    await sent;
    using last = await c.receiver.pop({ timeout: 5000 });
    assert.deepEqual(last.data, new Uint8Array([9]));
  }
  assert.deepEqual(await fds.leaks(), []);
});

Deno.test("SocketSessionForwarder.close() gives up what the receiver does not take within closeTimeout: pending send()s reject, close() counts them (an aborted one is not lost)", async () => {
  await using dir = await tempDir();
  using fds = trackFds();
  {
    await using c = await sessionPair(dir.path, "s.sock", {
      closeTimeout: 100,
    });
    const s = udpSession(new Uint8Array(65535));
    // Fill the socket with small sessions until the kernel refuses one
    // whole, so that nothing of it is left in the forwarder's queue and the
    // first send() below waits at its head.
    const small = { ...s, data: new Uint8Array([1]) };
    let blocked = false;
    for (let i = 0; i < 100_000 && !blocked; i++) {
      try {
        c.forwarder.push(small);
      } catch (err) {
        assert.ok(err instanceof WouldBlockError);
        blocked = true;
      }
    }
    assert.ok(blocked, "push should block within 100000");
    const ac = new AbortController();
    const first = c.forwarder.send(s, { signal: ac.signal });
    const later = [c.forwarder.send(s), c.forwarder.send(s)].map((p) =>
      assert.rejects(p, { name: "SocketSessionError", code: "CLOSED" })
    );
    ac.abort(new Error("stop"));
    await assert.rejects(first, { message: /stop/ });
    // The receiver never reads: after 100 ms both are given up.
    await assert.rejects(c.forwarder.close(), (err) => {
      assert.ok(err instanceof SessionsLostError);
      assert.deepEqual([err.code, err.lost], ["SESSIONS_LOST", 2]);
      return true;
    });
    await Promise.all(later);
    assert.deepEqual(c.forwarder.connected, false);
  }
  assert.deepEqual(await fds.leaks(), []);
});

Deno.test("SocketSessionReceiver gives the reference's error for every badPop case and closes the fd", async (t) => {
  await using dir = await tempDir();
  using listener = SocketSessionListener.listen(`${dir.path}/b.sock`);
  using fds = trackFds();
  for (const c of BAD_SESSION_CASES) {
    await t.step(c.name, async () => {
      const sock = rawConnect(listener.path);
      const passed = bindSocket("127.0.0.1", false);
      sendRaw(sock, Uint8Array.of(0), c.fd ? [passed.fd] : []);
      if (c.rest.length) sendRaw(sock, c.rest);
      closeFd(sock);
      using receiver = await listener.accept();
      await assert.rejects(receiver.pop({ timeout: 5000 }), {
        name: "SocketSessionError",
        code: c.code,
      });
      // A later pop reports the same failure.
      await assert.rejects(receiver.pop(), {
        name: "SocketSessionError",
        code: c.code,
      });
      receiver.close();
      closeFd(passed.fd);
      // The passed copy was closed too.
      assert.deepEqual(await fds.leaks(), []);
    });
  }
  await t.step("close with nothing sent", async () => {
    closeFd(rawConnect(listener.path));
    using receiver = await listener.accept();
    await assert.rejects(receiver.pop(), {
      name: "SocketSessionError",
      code: "ECONNRESET",
    });
    const all = [];
    for await (const s of receiver) all.push(s);
    assert.deepEqual(all.length, 0);
  });
});

function validSession(fd: number): Uint8Array {
  const local = encodeSockaddr({ hostname: "127.0.0.1", port: 1 });
  const header = encodeSessionHeader({
    family: 2,
    type: 2,
    protocol: 17,
    local,
    remote: local,
    dataLength: 3,
  });
  void fd;
  return new Uint8Array([...header, 1, 2, 3]);
}

Deno.test("SocketSessionReceiver closes every fd of a message with 2 or 40 fds, or an fd inside a header", async (t) => {
  await using dir = await tempDir();
  using listener = SocketSessionListener.listen(`${dir.path}/m.sock`);
  using fds = trackFds();
  const cases: [string, number, boolean, string][] = [
    ["two fds", 2, false, "EXTRA_FDS"],
    ["forty fds (MSG_CTRUNC)", 40, false, "CONTROL_TRUNCATED"],
    ["fd inside the header", 1, true, "EXTRA_FDS"],
  ];
  for (const [name, count, inHeader, code] of cases) {
    await t.step(name, async () => {
      const passed = bindSocket("127.0.0.1", false);
      const sock = rawConnect(listener.path);
      const body = validSession(passed.fd);
      if (inHeader) {
        sendRaw(sock, Uint8Array.of(0), [passed.fd]);
        sendRaw(sock, body.subarray(0, 10));
        sendRaw(sock, body.subarray(10), [passed.fd]);
      } else {
        sendRaw(
          sock,
          new Uint8Array([0, ...body]),
          new Array(count).fill(passed.fd),
        );
      }
      closeFd(sock);
      using receiver = await listener.accept();
      await assert.rejects(receiver.pop({ timeout: 5000 }), {
        name: "SocketSessionError",
        code,
      });
      receiver.close();
      closeFd(passed.fd);
      assert.deepEqual(await fds.leaks(), []);
    });
  }
});

Deno.test("SocketSessionReceiver.pop() times out on half a session, closes its fd, and honours abort between sessions", async () => {
  await using dir = await tempDir();
  using listener = SocketSessionListener.listen(`${dir.path}/h.sock`);
  using fds = trackFds();
  const passed = bindSocket("127.0.0.1", false);
  const sock = rawConnect(listener.path);
  {
    using receiver = await listener.accept();
    // Abort between sessions: the receiver stays usable.
    const ac = new AbortController();
    const p = receiver.pop({ signal: ac.signal });
    ac.abort(new Error("later"));
    await assert.rejects(() => p, { message: /later/ });
    // Half a session, then the forwarder stalls (keeps the connection open).
    sendRaw(
      sock,
      new Uint8Array([0, ...validSession(passed.fd).subarray(0, 20)]),
      [passed.fd],
    );
    await assert.rejects(receiver.pop({ timeout: 200 }), {
      name: "SocketSessionError",
      code: "TIMEOUT",
    });
    await assert.rejects(() => receiver.pop(), {
      name: "SocketSessionError",
      message: /timed out/,
    });
  }
  closeFd(sock);
  closeFd(passed.fd);
  assert.deepEqual(await fds.leaks(), []);
});

Deno.test("SocketSessionReceiver iterates until the forwarder closes; close() rejects a pending pop", async () => {
  await using dir = await tempDir();
  await using c = await sessionPair(dir.path);
  const s = {
    fd: 0,
    type: 1,
    protocol: 6,
    local: { hostname: "::1", port: 1 },
    remote: { hostname: "::1", port: 2 },
  };
  for (let i = 1; i <= 3; i++) {
    await c.forwarder.send({ ...s, data: new Uint8Array([i]) });
  }
  await c.forwarder.close();
  const got: number[] = [];
  for await (const x of c.receiver) {
    got.push(x.data[0]!);
    x.close();
  }
  assert.deepEqual(got, [1, 2, 3]);
  await using d = await sessionPair(dir.path, "d.sock");
  const pending = d.receiver.pop();
  d.receiver.close();
  await assert.rejects(pending, {
    name: "SocketSessionError",
    code: "CLOSED",
  });
});

/** `sendRaw`, waiting while the socket buffer is full; returns bytes sent. */
async function sendPiece(
  sock: number,
  bytes: Uint8Array,
  fds: number[],
): Promise<number> {
  while (true) {
    try {
      return sendRaw(sock, bytes, fds);
    } catch (e) {
      if (!(e instanceof SocketSessionError) || e.code !== "EAGAIN") throw e;
      await poller.wait(sock, P.POLLOUT);
    }
  }
}

Deno.test("SocketSessionReceiver reassembles sessions written in random pieces (fast-check)", async () => {
  await using dir = await tempDir();
  using listener = SocketSessionListener.listen(`${dir.path}/f.sock`);
  using fds = trackFds();
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.array(fc.integer({ min: 1, max: 200 }), {
        minLength: 1,
        maxLength: 20,
      }),
      async (datas, cuts) => {
        const sock = rawConnect(listener.path);
        using receiver = await listener.accept();
        const passed = bindSocket("::1", false);
        // Read while writing: many tiny pieces can fill the socket buffer.
        const collected = (async () => {
          const got: Uint8Array[] = [];
          for await (const s of receiver) {
            assert.deepEqual(localAddress(s.fd).port, passed.port);
            assert.deepEqual(s.remote.hostname, "2001:db8::7");
            got.push(s.data);
            s.close();
          }
          return got;
        })();
        const local = encodeSockaddr({ hostname: "::1", port: passed.port });
        const remote = encodeSockaddr({ hostname: "2001:db8::7", port: 9 });
        for (const data of datas) {
          const header = encodeSessionHeader({
            family: 10,
            type: 2,
            protocol: 17,
            local,
            remote,
            dataLength: data.length,
          });
          const wire = new Uint8Array([0, ...header, ...data]);
          // The fd rides on the first piece, as BIND 10 sends it.
          let o = 0;
          for (let i = 0; o < wire.length; i++) {
            const n = Math.min(wire.length - o, cuts[i % cuts.length]!);
            o += await sendPiece(
              sock,
              wire.subarray(o, o + n),
              o === 0 ? [passed.fd] : [],
            );
          }
        }
        closeFd(sock);
        const got = await collected;
        closeFd(passed.fd);
        assert.deepEqual(got, datas);
      },
    ),
    { numRuns: 60 },
  );
  assert.deepEqual(await fds.leaks(), []);
});

Deno.test({
  name:
    "SocketSessionListener.accept() survives EMFILE: reports it to onError, backs off, and accepts the forwarder once fds are free",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/e.sock`;
    await using child = startJsonProcess(Deno.execPath(), [
      "run",
      "-A",
      new URL("../_test_utils/session/listener_child.ts", import.meta.url)
        .pathname,
      path,
    ]);
    assert.deepEqual(await child.next(), { ready: true });
    await child.writeLine("fill");
    const filled = await child.next();
    assert.ok((filled.filled as number) >= 32, JSON.stringify(filled));
    // A forwarder connects: its connection waits in the backlog while the
    // child's accept() fails with EMFILE.
    const sock = rawConnect(path);
    assert.deepEqual(await child.next(), { error: "EMFILE" });
    await child.writeLine("free");
    let line;
    while (!("freed" in (line = await child.next()))) {
      assert.deepEqual(line, { error: "EMFILE" });
    }
    while ((line = await child.next()).error === "EMFILE") {
      // Back-off reports until the next try after the fds were freed.
    }
    assert.deepEqual(line, { accepted: true });
    closeFd(sock);
    await child.closeStdin();
    assert.deepEqual((await child.child.status).success, true);
  },
});
