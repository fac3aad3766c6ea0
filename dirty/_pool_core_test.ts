// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The pool's sans-I/O core on a fake clock: slot choice, scaling, back-off,
 * request timeouts and heartbeat checks, with no process and no sleep.
 */
import assert from "node:assert/strict";
import { PoolCore } from "./_pool_core.ts";
import {
  type CoreOptions,
  type PoolAction,
  PoolRequest,
  type PoolWorker,
} from "./_pool_types.ts";
import {
  DirtyError,
  DirtyNoWorkersAvailableError,
  DirtyTimeoutError,
  DirtyWorkerError,
} from "./errors.ts";

const A = "m:A";

/** A core with a fake clock that records what it asks for. */
class Harness {
  readonly core: PoolCore;
  now = 0;
  readonly log: string[] = [];
  readonly spawns: PoolWorker[] = [];
  readonly kills: PoolWorker[] = [];
  readonly stops: PoolWorker[] = [];
  readonly cancels: [PoolWorker, number, string][] = [];
  readonly dispatched: PoolRequest[] = [];
  readonly failed = new Map<PoolRequest, DirtyError>();
  #pid = 100;

  constructor(options: Partial<CoreOptions> = {}) {
    this.core = new PoolCore({
      apps: [{ appPath: A, limit: undefined }],
      workers: 1,
      timeout: 2000,
      concurrency: 1,
      killGrace: 500,
      backoffInitial: 100,
      backoffMax: 1600,
      gracefulTimeout: 3000,
      ...options,
    });
    this.core.start(this.now);
    this.drain();
  }

  drain(): PoolAction[] {
    const actions = this.core.take();
    for (const a of actions) {
      switch (a.kind) {
        case "spawn":
          this.spawns.push(a.worker);
          break;
        case "kill":
          this.kills.push(a.worker);
          break;
        case "stop":
          this.stops.push(a.worker);
          break;
        case "cancel":
          this.cancels.push([a.worker, a.wid, a.reason]);
          break;
        case "dispatch":
          this.dispatched.push(a.request);
          break;
        case "fail":
          this.failed.set(a.request, a.error);
          break;
        case "log":
          this.log.push(`${a.level}: ${a.message}`);
          break;
      }
    }
    return actions;
  }

  /** Moves the clock to `t`, ticking at every deadline on the way. */
  at(t: number): void {
    for (;;) {
      const next = this.core.nextDeadline();
      if (next > t) break;
      this.now = Math.max(this.now, next);
      this.core.tick(this.now);
      this.drain();
    }
    this.now = t;
    this.core.tick(t);
    this.drain();
  }

