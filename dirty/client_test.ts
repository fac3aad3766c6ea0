// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { waitFor } from "../_test_utils/wait.ts";
import { openFdCount, tempDir } from "../_test_utils/peers.ts";
import { startFakeDirtyServer } from "../_test_utils/dirty/fake_server.ts";
import { loadVectors } from "../_test_utils/dirty/vectors.ts";
import { fromHex } from "../_test_utils/hex.ts";
import { DirtyClient } from "./client.ts";
import {
  DirtyAppError,
  DirtyConnectionError,
  DirtyError,
  DirtyNoWorkersAvailableError,
  DirtyProtocolError,
  DirtyTimeoutError,
  DirtyWorkerError,
} from "./errors.ts";
import { decodeMessage } from "./message_decoder.ts";
import { parseFrame } from "./message.ts";
import { DirtyFloat } from "./dirty_float.ts";

const vectors = [
  ...loadVectors("dirty-vectors.json"),
  ...loadVectors("extra-vectors.json"),
];

/** Runs `fn` against a fresh fake server and checks that no fd leaked. */
async function withServer(
  fn: (
    server: ReturnType<typeof startFakeDirtyServer>,
    client: (o?: ConstructorParameters<typeof DirtyClient>[0]) => DirtyClient,
  ) => Promise<void>,
): Promise<void> {
  const before = openFdCount();
  {
    await using dir = await tempDir();
    await using server = startFakeDirtyServer(dir.path);
    const clients: DirtyClient[] = [];
    try {
      await fn(server, (o = {}) => {
        const c = new DirtyClient({
          socketPath: server.path,
          timeout: 5000,
          ...o,
        });
        clients.push(c);
        return c;
      });
    } finally {
      for (const c of clients) c.close();
    }
  }
  // Let the runtime release closed resources.
  // The runtime releases closed resources asynchronously.
  await waitFor("the fds to be released", () => openFdCount() === before);
}

Deno.test("client: execute returns results and keeps int/float/bytes/bigint apart", async () => {
  await withServer(async (server, mk) => {
    const client = mk();
    assert.equal(await client.execute("fake:App", "add", [2, 3]), 5);
    const echo = await client.execute(
      "fake:App",
      "echo",
      [1, "two", Uint8Array.of(3), 2n ** 60n, new DirtyFloat(1)],
      { k: 4.5 },
    );
    assert.deepStrictEqual(echo, {
      args: [1, "two", Uint8Array.of(3), 2n ** 60n, 1],
      kwargs: { k: 4.5 },
    });
    const exact = mk({ decode: { dict: "map", float: "tagged" } });
    const m = await exact.execute("fake:App", "echo", [new DirtyFloat(1)]);
    assert.deepStrictEqual(
      m,
      new Map<string, unknown>([["args", [new DirtyFloat(1)]], [
        "kwargs",
        new Map(),
      ]]),
    );
    // The request on the wire has the four keys in gunicorn's order.
    const req = parseFrame(server.frames[0]!);
    assert.ok(req.type === "request");
    assert.equal(req.appPath, "fake:App");
    assert.equal(req.action, "add");
  });
});

Deno.test("client: replayed gunicorn RESPONSE vectors give their decoded result", async () => {
  await withServer(async (_server, mk) => {
    const client = mk({ decode: { dict: "map", float: "tagged" } });
    const names = vectors.filter((v) =>
      v.kind === "message" && v.decoded_type === "response"
    );
    assert.ok(names.length >= 6);
    for (const v of names) {
      const expected =
        (decodeMessage(fromHex(v.hex), { float: "tagged" }).payload as Map<
          string,
          unknown
        >)
          .get("result");
      assert.deepStrictEqual(
        await client.execute("fake:App", "replay", [v.name]),
        expected,
        v.name,
      );
    }
  });
});

