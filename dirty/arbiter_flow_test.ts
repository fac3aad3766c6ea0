// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Per-request flow control in the arbiter: one client that stops reading
 * never stalls a worker's heartbeats or its other requests, and one that
 * lets too much pile up is disconnected and its request cancelled.
 */
import assert from "node:assert/strict";
import { APP, quiet, test } from "../_test_utils/dirty/apps.ts";
import { RawDirtyConn } from "../_test_utils/dirty/arbiter_client.ts";
import { LogRecorder } from "../_test_utils/dirty/wait.ts";
import { waitFor } from "../_test_utils/wait.ts";
import { startArbiter } from "./arbiter.ts";
import { encodeRequest } from "./message_encoders.ts";

test("flow: a client that stops reading a stream stalls neither heartbeats nor the worker's other requests", async () => {
  const timeout = 1500;
  await using arb = await startArbiter({
    apps: [APP],
    workers: 1,
    concurrency: 4,
    timeout,
    heartbeatInterval: 100,
    log: quiet,
  });
  await arb.ready();
  const pid = arb.status().workers[0]!.pid;
  // A raw client asks for an endless stream and never reads a byte.
  const stuck = await Deno.connect({
    transport: "unix",
    path: arb.socketPath,
  });
  try {
    await stuck.write(encodeRequest(1n, APP, "flood", [64 * 1024]));
    await using c = await RawDirtyConn.open(arb.socketPath);
    // Longer than the timeout: a worker whose connection is not read
    // would miss heartbeats and every call here would time out.
    const end = Date.now() + 2 * timeout;
    let calls = 0;
    while (Date.now() < end || calls < 5) {
      assert.equal(await c.call(APP, "add", [calls, 1]), calls + 1);
      calls++;
      await new Promise((r) => setTimeout(r, 50));
    }
    const s = arb.status();
    assert.equal(s.workers.length, 1);
    assert.equal(s.workers[0]!.pid, pid);
    assert.ok(s.workers[0]!.last_heartbeat < timeout / 1000);
  } finally {
    stuck.close();
  }
});

test("flow: past maxClientBufferSize the client is disconnected and its request cancelled; the worker carries on", async () => {
  const logs = new LogRecorder();
  await using arb = await startArbiter({
    apps: [APP],
    workers: 1,
    concurrency: 2,
    maxClientBufferSize: 128 * 1024,
    log: logs.log,
  });
  await arb.ready();
  const pid = arb.status().workers[0]!.pid;
  const stuck = await Deno.connect({
    transport: "unix",
    path: arb.socketPath,
  });
  try {
    // A sync generator yields 64 KiB chunks faster than any pause can
    // reach it: the bytes waiting for this client exceed the bound.
    await stuck.write(encodeRequest(1n, APP, "flood", [64 * 1024]));
    await logs.waitFor(/Disconnecting a client that does not read/);
    // Its connection is closed: what the kernel buffered, then the end.
    const buf = new Uint8Array(1 << 20);
    await waitFor("the disconnection", async () => {
      try {
        return (await stuck.read(buf)) === null;
      } catch {
        return true;
      }
    });
  } finally {
    stuck.close();
  }
  await using c = await RawDirtyConn.open(arb.socketPath);
  // The generator was closed on the worker ...
  await waitFor("the stream to be cancelled on the worker", async () => {
    const counts = await c.call(APP, "counts") as { aborted: number };
    return counts.aborted === 1;
  });
  // ... which carries on.
  assert.equal(await c.call(APP, "add", [2, 3]), 5);
  assert.equal(arb.status().workers[0]!.pid, pid);
});
