// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Bad input on both sides: a fake manager that sends replies of every
// wrong kind to our client, and raw requests of every wrong kind to our
// server. Each gets a typed error and loses nothing.
import assert from "node:assert/strict";
import {
  connect,
  type Connection,
  dumps,
  Listener,
  loads,
  ManagerClient,
  ManagerDisconnectedError,
  ManagerError,
  ManagerProtocolError,
  ManagerProxy,
  ManagerQueue,
  ManagerServer,
  type ProxyContext,
  PyGlobal,
  PyReduce,
  RemoteError,
  SyncManagerClient,
  Token,
  Tuple,
} from "./mod.ts";
import { randomKey } from "../_test_utils/connection/managers.ts";
import { managerLoadsOptions } from "./_manager_protocol.ts";

type Reply = Uint8Array | "close" | "die" | "hold";

/**
 * A fake manager: answers `create` with an object "1", `accept_connection`
 * with None, `incref`/`decref` with None, and each method call with what
 * `answer(method, args)` returns.
 */
function fakeManager(
  key: string,
  answer: (method: string, args: unknown[]) => Reply,
): {
  listener: Listener;
  requests: string[];
  done: Promise<void>;
} {
  const listener = new Listener({ hostname: "127.0.0.1", port: 0 }, {
    authkey: key,
  });
  const requests: string[] = [];
  const open = new Set<Connection>();
  const serve = async (conn: Connection): Promise<void> => {
    open.add(conn);
    try {
      const [, method] = (loads(await conn.recvBytes()) as Tuple).items;
      requests.push(method as string);
      if (method === "create") {
        await conn.send(
          new Tuple([
            "#RETURN",
            new Tuple(["1", ["m", "n", "big", "die", "cut"]]),
          ]),
        );
        return;
      }
      await conn.send(new Tuple(["#RETURN", null]));
      if (method !== "accept_connection") return;
      for (;;) {
        const [, m, a] = (loads(await conn.recvBytes()) as Tuple).items;
        requests.push(m as string);
        const reply = answer(m as string, [...(a as Tuple).items]);
        if (reply === "close") return;
        if (reply === "hold") {
          await conn.recvBytes().catch(() => {}); // until the end
          return;
        }
        if (reply === "die") {
          listener.close(); // no new connections either
          for (const c of open) c.close().catch(() => {});
          return;
        }
        await conn.sendBytes(reply);
      }
    } catch {
      // The client went away.
    } finally {
      open.delete(conn);
      await conn.close().catch(() => {});
    }
  };
  const done = (async () => {
    const tasks: Promise<void>[] = [];
    for await (const conn of listener) tasks.push(serve(conn));
    await Promise.all(tasks);
  })();
  return { listener, requests, done };
}

const ok = (value: unknown): Uint8Array => dumps(new Tuple(["#RETURN", value]));

Deno.test("manager client: replies of the wrong shape are typed errors and the proxy stays usable", async () => {
  const key = randomKey();
  const bad: Record<string, Uint8Array> = {
    notTuple: dumps(42),
    threeTuple: dumps(new Tuple(["#RETURN", 1, 2])),
    unknownKind: dumps(new Tuple(["#WHAT", 1])),
    tracebackNotStr: dumps(new Tuple(["#TRACEBACK", 5])),
    errorNotException: dumps(new Tuple(["#ERROR", "text"])),
    proxyBadShape: dumps(new Tuple(["#PROXY", new Tuple([1])])),
    notPickle: new Uint8Array([0xff, 0xfe, 0x00]),
    evil: new TextEncoder().encode(
      "(V#RETURN\ncposix\nsystem\n(Vtouch /tmp/pwned-by-manager-client\ntRt.",
    ),
  };
  const fake = fakeManager(
    key,
    (method, args) =>
      method === "m" ? bad[args[0] as string]! : ok(`n(${args[0]})`),
  );
  const m = new ManagerClient(fake.listener.address, { authkey: key });
  const p = await m.create("T");
  for (const name of Object.keys(bad)) {
    await assert.rejects(
      p.call("m", [name]),
      (e) => e instanceof ManagerProtocolError && e.code === "BAD_REPLY",
      name,
    );
    // The stream is still in step: the next reply is the right one.
    assert.equal(await p.call("n", [name]), `n(${name})`);
  }
  assert.throws(() => Deno.statSync("/tmp/pwned-by-manager-client"));
  await m.close();
  fake.listener.close();
  await fake.done;
});

