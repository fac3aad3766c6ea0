// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The Deno floor of the session transports, on real old Denos fetched with
 * npx: a `SocketSessionListener` and a forwarder's `connect()` fail on
 * Deno 2.8.3 with an error naming 2.9.0 and 2.8.3, and on Deno 2.9.0, the
 * floor, get past the check (the listener binds; the forwarder finds no
 * receiver: `ENOENT`). Without npx or the registry this skips loudly
 * locally and fails with `CI=true`.
 */
import assert from "node:assert/strict";
import {
  denoFloorTest,
  outcomeLine,
  runScript,
} from "../_test_utils/deno_floor.ts";

function script(dir: string): string {
  return `import { SocketSessionForwarder, SocketSessionListener } from ${
    JSON.stringify(new URL("./mod.ts", import.meta.url).href)
  };
${
    outcomeLine(
      `SocketSessionListener.listen(${
        JSON.stringify(`${dir}/l.sock`)
      }).close()`,
    )
  }
${
    outcomeLine(
      `(async () => new SocketSessionForwarder(${
        JSON.stringify(`${dir}/none.sock`)
      }).connect())()`,
    )
  }
`;
}

denoFloorTest(
  "deno floor: the session listener and forwarder on Deno 2.8.3 fail with an error naming 2.9.0; on 2.9.0 they run",
  async ({ old, floor }, dir) => {
    const needs = "@sidecar/ipc needs Deno 2.9.0 or later, this is Deno 2.8.3";
    assert.deepEqual(
      (await runScript(old, dir, "floor.ts", script(dir))).split("\n"),
      [
        `UNSUPPORTED_DENO | Cannot listen for socket session forwarders: ${needs}`,
        `UNSUPPORTED_DENO | Cannot connect forwarder: ${needs}`,
      ],
    );
    const lines = (await runScript(floor, dir, "floor.ts", script(dir)))
      .split("\n");
    assert.equal(lines[0], "ok", lines.join("\n"));
    assert.match(lines[1] ?? "", /^ENOENT \| /, lines.join("\n"));
  },
);