Deno.test("client: replayed gunicorn ERROR vectors throw the mapped class with details", async () => {
  await withServer(async (_server, mk) => {
    const client = mk();
    // deno-lint-ignore no-explicit-any
    const classes: Record<string, new (...a: any[]) => DirtyError> = {
      "error_plain_exception": DirtyError,
      "error_dict": DirtyError,
      "error_timeout": DirtyTimeoutError,
      "error_no_workers_for_app": DirtyNoWorkersAvailableError,
      "error_worker_error": DirtyWorkerError,
      "error_app": DirtyAppError,
      "error_generic": DirtyError,
    };
    for (const [name, cls] of Object.entries(classes)) {
      const err = await (() => client.execute("fake:App", "replay", [name]))()
        .then(
          () => assert.fail("expected a rejection"),
          (e: unknown) => e,
        );
      assert.ok(err instanceof cls, String(err));
      assert.equal(err.constructor, cls, name);
      const msg = parseFrame(
        decodeMessage(fromHex(vectors.find((v) => v.name === name)!.hex)),
      );
      assert.ok(msg.type === "error");
      assert.equal(err.message, msg.error.message);
      assert.equal(err.errorType, msg.error.errorType);
      assert.deepStrictEqual({ ...err.details }, { ...msg.error.details });
    }
    const t = await (() =>
      client.execute("fake:App", "replay", ["error_timeout"]))().then(
        () =>
          assert.fail("expected a rejection"),
        (e: unknown) => e,
      );
    assert.ok(t instanceof DirtyTimeoutError, String(t));
    assert.equal(t.timeout, 300);
    const w = await (() =>
      client.execute("fake:App", "replay", ["error_worker_error"]))().then(
        () =>
          assert.fail("expected a rejection"),
        (e: unknown) => e,
      );
    assert.ok(w instanceof DirtyWorkerError, String(w));
    assert.equal(w.workerId, 1234);
    const a = await (() => client.execute("fake:App", "fail", ["kaput"]))()
      .then(
        () => assert.fail("expected a rejection"),
        (e: unknown) => e,
      );
    assert.ok(a instanceof DirtyAppError, String(a));
    assert.deepStrictEqual([a.message, a.appPath, a.action], [
      "kaput",
      "fake:App",
      "fail",
    ]);
    const nw = await (() => client.execute("missing:App", "f"))().then(
      () => assert.fail("expected a rejection"),
      (e: unknown) => e,
    );
    assert.ok(nw instanceof DirtyNoWorkersAvailableError, String(nw));
    assert.equal(nw.appPath, "missing:App");
    // Server errors leave the connection usable: still one connection.
    assert.equal(await client.execute("fake:App", "add", [1]), 1);
    assert.equal(client.connections, 1);
  });
});

Deno.test("client: stream yields chunks until END, throws a mid-stream ERROR, yields a plain RESPONSE", async () => {
  await withServer(async (_server, mk) => {
    const client = mk();
    assert.deepStrictEqual(
      await Array.fromAsync(client.stream("fake:App", "stream", [3])),
      ["tok0", "tok1", "tok2"],
    );
    const got: unknown[] = [];
    await assert.rejects(async () => {
      for await (
        const c of client.stream("fake:App", "stream_fail", [2])
      ) got.push(c);
    }, (e) => e instanceof DirtyAppError && /stream broke/.test(e.message));
    assert.deepStrictEqual(got, ["tok0", "tok1"]);
    // gunicorn bug 20: a RESPONSE during stream() is not dropped here.
    assert.deepStrictEqual(
      await Array.fromAsync(client.stream("fake:App", "add", [40, 2])),
      [42],
    );
    assert.deepStrictEqual(
      await Array.fromAsync(client.stream("fake:App", "stream", [0])),
      [],
    );
    await assert.rejects(
      () => Array.fromAsync(client.stream("missing:App", "x")),
      DirtyNoWorkersAvailableError,
    );
    assert.equal(client.connections, 1);
  });
});

Deno.test("client: an abandoned stream closes its connection; the next call is not poisoned (bug 19)", async () => {
  await withServer(async (server, mk) => {
    const client = mk({ maxConnections: 1 });
    for await (const c of client.stream("fake:App", "stream_slow", [5, 30])) {
      assert.equal(c, "tok0");
      break;
    }
    assert.equal(client.connections, 0);
    assert.equal(await client.execute("fake:App", "add", [1, 1]), 2);
    assert.equal(server.accepted, 2);
    await waitFor("one open connection", () => server.open === 1);
  });
});

