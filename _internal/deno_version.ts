// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The oldest Deno the transports run on, and the check they make before
 * touching a socket, a pipe or a process, so that an older Deno fails with
 * a message naming both versions instead of a confusing error from deep
 * inside (2.7 and 2.8 reject `--allow-net=unix:<path>`, 2.5 and 2.6 have
 * no zstd in `node:zlib`). The codecs have no floor: they run in any
 * JavaScript runtime.
 *
 * @module
 */

/**
 * The oldest supported Deno: the first whose `--allow-net` takes
 * `unix:<path>` and whose `node:zlib` has zstd (measured: 2.5.6 and 2.6.8
 * lack zstd, 2.7.14 and 2.8.3 reject `unix:<path>`, 2.9.0 runs the demo).
 */
export const MIN_DENO_VERSION = "2.9.0";

/** The `code` of the error {@linkcode requireDeno} throws. */
export const UNSUPPORTED_DENO = "UNSUPPORTED_DENO";

function parts(version: string): [number[], boolean] | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+.*)?$/.exec(
    version.trim(),
  );
  if (m === null) return null;
  return [[Number(m[1]), Number(m[2]), Number(m[3])], m[4] !== undefined];
}

/**
 * Compares two `major.minor.patch` versions (a pre-release such as
 * `2.9.0-rc.1` comes before its release; build metadata is ignored).
 *
 * @param a A version.
 * @param b Another version.
 * @returns Negative when `a` is older, 0 when equal, positive when newer.
 * @throws {TypeError} A version is not `major.minor.patch`.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  if (pa === null || pb === null) {
    throw new TypeError(
      `Cannot compare versions: ${
        JSON.stringify(pa === null ? a : b)
      } is not major.minor.patch`,
    );
  }
  for (let i = 0; i < 3; i++) {
    const d = pa[0][i]! - pb[0][i]!;
    if (d !== 0) return d;
  }
  // Same numbers: a pre-release is older than the release.
  return Number(pb[1]) - Number(pa[1]);
}

/** The running Deno's version, or `undefined` outside Deno. */
function runningDeno(): string | undefined {
  const deno = (globalThis as { Deno?: { version?: { deno?: string } } })
    .Deno;
  return deno?.version?.deno;
}

/**
 * Throws unless this is Deno {@linkcode MIN_DENO_VERSION} or later.
 *
 * @param action What is about to be done ("connect"), for the message.
 * @param running The running version (default `Deno.version.deno`; tests
 * pass their own).
 * @throws {Error} `Cannot <action>: @sidecar/ipc needs Deno 2.9.0 or later,
 * this is Deno 2.8.3`, with `code` `"UNSUPPORTED_DENO"` (also outside Deno,
 * or for a version it cannot read).
 */
export function requireDeno(
  action: string,
  running: string | undefined = runningDeno(),
): void {
  let ok = false;
  try {
    ok = running !== undefined &&
      compareVersions(running, MIN_DENO_VERSION) >= 0;
  } catch {
    // An unreadable version: refused below.
  }
  if (ok) return;
  throw Object.assign(
    new Error(
      `Cannot ${action}: @sidecar/ipc needs Deno ${MIN_DENO_VERSION} or later, this is ${
        running === undefined ? "not Deno" : `Deno ${running}`
      }`,
    ),
    { code: UNSUPPORTED_DENO },
  );
}
