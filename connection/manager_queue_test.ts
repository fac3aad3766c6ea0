// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { callSignal, ManagerQueue, PyException, PyFloat } from "./mod.ts";
import { withCallSignal } from "./_manager_call.ts";

function isPy(type: string): (e: unknown) => boolean {
  return (e) =>
    e instanceof PyException &&
    (e.module === "builtins" ? e.qualname : `${e.module}.${e.qualname}`) ===
      type;
}

Deno.test("ManagerQueue: FIFO order, sizes, put_nowait/get_nowait", async () => {
  const q = new ManagerQueue();
  for (let i = 0; i < 3000; i++) q.put(i);
  assert.equal(q.qsize(), 3000);
  for (let i = 0; i < 3000; i++) assert.equal(await q.get(), i);
  assert.ok(q.empty());
  assert.throws(() => q.get_nowait(), isPy("queue.Empty"));
  assert.throws(() => q.get(false), isPy("queue.Empty"));
  q.put_nowait("x");
  assert.equal(q.get_nowait(), "x");
  assert.equal(new ManagerQueue(-5).maxsize, 0);
});

Deno.test("ManagerQueue: a bounded queue waits for room, or raises Full", async () => {
  const q = new ManagerQueue(new PyFloat(1)); // Python may send maxsize as any number
  q.put("a");
  assert.ok(q.full());
  assert.throws(() => q.put("b", false), isPy("queue.Full"));
  assert.throws(() => q.put_nowait("b"), isPy("queue.Full"));
  await assert.rejects(
    q.put("b", true, 0.01) as Promise<void>,
    isPy("queue.Full"),
  );
  const waiting = q.put("c");
  assert.ok(waiting instanceof Promise);
  assert.equal(await q.get(), "a");
  await waiting;
  assert.equal(await q.get(), "c");
  q.put("full again");
  assert.throws(() => q.put("x", true, -1), isPy("ValueError"));
});

Deno.test("ManagerQueue: waiting getters are served in order, with timeouts", async () => {
  const q = new ManagerQueue();
  const first = q.get();
  const second = q.get(true, null);
  await assert.rejects(
    Promise.resolve(q.get(true, new PyFloat(0.01))),
    isPy("queue.Empty"),
  );
  q.put(1);
  q.put(2);
  assert.deepEqual(await Promise.all([first, second]), [1, 2]);
});

Deno.test("ManagerQueue: a getter whose caller went away takes nothing", async () => {
  const q = new ManagerQueue();
  const gone = new AbortController();
  const lost = withCallSignal(gone.signal, () => {
    assert.equal(callSignal(), gone.signal);
    return q.get();
  });
  const kept = q.get();
  gone.abort(new Error("caller disconnected"));
  await assert.rejects(Promise.resolve(lost), /caller disconnected/);
  q.put("item");
  assert.equal(await kept, "item");
  assert.equal(callSignal(), undefined);
  // An already-aborted caller does not wait at all, and takes nothing.
  const late = withCallSignal(
    AbortSignal.abort(new Error("gone")),
    () => q.get(),
  );
  await assert.rejects(Promise.resolve(late), /gone/);
  q.put("next");
  assert.equal(await q.get(), "next");
});

Deno.test("ManagerQueue: task_done and join", async () => {
  const q = new ManagerQueue();
  assert.equal(q.join(), undefined);
  q.put(1);
  q.put(2);
  const joined = q.join();
  assert.ok(joined instanceof Promise);
  let done = false;
  joined.then(() => done = true);
  await q.get();
  q.task_done();
  await Promise.resolve();
  assert.equal(done, false);
  await q.get();
  q.task_done();
  await joined;
  assert.throws(() => q.task_done(), isPy("ValueError"));
  assert.equal(String(q), "<ManagerQueue of 0 items>");
});
