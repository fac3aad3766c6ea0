// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Interop with the real BIND 10 socket session code in Debian 12's Kea 2.2.0
// (kea-common: libkea-util-io.so.0), through _test_utils/session/kea_peer.cc.
import assert from "node:assert/strict";
import { toHex } from "../_test_utils/hex.ts";
import { peerTest, tempDir } from "../_test_utils/peers.ts";
import { BAD_SESSION_CASES } from "../_test_utils/session/cases.ts";
import { keaPeer, startPeer } from "../_test_utils/session/kea.ts";
import {
  acceptOne,
  bindSocket,
  closeFd,
  rawConnect,
  recvSome,
  sendAll,
  sendRaw,
  sendTo,
  trackFds,
} from "../_test_utils/session/raw.ts";
import { SocketSessionForwarder } from "./forwarder.ts";
import { SocketSessionListener } from "./listener.ts";
import { decodeSockaddr, encodeSockaddr } from "./sockaddr.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const PEER = keaPeer();

function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, k) => 0x61 + (k % 26));
}

peerTest(
  "Kea 2.2 SocketSessionForwarder -> our SocketSessionReceiver (UDP/TCP, IPv4/IPv6, 1..65535 bytes)",
  PEER,
  "kea-common 2.2 + g++",
  async (peer) => {
    await using dir = await tempDir();
    using fds = trackFds();
    const specs = [
      "udp4:11",
      "udp6:65535",
      "tcp4:100",
      "tcp6:1",
      "udp4:65535",
      "tcp6:4096",
    ];
    {
      using listener = SocketSessionListener.listen(`${dir.path}/k.sock`);
      await using kea = startPeer(peer, ["send", listener.path, ...specs]);
      using receiver = await listener.accept({
        signal: AbortSignal.timeout(10000),
      });
      for (const spec of specs) {
        const tcp = spec.startsWith("tcp");
        const v6 = spec[3] === "6";
        const size = Number(spec.slice(5));
        using s = await receiver.pop({ timeout: 10000 });
        assert.deepEqual([s.family, s.type, s.protocol], [
          v6 ? 10 : 2,
          tcp ? 1 : 2,
          tcp ? 6 : 17,
        ], spec);
        assert.deepEqual(s.data, pattern(size), spec);
        assert.deepEqual(s.local.hostname, v6 ? "::1" : "127.0.0.1");
        if (!tcp) {
          assert.deepEqual(
            s.remote,
            decodeSockaddr(
              encodeSockaddr({
                hostname: v6 ? "2001:db8::1" : "192.0.2.2",
                port: 5300,
              }),
            ),
          );
        }
        if (tcp) await sendAll(s.fd, enc.encode("deno reply"));
        else sendTo(s.fd, enc.encode("deno reply"), s.local);
        const line = await kea.next();
        assert.deepEqual(line.spec, spec);
        assert.deepEqual(line.reply, toHex(enc.encode("deno reply")), spec);
        assert.deepEqual(line.local, toHex(s.localRaw), spec);
        assert.deepEqual(line.remote, toHex(s.remoteRaw), spec);
      }
      const all = [];
      for await (const x of receiver) all.push(x);
      assert.deepEqual(all.length, 0);
    }
    assert.deepEqual(await fds.leaks(), []);
  },
);

