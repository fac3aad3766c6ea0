// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { leakFreeTest } from "../_test_utils/session/leaks.ts";
import { waitFor } from "../_test_utils/wait.ts";
import { sessionPair, udpSession } from "../_test_utils/session/pair.ts";
import { bindSocket, closeFd, fdIsOpen } from "../_test_utils/session/raw.ts";
import type { OutgoingSession } from "./forwarder.ts";
import { SocketSessionForwarder } from "./forwarder.ts";

/** A session whose data starts with `seq` (big-endian u32), 30000 bytes. */
function numbered(fd: number, seq: number): OutgoingSession {
  const data = new Uint8Array(30000);
  new DataView(data.buffer).setUint32(0, seq, false);
  return udpSession(data, fd);
}

function seqOf(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, 4).getUint32(0, false);
}

leakFreeTest(
  "SocketSessionForwarder.send() queues at most maxQueued sessions: producers wait for room in order, abort drops one, close() first finishes the rest; the fds stay with the caller",
  async (dir) => {
    await using c = await sessionPair(dir, "q.sock", { maxQueued: 4 }, {
      // Whatever the machine's default socket buffer, the kernel takes only
      // a few of these 30 KB sessions, so the queue does fill up.
      sendBuffer: 65536,
    });
    const own = bindSocket("127.0.0.1", false);
    let most = 0;
    const look = (): void => void (most = Math.max(most, c.forwarder.queued));

    // 200 sessions at once while the receiver does not read: the kernel
    // takes a few, 4 wait in the queue, the rest wait for room.
    const total = 200;
    const sends = Array.from(
      { length: total },
      (_, i) => c.forwarder.send(numbered(own.fd, i)).finally(look),
    );
    look();
    await waitFor("a full queue", () => c.forwarder.queued === 4);
    assert.throws(() => c.forwarder.push(numbered(own.fd, 0)), Error);

    // A waiting producer that gives up is dropped; the queue is untouched.
    const ac = new AbortController();
    const dropped = c.forwarder.send(numbered(own.fd, 999), {
      signal: ac.signal,
    });
    ac.abort(new Error("gave up"));
    await assert.rejects(() => dropped, { message: /gave up/ });
    assert.deepEqual(c.forwarder.queued, 4);

    // The receiver reads: everything arrives, in call order.
    for (let i = 0; i < total; i++) {
      using s = await c.receiver.pop({ timeout: 5000 });
      assert.deepEqual(seqOf(s.data), i);
      look();
    }
    await Promise.all(sends);
    assert.deepEqual(most, 4);

    // close() with producers waiting: it first finishes every session
    // queued or waiting for room, in order, while the receiver reads.
    const late = Array.from(
      { length: 30 },
      (_, i) => c.forwarder.send(numbered(own.fd, 1000 + i)),
    );
    await waitFor("a full queue again", () => c.forwarder.queued === 4);
    const closed = c.forwarder.close();
    assert.throws(() => c.forwarder.push(numbered(own.fd, 0)), {
      name: "TypeError",
      message: /closing/,
    });
    let got = 0;
    for await (const s of c.receiver) {
      assert.deepEqual(seqOf(s.data), 1000 + got++);
      s.close();
    }
    await closed;
    await Promise.all(late);
    assert.deepEqual(got, 30);
    assert.deepEqual(c.forwarder.queued, 0);
    // The caller's fd was never closed by the forwarder.
    assert.ok(fdIsOpen(own.fd));
    closeFd(own.fd);
    assert.throws(
      () => new SocketSessionForwarder("/x", { maxQueued: 0 }),
      RangeError,
    );
  },
);
