// Copyright 2026 the @sidecar/ipc authors. MIT license.
import dgram from "node:dgram";
import assert from "node:assert/strict";
import { tempDir } from "../_test_utils/peers.ts";
import { leakFreeTest } from "../_test_utils/session/leaks.ts";
import { waitFor } from "../_test_utils/wait.ts";
import { acceptQueueLength } from "../_test_utils/sockets.ts";
import { shutdownSocket } from "../_test_utils/fd_table.ts";
import { startJsonProcess } from "../_test_utils/session/kea.ts";
import { pollerRoundTrip, pollNow } from "../_test_utils/session/raw.ts";
import { delay } from "../_internal/timers.ts";
import { sessionPair, udpSession } from "../_test_utils/session/pair.ts";
import { fdTrace, P, setIntOption } from "./_libc.ts";
import type { SocketSessionError } from "./errors.ts";
import { forwardTcpConnections } from "./tcp_acceptor.ts";
import { forwardUdpDatagrams } from "./udp_acceptor.ts";
import { adoptTcpSession } from "./adopt_tcp.ts";
import { sendDatagram } from "./adopt_udp.ts";
import { SocketSessionForwarder } from "./forwarder.ts";
import { SocketSessionListener } from "./listener.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function readAll(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(1024);
  let text = "";
  while (true) {
    const n = await conn.read(buf);
    if (n === null) return text;
    text += dec.decode(buf.subarray(0, n));
  }
}

leakFreeTest(
  "forwardTcpConnections() forwards first bytes with endpoints, closes silent and empty connections; adoptTcpSession() continues the stream",
  async (dir) => {
    await using pair = await sessionPair(dir, "a.sock");
    const { forwarder, receiver } = pair;
    const errors: unknown[] = [];
    await using acceptor = forwardTcpConnections({
      forwarder,
      hostname: "::1",
      firstDataTimeout: 300,
      // The userspace wait for first bytes (by default the kernel waits).
      deferAccept: false,
      onError: (e) => errors.push(e),
    });
    assert.deepEqual(acceptor.addr.family, "IPv6");

    // A silent client is closed after firstDataTimeout; one that closes at once is dropped.
    using silent = await Deno.connect({
      hostname: "::1",
      port: acceptor.addr.port,
    });
    const quitter = await Deno.connect({
      hostname: "::1",
      port: acceptor.addr.port,
    });
    quitter.close();
    assert.deepEqual(await readAll(silent), "");

    // A real client: first bytes come with the session, the rest through the adopted socket.
    using client = await Deno.connect({
      hostname: "::1",
      port: acceptor.addr.port,
    });
    await client.write(enc.encode("hello"));
    const session = await receiver.pop({ timeout: 5000 });
    assert.deepEqual(dec.decode(session.data), "hello");
    assert.deepEqual(
      session.remote.port,
      (client.localAddr as Deno.NetAddr).port,
    );
    assert.deepEqual(session.local.port, acceptor.addr.port);
    assert.throws(() => sendDatagram(session, enc.encode("x")), TypeError);
    {
      await using conn = adoptTcpSession(session);
      assert.deepEqual(session.fd, -1);
      await client.write(enc.encode(" world"));
      const reader = conn.readable.getReader();
      const more = await reader.read();
      assert.deepEqual(dec.decode(more.value), " world");
      reader.releaseLock();
      const writer = conn.writable.getWriter();
      await writer.write(enc.encode("bye"));
      await writer.close();
    }
    assert.deepEqual(await readAll(client), "bye");
    assert.deepEqual(acceptor.forwarded, 1);
    assert.deepEqual(errors.length, 1);
    assert.deepEqual((errors[0] as SocketSessionError).code, "TIMEOUT");
  },
);

