// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The Deno floor of the connection transports, on real old Denos fetched
 * with npx: `connect()`, a `Listener` on a Unix socket path and
 * `connectManager()` fail on Deno 2.8.3 with an error naming 2.9.0 and
 * 2.8.3 (before, 2.8 refused `--allow-net=unix:<path>` or failed deep
 * inside), and on Deno 2.9.0, the floor, get past the check. Without npx
 * or the registry this skips loudly locally and fails with `CI=true`.
 */
import assert from "node:assert/strict";
import {
  denoFloorTest,
  outcomeLine,
  runScript,
} from "../_test_utils/deno_floor.ts";

function script(dir: string): string {
  const path = JSON.stringify(`${dir}/listener.sock`);
  return `import { connect, connectManager, Listener } from ${
    JSON.stringify(new URL("./mod.ts", import.meta.url).href)
  };
${outcomeLine('connect({ hostname: "127.0.0.1", port: 9 })')}
${outcomeLine(`new Listener(${path}, { authkey: "k" }).close()`)}
${
    outcomeLine(
      'connectManager({ hostname: "127.0.0.1", port: 9 }, { authkey: "k" })',
    )
  }
`;
}

denoFloorTest(
  "deno floor: connect, Listener and connectManager on Deno 2.8.3 fail with an error naming 2.9.0; on 2.9.0 they run",
  async ({ old, floor }, dir) => {
    const needs = "@sidecar/ipc needs Deno 2.9.0 or later, this is Deno 2.8.3";
    assert.deepEqual(
      (await runScript(old, dir, "floor.ts", script(dir))).split("\n"),
      [
        `UNSUPPORTED_DENO | Cannot connect: ${needs}`,
        `UNSUPPORTED_DENO | Cannot listen: ${needs}`,
        `UNSUPPORTED_DENO | Cannot connect to the manager: ${needs}`,
      ],
    );
    const lines = (await runScript(floor, dir, "floor.ts", script(dir)))
      .split("\n");
    assert.equal(lines.length, 3, lines.join("\n"));
    assert.match(lines[0]!, /^ECONNREFUSED \| /);
    assert.equal(lines[1], "ok");
    assert.match(lines[2]!, /^DISCONNECTED \| Cannot send dummy\(\)/);
  },
);
