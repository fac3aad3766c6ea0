// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Our manager client against CPython's own SyncManager server, on 3.11,
// 3.12 and 3.13.
import assert from "node:assert/strict";
import {
  AuthenticationError,
  connectManager,
  DictProxy,
  IteratorProxy,
  ListProxy,
  ManagerClient,
  ManagerDisconnectedError,
  ManagerError,
  ManagerProxy,
  PyDict,
  QueueProxy,
  RemoteError,
  SyncManagerClient,
  Tuple,
} from "./mod.ts";
import { peerTest, pythons, tempDir } from "../_test_utils/peers.ts";
import {
  randomKey,
  startPythonManager,
} from "../_test_utils/connection/managers.ts";

function isTimeout(e: unknown): boolean {
  return e instanceof DOMException && e.name === "TimeoutError";
}

for (const { minor, python } of pythons()) {
  const label = `CPython ${minor}`;

  peerTest(
    `manager client: every SyncManager type works against ${label}`,
    python,
    `python${minor}`,
    async (py) => {
      const key = randomKey();
      await using server = await startPythonManager(py, key);
      await using m = await connectManager(server.address, { authkey: key });
      assert.ok(m instanceof SyncManagerClient);
      assert.equal(await m.numberOfObjects(), 0);

      await using q = await m.queue();
      assert.ok(q instanceof QueueProxy);
      await q.put({ job: 1, sizes: [64, 128], scale: 1.5 });
      await q.putNowait("second");
      assert.equal(await q.qsize(), 2);
      assert.deepEqual(await q.get(), { job: 1, sizes: [64, 128], scale: 1.5 });
      assert.equal(await q.getNowait(), "second");
      assert.ok(await q.empty());
      await assert.rejects(
        q.get({ block: false }),
        (e) => e instanceof RemoteError && e.type === "_queue.Empty",
      );

      await using bounded = await m.queue(1);
      await bounded.put(1);
      assert.ok(await bounded.full());
      await assert.rejects(bounded.put(2, { timeout: 50 }), isTimeout);
      await assert.rejects(
        bounded.put(2, { block: false }),
        (e) => e instanceof RemoteError && e.type.endsWith("Full"),
      );

      await using jq = await m.joinableQueue();
      await jq.put("task");
      await jq.get();
      await jq.taskDone();
      await jq.join({ timeout: 5000 });

      await using d = await m.dict({ a: 1 });
      assert.ok(d instanceof DictProxy);
      await d.set("b", new Tuple([1, 2]));
      await d.set(3, "int key");
      assert.equal(await d.get("a"), 1);
      assert.equal(await d.get("missing", "dflt"), "dflt");
      assert.deepEqual(await d.getItem("b"), new Tuple([1, 2]));
      assert.equal(await d.has(3), true);
      assert.equal(await d.size(), 3);
      assert.deepEqual(await d.keys(), ["a", "b", 3]);
      assert.deepEqual((await d.items())[0], new Tuple(["a", 1]));
      assert.equal(await d.setdefault("c", 0), 0);
      await d.update({ e: 5 });
      assert.equal(await d.pop("e"), 5);
      assert.equal(await d.delete("c"), true);
      assert.equal(await d.delete("c"), false);
      const copy = await d.copy();
      assert.ok(copy instanceof PyDict);
      assert.equal(copy.get(3), "int key");
      await assert.rejects(
        d.getItem("zz"),
        (e) =>
          e instanceof RemoteError && e.kind === "#ERROR" &&
          e.type === "KeyError" && e.args[0] === "zz",
      );
      assert.match(await d.repr(), /'a': 1/);

      await using l = await m.list([3, 1, 2]);
      assert.ok(l instanceof ListProxy);
      await l.append(4);
      await l.extend([5]);
      await l.sort({ reverse: true });
      assert.deepEqual(await l.getValue(), [5, 4, 3, 2, 1]);
      assert.deepEqual(await l.slice(1, 3), [4, 3]);
      assert.equal(await l.get(-1), 1);
      assert.equal(await l.pop(), 1);
      await l.insert(0, "head");
      assert.equal(await l.index("head"), 0);
      assert.equal(await l.count(5), 1);
      assert.ok(await l.includes(4));
      await l.remove("head");
      await l.set(0, 50);
      await l.delete(1);
      await l.reverse();
      assert.deepEqual(await l.getValue(), [2, 3, 50]);
      assert.equal(await l.length(), 3);

      await using ns = await m.namespace({ x: 1 });
      await ns.setattr("y", [1, 2]);
      assert.equal(await ns.getattr("x"), 1);
      assert.deepEqual(await ns.getattr("y"), [1, 2]);
      await ns.delattr("x");
      await assert.rejects(
        ns.getattr("x"),
        (e) => e instanceof RemoteError && e.type === "AttributeError",
      );

      await using v = await m.value("d", 1.5);
      await v.set(2.25);
      assert.equal(await v.get(), 2.25);

      await using arr = await m.array("i", [1, 2, 3]);
      await arr.set(0, 10);
      assert.equal(await arr.get(0), 10);
      assert.equal(await arr.length(), 3);
      assert.deepEqual(await arr.toArray(), [10, 2, 3]);
      await using darr = await m.array("d", [0.5]);
      assert.deepEqual(await darr.toArray(), [0.5]);

      for (const make of [m.lock, m.rlock, m.semaphore, m.boundedSemaphore]) {
        await using lock = await make.call(m);
        assert.equal(await lock.acquire(), true);
        await lock.release();
      }
      await using rlock = await m.rlock();
      assert.equal(await rlock.acquire(), true);
      assert.equal(await rlock.acquire({ timeout: 10 }), true); // reentrant
      await rlock.release();
      await rlock.release();

      await using ev = await m.event();
      assert.equal(await ev.isSet(), false);
      assert.equal(await ev.wait({ timeout: 20 }), false);
      await ev.set();
      assert.equal(await ev.wait(), true);
      await ev.clear();
      assert.equal(await ev.isSet(), false);

      await using cond = await m.condition();
      assert.equal(await cond.acquire(), true);
      assert.equal(await cond.wait({ timeout: 20 }), false);
      await cond.notifyAll();
      await cond.release();

      await using barrier = await m.barrier(2);
      await using other = await barrier.clone();
      const indexes = await Promise.all([barrier.wait(), other.wait()]);
      assert.deepEqual(indexes.sort(), [0, 1]);
      assert.equal(await barrier.parties(), 2);
      assert.equal(await barrier.nWaiting(), 0);
      assert.equal(await barrier.broken(), false);
      await barrier.abort();
      assert.equal(await barrier.broken(), true);
      await barrier.reset();

      assert.ok(await m.numberOfObjects() > 0);
      assert.match(await m.debugInfo(), /refcount=1/);
    },
  );

  peerTest(
    `manager client: refcounts return to zero and await using decrefs (${label})`,
    python,
    `python${minor}`,
    async (py) => {
      const key = randomKey();
      await using server = await startPythonManager(py, key);
      await using m = await connectManager(server.address, { authkey: key });
      {
        await using d = await m.dict();
        await d.set("k", 1);
        assert.equal(await m.numberOfObjects(), 1);
        assert.equal(m.liveProxies, 1);
        await using d2 = await d.clone();
        assert.match(await m.debugInfo(), /refcount=2/);
        assert.equal(await d2.get("k"), 1);
      }
      assert.equal(await m.numberOfObjects(), 0);
      assert.equal(m.liveProxies, 0);
      // Closing twice, or after the client closed, decrefs once.
      const q = await m.queue();
      await q.close();
      await q.close();
      assert.equal(await m.numberOfObjects(), 0);
      await assert.rejects(
        q.put(1),
        (e) => e instanceof ManagerError && e.code === "PROXY_CLOSED",
      );
      // The client's close() releases what is left.
      const other = await connectManager(server.address, { authkey: key });
      // Held until the client closes: a proxy dropped at once may be
      // collected, and its reference released, before the count.
      const held = [await other.list([1]), await other.event()];
      assert.equal(await m.numberOfObjects(), 2);
      await other.close();
      assert.equal(await m.numberOfObjects(), 0);
      assert.deepEqual(held.map((p) => p.closed), [true, true]);
      await assert.rejects(
        other.dict(),
        (e) => e instanceof ManagerError && e.code === "MANAGER_CLOSED",
      );
    },
  );

  peerTest(
    `manager client: blocking calls honour timeouts and aborts and lose nothing (${label})`,
    python,
    `python${minor}`,
    async (py) => {
      const key = randomKey();
      await using server = await startPythonManager(py, key);
      await using m = await connectManager(server.address, {
        authkey: key,
        pollInterval: 20,
      });
      await using q = await m.queue();
      await using producer = await q.clone();

      // A timeout: the manager waits, then Empty becomes a TimeoutError.
      await assert.rejects(q.get({ timeout: 50 }), isTimeout);
      // An aborted get rejects with the reason, and takes nothing.
      const ac = new AbortController();
      const aborted = q.get({ signal: ac.signal });
      setTimeout(() => ac.abort(new Error("stop")), 60);
      await assert.rejects(aborted, /stop/);
      await producer.put("kept");
      assert.equal(await q.get({ timeout: 2000 }), "kept");
      // An already-aborted signal rejects at once.
      await assert.rejects(
        q.get({ signal: AbortSignal.abort(new Error("early")) }),
        /early/,
      );
      // A sliced get still returns an item put while it waits.
      const waiting = q.get({ signal: AbortSignal.timeout(5000) });
      await producer.put("late");
      assert.equal(await waiting, "late");
      // With both: the timeout wins when nothing comes.
      await assert.rejects(
        q.get({ timeout: 60, signal: new AbortController().signal }),
        isTimeout,
      );

      await using lock = await m.lock();
      await using contender = await lock.clone();
      assert.equal(await lock.acquire(), true);
      assert.equal(await contender.acquire({ timeout: 30 }), false);
      const lockAbort = new AbortController();
      const blocked = contender.acquire({ signal: lockAbort.signal });
      setTimeout(() => lockAbort.abort(new Error("give up")), 50);
      await assert.rejects(blocked, /give up/);
      await lock.release();
      // The aborted acquire did not take the lock.
      assert.equal(await lock.acquire({ blocking: false }), true);
      await lock.release();

      await using ev = await m.event();
      await using setter = await ev.clone();
      const evAbort = new AbortController();
      const evWait = ev.wait({ signal: evAbort.signal });
      setTimeout(() => evAbort.abort(new Error("no event")), 50);
      await assert.rejects(evWait, /no event/);
      const evWait2 = ev.wait({ signal: AbortSignal.timeout(5000) });
      await setter.set();
      assert.equal(await evWait2, true);

      await using cond = await m.condition();
      await using notifier = await cond.clone();
      await cond.acquire();
      const notified = cond.wait({ signal: AbortSignal.timeout(5000) });
      // wait() released the lock on the manager; take it and notify.
      assert.equal(await notifier.acquire({ timeout: 5000 }), true);
      await notifier.notify();
      await notifier.release();
      assert.equal(await notified, true);
      await cond.release();

      // A generic call aborted in flight rejects at once and replaces the
      // proxy's connection: the next call works.
      await ev.clear();
      const slow = ev.call("wait", [30], {}, { timeout: 30 });
      await assert.rejects(slow, isTimeout);
      await setter.set();
      assert.equal(await ev.call("is_set"), true);
      // One still queued behind another is dropped unsent.
      await ev.clear();
      const first = ev.call("wait", [0.05]);
      const dropped = new AbortController();
      const second = ev.call("set", [], {}, { signal: dropped.signal });
      const checked = assert.rejects(second, /never sent/);
      dropped.abort(new Error("never sent"));
      assert.equal(await first, false);
      await checked;
      assert.equal(await ev.isSet(), false);
    },
  );

  peerTest(
    `manager client: proxies returned by methods and held in values become proxies (${label})`,
    python,
    `python${minor}`,
    async (py) => {
      const key = randomKey();
      await using server = await startPythonManager(py, key);
      await using m = await connectManager(server.address, { authkey: key });
      await using d = await m.dict({ a: 1, b: 2 });
      // __iter__ is a method_to_typeid method: '#PROXY' of an Iterator.
      {
        await using it = await d.iter();
        assert.ok(it instanceof IteratorProxy);
        assert.deepEqual(await Array.fromAsync(it), ["a", "b"]);
        assert.equal(await m.numberOfObjects(), 2);
      }
      assert.equal(await m.numberOfObjects(), 1);

      // A custom class whose method returns a shared list.
      await using box = await m.create("Box", [[7, 8]]);
      assert.ok(box instanceof ManagerProxy);
      {
        await using made = await box.call("make_list") as ListProxy;
        assert.ok(made instanceof ListProxy);
        assert.deepEqual(await made.getValue(), [7, 8]);
      }
      assert.deepEqual(
        await box.call("echo", [1, "x"], { k: new Tuple([2]) }),
        [[1, "x"], { k: new Tuple([2]) }],
      );

      // A proxy stored in a shared dict comes back as a RebuildProxy.
      {
        await using inner = await m.list([1, 2]);
        await using q = await m.queue();
        await d.set("inner", inner);
        await d.set("queues", [q]);
        await using back = await d.get("inner") as ListProxy;
        assert.ok(back instanceof ListProxy);
        assert.notEqual(back, inner);
        await back.append(3);
        assert.deepEqual(await inner.getValue(), [1, 2, 3]);
        const [q2] = await d.get("queues") as QueueProxy[];
        assert.ok(q2 instanceof QueueProxy);
        await q2!.put("via rebuilt");
        assert.equal(await q.get({ timeout: 2000 }), "via rebuilt");
        await q2!.close();
        await d.delete("inner");
        await d.delete("queues");
      }
      // Everything the test made is released: only d and box remain.
      assert.equal(await m.numberOfObjects(), 2);
    },
  );

  peerTest(
    `manager client: 16 concurrent proxies (${label})`,
    python,
    `python${minor}`,
    async (py) => {
      const key = randomKey();
      await using server = await startPythonManager(py, key);
      await using m = await connectManager(server.address, { authkey: key });
      await using shared = await m.dict();
      const proxies = await Promise.all(
        Array.from({ length: 16 }, () => shared.clone()),
      );
      const queues = await Promise.all(
        Array.from({ length: 16 }, () => m.queue()),
      );
      await Promise.all(proxies.map(async (p, i) => {
        for (let j = 0; j < 20; j++) await p.set(`${i}:${j}`, i * j);
      }));
      // Consumers block on 16 queues while producers feed them.
      const got = Promise.all(
        queues.map((q) => q.get({ signal: AbortSignal.timeout(10_000) })),
      );
      const producers = await Promise.all(queues.map((q) => q.clone()));
      await Promise.all(producers.map((p, i) => p.put(i)));
      assert.deepEqual(await got, Array.from({ length: 16 }, (_, i) => i));
      assert.equal(await shared.size(), 320);
      assert.equal(await m.numberOfObjects(), 17);
      await Promise.all(
        [...proxies, ...queues, ...producers].map((p) => p.close()),
      );
      assert.equal(await m.numberOfObjects(), 1);
    },
  );

  peerTest(
    `manager client: a wrong authkey is refused (${label})`,
    python,
    `python${minor}`,
    async (py) => {
      const key = randomKey();
      await using server = await startPythonManager(py, key);
      await assert.rejects(
        connectManager(server.address, { authkey: "wrong" }),
        AuthenticationError,
      );
      // The server is unharmed.
      await using m = await connectManager(server.address, { authkey: key });
      assert.equal(await m.numberOfObjects(), 0);
    },
  );

  peerTest(
    `manager client: a server killed mid-call rejects every pending call (${label})`,
    python,
    `python${minor}`,
    async (py) => {
      const key = randomKey();
      const server = await startPythonManager(py, key);
      const errors: unknown[] = [];
      const m = await connectManager(server.address, {
        authkey: key,
        onError: (e) => errors.push(e),
      });
      const q = await m.queue();
      const d = await m.dict();
      await d.set("k", 1);
      await q.qsize(); // the proxy's connection is open
      const blocked = q.get(); // waits on the manager
      const queued = q.put("behind it"); // queued behind on the same proxy
      // Creating a queue takes a round trip: the get() above is in flight.
      const other = (await m.queue()).get({
        signal: AbortSignal.timeout(30_000),
      });
      const settled = Promise.allSettled([blocked, queued, other]);
      await server.kill();
      for (const r of await settled) {
        assert.equal(r.status, "rejected");
        assert.ok(r.reason instanceof ManagerDisconnectedError);
        assert.equal(r.reason.code, "DISCONNECTED");
      }
      // New calls fail the same way; closing does not hang, and reports
      // each decref it could not send.
      await assert.rejects(d.get("k"), ManagerDisconnectedError);
      await assert.rejects(m.numberOfObjects(), ManagerDisconnectedError);
      await m.close();
      assert.equal(errors.length, 3);
      assert.ok(errors.every((e) => e instanceof ManagerDisconnectedError));
    },
  );

  peerTest(
    `manager client: over a Unix socket, through ManagerClient.create (${label})`,
    python,
    `python${minor}`,
    async (py) => {
      const key = randomKey();
      await using dir = await tempDir();
      const path = `${dir.path}/m.sock`;
      await using server = await startPythonManager(py, key, path);
      assert.equal(server.address, path);
      const m = new ManagerClient(path, { authkey: key });
      const d = await m.create("dict", [{ x: 1 }]);
      assert.ok(!(d instanceof DictProxy)); // no typed classes on the base
      assert.equal(await d.call("get", ["x"]), 1);
      await assert.rejects(
        d.call("no_such_method"),
        (e) => e instanceof ManagerError && e.code === "UNKNOWN_METHOD",
      );
      await assert.rejects(
        m.create("NoSuchType"),
        (e) => e instanceof ManagerError && e.code === "UNKNOWN_TYPEID",
      );
      await assert.rejects(
        m.create("Box", [[1]], {}, { timeout: 5000 }).then((b) =>
          b.call("fail", ["bad input"])
        ),
        (e) =>
          e instanceof RemoteError && e.type === "ValueError" &&
          e.args[0] === "bad input",
      );
      await m.close();
      const check = new ManagerClient(path, { authkey: key });
      assert.equal(await check.numberOfObjects(), 0);
      await check.close();
    },
  );
}