leakFreeTest(
  "forwardUdpDatagrams() forwards datagrams with the sender; sendDatagram() answers it over IPv6",
  async (dir) => {
    await using pair = await sessionPair(dir, "u.sock");
    const { forwarder, receiver } = pair;
    await using acceptor = forwardUdpDatagrams({
      forwarder,
      hostname: "::1",
    });
    const client = dgram.createSocket("udp6");
    const reply = new Promise<string>((resolve) =>
      client.once("message", (m) => resolve(m.toString()))
    );
    client.send("query", acceptor.addr.port, "::1");
    using session = await receiver.pop({ timeout: 5000 });
    assert.deepEqual([session.family, session.type, session.protocol], [
      10,
      2,
      17,
    ]);
    assert.deepEqual(dec.decode(session.data), "query");
    assert.deepEqual(session.local.port, acceptor.addr.port);
    assert.throws(() => adoptTcpSession(session), TypeError);
    assert.deepEqual(sendDatagram(session, enc.encode("answer")), 6);
    assert.deepEqual(await reply, "answer");
    await new Promise<void>((r) => client.close(() => r()));
  },
);

Deno.test("received session fds are close-on-exec: a child process does not inherit them", async () => {
  await using dir = await tempDir();
  await using pair = await sessionPair(dir.path, "x.sock");
  const { forwarder, receiver } = pair;
  forwarder.push(udpSession(enc.encode("x")));
  using session = await receiver.pop();
  const out = await new Deno.Command("ls", {
    args: ["/proc/self/fd"],
    stdout: "piped",
  }).output();
  const childFds = dec.decode(out.stdout).split(/\s+/).filter(Boolean).map(
    Number,
  );
  assert.ok(childFds.includes(0));
  assert.ok(
    !childFds.includes(session.fd),
    `fd ${session.fd} leaked into the child: ${childFds}`,
  );
  assert.ok(
    !childFds.includes(receiver.fd),
    "the receiver's socket leaked into the child",
  );
});

leakFreeTest(
  "adoptTcpSession() answers a client that half-closed after its request (no EPIPE)",
  async (dir) => {
    await using pair = await sessionPair(dir, "h.sock");
    const { forwarder, receiver } = pair;
    await using acceptor = forwardTcpConnections({ forwarder });
    using client = await Deno.connect({
      hostname: "127.0.0.1",
      port: acceptor.addr.port,
    });
    await client.write(enc.encode("ping"));
    await client.closeWrite();
    {
      await using conn = adoptTcpSession(
        await receiver.pop({
          timeout: 5000,
        }),
      );
      // The client's FIN is read first: the readable ends ...
      const rest = await new Response(conn.readable).arrayBuffer();
      assert.deepEqual(rest.byteLength, 0);
      // ... and the answer still goes out.
      const writer = conn.writable.getWriter();
      await writer.write(enc.encode(`pong:${dec.decode(conn.data)}`));
      await writer.close();
    }
    assert.deepEqual(await readAll(client), "pong:ping");
  },
);

leakFreeTest(
  "forwardTcpConnections(): an onError that throws stops the acceptor and finished rejects with its error (no unhandled rejection)",
  async (dir) => {
    await using pair = await sessionPair(dir, "t.sock");
    const boom = new Error("onError failed");
    const acceptor = forwardTcpConnections({
      forwarder: pair.forwarder,
      firstDataTimeout: 50,
      deferAccept: false,
      onError: () => {
        throw boom;
      },
    });
    // A silent client times out; reporting it throws.
    using _silent = await Deno.connect({
      hostname: "127.0.0.1",
      port: acceptor.addr.port,
    });
    await assert.rejects(acceptor.finished, (e) => e === boom);
    await acceptor.close();
    // A caller that never looks at finished does not die of it either.
    {
      const thrown = Promise.withResolvers<void>();
      await using quiet = forwardTcpConnections({
        forwarder: pair.forwarder,
        firstDataTimeout: 50,
        deferAccept: false,
        onError: () => {
          thrown.resolve();
          throw boom;
        },
      });
      using _silent2 = await Deno.connect({
        hostname: "127.0.0.1",
        port: quiet.addr.port,
      });
      // The silent client timed out and onError threw; disposal then
      // waits for the acceptor to stop (finished rejects, unwatched).
      await thrown.promise;
    }
  },
);

