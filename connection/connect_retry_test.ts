// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `connect(address, { retry })` and `connectManager(address, { retry })`
 * wait for a sidecar that starts late: a real CPython `Listener` (and a
 * CPython `SyncManager`) that starts listening only after the client's
 * first attempt failed. Only the connect step is retried: a wrong key
 * fails after one handshake (the server sees one connection). The budget
 * and the signals end the wait.
 */
import assert from "node:assert/strict";
import {
  AuthenticationError,
  connect,
  type Connection,
  connectManager,
  ManagerDisconnectedError,
  ManagerServer,
  type RetryEvent,
} from "./mod.ts";
import { findPython, peerTest, tempDir } from "../_test_utils/peers.ts";
import { spawn } from "../_test_utils/connection/python.ts";
import {
  type PythonManager,
  startPythonManager,
} from "../_test_utils/connection/managers.ts";

const PY = findPython("3.11");

/**
 * A CPython `Listener` that binds only when told to (a line on stdin),
 * prints "listening", then accepts until one client authenticates (each
 * failed handshake prints "auth-failed"), and answers that client's
 * message with the number of failed handshakes it saw.
 */
const LATE_LISTENER = `
import sys
from multiprocessing import AuthenticationError
from multiprocessing.connection import Listener
where, key = sys.argv[1], sys.argv[2].encode()
address = ("127.0.0.1", int(where)) if where.isdigit() else where
sys.stdin.readline()
with Listener(address, authkey=key) as listener:
    print("listening", flush=True)
    failures = 0
    while True:
        try:
            conn = listener.accept()
        except AuthenticationError:
            failures += 1
            print("auth-failed", flush=True)
            continue
        break
    with conn:
        conn.send({"echo": conn.recv(), "failures": failures})
`;

/** A TCP port nobody listens on (bound once, then released). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Starts {@linkcode LATE_LISTENER} (not listening yet) and returns a
 * `retry.onRetry` hook that lets it listen `delay` ms after the client's
 * first failed attempt, with what happened.
 */