Deno.test("client: a stream that exceeds its timeout fails typed and closes its connection", async () => {
  await withServer(async (_server, mk) => {
    const client = mk({ maxConnections: 1 });
    const got: unknown[] = [];
    const err = await (async () => {
      for await (
        const c of client.stream("fake:App", "stream_slow", [5, 400], {}, {
          timeout: 150,
        })
      ) got.push(c);
    })().then(
      () => assert.fail("expected a rejection"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DirtyTimeoutError, String(err));
    assert.equal(err.timeout, 0.15);
    assert.deepStrictEqual(got, ["tok0"]);
    assert.equal(client.connections, 0);
    assert.equal(await client.execute("fake:App", "add", [2, 2]), 4);
  });
});

Deno.test("client: a server that never answers gives DirtyTimeoutError within the timeout", async () => {
  await withServer(async (server, mk) => {
    const client = mk({ timeout: 100 });
    await assert.rejects(
      () => client.execute("fake:App", "hang"),
      (e) =>
        e instanceof DirtyTimeoutError && /Timeout waiting/.test(e.message),
    );
    assert.equal(client.connections, 0);
    await waitFor("no open connection", () => server.open === 0);
    // Per-call timeout overrides the client's.
    assert.equal(
      await client.execute("fake:App", "sleep", [150], {}, { timeout: 2000 }),
      "slept",
    );
  });
});

Deno.test("client: timeouts of any length work; Infinity is none; negative or NaN is refused", async () => {
  await withServer(async (_server, mk) => {
    // setTimeout would cut 2^31 ms to 1 ms and fail every call at once.
    for (const timeout of [2 ** 31, 2 ** 40, Infinity]) {
      const client = mk({ timeout });
      assert.equal(await client.execute("fake:App", "sleep", [50]), "slept");
      assert.equal(
        await client.execute("fake:App", "sleep", [50], {}, { timeout }),
        "slept",
      );
      const chunks = [];
      for await (
        const c of client.stream("fake:App", "stream_slow", [2, 30], {}, {
          idleTimeout: timeout,
        })
      ) chunks.push(c);
      assert.equal(chunks.length, 2);
    }
    for (const timeout of [-1, NaN]) {
      assert.throws(() => mk({ timeout }), RangeError);
      await assert.rejects(
        mk().execute("fake:App", "add", [1], {}, { timeout }),
        RangeError,
      );
    }
  });
});

Deno.test("client: abort signals reject with their reason and close the connection", async () => {
  await withServer(async (server, mk) => {
    const client = mk();
    const reason = new Error("stop");
    await assert.rejects(() =>
      client.execute("fake:App", "add", [1], {}, {
        signal: AbortSignal.abort(reason),
      }), (e) => e instanceof Error && /stop/.test(e.message));
    assert.equal(server.accepted, 0);
    const ac = new AbortController();
    const p = client.execute("fake:App", "hang", [], {}, { signal: ac.signal });
    await waitFor("one frame", () => server.frames.length === 1);
    ac.abort(reason);
    assert.equal(await p.catch((e) => e), reason);
    assert.equal(client.connections, 0);
    await waitFor("no open connection", () => server.open === 0);
  });
});

Deno.test("client: a server closing mid-frame, without reply, or sending garbage gives typed errors", async () => {
  await withServer(async (_server, mk) => {
    const client = mk();
    await assert.rejects(
      () => client.execute("fake:App", "cut"),
      (e) =>
        e instanceof DirtyProtocolError &&
        /Incomplete payload: got 24 bytes/.test(e.message),
    );
    await assert.rejects(
      () => client.execute("fake:App", "close"),
      (e) =>
        e instanceof DirtyProtocolError && /Connection closed/.test(e.message),
    );
    await assert.rejects(
      () => client.execute("fake:App", "garbage"),
      (e) =>
        e instanceof DirtyProtocolError &&
        /Invalid magic: b'XX'/.test(e.message),
    );
    await assert.rejects(
      () => client.execute("fake:App", "wrong_id"),
      (e) =>
        e instanceof DirtyProtocolError && /does not match/.test(e.message),
    );
    await assert.rejects(
      () => client.execute("fake:App", "stream"),
      (e) =>
        e instanceof DirtyProtocolError && /use stream\(\)/.test(e.message),
    );
    assert.equal(client.connections, 0);
    // A stray frame after the answer: the result stands, the connection is dropped.
    assert.equal(await client.execute("fake:App", "extra"), 1);
    assert.equal(client.connections, 0);
    assert.equal(await client.execute("fake:App", "add", [3]), 3);
    assert.equal(client.connections, 1);
  });
});

Deno.test("client: an oversize incoming frame is refused from its header", async () => {
  await withServer(async (_server, mk) => {
    const client = mk({ maxMessageSize: 20 });
    await assert.rejects(
      () => client.execute("fake:App", "replay", ["response_float_list"]),
      (e) =>
        e instanceof DirtyProtocolError && /Message too large/.test(e.message),
    );
    assert.equal(client.connections, 0);
  });
});

Deno.test("client: concurrent calls never interleave and the pool stays bounded", async () => {
  await withServer(async (server, mk) => {
    const client = mk({ maxConnections: 3 });
    const calls = Array.from(
      { length: 30 },
      (_, i) =>
        i % 5 === 0
          ? Array.fromAsync(client.stream("fake:App", "stream", [i % 4]))
          : client.execute("fake:App", "add", [i, 1000]),
    );
    const results = await Promise.all(calls);
    results.forEach((r, i) => {
      if (i % 5 === 0) {
        assert.deepStrictEqual(
          r,
          Array.from({ length: i % 4 }, (_, k) => `tok${k}`),
        );
      } else assert.equal(r, i + 1000);
    });
    assert.ok(server.accepted <= 3, `accepted ${server.accepted}`);
    // Request ids are unique per client.
    const ids = new Set(server.frames.map((f) => f.id));
    assert.equal(ids.size, server.frames.length);
  });
});

Deno.test("client: waiting for a pooled connection respects the timeout and frees its slot", async () => {
  await withServer(async (_server, mk) => {
    const client = mk({ maxConnections: 1 });
    const slow = client.execute("fake:App", "sleep", [300]);
    await assert.rejects(
      () => client.execute("fake:App", "add", [1], {}, { timeout: 50 }),
      DirtyTimeoutError,
    );
    assert.equal(await slow, "slept");
    assert.equal(await client.execute("fake:App", "add", [1]), 1);
    assert.equal(client.connections, 1);
  });
});

Deno.test("client: status and manage", async () => {
  await withServer(async (_server, mk) => {
    const client = mk();
    const status = await client.status() as Record<string, unknown>;
    assert.equal(status.worker_count, 1);
    assert.ok(Array.isArray(status.workers));
    assert.deepStrictEqual(await client.manage({ add: 2 }), {
      success: true,
      operation: "add",
      requested: 2,
      spawned: 2,
      total_workers: 3,
      target_workers: 3,
    });
    const removed = await client.manage({ remove: 1 }) as Record<
      string,
      unknown
    >;
    assert.equal(removed.operation, "remove");
    await assert.rejects(() => client.manage({ add: 0 }), RangeError);
  });
});

Deno.test("client: connection errors and the GUNICORN_DIRTY_SOCKET default", async () => {
  const before = openFdCount();
  await using dir = await tempDir();
  const client = new DirtyClient({ socketPath: `${dir.path}/nope.sock` });
  const err = await (() => client.execute("m:C", "f"))().then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DirtyConnectionError, String(err));
  assert.match(err.message, /Failed to connect/);
  assert.equal(err.socketPath, `${dir.path}/nope.sock`);
  client.close();
  await assert.rejects(
    () => client.execute("m:C", "f"),
    (e) =>
      e instanceof DirtyConnectionError && /client is closed/.test(e.message),
  );
  const old = Deno.env.get("GUNICORN_DIRTY_SOCKET");
  try {
    Deno.env.set("GUNICORN_DIRTY_SOCKET", "/tmp/from-env.sock");
    assert.equal(new DirtyClient().socketPath, "/tmp/from-env.sock");
    Deno.env.delete("GUNICORN_DIRTY_SOCKET");
    assert.throws(() => new DirtyClient(), DirtyConnectionError);
    assert.throws(
      () => new DirtyClient({ socketPath: "/x.sock", maxConnections: NaN }),
      RangeError,
    );
  } finally {
    if (old === undefined) Deno.env.delete("GUNICORN_DIRTY_SOCKET");
    else Deno.env.set("GUNICORN_DIRTY_SOCKET", old);
  }
  assert.equal(openFdCount(), before);
});

