// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The arbiter's worker pool as a state machine, sans I/O: which worker a
 * request goes to, when a request times out (from the moment a worker
 * takes it, per frame as in gunicorn), pauses and cancellations, and the
 * drain on close; the workers' own lives (spawn, replacement with
 * back-off, scaling, kills) are `_pool_workers.ts`. Every input takes the
 * time `now` (ms, any monotonic clock); every effect is a
 * {@linkcode PoolAction} for the shell (`_worker_pool.ts`) to carry out.
 * {@linkcode PoolCore.nextDeadline} says when {@linkcode PoolCore.tick}
 * must run next. Tests drive it on a fake clock.
 *
 * A slot is a place for one worker with a fixed list of apps. When its
 * worker dies the slot gets a new worker with the same apps; scaling down
 * removes slots, so app allocation never drifts (gunicorn's FIFO of pending
 * respawns does, spec section 6 item 6).
 *
 * @module
 */

import {
  DirtyError,
  DirtyNoWorkersAvailableError,
  DirtyTimeoutError,
  DirtyWorkerError,
} from "./errors.ts";
import { Router } from "./_router.ts";
import {
  type CancelReason,
  type CoreOptions,
  Outbox,
  type PoolAction,
  type PoolRequest,
  type PoolWorker,
  type Slot,
} from "./_pool_types.ts";
import { ANY_APP, WorkerFleet } from "./_pool_workers.ts";
import { unavailableReason } from "./_pool_slots.ts";

function seconds(ms: number): number {
  return ms / 1000;
}

/** The pool's state machine. */
export class PoolCore {
  readonly #o: CoreOptions;
  /** Routing: ready workers per app, round-robin, wait queues. */
  readonly router: Router<PoolWorker, PoolRequest> = new Router();
  readonly #out = new Outbox();
  readonly #fleet: WorkerFleet;
  #active = 0;
  #closing = false;
  #stopped = false;
  #graceDeadline = Infinity;