leakFreeTest(
  "forwardTcpConnections(): firstDataTimeout Infinity waits for a silent client without limit; bad values are refused before binding",
  async (dir) => {
    await using pair = await sessionPair(dir, "i.sock");
    const errors: unknown[] = [];
    await using acceptor = forwardTcpConnections({
      forwarder: pair.forwarder,
      firstDataTimeout: Infinity,
      deferAccept: false,
      onError: (e) => errors.push(e),
    });
    using _silent = await Deno.connect({
      hostname: "127.0.0.1",
      port: acceptor.addr.port,
    });
    await waitFor("the silent client accepted", () => acceptor.pending === 1);
    // A deadline that fired at once (or that Deno cut to 1 ms) would have
    // fired before this later, longer timer.
    await delay(5);
    assert.deepEqual([acceptor.pending, errors], [1, []]);
    // Values a timer cannot hold also mean no limit, rather than firing at once.
    await using long = forwardTcpConnections({
      forwarder: pair.forwarder,
      firstDataTimeout: 2 ** 40,
      deferAccept: false,
      onError: (e) => errors.push(e),
    });
    using _silent2 = await Deno.connect({
      hostname: "127.0.0.1",
      port: long.addr.port,
    });
    await waitFor(
      "the second silent client accepted",
      () => long.pending === 1,
    );
    // setTimeout cuts 2^40 ms to 1 ms: such a timer would fire before this.
    await delay(5);
    assert.deepEqual([long.pending, errors], [1, []]);
    for (const bad of [-1, NaN]) {
      assert.throws(() =>
        forwardTcpConnections({
          forwarder: pair.forwarder,
          firstDataTimeout: bad,
        }), { name: "RangeError", message: /firstDataTimeout/ });
    }
  },
);

leakFreeTest(
  "forwardTcpConnections() survives EMFILE: reports it, backs off, accepts again once fds are free, and closes while backing off",
  async (dir) => {
    using listener = SocketSessionListener.listen(`${dir}/e.sock`);
    await using child = startJsonProcess(Deno.execPath(), [
      "run",
      "-A",
      new URL("../_test_utils/session/acceptor.ts", import.meta.url).pathname,
      listener.path,
    ]);
    using receiver = await listener.accept();
    const ready = await child.next() as { port: number; fds: number };
    const port = ready.port;

    // Full fd table: the connection waits in the backlog, accept() fails.
    // The child fills 64 slots and more (`free` gives them all back), so
    // the connection accepted after `free` does not take the last one. The
    // test asks for half, in case a runtime thread opens an fd meanwhile.
    await child.writeLine("fill");
    const filled = await child.next();
    assert.ok((filled.filled as number) >= 32, JSON.stringify(filled));
    using client = await Deno.connect({ hostname: "127.0.0.1", port });
    await client.write(enc.encode("hello"));
    assert.deepEqual(await child.next(), { error: "EMFILE" });
    // Held full for half a second: with the back-off (10 ms doubling to
    // 100 ms) that is a handful of reports; a retry loop without one would
    // print thousands.
    await new Promise((r) => setTimeout(r, 500));
    await child.writeLine("free");
    let line;
    let reports = 1;
    while (!("freed" in (line = await child.next()))) {
      assert.deepEqual(line, { error: "EMFILE" });
      reports++;
    }
    assert.ok(reports <= 50, `${reports} EMFILE reports while held full`);
    // Recovered: the waiting connection is accepted and forwarded.
    using session = await receiver.pop({ timeout: 10000 });
    assert.deepEqual(dec.decode(session.data), "hello");

    // Closing while backing off ends it cleanly.
    await child.writeLine("fill");
    const refilled = await child.next();
    assert.ok((refilled.filled as number) >= 32, JSON.stringify(refilled));
    using late = await Deno.connect({ hostname: "127.0.0.1", port });
    await late.write(enc.encode("late"));
    assert.deepEqual(await child.next(), { error: "EMFILE" });
    await child.writeLine("close");
    while (!("closed" in (line = await child.next()))) {
      assert.deepEqual(line, { error: "EMFILE" });
    }
    assert.deepEqual(line, { closed: true, finished: "ok", fds: ready.fds });
    await child.closeStdin();
    assert.deepEqual((await child.child.status).success, true);
  },
  { sanitizeOps: false },
);

