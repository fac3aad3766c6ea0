// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The arbiter's accept loop survives any peer: clients that reset before
 * they are accepted are skipped and reported, exhausted resources back off
 * 10 ms doubling to 100 ms, only an error of the listening socket ends it,
 * with a DirtyListenerError.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { APP, test } from "../_test_utils/dirty/apps.ts";
import { RawDirtyConn } from "../_test_utils/dirty/arbiter_client.ts";
import { LogRecorder } from "../_test_utils/dirty/wait.ts";
import { acceptLoop } from "./_accept_loop.ts";
import { startArbiter } from "./arbiter.ts";
import { DirtyListenerError } from "./errors.ts";

/** Serves one byte back per connection, until the loop ends. */
function echoOnce(conn: Deno.Conn): void {
  (async () => {
    const b = new Uint8Array(1);
    if ((await conn.read(b)) === 1) await conn.write(b);
    conn.close();
  })().catch(() => conn.close());
}

async function ask(port: number): Promise<number> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await c.write(Uint8Array.of(42));
    const b = new Uint8Array(1);
    assert.equal(await c.read(b), 1);
    return b[0]!;
  } finally {
    c.close();
  }
}

test("accept loop: clients that reset (SO_LINGER 0) before accept are skipped and reported; a real client is still served", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  // They connect and reset while nobody accepts: the backlog holds them.
  for (let i = 0; i < 10; i++) {
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.resetAndDestroy();
        resolve();
      });
      s.on("error", reject);
    });
  }
  const logs = new LogRecorder();
  const stop = new AbortController();
  const loop = acceptLoop(listener, {
    what: "test",
    log: logs.log,
    onConnection: echoOnce,
    signal: stop.signal,
  });
  assert.equal(await ask(port), 42);
  assert.match(
    await logs.waitFor(/Skipped a test connection/),
    /failed before it was accepted/,
  );
  assert.ok(logs.lines.every((l) => l.level === "info"));
  stop.abort();
  listener.close();
  await loop;
});

/** A listener whose `accept()` first throws `errors`, then is `real`'s. */
function failing(
  real: Deno.TcpListener,
  errors: unknown[],
): Deno.Listener<Deno.TcpConn> {
  return {
    accept: () => {
      const e = errors.shift();
      return e === undefined ? real.accept() : Promise.reject(e);
    },
  } as Deno.Listener<Deno.TcpConn>;
}

const emfile = () =>
  Object.assign(new Error("Too many open files (os error 24)"), {
    code: "EMFILE",
  });

test("accept loop: out of fds, it backs off 10 ms doubling to 100 ms, then serves again", async () => {
  const real = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const logs = new LogRecorder();
  const stop = new AbortController();
  const loop = acceptLoop(failing(real, Array.from({ length: 6 }, emfile)), {
    what: "test",
    log: logs.log,
    onConnection: echoOnce,
    signal: stop.signal,
  });
  assert.equal(await ask(real.addr.port), 42);
  const waits = logs.lines.map((l) => /retrying in (\d+) ms/.exec(l.message));
  assert.deepEqual(waits.map((m) => Number(m?.[1])), [
    10,
    20,
    40,
    80,
    100,
    100,
  ]);
  assert.ok(logs.lines.every((l) => l.level === "warn"));
  stop.abort();
  real.close();
  await loop;
});

test("accept loop: an error of the listening socket ends it with a DirtyListenerError", async () => {
  const real = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const einval = Object.assign(new TypeError("Invalid argument"), {
      code: "EINVAL",
    });
    await assert.rejects(
      acceptLoop(failing(real, [einval]), {
        what: "test",
        log: () => {},
        onConnection: echoOnce,
        signal: new AbortController().signal,
      }),
      (e) => {
        assert.ok(e instanceof DirtyListenerError);
        assert.equal(e.code, "LISTENER_FAILED");
        assert.equal(e.cause, einval);
        assert.match(e.message, /Cannot accept test connections/);
        return true;
      },
    );
  } finally {
    real.close();
  }
});

test("accept loop: the arbiter serves a real client after many that connect and leave at once", async () => {
  const logs = new LogRecorder();
  await using arb = await startArbiter({ apps: [APP], log: logs.log });
  await arb.ready();
  await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const c = await Deno.connect({ transport: "unix", path: arb.socketPath });
      // Some leave halfway through a frame.
      if (i % 2) await c.write(Uint8Array.of(0x47, 0x44, 1));
      c.close();
    }),
  );
  await using c = await RawDirtyConn.open(arb.socketPath);
  assert.equal(await c.call(APP, "add", [1, 2]), 3);
  assert.ok(!logs.lines.some((l) => l.level === "error"));
});
