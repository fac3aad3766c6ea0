// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Timeouts as gunicorn has them (from the moment a worker takes a
 * request), and app code off the protocol thread (a CPU-bound action
 * stops no heartbeat; one over its timeout is aborted, then its worker is
 * killed with a log line saying why).
 */
import assert from "node:assert/strict";
import { APP, quiet, test } from "../_test_utils/dirty/apps.ts";
import { RawDirtyConn } from "../_test_utils/dirty/arbiter_client.ts";
import { alive, LogRecorder } from "../_test_utils/dirty/wait.ts";
import { waitFor } from "../_test_utils/wait.ts";
import { startArbiter } from "./arbiter.ts";
import { DirtyTimeoutError } from "./errors.ts";

test("timeout: queued requests time out from the moment a worker takes them, not from when they were queued", async () => {
  await using arb = await startArbiter({
    apps: [APP],
    workers: 1,
    concurrency: 1,
    timeout: 2000,
    log: quiet,
  });
  await arb.ready();
  const conns = await Promise.all(
    [0, 1, 2].map(() => RawDirtyConn.open(arb.socketPath)),
  );
  try {
    // One worker, one slot: they run one after the other, 1.2 s each,
    // each well within 2 s of being taken (the last ends after 3.6 s).
    const got = await Promise.all(
      conns.map((c) => c.call(APP, "sleep", [1200])),
    );
    assert.deepEqual(got, [1200, 1200, 1200]);
  } finally {
    for (const c of conns) c.close();
  }
});

test("timeout: a CPU-bound action stops no heartbeat of its worker", async () => {
  await using arb = await startArbiter({
    apps: [APP],
    workers: 1,
    concurrency: 1,
    timeout: 10_000,
    heartbeatInterval: 100,
    log: quiet,
  });
  await arb.ready();
  const pid = arb.status().workers[0]!.pid;
  await using c = await RawDirtyConn.open(arb.socketPath);
  const spin = c.call(APP, "spin", [2500]);
  let done = false;
  spin.finally(() => (done = true)).catch(() => {});
  // While app code blocks its thread, the protocol thread keeps beating.
  let oldest = 0;
  while (!done) {
    const w = arb.status().workers[0]!;
    oldest = Math.max(oldest, w.last_heartbeat);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(await spin, 2500);
  assert.ok(oldest < 1, `a heartbeat was ${oldest} s old during the action`);
  assert.equal(arb.status().workers[0]!.pid, pid);
});

test("timeout: a CPU-bound action over its timeout is aborted, then its worker killed with a log line that says why", async () => {
  const logs = new LogRecorder();
  await using arb = await startArbiter({
    apps: [APP],
    workers: 1,
    timeout: 1000,
    killGrace: 300,
    log: logs.log,
  });
  await arb.ready();
  const pid = arb.status().workers[0]!.pid;
  await using c = await RawDirtyConn.open(arb.socketPath);
  await assert.rejects(c.call(APP, "spin", [8000]), (e) => {
    assert.ok(e instanceof DirtyTimeoutError);
    assert.equal(e.message, "Worker timeout");
    assert.deepEqual({ ...e.details }, { timeout: 1 });
    return true;
  });
  const line = await logs.waitFor(new RegExp(`Killing dirty worker ${pid}`));
  assert.match(line, /spin\) exceeded its timeout of 1s/);
  assert.match(line, /did not stop within 300 ms of being aborted/);
  await waitFor("the stuck worker to die", () => !alive(pid));
  // Replaced, with the same apps.
  const next = await c.call(APP, "pid");
  assert.notEqual(next, pid);
});
