// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import {
  connectWithRetry,
  isRetryableConnectError,
  type RetryEvent,
  retrySettings,
} from "./retry.ts";

class Conn {
  closed = false;
  close(): void {
    this.closed = true;
  }
}

/** A clock that only moves when the retry pauses. */
function fakeClock(): {
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  pauses: number[];
} {
  let t = 0;
  const pauses: number[] = [];
  return {
    now: () => t,
    sleep: (ms, signal) => {
      signal?.throwIfAborted();
      pauses.push(ms);
      t += ms;
      return Promise.resolve();
    },
    pauses,
  };
}

/** An attempt that fails with `errors` in turn, then connects. */
function attempts(errors: Error[]): {
  attempt: () => Promise<Conn>;
  count: () => number;
} {
  let n = 0;
  return {
    attempt: () => {
      const e = errors[n++];
      return e === undefined ? Promise.resolve(new Conn()) : Promise.reject(e);
    },
    count: () => n,
  };
}

const refused = () => new Deno.errors.ConnectionRefused("Connection refused");
const notFound = () => new Deno.errors.NotFound("No such file or directory");

Deno.test("retry: ConnectionRefused and NotFound are retried, with doubling pauses, until the connect succeeds", async () => {
  const clock = fakeClock();
  const a = attempts([notFound(), refused(), refused(), refused()]);
  const events: RetryEvent[] = [];
  const conn = await connectWithRetry(
    a.attempt,
    {
      minDelay: 50,
      maxDelay: 150,
      onRetry: (e) => events.push(e),
    },
    "connect",
    clock,
  );
  assert.ok(conn instanceof Conn);
  assert.equal(a.count(), 5);
  assert.deepEqual(clock.pauses, [50, 100, 150, 150]);
  assert.deepEqual(events.map((e) => [e.attempt, e.delay]), [
    [1, 50],
    [2, 100],
    [3, 150],
    [4, 150],
  ]);
  assert.ok(events[0]!.error instanceof Deno.errors.NotFound);
});

Deno.test("retry: without a retry option (or with false) the connect runs once", async () => {
  for (const retry of [undefined, false]) {
    const a = attempts([refused()]);
    await assert.rejects(
      connectWithRetry(a.attempt, retry, "connect", fakeClock()),
      Deno.errors.ConnectionRefused,
    );
    assert.equal(a.count(), 1);
  }
  // true: the defaults (50 ms first).
  const clock = fakeClock();
  const a = attempts([refused()]);
  await connectWithRetry(a.attempt, true, "connect", clock);
  assert.deepEqual(clock.pauses, [50]);
});

Deno.test("retry: an error that is not 'not listening yet' is thrown at once (permission, authentication, protocol)", async () => {
  const auth = new Error("digest received was wrong");
  auth.name = "AuthenticationError";
  for (
    const e of [
      new Deno.errors.PermissionDenied("Permission denied"),
      new Deno.errors.NotCapable("Requires net access"),
      auth,
      new TypeError("bad address"),
    ]
  ) {
    const clock = fakeClock();
    const a = attempts([e, refused()]);
    await assert.rejects(
      connectWithRetry(a.attempt, { timeout: 10_000 }, "connect", clock),
      (got) => got === e,
    );
    assert.equal(a.count(), 1, e.name);
    assert.deepEqual(clock.pauses, []);
  }
});

Deno.test("retry: once the budget is spent the last connect error is thrown; the last pause is cut to the budget", async () => {
  const clock = fakeClock();
  const errors = Array.from({ length: 100 }, refused);
  const a = attempts(errors);
  await assert.rejects(
    connectWithRetry(
      a.attempt,
      {
        timeout: 1000,
        minDelay: 100,
        maxDelay: 400,
      },
      "connect",
      clock,
    ),
    (e) => e === errors[a.count() - 1],
  );
  // 100 + 200 + 400 = 700, then 300 left: the pause is 300, then one more try.
  assert.deepEqual(clock.pauses, [100, 200, 400, 300]);
  assert.equal(a.count(), 5);
});

Deno.test("retry: an aborted signal stops it before, between and during attempts", async () => {
  const already = AbortSignal.abort(new Error("stop"));
  const a = attempts([]);
  await assert.rejects(
    connectWithRetry(a.attempt, { signal: already }, "connect"),
    /stop/,
  );
  assert.equal(a.count(), 0);

  // Aborted during a pause (real timers): rejects with the reason.
  const c = new AbortController();
  const b = attempts(Array.from({ length: 100 }, refused));
  const p = connectWithRetry(b.attempt, {
    minDelay: 60_000,
    signal: c.signal,
    onRetry: () => c.abort(new Error("gave up")),
  }, "connect");
  await assert.rejects(p, /gave up/);
  assert.equal(b.count(), 1);

  // The transport's own signal (a call's deadline) works the same, and a
  // connection that arrives after the abort is closed.
  const late = Promise.withResolvers<Conn>();
  const call = new AbortController();
  const q = connectWithRetry(() => late.promise, true, "connect", {
    signal: call.signal,
  });
  call.abort(new Error("call timed out"));
  await assert.rejects(q, /call timed out/);
  const conn = new Conn();
  late.resolve(conn);
  await late.promise;
  await Promise.resolve();
  assert.equal(conn.closed, true);
});

Deno.test("retry: real pauses, real clock: a server that appears after a few attempts is reached", async () => {
  let ready = false;
  let tries = 0;
  const events: number[] = [];
  const conn = await connectWithRetry(() => {
    tries++;
    return ready ? Promise.resolve(new Conn()) : Promise.reject(refused());
  }, {
    minDelay: 1,
    maxDelay: 4,
    onRetry: (e) => {
      events.push(e.attempt);
      if (e.attempt === 3) ready = true;
    },
  }, "connect");
  assert.ok(conn instanceof Conn);
  assert.equal(tries, 4);
  assert.deepEqual(events, [1, 2, 3]);
});

Deno.test("retry: settings are checked like every duration", () => {
  assert.equal(retrySettings(undefined, "connect"), null);
  assert.equal(retrySettings(false, "connect"), null);
  const s = retrySettings(
    { timeout: Infinity, minDelay: 10, maxDelay: 5 },
    "x",
  );
  assert.equal(s?.timeout, Infinity);
  assert.equal(s?.maxDelay, 10);
  assert.throws(
    () => retrySettings({ timeout: -1 }, "connect"),
    (e) => e instanceof RangeError && /retry\.timeout/.test(e.message),
  );
  assert.throws(() => retrySettings({ minDelay: NaN }, "connect"), RangeError);
});

Deno.test("retry: which errors mean 'not listening yet'", () => {
  assert.equal(isRetryableConnectError(refused()), true);
  assert.equal(isRetryableConnectError(notFound()), true);
  const node = Object.assign(new Error("connect ECONNREFUSED"), {
    code: "ECONNREFUSED",
  });
  assert.equal(isRetryableConnectError(node), true);
  assert.equal(
    isRetryableConnectError(new Deno.errors.PermissionDenied("x")),
    false,
  );
  assert.equal(isRetryableConnectError(new Deno.errors.BrokenPipe("x")), false);
  assert.equal(isRetryableConnectError("ConnectionRefused"), false);
});
