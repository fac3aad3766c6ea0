// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The pool core's worker side, sans I/O: slots and their workers from spawn
 * to exit, the replacement of a worker that died (at once, or after a
 * back-off when its boot failed or its app code crashed), scaling, retiring,
 * killing, and the deadlines of each worker (kill timers, stuck requests,
 * boot, heartbeat). What concerns requests goes through
 * {@linkcode FleetHooks} to the request side (`_pool_core.ts`).
 *
 * @module
 */

import { DirtyTimeoutError } from "./errors.ts";
import {
  type CoreOptions,
  type Outbox,
  type PoolRequest,
  PoolWorker,
  type Slot,
} from "./_pool_types.ts";
import { workerDue } from "./_pool_deadlines.ts";
import {
  appsForNewSlot,
  backoffDelay,
  minimumWorkers,
  pickVictim,
} from "./_pool_slots.ts";

/** What the worker side asks of the request side. */
export interface FleetHooks {
  /** The worker can take requests for `app` (or for any app, with `""`). */
  route(w: PoolWorker, app: string): void;
  /** The worker takes no more requests. */
  unroute(w: PoolWorker): void;
  /** Its requests fail with this message (as a `DirtyWorkerError`), or error. */
  failAll(w: PoolWorker, error: string | DirtyTimeoutError): void;
  /** Its request ran past its timeout. */
  timeOut(w: PoolWorker, r: PoolRequest): void;
  /** Fails queued requests no worker will take soon. */
  failUnavailable(): void;
}

/** The route of requests without an app path. */
export const ANY_APP = "";

function seconds(ms: number): number {
  return ms / 1000;
}

/** Slots and workers. */
export class WorkerFleet {
  readonly #o: CoreOptions;
  readonly #out: Outbox;
  readonly #hooks: FleetHooks;
  readonly #limits: ReadonlyMap<string, number | undefined>;
  readonly #slots: Slot[] = [];
  readonly #workers = new Set<PoolWorker>();
  #age = 0;
  #target: number;
  #wasReady = false;
  /** Set when the pool closes: nothing is respawned or added. */
  closing = false;

  constructor(
    options: CoreOptions,
    out: Outbox,
    hooks: FleetHooks,
    limits: ReadonlyMap<string, number | undefined>,
  ) {
    this.#o = options;
    this.#out = out;
    this.#hooks = hooks;
    this.#limits = limits;
    this.#target = Math.max(options.workers, this.minimumWorkers());
  }

