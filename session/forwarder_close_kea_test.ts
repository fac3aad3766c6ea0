// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Nothing a forwarder accepted is lost at close(): against Kea 2.2's
// SocketSessionReceiver (kea-common), which reports any session it gets
// only partly ("Incomplete data from SocketSessionForwarder").
import assert from "node:assert/strict";
import { peerTest, tempDir } from "../_test_utils/peers.ts";
import {
  type JsonProcess,
  keaPeer,
  startPeer,
} from "../_test_utils/session/kea.ts";
import {
  connectWithSendBuffer,
  udpSession,
} from "../_test_utils/session/pair.ts";
import { bindSocket, closeFd, trackFds } from "../_test_utils/session/raw.ts";
import { SessionsLostError, WouldBlockError } from "./errors.ts";
import { SocketSessionForwarder } from "./forwarder.ts";

const PEER = keaPeer();

/**
 * The forwarder's socket buffer for these tests: with it pinned, Linux
 * takes two 65535-byte sessions whole and cuts the third after its fd and
 * first 36 KB (measured for pins of 68000..84000 bytes; the kernel doubles
 * the value), whatever the machine's default.
 */
const SEND_BUFFER = 76000;

/** A Kea receiver that accepts our forwarder and reads only when told. */
async function heldKea(
  peer: string,
  path: string,
  options: { closeTimeout?: number } = {},
): Promise<{ kea: JsonProcess; forwarder: SocketSessionForwarder }> {
  const kea = startPeer(peer, ["recv-hold", path]);
  assert.deepEqual(await kea.next(), { ready: true });
  const forwarder = new SocketSessionForwarder(path, options);
  connectWithSendBuffer(forwarder, SEND_BUFFER);
  assert.deepEqual(await kea.next(), { accepted: true });
  return { kea, forwarder };
}

/** Pushes 65535-byte sessions until the kernel refuses one; returns how many it took. */
function fill(forwarder: SocketSessionForwarder, fd: number): number {
  let pushed = 0;
  while (true) {
    try {
      forwarder.push(udpSession(new Uint8Array(65535).fill(pushed + 1), fd));
      pushed++;
    } catch (err) {
      assert.ok(err instanceof WouldBlockError, String(err));
      return pushed;
    }
  }
}

peerTest(
  "SocketSessionForwarder.close() first finishes a push()ed session the kernel cut: Kea 2.2's receiver gets every session whole",
  PEER,
  "kea-common 2.2 + g++",
  async (peer) => {
    await using dir = await tempDir();
    using fds = trackFds();
    {
      const { kea, forwarder } = await heldKea(peer, `${dir.path}/c.sock`);
      await using _kea = kea;
      const own = bindSocket("127.0.0.1", false);
      const pushed = fill(forwarder, own.fd);
      // The last session that push() accepted went out only in part: the
      // forwarder holds its tail.
      assert.deepEqual(forwarder.queued, 1, `pushed ${pushed}`);
      // As at the end of an `await using` block: close() waits for the
      // receiver, which starts reading only now.
      const closed = forwarder.close();
      assert.throws(() => forwarder.push(udpSession(new Uint8Array(1))), {
        name: "TypeError",
        message: /closing/,
      });
      await kea.writeLine("go");
      await closed;
      assert.deepEqual(forwarder.connected, false);
      for (let i = 0; i < pushed; i++) {
        const line = await kea.next();
        assert.deepEqual(line.error, undefined, String(line.error));
        assert.deepEqual(line.length, 65535);
        assert.deepEqual(
          line.data,
          (i + 1).toString(16).padStart(2, "0").repeat(64),
        );
      }
      // Then a clean end of stream, not "Incomplete data".
      const end = await kea.next();
      assert.match(String(end.error), /Connection reset by peer/);
      closeFd(own.fd);
    }
    assert.deepEqual(await fds.leaks(), []);
  },
);

peerTest(
  "SocketSessionForwarder.flush() waits until Kea 2.2's receiver took every session accepted (a timeout leaves them queued)",
  PEER,
  "kea-common 2.2 + g++",
  async (peer) => {
    await using dir = await tempDir();
    using fds = trackFds();
    {
      const { kea, forwarder } = await heldKea(peer, `${dir.path}/f.sock`);
      await using _kea = kea;
      const own = bindSocket("127.0.0.1", false);
      const pushed = fill(forwarder, own.fd);
      const sent = forwarder.send(udpSession(new Uint8Array([9]), own.fd));
      assert.deepEqual(forwarder.queued, 2);
      // The receiver does not read: a bounded flush gives up, the sessions
      // stay queued.
      await assert.rejects(forwarder.flush({ timeout: 50 }), {
        name: "SocketSessionError",
        code: "TIMEOUT",
      });
      assert.deepEqual(forwarder.queued, 2);
      await kea.writeLine("go");
      await forwarder.flush();
      await sent;
      assert.deepEqual(forwarder.queued, 0);
      for (let i = 0; i < pushed; i++) {
        assert.deepEqual((await kea.next()).length, 65535);
      }
      assert.deepEqual((await kea.next()).length, 1);
      await forwarder.close();
      assert.match(
        String((await kea.next()).error),
        /Connection reset by peer/,
      );
      closeFd(own.fd);
    }
    assert.deepEqual(await fds.leaks(), []);
  },
);

peerTest(
  "SocketSessionForwarder.close() rejects with the count of sessions lost when Kea 2.2's receiver does not read within closeTimeout",
  PEER,
  "kea-common 2.2 + g++",
  async (peer) => {
    await using dir = await tempDir();
    using fds = trackFds();
    {
      const { kea, forwarder } = await heldKea(peer, `${dir.path}/t.sock`, {
        closeTimeout: 100,
      });
      await using _kea = kea;
      const own = bindSocket("127.0.0.1", false);
      const pushed = fill(forwarder, own.fd);
      assert.deepEqual(forwarder.queued, 1);
      const sends = [1, 2].map((i) =>
        assert.rejects(
          forwarder.send(udpSession(new Uint8Array([i]), own.fd)),
          { name: "SocketSessionError", code: "CLOSED" },
        )
      );
      // The cut session's tail and the two send()s never go out.
      await assert.rejects(forwarder.close(), (err) => {
        assert.ok(err instanceof SessionsLostError, String(err));
        assert.deepEqual([err.code, err.lost], ["SESSIONS_LOST", 3]);
        return true;
      });
      await Promise.all(sends);
      // Kea reads what did go out whole, then finds the cut one incomplete.
      await kea.writeLine("go");
      for (let i = 0; i < pushed - 1; i++) {
        assert.deepEqual((await kea.next()).length, 65535);
      }
      assert.match(String((await kea.next()).error), /Incomplete data/);
      closeFd(own.fd);
    }
    assert.deepEqual(await fds.leaks(), []);
  },
);
