// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The pool core's state and vocabulary: slots, workers and requests as the
 * core sees them, its settings, and the actions it asks the shell for.
 *
 * @module
 */

import type { DirtyError } from "./errors.ts";
import type { Queued, Routable } from "./_router.ts";
import type { LogLevel } from "./_log.ts";

/** A place for one worker with a fixed list of apps. */
export interface Slot {
  /** App paths its workers host. */
  apps: string[];
  /** Its current worker. */
  worker: PoolWorker | null;
  /** Failed lives in a row (boot failures and crashes): the back-off. */
  failures: number;
  /** Failed boots in a row. */
  bootFailures: number;
  /** The last failure. */
  lastError: string | null;
  /** When its next worker is due (`Infinity`: none scheduled). */
  retryAt: number;
  /** Whether scaling down removed it. */
  removed: boolean;
}

/** A configured app. */
export interface CoreApp {
  /** The wire app path. */
  appPath: string;
  /** Most workers that may host it (`undefined`: all). */
  limit: number | undefined;
}

/** The pool's settings; durations in milliseconds. */
export interface CoreOptions {
  /** The apps, in order. */
  apps: readonly CoreApp[];
  /** Wanted number of workers (raised to the largest per-app limit). */
  workers: number;
  /**
   * gunicorn's `dirty_timeout`: longest wait for a request's next frame
   * from the moment a worker takes it, for a worker's heartbeat, and for a
   * worker to load its apps. `Infinity`: none.
   */
  timeout: number;
  /** Requests in flight per worker. */
  concurrency: number;
  /** How long a worker has to let go of a timed-out request before it is killed. */
  killGrace: number;
  /** First respawn delay after a failure. */
  backoffInitial: number;
  /** Largest respawn delay. */
  backoffMax: number;
  /** How long running requests may take to finish on close. */
  gracefulTimeout: number;
}

/** Why a running request is given up. */
export type CancelReason = "timeout" | "client" | "overflow" | "shutdown";

/** A request, queued or running; `data` is the shell's. */
export class PoolRequest<T = unknown> implements Queued {
  /** The app it is for. */
  readonly appPath: string;
  /** The action (for log lines). */
  readonly action: string;
  /** The shell's data (client, frame). */
  readonly data: T;
  /** Where it is. */
  state: "new" | "queued" | "running" | "done" = "new";
  /** Set when it left the queue another way (the router skips it). */
  cancelled = false;
  /** The worker running it. */
  worker: PoolWorker | null = null;
  /** Its id on that worker. */
  wid = 0;
  /** When it times out (ms); `Infinity` while paused or without timeout. */
  deadline = Infinity;
  /** Whether its stream is paused for a slow client. */
  paused = false;
  /**
   * An error it gets once routed instead of being sent (gunicorn's
   * arbiter fails such a request after picking a worker).
   */
  refusal: string | null = null;

  /**
   * @param appPath The app.
   * @param action The action.
   * @param data The shell's data.
   */
  constructor(appPath: string, action: string, data: T) {
    this.appPath = appPath;
    this.action = action;
    this.data = data;
  }
}

/** One worker process, as the core sees it. */
export class PoolWorker implements Routable {
  /** Spawn sequence number, from 1 (also its identity). */
  readonly age: number;
  /** Its slot. */
  readonly slot: Slot;
  /** Requests it takes at once. */
  readonly capacity: number;
  /** When it was spawned. */
  readonly spawnedAt: number;
  /** Process id, once spawned. */
  pid = 0;
  /** Its life. */
  state: "spawning" | "booting" | "ready" | "retiring" | "dead" = "spawning";
  /** Whether both its connections are up. */
  linked = false;
  /** Apps it has loaded. */
  readonly loaded: Set<string> = new Set();
  /** Its requests, by worker id. */
  readonly inflight: Map<number, PoolRequest> = new Map();
  /** Timed-out requests it has not let go of: when to kill it. */
  readonly aborting: Map<number, { deadline: number; what: string }> =
    new Map();
  /** The next request id on this worker. */
  nextWid = 1;
  /** Its last sign of life. */
  lastHeartbeat: number;
  /** Whether it finished loading its apps. */
  booted = false;
  /** When it booted. */
  bootedAt = Infinity;
  /** When it is killed unless it exits first (retiring, stopping). */
  killAt = Infinity;
  /** Whether it was told to stop (its stdin closed). */
  stopSent = false;
  /** Whether a kill was sent. */
  killed = false;
  /** Why it is being killed, for the exit line. */
  killReason: string | null = null;
  /** An uncaught error in its app code. */
  crash: { message: string; stack: string } | null = null;
  /** Why its connection went away. */
  lost: string | null = null;

  /**
   * @param age Spawn number.
   * @param slot Its slot.
   * @param capacity Requests at once.
   * @param now The time.
   */
  constructor(age: number, slot: Slot, capacity: number, now: number) {
    this.age = age;
    this.slot = slot;
    this.capacity = capacity;
    this.spawnedAt = now;
    this.lastHeartbeat = now;
  }

  /** Requests that occupy it. */
  get load(): number {
    return this.inflight.size + this.aborting.size;
  }

  /** Whether it can still serve (not retiring, not lost, not dead). */
  get live(): boolean {
    return (this.state === "booting" || this.state === "ready") &&
      this.lost === null && !this.killed;
  }
}

/** What the shell must do. */
export type PoolAction =
  | { kind: "spawn"; worker: PoolWorker }
  | { kind: "dispatch"; worker: PoolWorker; request: PoolRequest }
  | { kind: "fail"; request: PoolRequest; error: DirtyError }
  | { kind: "cancel"; worker: PoolWorker; wid: number; reason: CancelReason }
  | { kind: "pause"; worker: PoolWorker; wid: number }
  | { kind: "resume"; worker: PoolWorker; wid: number }
  | { kind: "stop"; worker: PoolWorker }
  | { kind: "kill"; worker: PoolWorker }
  | { kind: "log"; level: LogLevel; message: string }
  | { kind: "ready" };

/** Where the pool's parts put their actions and deadlines. */
export class Outbox {
  /** Actions for the shell, in order. */
  actions: PoolAction[] = [];
  /** The earliest deadline recorded since the last tick. */
  soonest = Infinity;
  /** The time of the input being handled. */
  now = 0;

  /** Records an action. */
  push(a: PoolAction): void {
    this.actions.push(a);
  }

  /** Records a log line. */
  log(level: LogLevel, message: string): void {
    this.actions.push({ kind: "log", level, message });
  }

  /** Records a deadline. */
  at(t: number): void {
    if (t < this.soonest) this.soonest = t;
  }
}
