// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * What is due for one worker at a time `now`, as a pure function of its
 * state: the pool core's tick applies it. Checked in this order: the kill
 * timer of a retiring or stopping worker, a timed-out request it did not
 * let go of within the kill grace, a boot that took longer than the
 * timeout, a missing heartbeat, then its requests past their timeout, and
 * whether it has lived long enough since booting to forgive earlier
 * failures.
 *
 * @module
 */

import type { PoolRequest, PoolWorker } from "./_pool_types.ts";

/** What a worker needs at `now`. */
export type WorkerDue =
  | { kind: "kill-timer" }
  | { kind: "stuck"; wid: number; what: string }
  | { kind: "boot-timeout" }
  | { kind: "silent" }
  | { kind: "requests"; timedOut: PoolRequest[]; forgive: boolean };

/**
 * What is due for `w` at `now`; every deadline still ahead is passed to
 * `later`.
 *
 * @param w The worker.
 * @param now The time.
 * @param timeout The pool's timeout (ms; `Infinity`: none).
 * @param forgiveAfter How long after booting earlier failures are forgiven.
 * @param later Receives each deadline not yet due.
 * @returns What to do.
 */
export function workerDue(
  w: PoolWorker,
  now: number,
  timeout: number,
  forgiveAfter: number,
  later: (t: number) => void,
): WorkerDue {
  const due = (t: number): boolean => {
    if (t <= now) return true;
    later(t);
    return false;
  };
  if (due(w.killAt)) return { kind: "kill-timer" };
  for (const [wid, a] of w.aborting) {
    if (due(a.deadline)) return { kind: "stuck", wid, what: a.what };
  }
  if (!w.booted && w.state === "booting" && due(w.spawnedAt + timeout)) {
    return { kind: "boot-timeout" };
  }
  if (w.linked && w.lost === null && due(w.lastHeartbeat + timeout)) {
    return { kind: "silent" };
  }
  const timedOut: PoolRequest[] = [];
  for (const r of w.inflight.values()) if (due(r.deadline)) timedOut.push(r);
  const forgive = w.booted && w.slot.failures > 0 &&
    due(w.bootedAt + forgiveAfter);
  return { kind: "requests", timedOut, forgive };
}