leakFreeTest(
  "forwardTcpConnections() holds at most maxPendingConnections; the rest wait in the kernel backlog until one is done",
  async (dir) => {
    await using pair = await sessionPair(dir, "p.sock");
    const { forwarder, receiver } = pair;
    await using acceptor = forwardTcpConnections({
      forwarder,
      maxPendingConnections: 2,
      // Silent clients take slots only when the acceptor accepts them.
      deferAccept: false,
    });
    const port = acceptor.addr.port;
    assert.deepEqual(acceptor.pending, 0);
    const silent1 = await Deno.connect({ hostname: "127.0.0.1", port });
    using _silent2 = await Deno.connect({ hostname: "127.0.0.1", port });
    await waitFor("2 pending", () => acceptor.pending === 2);
    using third = await Deno.connect({ hostname: "127.0.0.1", port });
    await third.write(enc.encode("third"));
    await waitFor(
      "1 queued",
      async () => await acceptQueueLength(port) === 1,
    );
    // The listener has been readable since: an acceptor without the cap
    // would have been woken by the poller before this later event.
    await pollerRoundTrip();
    assert.deepEqual(acceptor.pending, 2);
    assert.deepEqual(await acceptQueueLength(port), 1);
    assert.deepEqual(receiver.tryPop(), null);
    // One slot frees (the client leaves): the queued one goes through.
    silent1.close();
    using session = await receiver.pop({ timeout: 5000 });
    assert.deepEqual(dec.decode(session.data), "third");
    assert.deepEqual(await acceptQueueLength(port), 0);
    assert.deepEqual(acceptor.forwarded, 1);
    assert.deepEqual(acceptor.pending, 1);
    assert.throws(() =>
      forwardTcpConnections({
        forwarder: new SocketSessionForwarder("/x"),
        maxPendingConnections: 0,
      }), RangeError);
  },
);

Deno.test({
  name:
    "forwardTcpConnections() stops and rejects finished when its listener stops listening (EINVAL)",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using pair = await sessionPair(dir.path, "s.sock");
    const { forwarder } = pair;
    const opened: number[] = [];
    fdTrace.hook = (fd) => opened.push(fd);
    let acceptor;
    try {
      acceptor = forwardTcpConnections({ forwarder });
    } finally {
      fdTrace.hook = null;
    }
    // The listening socket is the first fd it opens (the poller's wake pipe
    // may follow).
    shutdownSocket(opened[0]!);
    await assert.rejects(acceptor.finished, {
      name: "SocketSessionError",
      code: "EINVAL",
    });
    await acceptor.close();
  },
});

leakFreeTest(
  "forwardUdpDatagrams() goes on after an ICMP error queued on its socket (ECONNREFUSED from a receiver's IP_RECVERR copy), and takes it off the error queue (no POLLERR left to spin on)",
  async (dir) => {
    await using pair = await sessionPair(dir, "r.sock");
    const errors: unknown[] = [];
    await using acceptor = forwardUdpDatagrams({
      forwarder: pair.forwarder,
      onError: (e) => errors.push(e),
    });
    const client = dgram.createSocket("udp4");
    const dead = dgram.createSocket("udp4");
    await new Promise<void>((r) => dead.bind(0, "127.0.0.1", r));
    const deadPort = dead.address().port;
    await new Promise<void>((r) => dead.close(() => r()));
    client.send("one", acceptor.addr.port, "127.0.0.1");
    using first = await pair.receiver.pop({ timeout: 5000 });
    // The receiver asks for ICMP errors on its copy (IPPROTO_IP,
    // IP_RECVERR) and answers a port nobody listens on: the shared
    // socket now holds ECONNREFUSED for its next receive.
    setIntOption(first.fd, 0, 11, 1);
    sendDatagram(first, enc.encode("x"), {
      hostname: "127.0.0.1",
      port: deadPort,
    });
    await waitFor("the ICMP error", () => errors.length > 0);
    assert.deepEqual((errors[0] as SocketSessionError).code, "ECONNREFUSED");
    // The error queue is empty again: the socket (the same one as the
    // receiver's copy) no longer reports POLLERR, so the acceptor's waits
    // do not end at once, over and over.
    assert.deepEqual(pollNow(first.fd, P.POLLIN) & P.POLLERR, 0);
    client.send("two", acceptor.addr.port, "127.0.0.1");
    using second = await pair.receiver.pop({ timeout: 5000 });
    assert.deepEqual(dec.decode(second.data), "two");
    await new Promise<void>((r) => client.close(() => r()));
  },
);

