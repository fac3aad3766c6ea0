// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { acceptLoop, type AcceptLoopHooks } from "./accept_loop.ts";

/** An error as `Deno.Listener.accept()` throws it: with an errno `code`. */
function failure(code: string): Error {
  return Object.assign(new Error(`accept failed (${code})`), { code });
}

/** Hooks that record every event as a line; the loop stops at `stopAt` connections. */
function recorder(
  stop: AbortController,
  stopAt: number,
): { hooks: AcceptLoopHooks<number>; events: string[] } {
  const events: string[] = [];
  let conns = 0;
  return {
    events,
    hooks: {
      onConnection(n) {
        events.push(`conn ${n}`);
        if (++conns === stopAt) stop.abort();
      },
      onError(e, action, ms) {
        events.push(`${action} ${(e as { code: string }).code} ${ms}`);
      },
      stopError: (e) => new Error("stopped", { cause: e }),
    },
  };
}

/** `accept()` that plays `script` (a number is a connection) and then hangs. */
function play(script: (number | Error)[]): () => Promise<number> {
  return () => {
    const next = script.shift();
    if (next === undefined) return new Promise<never>(() => {});
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
}

Deno.test("acceptLoop() skips a pending connection's failure and backs off from exhausted resources, 10 ms doubling to 100 ms", async () => {
  const stop = new AbortController();
  const { hooks, events } = recorder(stop, 2);
  await acceptLoop(
    play([
      failure("ECONNABORTED"),
      1,
      failure("EMFILE"),
      failure("ENFILE"),
      failure("ENOBUFS"),
      failure("ENOMEM"),
      failure("EMFILE"),
      2,
    ]),
    hooks,
    stop.signal,
  );
  assert.deepEqual(events, [
    "skip ECONNABORTED 0",
    "conn 1",
    "backoff EMFILE 10",
    "backoff ENFILE 20",
    "backoff ENOBUFS 40",
    "backoff ENOMEM 80",
    "backoff EMFILE 100",
    "conn 2",
  ]);
});

Deno.test("acceptLoop() resets the back-off after a connection", async () => {
  const stop = new AbortController();
  const { hooks, events } = recorder(stop, 2);
  await acceptLoop(
    play([failure("EMFILE"), failure("EMFILE"), 1, failure("EMFILE"), 2]),
    hooks,
    stop.signal,
  );
  assert.deepEqual(events, [
    "backoff EMFILE 10",
    "backoff EMFILE 20",
    "conn 1",
    "backoff EMFILE 10",
    "conn 2",
  ]);
});

Deno.test("acceptLoop() ends with stopError() when the listening socket fails", async () => {
  const stop = new AbortController();
  const { hooks, events } = recorder(stop, 9);
  const broken = failure("EBADF");
  await assert.rejects(
    acceptLoop(play([1, broken, 2]), hooks, stop.signal),
    (e) => e instanceof Error && e.message === "stopped" && e.cause === broken,
  );
  assert.deepEqual(events, ["conn 1"]);
});

Deno.test("acceptLoop() ends quietly on abort: during a back-off, or when accept() fails because of it", async () => {
  const stop = new AbortController();
  const { hooks, events } = recorder(stop, 9);
  const loop = acceptLoop(play([failure("EMFILE"), 1]), hooks, stop.signal);
  // The back-off is under way (a timer): abort cuts it short.
  await new Promise<void>((r) => queueMicrotask(r));
  stop.abort();
  await loop;
  assert.deepEqual(events, ["backoff EMFILE 10"]);
  const closing = new AbortController();
  await acceptLoop(
    () => {
      closing.abort();
      return Promise.reject(failure("EBADF"));
    },
    recorder(closing, 9).hooks,
    closing.signal,
  );
});
