// Copyright 2026 the @sidecar/ipc authors. MIT license.
// The accept loop of serve() on a scripted accept(): what it skips, what
// it backs off from, and the only errors that end it.
import assert from "node:assert/strict";
import { acceptLoop } from "./_accept_loop.ts";
import type { FramingError } from "./errors.ts";

function errno(code: string, name = "Error"): Error {
  const e = new Error(`failed (${code})`) as Error & { code: string };
  e.code = code;
  e.name = name;
  return e;
}

/** An accept() that fails with each of `failures` in turn, then succeeds. */
function scripted(failures: unknown[]): {
  accept: () => Promise<string>;
  calls: () => number;
} {
  let n = 0;
  return {
    accept() {
      const i = n++;
      if (i < failures.length) return Promise.reject(failures[i]);
      return Promise.resolve(`conn${i}`);
    },
    calls: () => n,
  };
}

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

Deno.test("acceptLoop: a connection reset before accept is skipped at once and reported", async () => {
  const reset = new Error("Socket is not connected");
  reset.name = "NotConnected";
  const { accept } = scripted([
    reset,
    errno("ECONNRESET"),
    errno("ECONNABORTED"),
    errno("EPROTO"),
  ]);
  const stop = new AbortController();
  const conns: string[] = [];
  const reports: FramingError[] = [];
  await acceptLoop(
    accept,
    (c) => {
      conns.push(c);
      stop.abort();
    },
    (e) => reports.push(e),
    stop.signal,
  );
  assert.deepEqual(conns, ["conn4"]);
  assert.deepEqual(reports.map((e) => e.code), [
    "ENOTCONN",
    "ECONNRESET",
    "ECONNABORTED",
    "EPROTO",
  ]);
  assert.equal(reports[0]!.cause, reset);
});

Deno.test("acceptLoop: resource errors back off before the next accept, then it goes on", async () => {
  const { accept, calls } = scripted([errno("EMFILE"), errno("ENFILE")]);
  const stop = new AbortController();
  const conns: string[] = [];
  const reports: FramingError[] = [];
  const loop = acceptLoop(
    accept,
    (c) => {
      conns.push(c);
      stop.abort();
    },
    (e) => reports.push(e),
    stop.signal,
  );
  // The first accept failed: no second one until the back-off has passed
  // (a timer, not a microtask).
  await turns(20);
  assert.equal(calls(), 1);
  assert.deepEqual(reports.map((e) => e.code), ["EMFILE"]);
  await loop;
  assert.deepEqual(conns, ["conn2"]);
  assert.deepEqual(reports.map((e) => e.code), ["EMFILE", "ENFILE"]);
});

Deno.test("acceptLoop: only an error of the listener itself ends it, typed", async () => {
  for (
    const [failure, code] of [
      [errno("EBADF"), "EBADF"],
      [errno("EINVAL", "TypeError"), "EINVAL"],
      [
        Object.assign(new Error("Listener has been closed"), {
          name: "BadResource",
        }),
        "EBADF",
      ],
    ] as const
  ) {
    const { accept } = scripted([errno("ENOTCONN"), failure]);
    const reports: FramingError[] = [];
    const error = await acceptLoop(
      accept,
      () => {},
      (e) => reports.push(e),
      new AbortController().signal,
    ).then(() => null, (e) => e);
    assert.equal(error?.name, "FramingError");
    assert.equal(error.code, code);
    assert.equal(error.cause, failure);
    assert.deepEqual(reports.map((e) => e.code), ["ENOTCONN"]);
  }
});

Deno.test("acceptLoop: closing ends it quietly, even during a back-off", async () => {
  const stop = new AbortController();
  const { accept, calls } = scripted([errno("EMFILE"), errno("EMFILE")]);
  const loop = acceptLoop(accept, () => {}, () => {}, stop.signal);
  await turns(5);
  stop.abort();
  await loop;
  assert.equal(calls(), 1);
  // An accept that fails because the listener was closed is not an error.
  const closing = new AbortController();
  const closed = acceptLoop(
    () => {
      closing.abort();
      return Promise.reject(errno("EBADF"));
    },
    () => {},
    () => assert.fail("reported"),
    closing.signal,
  );
  await closed;
});
