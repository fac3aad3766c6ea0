// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Stray errors in app code (a throw in a timer callback, an unhandled
 * rejection) reach the arbiter's log with their stack; the worker's
 * requests in flight fail with a `DirtyWorkerError` naming the cause; the
 * worker is replaced.
 */
import assert from "node:assert/strict";
import { APP, test } from "../_test_utils/dirty/apps.ts";
import { RawDirtyConn } from "../_test_utils/dirty/arbiter_client.ts";
import { alive, LogRecorder } from "../_test_utils/dirty/wait.ts";
import { waitFor } from "../_test_utils/wait.ts";
import { startArbiter } from "./arbiter.ts";
import { DirtyWorkerError } from "./errors.ts";

for (
  const [action, message, cause] of [
    ["throwLater", "boom in a timer", "Uncaught Error: boom in a timer"],
    [
      "rejectLater",
      "boom unhandled",
      "Unhandled rejection: Error: boom unhandled",
    ],
  ] as const
) {
  test(`crash: ${action}: the stray error is logged with its stack, requests in flight fail naming it, the worker is replaced`, async () => {
    const logs = new LogRecorder();
    await using arb = await startArbiter({
      apps: [APP],
      workers: 1,
      concurrency: 2,
      backoff: { initial: 50 },
      log: logs.log,
    });
    await arb.ready();
    const pid = arb.status().workers[0]!.pid;
    await using busy = await RawDirtyConn.open(arb.socketPath);
    const inFlight = busy.call(APP, "sleep", [30_000]);
    inFlight.catch(() => {});
    await waitFor(
      "the request to run",
      () => arb.status().workers[0]!.requests === 1,
    );
    await using c = await RawDirtyConn.open(arb.socketPath);
    // The action answers; its stray error comes after.
    assert.equal(await c.call(APP, action, [message]), "ok");
    const line = await logs.waitFor(/crashed/);
    assert.match(line, new RegExp(`Dirty worker ${pid} crashed: ${cause}`));
    // The stack, pointing at the app's code.
    assert.match(line, /testdata\/apps\/echo\.ts:\d+/);
    await assert.rejects(inFlight, (e) => {
      assert.ok(e instanceof DirtyWorkerError);
      assert.equal(
        e.message,
        `Worker communication failed: worker ${pid} crashed: ${cause}`,
      );
      assert.equal(e.workerId, pid);
      return true;
    });
    await waitFor("the worker to exit", () => !alive(pid));
    // Replaced, with the same apps; the failure shows in STATUS meanwhile.
    const next = await c.call(APP, "pid");
    assert.notEqual(next, pid);
    assert.equal(arb.status().workers[0]!.pid, next);
  });
}
