// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The Deno floor, checked on real old Denos fetched with npx: a script that
 * connects with a framing transport fails on Deno 2.8.3 with an error
 * naming 2.9.0 and 2.8.3 (before, 2.8 went on until a confusing failure
 * deep inside), and on Deno 2.9.0, the floor, gets past the check (to
 * `ECONNREFUSED`: nobody listens). Without npx or the registry this
 * skips loudly locally and fails with `CI=true`.
 */
import assert from "node:assert/strict";
import {
  denoFloorTest,
  outcomeLine,
  runScript,
} from "../_test_utils/deno_floor.ts";

const SCRIPT = `import { connect } from ${
  JSON.stringify(new URL("./mod.ts", import.meta.url).href)
};
${outcomeLine('connect({ hostname: "127.0.0.1", port: 9 })')}
`;

denoFloorTest(
  "deno floor: a framing transport on Deno 2.8.3 fails with an error naming 2.9.0; on 2.9.0 it runs",
  async ({ old, floor }, dir) => {
    assert.equal(
      await runScript(old, dir, "floor.ts", SCRIPT),
      "UNSUPPORTED_DENO | Cannot connect: @sidecar/ipc needs Deno 2.9.0 or later, this is Deno 2.8.3",
    );
    assert.match(
      await runScript(floor, dir, "floor.ts", SCRIPT),
      /^ECONNREFUSED \| /,
    );
  },
);
