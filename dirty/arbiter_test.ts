// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { APP, ECHO, quiet, test } from "../_test_utils/dirty/apps.ts";
import { startArbiter } from "./arbiter.ts";
import {
  DirtyAppError,
  DirtyError,
  DirtyNoWorkersAvailableError,
  DirtyWorkerError,
} from "./errors.ts";
import {
  encodeFrame,
  encodeRequest,
  encodeStatus,
} from "./message_encoders.ts";
import { ManageOp, StashOp } from "./message.ts";
import { DirtyFloat } from "./dirty_float.ts";
import { RawDirtyConn } from "../_test_utils/dirty/arbiter_client.ts";
import { waitFor } from "../_test_utils/wait.ts";

const LIMITED = `${ECHO}:LimitedApp`;
const COUNTER = `${ECHO}:CounterApp`;

test("arbiter: unary calls, kwargs, streams and app errors", async () => {
  {
    await using arb = await startArbiter({
      apps: [APP],
      workers: 1,
      timeout: 20_000,
      log: quiet,
    });
    await using c = await RawDirtyConn.open(arb.socketPath);
    assert.equal(await c.call(APP, "add", [2, 3]), 5);
    assert.deepEqual(
      await c.call(APP, "echo", [1, "two", Uint8Array.of(3), null, 1.5]),
      [1, "two", Uint8Array.of(3), null, 1.5],
    );
    assert.equal(await c.call(APP, "kw", [2], { scale: 5 }), 10);
    assert.deepEqual(await c.stream(APP, "stream", [3]), [
      "tok0",
      "tok1",
      "tok2",
    ]);
    assert.deepEqual(await c.stream(APP, "astream", [2]), [{ i: 0 }, {
      i: 1,
    }]);
    assert.deepEqual(await c.stream(APP, "stream", [0]), []);
    // Results and chunks past the write queue's copy limit, one after the
    // other (the worker encodes each in a reused buffer): each arrives
    // whole and as itself.
    const large = ["a", "b", "c", "d"].map((ch) => ch.repeat(40_000));
    assert.deepEqual(await c.call(APP, "echo", large), large);
    assert.deepEqual(
      await c.stream(APP, "each", [[large[0]!, large[1]!, "small", large[2]!]]),
      [large[0], large[1], "small", large[2]],
    );

    await assert.rejects(c.call(APP, "fail", ["kaput"]), (e) => {
      assert.ok(e instanceof DirtyAppError);
      assert.equal(e.message, "kaput");
      assert.equal(e.appPath, APP);
      assert.equal(e.action, "fail");
      assert.match(e.traceback ?? "", /kaput/);
      return true;
    });
    for (const name of ["_secret", "nope", "init", "close", "toString"]) {
      await assert.rejects(
        c.call(APP, name),
        (e) =>
          e instanceof DirtyAppError && e.message === `Unknown action: ${name}`,
      );
    }
    await assert.rejects(
      c.call(APP, "unsupported"),
      (e) =>
        e instanceof DirtyAppError &&
        /Unsupported type for TLV encoding/.test(e.message),
    );
    await assert.rejects(
      c.call(`${ECHO}:Missing`, "x"),
      (e) =>
        e instanceof DirtyNoWorkersAvailableError &&
        e.message === `No workers available for app: ${ECHO}:Missing`,
    );
    // Mid-stream error: chunks already sent, then ERROR with a traceback.
    const id = c.id();
    await c.write(encodeRequest(id, APP, "streamFail", [2]));
    const frames = [await c.next(), await c.next(), await c.next()];
    assert.deepEqual(frames.map((f) => f.type), ["chunk", "chunk", "error"]);
    assert.ok(frames.every((f) => f.id === id));
    // A client-sent RESPONSE is answered like gunicorn's worker does.
    await c.write(encodeFrame("response", 77n, { result: 1 }));
    const r = await c.next();
    assert.equal(r.type, "error");
    assert.equal(r.id, 77n);
    // Ids are echoed as sent, full uint64 range.
    await c.write(encodeRequest(0xffff_ffff_ffff_fffen, APP, "add", [1, 1]));
    const big = await c.next();
    assert.equal(big.id, 0xffff_ffff_ffff_fffen);
    assert.equal(big.type, "response");
  }
});

test("arbiter: no fd is left open after close()", async () => {
  // In a process of its own: --parallel test files share this one's fds.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./testdata/arbiter_fd_probe.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const [before, after] = new TextDecoder().decode(out.stdout).trim().split(" ")
    .map(Number);
  assert.ok(before! > 0);
  assert.equal(after, before);
});

