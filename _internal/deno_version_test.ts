// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import {
  compareVersions,
  MIN_DENO_VERSION,
  requireDeno,
  UNSUPPORTED_DENO,
} from "./deno_version.ts";

Deno.test("deno version: compareVersions orders major, minor, patch and pre-releases", () => {
  assert.equal(MIN_DENO_VERSION, "2.9.0");
  const ordered = [
    "1.46.3",
    "2.5.6",
    "2.8.3",
    "2.8.10",
    "2.9.0-rc.1",
    "2.9.0",
    "2.9.6",
    "2.10.0",
    "3.0.0",
  ];
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) {
      const c = compareVersions(ordered[i]!, ordered[j]!);
      assert.equal(
        Math.sign(c),
        Math.sign(i - j),
        `${ordered[i]} vs ${ordered[j]}`,
      );
    }
  }
  assert.equal(compareVersions("v2.9.0", "2.9.0+build.5"), 0);
  assert.throws(() => compareVersions("2.9", "2.9.0"), TypeError);
});

Deno.test("deno version: requireDeno passes on the floor and later, and names both versions below it", () => {
  for (const v of ["2.9.0", "2.9.6", "2.10.1", "3.0.0"]) {
    requireDeno("connect", v);
  }
  // The Deno running this test is supported.
  requireDeno("connect");
  for (const v of ["2.8.3", "2.7.14", "2.5.6", "1.46.3", "2.9.0-rc.2"]) {
    assert.throws(
      () => requireDeno("connect", v),
      (e) =>
        e instanceof Error &&
        e.message ===
          `Cannot connect: @sidecar/ipc needs Deno 2.9.0 or later, this is Deno ${v}` &&
        (e as Error & { code?: string }).code === UNSUPPORTED_DENO,
    );
  }
  assert.throws(
    () => requireDeno("serve", "garbage"),
    /needs Deno 2\.9\.0 or later, this is Deno garbage/,
  );
});
