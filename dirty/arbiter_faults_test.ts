// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { APP, ECHO, quiet, test } from "../_test_utils/dirty/apps.ts";
import { alive } from "../_test_utils/dirty/wait.ts";
import { waitFor } from "../_test_utils/wait.ts";
import { type DirtyArbiter, startArbiter } from "./arbiter.ts";
import {
  DirtyNoWorkersAvailableError,
  DirtyTimeoutError,
  DirtyWorkerError,
} from "./errors.ts";
import { encodeRequest } from "./message_encoders.ts";
import type { DirtyInput } from "./tlv.ts";
import { RawDirtyConn } from "../_test_utils/dirty/arbiter_client.ts";
import { closeMarkPath } from "./testdata/apps/echo.ts";

const BROKEN = `${ECHO}:BrokenApp`;
const SLOW_CLOSE = `${ECHO}:SlowCloseApp`;
const CLI = new URL("./arbiter_cli.ts", import.meta.url).pathname;
/** Waits until `n` workers have booted; returns their pids. */
async function bootedWorkers(socket: string, n: number): Promise<number[]> {
  await using c = await RawDirtyConn.open(socket);
  let pids: number[] = [];
  await waitFor(`${n} booted workers`, async () => {
    const s = await c.status();
    pids = (s.workers as Record<string, unknown>[]).filter((w) => w.booted)
      .map((w) => w.pid as number);
    return pids.length === n;
  });
  return pids;
}

test("faults: kill -9 of a worker mid-request, respawn, later calls succeed", async () => {
  await using arb = await startArbiter({
    apps: [APP],
    workers: 1,
    timeout: 30_000,
    log: quiet,
  });
  await arb.ready();
  const [before] = arb.status().workers;
  await using c = await RawDirtyConn.open(arb.socketPath);
  const call = c.call(APP, "sleep", [10_000]);
  await waitFor(
    "the request to run",
    () => arb.status().workers[0]!.requests === 1,
  );
  Deno.kill(before!.pid, "SIGKILL");
  await assert.rejects(call, (e) => {
    assert.ok(e instanceof DirtyWorkerError);
    assert.match(e.message, /^Worker communication failed: /);
    assert.equal(e.workerId, before!.pid);
    return true;
  });
  // Queued until the replacement (same apps) has booted.
  const pid = await c.call(APP, "pid");
  assert.notEqual(pid, before!.pid);
  const [after] = arb.status().workers;
  assert.equal(after!.pid, pid);
  assert.equal(after!.age, 2);
  assert.deepEqual(after!.apps, before!.apps);
  assert.equal(after!.booted, true);
});

test("faults: init() that throws gives bounded respawns and a clear status", async () => {
  await using arb = await startArbiter({
    apps: [BROKEN],
    workers: 1,
    backoff: { initial: 100, max: 2000 },
    log: quiet,
  });
  await assert.rejects(
    arb.ready(AbortSignal.timeout(200)),
    (e) => e instanceof DOMException && e.name === "TimeoutError",
  );
  await using c = await RawDirtyConn.open(arb.socketPath);
  // The first call waits for the first boot, which fails.
  await assert.rejects(c.call(BROKEN, "hello"), (e) => {
    assert.ok(e instanceof DirtyNoWorkersAvailableError);
    assert.match(String(e.details.reason), /broken init/);
    return true;
  });
  // The back-off schedule itself is checked on a fake clock in
  // _pool_core_test.ts; here, a second failed boot is reported.
  let failures: Record<string, unknown>[] = [];
  await waitFor("a second failed boot", async () => {
    const s = await c.status();
    failures = s.boot_failures as Record<string, unknown>[];
    return failures.length === 1 && (failures[0]!.failures as number) >= 2;
  });
  assert.match(String(failures[0]!.last_error), /BrokenApp: broken init/);
  assert.deepEqual(failures[0]!.apps, [BROKEN]);
  // Answered at once while failing.
  await assert.rejects(
    c.call(BROKEN, "hello"),
    (e) => e instanceof DirtyNoWorkersAvailableError,
  );
  // A wait for boot ends when the arbiter closes, as does an aborted one.
  const aborted = new AbortController();
  aborted.abort(new Error("gave up"));
  await assert.rejects(arb.ready(aborted.signal), /gave up/);
  const waiting = assert.rejects(
    arb.ready(),
    /Cannot wait for workers: the arbiter was/,
  );
  await arb.close();
  await waiting;
  await assert.rejects(arb.ready(), /Cannot wait for workers: the arbiter is/);
});