  /** Starts the worker's process; with `boot`, it links, loads and boots. */
  spawn(w: PoolWorker, boot = true): void {
    this.core.spawned(w, this.#pid++, this.now);
    if (boot) {
      this.core.linked(w, this.now);
      this.core.loaded(w, A, this.now);
      this.core.booted(w, this.now);
    }
    this.drain();
  }

  exit(w: PoolWorker, how = "signal SIGKILL"): void {
    this.core.exited(w, how, this.now);
    this.drain();
  }

  submit(app = A): PoolRequest {
    const r = new PoolRequest(app, "act", null);
    this.core.submit(r, this.now);
    this.drain();
    return r;
  }

  reply(r: PoolRequest, final = true): void {
    this.core.frame(r.worker!, r.wid, final, this.now);
    this.drain();
  }

  beat(w: PoolWorker): void {
    this.core.alive(w, this.now);
  }

  cancel(r: PoolRequest): void {
    this.core.cancel(r, "client", this.now);
    this.drain();
  }

  pause(r: PoolRequest): void {
    this.core.pause(r, this.now);
    this.drain();
  }

  resume(r: PoolRequest): void {
    this.core.resume(r, this.now);
    this.drain();
  }
}

Deno.test("pool core: a request's timeout runs from the moment a worker takes it", () => {
  const h = new Harness();
  const w = h.spawns[0]!;
  h.spawn(w);
  const first = h.submit();
  const second = h.submit();
  assert.equal(first.state, "running");
  assert.equal(second.state, "queued");
  h.at(1500);
  h.beat(w);
  h.reply(first);
  // Taken at 1.5 s: due at 3.5 s, not at 2 s.
  assert.equal(second.state, "running");
  h.at(3000);
  h.beat(w);
  h.at(3499);
  assert.equal(h.failed.has(second), false);
  h.at(3500);
  const err = h.failed.get(second);
  assert.ok(err instanceof DirtyTimeoutError);
  assert.equal(err.message, "Worker timeout");
  assert.deepEqual({ ...err.details }, { timeout: 2 });
  // Aborted on the worker.
  assert.deepEqual(h.cancels.at(-1), [w, second.wid, "timeout"]);
});

Deno.test("pool core: a timed-out request its worker does not let go of gets the worker killed after killGrace", () => {
  const h = new Harness();
  const w = h.spawns[0]!;
  h.spawn(w);
  const r = h.submit();
  for (let t = 500; t <= 2000; t += 500) {
    h.at(t);
    h.beat(w);
  }
  assert.ok(h.failed.get(r) instanceof DirtyTimeoutError);
  // The aborted request still holds its slot: another one waits.
  const next = h.submit();
  assert.equal(next.state, "queued");
  h.at(2499);
  h.beat(w);
  assert.deepEqual(h.kills, []);
  h.at(2500);
  assert.deepEqual(h.kills, [w]);
  assert.ok(
    h.log.some((l) =>
      /Killing dirty worker 100: request 1 \(m:A act\) exceeded its timeout of 2s and did not stop within 500 ms/
        .test(l)
    ),
    h.log.join("\n"),
  );
  // Its exit names the cause to what it held; the slot gets a new worker.
  h.exit(w);
  assert.equal(h.spawns.length, 2);
  h.spawn(h.spawns[1]!);
  assert.equal(next.state, "running");
  assert.equal(next.worker, h.spawns[1]);
});

Deno.test("pool core: a late answer to an aborted request clears the kill", () => {
  const h = new Harness();
  const w = h.spawns[0]!;
  h.spawn(w);
  const r = h.submit();
  for (let t = 500; t <= 2000; t += 500) {
    h.at(t);
    h.beat(w);
  }
  h.reply(r);
  for (let t = 2500; t <= 5000; t += 500) {
    h.at(t);
    h.beat(w);
  }
  assert.deepEqual(h.kills, []);
  assert.equal(h.submit().state, "running");
});

Deno.test("pool core: a silent worker is killed after the timeout; its requests get Worker timeout", () => {
  const h = new Harness({ concurrency: 2, timeout: 10_000 });
  const w = h.spawns[0]!;
  h.spawn(w);
  h.at(5000);
  h.beat(w);
  const r = h.submit();
  h.at(14_999);
  assert.deepEqual(h.kills, []);
  h.at(15_000);
  assert.deepEqual(h.kills, [w]);
  assert.ok(h.failed.get(r) instanceof DirtyTimeoutError);
  assert.ok(h.log.some((l) => /no heartbeat for 10.0s, killing/.test(l)));
});

Deno.test("pool core: a worker stuck in boot is killed when the timeout runs out", () => {
  const h = new Harness();
  const w = h.spawns[0]!;
  h.spawn(w, false);
  h.core.linked(w, 0);
  for (let t = 250; t < 2000; t += 250) {
    h.at(t);
    h.beat(w);
  }
  assert.deepEqual(h.kills, []);
  h.at(2000);
  assert.deepEqual(h.kills, [w]);
  assert.match(w.slot.lastError!, /did not load its apps within the timeout/);
});

Deno.test("pool core: failed boots respawn with exponential back-off; requests fail at once meanwhile", () => {
  const h = new Harness({ backoffInitial: 100, backoffMax: 800 });
  // The first request waits for the first boot.
  const first = h.submit();
  assert.equal(first.state, "queued");
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const w = h.spawns[i]!;
    times.push(h.now);
    h.spawn(w, false);
    h.core.bootFailed(w, A, "broken init", "", h.now);
    h.exit(w, "exit code 3");
    if (i === 0) {
      const err = h.failed.get(first);
      assert.ok(err instanceof DirtyNoWorkersAvailableError);
      assert.match(String(err.details.reason), /broken init/);
    }
    // Answered at once while failing.
    const r = h.submit();
    assert.ok(h.failed.get(r) instanceof DirtyNoWorkersAvailableError);
    h.at(h.core.nextDeadline());
  }
  // 100, 200, 400, 800, then capped at 800 ms.
  assert.deepEqual(times, [0, 100, 300, 700, 1500, 2300]);
  assert.equal(h.core.slots()[0]!.failures, 6);
  // A boot that works ends it.
  h.spawn(h.spawns[6]!);
  assert.equal(h.core.slots()[0]!.bootFailures, 0);
  assert.equal(h.submit().state, "running");
});