function lateListener(py: NonNullable<typeof PY>, where: string, key = "k") {
  const peer = spawn(py, LATE_LISTENER, [where, key]);
  const retries: RetryEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let told: Promise<void> | undefined;
  const onRetry = (e: RetryEvent): void => {
    retries.push(e);
    if (e.attempt !== 1) return;
    // Nobody listens yet; the sidecar comes up a few hundred ms later.
    timer = setTimeout(() => {
      const w = peer.child.stdin.getWriter();
      told = w.write(new TextEncoder().encode("listen\n")).then(() =>
        w.releaseLock()
      );
    }, 300);
  };
  return {
    peer,
    retries,
    onRetry,
    /** The lines the listener printed, after its client is done. */
    async finish(): Promise<string[]> {
      clearTimeout(timer);
      await told;
      await peer.child.stdin.close().catch(() => {});
      const lines = await peer.lines.drain();
      const status = await peer.child.status;
      assert.ok(status.success, `python exited with ${status.code}`);
      return lines;
    },
    async [Symbol.asyncDispose](): Promise<void> {
      clearTimeout(timer);
      await told?.catch(() => {});
      try {
        peer.child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await peer.child.stdin.close().catch(() => {});
      await peer.lines.drain().catch(() => {});
      await peer.child.status;
    },
  };
}

async function roundTrip(conn: Connection): Promise<unknown> {
  await conn.send("ping");
  const reply = await conn.recv();
  await conn.close();
  return reply;
}

peerTest(
  "connect: retry reaches a CPython Listener that starts listening on TCP 300 ms after connect() began",
  PY,
  "python3 (CPython 3.11)",
  async (py) => {
    const port = freePort();
    const address = { hostname: "127.0.0.1", port };
    // Without retry it fails at once (what connect() did before).
    await assert.rejects(
      connect(address, { authkey: "k" }),
      Deno.errors.ConnectionRefused,
    );
    await using late = lateListener(py, String(port));
    const conn = await connect(address, {
      authkey: "k",
      retry: { timeout: 30_000, minDelay: 20, onRetry: late.onRetry },
    });
    assert.deepEqual(await roundTrip(conn), { echo: "ping", failures: 0 });
    assert.ok(late.retries.length >= 1);
    assert.ok(
      late.retries[0]!.error instanceof Deno.errors.ConnectionRefused,
      String(late.retries[0]!.error),
    );
    assert.deepEqual(await late.finish(), ["listening"]);
  },
);

peerTest(
  "connect: retry waits for a CPython Listener's Unix socket that does not exist yet",
  PY,
  "python3 (CPython 3.11)",
  async (py) => {
    await using dir = await tempDir();
    const path = `${dir.path}/late.sock`;
    await assert.rejects(
      connect(path, { authkey: "k" }),
      Deno.errors.NotFound,
    );
    await using late = lateListener(py, path);
    const conn = await connect(path, {
      authkey: "k",
      retry: { timeout: 30_000, minDelay: 20, onRetry: late.onRetry },
    });
    assert.deepEqual(await roundTrip(conn), { echo: "ping", failures: 0 });
    assert.ok(late.retries[0]!.error instanceof Deno.errors.NotFound);
    assert.deepEqual(await late.finish(), ["listening"]);
  },
);

peerTest(
  "connect: with retry, a wrong authkey fails after one handshake (the CPython Listener saw one connection)",
  PY,
  "python3 (CPython 3.11)",
  async (py) => {
    await using dir = await tempDir();
    const path = `${dir.path}/late.sock`;
    await using late = lateListener(py, path, "right");
    // The connect step is retried until the listener is up; the handshake
    // that follows fails, and that is final.
    await assert.rejects(
      connect(path, {
        authkey: "wrong",
        retry: { timeout: 30_000, minDelay: 20, onRetry: late.onRetry },
      }),
      AuthenticationError,
    );
    assert.ok(late.retries.length >= 1, "it waited for the listener");
    assert.ok(
      late.retries.every((r) => r.error instanceof Deno.errors.NotFound),
      "only the connect step was retried",
    );
    // The right key, once: the listener reports how many handshakes failed.
    const conn = await connect(path, { authkey: "right" });
    assert.deepEqual(await roundTrip(conn), { echo: "ping", failures: 1 });
    assert.deepEqual(await late.finish(), ["listening", "auth-failed"]);
  },
);

Deno.test("connect: the retry budget ends the wait with the connect error; retry.signal and signal end it with their reasons", async () => {
  const address = { hostname: "127.0.0.1", port: freePort() };
  let retries = 0;
  await assert.rejects(
    connect(address, {
      retry: { timeout: 50, minDelay: 10, onRetry: () => retries++ },
    }),
    Deno.errors.ConnectionRefused,
  );
  assert.ok(retries >= 1);
  const stop = new AbortController();
  await assert.rejects(
    connect(address, {
      retry: {
        timeout: Infinity,
        minDelay: 10,
        signal: stop.signal,
        onRetry: (e) => {
          if (e.attempt === 2) stop.abort(new Error("shutting down"));
        },
      },
    }),
    /shutting down/,
  );
  const call = new AbortController();
  await assert.rejects(
    connect(address, {
      signal: call.signal,
      retry: {
        timeout: Infinity,
        minDelay: 10,
        onRetry: (e) => {
          if (e.attempt === 3) call.abort(new Error("caller gave up"));
        },
      },
    }),
    /caller gave up/,
  );
  await assert.rejects(
    connect(address, { retry: { timeout: -1 } }),
    RangeError,
  );
});

peerTest(
  "connectManager: retry reaches a CPython SyncManager started after the first attempt, and controlTimeout counts from the connect",
  PY,
  "python3 (CPython 3.11)",
  async (py) => {
    await using dir = await tempDir();
    const path = `${dir.path}/manager.sock`;
    let started: Promise<PythonManager> | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const retries: RetryEvent[] = [];
    try {
      const manager = await connectManager(path, {
        authkey: "k",
        // The manager takes longer to come up than one control request may.
        controlTimeout: 1200,
        retry: {
          timeout: 30_000,
          minDelay: 20,
          onRetry: (e) => {
            retries.push(e);
            if (e.attempt === 1) {
              timer = setTimeout(() => {
                started = startPythonManager(py, "k", path);
              }, 1500);
            }
          },
        },
      });
      assert.ok(started !== undefined, "connected once the manager started");
      assert.ok(retries[0]!.error instanceof Deno.errors.NotFound);
      await using queue = await manager.queue();
      await queue.put({ id: 1 });
      assert.deepEqual(await queue.get({ timeout: 5_000 }), { id: 1 });
      await queue.close();
      assert.equal(await manager.numberOfObjects(), 0);
      await manager.close();
    } finally {
      clearTimeout(timer);
      const m = await started?.catch(() => undefined);
      await m?.[Symbol.asyncDispose]();
    }
  },
);

Deno.test("connectManager: with retry, a wrong authkey fails after one handshake (the server saw one connection)", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/manager.sock`;
  const failures: unknown[] = [];
  let server: ManagerServer | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let retries = 0;
  try {
    await assert.rejects(
      connectManager(path, {
        authkey: "wrong",
        retry: {
          timeout: 30_000,
          minDelay: 20,
          onRetry: (e) => {
            if (retries++ !== 0) return;
            assert.ok(e.error instanceof Deno.errors.NotFound);
            timer = setTimeout(() => {
              server = new ManagerServer(path, {
                authkey: "right",
                onError: (error) => failures.push(error),
              });
              server.serve();
            }, 300);
          },
        },
      }),
      AuthenticationError,
    );
    assert.ok(retries >= 1);
    // A client with the right key gets through; by then the server has
    // reported every failed handshake.
    const good = await connectManager(path, { authkey: "right" });
    await good.close();
    assert.equal(failures.length, 1, String(failures));
    assert.ok(failures[0] instanceof AuthenticationError);
  } finally {
    clearTimeout(timer);
    await server?.close();
  }
});

Deno.test("connectManager: the retry budget ends with ManagerDisconnectedError; the signal with its reason", async () => {
  const address = { hostname: "127.0.0.1", port: freePort() };
  const e = await connectManager(address, {
    authkey: "k",
    retry: { timeout: 50, minDelay: 10 },
  }).then(() => null, (e) => e);
  assert.ok(e instanceof ManagerDisconnectedError, String(e));
  assert.ok(e.cause instanceof Deno.errors.ConnectionRefused);
  const stop = new AbortController();
  await assert.rejects(
    connectManager(address, {
      authkey: "k",
      signal: stop.signal,
      retry: {
        timeout: Infinity,
        minDelay: 10,
        onRetry: (r) => {
          if (r.attempt === 2) stop.abort(new Error("shutting down"));
        },
      },
    }),
    /shutting down/,
  );
  await assert.rejects(
    connectManager(address, { authkey: "k", retry: { minDelay: NaN } }),
    RangeError,
  );
});
