// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import {
  checkDuration,
  delay,
  MAX_TIMER_DELAY,
  setLongTimeout,
  timeoutError,
} from "./timers.ts";

/** Runs `fn` with a recording fake setTimeout/clearTimeout. */
function withFakeTimers(
  fn: (timers: { armed: number[]; fire(): void; live(): number }) => void,
): void {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const pending = new Map<number, { cb: () => void; ms: number }>();
  const armed: number[] = [];
  let next = 1;
  // deno-lint-ignore no-explicit-any
  (globalThis as any).setTimeout = (cb: () => void, ms: number) => {
    armed.push(ms);
    pending.set(next, { cb, ms });
    return next++;
  };
  // deno-lint-ignore no-explicit-any
  (globalThis as any).clearTimeout = (id: number) => pending.delete(id);
  try {
    fn({
      armed,
      fire() {
        const [id, t] = [...pending][0]!;
        pending.delete(id);
        t.cb();
      },
      live: () => pending.size,
    });
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
}

Deno.test("setLongTimeout() waits out delays over 2^31 - 1 ms in steps", () => {
  withFakeTimers((t) => {
    let fired = 0;
    setLongTimeout(() => fired++, 2 * MAX_TIMER_DELAY + 5);
    assert.deepEqual(t.armed, [MAX_TIMER_DELAY]);
    t.fire();
    assert.equal(fired, 0);
    t.fire();
    assert.equal(fired, 0);
    assert.deepEqual(t.armed, [MAX_TIMER_DELAY, MAX_TIMER_DELAY, 5]);
    t.fire();
    assert.equal(fired, 1);
  });
});

Deno.test("setLongTimeout() with Infinity arms nothing; cancel stops a stepped timer", () => {
  withFakeTimers((t) => {
    setLongTimeout(() => {}, Infinity);
    assert.deepEqual(t.armed, []);
    const cancel = setLongTimeout(() => {
      throw new Error("must not run");
    }, 3 * MAX_TIMER_DELAY);
    t.fire(); // first step
    assert.equal(t.live(), 1);
    cancel();
    assert.equal(t.live(), 0);
    cancel();
  });
});

Deno.test("checkDuration() refuses negative, NaN and non-numbers; accepts 0 and Infinity", () => {
  for (const bad of [-1, -Infinity, NaN, "5" as unknown as number]) {
    assert.throws(
      () => checkDuration(bad, "timeout", "create client"),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message.startsWith("Cannot create client: timeout must be"),
    );
  }
  assert.equal(checkDuration(0, "t", "x"), 0);
  assert.equal(checkDuration(Infinity, "t", "x"), Infinity);
  assert.equal(checkDuration(2 ** 40, "t", "x"), 2 ** 40);
  assert.throws(() => setLongTimeout(() => {}, -5), RangeError);
});

Deno.test("delay() resolves, and rejects with the signal's reason", async () => {
  await delay(1);
  const c = new AbortController();
  const p = delay(Infinity, c.signal);
  c.abort(new Error("stop"));
  await assert.rejects(p, /stop/);
  await assert.rejects(delay(1, c.signal), /stop/);
});

Deno.test("timeoutError() is a TimeoutError DOMException", () => {
  const e = timeoutError(5, "the handshake");
  assert.equal(e.name, "TimeoutError");
  assert.equal(e.message, "Timed out after 5 ms waiting for the handshake");
});
