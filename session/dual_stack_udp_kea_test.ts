// Copyright 2026 the @sidecar/ipc authors. MIT license.
// A dual-stack acceptor and IPv4-mapped addresses, and a received UDP
// session that goes on receiving, with Kea 2.2's socket session code
// (kea-common) on the other end.
import dgram from "node:dgram";
import assert from "node:assert/strict";
import { peerTest, tempDir } from "../_test_utils/peers.ts";
import { keaPeer, startPeer } from "../_test_utils/session/kea.ts";
import { fromHex } from "../_test_utils/hex.ts";
import { trackFds } from "../_test_utils/session/raw.ts";
import { forwardTcpConnections } from "./tcp_acceptor.ts";
import { adoptUdpSession } from "./adopt_udp.ts";
import { SocketSessionForwarder } from "./forwarder.ts";
import { SocketSessionListener } from "./listener.ts";
import { decodeSockaddr } from "./sockaddr.ts";

const PEER = keaPeer();
const enc = new TextEncoder();
const dec = new TextDecoder();

async function readAll(conn: Deno.Conn): Promise<string> {
  return await new Response(conn.readable).text();
}

peerTest(
  "forwardTcpConnections({ dualStack: true }) on :: takes an IPv4 client and Kea 2.2's receiver serves it; its address reads ::ffff:127.0.0.1 (by default :: is IPv6 only)",
  PEER,
  "kea-common 2.2 + g++",
  async (peer) => {
    await using dir = await tempDir();
    const path = `${dir.path}/d.sock`;
    using fds = trackFds();
    {
      await using kea = startPeer(peer, ["recv", path, "1"]);
      assert.deepEqual(await kea.next(), { ready: true });
      await using forwarder = new SocketSessionForwarder(path);
      forwarder.connect();
      // The default: IPV6_V6ONLY, so IPv4 clients are refused.
      {
        await using v6only = forwardTcpConnections({
          forwarder,
          hostname: "::",
        });
        await assert.rejects(
          Deno.connect({ hostname: "127.0.0.1", port: v6only.addr.port }),
          Deno.errors.ConnectionRefused,
        );
      }
      await using acceptor = forwardTcpConnections({
        forwarder,
        hostname: "::",
        dualStack: true,
      });
      assert.deepEqual(acceptor.addr.hostname, "::");
      const client = await Deno.connect({
        hostname: "127.0.0.1",
        port: acceptor.addr.port,
      });
      await client.write(enc.encode("hello"));
      const line = await kea.next();
      assert.deepEqual(line.error, undefined, String(line.error));
      // Kea got an IPv6 session for the IPv4 client.
      assert.deepEqual([line.family, line.type, line.protocol], [10, 1, 6]);
      assert.deepEqual(line.length, 5);
      const remote = decodeSockaddr(fromHex(line.remote as string));
      assert.deepEqual(remote.hostname, "::ffff:127.0.0.1");
      assert.deepEqual(
        remote.port,
        (client.localAddr as Deno.NetAddr).port,
      );
      const local = decodeSockaddr(fromHex(line.local as string));
      assert.deepEqual(
        [local.hostname, local.port],
        ["::ffff:127.0.0.1", acceptor.addr.port],
      );
      // Kea answered on the passed socket.
      assert.deepEqual(await readAll(client), "kea reply");
      assert.throws(
        () =>
          forwardTcpConnections({
            forwarder,
            hostname: "127.0.0.1",
            dualStack: true,
          }),
        TypeError,
      );
    }
    assert.deepEqual(await fds.leaks(), []);
  },
);

peerTest(
  "adoptUdpSession(): a UDP socket forwarded by Kea 2.2 receives further datagrams and answers each sender, as a Deno.DatagramConn would",
  PEER,
  "kea-common 2.2 + g++",
  async (peer) => {
    await using dir = await tempDir();
    using fds = trackFds();
    {
      using listener = SocketSessionListener.listen(`${dir.path}/u.sock`);
      await using kea = startPeer(peer, [
        "give",
        listener.path,
        "udp4:3",
        "udp6:4",
      ]);
      using receiver = await listener.accept({
        signal: AbortSignal.timeout(10000),
      });
      for (const [type, host] of [["udp4", "127.0.0.1"], ["udp6", "::1"]]) {
        const given = await kea.next();
        assert.deepEqual(given.error, undefined, String(given.error));
        const session = await receiver.pop({ timeout: 10000 });
        await using conn = adoptUdpSession(session);
        assert.deepEqual(session.fd, -1);
        assert.deepEqual(
          dec.decode(conn.data),
          "k".repeat(type === "udp4" ? 3 : 4),
        );
        assert.deepEqual(conn.addr, {
          transport: "udp",
          hostname: host,
          port: given.port,
        });
        // Kea closed its copy: every datagram comes to us.
        const client = dgram.createSocket(type as "udp4" | "udp6");
        await new Promise<void>((r) => client.bind(0, host, r));
        const replies: string[] = [];
        const gotReplies = new Promise<void>((resolve) =>
          client.on("message", (m) => {
            replies.push(m.toString());
            if (replies.length === 2) resolve();
          })
        );
        client.send("one", conn.addr.port, host);
        const [first, from] = await conn.receive();
        assert.deepEqual(dec.decode(first), "one");
        assert.deepEqual(from, {
          transport: "udp",
          hostname: host,
          port: client.address().port,
        });
        assert.deepEqual(await conn.send(enc.encode("re:one"), from), 6);
        client.send("two", conn.addr.port, host);
        for await (const [data, sender] of conn) {
          assert.deepEqual(dec.decode(data), "two");
          await conn.send(enc.encode("re:two"), sender);
          break;
        }
        await gotReplies;
        assert.deepEqual(replies, ["re:one", "re:two"]);
        // A pending receive() rejects when the socket closes.
        const pending = conn.receive();
        await conn.close();
        await assert.rejects(pending, {
          name: "SocketSessionError",
          code: "CLOSED",
        });
        await new Promise<void>((r) => client.close(() => r()));
      }
    }
    assert.deepEqual(await fds.leaks(), []);
  },
);
