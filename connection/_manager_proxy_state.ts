// Copyright 2026 the @sidecar/ipc authors. MIT license.
// A proxy's state, kept apart from the proxy object so that the
// collector's release (and the client's close()) can reach it without
// keeping the proxy alive, and the release itself: decref once, then close
// the proxy's connection.

import type { Connection } from "./connection.ts";

/** Does nothing (a rejection handler). */
export const noop = (): void => {};

/** The state of a proxy that outlives it (for the collector's release). */
export interface ProxyState {
  conn: Connection<unknown> | null;
  connecting: Promise<Connection<unknown>> | null;
  /** Calls waiting for their turn, in order; `pumping` while one runs. */
  queue: Job[];
  head: number;
  pumping: boolean;
  /** Whether this proxy holds a reference (and must decref once). */
  owned: boolean;
  closed: boolean;
  releasing: Promise<void> | null;
}

export interface Job {
  method: string;
  bytes: Uint8Array;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  cancelled: boolean;
  started: boolean;
}

export function closeQuietly(conn: Connection<unknown> | null): void {
  conn?.close().catch(noop);
}

/** Releases a proxy's reference and connection once; never throws. */
export function release(
  st: ProxyState,
  decref: (id: string) => Promise<void>,
  id: string,
): Promise<void> {
  if (st.releasing !== null) return st.releasing;
  st.closed = true;
  const conn = st.conn;
  st.conn = null;
  const connecting = st.connecting;
  st.releasing = (async () => {
    const owned = st.owned;
    st.owned = false;
    // Decref first, as CPython's BaseProxy._decref does, then close.
    if (owned) await decref(id);
    if (connecting !== null) closeQuietly(await connecting.catch(() => null));
    if (conn !== null) await conn.close().catch(noop);
  })();
  return st.releasing;
}
