// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The arbiter <-> worker hop. It is gunicorn's dirty wire protocol itself,
 * over one Unix socket connection per worker: the arbiter listens on
 * `workers.sock` in its private `0700` directory, each worker connects and
 * first sends a hello carrying the one-time token it was given on its
 * command line. Request ids on this hop are chosen by the arbiter (so one
 * worker can serve several requests at once, and late replies to abandoned
 * requests are recognised and dropped). (A Unix socket, not the worker's
 * stdin/stdout: Deno's child pipes go through streams and cost about three
 * times more per round trip.) Request id 0 is reserved for control messages:
 *
 * - arbiter -> worker: REQUEST id 0, `app_path` `""`, `action` `"abort"`,
 *   `args` `[id]`: give up request `id` (its `requestSignal()` aborts, and
 *   the worker answers it at once with an ERROR that the arbiter drops).
 * - worker -> arbiter: RESPONSE id 0 whose `result` is an event dict:
 *   `{"event": "hello", "token": <token>}` (first frame),
 *   `{"event": "heartbeat"}`, `{"event": "loaded", "app": <app_path>}`,
 *   `{"event": "booted"}`, `{"event": "boot_failed", "app": <app_path>,
 *   "message": <text>}`.
 *
 * The worker's stdin is a pipe from the arbiter that carries nothing: its
 * end means "stop" (the worker closes its apps and exits). The arbiter
 * closes it after draining the worker's requests, and the kernel closes it
 * when the arbiter dies, so workers never outlive their arbiter. The end of
 * the socket connection also stops the worker.
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
  /** How long `close()` of the apps may take on stop, in milliseconds. */
  closeTimeoutMs: number;
  /** The arbiter's private socket for workers. */
  socket: string;
  /** The one-time token this worker says hello with. */
  token: string;
}

/** The reserved control request id. */
export const CONTROL_ID = 0;

/** Exit code of a worker whose apps failed to load (gunicorn's WORKER_BOOT_ERROR). */
export const BOOT_ERROR_EXIT = 3;
