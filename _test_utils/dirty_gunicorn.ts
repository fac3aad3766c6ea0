// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Finding the gunicorn 26.1.0 reference for the dirty interop tests. Its
 * source comes from no registry here (developers fetch it by hand), so the
 * tests that need it are registered with `peerTest(..., { requiredInCi:
 * false })`.
 *
 * @module
 */
import { findPython } from "./peers.ts";

/** What the gunicorn interop tests need, for `peerTest`'s peer name. */
export const GUNICORN_PEER_NAME =
  "gunicorn 26.1.0 source (set GUNICORN_SRC) + python3";

/**
 * A Python 3.11 and a gunicorn source tree (`$GUNICORN_SRC`, else
 * `/tmp/gunicorn_src`) holding `gunicorn/dirty`, or null.
 */
export function gunicornPeer(): { python: string; src: string } | null {
  const python = findPython("3.11");
  if (python === null) return null;
  for (const src of [Deno.env.get("GUNICORN_SRC"), "/tmp/gunicorn_src"]) {
    if (!src) continue;
    try {
      Deno.statSync(`${src}/gunicorn/dirty/protocol.py`);
      Deno.statSync(`${src}/gunicorn/dirty/client.py`);
      return { python: python.path, src };
    } catch {
      // Not there.
    }
  }
  return null;
}
