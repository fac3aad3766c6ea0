// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Our ManagerServer with CPython's BaseManager clients (3.11, 3.12, 3.13),
// and with our own client.
import assert from "node:assert/strict";
import {
  AuthenticationError,
  connectManager,
  DictProxy,
  ManagerDict,
  ManagerError,
  ManagerQueue,
  ManagerServer,
  PyException,
  QueueProxy,
  RemoteError,
} from "./mod.ts";
import { peerTest, pythons } from "../_test_utils/peers.ts";
import { Lines } from "../_test_utils/connection/python.ts";
import { randomKey, runPython } from "../_test_utils/connection/managers.ts";

const CLIENT_SCRIPT = await Deno.readTextFile(
  new URL("./testdata/manager_client.py", import.meta.url),
);

/** A custom class: its exposed methods are chosen at registration. */
class Counter {
  static readonly exposed = ["increment", "value", "fail", "reject"];
  static readonly parameters = { increment: ["by"], __init__: ["start"] };
  #n: number;
  constructor(start: unknown = 0) {
    this.#n = Number(start);
  }
  increment(by: unknown = 1): number {
    this.#n += Number(by);
    return this.#n;
  }
  value(): number {
    return this.#n;
  }
  fail(message: string): never {
    throw new Error(message);
  }
  reject(n: number): never {
    throw new PyException("ValueError", [`negative: ${n}`]);
  }
  hidden(): string {
    return "not exposed";
  }
}

function testServer(
  authkey: string,
  errors: unknown[] = [],
): ManagerServer {
  const server = new ManagerServer({ hostname: "127.0.0.1", port: 0 }, {
    authkey,
    onError: (e) => errors.push(e),
  });
  server.register("Queue", ManagerQueue)
    .register("JoinableQueue", ManagerQueue)
    .register("dict", ManagerDict)
    .register("Counter", Counter)
    .register("Tally", {
      // A plain object: its public methods are exposed, no parameter names.
      create: (args, kwargs) => {
        let n = Number(kwargs.start ?? args[0] ?? 0);
        return {
          increment: (by: unknown = 1) => (n += Number(by)),
          value: () => n,
          _private: () => "not exposed",
        };
      },
    });
  return server;
}

