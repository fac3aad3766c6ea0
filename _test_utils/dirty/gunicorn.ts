// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Finding the gunicorn 26.1.0 reference for the dirty interop tests. Its
 * source comes from no registry here (developers fetch it by hand), so the
 * tests that need it are registered with `peerTest(..., { requiredInCi:
 * false })`.
 *
 * @module
 */
import { findPython } from "../peers.ts";

/** What the gunicorn interop tests need, for `peerTest`'s peer name. */
export const GUNICORN_PEER_NAME =
  "gunicorn 26.1.0 source (set GUNICORN_SRC) + python3";

/**
 * A gunicorn source tree holding `gunicorn/dirty` (its arbiter, client,
 * protocol and TLV code): `first` if given, else `$GUNICORN_SRC`, else
 * `/tmp/gunicorn_src`; null when none is there.
 */
export function findGunicornSource(first?: string): string | null {
  for (
    const src of [first, Deno.env.get("GUNICORN_SRC"), "/tmp/gunicorn_src"]
  ) {
    if (!src) continue;
    try {
      for (const f of ["arbiter.py", "client.py", "protocol.py", "tlv.py"]) {
        Deno.statSync(`${src}/gunicorn/dirty/${f}`);
      }
      return src;
    } catch {
      // Not there.
    }
  }
  return null;
}

/** A Python 3.11 and a gunicorn source tree (see `findGunicornSource`), or null. */
export function gunicornPeer(): { python: string; src: string } | null {
  const python = findPython("3.11");
  if (python === null) return null;
  const src = findGunicornSource();
  return src === null ? null : { python: python.path, src };
}
