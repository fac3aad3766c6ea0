// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Cancellation: a client that disconnects, times out or aborts cancels its
 * request in the worker (the app sees `requestSignal()` abort, a
 * generator's `return()` is called) and the worker's slot frees at once.
 */
import assert from "node:assert/strict";
import { APP, quiet, test } from "../_test_utils/dirty/apps.ts";
import { RawDirtyConn } from "../_test_utils/dirty/arbiter_client.ts";
import { waitFor } from "../_test_utils/wait.ts";
import { startArbiter } from "./arbiter.ts";
import { DirtyClient } from "./client.ts";
import { DirtyTimeoutError } from "./errors.ts";
import { encodeRequest } from "./message_encoders.ts";

interface Counts {
  started: number;
  abortsSeen: number;
  aborted: number;
}

test("cancel: a unary call whose client closes, times out or aborts sees its signal abort", async () => {
  await using arb = await startArbiter({
    apps: [APP],
    workers: 1,
    concurrency: 4,
    log: quiet,
  });
  await arb.ready();
  await using probe = await RawDirtyConn.open(arb.socketPath);
  const counts = async () =>
    await probe.call(APP, "counts") as unknown as Counts;
  const started = async (n: number) =>
    await waitFor(`${n} started`, async () => (await counts()).started === n);
  const seen = async (n: number) =>
    await waitFor(
      `${n} aborts seen by the app`,
      async () => (await counts()).abortsSeen === n,
    );
  // The client closes its connection.
  const raw = await RawDirtyConn.open(arb.socketPath);
  await raw.write(encodeRequest(raw.id(), APP, "waitForAbort"));
  await started(1);
  raw.close();
  await seen(1);
  // Its call times out (our client then closes the connection).
  await using client = new DirtyClient({ socketPath: arb.socketPath });
  const late = client.execute(APP, "waitForAbort", [], {}, { timeout: 300 });
  await assert.rejects(late, DirtyTimeoutError);
  await seen(2);
  // Its call is aborted.
  const ac = new AbortController();
  const aborted = client.execute(APP, "waitForAbort", [], {}, {
    signal: ac.signal,
  });
  await started(3);
  ac.abort(new Error("changed my mind"));
  await assert.rejects(aborted, /changed my mind/);
  await seen(3);
});

test("cancel: the slot of a cancelled unary call frees at once, even if its app code ignores the signal", async () => {
  await using arb = await startArbiter({
    apps: [APP],
    workers: 1,
    concurrency: 2,
    log: quiet,
  });
  await arb.ready();
  await using probe = new DirtyClient({
    socketPath: arb.socketPath,
    timeout: 10_000,
  });
  const started = (n: number) =>
    waitFor(`${n} started`, async () => {
      const c = (await probe.execute(APP, "counts")) as unknown as Counts;
      return c.started === n;
    });
  // A slot runs code that ignores its signal for a minute; its client
  // leaves.
  const first = await RawDirtyConn.open(arb.socketPath);
  await first.write(encodeRequest(first.id(), APP, "stubborn", [60_000]));
  await started(1);
  first.close();
  // Another client's minute takes a slot: one is still free for a call.
  await using second = await RawDirtyConn.open(arb.socketPath);
  await second.write(encodeRequest(second.id(), APP, "stubborn", [60_000]));
  assert.equal(await probe.execute(APP, "add", [2, 3]), 5);
});

test("cancel: a stream whose client leaves while it waits has its generator closed at once and frees its slot", async () => {
  await using arb = await startArbiter({
    apps: [APP],
    workers: 1,
    concurrency: 1,
    log: quiet,
  });
  await arb.ready();
  const raw = await RawDirtyConn.open(arb.socketPath);
  // One tick, then a minute's wait (cut short by its signal).
  await raw.write(encodeRequest(raw.id(), APP, "ticks", [60_000]));
  assert.equal((await raw.next()).type, "chunk");
  raw.close();
  await using c = new DirtyClient({
    socketPath: arb.socketPath,
    timeout: 10_000,
  });
  // The slot is free at once and the generator's `finally` ran.
  assert.equal(await c.execute(APP, "add", [1, 1]), 2);
  await waitFor(
    "the generator to be closed",
    async () =>
      ((await c.execute(APP, "counts")) as unknown as Counts).aborted === 1,
  );
  // A stream left by a client that times out is closed too.
  const chunks: unknown[] = [];
  await assert.rejects(async () => {
    for await (
      const x of c.stream(APP, "ticks", [60_000], {}, { timeout: 300 })
    ) chunks.push(x);
  }, DirtyTimeoutError);
  assert.deepEqual(chunks, [0]);
  await waitFor(
    "the second generator to be closed",
    async () =>
      ((await c.execute(APP, "counts")) as unknown as Counts).aborted === 2,
  );
});