leakFreeTest(
  "forwardTcpConnections(): a silent client at the maxPendingConnections cap is dropped after firstDataTimeout, and the next one goes through",
  async (dir) => {
    await using pair = await sessionPair(dir, "t.sock");
    const errors: unknown[] = [];
    await using acceptor = forwardTcpConnections({
      forwarder: pair.forwarder,
      maxPendingConnections: 1,
      firstDataTimeout: 200,
      deferAccept: false,
      onError: (e) => errors.push(e),
    });
    const port = acceptor.addr.port;
    using silent = await Deno.connect({ hostname: "127.0.0.1", port });
    await waitFor("1 pending", () => acceptor.pending === 1);
    using next = await Deno.connect({ hostname: "127.0.0.1", port });
    await next.write(enc.encode("next"));
    using session = await pair.receiver.pop({ timeout: 5000 });
    assert.deepEqual(dec.decode(session.data), "next");
    // It went through only after the silent one timed out.
    assert.deepEqual(errors.length, 1);
    assert.deepEqual((errors[0] as SocketSessionError).code, "TIMEOUT");
    assert.deepEqual(await readAll(silent), "");
  },
);

leakFreeTest(
  "forwardTcpConnections() by default (deferAccept) lets the kernel keep a silent client (no fd, no pending slot) while a client with data is forwarded at once",
  async (dir) => {
    await using pair = await sessionPair(dir, "d.sock");
    const errors: unknown[] = [];
    await using acceptor = forwardTcpConnections({
      forwarder: pair.forwarder,
      onError: (e) => errors.push(e),
    });
    const port = acceptor.addr.port;
    using _silent = await Deno.connect({ hostname: "127.0.0.1", port });
    using talker = await Deno.connect({ hostname: "127.0.0.1", port });
    await talker.write(enc.encode("first"));
    using session = await pair.receiver.pop({ timeout: 5000 });
    assert.deepEqual(dec.decode(session.data), "first");
    // The silent client connected first, but was never handed over.
    assert.deepEqual([acceptor.pending, acceptor.forwarded], [0, 1]);
    assert.deepEqual(await acceptQueueLength(port), 0);
    assert.deepEqual(errors, []);
  },
);

leakFreeTest(
  "forwardTcpConnections() by default: a client still silent after the kernel's defer period is handed over, then dropped after firstDataTimeout",
  async (dir) => {
    await using pair = await sessionPair(dir, "s.sock");
    const errors: unknown[] = [];
    await using acceptor = forwardTcpConnections({
      forwarder: pair.forwarder,
      // The kernel's period is this, rounded up to a second.
      firstDataTimeout: 100,
      onError: (e) => errors.push(e),
    });
    using silent = await Deno.connect({
      hostname: "127.0.0.1",
      port: acceptor.addr.port,
    });
    // Closed by the acceptor: handed over by the kernel after about a
    // second, then 100 ms without bytes.
    assert.deepEqual(await readAll(silent), "");
    assert.deepEqual(errors.length, 1);
    assert.deepEqual((errors[0] as SocketSessionError).code, "TIMEOUT");
    assert.deepEqual([acceptor.pending, acceptor.forwarded], [0, 0]);
  },
);