test("arbiter: pipelined requests are answered in order", async () => {
  await using arb = await startArbiter({
    apps: [APP],
    workers: 2,
    concurrency: 4,
    log: quiet,
  });
  await using c = await RawDirtyConn.open(arb.socketPath);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 20; i++) {
    // Slow ones first: in-order serving must still hold.
    parts.push(encodeRequest(BigInt(i + 1), APP, "sleep", [i < 3 ? 30 : 0]));
  }
  parts.push(encodeStatus(100n));
  await c.write(new Uint8Array(parts.flatMap((p) => [...p])));
  for (let i = 0; i < 20; i++) {
    const f = await c.next();
    assert.equal(f.type, "response");
    assert.equal(f.id, BigInt(i + 1));
  }
  const s = await c.next();
  assert.equal(s.id, 100n);
});

test("arbiter: malformed input closes the connection without a reply", async () => {
  await using arb = await startArbiter({ apps: [APP], log: quiet });
  const bad = [
    // Bad magic.
    Uint8Array.from([0x58, 0x58, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    // Unknown type.
    Uint8Array.from([0x47, 0x44, 1, 0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    // Unknown TLV tag in the payload.
    Uint8Array.from([
      0x47,
      0x44,
      1,
      1,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      1,
      0xff,
    ]),
    // Request whose payload is not a dict.
    encodeFrame("request", 1n, 5),
  ];
  for (const bytes of bad) {
    await using c = await RawDirtyConn.open(arb.socketPath);
    await c.write(bytes);
    assert.equal(await c.read(), null);
  }
  // The arbiter is still fine.
  await using ok = await RawDirtyConn.open(arb.socketPath);
  assert.equal(await ok.call(APP, "add", [1, 2]), 3);
  // As gunicorn reads a frame and handles it completely before it reads
  // the next, the frames before a malformed one are answered first, in
  // the same write or not, a request still running included.
  const badMagic = bad[0]!;
  for (const split of [false, true]) {
    await using c = await RawDirtyConn.open(arb.socketPath);
    const first = [encodeStatus(7n), encodeRequest(8n, APP, "sleep", [200])];
    if (split) {
      for (const f of first) await c.write(f);
      await c.write(badMagic);
    } else {
      await c.write(new Uint8Array([...first[0]!, ...first[1]!, ...badMagic]));
    }
    const status = await c.next();
    assert.equal(status.id, 7n);
    assert.equal(status.type, "response");
    const slept = await c.next();
    assert.equal(slept.id, 8n);
    assert.equal(slept.type, "response");
    assert.equal(await c.read(), null);
  }
});

test("arbiter: close() while a client's last request before a malformed frame runs answers it, then ends", async () => {
  const arb = await startArbiter({ apps: [APP], workers: 1, log: quiet });
  await arb.ready();
  await using c = await RawDirtyConn.open(arb.socketPath);
  await c.write(
    new Uint8Array([
      ...encodeRequest(8n, APP, "sleep", [300]),
      ...Uint8Array.from([
        0x58,
        0x58,
        1,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        1,
      ]),
    ]),
  );
  // The session now waits for the request to end; close() waits for the
  // session too. Both waits end.
  await new Promise((r) => setTimeout(r, 100));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const closed = await Promise.race([
    arb.close().then(() => "closed"),
    new Promise<string>((r) => (timer = setTimeout(() => r("hung"), 10_000))),
  ]);
  clearTimeout(timer);
  assert.equal(closed, "closed");
  const f = await c.next();
  assert.equal(f.id, 8n);
  assert.equal(f.type, "response");
  assert.equal(await c.read(), null);
});

test("arbiter: stash, all ten operations", async () => {
  await using arb = await startArbiter({ apps: [APP], log: quiet });
  await using c = await RawDirtyConn.open(arb.socketPath);
  const T = "sessions";
  assert.equal(
    await c.stash(StashOp.PUT, T, { key: "user:1", value: { n: "a" } }),
    true,
  );
  assert.equal(
    await c.stash(StashOp.PUT, T, { key: "user:2", value: [1, 2] }),
    true,
  );
  assert.equal(
    await c.stash(StashOp.PUT, T, { key: "admin:1", value: "x" }),
    true,
  );
  assert.equal(
    await c.stash(StashOp.PUT, T, { key: 7, value: new DirtyFloat(1) }),
    true,
  );
  assert.deepEqual(await c.stash(StashOp.GET, T, { key: "user:1" }), {
    n: "a",
  });
  assert.equal(await c.stash(StashOp.GET, T, { key: 7 }), 1);
  // A stored dict with an "error" key is a value like any other.
  await c.stash(StashOp.PUT, T, { key: "e", value: { error: "oops" } });
  assert.deepEqual(await c.stash(StashOp.GET, T, { key: "e" }), {
    error: "oops",
  });
  await assert.rejects(c.stash(StashOp.GET, T, { key: "nope" }), (e) => {
    assert.ok(e instanceof DirtyError);
    assert.equal(e.errorType, "StashKeyNotFoundError");
    assert.equal(e.message, "Key not found: nope");
    return true;
  });
  assert.deepEqual(await c.stash(StashOp.KEYS, T, { pattern: "user:*" }), [
    "user:1",
    "user:2",
  ]);
  assert.deepEqual(await c.stash(StashOp.KEYS, T, { pattern: "[!u]*" }), [
    "admin:1",
    7,
    "e",
  ]);
  assert.deepEqual(await c.stash(StashOp.KEYS, "missing"), []);
  assert.deepEqual(await c.stash(StashOp.INFO, T), { size: 5, table: T });
  await assert.rejects(
    c.stash(StashOp.INFO, "missing"),
    (e) =>
      e instanceof DirtyError && e.errorType === "StashTableNotFoundError" &&
      e.message === "Table not found: missing",
  );
  assert.equal(await c.stash(StashOp.EXISTS, T), true);
  assert.equal(await c.stash(StashOp.EXISTS, T, { key: "user:2" }), true);
  assert.equal(await c.stash(StashOp.EXISTS, T, { key: "zz" }), false);
  assert.equal(await c.stash(StashOp.EXISTS, "missing"), false);
  assert.equal(await c.stash(StashOp.DELETE, T, { key: "user:2" }), true);
  assert.equal(await c.stash(StashOp.DELETE, T, { key: "user:2" }), false);
  assert.equal(await c.stash(StashOp.ENSURE, "cache"), true);
  assert.deepEqual(await c.stash(StashOp.TABLES, ""), [T, "cache"]);
  assert.equal(await c.stash(StashOp.CLEAR, T), true);
  assert.deepEqual(await c.stash(StashOp.INFO, T), { size: 0, table: T });
  assert.equal(await c.stash(StashOp.DELETE_TABLE, T), true);
  assert.equal(await c.stash(StashOp.DELETE_TABLE, T), false);
  assert.deepEqual(await c.stash(StashOp.TABLES, ""), ["cache"]);
  await assert.rejects(
    c.stash(99, T),
    (e) =>
      e instanceof DirtyError && e.message === "Unknown stash operation: 99",
  );
  await assert.rejects(
    c.stash(StashOp.PUT, T, { key: [1], value: 1 }),
    (e) => e instanceof DirtyError && e.message === "unhashable type: 'list'",
  );
});

test("arbiter: status, per-app limits, round-robin over booted workers", async () => {
  await using arb = await startArbiter({
    apps: [APP, LIMITED, `${COUNTER}:1`],
    workers: 3,
    timeout: 10_000,
    log: quiet,
  });
  await arb.ready();
  await using c = await RawDirtyConn.open(arb.socketPath);
  const s = await c.status();
  assert.equal(s.arbiter_pid, Deno.pid);
  assert.equal(s.worker_count, 3);
  assert.deepEqual(s.apps, [APP, LIMITED, COUNTER]);
  const workers = s.workers as Record<string, unknown>[];
  assert.deepEqual(workers.map((w) => w.age), [1, 2, 3]);
  assert.deepEqual(workers[0]!.apps, [APP, LIMITED, COUNTER]);
  assert.deepEqual(workers[1]!.apps, [APP]);
  for (const w of workers) {
    assert.equal(w.booted, true);
    const hb = w.last_heartbeat as number;
    assert.ok(hb >= 0 && hb < 10, `heartbeat age ${hb}`);
  }
  // Round-robin over the three holders of APP.
  const pids = new Set<unknown>();
  for (let i = 0; i < 6; i++) pids.add(await c.call(APP, "pid"));
  assert.equal(pids.size, 3);
  // The limited app always lands on its single holder.
  const lim = new Set<unknown>();
  for (let i = 0; i < 4; i++) lim.add(await c.call(LIMITED, "whoami"));
  assert.deepEqual([...lim], [workers[0]!.pid]);
  assert.deepEqual(
    arb.status().workers.map((w) => w.pid),
    workers.map((w) => w.pid),
  );
});

test("arbiter: manage add/remove and scale keep minimums and app holders", async () => {
  await using arb = await startArbiter({
    apps: [APP, LIMITED],
    workers: 1,
    log: quiet,
  });
  await using c = await RawDirtyConn.open(arb.socketPath);
  const add = await c.manage(ManageOp.ADD, 2);
  assert.deepEqual(add, {
    success: true,
    operation: "add",
    requested: 2,
    spawned: 2,
    total_workers: 3,
    target_workers: 3,
  });
  await arb.ready();
  // The oldest worker is the only LimitedApp holder: it must survive.
  const holder = arb.status().workers[0]!.pid;
  const rm = await c.manage(ManageOp.REMOVE, 5);
  assert.equal(rm.removed, 2);
  assert.equal(rm.target_workers, 1);
  assert.equal(rm.operation, "remove");
  assert.equal(await c.call(LIMITED, "whoami"), holder);
  assert.equal(await c.call(APP, "pid"), holder);
  // count 0 means 1, as in gunicorn; unknown op is an error.
  assert.equal((await c.manage(ManageOp.ADD, 0)).spawned, 1);
  await assert.rejects(
    c.manage(9, 1),
    (e) =>
      e instanceof DirtyError && e.message === "Unknown manage operation: 9",
  );
  assert.equal(arb.scale(0), 1);
  assert.equal(arb.scale(3), 3);
  await arb.ready();
  // Removed workers are listed until they have exited.
  await waitFor(
    "the removed workers to exit",
    () => arb.status().worker_count === 3,
  );
  assert.equal(await c.call(LIMITED, "whoami"), holder);
});

test("arbiter: 200 concurrent callers x 100 calls, every reply matched", async () => {
  await using arb = await startArbiter({
    apps: [APP],
    workers: 2,
    concurrency: 8,
    log: quiet,
  });
  await arb.ready();
  const callers = 200;
  const calls = 100;
  let ok = 0;
  await Promise.all(
    Array.from({ length: callers }, async (_, k) => {
      await using c = await RawDirtyConn.open(arb.socketPath);
      for (let i = 0; i < calls; i++) {
        const r = await c.call(APP, "echo", [k, i]);
        assert.deepEqual(r, [k, i]);
        ok++;
      }
    }),
  );
  assert.equal(ok, callers * calls);
});

test("arbiter: one worker serves `concurrency` requests at once", async () => {
  for (const [concurrency, want] of [[4, true], [1, false]] as const) {
    await using arb = await startArbiter({
      apps: [APP],
      workers: 1,
      concurrency,
      log: quiet,
    });
    const conns = await Promise.all(
      [0, 1, 2, 3].map(() => RawDirtyConn.open(arb.socketPath)),
    );
    // Four calls meet in one worker only if it runs them together.
    const got = await Promise.all(
      conns.map((c) => c.call(APP, "barrier", [4, want ? 10_000 : 200])),
    );
    assert.deepEqual(got.includes(true), want);
    for (const c of conns) c.close();
  }
});

test("arbiter: a stream whose client left is stopped on the worker", async () => {
  await using arb = await startArbiter({
    apps: [APP],
    workers: 1,
    concurrency: 2,
    log: quiet,
  });
  const c = await RawDirtyConn.open(arb.socketPath);
  await c.write(encodeRequest(c.id(), APP, "forever"));
  for (let i = 0; i < 3; i++) assert.equal((await c.next()).type, "chunk");
  c.close();
  await using d = await RawDirtyConn.open(arb.socketPath);
  await waitFor(
    "the stream to be stopped",
    async () => (await d.call(APP, "abortedStreams")) === 1,
  );
});

test("arbiter: no workers for an app answers at once", async () => {
  await using arb = await startArbiter({ apps: [APP], log: quiet });
  await using c = await RawDirtyConn.open(arb.socketPath);
  await assert.rejects(
    c.call(`${ECHO}:NotConfigured`, "add", [1, 2]),
    (e) => e instanceof DirtyNoWorkersAvailableError,
  );
  // A worker-side error class round-trips too.
  assert.ok(new DirtyWorkerError("x") instanceof DirtyError);
});