Deno.test("manager client: a reply holding more proxies than maxProxiesPerReply is refused unopened", async () => {
  const key = randomKey();
  const many = (n: number): Uint8Array => {
    const { port } = fake.listener.address as { port: number };
    // n distinct RebuildProxy calls (one object n times would be one).
    return ok(Array.from({ length: n }, () =>
      new PyReduce(
        new PyGlobal("multiprocessing.managers", "RebuildProxy"),
        new Tuple([
          new PyGlobal("multiprocessing.managers", "AutoProxy"),
          new Token("T", { hostname: "127.0.0.1", port }, "1"),
          "pickle",
          { exposed: new Tuple(["m"]) },
        ]),
      )));
  };
  const fake = fakeManager(
    key,
    (method, args) => method === "m" ? many(args[0] as number) : ok(method),
  );
  const m = new ManagerClient(fake.listener.address, {
    authkey: key,
    maxProxiesPerReply: 3,
  });
  const p = await m.create("T");
  await p.call("n"); // opens the proxy's connection
  const before = fake.requests.length;
  await assert.rejects(
    p.call("m", [4]),
    (e) =>
      e instanceof ManagerProtocolError &&
      /more than 3 proxies/.test(
        String((e.cause as Error)?.cause ?? e.message),
      ),
  );
  assert.equal(fake.requests.length, before + 1); // no incref was sent
  const three = await p.call("m", [3]) as ManagerProxy[];
  assert.equal(three.length, 3);
  assert.deepEqual(fake.requests.slice(before + 1), [
    "m",
    "incref",
    "incref",
    "incref",
  ]);
  await m.close();
  fake.listener.close();
  await fake.done;
});

Deno.test("manager client: a server that dies mid-call rejects every pending call", async () => {
  const key = randomKey();
  const fake = fakeManager(
    key,
    (method) => method === "die" ? "die" : method === "m" ? "hold" : ok(method),
  );
  const m = new ManagerClient(fake.listener.address, { authkey: key });
  const p = await m.create("T");
  const q = await m.create("T");
  assert.equal(await q.call("n"), "n");
  const held = q.call("m"); // pending on the fake when it dies
  const calls = [held, p.call("die"), p.call("n"), p.call("m")];
  for (const r of await Promise.allSettled(calls)) {
    assert.equal(r.status, "rejected");
    assert.ok(r.reason instanceof ManagerDisconnectedError, String(r.reason));
    assert.equal(r.reason.code, "DISCONNECTED");
  }
  await m.close(); // decrefs fail (reported to onError), close resolves
  await fake.done;
});

Deno.test("manager client: a connection closed mid-call fails that call; the next opens a new one", async () => {
  const key = randomKey();
  const fake = fakeManager(
    key,
    (method) => method === "cut" ? "close" : ok(method),
  );
  const m = new ManagerClient(fake.listener.address, { authkey: key });
  const p = await m.create("T");
  await assert.rejects(p.call("cut"), ManagerDisconnectedError);
  assert.equal(await p.call("n"), "n");
  // A call queued behind the failed one was not sent: it goes on the new
  // connection.
  const [cut, next] = await Promise.allSettled([p.call("cut"), p.call("m")]);
  assert.ok(
    cut.status === "rejected" && cut.reason instanceof ManagerDisconnectedError,
  );
  assert.deepEqual(next, { status: "fulfilled", value: "m" });
  await m.close();
  fake.listener.close();
  await fake.done;
});