function spawnClient(
  path: string,
  address: unknown,
  key: string,
  scenario: string,
  ...extra: string[]
): { child: Deno.ChildProcess; lines: Lines } {
  const child = new Deno.Command(path, {
    args: [
      "-c",
      CLIENT_SCRIPT,
      JSON.stringify(address),
      key,
      scenario,
      ...extra,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return { child, lines: new Lines(child.stdout) };
}

for (const { minor, python } of pythons()) {
  const label = `CPython ${minor}`;

  peerTest(
    `manager server: CPython BaseManager clients use a Queue, a dict and a custom class (${label})`,
    python,
    `python${minor}`,
    async (py) => {
      const key = randomKey();
      await using server = testServer(key);
      const serving = server.serve();
      const lines = await runPython(py, CLIENT_SCRIPT, [
        JSON.stringify(server.address),
        key,
        "types",
      ]);
      assert.deepEqual(lines.map((l) => JSON.parse(l)), [
        { queue: "ok" },
        { dict: "ok" },
        { counter: "ok" },
        { objects: 5 },
        { objects: 0 },
      ]);
      assert.equal(server.objectCount, 0);
      await server.close();
      await serving;
    },
  );

  peerTest(
    `manager server: CPython workers consume a Deno-hosted queue, and a worker killed while blocked loses nothing (${label})`,
    python,
    `python${minor}`,
    async (py) => {
      const key = randomKey();
      await using server = testServer(key);
      server.serve();
      await using m = await connectManager(server.address, { authkey: key });
      await using jobs = await m.queue();
      await using results = await m.queue();

      // A worker blocked in get() is killed: the next item is not lost.
      const doomed = spawnClient(
        py.path,
        server.address,
        key,
        "block",
        jobs.token.id,
      );
      assert.deepEqual(await doomed.lines.json(), { blocking: true });
      doomed.child.kill("SIGKILL");
      await doomed.child.status;
      await doomed.lines.drain();

      const workers = [0, 1].map(() =>
        spawnClient(
          py.path,
          server.address,
          key,
          "worker",
          jobs.token.id,
          results.token.id,
        )
      );
      for (const w of workers) {
        assert.deepEqual(await w.lines.json(), { ready: true });
      }
      for (let id = 0; id < 20; id++) await jobs.put({ id, n: id });
      const seen = new Map<number, number>();
      for (let i = 0; i < 20; i++) {
        const r = await results.get({ timeout: 10_000 }) as {
          id: number;
          square: number;
        };
        seen.set(r.id, r.square);
      }
      assert.equal(seen.size, 20);
      for (const [id, square] of seen) assert.equal(square, id * id);
      for (const _ of workers) await jobs.put(null);
      for (const w of workers) {
        assert.deepEqual(await w.lines.json(), { done: true });
        assert.ok((await w.child.status).success);
      }
      // The killed worker never decref'ed its proxy (as with CPython's
      // server): jobs holds one reference more; results none.
      assert.match(
        server.debugInfo(),
        new RegExp(`${jobs.token.id}:\\s+refcount=2`),
      );
      assert.match(
        server.debugInfo(),
        new RegExp(`${results.token.id}:\\s+refcount=1`),
      );
    },
  );

  peerTest(
    `manager server: a wrong authkey is refused and the server keeps serving; shutdown stops it (${label})`,
    python,
    `python${minor}`,
    async (py) => {
      const key = randomKey();
      const errors: unknown[] = [];
      await using server = testServer(key, errors);
      const serving = server.serve();
      const address = JSON.stringify(server.address);
      assert.deepEqual(
        await runPython(py, CLIENT_SCRIPT, [address, key, "wrongkey"]),
        ['{"result": "AuthenticationError"}'],
      );
      assert.ok(errors.some((e) => e instanceof AuthenticationError));
      // Our client with a wrong key is refused the same way.
      await assert.rejects(
        connectManager(server.address, { authkey: "nope" }),
        AuthenticationError,
      );
      assert.deepEqual(
        await runPython(py, CLIENT_SCRIPT, [address, key, "shutdown"]),
        ['{"shutdown": "sent"}'],
      );
      await serving;
      await assert.rejects(
        connectManager(server.address, { authkey: key }),
      );
    },
  );
}

Deno.test("manager server: our client uses a Deno server's queue, dict and custom class", async () => {
  const key = randomKey();
  await using server = testServer(key);
  server.serve();
  await using m = await connectManager(server.address, { authkey: key });
  await using q = await m.queue();
  assert.ok(q instanceof QueueProxy);
  await using consumer = await q.clone();
  const waiting = consumer.get({ signal: AbortSignal.timeout(5000) });
  await q.put({ id: 1 });
  assert.deepEqual(await waiting, { id: 1 });
  await assert.rejects(
    q.get({ timeout: 20 }),
    (e) => e instanceof DOMException && e.name === "TimeoutError",
  );
  await using d = await m.dict({ a: 1 });
  assert.ok(d instanceof DictProxy);
  await d.set("b", 2);
  assert.deepEqual(await d.keys(), ["a", "b"]);
  {
    await using it = await d.iter();
    assert.deepEqual(await Array.fromAsync(it), ["a", "b"]);
    assert.equal(server.objectCount, 3);
  }
  await using c = await m.create("Counter", [5]);
  assert.equal(await c.call("increment", [], { by: 2 }), 7);
  await assert.rejects(
    c.call("fail", ["broken"]),
    (e) =>
      e instanceof RemoteError && e.kind === "#TRACEBACK" &&
      e.type === "Error" && e.args[0] === "broken",
  );
  await assert.rejects(
    c.call("reject", [3]),
    (e) =>
      e instanceof RemoteError && e.kind === "#ERROR" &&
      e.type === "ValueError",
  );
  await assert.rejects(
    c.call("hidden"),
    (e) => e instanceof ManagerError && e.code === "UNKNOWN_METHOD",
  );
  // Without parameter names, a keyword argument is a TypeError.
  await using t = await m.create("Tally", [], { start: 1 });
  assert.deepEqual([...t.exposed], ["increment", "value"]);
  assert.equal(await t.call("increment", [2]), 3);
  await assert.rejects(
    t.call("increment", [], { by: 2 }),
    (e) => e instanceof RemoteError && e.type === "TypeError",
  );
  await assert.rejects(
    m.create("Nope"),
    (e) => e instanceof ManagerError && e.code === "UNKNOWN_TYPEID",
  );
  assert.equal(server.objectCount, 4);
  await q.close();
  await consumer.close();
  assert.equal(server.objectCount, 3);
});
