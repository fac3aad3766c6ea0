// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A session test that runs in a fresh temporary directory and fails if any
 * socket or pipe that the session code opened during it is still open
 * afterwards (see `trackFds`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { tempDir } from "../peers.ts";
import { trackFds } from "./raw.ts";

/**
 * Registers `fn` as a test; it gets a temporary directory's path. Deno's
 * resource sanitizer is off (it cannot see FFI fds); the fd tracker checks
 * instead, after everything `fn` holds with `using` was disposed.
 */
export function leakFreeTest(
  name: string,
  fn: (dir: string) => Promise<void>,
  options: { sanitizeOps?: boolean } = {},
): void {
  Deno.test({
    name,
    sanitizeResources: false,
    ...options,
    async fn() {
      await using dir = await tempDir();
      using fds = trackFds();
      await fn(dir.path);
      assert.deepEqual(await fds.leaks(), []);
    },
  });
}