peerTest(
  "our SocketSessionForwarder -> Kea 2.2 SocketSessionReceiver (UDP/TCP, IPv4/IPv6, push and send)",
  PEER,
  "kea-common 2.2 + g++",
  async (peer) => {
    await using dir = await tempDir();
    const path = `${dir.path}/r.sock`;
    using fds = trackFds();
    {
      await using kea = startPeer(peer, ["recv", path, "1"]);
      assert.deepEqual((await kea.next()).ready, true);
      await using forwarder = new SocketSessionForwarder(path);
      forwarder.connect();
      const cases: [string, boolean, number, boolean][] = [
        ["127.0.0.1", false, 11, false],
        ["::1", false, 65535, true],
        ["127.0.0.1", true, 100, true],
        ["::1", true, 1, false],
      ];
      for (const [host, tcp, size, viaSend] of cases) {
        const data = pattern(size);
        const server = bindSocket(host, tcp);
        let client: Deno.TcpConn | null = null;
        let fd = server.fd;
        let remote = {
          hostname: host === "::1" ? "2001:db8::1" : "192.0.2.2",
          port: 5300,
        };
        if (tcp) {
          client = await Deno.connect({ hostname: host, port: server.port });
          fd = await acceptOne(server.fd);
          remote = {
            hostname: host,
            port: (client.localAddr as Deno.NetAddr).port,
          };
        }
        const session = {
          fd,
          type: tcp ? 1 : 2,
          protocol: tcp ? 6 : 17,
          local: { hostname: host, port: server.port },
          remote,
          data,
        };
        if (viaSend) await forwarder.send(session);
        else forwarder.push(session);
        const line = await kea.next();
        assert.deepEqual(line.error, undefined, String(line.error));
        assert.deepEqual([line.family, line.type, line.protocol], [
          host === "::1" ? 10 : 2,
          session.type,
          session.protocol,
        ]);
        assert.deepEqual(line.length, size);
        assert.deepEqual(line.local, toHex(encodeSockaddr(session.local)));
        assert.deepEqual(line.remote, toHex(encodeSockaddr(remote)));
        assert.deepEqual(line.data, toHex(data.subarray(0, 64)));
        if (client) {
          closeFd(fd);
          const buf = new Uint8Array(32);
          const n = await client.read(buf);
          assert.deepEqual(dec.decode(buf.subarray(0, n ?? 0)), "kea reply");
          client.close();
        } else {
          assert.deepEqual(dec.decode(await recvSome(server.fd)), "kea reply");
        }
        closeFd(server.fd);
      }
      await forwarder.close();
      // The forwarder closed: Kea reports it as "Connection reset by peer".
      const end = await kea.next();
      assert.ok(
        String(end.error).includes("Connection reset by peer"),
        String(end.error),
      );
    }
    assert.deepEqual(await fds.leaks(), []);
  },
);

peerTest(
  "Kea 2.2 SocketSessionReceiver rejects every badPop case as our receiver does",
  PEER,
  "kea-common 2.2 + g++",
  async (peer) => {
    await using dir = await tempDir();
    const path = `${dir.path}/bad.sock`;
    await using kea = startPeer(peer, [
      "recv",
      path,
      String(BAD_SESSION_CASES.length + 1),
    ]);
    assert.deepEqual((await kea.next()).ready, true);
    let lastFds = 0;
    for (const c of BAD_SESSION_CASES) {
      const passed = bindSocket("127.0.0.1", false);
      const sock = rawConnect(path);
      sendRaw(sock, Uint8Array.of(0), c.fd ? [passed.fd] : []);
      if (c.rest.length) sendRaw(sock, c.rest);
      closeFd(sock);
      const line = await kea.next();
      assert.ok(String(line.error).includes(c.kea), `${c.name}: ${line.error}`);
      closeFd(passed.fd);
      lastFds = line.fds as number;
    }
    // The reference's bug we do not copy: two fds in one message fail the
    // cmsg_len check, and Kea never closes them (ours does: receiver_test).
    const passed = bindSocket("127.0.0.1", false);
    const sock = rawConnect(path);
    sendRaw(sock, Uint8Array.of(0), [passed.fd, passed.fd]);
    closeFd(sock);
    closeFd(passed.fd);
    const leak = await kea.next();
    assert.ok(
      String(leak.error).includes("Receiving a forwarded FD failed"),
      String(leak.error),
    );
    assert.deepEqual(
      leak.fds,
      lastFds + 2,
      "Kea 2.2 leaks both fds of a two-fd message",
    );
  },
);