  /**
   * @param options The settings.
   */
  constructor(options: CoreOptions) {
    this.#o = options;
    const limits = new Map<string, number | undefined>();
    for (const a of options.apps) {
      this.router.addApp(a.appPath);
      limits.set(a.appPath, a.limit);
    }
    // A request without an app path goes to any worker, as in gunicorn
    // (whose worker then answers "Dirty app not found: ").
    this.router.addApp(ANY_APP);
    this.#fleet = new WorkerFleet(options, this.#out, {
      route: (w, app) => {
        this.router.setReady(app, w);
        this.#pump(w);
      },
      unroute: (w) => this.router.remove(w),
      failAll: (w, error) =>
        this.#failAll(
          w,
          typeof error === "string"
            ? new DirtyWorkerError(error, { workerId: w.pid })
            : error,
        ),
      timeOut: (w, r) => this.#timeOut(w, r),
      failUnavailable: () => this.#failUnavailable(),
    }, limits);
  }

  // ------------------------------------------------------------ reading

  /** Takes the actions produced so far. */
  take(): PoolAction[] {
    const out = this.#out.actions;
    this.#out.actions = [];
    return out;
  }

  /**
   * The earliest time {@linkcode PoolCore.tick} has work (maybe earlier:
   * a tick with nothing due is harmless and sharpens it).
   */
  nextDeadline(): number {
    return this.#out.soonest;
  }

  /** Live workers, oldest first. */
  workers(): PoolWorker[] {
    return this.#fleet.workers();
  }

  /** Slots that are not removed. */
  slots(): readonly Slot[] {
    return this.#fleet.slots();
  }

  /** The desired number of workers. */
  get target(): number {
    return this.#fleet.target;
  }

  /** Requests queued or running. */
  get active(): number {
    return this.#active;
  }

  /** The fewest workers allowed: the largest per-app limit, at least 1. */
  minimumWorkers(): number {
    return this.#fleet.minimumWorkers();
  }

  /** Whether every slot has a booted worker. */
  allBooted(): boolean {
    return this.#fleet.allBooted();
  }

  // ------------------------------------------------------------ workers

  /** Creates the initial slots (and their workers). */
  start(now: number): void {
    this.#out.now = now;
    this.#fleet.start();
  }

  /** The shell started the worker's process. */
  spawned(w: PoolWorker, pid: number, now: number): void {
    this.#out.now = now;
    this.#fleet.spawned(w, pid);
  }

  /** The shell could not start the worker's process. */
  spawnFailed(w: PoolWorker, message: string, now: number): void {
    this.#out.now = now;
    this.#fleet.spawnFailed(w, message);
  }

  /** Any frame or heartbeat from the worker: it is alive. */
  alive(w: PoolWorker, now: number): void {
    w.lastHeartbeat = now;
  }

  /** Both of the worker's connections are up. */
  linked(w: PoolWorker, now: number): void {
    w.linked = true;
    w.lastHeartbeat = now;
  }

  /** The worker loaded an app: that app's requests may go to it. */
  loaded(w: PoolWorker, app: string, now: number): void {
    this.#out.now = now;
    w.lastHeartbeat = now;
    this.#fleet.loaded(w, app);
  }

  /** The worker loaded all its apps. */
  booted(w: PoolWorker, now: number): void {
    this.#out.now = now;
    w.lastHeartbeat = now;
    this.#fleet.booted(w);
  }

  /** The worker could not load an app (it exits next). */
  bootFailed(
    w: PoolWorker,
    app: string,
    message: string,
    stack: string,
    now: number,
  ): void {
    this.#out.now = now;
    this.#fleet.bootFailed(w, app, message, stack);
  }

  /**
   * An uncaught error or unhandled rejection in the worker's app code (it
   * exits next): logged with its stack; its requests will fail naming it.
   */
  crashed(w: PoolWorker, message: string, stack: string, now: number): void {
    this.#out.now = now;
    this.#fleet.crashed(w, message, stack);
  }

  /** One of the worker's connections ended or failed. */
  linkLost(w: PoolWorker, why: string, now: number): void {
    this.#out.now = now;
    this.#fleet.linkLost(w, why);
  }

  /** The worker's process exited. */
  exited(w: PoolWorker, description: string, now: number): void {
    this.#out.now = now;
    this.#fleet.exited(w, description);
  }

  // ------------------------------------------------------------ requests

  /** A request from a client: dispatched, queued, or failed at once. */
  submit(r: PoolRequest, now: number): void {
    this.#out.now = now;
    this.#active++;
    const app = r.appPath;
    if (this.#stopped || !this.router.hasApp(app)) {
      this.#fail(
        r,
        this.#stopped || this.slots().length === 0
          ? new DirtyError("No dirty workers available")
          : new DirtyNoWorkersAvailableError(app),
      );
      return;
    }
    const w = this.router.pick(app);
    if (w !== undefined) {
      this.#dispatch(w, r);
      return;
    }
    const reason = this.#unavailable(app);
    if (reason !== null) {
      this.#fail(r, this.#noWorkers(app, reason));
      return;
    }
    r.state = "queued";
    this.router.enqueue(app, r);
  }

  /**
   * A frame from a worker for request `wid`: returns the request to forward
   * it to, or `undefined` to drop it (a late frame of a request given up).
   */
  frame(
    w: PoolWorker,
    wid: number,
    final: boolean,
    now: number,
  ): PoolRequest | undefined {
    this.#out.now = now;
    w.lastHeartbeat = now;
    if (w.aborting.has(wid)) {
      if (final) {
        w.aborting.delete(wid);
        this.#afterFree(w);
      }
      return undefined;
    }
    const r = w.inflight.get(wid);
    if (r === undefined) return undefined;
    if (final) {
      w.inflight.delete(wid);
      this.#finish(r);
      this.#afterFree(w);
    } else if (!r.paused) {
      this.#arm(r);
    }
    return r;
  }

  /**
   * The request's client went away (or overflowed its buffer): the request
   * leaves its queue, or is cancelled on its worker, whose slot frees at
   * once.
   */
  cancel(r: PoolRequest, reason: CancelReason, now: number): void {
    this.#out.now = now;
    if (r.state === "done") return;
    const w = r.worker;
    if (r.state === "queued") {
      r.cancelled = true;
    } else if (r.state === "running" && w !== null) {
      w.inflight.delete(r.wid);
      if (w.state !== "dead") {
        this.#out.push({ kind: "cancel", worker: w, wid: r.wid, reason });
      }
    }
    this.#finish(r);
    if (w !== null) this.#afterFree(w);
  }

  /** The request's client reads slowly: its stream waits (no timeout meanwhile). */
  pause(r: PoolRequest, now: number): void {
    this.#out.now = now;
    if (r.state !== "running" || r.paused || r.worker === null) return;
    r.paused = true;
    r.deadline = Infinity;
    this.#out.push({ kind: "pause", worker: r.worker, wid: r.wid });
  }

  /** The request's client caught up. */
  resume(r: PoolRequest, now: number): void {
    this.#out.now = now;
    if (r.state !== "running" || !r.paused || r.worker === null) return;
    r.paused = false;
    this.#arm(r);
    this.#out.push({ kind: "resume", worker: r.worker, wid: r.wid });
  }

  // ------------------------------------------------------------ time

  /** Runs what is due at `now`: timeouts, kills, respawns, close. */
  tick(now: number): void {
    this.#out.now = now;
    this.#out.soonest = Infinity;
    this.#fleet.tick();
    if (this.#closing && !this.#stopped) {
      if (this.#graceDeadline <= now) this.#stopAll();
      else this.#out.at(this.#graceDeadline);
    }
  }

  // ------------------------------------------------------------ scaling

  /** Adds up to `count` workers; returns how many were started. */
  add(count: number, now: number): number {
    this.#out.now = now;
    return this.#fleet.add(count);
  }

  /**
   * Removes up to `count` workers, never going below
   * {@linkcode PoolCore.minimumWorkers} and never removing the last holder
   * of an app; prefers failing slots, then slots whose removal keeps limited
   * apps at their limit, then the oldest.
   */
  remove(count: number, now: number): number {
    this.#out.now = now;
    return this.#fleet.remove(count);
  }

  /** Sets the number of workers; returns the new target. */
  scale(n: number, now: number): number {
    this.#out.now = now;
    return this.#fleet.scale(n);
  }

  /**
   * Starts stopping: nothing is respawned; running and queued requests
   * have the graceful timeout to finish, then the rest fail and every
   * worker is told to stop (and killed if it does not within 5 s or the
   * end of the graceful timeout).
   */
  close(now: number): void {
    this.#out.now = now;
    if (this.#closing) return;
    this.#closing = true;
    this.#fleet.close();
    this.#failUnavailable();
    this.#graceDeadline = now + this.#o.gracefulTimeout;
    if (this.#active === 0) this.#stopAll();
    else this.#out.at(this.#graceDeadline);
  }

  // ------------------------------------------------------------ internals

  #dispatch(w: PoolWorker, r: PoolRequest): void {
    if (r.refusal !== null) {
      this.#fail(r, new DirtyWorkerError(r.refusal, { workerId: w.pid }));
      return;
    }
    r.state = "running";
    r.worker = w;
    r.wid = w.nextWid++;
    w.inflight.set(r.wid, r);
    this.#arm(r);
    this.#out.push({ kind: "dispatch", worker: w, request: r });
  }

  #arm(r: PoolRequest): void {
    r.deadline = this.#out.now + this.#o.timeout;
    this.#out.at(r.deadline);
  }

  #timeOut(w: PoolWorker, r: PoolRequest): void {
    const timeout = this.#o.timeout;
    w.inflight.delete(r.wid);
    const what = `request ${r.wid} (${r.appPath} ${r.action})`;
    this.#out.log(
      "warn",
      `Dirty worker ${w.pid}: ${what} timed out after ${
        seconds(timeout)
      }s, aborting`,
    );
    this.#fail(r, new DirtyTimeoutError("Worker timeout", seconds(timeout)));
    if (w.state === "dead" || w.killed) return;
    const deadline = this.#out.now + this.#o.killGrace;
    w.aborting.set(r.wid, { deadline, what });
    this.#out.at(deadline);
    this.#out.push({
      kind: "cancel",
      worker: w,
      wid: r.wid,
      reason: "timeout",
    });
  }

  #fail(r: PoolRequest, error: DirtyError): void {
    if (r.state === "done") return;
    this.#out.push({ kind: "fail", request: r, error });
    this.#finish(r);
  }

  #finish(r: PoolRequest): void {
    if (r.state === "done") return;
    r.state = "done";
    r.deadline = Infinity;
    this.#active--;
    if (this.#closing && !this.#stopped && this.#active === 0) {
      this.#stopAll();
    }
  }

  #failAll(w: PoolWorker, error: DirtyError): void {
    const list = [...w.inflight.values()];
    w.inflight.clear();
    for (const r of list) this.#fail(r, error);
  }

  #afterFree(w: PoolWorker): void {
    if (w.state === "retiring") {
      if (w.load === 0) this.#fleet.stop(w);
      return;
    }
    this.#pump(w);
  }

  #pump(w: PoolWorker): void {
    if (!w.live) return;
    for (;;) {
      const next = this.router.next(w, w.loaded);
      if (next === undefined) return;
      this.#dispatch(w, next[1]);
    }
  }

  #stopAll(): void {
    const now = this.#out.now;
    this.#stopped = true;
    for (const app of this.router.apps()) {
      for (const r of this.router.drain(app)) {
        this.#fail(r, new DirtyError("No dirty workers available"));
      }
    }
    const killAt = Math.min(this.#graceDeadline, now + 5000);
    for (const w of this.workers()) {
      if (w.state === "dead") continue;
      this.#failAll(
        w,
        new DirtyWorkerError(
          "Worker communication failed: the arbiter is shutting down",
          { workerId: w.pid },
        ),
      );
      this.#fleet.stopWhenIdle(w, killAt);
      // Timed-out requests it still holds do not delay its stop.
      this.#fleet.stop(w);
    }
  }

  #noWorkers(app: string, reason: string): DirtyError {
    return new DirtyNoWorkersAvailableError(app, undefined, {
      details: { reason },
    });
  }

  #unavailable(app: string): string | null {
    if (this.#stopped) return "the arbiter is shutting down";
    if (this.router.readyWorkers(app).length > 0) return null;
    return unavailableReason(
      this.slots().filter((s) => app === ANY_APP || s.apps.includes(app)),
    );
  }

  #failUnavailable(): void {
    for (const app of this.router.apps()) {
      if (this.router.queued(app) === 0) continue;
      const reason = this.#unavailable(app);
      if (reason === null) continue;
      for (const r of this.router.drain(app)) {
        this.#fail(r, this.#noWorkers(app, reason));
      }
    }
  }
}