Deno.test("manager client: unpicklable arguments, unknown methods and closed proxies send nothing", async () => {
  const key = randomKey();
  const fake = fakeManager(key, (method) => ok(method));
  const m = new ManagerClient(fake.listener.address, { authkey: key });
  const p = await m.create("T");
  const before = fake.requests.length;
  for (const arg of [() => {}, Symbol("s"), undefined, new (class X {})()]) {
    await assert.rejects(
      p.call("m", [arg]),
      (e) => e instanceof ManagerError && e.code === "UNPICKLABLE",
    );
  }
  await assert.rejects(
    p.call("secret"),
    (e) => e instanceof ManagerError && e.code === "UNKNOWN_METHOD",
  );
  assert.equal(fake.requests.length, before);
  await p.close();
  await assert.rejects(
    p.call("m"),
    (e) => e instanceof ManagerError && e.code === "PROXY_CLOSED",
  );
  assert.deepEqual(fake.requests.slice(before), ["decref"]);
  await m.close();
  await assert.rejects(
    m.create("T"),
    (e) => e instanceof ManagerError && e.code === "MANAGER_CLOSED",
  );
  fake.listener.close();
  await fake.done;
});

Deno.test("manager client: a reply over maxMessageSize fails the call, not the client", async () => {
  const key = randomKey();
  const fake = fakeManager(
    key,
    (method) => method === "big" ? ok("x".repeat(5000)) : ok(method),
  );
  const m = new ManagerClient(fake.listener.address, {
    authkey: key,
    maxMessageSize: 1024,
  });
  const p = await m.create("T");
  await assert.rejects(p.call("big"), ManagerDisconnectedError);
  assert.equal(await p.call("n"), "n");
  await m.close();
  fake.listener.close();
  await fake.done;
});

Deno.test("manager client: options and authkey are checked", () => {
  const opts = { authkey: "k" };
  assert.throws(
    () => new ManagerClient({ port: 1 }, {} as typeof opts),
    TypeError,
  );
  assert.throws(
    () => new ManagerClient({ port: 1 }, { ...opts, pollInterval: 0 }),
    RangeError,
  );
  assert.throws(
    () => new ManagerClient({ port: 1 }, { ...opts, controlTimeout: -1 }),
    RangeError,
  );
  assert.throws(
    () =>
      new SyncManagerClient({ port: 1 }, { ...opts, maxPendingHandshakes: 0 }),
    RangeError,
  );
});

const READ = managerLoadsOptions({}, undefined);

/** Sends one raw request to a manager server; returns the decoded reply. */
async function raw(
  address: ManagerServer["address"],
  key: string,
  ...messages: Uint8Array[]
): Promise<Tuple[]> {
  await using conn = await connect(address, { authkey: key });
  const replies: Tuple[] = [];
  for (const m of messages) {
    await conn.sendBytes(m);
    replies.push(loads(await conn.recvBytes(), READ) as Tuple);
  }
  return replies;
}

Deno.test("manager server: bad requests get #TRACEBACK replies and the server keeps serving", async () => {
  const key = randomKey();
  const errors: unknown[] = [];
  await using server = new ManagerServer({ hostname: "127.0.0.1", port: 0 }, {
    authkey: key,
    onError: (e) => errors.push(e),
  });
  server.register("Queue", ManagerQueue);
  server.serve();
  const req = (id: string | null, m: string, args: unknown[] = [], kw = {}) =>
    dumps(new Tuple([id, m, new Tuple(args), kw]));
  const expectTraceback = (r: Tuple, last: RegExp) => {
    assert.equal(r.items[0], "#TRACEBACK");
    assert.match(String(r.items[1]), last);
  };
  // First requests (the server's own functions).
  expectTraceback(
    (await raw(server.address, key, new Uint8Array([1, 2, 3])))[0]!,
    /UnpicklingError/,
  );
  expectTraceback(
    (await raw(server.address, key, dumps(new Tuple([1, 2]))))[0]!,
    /ManagerProtocolError: Cannot read request/,
  );
  expectTraceback(
    (await raw(server.address, key, req(null, "exec")))[0]!,
    /AssertionError: 'exec' unrecognized/,
  );
  expectTraceback(
    (await raw(server.address, key, req(null, "decref", ["nope"])))[0]!,
    /KeyError: 'nope'/,
  );
  expectTraceback(
    (await raw(server.address, key, req(null, "create", ["Nope"])))[0]!,
    /KeyError: 'Nope'/,
  );
  const evil = new TextEncoder().encode(
    "(Ncposix\nsystem\n(Vtouch /tmp/pwned-by-manager-server\ntRV\n(t(dt.",
  );
  expectTraceback(
    (await raw(server.address, key, evil))[0]!,
    /posix\.system' is not allowed/,
  );
  assert.throws(() => Deno.statSync("/tmp/pwned-by-manager-server"));

  // Calls on a proxy connection.
  const [created] = await raw(
    server.address,
    key,
    req(null, "create", ["Queue"]),
  );
  const id = (created!.items[1] as Tuple).items[0] as string;
  const replies = await raw(
    server.address,
    key,
    req(null, "accept_connection", ["raw"]),
    req("no such id", "get"),
    req(id, "no_such_method"),
    req(id, "put", [], { colour: "red" }),
    new Uint8Array([0x80, 4, 0x95]),
    req(id, "qsize"),
  );
  assert.deepEqual(replies[0], new Tuple(["#RETURN", null]));
  expectTraceback(replies[1]!, /KeyError: 'no such id'/);
  expectTraceback(replies[2]!, /AttributeError: method 'no_such_method'/);
  assert.equal(replies[3]!.items[0], "#ERROR");
  expectTraceback(replies[4]!, /UnpicklingError/);
  assert.deepEqual(replies[5], new Tuple(["#RETURN", 0]));
  assert.ok(errors.length >= 3);
  assert.equal(server.objectCount, 1);
});

