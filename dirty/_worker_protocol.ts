// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The arbiter <-> worker hop. It is gunicorn's dirty wire protocol itself,
 * over Unix socket connections to `workers.sock` in the arbiter's private
 * `0700` directory. A worker process has two threads and one connection
 * each:
 *
 * - the **control** connection, from the process's main thread (the
 *   protocol thread, `_worker_main.ts`): heartbeats, crash reports, and the
 *   arbiter's cancel / pause / resume orders. App code never runs on this
 *   thread, so a CPU-bound action cannot stop heartbeats or the reading of
 *   cancellations.
 * - the **data** connection, from the app thread (a Web Worker,
 *   `_app_thread.ts`): REQUESTs in, their RESPONSE / CHUNK / END / ERROR
 *   out, and the app loading events.
 *
 * Each connection first sends a hello carrying the one-time token the
 * worker got on its command line and its role. Request ids on the data
 * connection are chosen by the arbiter (so one worker serves several
 * requests at once, and late frames of abandoned requests are recognised
 * and dropped). Request id 0 is reserved for control messages:
 *
 * - arbiter -> worker (control connection): REQUEST id 0, `app_path` `""`,
 *   `action` one of {@linkcode ControlAction}, `args` `[id]` (`cancel`:
 *   `[id, reason]`).
 * - worker -> arbiter: RESPONSE id 0 whose `result` is an event dict:
 *   `{"event": "hello", "token", "role"}` (first frame of each
 *   connection); on control `{"event": "heartbeat"}` and `{"event":
 *   "crashed", "message", "stack"}`; on data `{"event": "loaded", "app"}`,
 *   `{"event": "booted"}`, `{"event": "boot_failed", "app", "message"}`.
 *
 * A request the arbiter gave up on (timeout, client gone) is answered by
 * the app thread with one final frame once its code has let go of it; the
 * arbiter drops that frame, and uses it to know the worker is not stuck.
 *
 * The worker's stdin is a pipe from the arbiter that carries nothing: its
 * end means "stop" (the worker closes its apps and exits). The arbiter
 * closes it after draining the worker's requests, and the kernel closes it
 * when the arbiter dies, so workers never outlive their arbiter.
 *
 * @module
 */

/** What the arbiter passes to a worker (as JSON, in its first argument). */
export interface WorkerConfig {
  /** App specs to load, in order. */
  apps: { appPath: string; module: string; exportName: string }[];
  /** Heartbeat period in milliseconds. */
  heartbeatMs: number;
  /** Directory relative module paths are resolved against. */
  cwd: string;
  /**
   * How long `close()` of the apps may take on stop, in milliseconds
   * (`Infinity` for no limit).
   */
  closeTimeoutMs: number;
  /** The arbiter's private socket for workers. */
  socket: string;
  /** The one-time token this worker says hello with. */
  token: string;
}

/**
 * The config the arbiter passed as JSON, where `Infinity` was written as
 * `null`: a duration read back as `null` is `Infinity` again.
 *
 * @param json The worker's first argument.
 * @returns The config.
 */
export function parseWorkerConfig(json: string): WorkerConfig {
  const config = JSON.parse(json) as WorkerConfig;
  config.heartbeatMs ??= Infinity;
  config.closeTimeoutMs ??= Infinity;
  return config;
}

/** The reserved control request id. */
export const CONTROL_ID = 0;

/** Exit code of a worker whose apps failed to load (gunicorn's WORKER_BOOT_ERROR). */
export const BOOT_ERROR_EXIT = 3;

/** Exit code of a worker whose app code threw an uncaught error. */
export const CRASH_EXIT = 70;

/** The two connections of a worker. */
export type LinkRole = "control" | "data";

/** Orders from the arbiter about one request. */
export type ControlAction = "cancel" | "pause" | "resume";

/** Why a request is cancelled, as sent with `cancel`. */
export type CancelWhy = "timeout" | "client" | "overflow" | "shutdown";

/** From the protocol thread to the app thread. */
export type ToAppThread =
  | { type: "start"; config: WorkerConfig }
  | { type: "cancel"; id: number; why: CancelWhy }
  | { type: "pause"; id: number }
  | { type: "resume"; id: number }
  | { type: "stop"; drain: boolean };

/** From the app thread to the protocol thread. */
export type FromAppThread =
  | { type: "booted"; ok: boolean }
  | { type: "crash"; message: string; stack: string }
  | { type: "lost" }
  | { type: "stopped" };