Deno.test("pool core: a crash respawns with back-off; a long healthy life forgives it", () => {
  const h = new Harness({ backoffInitial: 100, backoffMax: 1000 });
  let w = h.spawns[0]!;
  h.spawn(w);
  const r = h.submit();
  h.core.crashed(w, "Uncaught Error: boom", "Error: boom\n    at x", h.now);
  h.exit(w, "exit code 70");
  const err = h.failed.get(r);
  assert.ok(err instanceof DirtyWorkerError);
  assert.match(err.message, /worker 100 crashed: Uncaught Error: boom/);
  assert.ok(h.log.some((l) => /^error: .*crashed.*\n.*at x/s.test(l)));
  assert.equal(h.spawns.length, 1);
  h.at(100);
  assert.equal(h.spawns.length, 2);
  w = h.spawns[1]!;
  h.spawn(w);
  h.core.crashed(w, "Uncaught Error: boom", "", h.now);
  h.exit(w, "exit code 70");
  h.at(299);
  assert.equal(h.spawns.length, 2);
  h.at(300);
  w = h.spawns[2]!;
  h.spawn(w);
  assert.equal(w.slot.failures, 2);
  for (let t = 500; t <= 1300; t += 200) {
    h.at(t);
    h.beat(w);
  }
  assert.equal(w.slot.failures, 0);
});

Deno.test("pool core: a cancelled request frees its slot at once", () => {
  const h = new Harness();
  const w = h.spawns[0]!;
  h.spawn(w);
  const running = h.submit();
  const queued = h.submit();
  const also = h.submit();
  h.cancel(queued);
  h.cancel(running);
  assert.deepEqual(h.cancels, [[w, running.wid, "client"]]);
  assert.equal(queued.state, "done");
  assert.equal(also.state, "running");
  // A late frame of the cancelled one is dropped.
  assert.equal(h.core.frame(w, running.wid, true, h.now), undefined);
});

Deno.test("pool core: a paused stream does not time out; resumed, it does again", () => {
  const h = new Harness();
  const w = h.spawns[0]!;
  h.spawn(w);
  const r = h.submit();
  h.at(1000);
  h.reply(r, false);
  h.pause(r);
  for (let t = 1500; t <= 10_000; t += 500) {
    h.at(t);
    h.beat(w);
  }
  assert.equal(r.state, "running");
  h.resume(r);
  h.at(11_999);
  h.beat(w);
  assert.equal(r.state, "running");
  h.at(12_000);
  assert.ok(h.failed.get(r) instanceof DirtyTimeoutError);
});

Deno.test("pool core: close lets running requests finish within the grace, then stops and kills", () => {
  const h = new Harness({ timeout: 60_000 });
  const w = h.spawns[0]!;
  h.spawn(w);
  const r = h.submit();
  h.core.close(h.now);
  // New requests are still taken while the running one finishes.
  assert.deepEqual(h.stops, []);
  h.at(2999);
  assert.deepEqual(h.stops, []);
  h.at(3000);
  const err = h.failed.get(r);
  assert.ok(err instanceof DirtyWorkerError);
  assert.match(err.message, /shutting down/);
  assert.deepEqual(h.stops, [w]);
  // Not gone when the grace ends: killed.
  h.at(3001);
  assert.deepEqual(h.kills, [w]);
  h.exit(w);
  assert.equal(h.spawns.length, 1);
  assert.ok(h.failed.get(h.submit()) instanceof DirtyError);
});

Deno.test("pool core: scaling keeps per-app limits and never removes an app's last holder", () => {
  const h = new Harness({
    apps: [{ appPath: A, limit: undefined }, { appPath: "m:L", limit: 1 }],
    workers: 1,
  });
  h.spawn(h.spawns[0]!);
  assert.equal(h.core.add(2, h.now), 2);
  h.drain();
  assert.deepEqual(h.spawns.map((w) => w.slot.apps), [
    [A, "m:L"],
    [A],
    [A],
  ]);
  for (const w of h.spawns.slice(1)) h.spawn(w);
  // The oldest holds the only "m:L": the newer ones go first.
  assert.equal(h.core.remove(5, h.now), 2);
  h.drain();
  // Retired: told to stop once idle, gone from the slots once exited.
  assert.deepEqual(h.stops, h.spawns.slice(1));
  for (const w of h.spawns.slice(1)) h.exit(w, "exit code 0");
  assert.deepEqual(h.core.slots().map((s) => s.apps), [[A, "m:L"]]);
  assert.equal(h.core.target, 1);
  assert.equal(h.core.scale(0, h.now), 1);
});