test("faults: a request past the timeout gets gunicorn's timeout error", async () => {
  await using arb = await startArbiter({
    apps: [APP],
    workers: 1,
    timeout: 1000,
    killGrace: 300,
    log: quiet,
  });
  await arb.ready();
  await using c = await RawDirtyConn.open(arb.socketPath);
  const pid = await c.call(APP, "pid");
  // An async action: the worker answers the abort and survives.
  await assert.rejects(c.call(APP, "sleep", [5000]), (e) => {
    assert.ok(e instanceof DirtyTimeoutError);
    assert.equal(e.message, "Worker timeout");
    assert.deepEqual({ ...e.details }, { timeout: 1 });
    return true;
  });
  assert.equal(await c.call(APP, "pid"), pid);
  // A worker stuck in sync code cannot answer: it is killed and replaced.
  await assert.rejects(
    c.call(APP, "spin", [4000]),
    (e) => e instanceof DirtyTimeoutError,
  );
  await waitFor("the stuck worker to die", () => !alive(pid as number));
  const next = await c.call(APP, "pid");
  assert.notEqual(next, pid);
});

/**
 * An arbiter with one worker, busy for 100 ms with `action(...args)`; the
 * call's rejection is handled (the caller checks it).
 */
async function busyArbiter(
  gracefulTimeout: number,
  action: string,
  args: DirtyInput[],
): Promise<{
  arb: DirtyArbiter;
  pid: number;
  conn: RawDirtyConn;
  call: Promise<unknown>;
}> {
  const arb = await startArbiter({
    apps: [APP],
    workers: 1,
    gracefulTimeout,
    log: quiet,
  });
  await arb.ready();
  const pid = arb.status().workers[0]!.pid;
  const conn = await RawDirtyConn.open(arb.socketPath);
  const call = conn.call(APP, action, args);
  call.catch(() => {});
  await waitFor(
    "the request to run",
    () => arb.status().workers[0]!.requests === 1,
  );
  return { arb, pid, conn, call };
}

test("faults: close() drains in-flight requests", async () => {
  const { arb, pid, conn, call } = await busyArbiter(10_000, "sleep", [400]);
  await using _conn = conn;
  const closing = arb.close();
  assert.equal(await call, 400);
  await closing;
  assert.equal(alive(pid), false);
  await assert.rejects(Deno.stat(arb.socketPath));
});

test("faults: close() lets apps' close() finish with a gracefulTimeout over 2^31 - 1 ms or Infinity", async () => {
  // The limit reaches the worker process as JSON (where Infinity is null)
  // and bounds both the apps' close() and the worker's own exit: with
  // setTimeout, 2^31 ms and null ran out at once, and the worker exited
  // before close() was done.
  for (const gracefulTimeout of [2 ** 31, Infinity]) {
    const arb = await startArbiter({
      apps: [SLOW_CLOSE],
      workers: 1,
      gracefulTimeout,
      workerPermissions: ["-A"],
      log: quiet,
    });
    await arb.ready();
    await using c = await RawDirtyConn.open(arb.socketPath);
    const pid = await c.call(SLOW_CLOSE, "pid") as number;
    const mark = closeMarkPath(pid);
    try {
      await arb.close();
      await waitFor("the worker to exit", () => !alive(pid));
      assert.equal(
        await Deno.readTextFile(mark).catch(() => "no mark"),
        "closed",
        `gracefulTimeout ${gracefulTimeout}`,
      );
    } finally {
      await Deno.remove(mark).catch(() => {});
    }
  }
});

/** Our arbiter's CLI hosting EchoApp, with `args`; its stdout is piped. */
function spawnCli(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "--app", APP, ...args],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  count: number,
): Promise<{ lines: string[]; rest: Promise<void> }> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const lines: string[] = [];
  while (lines.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let i;
    while ((i = buf.indexOf("\n")) >= 0 && lines.length < count) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  }
  const rest = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return { lines, rest };
}

