// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { tempDir } from "../_test_utils/peers.ts";
import { udpSession } from "../_test_utils/session/pair.ts";
import { trackFds } from "../_test_utils/session/raw.ts";
import { waitFor } from "../_test_utils/wait.ts";
import { poller } from "./_poller.ts";
import { SocketSessionForwarder } from "./forwarder.ts";
import { SocketSessionListener } from "./listener.ts";
import type { SocketSessionReceiver } from "./receiver.ts";

async function threadCount(): Promise<number> {
  let n = 0;
  for await (const _ of Deno.readDir("/proc/self/task")) n++;
  return n;
}

Deno.test("one shared poller: 50 pending pops make one outstanding poll, not 50 blocked threads", async () => {
  await using dir = await tempDir();
  using fds = trackFds();
  const threadsBefore = await threadCount();
  {
    using listener = SocketSessionListener.listen(`${dir.path}/p.sock`);
    const forwarders: SocketSessionForwarder[] = [];
    const receivers: SocketSessionReceiver[] = [];
    for (let i = 0; i < 50; i++) {
      const f = new SocketSessionForwarder(listener.path);
      f.connect();
      forwarders.push(f);
      receivers.push(await listener.accept());
    }
    const pops = receivers.map((r) => r.pop());
    await waitFor("50 waits", () => poller.size === 50);
    assert.ok(poller.running);
    // Deno's async file I/O shares the 32-thread blocking pool: it still runs.
    assert.ok(
      (await Deno.readTextFile("/proc/self/status")).includes("Threads"),
    );
    // However many fds wait, one poll() call is outstanding.
    assert.deepEqual(poller.maxOutstanding, 1);
    assert.ok(
      (await threadCount()) - threadsBefore < 16,
      "50 waits must not take 50 (or 32) pool threads",
    );
    // A session for the last receiver wakes only that pop.
    forwarders[49]!.push(udpSession(new Uint8Array([5])));
    (await pops[49]!).close();
    assert.deepEqual(poller.size, 49);
    for (const r of receivers) r.close();
    for (const p of pops.slice(0, 49)) {
      await assert.rejects(() => p, { message: /closed/ });
    }
    for (const f of forwarders) await f.close();
  }
  assert.deepEqual(await fds.leaks(), []);
  assert.deepEqual(poller.size, 0);
});
