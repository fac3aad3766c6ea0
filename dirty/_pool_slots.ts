// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Slot choices of the pool, as pure functions: which apps a new worker
 * hosts, which slot scaling down removes, the fewest workers allowed, and
 * the respawn back-off.
 *
 * @module
 */

/** What these choices read of a slot. */
export interface SlotInfo {
  /** Failed boots in a row. */
  readonly bootFailures: number;
  /** The last failure. */
  readonly lastError: string | null;
  /** When its next worker is due (`Infinity`: none scheduled). */
  readonly retryAt: number;
  /** App paths its workers host. */
  readonly apps: readonly string[];
  /** Failed lives in a row (boot failures and crashes). */
  readonly failures: number;
  /** Whether scaling down removed it. */
  readonly removed: boolean;
  /** Its current worker, if any. */
  readonly worker: { readonly age: number; readonly state: string } | null;
}

/** The fewest workers allowed: the largest per-app limit, at least 1. */
export function minimumWorkers(
  limits: ReadonlyMap<string, number | undefined>,
): number {
  let m = 1;
  for (const l of limits.values()) if (l !== undefined && l > m) m = l;
  return m;
}

function holders(slots: readonly SlotInfo[]): Map<string, number> {
  const h = new Map<string, number>();
  for (const s of slots) {
    if (s.removed) continue;
    for (const a of s.apps) h.set(a, (h.get(a) ?? 0) + 1);
  }
  return h;
}

/**
 * The apps a new slot hosts: every unlimited app and each limited app
 * still under its limit (empty: no slot is needed).
 */
export function appsForNewSlot(
  slots: readonly SlotInfo[],
  limits: ReadonlyMap<string, number | undefined>,
): string[] {
  const h = holders(slots);
  const apps: string[] = [];
  for (const [app, limit] of limits) {
    if (limit === undefined || (h.get(app) ?? 0) < limit) apps.push(app);
  }
  return apps;
}

/**
 * The slot to remove when scaling down, never the last holder of an app:
 * failing slots first, then slots whose removal keeps limited apps at their
 * limit, then the oldest; `null` when none may go.
 */
export function pickVictim<S extends SlotInfo>(
  live: readonly S[],
  limits: ReadonlyMap<string, number | undefined>,
): S | null {
  const h = holders(live);
  let best: S | null = null;
  let bestScore = Infinity;
  for (const s of live) {
    if (s.apps.some((a) => (h.get(a) ?? 0) <= 1)) continue;
    const hurtsLimit = s.apps.some((a) => {
      const l = limits.get(a);
      return l !== undefined && (h.get(a) ?? 0) <= l;
    });
    const age = s.worker?.age ?? 0;
    const score = (s.failures > 0 ? 0 : 1e12) + (hurtsLimit ? 1e9 : 0) + age;
    if (score < bestScore) {
      bestScore = score;
      best = s;
    }
  }
  return best;
}

/**
 * The respawn delay after `failures` failed lives in a row: `initial`,
 * doubling with each, at most `max`.
 */
export function backoffDelay(
  failures: number,
  initial: number,
  max: number,
): number {
  return Math.min(max, initial * 2 ** Math.max(0, failures - 1));
}

/**
 * Why an app with no ready worker cannot be served soon, from the slots
 * holding it: `null` while one of them has a worker booting normally (or
 * one due), otherwise every one fails to boot, or there is none.
 *
 * @param slots The live slots holding the app.
 * @returns The reason, or `null` to wait.
 */
export function unavailableReason(slots: readonly SlotInfo[]): string | null {
  if (slots.length === 0) return "no worker holds this app";
  const healthy = slots.some((s) =>
    s.bootFailures === 0 &&
    ((s.worker !== null && s.worker.state !== "dead") ||
      s.retryAt !== Infinity)
  );
  if (healthy) return null;
  const err = slots.find((s) => s.lastError !== null)?.lastError;
  return `workers fail to boot${err ? `: ${err}` : ""}`;
}