test("faults: SIGTERM to the CLI during in-flight work drains it", async () => {
  const child = spawnCli([
    "--dirty-workers",
    "1",
    "--dirty-graceful-timeout",
    "10",
    "--log-level",
    "warn",
  ]);
  const { lines, rest } = await readLines(child.stdout, 1);
  const socket = lines[0]!;
  const dir = socket.slice(0, socket.lastIndexOf("/"));
  const [workerPid] = await bootedWorkers(socket, 1);
  await using c = await RawDirtyConn.open(socket);
  await using c2 = await RawDirtyConn.open(socket);
  const id = c.id();
  await c.write(encodeRequest(id, APP, "sleep", [700]));
  await waitFor("the request to run", async () => {
    const w = (await c2.status()).workers as Record<string, unknown>[];
    return w[0]!.requests === 1;
  });
  child.kill("SIGTERM");
  const reply = await c.next();
  assert.equal(reply.type, "response", JSON.stringify(reply.payload));
  assert.equal(reply.id, id);
  assert.deepEqual(reply.payload, { result: 700 });
  assert.equal(await c.read(), null);
  const status = await child.status;
  await rest;
  assert.equal(status.code, 0);
  assert.equal(alive(workerPid!), false);
  await assert.rejects(Deno.stat(dir));
});

test("faults: when the arbiter's parent dies, everything goes, no files left", async () => {
  const deno = Deno.execPath();
  const cmd =
    `'${deno}' run -A '${CLI}' --app '${APP}' --workers 2 --exit-with-parent --log-level warn & echo "pid $!"; wait`;
  const sh = new Deno.Command("sh", {
    args: ["-c", cmd],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const { lines, rest } = await readLines(sh.stdout, 2);
  const arbPid = Number(lines.find((l) => l.startsWith("pid "))!.slice(4));
  const socket = lines.find((l) => l.startsWith("/"))!;
  const dir = socket.slice(0, socket.lastIndexOf("/"));
  const workers = await bootedWorkers(socket, 2);
  assert.ok(alive(arbPid));
  sh.kill("SIGKILL");
  await sh.status;
  await waitFor("the arbiter to exit", () => !alive(arbPid));
  await waitFor("the workers to exit", () => workers.every((p) => !alive(p)));
  await waitFor("the socket dir to go", async () => {
    try {
      await Deno.stat(dir);
      return false;
    } catch {
      return true;
    }
  });
  await rest;
});

test("faults: close() past the grace period fails what is left and kills", async () => {
  // Stuck in sync code: it can neither finish nor close its apps.
  const { arb, pid, conn, call } = await busyArbiter(300, "spin", [3000]);
  await using _conn = conn;
  await arb.close();
  await assert.rejects(call, (e) => {
    assert.ok(e instanceof DirtyWorkerError);
    assert.match(e.message, /shutting down/);
    return true;
  });
  assert.equal(alive(pid), false);
});

test("faults: workers exit by themselves when the arbiter is killed", async () => {
  const child = spawnCli(["--workers", "2", "--log-level", "error"]);
  const { lines, rest } = await readLines(child.stdout, 1);
  const socket = lines[0]!;
  const workers = await bootedWorkers(socket, 2);
  child.kill("SIGKILL");
  await child.status;
  await rest;
  await waitFor("the workers to exit", () => workers.every((p) => !alive(p)));
  // Nobody was left to clean up: do it here.
  await Deno.remove(socket.slice(0, socket.lastIndexOf("/")), {
    recursive: true,
  });
});

test("faults: requests wait for booting workers; status during boot is sane", async () => {
  const slow = `${ECHO}:SlowInitApp`;
  await using arb = await startArbiter({ apps: [slow], log: quiet });
  await using c = await RawDirtyConn.open(arb.socketPath);
  const s = await c.status();
  const w = (s.workers as Record<string, unknown>[])[0]!;
  assert.equal(w.booted, false);
  assert.ok((w.last_heartbeat as number) >= 0);
  // Never sent to a worker that is still in init(): it waits, then runs.
  assert.equal(await c.call(slow, "isBooted"), true);
});

test("faults: a worker stuck in init() past the timeout is killed", async () => {
  const stuck = `${ECHO}:StuckInitApp`;
  await using arb = await startArbiter({
    apps: [stuck],
    timeout: 1000,
    backoff: { initial: 5000 },
    log: quiet,
  });
  const [w] = arb.status().workers;
  await waitFor("the stuck worker to be killed", () => !alive(w!.pid));
  await waitFor(
    "the boot failure",
    () => arb.status().boot_failures.length === 1,
  );
  const f = arb.status().boot_failures[0]!;
  assert.equal(f.failures, 1);
  assert.match(String(f.last_error), /did not load its apps within/);
});
