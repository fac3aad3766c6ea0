// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// Set members with Python's float -0.0. A JavaScript Set stores -0 as +0
// (SameValueZero), which would send a -0.0 member back as int 0: a -0
// member is kept as a wrapper object (a PyFloat) instead. As in Python,
// 0 and -0.0 are one member: the first one added stays.

const NEG_ZERO_HOLDERS: WeakMap<Set<unknown>, object> = new WeakMap();

/**
 * Adds `value` to `set`; a `-0` is added as `wrapNegZero()` unless the set
 * already holds a zero.
 */
export function addMember(
  set: Set<unknown>,
  value: unknown,
  wrapNegZero: () => object,
): void {
  if (value !== 0) {
    set.add(value);
    return;
  }
  if (NEG_ZERO_HOLDERS.has(set) || set.has(0)) return;
  if (Object.is(value, -0)) {
    const w = wrapNegZero();
    NEG_ZERO_HOLDERS.set(set, w);
    set.add(w);
  } else {
    set.add(0);
  }
}

/** Whether `set` got a wrapped `-0` from {@linkcode addMember}. */
export function negZeroMember(set: Set<unknown>): object | undefined {
  return NEG_ZERO_HOLDERS.get(set);
}