Deno.test("manager server: an oversized request drops that connection only", async () => {
  const key = randomKey();
  await using server = new ManagerServer({ hostname: "127.0.0.1", port: 0 }, {
    authkey: key,
    maxMessageSize: 1024,
  });
  server.serve();
  await using conn = await connect(server.address, { authkey: key });
  await conn.sendBytes(
    dumps(new Tuple([null, "dummy", new Tuple(["x".repeat(4096)]), {}])),
  );
  await assert.rejects(conn.recvBytes());
  // A silent connection does not hold up the others either.
  await using silent = await connect(server.address, { authkey: key });
  const [r] = await raw(
    server.address,
    key,
    dumps(new Tuple([null, "number_of_objects", new Tuple([]), {}])),
  );
  assert.deepEqual(r, new Tuple(["#RETURN", 0]));
  assert.equal(silent.closed, false);
});

Deno.test("manager server: a TypeScript error reaches the caller as a traceback with its message", async () => {
  const key = randomKey();
  await using server = new ManagerServer({ hostname: "127.0.0.1", port: 0 }, {
    authkey: key,
  });
  server.register("Thing", {
    create: () => ({
      boom() {
        throw new RangeError("out of range: 7");
      },
      unpicklable: () => Symbol("s"),
    }),
  });
  server.serve();
  await using m = new ManagerClient(server.address, { authkey: key });
  const t = await m.create("Thing");
  await assert.rejects(
    t.call("boom"),
    (e) =>
      e instanceof RemoteError && e.kind === "#TRACEBACK" &&
      e.type === "RangeError" && e.args[0] === "out of range: 7" &&
      /Traceback/.test(e.traceback ?? ""),
  );
  await assert.rejects(
    t.call("unpicklable"),
    (e) => e instanceof RemoteError && e.kind === "#UNSERIALIZABLE",
  );
  assert.deepEqual([...t.exposed].sort(), ["boom", "unpicklable"]);
});

Deno.test("manager client: a proxy class of one's own, for a typeid of one's own", async () => {
  const key = randomKey();
  const fake = fakeManager(key, (method, args) => ok([method, ...args]));
  class TProxy extends ManagerProxy {
    static override readonly pythonClass: string | undefined = undefined;
    constructor(token: Token, exposed: readonly string[], ctx: ProxyContext) {
      super(token, exposed, ctx);
    }
    twice(x: number): Promise<unknown> {
      return this.call("m", [x * 2]);
    }
  }
  const m = new ManagerClient(fake.listener.address, {
    authkey: key,
    proxies: { T: TProxy },
  });
  const p = await m.create<TProxy>("T");
  assert.ok(p instanceof TProxy);
  assert.deepEqual(await p.twice(21), ["m", 42]);
  await m.close();
  fake.listener.close();
  await fake.done;
});