Deno.test("client: request ids are uint64 bigints from a per-client counter", () => {
  const c = new DirtyClient({ socketPath: "/tmp/x.sock" });
  const a = c.nextRequestId();
  const b = c.nextRequestId();
  assert.equal(typeof a, "bigint");
  assert.ok(a >= 0n && a < 2n ** 64n);
  assert.equal(b, (a + 1n) % 2n ** 64n);
});

Deno.test("client: a value that cannot be encoded fails before any connection is used", async () => {
  await withServer(async (server, mk) => {
    const client = mk();
    await assert.rejects(
      () => client.execute("fake:App", "echo", [new Set([1]) as never]),
      (e) =>
        e instanceof DirtyProtocolError &&
        /Unsupported type for TLV encoding: Set/.test(e.message),
    );
    await assert.rejects(
      () => Array.fromAsync(client.stream("fake:App", "echo", [2n ** 64n])),
      (e) =>
        e instanceof DirtyProtocolError &&
        /int too large to convert/.test(e.message),
    );
    assert.equal(server.accepted, 0);
    assert.equal(await client.execute("fake:App", "add", [1]), 1);
  });
});

Deno.test("client: a stream's idle timeout counts only the wait for the next frame", async () => {
  await withServer(async (_server, mk) => {
    const client = mk();
    const got: unknown[] = [];
    const err = await (async () => {
      for await (
        const c of client.stream("fake:App", "stream_slow", [3, 400], {}, {
          idleTimeout: 100,
        })
      ) got.push(c);
    })().then(
      () => assert.fail("expected a rejection"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DirtyTimeoutError, String(err));
    assert.match(err.message, /Timeout waiting for next chunk \(idle 0\.1s\)/);
    assert.equal(err.timeout, 0.1);
    assert.deepStrictEqual(got, ["tok0"]);
    assert.equal(client.connections, 0);
    // A slow consumer is not idle time.
    const slow: unknown[] = [];
    for await (
      const c of client.stream("fake:App", "stream", [3], {}, {
        idleTimeout: 100,
      })
    ) {
      slow.push(c);
      await new Promise((r) => setTimeout(r, 150));
    }
    assert.deepStrictEqual(slow, ["tok0", "tok1", "tok2"]);
  });
});