  /** Live workers, oldest first. */
  workers(): PoolWorker[] {
    return [...this.#workers].sort((a, b) => a.age - b.age);
  }

  /** Slots that are not removed. */
  slots(): readonly Slot[] {
    return this.#slots.filter((s) => !s.removed);
  }

  /** The desired number of workers. */
  get target(): number {
    return this.#target;
  }

  /** The fewest workers allowed: the largest per-app limit, at least 1. */
  minimumWorkers(): number {
    return minimumWorkers(this.#limits);
  }

  /** Whether every slot has a booted worker. */
  allBooted(): boolean {
    const live = this.slots();
    return live.length > 0 && live.every((s) => s.worker?.booted === true);
  }

  // ------------------------------------------------------------ events

  /** Creates the initial slots (and their workers). */
  start(): void {
    while (this.slots().length < this.#target) {
      if (this.#addSlot() === null) break;
    }
  }

  /** The shell started the worker's process. */
  spawned(w: PoolWorker, pid: number): void {
    const now = this.#out.now;
    w.pid = pid;
    if (w.state === "spawning") w.state = "booting";
    w.lastHeartbeat = now;
    this.#out.log(
      "info",
      `Spawned dirty worker (pid: ${pid}) with apps: ${w.slot.apps.join(", ")}`,
    );
    this.#out.at(now + this.#o.timeout);
  }

  /** The shell could not start the worker's process. */
  spawnFailed(w: PoolWorker, message: string): void {
    w.state = "dead";
    this.#workers.delete(w);
    const slot = w.slot;
    if (slot.worker === w) slot.worker = null;
    slot.lastError = `Cannot spawn worker: ${message}`;
    this.#out.log("error", slot.lastError);
    slot.bootFailures++;
    slot.failures++;
    this.#scheduleRespawn(slot);
  }

  /** The worker loaded an app. */
  loaded(w: PoolWorker, app: string): void {
    w.loaded.add(app);
    if (w.live) this.#hooks.route(w, app);
  }

  /** The worker loaded all its apps. */
  booted(w: PoolWorker): void {
    const now = this.#out.now;
    w.booted = true;
    w.bootedAt = now;
    if (w.state === "booting") w.state = "ready";
    w.slot.bootFailures = 0;
    w.slot.lastError = null;
    if (w.live) {
      w.loaded.add(ANY_APP);
      this.#hooks.route(w, ANY_APP);
    }
    // A life long enough forgives earlier crashes.
    this.#out.at(now + this.#o.backoffMax);
    const ready = this.allBooted();
    if (ready && !this.#wasReady) this.#out.push({ kind: "ready" });
    this.#wasReady = ready;
  }

  /** The worker could not load an app (it exits next): logged with its stack. */
  bootFailed(w: PoolWorker, app: string, message: string, stack = ""): void {
    w.slot.lastError = `${app}: ${message}`;
    this.#out.log(
      "error",
      `Dirty worker ${w.pid} failed to boot: ${w.slot.lastError}${
        stack ? `\n${stack}` : ""
      }`,
    );
  }

  /** An uncaught error in the worker's app code (it exits next). */
  crashed(w: PoolWorker, message: string, stack: string): void {
    w.crash = { message, stack };
    w.slot.lastError = `crashed: ${message}`;
    this.#out.log(
      "error",
      `Dirty worker ${w.pid} crashed: ${message}${stack ? `\n${stack}` : ""}`,
    );
    this.#hooks.unroute(w);
  }

  /** One of the worker's connections ended or failed. */
  linkLost(w: PoolWorker, why: string): void {
    if (w.lost !== null || w.state === "dead") return;
    w.lost = why;
    this.#hooks.unroute(w);
    if (w.state !== "retiring") this.kill(w, null);
  }

  /** The worker's process exited. */
  exited(w: PoolWorker, description: string): void {
    if (w.state === "dead") return;
    w.state = "dead";
    this.#workers.delete(w);
    this.#hooks.unroute(w);
    w.aborting.clear();
    const cause = w.crash !== null
      ? `crashed: ${w.crash.message}`
      : w.killReason !== null
      ? `was killed: ${w.killReason}`
      : `exited (${description})`;
    this.#hooks.failAll(
      w,
      `Worker communication failed: worker ${w.pid} ${cause}`,
    );
    const slot = w.slot;
    if (slot.worker === w) slot.worker = null;
    const expected = slot.removed || this.closing;
    this.#out.log(
      expected ? "info" : "warn",
      `Dirty worker ${w.pid} exited (${description})`,
    );
    if (slot.removed) this.#dropSlot(slot);
    if (expected) return;
    if (!w.booted) {
      slot.bootFailures++;
      slot.failures++;
      slot.lastError ??= `worker exited during boot (${description})`;
      this.#scheduleRespawn(slot);
      this.#hooks.failUnavailable();
    } else if (w.crash !== null) {
      slot.failures++;
      this.#scheduleRespawn(slot);
    } else {
      this.#spawn(slot);
    }
  }

  // ------------------------------------------------------------ time

  /** Runs each worker's deadlines and the respawns that are due. */
  tick(): void {
    const now = this.#out.now;
    const later = (t: number): void => this.#out.at(t);
    const timeout = this.#o.timeout;
    for (const w of [...this.#workers]) {
      if (w.state === "dead" || w.killed) continue;
      const d = workerDue(w, now, timeout, this.#o.backoffMax, later);
      switch (d.kind) {
        case "kill-timer":
          this.kill(
            w,
            this.closing
              ? "it did not stop within the graceful timeout"
              : "it did not stop after being retired",
          );
          break;
        case "stuck":
          w.aborting.delete(d.wid);
          this.kill(
            w,
            `${d.what} exceeded its timeout of ${
              seconds(timeout)
            }s and did not stop within ${this.#o.killGrace} ms of being aborted (app code is blocking its thread)`,
          );
          break;
        case "boot-timeout":
          w.slot.lastError = `did not load its apps within the timeout of ${
            seconds(timeout)
          }s`;
          this.kill(w, w.slot.lastError);
          break;
        case "silent":
          // Its requests get the error gunicorn gives when a worker is silent.
          this.#out.log(
            "warn",
            `DIRTY WORKER TIMEOUT (pid:${w.pid}): no heartbeat for ${
              seconds(now - w.lastHeartbeat).toFixed(1)
            }s, killing`,
          );
          this.#hooks.failAll(
            w,
            new DirtyTimeoutError("Worker timeout", seconds(timeout)),
          );
          this.kill(w, "no heartbeat");
          break;
        case "requests":
          for (const r of d.timedOut) this.#hooks.timeOut(w, r);
          if (d.forgive) w.slot.failures = 0;
      }
    }
    for (const slot of this.#slots) {
      if (slot.removed || slot.worker !== null) continue;
      if (slot.retryAt <= now) {
        slot.retryAt = Infinity;
        if (!this.closing) this.#spawn(slot);
      } else {
        this.#out.at(slot.retryAt);
      }
    }
  }

  // ------------------------------------------------------------ scaling

  /** Adds up to `count` workers; returns how many were started. */
  add(count: number): number {
    let spawned = 0;
    for (let i = 0; i < count; i++) {
      if (this.closing || this.#addSlot() === null) break;
      spawned++;
      this.#target++;
    }
    return spawned;
  }

  /**
   * Removes up to `count` workers, never going below
   * {@linkcode WorkerFleet.minimumWorkers} and never removing the last
   * holder of an app (see `pickVictim`).
   */
  remove(count: number): number {
    let removed = 0;
    for (let i = 0; i < count; i++) {
      const live = this.slots();
      if (this.#target <= this.minimumWorkers() || live.length <= 1) break;
      const victim = pickVictim(live, this.#limits);
      if (victim === null) break;
      this.#target--;
      victim.removed = true;
      victim.retryAt = Infinity;
      // A slot with a worker goes when the worker has exited.
      if (victim.worker) this.#retire(victim.worker);
      else this.#dropSlot(victim);
      removed++;
    }
    if (removed > 0) this.#hooks.failUnavailable();
    return removed;
  }

  /** Sets the number of workers; returns the new target. */
  scale(n: number): number {
    const want = Math.max(Math.floor(n), this.minimumWorkers());
    const live = this.slots().length;
    if (want > live) this.add(want - live);
    else if (want < live) this.remove(live - want);
    return this.#target;
  }

  /** Stops the worker once it is idle, killing it at `killAt`. */
  stopWhenIdle(w: PoolWorker, killAt: number): void {
    if (w.state === "dead") return;
    w.state = "retiring";
    this.#hooks.unroute(w);
    w.killAt = killAt;
    this.#out.at(killAt);
    if (w.load === 0) this.stop(w);
  }

  /** Tells the worker to stop (its stdin ends). */
  stop(w: PoolWorker): void {
    if (w.stopSent || w.state === "dead") return;
    w.stopSent = true;
    this.#out.push({ kind: "stop", worker: w });
  }

  /** Kills the worker, saying why (`null`: it is already going). */
  kill(w: PoolWorker, reason: string | null): void {
    if (w.state === "dead" || w.killed) return;
    w.killed = true;
    w.killAt = Infinity;
    this.#hooks.unroute(w);
    if (reason !== null) {
      w.killReason = reason;
      this.#out.log("warn", `Killing dirty worker ${w.pid}: ${reason}`);
    }
    this.#out.push({ kind: "kill", worker: w });
  }

  /** No more respawns. */
  close(): void {
    this.closing = true;
    for (const s of this.#slots) s.retryAt = Infinity;
  }

  // ------------------------------------------------------------ internals

  #addSlot(): Slot | null {
    const apps = appsForNewSlot(this.#slots, this.#limits);
    if (apps.length === 0) return null;
    const slot: Slot = {
      apps,
      worker: null,
      failures: 0,
      bootFailures: 0,
      lastError: null,
      retryAt: Infinity,
      removed: false,
    };
    this.#slots.push(slot);
    this.#spawn(slot);
    return slot;
  }

  #spawn(slot: Slot): void {
    const w = new PoolWorker(
      ++this.#age,
      slot,
      Math.max(1, this.#o.concurrency),
      this.#out.now,
    );
    slot.worker = w;
    this.#workers.add(w);
    this.#out.push({ kind: "spawn", worker: w });
  }

  #scheduleRespawn(slot: Slot): void {
    slot.retryAt = this.#out.now +
      backoffDelay(slot.failures, this.#o.backoffInitial, this.#o.backoffMax);
    this.#out.at(slot.retryAt);
  }

  /** Forgets a removed slot, so that scaling up and down keeps no garbage. */
  #dropSlot(slot: Slot): void {
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
  }

  #retire(w: PoolWorker): void {
    if (w.state === "dead" || w.state === "retiring") return;
    this.stopWhenIdle(w, this.#out.now + this.#o.gracefulTimeout);
  }
}
