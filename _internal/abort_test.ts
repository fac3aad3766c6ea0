// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { deadlineSignal, race, raceResource, settleWithin } from "./abort.ts";

Deno.test("race() settles as the promise does without signal or deadline", async () => {
  const p = Promise.resolve(1);
  assert.equal(race(p), p);
  assert.equal(await race(Promise.resolve(2), { timeout: Infinity }), 2);
  await assert.rejects(
    race(Promise.reject(new Error("x")), { timeout: 1000 }),
    /x/,
  );
});

Deno.test("race() rejects with the signal's reason, at once when already aborted", async () => {
  const c = new AbortController();
  const never = new Promise<never>(() => {});
  const p = race(never, { signal: c.signal });
  c.abort(new Error("bye"));
  await assert.rejects(p, /bye/);
  await assert.rejects(race(never, { signal: c.signal }), /bye/);
});

Deno.test("race() rejects with a TimeoutError at the deadline and hands over the loser", async () => {
  let lost: Promise<unknown> | undefined;
  const late = Promise.withResolvers<number>();
  await assert.rejects(
    race(late.promise, { timeout: 1, what: "x", onLost: (p) => lost = p }),
    (e: unknown) =>
      e instanceof DOMException && e.name === "TimeoutError" &&
      e.message === "Timed out after 1 ms waiting for x",
  );
  assert.equal(lost, late.promise);
  // A loser that rejects later is handled (no unhandled rejection).
  late.reject(new Error("late"));
});

Deno.test("race() refuses a negative deadline", () => {
  assert.throws(() => race(new Promise(() => {}), { timeout: -1 }), RangeError);
});

Deno.test("race() removes its abort listener once settled", async () => {
  const c = new AbortController();
  let added = 0;
  let removed = 0;
  const add = c.signal.addEventListener.bind(c.signal);
  const remove = c.signal.removeEventListener.bind(c.signal);
  c.signal.addEventListener = ((...a: Parameters<typeof add>) => {
    added++;
    return add(...a);
  }) as typeof add;
  c.signal.removeEventListener = ((...a: Parameters<typeof remove>) => {
    removed++;
    return remove(...a);
  }) as typeof remove;
  for (let i = 0; i < 10; i++) {
    await race(Promise.resolve(i), { signal: c.signal });
  }
  assert.equal(added, 10);
  assert.equal(removed, 10);
});

Deno.test("raceResource() closes a resource that arrives after the signal won", async () => {
  const c = new AbortController();
  const res = Promise.withResolvers<{ close(): void; closed: boolean }>();
  const p = raceResource(res.promise, { signal: c.signal });
  c.abort(new Error("gone"));
  await assert.rejects(p, /gone/);
  const r = {
    closed: false,
    close() {
      this.closed = true;
    },
  };
  res.resolve(r);
  await res.promise;
  await Promise.resolve();
  assert.equal(r.closed, true);
});

Deno.test("deadlineSignal() aborts on the deadline or with its parent", async () => {
  const t = deadlineSignal(1, undefined, "y");
  await new Promise((r) => t.signal.addEventListener("abort", r));
  assert.equal(t.timedOut(), true);
  assert.equal((t.signal.reason as DOMException).name, "TimeoutError");
  const parent = new AbortController();
  const u = deadlineSignal(Infinity, parent.signal);
  parent.abort("why");
  assert.equal(u.signal.reason, "why");
  assert.equal(u.timedOut(), false);
  const v = deadlineSignal(2 ** 31, parent.signal);
  assert.equal(v.signal.aborted, true);
  v.clear();
  const w = deadlineSignal(2 ** 31);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(w.signal.aborted, false);
  w.clear();
});

Deno.test("settleWithin() says whether the promise settled in time, and never rejects", async () => {
  assert.equal(await settleWithin(Promise.resolve(1), 1000), true);
  assert.equal(await settleWithin(Promise.reject(new Error("x")), 1000), true);
  assert.equal(await settleWithin(Promise.resolve(1), Infinity), true);
  const never = new Promise<never>(() => {});
  assert.equal(await settleWithin(never, 0), false);
  // A loser that rejects later is handled (no unhandled rejection).
  const late = Promise.withResolvers<never>();
  assert.equal(await settleWithin(late.promise, 1), false);
  late.reject(new Error("late"));
  assert.throws(() => settleWithin(never, -1), RangeError);
  assert.throws(() => settleWithin(never, NaN), RangeError);
});
